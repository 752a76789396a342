"""Reading the Usage API into the usage tables, a few days at a time.

`read_usage(upstream)` reads `GET /organization/usage/completions` (day buckets, grouped by
model and API key id, following `next_page`) for the days not read completely yet: the first
run reads USAGE_DAYS days up to today; later runs start after `complete_through`, the last day
that had ended USAGE_SETTLE_HOURS before the previous run (so today, still filling, is read
again every run). The days read replace what was stored for them, days older than the window
are dropped, and `CatalogueModel.last_used` of the upstream's models is set in one UPDATE.
One reading per upstream at a time (a lease), with the catalogue's backoff after failures.
Without an admin key nothing is called.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

import modelsclient
from dashboard.catalogue import conf as catalogue_conf
from dashboard.catalogue.models import CatalogueModel
from dashboard.upstreams import Upstream, describe_error, get_client, scrub

from .models import KeyDay, KeyName, ModelDay, UsageState

log = logging.getLogger(__name__)

Skipped = Literal["no admin key", "busy", "backing off"]
DAY = datetime.timedelta(days=1)
PAGE_DAYS = 31  # the most day buckets the API gives per page
LEASE = datetime.timedelta(minutes=10)


def window_days() -> int:
    return max(1, int(settings.USAGE_DAYS))


def utc_day(moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(datetime.UTC).date()


def day_start(day: datetime.date) -> int:
    """The unix second a UTC day begins (a day bucket's `start_time`)."""
    return int(datetime.datetime(day.year, day.month, day.day, tzinfo=datetime.UTC).timestamp())


def last_complete_day(now: datetime.datetime) -> datetime.date:
    """The latest day that ended at least USAGE_SETTLE_HOURS ago: read once more, never again."""
    settled = now - datetime.timedelta(hours=float(settings.USAGE_SETTLE_HOURS))
    return utc_day(settled) - DAY


def first_day_to_read(state: UsageState, now: datetime.datetime) -> datetime.date:
    """Where this run starts: after the last complete day read, within the window."""
    oldest = utc_day(now) - (window_days() - 1) * DAY
    if state.complete_through is None:
        return oldest
    return max(state.complete_through + DAY, oldest)


def read_usage(
    upstream: Upstream, *, now: datetime.datetime | None = None, force: bool = False
) -> UsageState | Skipped:
    """Read the days not read yet; the state afterwards, or why nothing was read."""
    if not upstream.has_admin_key:
        return "no admin key"
    now = now or timezone.now()
    claimed = _claim(upstream.alias, now, force=force)
    if not isinstance(claimed, datetime.datetime):
        return claimed
    state = UsageState.objects.get(upstream=upstream.alias)
    if state.identity and state.identity != upstream.cache_key:
        state = forget(upstream.alias)  # another API now: its days are not these
    start = first_day_to_read(state, now)
    try:
        models, keys, projects = _fetch(upstream, start)
        _store(upstream, start, now, models, keys)
        read_key_names(upstream, projects, now)
    except Exception as exc:
        failures = state.consecutive_failures + 1
        UsageState.objects.filter(upstream=upstream.alias).update(
            consecutive_failures=failures,
            next_attempt_at=timezone.now() + catalogue_conf.backoff(failures),
            last_error=_describe(exc),
        )
    finally:
        UsageState.objects.filter(upstream=upstream.alias, lease_until=claimed).update(
            lease_until=None
        )
    return UsageState.objects.get(upstream=upstream.alias)


def _describe(exc: Exception) -> str:
    if isinstance(exc, modelsclient.APIError):
        problem = describe_error(exc)
        return scrub(f"{problem.title}. {problem.detail}")[:2000]
    return scrub(f"{type(exc).__name__}: {exc}")[:2000]


def _claim(alias: str, now: datetime.datetime, *, force: bool) -> datetime.datetime | Skipped:
    UsageState.objects.get_or_create(upstream=alias)
    until = now + LEASE
    free = Q(lease_until__isnull=True) | Q(lease_until__lte=now)
    due = Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    claimable = UsageState.objects.filter(free, upstream=alias)
    if not force:
        claimable = claimable.filter(due)
    if claimable.update(lease_until=until, last_attempt_at=now):
        return until
    state = UsageState.objects.get(upstream=alias)
    return "busy" if state.lease_until and state.lease_until > now else "backing off"


type ModelTotals = dict[tuple[str, datetime.date], list[int]]  # requests, input, output
type KeyTotals = dict[tuple[str, str, datetime.date], int]


def _fetch(upstream: Upstream, start: datetime.date) -> tuple[ModelTotals, KeyTotals, set[str]]:
    """Every bucket from `start` on (iterating the page follows `next_page`), summed; and the
    projects the keys belong to."""
    usage = get_client(upstream).admin.organization.usage
    page = usage.completions(
        start_time=day_start(start),
        bucket_width="1d",
        group_by=["model", "api_key_id", "project_id"],
        limit=PAGE_DAYS,
    )
    models: ModelTotals = defaultdict(lambda: [0, 0, 0])
    keys: KeyTotals = defaultdict(int)
    projects: set[str] = set()
    for bucket in page:
        day = datetime.datetime.fromtimestamp(bucket.start_time, tz=datetime.UTC).date()
        for result in bucket.results:
            if not result.model or not result.num_model_requests and not result.input_tokens:
                continue
            totals = models[(result.model, day)]
            totals[0] += result.num_model_requests
            totals[1] += result.input_tokens
            totals[2] += result.output_tokens
            keys[(result.model, result.api_key_id or "", day)] += result.num_model_requests
            if result.project_id:
                projects.add(result.project_id)
    return models, keys, projects


def forget(alias: str) -> UsageState:
    """Drop what was read for the alias and start over (the alias names another API now)."""
    with transaction.atomic():
        for table in (ModelDay, KeyDay, KeyName):
            table.objects.filter(upstream=alias).delete()
        UsageState.objects.filter(upstream=alias).update(
            first_day=None, complete_through=None, last_success_at=None, identity=""
        )
        fill_last_used(alias)
    return UsageState.objects.get(upstream=alias)


def _store(
    upstream: Upstream,
    start: datetime.date,
    now: datetime.datetime,
    models: ModelTotals,
    keys: KeyTotals,
) -> None:
    """Replace the days read, drop the days past the window, set `last_used`: one transaction."""
    alias = upstream.alias
    oldest = utc_day(now) - (window_days() - 1) * DAY
    with transaction.atomic():
        for table in (ModelDay, KeyDay):
            table.objects.filter(Q(day__gte=start) | Q(day__lt=oldest), upstream=alias).delete()
        ModelDay.objects.bulk_create(
            [
                ModelDay(
                    upstream=alias,
                    model_id=model,
                    day=day,
                    requests=requests,
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                )
                for (model, day), (requests, input_tokens, output_tokens) in models.items()
                if day >= oldest
            ],
            batch_size=500,
        )
        KeyDay.objects.bulk_create(
            [
                KeyDay(upstream=alias, model_id=model, api_key_id=key, day=day, requests=requests)
                for (model, key, day), requests in keys.items()
                if day >= oldest
            ],
            batch_size=500,
        )
        fill_last_used(alias)
        state = UsageState.objects.select_for_update().get(upstream=alias)
        complete = last_complete_day(now)
        UsageState.objects.filter(upstream=alias).update(
            first_day=oldest if state.first_day is None else max(state.first_day, oldest),
            complete_through=max(complete, state.complete_through or complete),
            last_success_at=now,
            identity=upstream.cache_key,
            consecutive_failures=0,
            next_attempt_at=None,
            last_error="",
        )


def fill_last_used(alias: str) -> int:
    """Set `CatalogueModel.last_used` of every model of the upstream to its latest day with
    requests among the days kept (null: none) — one UPDATE through the (upstream, model, day)
    index; returns the rows updated."""
    latest = (
        ModelDay.objects.filter(upstream=alias, model_id=OuterRef("model_id"), requests__gt=0)
        .order_by("-day")
        .values("day")[:1]
    )
    return CatalogueModel.objects.filter(upstream=alias).update(last_used=Subquery(latest))


def read_key_names(upstream: Upstream, projects: set[str], now: datetime.datetime) -> int:
    """Store the name and owner of every API key of these projects (the Admin API's project API
    keys, every page); returns how many. A failure here (an admin key without the management
    scope, say) is logged and leaves the names as they were: the usage read stands."""
    keys = get_client(upstream).admin.organization.projects.api_keys
    found: list[KeyName] = []
    for project in sorted(projects):
        try:
            for key in keys.list(project, limit=100):
                owner = key.owner
                person = owner and (owner.user or owner.service_account)
                found.append(
                    KeyName(
                        upstream=upstream.alias,
                        api_key_id=key.id,
                        project_id=project,
                        name=(key.name or "")[:300],
                        owner_type=(owner.type if owner else None) or "",
                        owner_name=((person.name if person else None) or "")[:300],
                        fetched_at=now,
                    )
                )
        except modelsclient.APIError as exc:
            log.warning("usage: API key names of %s: %s", project, _describe(exc))
    KeyName.objects.bulk_create(
        found,
        update_conflicts=True,
        unique_fields=["upstream", "api_key_id"],
        update_fields=["project_id", "name", "owner_type", "owner_name", "fetched_at"],
    )
    return len(found)
