"""The embedded sandbox: a real OpenAI-compatible Models API under `/sandbox/v1/`.

State lives in the database (`SandboxModel`), so deletes persist across restarts and are
consistent across processes. The dashboard reaches it in-process through `InProcessSandbox`
(a WSGI app for `httpx.WSGITransport`), never over HTTP to its own port.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.handlers.wsgi import WSGIRequest
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from .converters import is_valid_model_id
from .models import SandboxModel

BASE_MODELS: list[tuple[str, str, int, str | None]] = [
    # id, owned_by, days before the seed anchor, shutdown date (ISO) or None
    ("gpt-4o", "system", 700, None),
    ("gpt-4o-2024-08-06", "system", 690, None),
    ("gpt-4o-mini", "system", 620, None),
    ("gpt-4o-mini-2024-07-18", "system", 615, None),
    ("gpt-4.1", "system", 560, None),
    ("gpt-4.1-mini", "system", 560, None),
    ("gpt-4.1-nano", "system", 555, None),
    ("o3", "system", 500, None),
    ("o3-mini", "system", 640, "2026-07-14"),
    ("o4-mini", "system", 480, None),
    ("gpt-4-turbo", "system", 720, "2026-10-23"),
    ("gpt-4", "openai", 730, "2027-06-06"),
    ("gpt-3.5-turbo", "openai", 729, "2026-09-28"),
    ("gpt-3.5-turbo-0125", "system", 725, "2026-09-28"),
    ("chatgpt-4o-latest", "system", 600, "2026-02-17"),
    ("babbage-002", "system", 728, "2026-10-23"),
    ("davinci-002", "system", 728, "2026-10-23"),
    ("text-embedding-3-small", "system", 700, None),
    ("text-embedding-3-large", "system", 700, None),
    ("text-embedding-ada-002", "openai-internal", 730, None),
    ("whisper-1", "openai-internal", 730, None),
    ("tts-1", "openai-internal", 726, None),
    ("tts-1-hd", "system", 726, None),
    ("dall-e-3", "system", 710, None),
    ("omni-moderation-latest", "system", 540, None),
    ("gpt-image-1", "system", 420, None),
]
FINE_TUNE_BASES = [
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-2024-08-06",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-2025-04-14",
    "gpt-3.5-turbo-0125",
    "babbage-002",
]
SUFFIXES = [
    "support-bot",
    "triage",
    "summarizer",
    "ticket-router",
    "sql-helper",
    "tone-polish",
    "invoice-extract",
    "faq",
    "legal-review",
    "",
    "churn-notes",
    "intent",
    "translator-de",
]
ORGANIZATION = "acme"
# Ids a compatible server might use that need careful encoding end to end.
UNUSUAL_IDS = ["acme/llama-3.1-8b-support", "acme:100%-recall", "acme/модель-ru"]
DEFAULT_SIZE = 64
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def seed_rows(
    size: int = DEFAULT_SIZE, *, anchor: datetime.datetime | None = None
) -> list[SandboxModel]:
    """Deterministic models: the same ids, owners and ages for the same size, every time."""
    rng = random.Random(20261126)
    anchor = anchor or timezone.now()
    day = 86400
    now = int(anchor.timestamp())
    rows = [
        SandboxModel(
            id=model_id,
            created=now - days * day - rng.randrange(day),
            owned_by=owner,
            shutdown_date=datetime.date.fromisoformat(shutdown) if shutdown else None,
            extra={"context_window": 128000} if model_id.startswith("gpt-4") else {},
        )
        for model_id, owner, days, shutdown in BASE_MODELS
    ]
    rows += [
        SandboxModel(id=model_id, created=now - (5 + i * 37) * day, owned_by=ORGANIZATION)
        for i, model_id in enumerate(UNUSUAL_IDS)
    ]
    seen = {row.id for row in rows}
    while len(rows) < size:
        base = rng.choice(FINE_TUNE_BASES)
        suffix = rng.choice(SUFFIXES)
        job = "".join(rng.choice(_ALPHABET) for _ in range(8))
        model_id = f"ft:{base}:{ORGANIZATION}:{suffix}:{job}"
        if rng.random() < 0.12:
            model_id += f":ckpt-step-{rng.randrange(50, 2000)}"
        if model_id in seen:
            continue
        seen.add(model_id)
        rows.append(
            SandboxModel(
                id=model_id,
                created=now - rng.randrange(730 * day),
                owned_by=ORGANIZATION,
                shutdown_date=datetime.date(2027, 1, 15) if rng.random() < 0.06 else None,
            )
        )
    return rows[:size]


@transaction.atomic
def reseed(size: int = DEFAULT_SIZE) -> int:
    """Replace the sandbox's models with a fresh deterministic set; returns the count."""
    SandboxModel.objects.all().delete()
    SandboxModel.objects.bulk_create(seed_rows(size), batch_size=1000)
    return SandboxModel.objects.count()


