"""`/sandbox/v1/fine_tuning/jobs…`: OpenAI's fine-tuning jobs API, read-only (list with
`after`/`limit`/`metadata[k]=v`, retrieve, a job's checkpoints)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from .models import SandboxFineTuningJob
from .views import _error, _with_headers

__all__ = ["job_checkpoints", "job_item", "jobs_collection"]


def _limit(request: HttpRequest, default: int, maximum: int) -> int | HttpResponse:
    raw = request.GET.get("limit")
    if raw is None:
        return default
    try:
        limit = int(raw)
        if not 1 <= limit <= maximum:
            raise ValueError
    except ValueError:
        return _error(
            400,
            f"Invalid 'limit': expected an integer from 1 to {maximum}.",
            "invalid_request_error",
            param="limit",
        )
    return limit


def _page(items: list[dict[str, Any]], after: str, limit: int) -> JsonResponse:
    """`items` (newest first) from the one after `after`, `limit` of them, with `has_more`."""
    ids = [item["id"] for item in items]
    start = ids.index(after) + 1 if after in ids else 0 if not after else len(ids)
    data = items[start : start + limit]
    return JsonResponse({"object": "list", "data": data, "has_more": start + limit < len(items)})


def _not_found(job_id: str) -> HttpResponse:
    return _error(
        404,
        f"Fine-tuning job {job_id} not found.",
        "invalid_request_error",
        code="fine_tune_not_found",
        param="fine_tuning_job_id",
    )


@_with_headers
def jobs_collection(request: HttpRequest) -> HttpResponse:
    """GET /sandbox/v1/fine_tuning/jobs: newest first, 20 a page by default."""
    if request.method != "GET":
        return _error(405, f"Method {request.method} not allowed.", "invalid_request_error")
    limit = _limit(request, 20, 100)
    if isinstance(limit, HttpResponse):
        return limit
    wanted = {
        name[len("metadata[") : -1]: value
        for name, value in request.GET.items()
        if name.startswith("metadata[") and name.endswith("]")
    }
    jobs = [
        job.body
        for job in SandboxFineTuningJob.objects.all()
        if all((job.body.get("metadata") or {}).get(k) == v for k, v in wanted.items())
    ]
    return _page(jobs, request.GET.get("after", ""), limit)


@_with_headers
def job_item(request: HttpRequest, job_id: str) -> HttpResponse:
    """GET /sandbox/v1/fine_tuning/jobs/<id>."""
    if request.method != "GET":
        return _error(405, f"Method {request.method} not allowed.", "invalid_request_error")
    job = SandboxFineTuningJob.objects.filter(pk=job_id).first()
    return _not_found(job_id) if job is None else JsonResponse(job.body)


@_with_headers
def job_checkpoints(request: HttpRequest, job_id: str) -> HttpResponse:
    """GET /sandbox/v1/fine_tuning/jobs/<id>/checkpoints: newest first, 10 a page by default."""
    if request.method != "GET":
        return _error(405, f"Method {request.method} not allowed.", "invalid_request_error")
    limit = _limit(request, 10, 100)
    if isinstance(limit, HttpResponse):
        return limit
    job = SandboxFineTuningJob.objects.filter(pk=job_id).first()
    if job is None:
        return _not_found(job_id)
    return _page(list(job.checkpoints), request.GET.get("after", ""), limit)
