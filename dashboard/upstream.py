"""Everything about the upstream API in one place: the client, the cached list, the errors.

`get_client()` is the only place that builds a `modelsclient.Client` from settings, and
`call_within_budget()` is how every page calls it: all attempts and waits within the page's
total budget (`UPSTREAM_PAGE_BUDGET`), so no request thread waits long on the upstream.
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

import modelsclient

from .trust import GuardedTransport, RedirectRefused, ResponseTooLarge

SANDBOX_BASE_URL = "http://sandbox.internal/sandbox/v1"
_STALE_KEEP_SECONDS = 7 * 86400  # how long a last-known list is kept to show during outages

_client: modelsclient.Client | None = None
_client_lock = threading.Lock()  # threaded servers: build the client once


@dataclass(frozen=True)
class Upstream:
    """What the page header shows about where the data comes from."""

    is_sandbox: bool
    base_url: str

    @property
    def label(self) -> str:
        return "Sandbox (in-process)" if self.is_sandbox else self.base_url

    @property
    def cache_key(self) -> str:
        digest = hashlib.sha256(self.base_url.encode()).hexdigest()[:16]
        return f"models-list:{digest}"


class NotConfiguredError(modelsclient.APIConnectionError):
    """No OPENAI_API_KEY and the embedded sandbox is off (SANDBOX_ENABLED): nothing to call."""


def current_upstream() -> Upstream:
    if settings.OPENAI_API_KEY or not settings.SANDBOX_ENABLED:
        return Upstream(is_sandbox=False, base_url=settings.OPENAI_BASE_URL.rstrip("/"))
    return Upstream(is_sandbox=True, base_url=SANDBOX_BASE_URL)


def get_client() -> modelsclient.Client:
    """The process's API client: the real API when OPENAI_API_KEY is set, else the sandbox."""
    global _client
    with _client_lock:
        if _client is None:
            _client = _build_client()
        return _client


def _build_client() -> modelsclient.Client:
    from .sandbox import InProcessSandbox, InProcessTransport

    upstream = current_upstream()
    if not upstream.is_sandbox and not settings.OPENAI_API_KEY:
        raise NotConfiguredError(
            message="No API is configured.", request=httpx.Request("GET", upstream.base_url)
        )
    options: dict[str, Any] = {
        "timeout": settings.UPSTREAM_TIMEOUT,
        "max_retries": settings.UPSTREAM_MAX_RETRIES,
        "base_url": upstream.base_url,
    }
    inner: httpx.BaseTransport
    if upstream.is_sandbox:
        inner = InProcessTransport(app=InProcessSandbox())
        options["api_key"] = settings.SANDBOX_API_KEY
    else:
        inner = httpx.HTTPTransport(limits=httpx.Limits(max_connections=100))
        options["api_key"] = settings.OPENAI_API_KEY
        options["organization"] = settings.OPENAI_ORG_ID
        options["project"] = settings.OPENAI_PROJECT_ID
    # The client package follows redirects like openai-python; the dashboard trusts less.
    transport = GuardedTransport(
        inner,
        base_url=httpx.URL(upstream.base_url),
        max_list_bytes=settings.UPSTREAM_MAX_RESPONSE_BYTES,
        max_model_bytes=settings.UPSTREAM_MAX_MODEL_BYTES,
    )
    options["http_client"] = httpx.Client(
        transport=transport,
        timeout=settings.UPSTREAM_TIMEOUT,
        follow_redirects=True,
        max_redirects=5,
    )
    return modelsclient.Client(**options)


# --- Bounded calls --------------------------------------------------------------------------

MIN_ATTEMPT_SECONDS = 0.5  # an attempt given less time than this would only time out
MAX_LIST_PAGES = 1000  # servers that page their list: a bound on the loop, not a real limit


class Budget:
    """How long a page may still wait on the upstream: every call, attempt and wait together.

    ```python
    budget = Budget()  # UPSTREAM_PAGE_BUDGET seconds from now
    call_within_budget(lambda c: c.models.retrieve(model_id), budget=budget)
    ```
    """

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = float(settings.UPSTREAM_PAGE_BUDGET if seconds is None else seconds)
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    def part(self, seconds: float) -> Budget:
        """A budget for one step: at most `seconds`, and never past this budget's end."""
        return Budget(min(seconds, self.left()))


class NoAnswer(modelsclient.APITimeoutError):
    """Every attempt a page could afford timed out; says how long it waited in all."""

    def __init__(self, last: modelsclient.APITimeoutError, *, attempts: int, waited: float) -> None:
        super().__init__(last.request)
        self.attempts = attempts
        self.waited = waited
        tries = f" in {attempts} attempts" if attempts > 1 else ""
        self.message = f"No answer within {_seconds(waited)}{tries}."
        self.args = (self.message,)


