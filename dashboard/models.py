"""The dashboard's own tables: the audit log and the sign-in throttle."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyQuerySet(models.QuerySet["AuditEntry"]):
    """Audit rows cannot be bulk-updated or deleted; only a pending outcome is filled in once,
    and a pending or unknown outcome is settled once by a later check (`reconcile`)."""

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("The audit log is append-only.")

    def record_outcome(self, pk: int, **fields: Any) -> int:
        pending = self.filter(pk=pk, outcome=AuditEntry.Outcome.PENDING)
        return models.QuerySet.update(pending, **fields)

    def reconcile(self, pk: int, **fields: Any) -> int:
        if fields.get("outcome") in AuditEntry.UNSETTLED:
            raise PermissionError("A reconciled entry gets a final outcome.")
        unsettled = self.filter(pk=pk, outcome__in=AuditEntry.UNSETTLED)
        return models.QuerySet.update(unsettled, **fields)


class AuditEntry(models.Model):
    """One attempt to change something upstream: intent first, outcome after."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending (no outcome recorded)"
        DELETED = "deleted", "Deleted"
        ALREADY_GONE = "already_gone", "Already gone"
        REFUSED = "refused", "Refused by upstream"
        DENIED = "denied", "Denied by the dashboard"
        FAILED = "failed", "Failed"
        UNKNOWN = "unknown", "Unknown (the API did not confirm)"
        RECORDED = "recorded", "Recorded"  # an event that calls no API (a job confirmed, …)

    class Confirmation(models.TextChoices):
        """How the dashboard knows the outcome."""

        ANSWER = "answer", "The API's answer"
        RETRY = "retry", "The answer to a retry"
        CHECK = "check", "A check right after"
        RECONCILE = "reconcile", "A later check"

    UNSETTLED = (Outcome.PENDING, Outcome.UNKNOWN)

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(max_length=150, db_index=True)  # kept if the user is deleted
    action = models.CharField(max_length=32, default="delete")
    model_id = models.CharField(max_length=512, db_index=True)
    model_snapshot = models.JSONField(default=dict, blank=True)
    upstream = models.CharField(max_length=200, blank=True)  # its label, as shown then
    upstream_alias = models.CharField(max_length=40, default="default", db_index=True)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.PENDING, db_index=True
    )
    upstream_status = models.PositiveSmallIntegerField(null=True, blank=True)
    upstream_request_id = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    confirmed_by = models.CharField(max_length=16, choices=Confirmation.choices, blank=True)
    reconciled_at = models.DateTimeField(null=True, blank=True)  # settled later by a check
    # The deletion job and the deletion request this entry belongs to (their ids; never reused).
    job_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    deletion_request_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-created_at", "-id"]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        permissions: ClassVar = [
            ("view_audit_log", "Can view the audit log"),
            ("delete_upstream_model", "Can delete models upstream"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.username} {self.action} {self.model_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The audit log is append-only.")

    def record_outcome(
        self,
        outcome: AuditEntry.Outcome,
        *,
        status: int | None = None,
        request_id: str | None = None,
        message: str = "",
        confirmed_by: AuditEntry.Confirmation | str = "",
    ) -> None:
        """Fill in the outcome of a pending entry (once; later calls change nothing)."""
        fields = {
            "outcome": outcome,
            "upstream_status": status,
            "upstream_request_id": (request_id or "")[:200],  # an upstream header: untrusted
            "message": message[:2000],
            "finished_at": timezone.now(),
            "confirmed_by": confirmed_by,
        }
        from . import dbwrites

        with dbwrites.write():
            recorded = AuditEntry.objects.record_outcome(self.pk, **fields)
        if recorded:
            for name, value in fields.items():
                setattr(self, name, value)

    def reconcile(self, outcome: AuditEntry.Outcome, *, message: str) -> bool:
        """Settle a pending or unknown entry with what a later check learned (once).

        The new words come first and the earlier message is kept after them; nothing else
        about the entry changes.
        """
        now = timezone.now()
        earlier = self.message or "No outcome was recorded (the dashboard stopped mid-delete)."
        said = f"Reconciled at {now:%Y-%m-%d %H:%M:%S} UTC: {message} Before that: {earlier}"
        fields = {
            "outcome": outcome,
            "message": said[:2000],
            "confirmed_by": AuditEntry.Confirmation.RECONCILE,
            "reconciled_at": now,
        }
        if not AuditEntry.objects.reconcile(self.pk, **fields):
            return False
        for name, value in fields.items():
            setattr(self, name, value)
        return True


class LoginFailure(models.Model):
    """Failed sign-ins for one (username, address) pair, or for one address (empty digest).

    A table, not the cache: `UPDATE … SET count = count + 1` is atomic on SQLite and PostgreSQL,
    whereas Django's database and file caches implement `incr` as get + set and restart the
    timeout, so neither the count nor the window would be the configured one there.
    """

    username_digest = models.CharField(max_length=64, blank=True)  # never the typed name
    address = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)  # attempts in this window, in flight included
    first_failure = models.DateTimeField(default=timezone.now)  # the window's start
    locked_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["username_digest", "address"], name="login_failure_one_row_per_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.username_digest or '*'}@{self.address}: {self.count}"


class UpstreamAccess(models.Model):
    """A user's role on one upstream (an Owner of one upstream is not an Owner of another).

    On the default upstream, a user without a row has the role of their group (Support, Admin,
    Owner); on any other upstream, only a row (or being a superuser) gives access.
    """

    class Role(models.TextChoices):
        SUPPORT = "Support", "Support (read)"
        ADMIN = "Admin", "Admin (read, audit log)"
        OWNER = "Owner", "Owner (read, audit log, delete)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="upstream_access"
    )
    upstream = models.CharField(max_length=40, help_text="The upstream's alias (UPSTREAMS).")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = "upstream access"
        verbose_name_plural = "upstream access"
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "upstream"], name="one_role_per_upstream")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.upstream}: {self.role}"
