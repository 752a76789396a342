"""The list page as database queries, with the semantics of `dashboard.listing`.

`list_page(upstream, query, now)` gives what `listing.apply` and `listing.facets` give for the
same `ListQuery` over the upstream's present models: search words must all occur in the id or
the owner (case-insensitive, `str.casefold`), exact owner / kind / base filters, "older than N
days" (a model without `created` counts as oldest), sort by a `listing.SORTS` column with the id
as tie-breaker in the same direction (shutdown date: dates first ascending, models without one
first descending), a page past the end shows the last page. Two queries (three when few rows
match): one grouped count for the total and every facet, one for the page's rows.
"""

from __future__ import annotations

import datetime
import math
import operator
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from django.db import connections, router
from django.db.models import Case, Count, F, Q, QuerySet, Value, When
from django.db.models.expressions import OrderBy

from dashboard.listing import (
    AGES,
    IDLE,
    IDLE_LABEL,
    KINDS,
    STOPS,
    Facet,
    ListQuery,
    Page,
    Row,
    idle_options,
    parse_fine_tune,
    stops_within,
    utc_day,
)

from .models import CatalogueModel, Change, UpstreamState

_NOTHING = Q(pk__in=[])
FEW = 2000  # up to this many matches, the page's rows are found by id (see list_page)


@dataclass(frozen=True)
class ListResult:
    """One list page: `page.rows` are `listing.Row`s (what the templates show), `models` the
    same rows as catalogue records (first seen, data), in the same order."""

    page: Page
    facets: list[Facet]
    models: list[CatalogueModel]


@dataclass(frozen=True)
class History:
    """A model's story on one upstream: `model` is None if the catalogue never saw it."""

    model: CatalogueModel | None
    last_seen: datetime.datetime | None  # effective: a present model was in the latest sync
    changes: list[Change]  # newest first


def present(upstream: str) -> QuerySet[CatalogueModel]:
    """The upstream's models still in its list."""
    return CatalogueModel.objects.filter(upstream=upstream, gone_at__isnull=True)


def list_page(
    upstream: str, query: ListQuery, now: float, *, usage_days: int | None = None
) -> ListResult:
    """Rows, total and facet counts (each with every *other* active filter) for one page.

    `now` is Unix seconds (the age and idle filters' reference); `usage_days` is how many days
    of usage are read (None: none), which decides the idle filter's options.
    """
    filters = _filters(query, now)
    rows = present(upstream)
    groups = _groups(rows.filter(filters.get("q", Q())), now)
    facets = _facets(groups, query, usage_days)
    total = sum(g.n for g in groups if g.matches(query))
    num_pages = max(1, math.ceil(total / query.per_page))
    number = min(query.page, num_pages)
    first = (number - 1) * query.per_page
    ordered = matching(upstream, query, now)
    if total <= FEW:
        # Find the few through the covering index, then sort them: the sort column's index
        # would read most of the table to find them.
        found = ordered.order_by().values_list("pk", flat=True)
        ordered = CatalogueModel.objects.filter(pk__in=list(found)).order_by(*_ordering(query.sort))
    models = list(ordered[first : first + query.per_page]) if total else []
    page = Page(
        [as_row(m) for m in models],
        total,
        number,
        num_pages,
        first + 1 if models else 0,
        first + len(models),
    )
    return ListResult(page, facets, models)


def matching(upstream: str, query: ListQuery, now: float) -> QuerySet[CatalogueModel]:
    """Every present model the list's search and filters let through (all pages), in the
    list's order; `now` is Unix seconds (the age filter's reference)."""
    found = present(upstream).filter(_all(_filters(query, now)))
    return found.order_by(*_ordering(query.sort))


def as_row(model: CatalogueModel) -> Row:
    """A catalogue record as the list's `Row` (what the upstream sent, read leniently)."""
    shutdown = model.data.get("shutdown_date")
    return Row(
        id=model.model_id,
        owned_by=model.owned_by,
        created=model.created or 0,
        shutdown_date=shutdown if isinstance(shutdown, str) else None,
        fine_tune=parse_fine_tune(model.model_id),
        data=model.data,
        stops_on=model.stops_on,
        stops_because=model.stops_because,
        last_used=model.last_used,
    )


def changes(
    upstream: str | None = None, kind: str | None = None, since: datetime.datetime | None = None
) -> QuerySet[Change]:
    """Change records, newest first, optionally of one upstream, one kind, since a time."""
    found = Change.objects.select_related("audit_entry").order_by("-at", "-id")
    if upstream:
        found = found.filter(upstream=upstream)
    if kind:
        found = found.filter(kind=kind)
    if since:
        found = found.filter(at__gte=since)
    return found


