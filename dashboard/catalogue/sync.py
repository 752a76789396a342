"""Storing an upstream's model list: `sync_models` (one list in, drift out) and `refresh`.

`sync_models` runs in one transaction: it reads every known (model id, fingerprint, gone_at)
of the upstream in one query, inserts new rows, updates only rows whose data changed (or that
came back), marks vanished rows gone, and writes a `Change` for each difference. Unchanged rows
are not written at all, so a present row's last sighting is the upstream's
`UpstreamState.last_success_at`, which the same transaction sets.

`refresh` fetches and syncs under the upstream's lease (one refresh in flight across every
process) and backs off after failures.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from dashboard import dbwrites
from dashboard.models import AuditEntry

from . import bulk, conf, drift, stops
from .items import Item, normalise
from .models import CatalogueModel, Change, SyncRun, UpstreamState

BATCH = 500  # ids per `IN (…)` list

Skipped = Literal["busy", "backing off"]


@dataclass(frozen=True)
class Fetched:
    """What a fetch returns when it knows the upstream request id."""

    models: Iterable[object]
    request_id: str | None = None


Fetch = Callable[[], Iterable[object] | Fetched]


class _Known(NamedTuple):
    pk: int
    fingerprint: str
    gone_at: datetime.datetime | None


def sync_models(
    upstream: str,
    models: Iterable[object],
    *,
    now: datetime.datetime | None = None,
    request_id: str | None = None,
) -> SyncRun:
    """Store `models` (the upstream's whole list) as the catalogue of `upstream`.

    Items are dicts (or objects with `to_dict()`) as the API sends them; an item without a
    usable id is skipped and counted (`SyncRun.skipped`), never an error. `now` is when the
    list was fetched (default: now). Returns the succeeded `SyncRun` with its counts. Raises
    only on database errors, after recording the run as failed.
    """
    now = now or timezone.now()
    run = SyncRun.objects.create(
        upstream=upstream, started_at=now, request_id=(request_id or "")[:200]
    )
    _sync_into(run, models, now)
    return run


def refresh(upstream: str, fetch: Fetch, *, force: bool = False) -> SyncRun | Skipped:
    """Fetch the list with `fetch()` and sync it, unless another process is refreshing.

    Returns "busy" when another process holds the upstream's lease, "backing off" while
    `next_attempt_at` (set after a failure) is in the future (`force` ignores the backoff, not
    the lease); otherwise the `SyncRun` of the attempt, failed or succeeded. A failure is
    recorded (scrubbed message, request id, backoff), not raised.
    """
    claimed = claim_lease(upstream, force=force)
    if not isinstance(claimed, datetime.datetime):
        return claimed
    run = SyncRun.objects.create(upstream=upstream, started_at=timezone.now())
    try:
        fetched = fetch()
        if isinstance(fetched, Fetched):
            run.request_id = (fetched.request_id or "")[:200]
            fetched = fetched.models
        _sync_into(run, fetched, timezone.now())
    except Exception as exc:
        _record_failure(upstream, run, exc)
    else:
        UpstreamState.objects.filter(upstream=upstream).update(
            consecutive_failures=0, next_attempt_at=None, last_error=""
        )
    finally:
        release_lease(upstream, claimed)
    return run


def claim_lease(upstream: str, *, force: bool = False) -> datetime.datetime | Skipped:
    """Take the upstream's refresh lease: its expiry (the holder's token) or why not.

    One conditional UPDATE (lease free or expired, and not backing off) decides, so two
    processes never both get it, on SQLite and PostgreSQL alike.
    """
    ensure_state(upstream)
    now = timezone.now()
    until = now + conf.lease()
    free = Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lte=now)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimable = UpstreamState.objects.filter(free, upstream=upstream)
    if not force:
        claimable = claimable.filter(due)
    if claimable.update(refresh_lease_until=until, last_attempt_at=now):
        return until
    state = UpstreamState.objects.get(upstream=upstream)
    if state.refresh_lease_until and state.refresh_lease_until > now:
        return "busy"
    return "backing off" if not force else "busy"


def release_lease(upstream: str, token: datetime.datetime) -> None:
    """Give the lease back, unless it expired and another process has taken it since."""
    UpstreamState.objects.filter(upstream=upstream, refresh_lease_until=token).update(
        refresh_lease_until=None
    )


def ensure_state(upstream: str) -> UpstreamState:
    state, _ = UpstreamState.objects.get_or_create(upstream=upstream)
    return state


def record_deletion(
    upstream: str, model_id: str, entry: AuditEntry, *, now: datetime.datetime | None = None
) -> bool:
    """Mark a model deleted through this dashboard as gone, linked to its audit entry.

    For the delete flow to call after upstream confirmed (deleted or already gone), so the
    list and the Changes page know at once. Returns False if the model was not present.
    """
    now = now or timezone.now()
    # Read first, then write in a short transaction: on SQLite a transaction holds the one
    # write lock from its start, and a bulk job's threads (and every other writer) wait for it.
    last_success = (
        UpstreamState.objects.filter(upstream=upstream)
        .values_list("last_success_at", flat=True)
        .first()
    )
    row = (
        CatalogueModel.objects.filter(upstream=upstream, model_id=model_id, gone_at__isnull=True)
        .only("pk", "last_seen", "gone_at")
        .first()
    )
    if row is None:
        return False
    with dbwrites.write(), transaction.atomic():
        # Only if still present: a sync or another delete may have marked it gone meanwhile.
        marked = CatalogueModel.objects.filter(pk=row.pk, gone_at__isnull=True).update(
            last_seen=row.effective_last_seen(last_success), gone_at=now
        )
        if not marked:
            return False
        Change.objects.create(
            upstream=upstream,
            model_id=model_id,
            kind=Change.Kind.DISAPPEARED,
            at=now,
            cause=Change.Cause.DELETED_HERE,
            audit_entry=entry,
        )
    return True


# --- The sync itself -----------------------------------------------------------------------


def _sync_into(run: SyncRun, models: Iterable[object], now: datetime.datetime) -> None:
    try:
        items, skipped = _usable(models)
        ensure_state(run.upstream)
        with bulk.roomy_cache(), transaction.atomic():
            _write(run, items, now)
            run.skipped = skipped
            run.status = SyncRun.Status.SUCCEEDED
            run.finished_at = timezone.now()
            run.save()
    except Exception as exc:
        _fail(run, exc)
        raise


def _usable(models: Iterable[object]) -> tuple[dict[str, Item], int]:
    """Items by id (the first of duplicate ids wins) and how many were skipped."""
    items: dict[str, Item] = {}
    skipped = 0
    for raw in models:
        try:
            item = normalise(raw)
        except Exception:  # one odd item never breaks the sync
            item = None
        if item is None or item.model_id in items:
            skipped += 1
        else:
            items[item.model_id] = item
    return items, skipped


def _write(run: SyncRun, items: dict[str, Item], now: datetime.datetime) -> None:
    """The catalogue of `run.upstream` made to hold exactly `items`; counts set on `run`."""
    upstream = run.upstream
    previous_success = _lock_state(upstream, now)
    known = {
        model_id: _Known(pk, fingerprint, gone_at)
        for model_id, pk, fingerprint, gone_at in CatalogueModel.objects.filter(
            upstream=upstream
        ).values_list("model_id", "pk", "fingerprint", "gone_at")
    }
    new: list[Item] = []
    rewritten: dict[int, Item] = {}  # changed or back, by pk
    came_back: set[int] = set()
    for model_id, item in items.items():
        row = known.get(model_id)
        if row is None:
            new.append(item)
        elif row.gone_at is not None:
            rewritten[row.pk] = item
            came_back.add(row.pk)
        elif row.fingerprint != item.fingerprint:
            rewritten[row.pk] = item
    vanished = [row.pk for mid, row in known.items() if row.gone_at is None and mid not in items]

    old_data = _data_of(list(rewritten))
    bulk.insert(upstream, sorted(new, key=_by_id), now)  # in key order: cheaper index inserts
    bulk.update(rewritten, now)
    gone = _mark_gone(upstream, vanished, now, previous_success)

    changes = drift.changes_for(
        run=run,
        now=now,
        appeared=[] if previous_success is None else [i.model_id for i in new],
        came_back=[rewritten[pk].model_id for pk in came_back],
        rewritten=[(old_data.get(pk, {}), item) for pk, item in rewritten.items()],
        gone=gone,
    )
    Change.objects.bulk_create(changes, batch_size=BATCH)  # few: only what changed
    stops.update_stops(upstream)  # set-based: a base's new date reaches its fine-tunes
    UpstreamState.objects.filter(upstream=upstream).update(last_success_at=now)
    run.seen = len(items)
    run.appeared = len(new)
    run.reappeared = len(came_back)
    run.changed = len(rewritten) - len(came_back)
    run.disappeared = len(vanished)
    run.unchanged = len(items) - len(new) - len(rewritten)


def _by_id(item: Item) -> str:
    return item.model_id


def _lock_state(upstream: str, now: datetime.datetime) -> datetime.datetime | None:
    """Serialise syncs of one upstream (a write first: SQLite's lock, PostgreSQL's row lock);
    returns the previous successful sync's time."""
    UpstreamState.objects.filter(upstream=upstream).update(last_attempt_at=now)
    return UpstreamState.objects.get(upstream=upstream).last_success_at


