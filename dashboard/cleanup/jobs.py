"""Deletion jobs: many models deleted in the background, checked first, never twice.

A job's life::

    validating ──> ready ──(owner types the count)──> running ──> done
         └────────────┴──────────────────┴──(cancel: what has not started is skipped)──> cancelled

- **Validating** (`validate`, a task): reads the upstream's list once and judges every item
  without deleting anything — gone already, a base model, an invalid id, or in another open job
  (refused); otherwise ready, with notes the owner should see (new since yesterday, a shutdown
  date passed, its base model shuts down). A ready item *holds the lock* on its model: a
  partial unique index lets one open job per model hold it, in whichever process.
- **Running** (`run`, a task): one runner holds the job by a lease its threads renew between
  deletes (`DeletionJob.runner`, `lease_until`). Its threads (`concurrency`, default 4) each
  claim the next waiting item with a conditional UPDATE (waiting → in flight), only while the
  lease is theirs for longer than one delete can take (the lease is never shorter than
  1.5 × a delete's budget and a second, whatever CLEANUP_LEASE_SECONDS says; the runner
  knows its lease without reading it, as only it moves it while it holds it), and delete it
  through `deletion.delete_model`, the routine the one-model dialog uses: it audits (with the
  job's id), calls upstream and records the truthful outcome. A 429 puts the item back and pauses
  every thread for the `retry-after`; `x-ratelimit-remaining-requests: 0` pauses them until
  `x-ratelimit-reset-requests`.
- **A dead worker** (kill -9) stops renewing; every runner keeps a follow-up task queued for
  just after its lease would lapse. That follow-up (on any worker) finds the lease lapsed, takes
  the job, and first looks up each item left in flight: gone (404) → "already gone" and its
  audit entry settled as deleted; still there → waiting again (its audit entry settled as not
  deleted), to be deleted once. An item is only ever in flight for one runner, and a runner
  only claims while its lease outlasts the delete, so no model is deleted twice.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, close_old_connections, connections, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

import modelsclient
from dashboard import dbwrites, roles
from dashboard.catalogue.models import CatalogueModel
from dashboard.catalogue.sync import Fetched, record_deletion, refresh
from dashboard.catalogue.tasks import is_pending, read_list
from dashboard.converters import is_valid_model_id
from dashboard.deletion import delete_model, record_event
from dashboard.listing import BASE_OWNERS
from dashboard.models import AuditEntry
from dashboard.upstreams import (
    MIN_ATTEMPT_SECONDS,
    Budget,
    Upstream,
    call_within_budget,
    describe_error,
    get_upstream,
)
from dashboard.usage.queries import requests_since

from .models import DeletionJob, DeletionRequest, JobItem

USED_WITHIN = 30  # days: a model used in them gets a note in the check (usage, admin key)

log = logging.getLogger(__name__)

Status = DeletionJob.Status
Verdict = JobItem.Verdict
State = JobItem.State
Outcome = JobItem.Outcome

VALIDATE_SECONDS = 120.0  # reading the whole list for a check (a background task may wait)
CHECK_SECONDS = 30.0  # looking up the items a dead runner left in flight
MAX_ATTEMPTS = 5  # rate-limited attempts of one item before it is given up as refused
MAX_PAUSE_SECONDS = 900.0  # the longest one rate-limit answer pauses a job
CHUNK = 500
SNAPSHOTS = 100  # catalogue copies a runner reads at once, for the audit of the next deletes


# --- Creating, dropping, confirming, cancelling, retrying ------------------------------------


def create_job(
    actor: User | AnonymousUser,
    upstream: Upstream,
    model_ids: Sequence[str],
    *,
    return_to: str = "",
    request: DeletionRequest | None = None,
    retry_of: DeletionJob | None = None,
    remote_addr: str | None = None,
) -> DeletionJob:
    """A new job over `model_ids` (order kept, repeats once), in `validating`; its check is
    queued. Deletes nothing.

    Raises PermissionDenied unless `actor` may delete on `upstream`, ValueError for no ids or
    more than CLEANUP_MAX_ITEMS.
    """
    if not roles.can_delete(actor, upstream.alias):
        raise PermissionDenied(f"Only owners of {upstream.label} may delete models.")
    ids = list(dict.fromkeys(str(model_id) for model_id in model_ids))
    if not ids:
        raise ValueError("No models were chosen.")
    if len(ids) > settings.CLEANUP_MAX_ITEMS:
        raise ValueError(
            f"{len(ids)} models is more than one job takes ({settings.CLEANUP_MAX_ITEMS})."
        )
    assert isinstance(actor, User)
    with transaction.atomic():
        job = DeletionJob.objects.create(
            upstream=upstream.alias,
            created_by=actor,
            created_by_name=actor.get_username(),
            return_to=return_to[:2000],
            retry_of=retry_of,
            concurrency=max(1, settings.CLEANUP_CONCURRENCY),
        )
        JobItem.objects.bulk_create(
            [
                JobItem(job=job, upstream=upstream.alias, model_id=model_id, position=n)
                for n, model_id in enumerate(ids)
            ],
            batch_size=CHUNK,
        )
        why = f"a retry of the failed items of job #{retry_of.pk}" if retry_of else ""
        if request is not None:
            why = f"approving request #{request.pk} by {request.requested_by_name}"
        record_event(
            actor,
            upstream,
            "job.created",
            model_ids=ids,
            message=f"Job #{job.pk} created for {len(ids)} model{'s' * (len(ids) != 1)}"
            + (f", {why}" if why else "")
            + ". Nothing is deleted before the owner confirms.",
            job_id=job.pk,
            deletion_request_id=request.pk if request else None,
            remote_addr=remote_addr,
        )
        transaction.on_commit(lambda: _enqueue("validate", job.pk))
    return job


def drop_items(job: DeletionJob, item_pks: Sequence[int]) -> int:
    """Take items out of a ready job before it is confirmed (their locks released)."""
    with transaction.atomic():
        if not DeletionJob.objects.filter(pk=job.pk, status=Status.READY).exists():
            return 0
        return JobItem.objects.filter(job=job, pk__in=item_pks, dropped=False).update(
            dropped=True, holds_lock=False
        )


def check_again(job: DeletionJob) -> None:
    """Queue the check of a job still validating (its last attempt could not read the API)."""
    DeletionJob.objects.filter(pk=job.pk).update(validation_problem="")
    _enqueue("validate", job.pk)


class NotConfirmed(Exception):
    """The typed count is not the number of models the job would delete (or the job moved on)."""


def to_delete(job: DeletionJob) -> int:
    """How many models confirming the job would delete: the ready items not dropped."""
    return JobItem.objects.filter(job=job, verdict=Verdict.READY, dropped=False).count()


def confirm(
    job: DeletionJob, actor: User | AnonymousUser, typed: str, *, remote_addr: str | None = None
) -> DeletionJob:
    """Start a ready job: `typed` must be the number of models it will delete, exactly."""
    upstream = get_upstream(job.upstream)
    if not roles.can_delete(actor, job.upstream):
        raise PermissionDenied(f"Only owners of {upstream.label} may delete models.")
    assert isinstance(actor, User)
    count = to_delete(job)
    if job.status != Status.READY:
        raise NotConfirmed(f"This job is {job.get_status_display().lower()}, not ready.")
    if count == 0:
        raise NotConfirmed("No model in this job can be deleted.")
    if typed.strip() != str(count):
        raise NotConfirmed(f"Type {count}, the number of models to delete. Nothing was deleted.")
    now = timezone.now()
    with transaction.atomic():
        started = DeletionJob.objects.filter(pk=job.pk, status=Status.READY).update(
            status=Status.RUNNING,
            confirmed_by=actor,
            confirmed_by_name=actor.get_username(),
            started_at=now,
        )
        if not started:
            raise NotConfirmed("This job changed meanwhile; nothing was started.")
        record_event(
            actor,
            upstream,
            "job.confirmed",
            model_ids=_ready_ids(job),
            message=f"Job #{job.pk} confirmed: deleting {count} model{'s' * (count != 1)}.",
            job_id=job.pk,
            remote_addr=remote_addr,
        )
        transaction.on_commit(lambda: _enqueue("run", job.pk))
    job.refresh_from_db()
    return job


def cancel(
    job: DeletionJob, actor: User | AnonymousUser, *, remote_addr: str | None = None
) -> bool:
    """Cancel an open job: items not yet started are skipped; those in flight finish. False
    if the job had already ended."""
    upstream = get_upstream(job.upstream)
    if not roles.can_delete(actor, job.upstream):
        raise PermissionDenied(f"Only owners of {upstream.label} may cancel deletion jobs.")
    now = timezone.now()
    with transaction.atomic():
        cancelled = DeletionJob.objects.filter(pk=job.pk, status__in=DeletionJob.OPEN).update(
            status=Status.CANCELLED, cancelled_by_name=actor.get_username(), finished_at=now
        )
        if not cancelled:
            return False
        skipped = JobItem.objects.filter(job=job, state=State.WAITING).exclude(
            verdict=Verdict.REFUSED
        )
        count = skipped.filter(dropped=False, verdict=Verdict.READY).count()
        skipped.update(
            state=State.FINISHED,
            outcome=Outcome.SKIPPED,
            message="Skipped: the job was cancelled before this model's turn.",
            holds_lock=False,
            finished_at=now,
        )
        JobItem.objects.filter(job=job).exclude(state=State.IN_FLIGHT).update(holds_lock=False)
        record_event(
            actor,
            upstream,
            "job.cancelled",
            message=f"Job #{job.pk} cancelled; {count} model{'s' * (count != 1)} skipped.",
            job_id=job.pk,
            remote_addr=remote_addr,
        )
    return True


RETRYABLE = (Outcome.FAILED, Outcome.UNKNOWN)


def retry_failed(
    job: DeletionJob, actor: User | AnonymousUser, *, remote_addr: str | None = None
) -> DeletionJob:
    """A new job over this job's failed (and unconfirmed) items; it starts at validation."""
    ids = list(
        JobItem.objects.filter(job=job, outcome__in=RETRYABLE)
        .order_by("position")
        .values_list("model_id", flat=True)
    )
    if job.is_open:
        raise ValueError("The job is still open; retry its failed items when it has ended.")
    if not ids:
        raise ValueError("Nothing failed in this job.")
    return create_job(
        actor,
        get_upstream(job.upstream),
        ids,
        return_to=job.return_to,
        retry_of=job,
        remote_addr=remote_addr,
    )


