"""Django admin: users and groups as usual; the audit log read-only (append-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

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
