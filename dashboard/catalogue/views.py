"""The Changes page: what each sync found different (drift), filtered and paginated."""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard import roles
from dashboard.pagination import paginate
from dashboard.rendering import forbidden, template_for

from . import queries
from .models import Change

SINCE = {"1": "Last day", "7": "Last 7 days", "30": "Last 30 days"}  # days
PER_PAGE = 50


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