# --- The API --------------------------------------------------------------------------------


def _error(
    status: int, message: str, type_: str, *, code: str | None = None, param: str | None = None
) -> JsonResponse:
    body = {"error": {"message": message, "type": type_, "param": param, "code": code}}
    return JsonResponse(body, status=status)


def _role(request: HttpRequest) -> str | JsonResponse:
    header = request.headers.get("Authorization", "")
    key = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not key:
        return _error(
            401,
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
        )
    role = settings.SANDBOX_KEYS.get(key)
    if role is None:
        shown = f"{key[:3]}*****{key[-4:]}" if len(key) > 8 else "*****"
        return _error(
            401,
            f"Incorrect API key provided: {shown}.",
            "invalid_request_error",
            code="invalid_api_key",
        )
    return role


def _with_headers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Authenticate, inject configured faults, and add the headers a real API sends.

    With SANDBOX_ENABLED off (a real API configured, or production) every URL is a 404, even
    where the routes are still installed (settings changed at run time, as in tests)."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.SANDBOX_ENABLED:
            raise Http404("The embedded sandbox is disabled.")
        started = time.perf_counter()
        if settings.SANDBOX_LATENCY:
            time.sleep(settings.SANDBOX_LATENCY)
        failure = settings.SANDBOX_FAILURE
        role = _role(request)
        if isinstance(role, HttpResponse):
            response: HttpResponse = role
        elif failure == "error-500":
            response = _error(
                500, "The server had an error while processing your request.", "server_error"
            )
        elif failure == "error-429":
            response = _error(
                429, "Rate limit reached for requests.", "requests", code="rate_limit_exceeded"
            )
        elif failure == "malformed":
            response = HttpResponse(
                "<html><body>502 Bad Gateway</body></html>", content_type="text/html"
            )
        else:
            request.sandbox_role = role  # type: ignore[attr-defined]
            response = view(request, *args, **kwargs)
        if failure:
            response["x-should-retry"] = "false"  # injected faults fail fast
        response["x-request-id"] = f"req_{uuid.uuid4().hex}"
        response["openai-organization"] = settings.SANDBOX_ORGANIZATION
        response["openai-version"] = "2020-10-01"
        response["openai-processing-ms"] = str(
            max(1, round((time.perf_counter() - started) * 1000))
        )
        response["x-ratelimit-limit-requests"] = "10000"
        response["x-ratelimit-remaining-requests"] = "9999"
        response["x-ratelimit-reset-requests"] = "6ms"
        response["x-ratelimit-limit-tokens"] = "30000000"
        response["x-ratelimit-remaining-tokens"] = "30000000"
        response["x-ratelimit-reset-tokens"] = "0s"
        return response

    return login_not_required(csrf_exempt(wrapped))  # API keys, not sessions


