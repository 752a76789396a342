"""The Changes page: what each sync found different (drift), filtered and paginated; the model
list's exports (every matching row, from the catalogue, never from upstream)."""

from __future__ import annotations

import datetime
import time
from typing import Any, Literal

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard import roles
from dashboard.exports import CHUNK_SIZE, csv_response, export_filename, json_response, neutralise
from dashboard.exports import utc as iso_utc
from dashboard.listing import ListQuery
from dashboard.pagination import paginate
from dashboard.rendering import forbidden, template_for
from dashboard.views import upstream_for

from . import queries
from .models import CatalogueModel, Change

SINCE = {"1": "Last day", "7": "Last 7 days", "30": "Last 30 days"}  # days
PER_PAGE = 50
EXPORT_COLUMNS = [
    *("id", "kind", "owned_by", "created", "created_unix", "base_model", "shutdown_date"),
    *("first_seen_utc", "last_seen_utc"),
]


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def changes_list(request: HttpRequest) -> HttpResponse:
    """Change records of the upstreams this user may see, newest first."""
    visible = [u.alias for u in roles.visible_upstreams(request.user)]
    if not visible:
        return forbidden(request, "You have no access to any upstream.")
    asked = {name: request.GET.get(name, "") for name in ("upstream", "kind", "since")}
    filters = {
        "upstream": asked["upstream"] if asked["upstream"] in visible else "",
        "kind": asked["kind"] if asked["kind"] in Change.Kind.values else "",
        "since": asked["since"] if asked["since"] in SINCE else "",
    }
    since = (
        timezone.now() - datetime.timedelta(days=int(filters["since"]))
        if filters["since"]
        else None
    )
    found = queries.changes(filters["upstream"] or None, filters["kind"] or None, since)
    found = found.filter(upstream__in=visible)
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    active = {key: value for key, value in filters.items() if value}
    path = reverse("changes")
    context = {
        "page": page,
        "filters": filters,
        "upstream_choices": visible if len(visible) > 1 else [],
        "kinds": Change.Kind.choices,
        "since_choices": list(SINCE.items()),
        "audit_readable": set(roles.audit_upstreams(request.user)),
        "pagination": paginate(
            path,
            page.number,
            page.paginator.num_pages,
            lambda n: "?" + urlencode({**active, "page": str(n)}),
        ),
        "is_filtered": bool(active),
        "page_title": "Changes",
    }
    return render(request, template_for(request, "catalogue/changes.html", "results"), context)


@never_cache
@require_safe
def model_export(request: HttpRequest, alias: str, fmt: str) -> StreamingHttpResponse:
    """Every model the list's query matches (all its pages, in its order) as CSV or JSON, read
    from the catalogue and streamed; the list's query string (page and page size ignored)."""
    upstream_for(request, alias)
    query = ListQuery.from_querydict(request.GET)
    state = queries.state(alias)
    last_seen = state.last_success_at if state else None
    found = queries.matching(alias, query, time.time()).iterator(chunk_size=CHUNK_SIZE)
    ext: Literal["csv", "json"] = "json" if fmt == "json" else "csv"
    filename = export_filename(f"models-{alias}", _named_filters(query), ext)
    if ext == "json":
        return json_response(filename, (_export_item(m, last_seen) for m in found))
    return csv_response(filename, EXPORT_COLUMNS, (_export_row(m, last_seen) for m in found))


def _named_filters(query: ListQuery) -> dict[str, str]:
    """The query's non-default search, filters and sort for a file name, alphabetically:
    `kind-fine-tuned-q-tone-sort-created`; a descending sort reads `sort-id-desc`."""
    params = {k: str(v) for k, v in query.params().items() if k not in ("page", "per_page")}
    if params.get("sort", "").startswith("-"):
        params["sort"] = params["sort"].removeprefix("-") + "-desc"
    return dict(sorted(params.items()))


def _export_row(model: CatalogueModel, last_success: datetime.datetime | None) -> list[object]:
    """EXPORT_COLUMNS: text from upstream neutralised; `created_unix` a number (or empty);
    the shutdown date as sent, as the list shows it."""
    shutdown = model.data.get("shutdown_date")
    return [
        neutralise(model.model_id),
        model.kind,
        neutralise(model.owned_by),
        iso_utc(model.created),
        "" if model.created is None else model.created,
        neutralise(model.base_model),
        neutralise(shutdown) if isinstance(shutdown, str) else "",
        iso_utc(model.first_seen),
        iso_utc(model.effective_last_seen(last_success)),
    ]


def _export_item(model: CatalogueModel, last_success: datetime.datetime | None) -> dict[str, Any]:
    """The model's fields as the API sent them, and what the catalogue knows about it under
    `catalogue` (which wins over a field of that name from upstream)."""
    return {
        **model.data,
        "catalogue": {
            "kind": model.kind,
            "base_model": model.base_model,
            "first_seen": iso_utc(model.first_seen),
            "last_seen": iso_utc(model.effective_last_seen(last_success)),
        },
    }