def _data_of(pks: list[int]) -> dict[int, dict[str, Any]]:
    found: dict[int, dict[str, Any]] = {}
    for chunk in _chunks(pks):
        found.update(CatalogueModel.objects.filter(pk__in=chunk).values_list("pk", "data"))
    return found


def _mark_gone(
    upstream: str,
    pks: list[int],
    now: datetime.datetime,
    previous_success: datetime.datetime | None,
) -> list[drift.Gone]:
    """Set gone_at (and last_seen: the last sync that still listed them) in chunked UPDATEs."""
    gone: list[drift.Gone] = []
    for chunk in _chunks(pks):
        gone.extend(
            drift.Gone(*row)
            for row in CatalogueModel.objects.filter(pk__in=chunk).values_list(
                "model_id", "first_seen"
            )
        )
        CatalogueModel.objects.filter(pk__in=chunk).update(
            gone_at=now, last_seen=previous_success or F("last_seen")
        )
    return drift.with_causes(upstream, gone)


def _chunks[T](values: Sequence[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


# --- Failures -------------------------------------------------------------------------------


def _fail(run: SyncRun, exc: BaseException) -> None:
    run.status = SyncRun.Status.FAILED
    run.finished_at = timezone.now()
    run.error, request_id = drift.describe(exc)
    run.request_id = run.request_id or (request_id or "")[:200]
    run.seen = run.appeared = run.reappeared = run.changed = run.disappeared = 0
    run.unchanged = run.skipped = 0
    run.save()


def _record_failure(upstream: str, run: SyncRun, exc: Exception) -> None:
    if run.status != SyncRun.Status.FAILED:  # a fetch error: the sync did not record it
        _fail(run, exc)
    state = UpstreamState.objects.get(upstream=upstream)
    failures = state.consecutive_failures + 1
    UpstreamState.objects.filter(upstream=upstream).update(
        consecutive_failures=failures,
        next_attempt_at=timezone.now() + conf.backoff(failures),
        last_error=run.error,
    )