@_with_headers
def models_collection(request: HttpRequest) -> HttpResponse:
    """GET /sandbox/v1/models: one page like OpenAI, or `limit`/`after` pages if asked."""
    if request.method != "GET":
        return _error(405, f"Method {request.method} not allowed.", "invalid_request_error")
    rows: Iterable[SandboxModel] = SandboxModel.objects.order_by("id")
    body: dict[str, Any] = {"object": "list"}
    limit = request.GET.get("limit")
    if limit is not None:
        try:
            size = int(limit)
            if not 1 <= size <= 10000:
                raise ValueError
        except ValueError:
            return _error(
                400,
                "limit must be an integer from 1 to 10000.",
                "invalid_request_error",
                param="limit",
            )
        query = SandboxModel.objects.order_by("id")
        after = request.GET.get("after", "")
        if after and not is_valid_model_id(after):
            return _error(400, "after must be a model id.", "invalid_request_error", param="after")
        if after:
            query = query.filter(id__gt=after)
        page = list(query[: size + 1])
        rows, body["has_more"] = page[:size], len(page) > size
    body["data"] = [row.as_api() for row in rows]
    return JsonResponse(body)


@_with_headers
def model_item(request: HttpRequest, model_id: str) -> HttpResponse:
    """GET or DELETE /sandbox/v1/models/<id>."""
    if request.method not in ("GET", "DELETE"):
        return _error(405, f"Method {request.method} not allowed.", "invalid_request_error")
    row = SandboxModel.objects.filter(pk=model_id).first() if is_valid_model_id(model_id) else None
    if row is None:
        return _error(
            404,
            f"The model '{model_id}' does not exist",
            "invalid_request_error",
            code="model_not_found",
            param="model",
        )
    if request.method == "GET":
        return JsonResponse(row.as_api())
    if request.sandbox_role != "owner":  # type: ignore[attr-defined]
        return _error(
            403,
            "You have insufficient permissions for this operation. Missing scopes: api.delete.",
            "invalid_request_error",
        )
    if row.owned_by in {"system", "openai", "openai-internal"}:
        return _error(
            403,
            f"You cannot delete the base model '{model_id}'.",
            "invalid_request_error",
            param="model",
        )
    deleted, _ = SandboxModel.objects.filter(pk=model_id).delete()
    if not deleted:  # another process deleted it between the two queries
        return _error(
            404,
            f"The model '{model_id}' does not exist",
            "invalid_request_error",
            code="model_not_found",
            param="model",
        )
    return JsonResponse({"id": model_id, "object": "model", "deleted": True})


@_with_headers
def unknown_url(request: HttpRequest, path: str) -> HttpResponse:
    """Any other URL under /sandbox/v1/: OpenAI's "Invalid URL" error, not an HTML 404."""
    return _error(404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error")


class InProcessTransport(httpx.WSGITransport):
    """The in-process sandbox with a network transport's timeout: a sandbox slower than the
    request's read timeout (SANDBOX_LATENCY > UPSTREAM_TIMEOUT) waits that timeout, then raises
    `httpx.ReadTimeout`, as a real API that does not answer in time would."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        latency: float = settings.SANDBOX_LATENCY
        if read_timeout is not None and latency > read_timeout:
            time.sleep(read_timeout)
            raise httpx.ReadTimeout(
                f"sandbox: no response within {read_timeout:g} s", request=request
            )
        return super().handle_request(request)


class InProcessSandbox:
    """A WSGI app for `httpx.WSGITransport` that calls the sandbox views directly.

    Django's full handler would fire request_started/request_finished, which close the
    thread's database connection — the connection the outer dashboard request is using.
    Here there are no signals and no middleware: just routing to the sandbox views.
    """

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        failure = settings.SANDBOX_FAILURE
        if failure == "timeout":
            raise httpx.ReadTimeout("sandbox: simulated read timeout")
        if failure == "unavailable":
            raise httpx.ConnectError("sandbox: simulated connection refused")
        # httpx passes PATH_INFO as decoded text; PEP 3333 (and Django) expect the UTF-8
        # bytes as latin-1 text, else a non-ASCII id ("acme/модель-ru") cannot be decoded.
        path_info = environ.get("PATH_INFO", "/").encode("utf-8").decode("iso-8859-1")
        request = WSGIRequest({**environ, "PATH_INFO": path_info})
        try:
            match = resolve(request.path_info)
            if match.namespace != "sandbox":
                raise Resolver404
            response = match.func(request, *match.args, **match.kwargs)
        except Resolver404:
            response = _error(
                404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error"
            )
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]
