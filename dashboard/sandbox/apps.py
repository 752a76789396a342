from __future__ import annotations

from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "dashboard.sandbox"
    label = "sandbox"
    verbose_name = "Embedded sandbox API"
    default_auto_field = "django.db.models.BigAutoField"
