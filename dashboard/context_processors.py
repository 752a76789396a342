from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from . import roles
from .upstream import current_upstream


def dashboard(request: HttpRequest) -> dict[str, Any]:
    """The upstream shown in the header and what the signed-in user may do."""
    user = request.user
    return {
        "upstream": current_upstream(),
        "can_delete": roles.can_delete(user),
        "can_view_audit": roles.can_view_audit(user),
        "role": roles.role_name(user) if user.is_authenticated else "",
    }
