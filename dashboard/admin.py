"""Django admin: users (without privilege escalation for Admins) and a read-only audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.http import HttpRequest

from . import roles
from .models import AuditEntry

admin.site.site_header = "Models Dashboard administration"
admin.site.site_title = "Models Dashboard"


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "username",
        "action",
        "model_id",
        "outcome",
        "upstream_status",
        "upstream_request_id",
    )
    list_filter = ("outcome", "action")
    search_fields = ("model_id", "username", "upstream_request_id")
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RoleAwareUserAdmin(UserAdmin):
    """User management for Admins without a way up: only owners (and superusers) may grant the
    Owner role or superuser status, or edit an owner's account (its password included)."""

    def _may_manage_owners(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or roles.can_delete(request.user)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        hidden = {"is_superuser", "user_permissions"}
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in hidden]})
            for name, options in fieldsets
        ]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "groups" and not self._may_manage_owners(request):
            kwargs["queryset"] = Group.objects.exclude(name=roles.OWNER)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not self._may_manage_owners(request) and _is_privileged(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and not self._may_manage_owners(request) and _is_privileged(obj):
            return False
        return super().has_delete_permission(request, obj)


def _is_privileged(user: Any) -> bool:
    return bool(user.is_superuser or user.groups.filter(name=roles.OWNER).exists())


admin.site.unregister(User)
admin.site.register(User, RoleAwareUserAdmin)
