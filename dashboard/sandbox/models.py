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


class SandboxFineTuningJob(models.Model):
    """A fine-tuning job served by the sandbox (`/sandbox/v1/fine_tuning/jobs`).

    Kept apart from the models, as upstream: deleting a fine-tuned model leaves its job."""

    id = models.CharField(max_length=64, primary_key=True)
    created_at = models.BigIntegerField()
    fine_tuned_model = models.CharField(max_length=512, null=True, blank=True, db_index=True)
    body = models.JSONField()  # the job as the API returns it
    checkpoints = models.JSONField(default=list, blank=True)  # newest first, as listed

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]  # the API lists the newest job first
        indexes: ClassVar = [models.Index(fields=["-created_at", "-id"], name="sandbox_job_newest")]

    def __str__(self) -> str:
        return self.id
