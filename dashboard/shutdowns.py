"""The Shutdowns page: an upstream's fine-tunes grouped by the day their base model stops
(issue 11 §2), and the owners' "select these" for one day."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from . import roles
from .catalogue import stops
from .cleanup import selection
from .rendering import forbidden, template_for
from .views import upstream_for


def _today() -> datetime.date:
    return datetime.datetime.now(tz=datetime.UTC).date()


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def shutdown_list(request: HttpRequest, alias: str) -> HttpResponse:
    """The timeline: each day with days left (or past), its base models, count and models."""
    upstream_for(request, alias)
    today = _today()
    context = {
        "shutdowns": stops.shutdowns(alias, today),
        "today": today,
        "may_select": roles.can_delete(request.user, alias),
        "page_title": "Shutdowns",
    }
    return render(request, template_for(request, "catalogue/shutdowns.html", "content"), context)


@require_POST
def shutdown_select(request: HttpRequest, alias: str) -> HttpResponse:
    """Owners: add every fine-tune that stops on the posted `day` to their selection."""
    upstream_for(request, alias)
    if not roles.can_delete(request.user, alias):
        return forbidden(request, "Only owners select fine-tunes to delete from this page.")
    back = reverse("shutdown-list", args=[alias])
    try:
        day = datetime.date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        messages.error(request, "No day was chosen.")
        return redirect(back)
    found = stops.fine_tunes_stopping(alias, day)
    added = selection.add(request.user, alias, found)
    text = f"Added {added.added} fine-tune{'s' if added.added != 1 else ''} stopping on {day}"
    if added.cut:
        text += f"; {added.cut} left out (a selection holds at most {added.limit})"
    messages.info(request, text + " to your selection.")
    return redirect(back + f"#day-{day.isoformat()}")
