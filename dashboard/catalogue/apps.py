from __future__ import annotations

from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "dashboard.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"
    default_auto_field = "django.db.models.BigAutoField"
