"""How old a page's copy of the list is, and getting a newer one without making the page wait.

```python
status = copy_status(upstream, ask=False)  # stale: a background refresh is requested
if status.updated_at is None:
    problem = first_load(upstream)  # the one wait: bounded by the page's budget
```

A page with a copy answers at once; when the copy is older than the upstream's
`refresh_seconds` (or the user asks), `tasks.request_refresh` queues one background refresh
(at most one per upstream across processes, none while backing off after a failure). Only the
first-ever load fetches while the page waits, within `Budget.for_upstream(upstream)`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

import modelsclient
from dashboard.upstreams import (
    Budget,
    Upstream,
    UpstreamProblem,
    call_within_budget,
    describe_error,
)

from .models import CatalogueModel, SyncRun, UpstreamState
from .sync import Fetched, refresh
from .tasks import read_list, request_refresh

NEW_FOR = datetime.timedelta(days=1)  # a model first seen this recently is marked "new"


@dataclass(frozen=True)
class CopyStatus:
    """What the page says about its copy: its age, a refresh under way, the last failure."""

    updated_at: datetime.datetime | None  # the last successful sync; None: no copy yet
    stale: bool  # older than the upstream's refresh interval
    refreshing: bool  # a refresh is queued or running
    failure: str  # the last refresh's error in words, "" after a success
    retry_at: datetime.datetime | None  # when a refresh may run again after the failure


def copy_status(upstream: Upstream, *, ask: bool = False) -> CopyStatus:
    """The copy's state; a stale copy (or `ask`) requests a background refresh (never waits)."""
    state = UpstreamState.objects.filter(upstream=upstream.alias).first()
    if state is not None and state.identity and state.identity != upstream.cache_key:
        forget_copy(upstream.alias)  # the alias now names another API: that copy is not its
        state = None
    updated_at = state.last_success_at if state else None
    now = timezone.now()
    stale = updated_at is None or (now - updated_at).total_seconds() > upstream.refresh_seconds
    refreshing = False
    if updated_at is not None and (stale or ask):
        refreshing = request_refresh(upstream.alias) in ("queued", "already queued", "busy")
        state = UpstreamState.objects.get(upstream=upstream.alias)
    elif state and state.refresh_lease_until and state.refresh_lease_until > now:
        refreshing = True
    failed = bool(state and state.consecutive_failures)
    return CopyStatus(
        updated_at=updated_at,
        stale=stale,
        refreshing=refreshing,
        failure=state.last_error if state and failed else "",
        retry_at=state.next_attempt_at if state and failed else None,
    )


def first_load(upstream: Upstream) -> UpstreamProblem | None:
    """Fetch and store the list of an upstream that has no copy yet, within a page's budget.

    None when the copy is there; otherwise the problem in words (for a hung API: how long it
    waited in all, attempts and backoff included). The backoff is ignored (the user waits for
    this answer), the lease is not: another process fetching it already is "busy".
    """
    budget = Budget.for_upstream(upstream)
    errors: list[Exception] = []

    def fetch() -> Fetched:
        try:
            return call_within_budget(read_list, upstream=upstream, budget=budget)
        except Exception as exc:
            errors.append(exc)
            raise

    outcome = refresh(upstream.alias, fetch, force=True)
    if isinstance(outcome, str):
        return UpstreamProblem(
            503,
            "The list is being fetched",
            "Another request is fetching this upstream's list for the first time. "
            "Reload in a few seconds.",
        )
    if outcome.status == SyncRun.Status.SUCCEEDED:
        adopt_identity(upstream)
        return None
    if errors and isinstance(errors[-1], modelsclient.APIError | ValueError):
        return describe_error(errors[-1])
    return UpstreamProblem(502, "The list could not be stored", outcome.error)


def adopt_identity(upstream: Upstream) -> None:
    """Record which API the alias's copy now mirrors (after a successful sync)."""
    UpstreamState.objects.filter(upstream=upstream.alias).exclude(
        identity=upstream.cache_key
    ).update(identity=upstream.cache_key)


def forget_copy(alias: str) -> None:
    """Drop an alias's copy and refresh state (its rows mirror an API it no longer names)."""
    CatalogueModel.objects.filter(upstream=alias).delete()
    UpstreamState.objects.filter(upstream=alias).delete()


def new_ids(upstream: str, models: list[CatalogueModel]) -> set[str]:
    """Which of `models` appeared within the last day, after the upstream's first sync."""
    recent = timezone.now() - NEW_FOR
    candidates = [m for m in models if m.first_seen >= recent]
    if not candidates:
        return set()  # the usual case: no query
    first = (
        SyncRun.objects.filter(upstream=upstream, status=SyncRun.Status.SUCCEEDED)
        .order_by("started_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return {m.model_id for m in candidates if first is not None and m.first_seen > first}