def _ready_ids(job: DeletionJob) -> list[str]:
    return list(
        JobItem.objects.filter(job=job, verdict=Verdict.READY, dropped=False)
        .order_by("position")
        .values_list("model_id", flat=True)[:50]
    )


# --- Progress ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """What a job's page shows: counts per verdict and outcome, and how far it is."""

    total: int  # every item
    ready: int  # to delete (ready, not dropped)
    refused: int  # refused by the check
    dropped: int
    unchecked: int
    finished: int  # of `ready`, with an outcome
    outcomes: dict[str, int]

    @property
    def percent(self) -> int:
        return 100 if not self.ready else int(self.finished * 100 / self.ready)

    @property
    def failed(self) -> int:
        return sum(self.outcomes.get(outcome, 0) for outcome in RETRYABLE)

    def outcome_counts(self) -> list[tuple[str, str, int]]:
        """(value, label, count) for every outcome, in the ledger's order."""
        return [(o.value, o.label, self.outcomes.get(o.value, 0)) for o in Outcome]


def progress(job: DeletionJob) -> Progress:
    """One grouped query over the job's items."""
    rows = (
        JobItem.objects.filter(job=job)
        .values("verdict", "dropped", "outcome")
        .annotate(n=Count("pk"))
    )
    total = ready = refused = dropped = unchecked = finished = 0
    outcomes: dict[str, int] = {}
    for row in rows:
        n = row["n"]
        total += n
        if row["dropped"]:
            dropped += n
        elif row["verdict"] == Verdict.REFUSED:
            refused += n
        elif row["verdict"] == Verdict.UNCHECKED:
            unchecked += n
        else:
            ready += n
            if row["outcome"]:
                finished += n
                outcomes[row["outcome"]] = outcomes.get(row["outcome"], 0) + n
    return Progress(total, ready, refused, dropped, unchecked, finished, outcomes)