def history(upstream: str, model_id: str) -> History:
    """The catalogue record (first seen, gone_at, last data) and its changes; the caller adds
    the audit log's delete attempts."""
    model = CatalogueModel.objects.filter(upstream=upstream, model_id=model_id).first()
    state = UpstreamState.objects.filter(upstream=upstream).first()
    last_seen = (
        model.effective_last_seen(state.last_success_at if state else None) if model else None
    )
    found = list(changes(upstream).filter(model_id=model_id))
    return History(model, last_seen, found)


def state(upstream: str) -> UpstreamState | None:
    """The upstream's refresh state (last success, backoff, lease); None before any refresh."""
    return UpstreamState.objects.filter(upstream=upstream).first()


# --- Facets: one grouped count, then arithmetic ------------------------------------------------

# "Older than N days" as levels: a model older than 365 days is older than 90 and 30 too.
_AGE_LEVELS = {key: level for level, key in enumerate(sorted(AGES, key=AGES.__getitem__), 1)}
_IDLE_LEVELS = {key: level for level, key in enumerate(sorted(IDLE, key=IDLE.__getitem__), 1)}


@dataclass(frozen=True)
class _Group:
    """How many matching rows share an owner, base model, kind and age level."""

    owned_by: str
    base_model: str
    kind: str
    age_level: int  # how many of the AGES thresholds the model is older than
    stops: str  # `listing.stops_bucket` of its stops_on
    n: int
    idle_level: int = 0  # how many of the IDLE thresholds it is idle for

    def matches(self, query: ListQuery, *, but: str = "") -> bool:
        return (
            (but == "owner" or not query.owner or self.owned_by == query.owner)
            and (but == "kind" or not query.kind or self.kind == query.kind)
            and (but == "base" or not query.base or self.base_model == query.base)
            and (but == "age" or not query.age or self.age_level >= _AGE_LEVELS[query.age])
            and (but == "stops" or not query.stops or stops_within(query.stops, self.stops))
            and (but == "idle" or not query.idle or self.idle_level >= _IDLE_LEVELS[query.idle])
        )


def _groups(rows: QuerySet[CatalogueModel], now: float) -> list[_Group]:
    """The rows matching the search, counted per (owner, base, kind, age level): one query."""
    oldest_first = sorted(AGES.items(), key=lambda item: -item[1])
    level = Case(
        *(When(_older(now, days), then=Value(_AGE_LEVELS[key])) for key, days in oldest_first),
        default=Value(0),
    )
    idle = Case(
        *(
            When(_idle(now, days), then=Value(_IDLE_LEVELS[key]))
            for key, days in sorted(IDLE.items(), key=lambda item: -item[1])
        ),
        default=Value(0),
    )
    counted = (
        rows.order_by()
        .annotate(age_level=level, stops=_stops_bucket(now), idle_level=idle)
        .values("owned_by", "base_model", "kind", "age_level", "stops", "idle_level")
        .annotate(n=Count("pk"))
        .values_list("owned_by", "base_model", "kind", "age_level", "stops", "n", "idle_level")
    )
    return [_Group(*values) for values in counted]


def _facets(groups: list[_Group], query: ListQuery, usage_days: int | None) -> list[Facet]:
    """`listing.facets` from the grouped counts: each filter's options given the others."""

    def counts(facet: str, key: Callable[[_Group], str]) -> Counter[str]:
        tally: Counter[str] = Counter()
        for group in groups:
            if group.matches(query, but=facet):
                tally[key(group)] += group.n
        return tally

    owners = counts("owner", lambda g: g.owned_by)
    kinds = counts("kind", lambda g: g.kind)
    bases = counts("base", lambda g: g.base_model)
    by_age = [g for g in groups if g.matches(query, but="age")]
    ages = [
        (key, f"Older than {days} days", sum(g.n for g in by_age if g.age_level >= level))
        for key, days in AGES.items()
        for level in [_AGE_LEVELS[key]]
    ]
    found = [
        Facet("owner", "Owner", [(o, o, n) for o, n in sorted(owners.items())], query.owner),
        Facet("kind", "Kind", [(k, label, kinds[k]) for k, label in KINDS.items()], query.kind),
        Facet("base", "Base model", [(b, b, n) for b, n in sorted(bases.items()) if b], query.base),
        Facet("age", "Age", ages, query.age),
    ]
    by_stops = counts("stops", lambda g: g.stops)
    stops = [
        (key, label, sum(n for bucket, n in by_stops.items() if stops_within(key, bucket)))
        for key, label in STOPS.items()
    ]
    found.append(Facet("stops", "Stops working", stops, query.stops))
    if offered := idle_options(usage_days):
        by_idle = [g for g in groups if g.matches(query, but="idle")]
        idle = [
            (key, IDLE_LABEL.format(IDLE[key]), sum(g.n for g in by_idle if g.idle_level >= level))
            for key in offered
            for level in [_IDLE_LEVELS[key]]
        ]
        found.append(Facet("idle", "Usage", idle, query.idle))
    for facet in found:  # "Any": the rows every *other* active filter lets through
        facet.total = sum(g.n for g in groups if g.matches(query, but=facet.name))
    return found


