"""The audit log page: Admin and Owner only; filters in the query string; CSV and JSON export."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from . import roles
from .exports import CHUNK_SIZE, csv_response, export_filename, json_response, neutralise, utc
from .models import AuditEntry
from .pagination import paginate
from .rendering import forbidden, template_for

CSV_COLUMNS = [
    "time_utc",
    "user",
    "action",
    "model_id",
    "outcome",
    "upstream_status",
    "upstream_request_id",
    "message",
    "upstream",
    "finished_utc",
    "confirmed_by",
    "reconciled_utc",
    "job_id",
    "deletion_request_id",
]


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def audit_log(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    readable = roles.audit_upstreams(request.user)
    if not readable:
        return forbidden(request, "The audit log is for admins and owners.")
    filters = {
        "upstream": request.GET.get("upstream", "")
        if request.GET.get("upstream") in readable
        else "",
        "user": _param(request, "user"),
        "model": _param(request, "model"),
        "outcome": request.GET.get("outcome", "")
        if request.GET.get("outcome") in AuditEntry.Outcome.values
        else "",
        "job": request.GET.get("job", "") if request.GET.get("job", "").isdigit() else "",
    }
    # Each reader sees the entries of the upstreams they are Admin or Owner of.
    entries = AuditEntry.objects.filter(upstream_alias__in=readable)
    if filters["upstream"]:
        entries = entries.filter(upstream_alias=filters["upstream"])
    if filters["user"]:
        entries = entries.filter(username=filters["user"])
    if filters["model"]:
        entries = entries.filter(model_id__icontains=filters["model"])
    if filters["outcome"]:
        entries = entries.filter(outcome=filters["outcome"])
    if filters["job"]:
        entries = entries.filter(job_id=int(filters["job"]))
    export = request.GET.get("format")
    if export == "csv":
        return csv_response(
            export_filename("audit-log", filters, "csv"), CSV_COLUMNS, _csv_rows(entries)
        )
    if export == "json":
        return json_response(export_filename("audit-log", filters, "json"), _items(entries))
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    active = {key: value for key, value in filters.items() if value}
    context = {
        "page": page,
        "filters": filters,
        "filter_query": urlencode(active),
        "pagination": paginate(
            reverse("audit-log"),
            page.number,
            page.paginator.num_pages,
            lambda n: "?" + urlencode({**active, "page": str(n)}),
        ),
        "upstream_choices": readable if len(readable) > 1 else [],
        "usernames": AuditEntry.objects.filter(upstream_alias__in=readable)
        .order_by("username")
        .values_list("username", flat=True)
        .distinct(),
        "outcomes": AuditEntry.Outcome.choices,
        "page_title": "Audit log",
    }
    template = template_for(request, "audit/list.html", "results")
    return render(request, template, context)


def _param(request: HttpRequest, name: str) -> str:
    """A filter value as text a database can compare (no NUL, bounded)."""
    return request.GET.get(name, "").replace("\x00", "").strip()[:512]


def _csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[list[object]]:
    """CSV_COLUMNS per entry: text from users or upstream neutralised, status codes numbers."""
    for item in _items(entries):
        yield [
            neutralise(value) if isinstance(value, str) else ("" if value is None else value)
            for value in item.values()
        ]


def _items(entries: QuerySet[AuditEntry]) -> Iterator[dict[str, Any]]:
    """CSV_COLUMNS per entry, as stored: times in ISO 8601 UTC, absent values None."""
    for e in entries.iterator(chunk_size=CHUNK_SIZE):
        yield {
            "time_utc": utc(e.created_at),
            "user": e.username,
            "action": e.action,
            "model_id": e.model_id,
            "outcome": e.outcome,
            "upstream_status": e.upstream_status,
            "upstream_request_id": e.upstream_request_id,
            "message": e.message,
            "upstream": e.upstream,
            "finished_utc": utc(e.finished_at) or None,
            "confirmed_by": e.confirmed_by,
            "reconciled_utc": utc(e.reconciled_at) or None,
            "job_id": e.job_id,
            "deletion_request_id": e.deletion_request_id,
        }
