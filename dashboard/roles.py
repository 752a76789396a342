"""The three roles, as Django groups with permissions (created after every migrate).

Support reads; Admin also sees the audit log and manages users in Django's admin;
Owner may do everything, including deleting models upstream.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, Group, Permission, User

SUPPORT, ADMIN, OWNER = "Support", "Admin", "Owner"

_ADMIN_PERMS = [
    "dashboard.view_audit_log",
    "dashboard.view_auditentry",
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
    "auth.view_group",
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


def can_delete(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("dashboard.delete_upstream_model")


def can_view_audit(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and user.has_perm("dashboard.view_audit_log")


def role_name(user: User | AnonymousUser) -> str:
    if can_delete(user):
        return OWNER
    if can_view_audit(user):
        return ADMIN
    return SUPPORT