# --- Building blocks -------------------------------------------------------------------------


def _filters(query: ListQuery, now: float) -> dict[str, Q]:
    """One condition per active filter, keyed like `listing._predicates`."""
    filters: dict[str, Q] = {}
    words = query.q.casefold().split()
    if words:
        filters["q"] = reduce(
            operator.and_,
            (
                _NOTHING
                if "\x00" in w
                else Q(model_id_folded__contains=w) | Q(owned_by_folded__contains=w)
                for w in words
            ),
        )
    for name, column in (("owner", "owned_by"), ("kind", "kind"), ("base", "base_model")):
        value: str = getattr(query, name)
        if value:
            filters[name] = _NOTHING if "\x00" in value else Q(**{column: value})
    if query.age:
        filters["age"] = _older(now, AGES[query.age])
    if query.stops:
        filters["stops"] = _stops_filter(query.stops, utc_day(now))
    if query.idle:
        filters["idle"] = _idle(now, IDLE[query.idle])
    return filters


# --- Stops working: the same buckets as `listing.stops_bucket` -----------------------------


def _stops_filter(key: str, today: datetime.date) -> Q:
    if key == "past":
        return Q(stops_on__lt=today)
    return Q(stops_on__gte=today, stops_on__lte=today + datetime.timedelta(days=int(key)))


def _stops_bucket(now: float) -> Case:
    today = utc_day(now)
    return Case(
        When(stops_on__lt=today, then=Value("past")),
        When(stops_on__lte=today + datetime.timedelta(days=30), then=Value("30")),
        When(stops_on__lte=today + datetime.timedelta(days=90), then=Value("90")),
        default=Value(""),
    )


def _older(now: float, days: int) -> Q:
    # created < cutoff for whole seconds is created < ceil(cutoff); no `created` means oldest.
    return Q(created__lt=math.ceil(now - days * 86400)) | Q(created__isnull=True)


def _idle(now: float, days: int) -> Q:
    """`listing.idle_predicate`: no requests since `days` ago (or none read), and older."""
    since = utc_day(now) - datetime.timedelta(days=days)
    return (Q(last_used__lt=since) | Q(last_used__isnull=True)) & _older(now, days)


def _all(filters: dict[str, Q], *excluded: str) -> Q:
    return reduce(operator.and_, (q for name, q in filters.items() if name not in excluded), Q())


def _ordering(sort: str) -> list[OrderBy]:
    descending = sort.startswith("-")
    column = sort.removeprefix("-")
    if column == "created":
        key = _nulls(F("created"), descending, nulls_smallest=True)
    elif column in ("shutdown_date", "stops_on"):
        key = _nulls(F(column), descending, nulls_smallest=False)
    elif column == "last_used":  # not used in the days read: the oldest
        key = _nulls(F("last_used"), descending, nulls_smallest=True)
    else:
        name = {"id": "model_id_folded", "owned_by": "owned_by_folded"}.get(column, column)
        key = OrderBy(F(name), descending=descending)
    return [key, OrderBy(F("model_id"), descending=descending)]


def _nulls(column: F, descending: bool, *, nulls_smallest: bool) -> OrderBy:
    """Order with nulls as the smallest (or largest) value, leaving the clause out where the
    database already does that (an explicit NULLS clause can keep SQLite off the index)."""
    db = router.db_for_read(CatalogueModel)
    if connections[db].features.order_by_nulls_first == nulls_smallest:
        return OrderBy(column, descending=descending)
    if nulls_smallest != descending:
        return OrderBy(column, descending=descending, nulls_first=True)
    return OrderBy(column, descending=descending, nulls_last=True)
