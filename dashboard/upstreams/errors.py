"""The one mapping from client errors to words and statuses, and scrubbing keys from text."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

import modelsclient

from .budget import NoAnswer, seconds_words
from .clients import NotConfiguredError
from .config import api_keys
from .trust import RedirectRefused, ResponseTooLarge


@dataclass(frozen=True)
class UpstreamProblem:
    """An upstream failure, said in words, with the status our page answers with."""

    status: int
    title: str
    detail: str
    upstream_status: int | None = None
    request_id: str | None = None
    retryable: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


# Transport errors after which the request certainly never reached the API.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError,
               httpx.UnsupportedProtocol)  # fmt: skip


def never_sent(exc: BaseException) -> bool:
    """True when no connection was made, so the API cannot have acted on the request."""
    if isinstance(exc, NotConfiguredError):
        return True
    if isinstance(exc, modelsclient.APIConnectionError):
        exc = exc.__cause__ or exc
    return isinstance(exc, _NEVER_SENT)


def describe_error(exc: Exception) -> UpstreamProblem:
    """The one mapping from client errors to what the user reads (pages and the audit alike)."""
    if isinstance(exc, NotConfiguredError):
        return UpstreamProblem(
            503,
            "No API is configured",
            "Set OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server), or "
            "SANDBOX_ENABLED=1 for the embedded sandbox.",
            retryable=False,
        )
    if isinstance(exc, ValueError):
        return UpstreamProblem(400, "Invalid model id", str(exc), retryable=False)
    if isinstance(exc, modelsclient.APITimeoutError):
        detail = (
            exc.message
            if isinstance(exc, NoAnswer)
            else f"No answer within {seconds_words(settings.UPSTREAM_TIMEOUT)}."
        )
        return UpstreamProblem(504, "The API did not answer in time", detail)
    if isinstance(exc, modelsclient.APIConnectionError):
        return _connection_problem(exc)
    if isinstance(exc, ResponseTooLarge):
        what = "a list of models" if exc.for_list else "one answer"
        return UpstreamProblem(
            502,
            f"The API sent more than {_size_words(exc.limit)}",
            f"That is more than the dashboard reads for {what}; the rest was not read.",
            exc.status_code,
            _scrubbed(exc.request_id),
        )
    if isinstance(exc, RedirectRefused):
        target = scrub(str(exc.location))[:300]
        why = "to another address" if exc.cross_origin else "for a change such as a delete"
        return UpstreamProblem(
            502,
            "Redirect not followed",
            f"The API redirected the request to {target}; "
            f"the dashboard does not follow redirects {why}.",
            exc.status_code,
            _scrubbed(exc.request_id),
            retryable=False,
        )
    if isinstance(exc, modelsclient.APIStatusError):
        return _status_problem(exc)
    if isinstance(exc, modelsclient.APIResponseValidationError):
        return UpstreamProblem(
            502,
            "The API sent a response we could not read",
            "The response body was not the JSON the Models API returns.",
            exc.status_code,
            _scrubbed(exc.response.headers.get("x-request-id")),
        )
    return UpstreamProblem(502, "The API call failed", "An unexpected error occurred upstream.")


def _connection_problem(exc: modelsclient.APIConnectionError) -> UpstreamProblem:
    cause = exc.__cause__
    if never_sent(exc):
        return UpstreamProblem(
            502,
            "The API cannot be reached",
            "The connection to the API failed. It may be down or unreachable from this server.",
        )
    if isinstance(cause, httpx.TooManyRedirects):
        return UpstreamProblem(
            502, "The API redirected too many times", "The dashboard stopped following them."
        )
    if isinstance(cause, httpx.DecodingError):
        return UpstreamProblem(
            502,
            "The API sent a response we could not read",
            "The response body could not be decoded.",
        )
    # Reset, dropped or truncated after the request went out: the API was reached.
    return UpstreamProblem(
        502,
        "The connection to the API broke",
        "The connection closed before the API's answer was complete.",
    )


def _status_problem(exc: modelsclient.APIStatusError) -> UpstreamProblem:
    message = _upstream_message(exc)
    request_id = _scrubbed(exc.request_id)
    asked = modelsclient.retry_after(exc.response.headers)
    asked_words = (
        f"The API asked to retry after {_wait_words(asked)}." if asked and asked > 0 else ""
    )
    code = exc.status_code
    if code == 429:
        detail = f"{asked_words} {message}".strip()
        return UpstreamProblem(503, "Rate limited", detail, code, request_id)
    status, title, retryable = {
        401: (502, "The API rejected the dashboard's key", False),
        403: (403, "The API refused", False),
        404: (404, "Not found upstream", False),
    }.get(code, (502, f"The API answered with an error ({code})", True))
    detail = f"{message} {asked_words}".strip()
    return UpstreamProblem(status, title, detail, code, request_id, retryable)


def _upstream_message(exc: modelsclient.APIStatusError) -> str:
    message = exc.body.get("message") if isinstance(exc.body, dict) else None
    if isinstance(message, str) and message:
        return scrub(message[:500])
    return f"The API answered {exc.status_code} without an error message."


def _wait_words(seconds: float | None) -> str:
    seconds = max(1, math.ceil(seconds or 0))
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


def _size_words(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


# Anything shaped like an OpenAI key, configured here or not: sk-…, sk-proj-…, sk-svcacct-….
_KEY_PATTERN = re.compile(r"(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{20,}")


def scrub(text: str) -> str:
    """Remove API keys from text that is about to be shown, stored or logged: every key this
    dashboard is configured with, and anything that looks like an OpenAI key."""
    for secret in api_keys():
        text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


def _scrubbed(value: str | None) -> str | None:
    """An upstream header value (a request id) as it may be shown, stored and logged."""
    return scrub(value)[:200] if value else None
