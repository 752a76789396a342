"""Background reading of usage (`django.tasks`, run by `manage.py db_worker`).

- `read_usage_task(upstream)`: `reading.read_usage` for one upstream; then it makes sure the
  next run is scheduled USAGE_REFRESH_SECONDS later (`schedule_reading`).
- `request_usage_read(upstream)`: what a page calls (through `status`); queues at most one
  pending reading, and none without an admin key, while one runs, or while backing off.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from dashboard.catalogue.tasks import is_pending
from dashboard.upstreams import get_upstream

from .models import UsageState
from .reading import read_usage

UsageRequest = Literal["queued", "already queued", "busy", "backing off", "no admin key"]


def refresh_interval() -> datetime.timedelta:
    return datetime.timedelta(seconds=float(settings.USAGE_REFRESH_SECONDS))


@task()
def read_usage_task(upstream: str) -> dict[str, Any]:
    """Read an upstream's new usage days now; what happened (JSON for the task result)."""
    try:
        config = get_upstream(upstream)
    except KeyError:
        return {"upstream": upstream, "outcome": "no such upstream"}
    outcome = read_usage(config)
    if outcome != "no admin key":
        schedule_reading(upstream)
    if isinstance(outcome, str):
        return {"upstream": upstream, "outcome": outcome}
    return {
        "upstream": upstream,
        "outcome": "failed" if outcome.consecutive_failures else "succeeded",
        "complete_through": str(outcome.complete_through or ""),
        "error": outcome.last_error,
    }


def schedule_reading(upstream: str) -> bool:
    """Queue the next reading after USAGE_REFRESH_SECONDS on a backend that can defer (unless
    one is pending already); True if one was queued."""
    backend = read_usage_task.get_backend()
    if not isinstance(backend, DatabaseBackend) or is_pending(read_usage_task, upstream):
        return False
    read_usage_task.using(run_after=timezone.now() + refresh_interval()).enqueue(upstream)
    return True


def request_usage_read(upstream: str) -> UsageRequest:
    """Ask for a background reading of the upstream's usage, without waiting for it."""
    try:
        if not get_upstream(upstream).has_admin_key:
            return "no admin key"
    except KeyError:
        return "no admin key"
    now = timezone.now()
    with transaction.atomic():
        state, _ = UsageState.objects.select_for_update().get_or_create(upstream=upstream)
        if state.lease_until and state.lease_until > now:
            return "busy"
        if state.next_attempt_at and state.next_attempt_at > now:
            return "backing off"
        if _queued_now(upstream):
            return "already queued"
        read_usage_task.enqueue(upstream)
    return "queued"


def _queued_now(upstream: str) -> bool:
    """A reading waits that will run now (not a scheduled one for later)."""
    backend = read_usage_task.get_backend()
    if isinstance(backend, DatabaseBackend):
        return (
            DBTaskResult.objects.ready()  # READY, and due now (not scheduled for later)
            .filter(
                task_path=read_usage_task.module_path,
                backend_name=backend.alias,
                args_kwargs__args__0=upstream,
            )
            .exists()
        )
    return is_pending(read_usage_task, upstream)
