"""Background work on `django.tasks` (django-tasks-db's queue, run by `manage.py db_worker`).

- `refresh_catalogue(upstream)`: fetch the upstream's list and sync it (`sync.refresh`).
- `prune_changes()`: delete drift records and sync runs past the retention period; it
  reschedules itself (`schedule_pruning`), and every refresh makes sure one is scheduled.
- `request_refresh(upstream)`: what a page calls; enqueues at most one pending refresh.
"""

from __future__ import annotations

import datetime
from typing import Any, Literal

from django.db import transaction
from django.tasks import Task, TaskResultStatus, task
from django.tasks.backends.dummy import DummyBackend
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

import modelsclient
from dashboard.upstreams import get_client, get_upstream

from . import conf, drift
from .models import SyncRun, UpstreamState
from .sync import Fetch, Fetched, ensure_state, refresh

RefreshRequest = Literal["queued", "already queued", "busy", "backing off"]


@task()
def refresh_catalogue(upstream: str = conf.DEFAULT_UPSTREAM) -> dict[str, Any]:
    """Refresh one upstream's catalogue now; returns what happened (JSON for the task result)."""
    outcome = refresh(upstream, fetch_for(upstream))
    schedule_pruning()
    if not isinstance(outcome, str) and outcome.status == SyncRun.Status.SUCCEEDED:
        from .freshness import adopt_identity

        adopt_identity(get_upstream(upstream))
    if isinstance(outcome, str):
        return {"upstream": upstream, "outcome": outcome}
    return {
        "upstream": upstream,
        "outcome": outcome.status,
        "sync_run": outcome.pk,
        "seen": outcome.seen,
        "rows_written": outcome.rows_written,
        "error": outcome.error,
    }


@task()
def prune_changes() -> dict[str, int]:
    """Delete change records and sync runs older than CATALOGUE_CHANGE_RETENTION_DAYS."""
    changes, runs = drift.prune(timezone.now() - conf.retention())
    schedule_pruning()
    return {"changes": changes, "sync_runs": runs}


def fetch_for(upstream: str) -> Fetch:
    """The list call for an upstream alias: its items as sent (odd ones included), request id.

    An alias that is not configured raises LookupError.
    """
    try:
        config = get_upstream(upstream)
    except KeyError:
        raise LookupError(f"No upstream is configured with the alias {upstream!r}.") from None

    return lambda: read_list(get_client(config))


def read_list(client: modelsclient.Client) -> Fetched:
    """One list call on `client`: its items as sent (odd ones included) and the request id.

    Pages pass a client bounded by their budget (`call_within_budget`); the task its own.
    """
    raw = client.models.with_raw_response.list()
    try:
        body = raw.json()
    except ValueError as exc:  # not JSON (a proxy's HTML page): said as an unreadable answer
        raise modelsclient.APIResponseValidationError(
            raw.http_response, None, message="The list response is not JSON."
        ) from exc
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise modelsclient.APIResponseValidationError(
            raw.http_response, body, message="The list response has no `data` array."
        )
    if body.get("has_more"):  # more pages: let the client walk them
        data = [model.to_dict() for model in raw.parse()]
    return Fetched(data, raw.request_id)


def request_refresh(upstream: str = conf.DEFAULT_UPSTREAM) -> RefreshRequest:
    """Ask for a background refresh of the upstream's catalogue, without waiting for it.

    Enqueues nothing when a refresh is running ("busy"), failed recently ("backing off") or is
    already queued and not started ("already queued"). Those answers need only reads; a
    refresh is queued under a lock on the upstream's state row, with the checks made again,
    so concurrent requests queue one refresh.
    """
    now = timezone.now()
    refused = _refusal(ensure_state(upstream), now)  # read-only: the common answer on a page
    if refused:
        return refused
    with transaction.atomic():
        UpstreamState.objects.filter(upstream=upstream).update(refresh_requested_at=now)
        refused = _refusal(UpstreamState.objects.get(upstream=upstream), now)
        if refused:
            return refused
        refresh_catalogue.enqueue(upstream)
    return "queued"


def _refusal(state: UpstreamState, now: datetime.datetime) -> RefreshRequest | None:
    if state.refresh_lease_until and state.refresh_lease_until > now:
        return "busy"
    if state.next_attempt_at and state.next_attempt_at > now:
        return "backing off"
    if is_pending(refresh_catalogue, state.upstream):
        return "already queued"
    return None


def schedule_pruning() -> bool:
    """Make sure a pruning run is queued (deferred by CATALOGUE_PRUNE_INTERVAL_SECONDS) on a
    backend that can defer and be asked what is pending; True if one was enqueued."""
    if not isinstance(prune_changes.get_backend(), DatabaseBackend) or is_pending(prune_changes):
        return False
    prune_changes.using(run_after=timezone.now() + conf.prune_interval()).enqueue()
    return True


def is_pending(queued: Task[Any, Any], *args: object) -> bool:
    """Whether `queued` with these arguments waits in its backend's queue, not yet started."""
    backend = queued.get_backend()
    if isinstance(backend, DatabaseBackend):
        waiting = DBTaskResult.objects.filter(
            status=TaskResultStatus.READY,
            task_path=queued.module_path,
            backend_name=backend.alias,
        )
        for position, value in enumerate(args):
            waiting = waiting.filter(**{f"args_kwargs__args__{position}": value})
        return waiting.exists()
    if isinstance(backend, DummyBackend):
        return any(
            result.status == TaskResultStatus.READY
            and result.task.module_path == queued.module_path
            and list(result.args) == list(args)
            for result in backend.results
        )
    return False
