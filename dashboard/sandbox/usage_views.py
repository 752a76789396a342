"""`/sandbox/v1/organization/usage/completions`: OpenAI's Usage API for completions, day buckets
only, for the admin key only (a project key gets the 401 a project key gets upstream)."""

from __future__ import annotations

import base64
import binascii

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from .models import SandboxFineTuningJob, SandboxModel
from .usage import API_KEY_DETAILS, API_KEYS, BASE_MODEL_PROFILES, DAY, aggregate, usage_for
from .views import _error, _with_headers

__all__ = ["project_api_keys", "usage_completions"]

_GROUP_FIELDS = {"project_id", "user_id", "api_key_id", "model", "batch"}
_MISSING_SCOPE = (
    "You have insufficient permissions for this operation. Missing scopes: api.usage.read. "
    "Check that you have the correct role in your organization (Reader, Writer, Owner) and "
    "project (Viewer, Member, Owner), and if you're using a restricted API key, that it has "
    "the necessary scopes."
)


def _list_param(request: HttpRequest, name: str) -> list[str]:
    """`name[]=a&name[]=b` (the openai package), `name=a&name=b` or `name=a,b`."""
    values = request.GET.getlist(name + "[]") + request.GET.getlist(name)
    return [part for value in values for part in value.split(",") if part]


def _bad(message: str, param: str) -> HttpResponse:
    return _error(400, message, "invalid_request_error", param=param)


def _cursor(token: str) -> int | None:
    try:
        return int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("bucket:"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None


def _token(start: int) -> str:
    return base64.urlsafe_b64encode(f"bucket:{start}".encode()).decode()


def _int(request: HttpRequest, name: str) -> int | None:
    try:
        return int(request.GET[name])
    except (KeyError, ValueError):
        return None


@_with_headers
def usage_completions(request: HttpRequest) -> HttpResponse:  # noqa: C901 (one check a line)
    """GET /sandbox/v1/organization/usage/completions (see `usage` for the data)."""
    if request.method != "GET":
        return _error(405, f"Method {request.method} not allowed.", "invalid_request_error")
    if request.sandbox_role != "admin":  # type: ignore[attr-defined]
        return _error(401, _MISSING_SCOPE, "invalid_request_error", code="missing_scope")
    now = timezone.now()
    start_time, end_time = _int(request, "start_time"), _int(request, "end_time")
    if start_time is None:
        return _bad("Missing or invalid required parameter: 'start_time'.", "start_time")
    if end_time is None:
        end_time = int(now.timestamp())
    if request.GET.get("bucket_width", "1d") != "1d":
        return _bad("The sandbox serves bucket_width=1d only.", "bucket_width")
    try:
        limit = int(request.GET.get("limit", "7"))
        if not 1 <= limit <= 31:
            raise ValueError
    except ValueError:
        return _bad("Invalid 'limit': expected an integer from 1 to 31 for 1d.", "limit")
    group_by = _list_param(request, "group_by")
    if set(group_by) - _GROUP_FIELDS:
        return _bad(f"Invalid 'group_by': {', '.join(group_by)}.", "group_by")
    first = start_time // DAY * DAY  # buckets are UTC days
    page = request.GET.get("page")
    begin = first if page is None else _cursor(page)
    if begin is None or begin < first:
        return _bad("Invalid 'page' cursor.", "page")
    starts = list(range(begin, end_time, DAY))[:limit]
    more = bool(starts) and starts[-1] + DAY < end_time

    created = dict(SandboxModel.objects.values_list("id", "created"))
    finals = SandboxFineTuningJob.objects.exclude(fine_tuned_model=None)
    for model, job_created in finals.values_list("fine_tuned_model", "created_at"):
        if model:  # a deleted fine-tune keeps its job, and its past usage
            created.setdefault(model, job_created)
    models = {model: created.get(model, 0) for model in BASE_MODEL_PROFILES} | created
    if wanted := set(_list_param(request, "models")):
        models = {model: when for model, when in models.items() if model in wanted}
    rows = list(usage_for(models, (start // DAY for start in starts), now))
    for name in ("api_key_ids", "project_ids"):
        if wanted := set(_list_param(request, name)):
            field = name.removesuffix("s")
            rows = [row for row in rows if getattr(row, field) in wanted]
    if _list_param(request, "user_ids") or request.GET.get("batch") == "true":
        rows = []  # the sandbox's usage is all API keys (no users) and not batch
    data = [
        {
            "object": "bucket",
            "start_time": start,
            "end_time": start + DAY,
            "results": aggregate((r for r in rows if r.day == start // DAY), group_by),
        }
        for start in starts
    ]
    body = {"object": "page", "data": data, "has_more": more}
    body["next_page"] = _token(starts[-1] + DAY) if more else None
    return JsonResponse(body)


def _api_key(key_id: str) -> dict[str, object]:
    name, kind, owner_id, owner_name, email = API_KEY_DETAILS[key_id]
    created = 1_717_200_000 + sum(map(ord, key_id)) * 1000
    owner: dict[str, object] = {"type": kind}
    if kind == "user":
        owner["user"] = {
            "object": "organization.project.user",
            "id": owner_id,
            "name": owner_name,
            "email": email,
            "role": "owner",
            "created_at": created,
        }
    else:
        owner["service_account"] = {
            "object": "organization.project.service_account",
            "id": owner_id,
            "name": owner_name,
            "role": "member",
            "created_at": created,
        }
    return {
        "object": "organization.project.api_key",
        "id": key_id,
        "name": name,
        "redacted_value": f"sk-proj-****{key_id[-4:]}",
        "created_at": created,
        "last_used_at": None,
        "owner_project_access": "active",
        "owner": owner,
    }


@_with_headers
def project_api_keys(request: HttpRequest, project_id: str) -> HttpResponse:
    """GET /sandbox/v1/organization/projects/{project_id}/api_keys: the project's keys (names
    and owners), `after`/`limit` pages; the admin key only."""
    if request.method != "GET":
        return _error(405, f"Method {request.method} not allowed.", "invalid_request_error")
    if request.sandbox_role != "admin":  # type: ignore[attr-defined]
        return _error(
            401,
            _MISSING_SCOPE.replace("api.usage.read", "api.management.read"),
            "invalid_request_error",
            code="missing_scope",
        )
    projects = {project for _, project in API_KEYS}
    if project_id not in projects:
        return _error(404, f"No project found with id '{project_id}'.", "invalid_request_error")
    limit = _int(request, "limit") or 20
    if not 1 <= limit <= 100:
        return _bad("Invalid 'limit': expected an integer from 1 to 100.", "limit")
    ids = sorted(key for key, project in API_KEYS if project == project_id)
    after = request.GET.get("after")
    if after:
        ids = [key for key in ids if key > after]
    shown = ids[:limit]
    body = {
        "object": "list",
        "data": [_api_key(key) for key in shown],
        "first_id": shown[0] if shown else None,
        "last_id": shown[-1] if shown else None,
        "has_more": len(ids) > limit,
    }
    return JsonResponse(body)
