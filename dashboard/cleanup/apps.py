from __future__ import annotations

from django.apps import AppConfig


class CleanupConfig(AppConfig):
    name = "dashboard.cleanup"
    label = "cleanup"
    verbose_name = "Cleanup"
    default_auto_field = "django.db.models.BigAutoField"
