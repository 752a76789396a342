"""The catalogue's tables: mirrored models, sync runs, drift records, per-upstream refresh state.

```
UpstreamState (1 per alias) ── lease, backoff, last success
SyncRun (1 per refresh attempt) ──< Change (appeared / disappeared / changed / reappeared)
CatalogueModel (1 per alias + model id) ── data as sent, derived columns, first/last seen, gone_at
```
"""

from __future__ import annotations

import datetime
from typing import ClassVar

from django.db import models

from dashboard.models import AuditEntry


class ModelKind(models.TextChoices):
    BASE = "base", "Base"
    FINE_TUNED = "fine-tuned", "Fine-tuned"


def _present_index(name: str, *columns: str) -> models.Index:
    """An index led by what every list query filters on: one upstream, rows still present."""
    return models.Index(fields=["upstream", "gone_at", *columns], name=name)


class CatalogueModel(models.Model):
    """One model of one upstream, as last fetched: `data` holds every field exactly as sent.

    The other columns are derived from `data` for filtering and sorting. A present row
    (`gone_at` null) is not rewritten while it is unchanged, so its `last_seen` is only as new
    as its last change: use `effective_last_seen()` for "when was it last in the list".
    """

    upstream = models.CharField(max_length=64)
    model_id = models.CharField(max_length=512)
    object = models.CharField(max_length=64, blank=True)
    created = models.BigIntegerField(null=True, blank=True)  # Unix seconds; servers send null
    owned_by = models.CharField(max_length=200, blank=True)  # some servers omit it
    shutdown_date = models.DateField(null=True, blank=True)  # unparseable: null (raw in data)
    data = models.JSONField(default=dict)
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    base_model = models.CharField(max_length=512, blank=True)  # fine-tunes only
    is_deletable = models.BooleanField(default=False)
    # casefold() of model_id / owned_by: the list sorts and searches case-insensitively.
    model_id_folded = models.CharField(max_length=1536)
    owned_by_folded = models.CharField(max_length=600, blank=True)
    fingerprint = models.CharField(max_length=32)  # hash of the canonical JSON of `data`
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    gone_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The day the model stops working: its own shutdown_date, or (a fine-tune) its base
    # model's; `stops_because` names the model whose date it is. Null: no date known.
    stops_on = models.DateField(null=True, blank=True)
    stops_because = models.CharField(max_length=512, blank=True, db_default="")
    # The last UTC day the Usage API reported requests for it (null: none in the days read);
    # meaningful only where the upstream has an admin key (see dashboard/usage).
    last_used = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = "catalogue model"
        ordering: ClassVar = ["upstream", "model_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["upstream", "model_id"], name="catalogue_unique_model")
        ]
        # The id tie-breaker is in an index only where its sort column has few distinct values.
        indexes: ClassVar = [
            _present_index("catalogue_by_created", "created"),
            _present_index("catalogue_by_id", "model_id_folded"),
            _present_index("catalogue_by_owner_sort", "owned_by_folded", "model_id"),
            _present_index("catalogue_by_shutdown", "shutdown_date", "model_id"),
            _present_index("catalogue_by_kind", "kind", "model_id"),
            _present_index("catalogue_by_base", "base_model"),
            _present_index("catalogue_by_stops_on", "stops_on", "model_id"),
            _present_index("catalogue_by_last_used", "last_used", "model_id"),
            # Owner filter, and covering for the facet counts and search (no table reads).
            _present_index(
                "catalogue_facets",
                *("owned_by", "base_model", "kind", "created"),
                *("model_id_folded", "owned_by_folded", "stops_on", "last_used"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.upstream}: {self.model_id}"

    def effective_last_seen(self, last_success_at: datetime.datetime | None) -> datetime.datetime:
        """When the model was last in the upstream's list.

        `last_success_at` is the upstream's `UpstreamState.last_success_at`: a present row was
        in the latest successful sync's list; a gone row keeps the time stored when it went.
        """
        if self.gone_at is None and last_success_at is not None:
            return max(last_success_at, self.last_seen)
        return self.last_seen


class SyncRun(models.Model):
    """One refresh attempt (or one direct `sync_models` call) and what it found."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    upstream = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    seen = models.PositiveIntegerField(default=0)  # usable items in the fetched list
    appeared = models.PositiveIntegerField(default=0)
    reappeared = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    disappeared = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)  # items without a usable id
    error = models.TextField(blank=True)  # scrubbed: never holds the API key
    request_id = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering: ClassVar = ["-started_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["upstream", "started_at"], name="syncrun_by_upstream"),
        ]

    def __str__(self) -> str:
        return f"{self.upstream} sync at {self.started_at:%Y-%m-%d %H:%M:%S}: {self.status}"

    @property
    def rows_written(self) -> int:
        """Catalogue rows inserted or updated by this sync (unchanged rows are not written)."""
        return self.appeared + self.reappeared + self.changed + self.disappeared


class Change(models.Model):
    """One difference between two consecutive syncs of an upstream (drift)."""

    class Kind(models.TextChoices):
        APPEARED = "appeared", "Appeared"
        DISAPPEARED = "disappeared", "Disappeared"
        CHANGED = "changed", "Changed"
        REAPPEARED = "reappeared", "Reappeared"

    class Field(models.TextChoices):
        NONE = "", "—"
        SHUTDOWN_DATE = "shutdown_date", "Shutdown date"
        OWNED_BY = "owned_by", "Owner"
        CREATED = "created", "Created"
        OTHER = "other", "Other fields"

    class Cause(models.TextChoices):
        NONE = "", "—"
        DELETED_HERE = "deleted here", "Deleted through this dashboard"
        DELETED_ELSEWHERE = "deleted elsewhere", "Deleted elsewhere"

    upstream = models.CharField(max_length=64)
    model_id = models.CharField(max_length=512)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    field = models.CharField(max_length=16, choices=Field.choices, blank=True)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    sync = models.ForeignKey(
        SyncRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    at = models.DateTimeField(db_index=True)
    cause = models.CharField(max_length=32, choices=Cause.choices, blank=True)
    audit_entry = models.ForeignKey(
        AuditEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering: ClassVar = ["-at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["upstream", "at"], name="change_by_upstream"),
            models.Index(fields=["upstream", "model_id", "at"], name="change_by_model"),
        ]

    def __str__(self) -> str:
        what = f" {self.field}" if self.field else ""
        return f"{self.upstream}: {self.model_id} {self.kind}{what}"


class FineTuningJobRecord(models.Model):
    """The fine-tuning job behind a fine-tuned model (lineage), as the API last described it:
    found by paging `GET /fine_tuning/jobs` for `fine_tuned_model`, with its checkpoints."""

    upstream = models.CharField(max_length=64)
    job_id = models.CharField(max_length=200)
    fine_tuned_model = models.CharField(max_length=512, blank=True, db_index=True)
    base_model = models.CharField(max_length=512, blank=True)
    status = models.CharField(max_length=32, blank=True)
    data = models.JSONField(default=dict)  # the job as sent
    checkpoints = models.JSONField(default=list)  # the checkpoints as sent, newest first
    fetched_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["upstream", "job_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["upstream", "job_id"], name="catalogue_unique_job")
        ]
        indexes: ClassVar = [
            models.Index(fields=["upstream", "fine_tuned_model"], name="job_by_model"),
        ]

    def __str__(self) -> str:
        return f"{self.upstream}: {self.job_id} → {self.fine_tuned_model}"


class UpstreamState(models.Model):
    """Per upstream alias: the refresh lease shared by every process, and the backoff."""

    upstream = models.CharField(max_length=64, unique=True)
    # One refresh in flight: claimed by a conditional UPDATE, released by its holder, and
    # expiring on its own if the holder died.
    refresh_lease_until = models.DateTimeField(null=True, blank=True)
    refresh_requested_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # backoff after failures
    last_error = models.TextField(blank=True)  # scrubbed
    # Which API the copy is of (`Upstream.cache_key`: alias, base URL, organisation, project).
    # When the alias is pointed elsewhere, its copy belongs to another API and is dropped.
    identity = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering: ClassVar = ["upstream"]

    def __str__(self) -> str:
        return self.upstream
