"""Full page or htmx fragment: one rule for every view."""

from __future__ import annotations

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """For type checking: a request that went through django-htmx's middleware."""

    htmx: HtmxDetails


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx swap wants the fragment; a history restore (Back button) needs the full page."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return bool(htmx and not htmx.history_restore_request)


def template_for(request: HttpRequest, name: str, partial: str) -> str:
    """`name#partial` for htmx swaps, `name` otherwise (Django 6 template partials)."""
    return f"{name}#{partial}" if wants_fragment(request) else name