# --- Validating ----------------------------------------------------------------------------


NEW_WITHIN = timedelta(days=1)
SOON_DAYS = 90


def validate(job_pk: int) -> str:
    """Judge every item of a validating job without deleting anything; then it is ready.

    Returns what happened ("ready", "problem: …", or the status it was found in).
    """
    job = DeletionJob.objects.filter(pk=job_pk).first()
    if job is None or job.status != Status.VALIDATING:
        return job.status if job else "no such job"
    upstream = get_upstream(job.upstream)
    try:
        fetched = call_within_budget(read_list, upstream=upstream, budget=Budget(VALIDATE_SECONDS))
    except (modelsclient.APIError, ValueError) as exc:
        problem = describe_error(exc)
        words = f"The check could not read the API's list: {problem.title}. {problem.detail}"
        DeletionJob.objects.filter(pk=job.pk).update(validation_problem=words[:2000])
        return f"problem: {words}"
    listed = list(fetched.models)
    present = {
        str(item["id"]): item
        for item in listed
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    }
    # The catalogue learns from the same answer (unless a refresh is running right now).
    refresh(job.upstream, lambda: Fetched(listed, fetched.request_id), force=True)
    now = timezone.now()
    items = list(JobItem.objects.filter(job=job).order_by("position"))
    for start in range(0, len(items), CHUNK):
        _judge(job, items[start : start + CHUNK], present, now)
    with transaction.atomic():
        moved = DeletionJob.objects.filter(pk=job.pk, status=Status.VALIDATING).update(
            status=Status.READY, validated_at=now, validation_problem=""
        )
        if not moved:  # cancelled meanwhile: give the locks back
            JobItem.objects.filter(job=job).update(holds_lock=False)
            return "cancelled meanwhile"
    return "ready"


