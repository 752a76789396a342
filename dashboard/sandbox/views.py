"""The sandbox's API views: OpenAI's Models API, its envelopes, errors and headers."""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from dashboard.converters import is_valid_model_id

from .models import SandboxModel

# The sandbox organization's admin key: the only key the Usage API accepts (as upstream, where
# it is an organization Admin API key). Whether OpenAI accepts admin keys on the Models API is
# not documented; here it may read models (not delete them).
ADMIN_KEY = "sk-sandbox-admin"
# RFC 9745 `Deprecation`: when a model with a shutdown date counts as deprecated. The sandbox
# has no announcement dates, so it uses this many days before the shutdown (OpenAI announces
# shutdowns months ahead); `Sunset` (RFC 8594) is the shutdown date itself.
DEPRECATION_NOTICE_DAYS = 180
DEPRECATIONS_PAGE = "https://platform.openai.com/docs/deprecations"


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
    role = "admin" if key == ADMIN_KEY else settings.SANDBOX_KEYS.get(key)
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
    response = _model_answer(request, row, model_id)
    if row.shutdown_date is not None:
        shutdown = datetime.datetime.combine(row.shutdown_date, datetime.time(), datetime.UTC)
        deprecated = shutdown - datetime.timedelta(days=DEPRECATION_NOTICE_DAYS)
        response["Deprecation"] = f"@{int(deprecated.timestamp())}"
        response["Sunset"] = http_date(shutdown.timestamp())
        response["Link"] = f'<{DEPRECATIONS_PAGE}>; rel="deprecation"; type="text/html"'
    return response


def _model_answer(request: HttpRequest, row: SandboxModel, model_id: str) -> HttpResponse:
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
