from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import roles
from .cleanup.requests import pending_count
from .upstreams import DEFAULT, Upstream, get_upstream


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """The upstream shown in the header (the page's, else the default), the others this user may
    switch to, and what the user may do on it."""
    user = request.user
    upstream: Upstream | None = getattr(request, "upstream", None)
    if upstream is None:
        try:
            upstream = get_upstream(DEFAULT)
        except KeyError:  # UPSTREAMS replaced nothing: the default always exists
            upstream = None
    alias = upstream.alias if upstream else DEFAULT
    return {
        "upstream": upstream,
        "upstreams": roles.visible_upstreams(user) if user.is_authenticated else [],
        "can_delete": roles.can_delete(user, alias),
        "can_view_audit": roles.can_view_audit(user),
        "can_view_jobs": roles.can_view_audit(user, alias),
        "role": roles.role_name(user, alias) if user.is_authenticated else "",
        # Owners (of any upstream): how many requests wait for them; None for the others.
        "pending_requests": pending_count(user),
    }
