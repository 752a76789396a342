"""The three roles, per upstream: Support reads; Admin also sees the audit log (and manages
users in Django's admin); Owner may do everything, including deleting models upstream.

A user's role on an upstream is their `UpstreamAccess` row for it; on the default upstream,
without a row, the role of their group (the groups are created after every migrate and carry
the Django admin permissions). Superusers are Owners everywhere. The checks run in the views.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group, Permission, User

from .models import UpstreamAccess
from .upstreams import DEFAULT, Upstream, upstreams

SUPPORT, ADMIN, OWNER = "Support", "Admin", "Owner"

_ADMIN_PERMS = [
    "dashboard.view_audit_log",
    "dashboard.view_auditentry",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
    # Granting roles per upstream in Django's admin (limited further by `may_grant`).
    "dashboard.view_upstreamaccess",
    "dashboard.add_upstreamaccess",
    "dashboard.change_upstreamaccess",
    "dashboard.delete_upstreamaccess",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: [],
    ADMIN: _ADMIN_PERMS,
    OWNER: [*_ADMIN_PERMS, "auth.delete_user", "dashboard.delete_upstream_model"],
}


def ensure_roles(using: str = "default") -> None:
    """Create the groups and give them exactly their permissions (idempotent)."""
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        wanted: list[Permission] = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted.extend(
                Permission.objects.using(using).filter(
                    content_type__app_label=app_label, codename=codename
                )
            )
        group.permissions.set(wanted)


_RANK = {SUPPORT: 1, ADMIN: 2, OWNER: 3}


def _group_role(user: User) -> str:
    if user.has_perm("dashboard.delete_upstream_model"):
        return OWNER
    if user.has_perm("dashboard.view_audit_log"):
        return ADMIN
    return SUPPORT


def role_on(user: User | AnonymousUser, upstream: str) -> str | None:
    """The user's role on the upstream with this alias, or None: no access at all."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return OWNER
    cache: dict[str, str | None] = user.__dict__.setdefault("_upstream_roles", {})
    if upstream not in cache:
        access = UpstreamAccess.objects.filter(user=user, upstream=upstream).first()
        if access is not None:
            cache[upstream] = access.role
        else:
            cache[upstream] = _group_role(user) if upstream == DEFAULT else None
    return cache[upstream]


def _at_least(user: User | AnonymousUser, upstream: str, role: str) -> bool:
    found = role_on(user, upstream)
    return found is not None and _RANK[found] >= _RANK[role]


def can_view(user: User | AnonymousUser, upstream: str = DEFAULT) -> bool:
    return role_on(user, upstream) is not None


def can_delete(user: User | AnonymousUser, upstream: str = DEFAULT) -> bool:
    return _at_least(user, upstream, OWNER)


def can_view_audit(user: User | AnonymousUser, upstream: str | None = None) -> bool:
    """On one upstream, or (None) on any of them."""
    if upstream is None:
        return bool(audit_upstreams(user))
    return _at_least(user, upstream, ADMIN)


def may_grant(user: User | AnonymousUser, upstream: str, role: str) -> bool:
    """Whether `user` may give (or change, or take away) `role` on `upstream`: Admins of that
    upstream grant Support and Admin, only its Owners grant Owner (no way up)."""
    return _at_least(user, upstream, OWNER if role == OWNER else ADMIN)


def audit_upstreams(user: User | AnonymousUser) -> list[str]:
    """The aliases whose audit entries this user may read."""
    return [alias for alias in upstreams() if _at_least(user, alias, ADMIN)]


def visible_upstreams(user: User | AnonymousUser) -> list[Upstream]:
    """The upstreams this user may see (the header's switcher)."""
    return [upstream for alias, upstream in upstreams().items() if can_view(user, alias)]


def role_name(user: User | AnonymousUser, upstream: str = DEFAULT) -> str:
    return role_on(user, upstream) or ""