def _judge(
    job: DeletionJob,
    items: list[JobItem],
    present: Mapping[str, dict[str, Any]],
    now: Any,
) -> None:
    ids = [item.model_id for item in items]
    known = {
        row.model_id: row
        for row in CatalogueModel.objects.filter(upstream=job.upstream, model_id__in=ids)
    }
    used = _recent_requests(job.upstream, known.values(), now)
    held = dict(
        JobItem.objects.filter(upstream=job.upstream, model_id__in=ids, holds_lock=True)
        .exclude(job=job)
        .values_list("model_id", "job_id")
    )
    candidates: list[JobItem] = []
    for item in items:
        item.verdict, item.refusal, item.refusal_text = Verdict.REFUSED, "", ""
        data = present.get(item.model_id)
        if not is_valid_model_id(item.model_id):
            item.refusal, item.refusal_text = "invalid", "Not a model id the API could have."
        elif data is None:
            item.refusal = "gone"
            item.refusal_text = "Already gone: the API's list does not have it now."
        elif str(data.get("owned_by", "")) in BASE_OWNERS:
            item.refusal = "base"
            item.refusal_text = (
                f"A base model owned by {data.get('owned_by')}; base models cannot be deleted."
            )
        elif item.model_id in held:
            item.refusal = "locked"
            item.refusal_text = f"Already in open job #{held[item.model_id]}."
        else:
            item.verdict = Verdict.READY
            item.notes = _notes(known.get(item.model_id), now)
            item.notes += _usage_note(known.get(item.model_id), used, now)
            candidates.append(item)
    _lock(job, candidates)
    JobItem.objects.bulk_update(
        items, ["verdict", "refusal", "refusal_text", "notes", "holds_lock"], batch_size=CHUNK
    )


def _lock(job: DeletionJob, candidates: list[JobItem]) -> None:
    """Take the lock of every candidate's model; a model another job took meanwhile is refused."""
    pks = [item.pk for item in candidates]
    try:
        with transaction.atomic():
            JobItem.objects.filter(pk__in=pks).update(holds_lock=True)
        for item in candidates:
            item.holds_lock = True
        return
    except IntegrityError:
        pass  # another job locked one of them since we looked: one by one
    for item in candidates:
        try:
            with transaction.atomic():
                JobItem.objects.filter(pk=item.pk).update(holds_lock=True)
            item.holds_lock = True
        except IntegrityError:
            other = (
                JobItem.objects.filter(
                    upstream=job.upstream, model_id=item.model_id, holds_lock=True
                )
                .values_list("job_id", flat=True)
                .first()
            )
            item.verdict, item.refusal = Verdict.REFUSED, "locked"
            item.refusal_text = f"Already in open job #{other}."


def _recent_requests(upstream: str, rows: Any, now: Any) -> dict[str, int]:
    """Requests in the last USED_WITHIN days of the models used in them (usage, one query)."""
    since = now.date() - timedelta(days=USED_WITHIN - 1)
    recent = [row.model_id for row in rows if row.last_used and row.last_used >= since]
    return requests_since(upstream, recent, since) if recent else {}


def _usage_note(row: CatalogueModel | None, used: Mapping[str, int], now: Any) -> list[str]:
    """ "Used N days ago (R requests in the last 30 days)" for a model used lately."""
    if row is None or row.model_id not in used or row.last_used is None:
        return []
    ago = (now.date() - row.last_used).days
    when = "today" if ago == 0 else "yesterday" if ago == 1 else f"{ago} days ago"
    requests = used[row.model_id]
    return [
        f"Used {when} ({requests:,} request{'' if requests == 1 else 's'} "
        f"in the last {USED_WITHIN} days)."
    ]


