"""Full page or htmx fragment, the browser's current page, and the 403 page: one rule each."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from .logging import security_event


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


def current_path(request: HttpRequest) -> str | None:
    """The page the browser shows during an htmx request (path and query), if on this site."""
    htmx: HtmxDetails | None = getattr(request, "htmx", None)
    return htmx.current_url_abs_path if htmx else None


def forbidden(request: HttpRequest, reason: str, **log: object) -> HttpResponse:
    """403 as a page or fragment, logged as a security event (with any `log` details)."""
    user = request.user.get_username() if hasattr(request, "user") else ""
    security_event("forbidden", user=user, path=request.path, method=request.method, **log)
    context = {"reason": reason, "page_title": "Not allowed"}
    return render(request, template_for(request, "403.html", "forbidden"), context, status=403)
