"""What the list and detail pages add for usage (the views call these, nothing else)."""

from __future__ import annotations

import datetime
from dataclasses import replace
from typing import Any

from dashboard.listing import ListQuery, idle_options
from dashboard.upstreams import Upstream

from .chart import chart
from .queries import CHART_DAYS, UsageStatus, model_usage, status


def for_list(upstream: Upstream, query: ListQuery) -> tuple[UsageStatus, ListQuery]:
    """The usage status, and the query without an idle filter the days read cannot answer
    (none without an admin key): the list never filters on a guess."""
    usage = status(upstream)
    if query.idle and query.idle not in idle_options(usage.days if usage.known else None):
        query = replace(query, idle="")
    return usage, query


def last_used_text(last_used: datetime.date | None, usage: UsageStatus) -> str:
    """ "today", the date, or "not in the last N days" (never "never")."""
    if last_used is None:
        return f"not in the last {usage.days} days"
    return "today" if last_used == usage.today else f"{last_used:%Y-%m-%d}"


def for_detail(upstream: Upstream, model_id: str) -> dict[str, Any]:
    """The detail page's usage section: the status, and with days read the chart and keys."""
    usage = status(upstream)
    context: dict[str, Any] = {"usage": usage}
    if not usage.known:
        return context
    found = model_usage(upstream.alias, model_id, usage.today)
    last = last_used_text(found.last_used, usage)
    context.update(
        model_usage=found,
        usage_chart=chart(found.days),
        usage_summary=(
            f"{found.total:,} request{'' if found.total == 1 else 's'} in {CHART_DAYS} days; "
            + (
                f"last used {last}"
                if found.last_used
                else f"not used in the last {usage.days} days"
            )
        ),
    )
    return context
