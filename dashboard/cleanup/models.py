"""The cleanup tables.

```
SelectedModel (user × upstream × model id)           what a user has ticked, across pages
DeletionRequest ── model_ids, reason, decision       four eyes: someone asks, an owner decides
DeletionJob ──< JobItem (one per model)              validating → ready → running → done
                 └─ audit_entry (the delete's AuditEntry; its outcome is the truth)
```

An item *holds the lock* on its (upstream, model id) from validation until it is finished,
dropped or its job ends: a partial unique constraint makes a second open job's claim on the
same model fail in the database, whichever process tries.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from dashboard.models import AuditEntry


class SelectedModel(models.Model):
    """One ticked model in a user's selection on one upstream (kept until cleared)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    upstream = models.CharField(max_length=40)
    model_id = models.CharField(max_length=512)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["model_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user", "upstream", "model_id"], name="selection_one_row_per_model"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.upstream}: {self.model_id}"


class DeletionRequest(models.Model):
    """Someone who may not delete asks the upstream's owners to delete some models."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    upstream = models.CharField(max_length=40, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_name = models.CharField(max_length=150)  # kept if the user is deleted
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    model_ids = models.JSONField(default=list)  # the ids as asked, in order
    return_to = models.CharField(max_length=2000, blank=True)  # the list state it came from
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_name = models.CharField(max_length=150, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    job = models.OneToOneField(
        "DeletionJob", null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"request #{self.pk} ({self.status}) by {self.requested_by_name}"


class DeletionJob(models.Model):
    """Deleting many models: checked first (validating → ready), confirmed, then run by the
    worker (running → done). Cancelled jobs skip what was not started."""

    class Status(models.TextChoices):
        VALIDATING = "validating", "Validating"
        READY = "ready", "Ready to confirm"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    OPEN = (Status.VALIDATING, Status.READY, Status.RUNNING)

    upstream = models.CharField(max_length=40, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150)
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.VALIDATING, db_index=True
    )
    return_to = models.CharField(max_length=2000, blank=True)  # the list state it came from
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="retries"
    )
    concurrency = models.PositiveSmallIntegerField(default=4)
    validated_at = models.DateTimeField(null=True, blank=True)
    validation_problem = models.TextField(blank=True)  # why the check could not finish
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by_name = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancelled_by_name = models.CharField(max_length=150, blank=True)
    # The runner holding the job: a random token and how long its claim lasts (renewed while
    # it works). A runner that stops renewing (killed) loses the job to the next one.
    runner = models.CharField(max_length=64, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(null=True, blank=True)  # rate limited: waits until then
    pause_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"job #{self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class JobItem(models.Model):
    """One model in a job: what validation said, then what deleting it did."""

    class Verdict(models.TextChoices):
        UNCHECKED = "unchecked", "Not checked yet"
        READY = "ready", "Ready"
        REFUSED = "refused", "Refused"

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting"
        IN_FLIGHT = "in_flight", "In flight"
        FINISHED = "finished", "Finished"

    class Outcome(models.TextChoices):
        DELETED = "deleted", "Deleted"
        ALREADY_GONE = "already_gone", "Already gone"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown (being checked)"
        SKIPPED = "skipped", "Skipped"

    job = models.ForeignKey(DeletionJob, on_delete=models.CASCADE, related_name="items")
    upstream = models.CharField(max_length=40)
    model_id = models.CharField(max_length=512)
    position = models.PositiveIntegerField()
    verdict = models.CharField(max_length=16, choices=Verdict.choices, default=Verdict.UNCHECKED)
    refusal = models.CharField(max_length=32, blank=True)  # gone, base, locked, invalid, …
    refusal_text = models.CharField(max_length=500, blank=True)
    notes = models.JSONField(default=list, blank=True)  # what the owner should see: ["new", …]
    dropped = models.BooleanField(default=False)  # the owner took it out before confirming
    holds_lock = models.BooleanField(default=False)
    state = models.CharField(max_length=16, choices=State.choices, default=State.WAITING)
    runner = models.CharField(max_length=64, blank=True)  # who has it in flight
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    message = models.CharField(max_length=2000, blank=True)
    upstream_status = models.PositiveSmallIntegerField(null=True, blank=True)
    upstream_request_id = models.CharField(max_length=200, blank=True)
    audit_entry = models.ForeignKey(
        AuditEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["job", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["job", "model_id"], name="job_item_once_per_job"),
            models.UniqueConstraint(
                fields=["upstream", "model_id"],
                condition=models.Q(holds_lock=True),
                name="job_item_one_open_job_per_model",
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["job", "state", "position"], name="job_item_next"),
            models.Index(fields=["job", "outcome"], name="job_item_outcome"),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} in job #{self.job_id}"
