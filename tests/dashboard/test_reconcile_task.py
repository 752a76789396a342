"""Unsettled deletes are checked again by the worker: "the dashboard will check again" holds."""

from __future__ import annotations

from datetime import timedelta

import httpx
import respx
from django.tasks import TaskResultStatus
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.deletion import reconcile_grace
from dashboard.models import AuditEntry
from dashboard.sandbox.models import SandboxModel
from dashboard.tasks import reconcile_deletions, schedule_reconcile
from dashboard.upstreams import get_upstream

Outcome = AuditEntry.Outcome


def _unsettled(model_id: str, outcome: str = Outcome.UNKNOWN) -> AuditEntry:
    entry = AuditEntry.objects.create(
        username="olivia",
        model_id=model_id,
        upstream=get_upstream("default").label,
        upstream_alias="default",
        outcome=outcome,
    )
    return entry


def _age(entry: AuditEntry, seconds: float) -> None:
    """Make an entry older (the test's only way around the append-only manager)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET created_at = %s WHERE id = %s",
            [timezone.now() - timedelta(seconds=seconds), entry.pk],
        )


def _queued() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, task_path=reconcile_deletions.module_path
        )
    )


def test_the_task_settles_an_unknown_delete_whose_model_is_gone(sandbox: int) -> None:
    entry = _unsettled("ft:gone-meanwhile:acme::1")
    _age(entry, reconcile_grace().total_seconds() + 5)

    result = reconcile_deletions.call()

    entry.refresh_from_db()
    assert entry.outcome == Outcome.DELETED
    assert entry.reconciled_at is not None
    assert result == {"settled": 1, "left": 0}
    assert _queued() == []  # nothing left to check: no further run


def test_the_task_settles_a_pending_delete_whose_model_still_exists(sandbox: int) -> None:
    model_id = SandboxModel.objects.filter(owned_by="acme").order_by("id")[0].id
    entry = _unsettled(model_id, Outcome.PENDING)
    _age(entry, reconcile_grace().total_seconds() + 5)

    reconcile_deletions.call()

    entry.refresh_from_db()
    assert entry.outcome == Outcome.FAILED
    assert "still exists" in entry.message


def test_an_entry_too_young_to_check_is_left_and_a_later_run_is_queued(sandbox: int) -> None:
    entry = _unsettled("ft:in-flight:acme::1")

    result = reconcile_deletions.call()

    entry.refresh_from_db()
    assert entry.outcome == Outcome.UNKNOWN
    assert result == {"settled": 0, "left": 1}
    queued = _queued()
    assert len(queued) == 1
    assert queued[0].run_after is not None
    assert queued[0].run_after > timezone.now() + reconcile_grace() - timedelta(seconds=30)


def test_scheduling_twice_queues_one_run(db: None) -> None:
    assert schedule_reconcile() is True
    assert schedule_reconcile() is False
    assert len(_queued()) == 1


def test_a_delete_that_ends_unknown_queues_a_check_for_later(
    owner: Client, real_api: respx.MockRouter
) -> None:
    model = {"id": "ft:x:acme::1", "object": "model", "created": 1, "owned_by": "acme"}
    real_api.get("/models/ft:x:acme::1").mock(
        side_effect=[httpx.Response(200, json=model), httpx.ReadTimeout("no answer")]
    )
    real_api.delete("/models/ft:x:acme::1").mock(side_effect=httpx.ReadTimeout("lost"))

    owner.post(
        reverse("model-delete", args=["default", "ft:x:acme::1"]),
        {"confirm_id": "ft:x:acme::1"},
    )

    assert AuditEntry.objects.get().outcome == Outcome.UNKNOWN
    assert len(_queued()) == 1
