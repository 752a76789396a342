"""Background work of the dashboard itself (django.tasks, run by `manage.py db_worker`)."""

from __future__ import annotations

from typing import Any

from django.tasks import task
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend

from .catalogue.tasks import is_pending
from .deletion import reconcile, reconcile_grace
from .models import AuditEntry
from .upstreams import Budget

RECONCILE_SECONDS = 60.0  # one run's total time for looking models up


@task()
def reconcile_deletions() -> dict[str, Any]:
    """Settle pending and unknown delete entries (see `deletion.reconcile`); while some stay
    unsettled, run again after the grace period."""
    results = reconcile(grace=reconcile_grace(), budget=Budget(RECONCILE_SECONDS))
    settled = sum(1 for result in results if result.settled)
    left = AuditEntry.objects.filter(action="delete", outcome__in=AuditEntry.UNSETTLED).count()
    if left:
        schedule_reconcile()
    return {"settled": settled, "left": left}


def schedule_reconcile() -> bool:
    """Queue a reconcile run after the grace period, unless one is already waiting; True if one
    was queued. Called when a delete ends "unknown", so "the dashboard will check again" holds."""
    if not isinstance(reconcile_deletions.get_backend(), DatabaseBackend):
        return False
    if is_pending(reconcile_deletions):
        return False
    reconcile_deletions.using(run_after=timezone.now() + reconcile_grace()).enqueue()
    return True
