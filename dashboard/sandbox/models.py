"""The sandbox's state: the models it serves."""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models


class SandboxModel(models.Model):
    """A model served by the embedded sandbox API (`/sandbox/v1/models`)."""

    id = models.CharField(max_length=512, primary_key=True)
    created = models.BigIntegerField()
    owned_by = models.CharField(max_length=200)
    shutdown_date = models.DateField(null=True, blank=True)
    extra = models.JSONField(default=dict, blank=True)  # fields only some servers send

    class Meta:
        db_table = "dashboard_sandboxmodel"  # created when the sandbox lived in `dashboard`
        ordering: ClassVar = ["id"]

    def __str__(self) -> str:
        return self.id

    def as_api(self) -> dict[str, Any]:
        """The object as OpenAI's API returns it."""
        return {
            "id": self.id,
            "object": "model",
            "created": self.created,
            "owned_by": self.owned_by,
            "shutdown_date": self.shutdown_date.isoformat() if self.shutdown_date else None,
            **self.extra,
        }