def _notes(row: CatalogueModel | None, now: datetime) -> list[str]:
    """What the owner should see before deleting a ready item (it is not refused for these):
    new since yesterday, and the day it stops working (its own shutdown date, or its base
    model's: the catalogue's `stops_on`) when that has passed or comes within 90 days."""
    if row is None:
        return ["Not in the dashboard's copy yet: the API listed it during the check."]
    notes: list[str] = []
    if now - row.first_seen < NEW_WITHIN:
        notes.append("New since yesterday.")
    stops, because = row.stops_on, row.stops_because
    if stops is None:
        return notes
    days = (stops - now.date()).days
    whose = "" if because in ("", row.model_id) else f", with its base model {because}"
    if days <= 0:
        notes.append(f"Stopped working on {stops:%Y-%m-%d}{whose}.")
    elif days <= SOON_DAYS:
        notes.append(f"Stops working on {stops:%Y-%m-%d} (in {days} days){whose}.")
    return notes


# --- Running -------------------------------------------------------------------------------


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_reset(value: str | None) -> float | None:
    """`x-ratelimit-reset-requests` in seconds: OpenAI sends durations such as "1s", "6m0s",
    "20ms", "1h2m3.5s"; a bare number is seconds. None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parts = _DURATION.findall(value)
    if not parts or "".join(n + u for n, u in parts) != value:
        return None
    return sum(float(n) * _UNIT[u] for n, u in parts)


class Pacer:
    """When the job's threads may call the API next: every thread waits for the same pause.

    `learn` reads one answer's headers: a 429's `retry-after` (or, without one, a doubling
    wait), or `x-ratelimit-remaining-requests` at 0 with `x-ratelimit-reset-requests`.
    """

    def __init__(self, job_pk: int, stop: threading.Event, keep: Callable[[], bool]) -> None:
        self.job_pk = job_pk
        self.stop = stop
        self.keep = keep  # renews the runner's lease while every thread waits
        self.lock = threading.Lock()
        self.not_before = 0.0
        self.backoff = 0.5

    def wait(self) -> None:
        """Sleep until the pause ends (or the job stops)."""
        while not self.stop.is_set():
            with self.lock:
                left = self.not_before - time.monotonic()
            if left <= 0 or not self.keep():
                return
            self.stop.wait(min(left, 1.0))

    def learn(self, status: int | None, headers: Mapping[str, str] | None) -> float:
        """Pause after this answer if it asks for one; returns the pause in seconds (0: none)."""
        headers = headers or {}
        pause, reason = 0.0, ""
        if status == 429:
            asked = modelsclient.retry_after(_as_headers(headers))
            pause = asked if asked is not None else self.backoff
            self.backoff = min(self.backoff * 2, 60.0) if asked is None else self.backoff
            reason = "The API is rate limiting (429)"
        else:
            remaining = headers.get("x-ratelimit-remaining-requests")
            if remaining is not None and remaining.strip() in ("0", "0.0"):
                pause = parse_reset(headers.get("x-ratelimit-reset-requests")) or 1.0
                reason = "The API's request limit is used up until it resets"
        if pause <= 0:
            return 0.0
        pause = min(pause, MAX_PAUSE_SECONDS)
        with self.lock:
            self.not_before = max(self.not_before, time.monotonic() + pause)
        with dbwrites.write():
            DeletionJob.objects.filter(pk=self.job_pk).update(
                paused_until=timezone.now() + timedelta(seconds=pause), pause_reason=reason
            )
        return pause


def _as_headers(headers: Mapping[str, str]) -> httpx.Headers:
    return headers if isinstance(headers, httpx.Headers) else httpx.Headers(dict(headers))


class Runner:
    """Holds one running job: a lease its threads renew between deletes, `concurrency` threads
    deleting. See the module's docstring for the design."""

    def __init__(self, job_pk: int) -> None:
        self.job_pk = job_pk
        self.token = uuid.uuid4().hex
        self.stop = threading.Event()
        self.pacer = Pacer(job_pk, self.stop, keep=self.keep)
        self.lease = timedelta(seconds=settings.CLEANUP_LEASE_SECONDS)
        self.renewing = threading.Lock()  # one renewal at a time: `lease_until` is the row's
        self.renewed_at = time.monotonic()
        self.lease_until: datetime | None = None  # as this runner last wrote it
        self.queue: list[tuple[int, str, int]] | None = None  # items to claim, next last
        self.snapshots: dict[str, dict[str, Any] | None] = {}
        self.reading = threading.Lock()

    # The lease --------------------------------------------------------------------------

    def take(self) -> bool:
        now = timezone.now()
        taken = (
            DeletionJob.objects.filter(pk=self.job_pk, status=Status.RUNNING)
            .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
            .update(runner=self.token, lease_until=now + self.lease)
        )
        with self.renewing:
            self.lease_until = now + self.lease if taken else None
        return bool(taken)

    def renew(self) -> bool:
        with self.renewing:
            return self._renew()

    def _renew(self) -> bool:
        until = timezone.now() + self.lease
        with dbwrites.write():
            renewed = DeletionJob.objects.filter(
                pk=self.job_pk, status=Status.RUNNING, runner=self.token
            ).update(lease_until=until)
        self.lease_until = until if renewed else None
        self.renewed_at = time.monotonic()
        return bool(renewed)

    def keep(self) -> bool:
        """Renew the lease when a sixth of it has passed (every thread calls this between
        deletes and while paused); False, and every thread stops, once it is lost."""
        with self.renewing:
            due = time.monotonic() - self.renewed_at >= self.lease.total_seconds() / 6
            if due and not self._renew():  # cancelled, finished or taken over
                self.stop.set()
        return not self.stop.is_set()

    def holds(self, seconds: float) -> bool:
        """Whether the job is this runner's for `seconds` more at least. Only this runner
        moves its lease while it holds it, and no one takes it before it lapses, so the
        lease this runner last wrote is the row's: no read is needed."""
        with self.renewing:
            until = self.lease_until
        return until is not None and until > timezone.now() + timedelta(seconds=seconds)

    # The work ---------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        if not self.take():
            job = DeletionJob.objects.filter(pk=self.job_pk).first()
            if job and job.status == Status.RUNNING:
                _follow_up(job.pk, job.lease_until)  # its runner may yet die: watch it
                return {"job": self.job_pk, "outcome": "held by another runner"}
            return {"job": self.job_pk, "outcome": job.status if job else "no such job"}
        job = DeletionJob.objects.get(pk=self.job_pk)
        upstream = get_upstream(job.upstream)
        # A claim needs the lease to outlast one delete (the upstream's page budget and a
        # second), also after a sixth of it has passed unrenewed: a shorter lease setting is
        # lengthened here, or a live runner's delete could outlive its lease, be taken over
        # as "in flight", found still there, and sent again.
        self.lease = max(self.lease, timedelta(seconds=1.5 * (upstream.page_budget + 1)))
        self.renew()
        _follow_up(job.pk, self.lease_until or job.lease_until)
        actor = job.confirmed_by
        self.renewed_at = time.monotonic()
        if actor is None or not roles.can_delete(actor, job.upstream):
            self._skip_all(job, "Skipped: the owner who confirmed may no longer delete.")
            return self._finish(job)
        self._recover(job, upstream)
        if job.concurrency <= 1:  # in this thread (and its database connection)
            self._work(job, upstream, actor)
        else:
            workers = [
                threading.Thread(target=self._thread, args=(job, upstream, actor), daemon=True)
                for _ in range(job.concurrency)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        return self._finish(job)

    def _recover(self, job: DeletionJob, upstream: Upstream) -> None:
        """Items a dead runner left in flight: look each up before anything is retried."""
        stranded = list(JobItem.objects.filter(job=job, state=State.IN_FLIGHT))
        budget = Budget(CHECK_SECONDS)
        for item in stranded:
            found = _exists(upstream, item.model_id, budget)
            entries = AuditEntry.objects.filter(
                job_id=job.pk, model_id=item.model_id, outcome__in=AuditEntry.UNSETTLED
            )
            if found is False:
                for entry in entries:
                    entry.reconcile(
                        AuditEntry.Outcome.DELETED,
                        message="the worker stopped mid-delete; the model is gone upstream — "
                        "deleted.",
                    )
                last = (
                    AuditEntry.objects.filter(job_id=job.pk, model_id=item.model_id)
                    .order_by("-created_at", "-id")
                    .first()
                )
                if last is not None:
                    record_deletion(job.upstream, item.model_id, last)
                self._settle(
                    item,
                    Outcome.ALREADY_GONE,
                    "Already gone when checked again after the worker stopped mid-delete.",
                    entry=last,
                )
            elif found is True:
                for entry in entries:
                    entry.reconcile(
                        AuditEntry.Outcome.FAILED,
                        message="the worker stopped mid-delete; the model still exists upstream "
                        "— not deleted (it will be deleted by the job).",
                    )
                JobItem.objects.filter(pk=item.pk, state=State.IN_FLIGHT).update(
                    state=State.WAITING, runner=""
                )
            # No answer: it stays in flight, looked up again by the next runner.

    def _thread(self, job: DeletionJob, upstream: Upstream, actor: User) -> None:
        """One of the job's threads: its own database connection, closed when it ends."""
        close_old_connections()
        try:
            with dbwrites.taking_turns():
                self._work(job, upstream, actor)
        finally:
            connections.close_all()

    def _work(self, job: DeletionJob, upstream: Upstream, actor: User) -> None:
        try:
            while not self.stop.is_set():
                self.pacer.wait()
                if self.stop.is_set():
                    return
                claimed = self._claim(job, upstream)
                if claimed is None:
                    return
                self._delete(job, upstream, actor, *claimed)
        except Exception:
            log.exception("deletion job %s: a worker thread failed", job.pk)
            self.stop.set()

    def _claim(
        self, job: DeletionJob, upstream: Upstream
    ) -> tuple[JobItem, dict[str, Any] | None] | None:
        """The next waiting item, now in flight for this runner, and the catalogue's copy of
        its model (for the audit); None when none is left or the lease is lost.

        A conditional UPDATE claims the item only while it still waits (a cancel skips what
        waits), and only while the lease outlasts one delete (the page budget and a second).
        """
        while self.keep():
            if not self.holds(upstream.page_budget + 1) and not self.renew():
                self.stop.set()  # cancelled, finished or taken over
                return None
            row = self._next(job)
            if row is None:
                return None
            pk, model_id, attempts = row
            claimed_at = timezone.now()
            with dbwrites.write():
                claimed = JobItem.objects.filter(pk=pk, state=State.WAITING).update(
                    state=State.IN_FLIGHT,
                    runner=self.token,
                    claimed_at=claimed_at,
                    attempts=F("attempts") + 1,
                )
            if claimed:  # the row as it is now, without reading it again
                item = JobItem(
                    pk=pk,
                    job=job,
                    upstream=job.upstream,
                    model_id=model_id,
                    verdict=Verdict.READY,
                    holds_lock=True,
                    state=State.IN_FLIGHT,
                    runner=self.token,
                    claimed_at=claimed_at,
                    attempts=attempts + 1,
                )
                return item, self._snapshot(job, model_id)
            # Not waiting any more: the job may have been cancelled (then every waiting item
            # was skipped at once): stop at the first refusal instead of trying the rest.
            if not self.renew():
                self.stop.set()
                return None
        return None

    def _next(self, job: DeletionJob) -> tuple[int, str, int] | None:
        """The next item to try to claim, as (pk, model id, attempts): the waiting items are
        read once, in order, and handed out one to each thread (an item put back after a 429
        goes first again); then the first waiting one in the database, if any. Only the
        claim's conditional UPDATE decides; this only suggests."""
        waiting = JobItem.objects.filter(
            job=job, state=State.WAITING, verdict=Verdict.READY, dropped=False
        ).order_by("position")
        with self.reading:
            if self.queue is None:
                self.queue = list(waiting.values_list("pk", "model_id", "attempts"))[::-1]
            if self.queue:
                return self.queue.pop()
        row: tuple[int, str, int] | None = waiting.values_list("pk", "model_id", "attempts").first()
        return row

    def _snapshot(self, job: DeletionJob, model_id: str) -> dict[str, Any] | None:
        """The catalogue's copy of a model, read with those of the next items to claim (one
        query per SNAPSHOTS items instead of one per item)."""
        with self.reading:
            if model_id not in self.snapshots:
                coming = [row[1] for row in (self.queue or [])[-SNAPSHOTS:]]
                ids = [model_id, *coming]
                found = dict(
                    CatalogueModel.objects.filter(
                        upstream=job.upstream, model_id__in=ids
                    ).values_list("model_id", "data")
                )
                self.snapshots.update({n: found.get(n) for n in ids})
            return self.snapshots.pop(model_id)

    def _delete(
        self,
        job: DeletionJob,
        upstream: Upstream,
        actor: User,
        item: JobItem,
        snapshot: dict[str, Any] | None,
    ) -> None:
        deletion = delete_model(
            actor,
            upstream,
            item.model_id,
            snapshot=snapshot,
            budget=Budget.for_upstream(upstream),
            job_id=job.pk,
        )
        entry = deletion.entry
        self.pacer.learn(entry.upstream_status, deletion.headers)
        limited = entry.upstream_status == 429 and entry.outcome == AuditEntry.Outcome.REFUSED
        if limited and item.attempts < MAX_ATTEMPTS:  # not deleted (the audit says so): again
            with dbwrites.write():
                JobItem.objects.filter(pk=item.pk, runner=self.token).update(
                    state=State.WAITING, runner="", audit_entry=entry
                )
            with self.reading:  # the next to try, before the later ones
                self.queue = [*(self.queue or []), (item.pk, item.model_id, item.attempts)]
            return
        self._settle(item, _outcome_of(entry), entry.message, entry=entry)

    def _settle(
        self, item: JobItem, outcome: str, message: str, *, entry: AuditEntry | None
    ) -> None:
        with dbwrites.write():
            JobItem.objects.filter(pk=item.pk).update(
                state=State.FINISHED,
                outcome=outcome,
                message=message[:2000],
                upstream_status=entry.upstream_status if entry else None,
                upstream_request_id=entry.upstream_request_id if entry else "",
                audit_entry=entry,
                holds_lock=False,
                finished_at=timezone.now(),
            )

    def _skip_all(self, job: DeletionJob, message: str) -> None:
        JobItem.objects.filter(job=job, state=State.WAITING, verdict=Verdict.READY).update(
            state=State.FINISHED,
            outcome=Outcome.SKIPPED,
            message=message,
            holds_lock=False,
            finished_at=timezone.now(),
        )

    def _finish(self, job: DeletionJob) -> dict[str, Any]:
        unfinished = [State.WAITING, State.IN_FLIGHT]
        left = JobItem.objects.filter(
            job=job, verdict=Verdict.READY, dropped=False, state__in=unfinished
        ).count()
        done = 0
        if not left:
            with transaction.atomic():
                done = DeletionJob.objects.filter(
                    pk=job.pk, status=Status.RUNNING, runner=self.token
                ).update(
                    status=Status.DONE,
                    finished_at=timezone.now(),
                    runner="",
                    lease_until=None,
                    paused_until=None,
                    pause_reason="",
                )
                if done:
                    JobItem.objects.filter(job=job).update(holds_lock=False)
        elif not self.stop.is_set():
            # Items stayed in flight (the API did not answer their check): try again soon.
            DeletionJob.objects.filter(pk=job.pk, runner=self.token).update(lease_until=None)
            _enqueue("run", job.pk, delay=5.0)
        outcome = "done" if done else "left"
        return {"job": job.pk, "outcome": outcome, "left": left, **progress(job).outcomes}


def _outcome_of(entry: AuditEntry) -> str:
    """The ledger's outcome for what the shared delete routine recorded."""
    outcome = entry.outcome
    if outcome == AuditEntry.Outcome.DELETED:
        return Outcome.DELETED
    if outcome == AuditEntry.Outcome.ALREADY_GONE:
        return Outcome.ALREADY_GONE
    if outcome in (AuditEntry.Outcome.REFUSED, AuditEntry.Outcome.DENIED):
        return Outcome.REFUSED
    if outcome in AuditEntry.UNSETTLED:
        return Outcome.UNKNOWN
    return Outcome.FAILED


def _exists(upstream: Upstream, model_id: str, budget: Budget) -> bool | None:
    """True: the model exists; False: 404; None: the API did not say (or no time was left)."""
    if budget.left() < MIN_ATTEMPT_SECONDS:
        return None
    try:
        call_within_budget(
            lambda c: c.models.with_raw_response.retrieve(model_id),
            upstream=upstream,
            budget=budget.part(max(MIN_ATTEMPT_SECONDS, min(budget.left(), upstream.page_budget))),
        )
    except modelsclient.NotFoundError:
        return False
    except (modelsclient.APIError, ValueError):
        return None
    return True


def entry_settled(entry: AuditEntry) -> None:
    """A later check settled a job's unknown delete: the ledger says what it found."""
    if entry.job_id is None:
        return
    outcome = Outcome.DELETED if entry.outcome == AuditEntry.Outcome.DELETED else Outcome.FAILED
    JobItem.objects.filter(audit_entry=entry, outcome=Outcome.UNKNOWN).update(
        outcome=outcome, message=entry.message[:2000]
    )


# --- Queueing ------------------------------------------------------------------------------


def _follow_up(job_pk: int, lease_until: Any) -> None:
    """Queue the runner's successor for just after the lease would lapse (unless one waits)."""
    from .tasks import run_job

    if not run_job.get_backend().supports_defer or is_pending(run_job, job_pk):
        return  # a backend that cannot defer runs tasks at once: nothing to watch
    now = timezone.now()
    at = (lease_until or now) + timedelta(seconds=1)
    run_job.using(run_after=max(at, now + timedelta(seconds=1))).enqueue(job_pk)


def _enqueue(what: str, job_pk: int, *, delay: float = 0.0) -> None:
    from .tasks import run_job, validate_job

    queued = validate_job if what == "validate" else run_job
    if delay and queued.get_backend().supports_defer:
        queued.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(job_pk)
    else:
        queued.enqueue(job_pk)
