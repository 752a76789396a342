"""Drift: the `Change` rows one sync writes, why models disappeared, and failures in words."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from typing import Any, NamedTuple

import modelsclient
from dashboard.models import AuditEntry
from dashboard.upstreams import describe_error, scrub

from .items import Item
from .models import Change, SyncRun

TRACKED_FIELDS = ("shutdown_date", "owned_by", "created")  # each its own Change; others: "other"
_MISSING = object()


class Gone(NamedTuple):
    """A model that vanished from the list, and (once known) why."""

    model_id: str
    first_seen: datetime.datetime
    cause: str = Change.Cause.DELETED_ELSEWHERE
    audit_entry_id: int | None = None


def changes_for(
    *,
    run: SyncRun,
    now: datetime.datetime,
    appeared: Iterable[str],
    came_back: Iterable[str],
    rewritten: Iterable[tuple[dict[str, Any], Item]],
    gone: Iterable[Gone],
) -> list[Change]:
    """The unsaved `Change` rows for one sync's differences."""
    base = {"upstream": run.upstream, "sync": run, "at": now}
    changes = [Change(model_id=m, kind=Change.Kind.APPEARED, **base) for m in appeared]
    changes += [Change(model_id=m, kind=Change.Kind.REAPPEARED, **base) for m in came_back]
    for old, item in rewritten:
        changes += [
            Change(model_id=item.model_id, kind=Change.Kind.CHANGED, field=f, old=o, new=n, **base)
            for f, o, n in field_changes(old, item.data)
        ]
    changes += [
        Change(
            model_id=g.model_id,
            kind=Change.Kind.DISAPPEARED,
            cause=g.cause,
            audit_entry_id=g.audit_entry_id,
            **base,
        )
        for g in gone
    ]
    return changes


def field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, old, new) per tracked field that differs, then one "other" for the rest.

    A tracked field's old/new is its value (None when absent); "other" holds dicts of just the
    differing keys on each side. Values are compared as JSON (so 1 and true differ).
    """
    differ = sorted(
        key for key in old.keys() | new.keys() if _encoded(old, key) != _encoded(new, key)
    )
    found = [(name, old.get(name), new.get(name)) for name in TRACKED_FIELDS if name in differ]
    rest = [key for key in differ if key not in TRACKED_FIELDS]
    if rest:
        found.append(
            (
                Change.Field.OTHER,
                {k: old[k] for k in rest if k in old},
                {k: new[k] for k in rest if k in new},
            )
        )
    return found


def _encoded(data: dict[str, Any], key: str) -> object:
    value = data.get(key, _MISSING)
    return value if value is _MISSING else json.dumps(value, sort_keys=True)


def with_causes(upstream: str, gone: list[Gone]) -> list[Gone]:
    """Each vanished model linked to this dashboard's delete of it, if the audit log has one.

    The link is the latest entry for that model and upstream whose outcome was "deleted" or
    "already gone", made since the model was first seen; without one: "deleted elsewhere".
    """
    first_seen = {g.model_id: g.first_seen for g in gone}
    latest: dict[str, int] = {}
    ids = list(first_seen)
    for start in range(0, len(ids), 500):
        entries = (
            AuditEntry.objects.filter(
                model_id__in=ids[start : start + 500],
                upstream_alias=upstream,
                outcome__in=[AuditEntry.Outcome.DELETED, AuditEntry.Outcome.ALREADY_GONE],
            )
            .order_by("created_at", "id")
            .values_list("model_id", "pk", "created_at")
        )
        for model_id, pk, created_at in entries:
            if created_at >= first_seen[model_id]:
                latest[model_id] = pk
    return [
        g._replace(cause=Change.Cause.DELETED_HERE, audit_entry_id=latest[g.model_id])
        if g.model_id in latest
        else g
        for g in gone
    ]


def describe(exc: BaseException) -> tuple[str, str | None]:
    """A failed refresh in words (API key scrubbed) and the upstream request id if any."""
    if isinstance(exc, modelsclient.APIError):
        problem = describe_error(exc)
        return scrub(f"{problem.title}. {problem.detail}")[:2000], problem.request_id
    return scrub(f"{type(exc).__name__}: {exc}")[:2000], None


def prune(before: datetime.datetime) -> tuple[int, int]:
    """Delete change records made before `before`, then sync runs started before it.

    Returns (changes deleted, sync runs deleted).
    """
    changes, _ = Change.objects.filter(at__lt=before).delete()
    runs, _ = SyncRun.objects.filter(started_at__lt=before).delete()
    return changes, runs