def call_within_budget[T](
    operation: Callable[[modelsclient.Client], T],
    *,
    budget: Budget | None = None,
    failures: list[modelsclient.APIError] | None = None,
) -> T:
    """Run `operation` on the upstream client within `budget` (default: a page's budget).

    Each attempt runs without the client's own retries and with a timeout of what is left (at
    most UPSTREAM_TIMEOUT); a failure is retried as the client would decide (`wanted_delay`),
    at most UPSTREAM_MAX_RETRIES times, and only while the wait and another attempt still fit.
    Every failed attempt's error is appended to `failures` (the delete routine reads it).
    The last error is raised as it came, except a timeout: `NoAnswer` with the total wait.
    """
    budget = budget if budget is not None else Budget()
    history = failures if failures is not None else []
    client = get_client()
    started = time.monotonic()
    retries_taken = 0
    while True:
        timeout = max(min(settings.UPSTREAM_TIMEOUT, budget.left()), MIN_ATTEMPT_SECONDS)
        try:
            return operation(client.with_options(max_retries=0, timeout=timeout))
        except modelsclient.APIError as exc:
            history.append(exc)
            delay = _retry_wait(exc, retries_taken)
            fits = delay is not None and delay + MIN_ATTEMPT_SECONDS <= budget.left()
            if delay is None or not fits or retries_taken >= settings.UPSTREAM_MAX_RETRIES:
                if isinstance(exc, modelsclient.APITimeoutError):
                    waited = max(time.monotonic() - started, timeout)
                    raise NoAnswer(exc, attempts=retries_taken + 1, waited=round(waited, 1)) from (
                        exc.__cause__
                    )
                raise
        time.sleep(delay)
        retries_taken += 1


def _retry_wait(exc: modelsclient.APIError, retries_taken: int) -> float | None:
    """The client's one retry decision, for the errors it retries; None: do not retry."""
    if isinstance(exc, RedirectRefused):
        return None  # a redirect we refuse is refused again
    if isinstance(exc, modelsclient.APIStatusError):
        return modelsclient.wanted_delay(exc.response, retries_taken)
    if isinstance(exc, modelsclient.APIConnectionError) and isinstance(
        exc.__cause__, httpx.TransportError
    ):
        return modelsclient.wanted_delay(None, retries_taken)
    return None  # an unreadable or oversized body, a decoding error: the same again


@receiver(setting_changed)
def _reset_client(*, setting: str, **kwargs: Any) -> None:
    global _client
    if setting.startswith(("OPENAI_", "UPSTREAM_", "SANDBOX_")):
        with _client_lock:
            if _client is not None:
                _client.close()
                _client = None


# --- The cached list ------------------------------------------------------------------------


@dataclass
class ModelList:
    """The upstream list as last fetched, and how fresh it is."""

    models: list[dict[str, Any]]
    fetched_at: float
    request_id: str | None = None
    error: UpstreamProblem | None = None  # set when a refresh failed and this copy is stale
    from_cache: bool = False

    @property
    def age_seconds(self) -> int:
        return max(0, int(time.time() - self.fetched_at))


def fetch_models(*, refresh: bool = False, budget: Budget | None = None) -> ModelList:
    """The model list, from the cache while fresh; a failed refresh falls back to the last copy.

    Raises `modelsclient.APIError` only when upstream fails and no copy was ever cached.
    The upstream call fits in `budget` (a page's budget by default).
    """
    upstream = current_upstream()
    cached: dict[str, Any] | None = cache.get(upstream.cache_key)
    if (
        cached
        and not refresh
        and time.time() - cached["fetched_at"] < settings.MODELS_CACHE_SECONDS
    ):
        return ModelList(
            cached["models"], cached["fetched_at"], cached["request_id"], from_cache=True
        )
    budget = budget if budget is not None else Budget()
    try:
        models, request_id = call_within_budget(lambda c: _read_list(c, budget), budget=budget)
    except modelsclient.APIError as exc:
        if not cached:
            raise
        return ModelList(
            cached["models"],
            cached["fetched_at"],
            cached["request_id"],
            error=describe_error(exc),
            from_cache=True,
        )
    entry: dict[str, Any] = {"models": models, "fetched_at": time.time(), "request_id": request_id}
    cache.set(upstream.cache_key, entry, _STALE_KEEP_SECONDS)
    return ModelList(models, entry["fetched_at"], request_id)


def _read_list(
    client: modelsclient.Client, budget: Budget
) -> tuple[list[dict[str, Any]], str | None]:
    """Every page of the list (most servers send one), each page within the budget."""
    raw = client.models.with_raw_response.list()
    page = raw.parse()
    models = [model.to_dict() for model in page.data]
    for _ in range(MAX_LIST_PAGES):
        if not page.has_next_page():
            break
        if budget.left() < MIN_ATTEMPT_SECONDS:
            raise modelsclient.APITimeoutError(raw.http_response.request)
        page = page.get_next_page()
        models += [model.to_dict() for model in page.data]
    return models, scrub(raw.request_id) if raw.request_id else None


def forget_model(model_id: str) -> None:
    """Drop one model from the cached list after it was deleted (no refetch needed)."""
    key = current_upstream().cache_key
    cached = cache.get(key)
    if cached:
        cached["models"] = [m for m in cached["models"] if m.get("id") != model_id]
        cache.set(key, cached, _STALE_KEEP_SECONDS)


def cached_model(model_id: str) -> dict[str, Any] | None:
    """The model as the cached list knows it, without an upstream call."""
    cached = cache.get(current_upstream().cache_key)
    if not cached:
        return None
    return next((m for m in cached["models"] if m.get("id") == model_id), None)


# --- Errors in words ------------------------------------------------------------------------


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
            else f"No answer within {_seconds(settings.UPSTREAM_TIMEOUT)}."
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


def _seconds(seconds: float) -> str:
    """A measured wait as it was: "1 second", "0.8 seconds", "2.1 seconds" (not rounded up)."""
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


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
    for secret in (settings.OPENAI_API_KEY, settings.SANDBOX_API_KEY):
        if secret:
            text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


def _scrubbed(value: str | None) -> str | None:
    """An upstream header value (a request id) as it may be shown, stored and logged."""
    return scrub(value)[:200] if value else None
