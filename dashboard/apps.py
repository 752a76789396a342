from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Models Dashboard"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import signals

        post_migrate.connect(_ensure_roles, sender=self)
        signals.connect()


def _ensure_roles(**kwargs: Any) -> None:
    from .roles import ensure_roles

    ensure_roles(using=kwargs.get("using", "default"))
