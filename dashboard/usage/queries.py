"""What pages show of usage: the reading's status, one model's days and API keys, and sums.

"Last used" is the latest UTC day with requests among the days read (`status().days` of them,
up to today): a date, "today", or "not in the last N days" — never "never used".
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Max, Sum
from django.utils import timezone

from dashboard.upstreams import Upstream

from .models import KeyDay, KeyName, ModelDay, UsageState
from .reading import DAY, utc_day
from .tasks import refresh_interval, request_usage_read

NEEDS_ADMIN_KEY = "usage needs an admin key"
CHART_DAYS = 90


@dataclass(frozen=True)
class UsageStatus:
    """An upstream's usage reading as pages tell it."""

    has_admin_key: bool
    today: datetime.date  # UTC
    days: int | None = None  # how many days up to today are read; None: nothing read yet
    read_at: datetime.datetime | None = None
    failure: str = ""  # the last reading's error in words, "" after a success
    retry_at: datetime.datetime | None = None

    @property
    def known(self) -> bool:
        """Whether "last used" can be said (an admin key, and the days read)."""
        return self.has_admin_key and self.days is not None


def status(upstream: Upstream, *, ask: bool = True) -> UsageStatus:
    """The reading's state (one query; none without an admin key); when it is older than
    USAGE_REFRESH_SECONDS (and `ask`), a background reading is requested, never waited for."""
    now = timezone.now()
    today = utc_day(now)
    if not upstream.has_admin_key:
        return UsageStatus(has_admin_key=False, today=today)
    state = UsageState.objects.filter(upstream=upstream.alias).first()
    due = state is None or not state.last_attempt_at
    if state is not None and state.last_attempt_at:
        due = now - state.last_attempt_at > refresh_interval()
    if ask and due:
        request_usage_read(upstream.alias)
    if state is None or state.identity and state.identity != upstream.cache_key:
        return UsageStatus(has_admin_key=True, today=today)  # nothing read of this API yet
    failed = bool(state.consecutive_failures)
    return UsageStatus(
        has_admin_key=True,
        today=today,
        days=(today - state.first_day).days + 1 if state.first_day else None,
        read_at=state.last_success_at,
        failure=state.last_error if failed else "",
        retry_at=state.next_attempt_at if failed else None,
    )


@dataclass(frozen=True)
class KeyUse:
    """One API key's use of a model over the days read."""

    api_key_id: str
    requests: int
    last_day: datetime.date
    name: str = ""  # from the Admin API ("" when it did not say)
    owner: str = ""
    owner_type: str = ""  # "user" / "service_account"

    @property
    def requests_text(self) -> str:
        return f"{self.requests:,}"


@dataclass(frozen=True)
class ModelUsage:
    """One model's usage for its detail page."""

    days: list[tuple[datetime.date, int]]  # the last CHART_DAYS days, oldest first, 0-filled
    total: int  # requests over those days
    last_used: datetime.date | None  # among every day read
    keys: list[KeyUse]  # most requests first


def model_usage(alias: str, model_id: str, today: datetime.date) -> ModelUsage:
    """The chart's days, the last day used and the keys that used it (with their names where
    the Admin API gave them): four queries."""
    first = today - (CHART_DAYS - 1) * DAY
    rows = ModelDay.objects.filter(upstream=alias, model_id=model_id)
    by_day = dict(rows.filter(day__gte=first).values_list("day", "requests"))
    days = [(first + n * DAY, by_day.get(first + n * DAY, 0)) for n in range(CHART_DAYS)]
    last_used = rows.filter(requests__gt=0).aggregate(last=Max("day"))["last"]
    keys = list(
        KeyDay.objects.filter(upstream=alias, model_id=model_id, requests__gt=0)
        .values("api_key_id")
        .annotate(requests=Sum("requests"), last_day=Max("day"))
        .order_by("-requests", "api_key_id")
    )
    names = {
        name.api_key_id: name
        for name in KeyName.objects.filter(
            upstream=alias, api_key_id__in=[k["api_key_id"] for k in keys]
        )
    }
    found = []
    for k in keys:
        named = names.get(k["api_key_id"])
        found.append(
            KeyUse(
                k["api_key_id"],
                k["requests"],
                k["last_day"],
                name=named.name if named else "",
                owner=named.owner_name if named else "",
                owner_type=named.owner_type.replace("_", " ") if named else "",
            )
        )
    return ModelUsage(
        days=days,
        total=sum(requests for _, requests in days),
        last_used=last_used,
        keys=found,
    )


def requests_since(alias: str, model_ids: Iterable[str], day: datetime.date) -> dict[str, int]:
    """Requests per model from `day` on (models without any are left out): one query per 500
    models."""
    wanted = list(model_ids)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        sums = (
            ModelDay.objects.filter(
                upstream=alias, model_id__in=wanted[start : start + 500], day__gte=day
            )
            .values("model_id")
            .annotate(n=Sum("requests"))
            .values_list("model_id", "n")
        )
        found.update((model_id, n) for model_id, n in sums if n)
    return found
