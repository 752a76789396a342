"""The catalogue in Django's admin: read-only (it mirrors upstream; syncs write it)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import CatalogueModel


@admin.register(CatalogueModel)
class CatalogueModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("model_id", "kind", "owned_by", "created", "shutdown_date", "gone_at")
    search_fields = ["model_id", "owned_by"]
    list_filter = ["kind", "owned_by", "base_model"]
    show_facets = admin.ShowFacets.ALWAYS
    list_per_page = 50
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
