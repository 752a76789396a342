"""The audit log page: Admin and Owner only; filters in the query string; CSV export."""

from __future__ import annotations

import csv
from collections.abc import Iterator

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
]


class _Echo:
    def write(self, value: str) -> str:
        return value


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
    if request.GET.get("format") == "csv":
        return _csv(entries)
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


def _csv(entries: QuerySet[AuditEntry]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for e in entries.iterator():
            yield writer.writerow(
                [
                    e.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    _cell(e.username),
                    e.action,
                    _cell(e.model_id),
                    e.outcome,
                    e.upstream_status or "",
                    _cell(e.upstream_request_id),
                    _cell(e.message),
                    e.upstream,
                    e.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ") if e.finished_at else "",
                    e.confirmed_by,
                    e.reconciled_at.strftime("%Y-%m-%dT%H:%M:%SZ") if e.reconciled_at else "",
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
    return response


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas in values that came from upstream or users."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
