"""Everything about the upstream API in one place: the client, the cached list, the errors.

`get_client()` is the only place that builds a `modelsclient.Client` from settings.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver

import modelsclient

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
    if upstream.is_sandbox:
        transport = InProcessTransport(app=InProcessSandbox())
        options["api_key"] = settings.SANDBOX_API_KEY
        options["http_client"] = httpx.Client(transport=transport)
    else:
        options["api_key"] = settings.OPENAI_API_KEY
        options["organization"] = settings.OPENAI_ORG_ID
        options["project"] = settings.OPENAI_PROJECT_ID
    return modelsclient.Client(**options)


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


def fetch_models(*, refresh: bool = False) -> ModelList:
    """The model list, from the cache while fresh; a failed refresh falls back to the last copy.

    Raises `modelsclient.APIError` only when upstream fails and no copy was ever cached.
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
    try:
        raw = get_client().models.with_raw_response.list()
        page = raw.parse()
        models = [model.to_dict() for model in page]
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
    entry: dict[str, Any] = {
        "models": models,
        "fetched_at": time.time(),
        "request_id": raw.request_id,
    }
    cache.set(upstream.cache_key, entry, _STALE_KEEP_SECONDS)
    return ModelList(models, entry["fetched_at"], raw.request_id)


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


def describe_error(exc: Exception) -> UpstreamProblem:
    """The one mapping from client errors to what the user reads."""
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
        return UpstreamProblem(
            504,
            "The API did not answer in time",
            f"No response within {settings.UPSTREAM_TIMEOUT:g} seconds.",
        )
    if isinstance(exc, modelsclient.APIConnectionError):
        return UpstreamProblem(
            502,
            "The API cannot be reached",
            "The connection to the API failed. It may be down or unreachable from this server.",
        )
    if isinstance(exc, modelsclient.APIStatusError):
        message = _upstream_message(exc)
        status, title, retryable = {
            401: (502, "The API rejected the dashboard's key", False),
            403: (403, "The API key may not do that", False),
            404: (404, "Not found upstream", False),
            429: (503, "The API is rate limiting us", True),
        }.get(exc.status_code, (502, f"The API answered with an error ({exc.status_code})", True))
        return UpstreamProblem(status, title, message, exc.status_code, exc.request_id, retryable)
    if isinstance(exc, modelsclient.APIResponseValidationError):
        return UpstreamProblem(
            502,
            "The API sent a response we could not read",
            "The response body was not the JSON the Models API returns.",
            exc.status_code,
            exc.response.headers.get("x-request-id"),
        )
    return UpstreamProblem(502, "The API call failed", "An unexpected error occurred upstream.")


def _upstream_message(exc: modelsclient.APIStatusError) -> str:
    message = exc.body.get("message") if isinstance(exc.body, dict) else None
    if isinstance(message, str) and message:
        return scrub(message[:500])
    return f"The API answered {exc.status_code} without an error message."


def scrub(text: str) -> str:
    """Remove the API key from text that is about to be shown or logged."""
    for secret in (settings.OPENAI_API_KEY, settings.SANDBOX_API_KEY):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
