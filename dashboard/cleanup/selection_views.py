"""The selection's pages: ticking rows on the list (one form, with or without htmx), "select
all N matching", the review page, removing and clearing.

Every POST carries `return_to`, the list as it was (search, filters, sort, page): without
JavaScript the answer is a redirect back to exactly that list (or to the review page); with
htmx it is the selection bar, swapped in place.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard.catalogue.models import CatalogueModel
from dashboard.catalogue.queries import as_row
from dashboard.listing import PAGE_SIZES, ListQuery
from dashboard.pagination import paginate
from dashboard.rendering import HtmxHttpRequest, template_for
from dashboard.views import list_return_url, upstream_for

from . import selection

REVIEW_PER_PAGE = 100
MAX_PAGE_IDS = max(PAGE_SIZES)  # a list page never shows more rows than this


def _return_to(request: HttpRequest, alias: str) -> str:
    return list_return_url(request, alias, "return_to", "next")


def _query_of(return_to: str) -> ListQuery:
    """The list state a `return_to` URL stands for (its search, filters, sort and page)."""
    return ListQuery.from_querydict(QueryDict(urlsplit(return_to).query))


def _review_url(alias: str, return_to: str) -> str:
    return reverse("selection-review", args=[alias]) + "?" + urlencode({"return_to": return_to})


def _bar(request: HttpRequest, alias: str, return_to: str) -> HttpResponse:
    """The bar for htmx (the page's ids come with the form), with any messages out of band."""
    page_ids = request.POST.getlist("page_id")[:MAX_PAGE_IDS]
    query = _query_of(return_to)
    context = selection.context(
        request.user, alias, query, page_ids, now=time.time(), return_to=return_to
    )
    context["oob"] = True
    return render(request, "cleanup/selection_bar.html", context)


def _after(request: HtmxHttpRequest, alias: str, return_to: str) -> HttpResponse:
    """htmx: the bar in place. Without JavaScript: back to the review page or the list."""
    if request.htmx and request.POST.get("from") != "review":
        return _bar(request, alias, return_to)
    if request.POST.get("from") == "review":
        return redirect(_review_url(alias, return_to))
    return redirect(return_to)


def _say_added(request: HttpRequest, added: selection.Added, *, matching: bool = False) -> None:
    if matching:
        text = (
            f"Selected all {added.matching} matching model{'s' if added.matching != 1 else ''}"
            if not added.cut
            else f"Selected {added.added} more of the {added.matching} matching models"
        )
        if not added.cut and added.added < added.matching:
            text += f" ({added.added} newly added)"
        messages.info(request, text + ".")
    if added.cut:
        messages.warning(
            request,
            f"{added.cut} model{'s were' if added.cut != 1 else ' was'} not added: a selection "
            f"holds at most {added.limit} models.",
        )


@require_POST
def selection_tick(request: HtmxHttpRequest, alias: str) -> HttpResponse:
    """The page's boxes as they are now (`page_id`: the page's rows, `model_id`: the ticked
    ones); `op=page` ticks or unticks the whole page (`all_on_page`), `op=page-all` ticks it."""
    upstream_for(request, alias)
    return_to = _return_to(request, alias)
    page_ids = request.POST.getlist("page_id")[:MAX_PAGE_IDS]
    op = request.POST.get("op", "")
    if op == "page-all" or (op == "page" and request.POST.get("all_on_page")):
        added = selection.add(request.user, alias, page_ids)
    elif op == "page":
        selection.remove(request.user, alias, page_ids)
        added = selection.Added(0)
    else:
        ticked = request.POST.getlist("model_id")[:MAX_PAGE_IDS]
        added = selection.sync_page(request.user, alias, page_ids, ticked)
    _say_added(request, added)
    return _after(request, alias, return_to)


@require_POST
def selection_matching(request: HtmxHttpRequest, alias: str) -> HttpResponse:
    """Select every deletable model the list in `return_to` matches, on all its pages."""
    upstream_for(request, alias)
    return_to = _return_to(request, alias)
    added = selection.add_matching(request.user, alias, _query_of(return_to), time.time())
    _say_added(request, added, matching=True)
    return _after(request, alias, return_to)


@require_POST
def selection_remove(request: HtmxHttpRequest, alias: str) -> HttpResponse:
    """Take the given models (`model_id`, repeated) out of the selection."""
    upstream_for(request, alias)
    return_to = _return_to(request, alias)
    removed = selection.remove(request.user, alias, request.POST.getlist("model_id"))
    if removed and not request.htmx:
        ids = request.POST.getlist("model_id")
        messages.info(
            request,
            f"Removed {ids[0] if removed == 1 else f'{removed} models'} from the selection.",
        )
    return _after(request, alias, return_to)


@require_POST
def selection_clear(request: HtmxHttpRequest, alias: str) -> HttpResponse:
    """Empty the selection."""
    upstream_for(request, alias)
    return_to = _return_to(request, alias)
    removed = selection.clear(request.user, alias)
    messages.info(request, f"Cleared the selection ({removed} model{'s' if removed != 1 else ''}).")
    return _after(request, alias, return_to)


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def selection_review(request: HttpRequest, alias: str) -> HttpResponse:
    """The selection, page by page, each model removable; Clear; delete or request deletion."""
    upstream_for(request, alias)
    return_to = _return_to(request, alias)
    ids = selection.selected_ids(request.user, alias)
    page = Paginator(ids, REVIEW_PER_PAGE).get_page(request.GET.get("page"))
    found = {
        m.model_id: m
        for m in CatalogueModel.objects.filter(upstream=alias, model_id__in=list(page))
    }
    entries = [
        {
            "id": model_id,
            "row": as_row(found[model_id]) if model_id in found else None,
            "gone": model_id not in found or found[model_id].gone_at is not None,
        }
        for model_id in page
    ]
    path = reverse("selection-review", args=[alias])
    context = {
        "page": page,
        "entries": entries,
        "count": len(ids),
        "return_to": return_to,
        "review_url": _review_url(alias, return_to),
        "pagination": paginate(
            path,
            page.number,
            page.paginator.num_pages,
            lambda n: "?" + urlencode({"return_to": return_to, "page": str(n)}),
        ),
        "page_title": "Selection",
    }
    return render(request, template_for(request, "cleanup/selection.html", "content"), context)
