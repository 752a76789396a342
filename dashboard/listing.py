"""The model list's state (all in the query string) and the pure functions that apply it."""

from __future__ import annotations

import datetime
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from django.http import QueryDict
from django.utils.http import urlencode

from .converters import is_valid_model_id

BASE_OWNERS = frozenset({"system", "openai", "openai-internal"})
PAGE_SIZES = (25, 50, 100, 200)
AGES = {"30": 30, "90": 90, "365": 365}
SORTS = ("id", "owned_by", "created", "shutdown_date", "kind", "stops_on", "last_used")
# "Idle for more than N days": no requests in the last N days (none in the days read counts),
# and created more than N days ago. Offered only for N up to the days of usage read.
IDLE = {"30": 30, "90": 90, "180": 180}
KINDS = {"base": "Base", "fine-tuned": "Fine-tuned"}
# "Stops working" filter: the day a model stops (its own or its base model's shutdown date).
STOPS = {"30": "Within 30 days", "90": "Within 90 days", "past": "Already past"}


def stops_bucket(stops_on: datetime.date | None, today: datetime.date) -> str:
    """ "past" (before today), "30" / "90" (within that many days from today), or ""."""
    if stops_on is None:
        return ""
    days = (stops_on - today).days
    return "past" if days < 0 else "30" if days <= 30 else "90" if days <= 90 else ""


def stops_within(key: str, bucket: str) -> bool:
    """Whether a model in `bucket` passes the `stops` filter `key` (90 days include 30)."""
    return bucket == key or (key == "90" and bucket == "30")


def utc_day(now: float) -> datetime.date:
    """The UTC day of Unix time `now` (what "in N days" counts from)."""
    return datetime.datetime.fromtimestamp(now, tz=datetime.UTC).date()


COLUMNS = [
    ("id", "ID"),
    ("kind", "Kind"),
    ("owned_by", "Owner"),
    ("created", "Created"),
    ("shutdown_date", "Shutdown"),
    ("stops_on", "Stops working"),
    ("last_used", "Last used"),
    ("actions", "Actions"),
]


@dataclass(frozen=True)
class FineTune:
    base: str
    org: str
    suffix: str
    job: str
    checkpoint: str = ""


def parse_fine_tune(model_id: str) -> FineTune | None:
    """`ft:<base>:<org>:<suffix>:<id>[:<checkpoint>]` into its parts; None for other ids."""
    parts = model_id.split(":")
    if len(parts) < 4 or parts[0] != "ft" or not parts[1]:
        return None
    if len(parts) == 4:  # ft:<base>:<org>:<id> (no suffix)
        return FineTune(parts[1], parts[2], "", parts[3])
    return FineTune(parts[1], parts[2], parts[3], parts[4], ":".join(parts[5:]))


@dataclass(frozen=True)
class Row:
    """One model as the list shows it."""

    id: str
    owned_by: str
    created: int
    shutdown_date: str | None
    fine_tune: FineTune | None
    data: dict[str, Any]
    # From the catalogue (`stops`): the day it stops working and whose date that is.
    stops_on: datetime.date | None = None
    stops_because: str = ""
    last_used: datetime.date | None = None  # from the Usage API (see dashboard.usage)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Row:
        model_id = str(data.get("id", ""))
        return cls(
            id=model_id,
            owned_by=str(data.get("owned_by", "")),
            created=int(data.get("created") or 0),
            shutdown_date=data.get("shutdown_date"),
            fine_tune=parse_fine_tune(model_id),
            data=data,
        )

    @property
    def has_page(self) -> bool:
        """An id the dashboard can link to (a server could send an empty or odd one)."""
        return is_valid_model_id(self.id)

    @property
    def kind(self) -> str:
        return "fine-tuned" if self.fine_tune else "base"

    @property
    def base_model(self) -> str:
        return self.fine_tune.base if self.fine_tune else ""

    @property
    def created_at(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self.created, tz=datetime.UTC)

    @property
    def is_deletable(self) -> bool:
        """Only fine-tuned or organisation-owned models; never the provider's base models."""
        return self.owned_by not in BASE_OWNERS and self.has_page


@dataclass(frozen=True)
class ListQuery:
    """Search, filters, sort and page: parsed leniently (unknown values fall back)."""

    q: str = ""
    owner: str = ""
    kind: str = ""
    base: str = ""
    age: str = ""
    stops: str = ""
    idle: str = ""
    sort: str = "-created"
    page: int = 1
    per_page: int = 50

    @classmethod
    def from_querydict(cls, params: QueryDict) -> ListQuery:
        def number(name: str, default: int) -> int:
            try:
                return int(params.get(name, default))
            except (TypeError, ValueError):
                return default

        sort = params.get("sort", cls.sort)
        per_page = number("per_page", cls.per_page)
        return cls(
            q=params.get("q", "").strip()[:200],
            owner=params.get("owner", "")[:200],
            kind=params.get("kind", "") if params.get("kind") in KINDS else "",
            base=params.get("base", "")[:200],
            age=params.get("age", "") if params.get("age") in AGES else "",
            stops=params.get("stops", "") if params.get("stops") in STOPS else "",
            idle=params.get("idle", "") if params.get("idle") in IDLE else "",
            sort=sort if sort.removeprefix("-") in SORTS else cls.sort,
            page=max(1, number("page", 1)),
            per_page=per_page if per_page in PAGE_SIZES else cls.per_page,
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        """Non-default values only, so URLs stay short; a filter change goes back to page 1."""
        if changes and "page" not in changes:
            changes["page"] = 1
        query = replace(self, **changes)
        defaults = ListQuery()
        return {
            name: getattr(query, name)
            for name in (
                "q",
                "owner",
                "kind",
                "base",
                "age",
                "stops",
                "idle",
                "sort",
                "page",
                "per_page",
            )
            if getattr(query, name) != getattr(defaults, name)
        }

    def url(self, **changes: Any) -> str:
        params = self.params(**changes)
        return "?" + urlencode(params) if params else "?"

    @property
    def matching_query(self) -> str:
        """`?` and the search, filters and sort ("" when all are default), without the page or
        its size: for links that cover every matching row rather than one page (exports)."""
        params = {k: v for k, v in self.params().items() if k not in ("page", "per_page")}
        return "?" + urlencode(params) if params else ""

    def sort_url(self, column: str) -> str:
        """Clicking a sorted column flips it; another column sorts ascending (created: newest)."""
        if self.sort == column:
            return self.url(sort=f"-{column}")
        if self.sort == f"-{column}":
            return self.url(sort=column)
        return self.url(sort=f"-{column}" if column in ("created", "last_used") else column)

    def aria_sort(self, column: str) -> str:
        if self.sort == column:
            return "ascending"
        return "descending" if self.sort == f"-{column}" else "none"

    def columns(self) -> list[dict[str, Any]]:
        """The table's header cells: label, whether sortable, its link and aria-sort."""
        return [
            {
                "key": key,
                "label": label,
                "sortable": key in SORTS,
                "url": self.sort_url(key) if key in SORTS else "",
                "aria_sort": self.aria_sort(key),
            }
            for key, label in COLUMNS
        ]

    @property
    def is_filtered(self) -> bool:
        return any((self.q, self.owner, self.kind, self.base, self.age, self.stops, self.idle))


def _predicates(query: ListQuery, now: float) -> dict[str, Callable[[Row], bool]]:
    words = query.q.casefold().split()
    preds: dict[str, Callable[[Row], bool]] = {}
    if words:
        preds["q"] = lambda r: all(w in f"{r.id}\n{r.owned_by}".casefold() for w in words)
    if query.owner:
        preds["owner"] = lambda r: r.owned_by == query.owner
    if query.kind:
        preds["kind"] = lambda r: r.kind == query.kind
    if query.base:
        preds["base"] = lambda r: r.base_model == query.base
    if query.age:
        cutoff = now - AGES[query.age] * 86400
        preds["age"] = lambda r: r.created < cutoff
    if query.stops:
        today = utc_day(now)
        preds["stops"] = lambda r: stops_within(query.stops, stops_bucket(r.stops_on, today))
    if query.idle:
        preds["idle"] = idle_predicate(IDLE[query.idle], now)
    return preds


def idle_predicate(days: int, now: float) -> Callable[[Row], bool]:
    """Idle for more than `days`: no use since, and older than that (never used counts)."""
    since = utc_day(now) - datetime.timedelta(days=days)
    cutoff = now - days * 86400
    return lambda r: (r.last_used is None or r.last_used < since) and r.created < cutoff


def idle_options(usage_days: int | None) -> list[str]:
    """The idle filter's values that the days read can answer (none without usage)."""
    return [key for key, days in IDLE.items() if usage_days is not None and days <= usage_days]


def _matching(rows: Iterable[Row], preds: Iterable[Callable[[Row], bool]]) -> list[Row]:
    checks = list(preds)
    return [r for r in rows if all(check(r) for check in checks)]


@dataclass
class Facet:
    name: str
    label: str
    options: list[tuple[str, str, int]]  # value, label, count
    selected: str
    total: int = 0  # what "Any" counts: the rows that every *other* active filter lets through


def facets(
    rows: list[Row], query: ListQuery, now: float, *, usage_days: int | None = None
) -> list[Facet]:
    """Each filter's options with counts, given every *other* active filter (the idle one
    with the options `usage_days` can answer)."""
    preds = _predicates(query, now)

    def others(name: str) -> list[Row]:
        return _matching(rows, (p for key, p in preds.items() if key != name))

    narrowed = {name: others(name) for name in ("owner", "kind", "base", "age", "stops", "idle")}
    owners = Counter(r.owned_by for r in narrowed["owner"])
    kinds = Counter(r.kind for r in narrowed["kind"])
    bases = Counter(r.base_model for r in narrowed["base"] if r.base_model)
    age_rows = narrowed["age"]
    ages = [
        (key, f"Older than {days} days", sum(1 for r in age_rows if r.created < now - days * 86400))
        for key, days in AGES.items()
    ]
    found = [
        Facet("owner", "Owner", [(o, o, n) for o, n in sorted(owners.items())], query.owner),
        Facet("kind", "Kind", [(k, KINDS[k], kinds.get(k, 0)) for k in KINDS], query.kind),
        Facet("base", "Base model", [(b, b, n) for b, n in sorted(bases.items())], query.base),
        Facet("age", "Age", ages, query.age),
    ]
    today = utc_day(now)
    buckets = Counter(stops_bucket(r.stops_on, today) for r in narrowed["stops"])
    stops = [
        (k, label, sum(n for b, n in buckets.items() if stops_within(k, b)))
        for k, label in STOPS.items()
    ]
    found.append(Facet("stops", "Stops working", stops, query.stops))
    if offered := idle_options(usage_days):
        idle_rows = narrowed["idle"]
        counts = [
            (key, IDLE_LABEL.format(IDLE[key]), sum(map(idle_predicate(IDLE[key], now), idle_rows)))
            for key in offered
        ]
        found.append(Facet("idle", "Usage", counts, query.idle))
    for facet in found:
        facet.total = len(narrowed[facet.name])
    return found


IDLE_LABEL = "Idle for more than {} days"


def _sort_key(column: str) -> Callable[[Row], Any]:
    if column == "created":
        return lambda r: (r.created, r.id)
    if column == "shutdown_date":
        return lambda r: (r.shutdown_date is None, r.shutdown_date or "", r.id)
    if column == "stops_on":
        return lambda r: (r.stops_on is None, r.stops_on or datetime.date.min, r.id)
    if column == "last_used":  # not used in the days read: the oldest
        return lambda r: (r.last_used is not None, r.last_used or datetime.date.min, r.id)
    return lambda r: (str(getattr(r, column)).casefold(), r.id)


@dataclass
class Page:
    rows: list[Row]
    total: int
    number: int
    num_pages: int
    start: int  # 1-based index of the first row shown (0 when empty)
    end: int

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages


def apply(rows: list[Row], query: ListQuery, now: float) -> Page:
    """Filter, sort and cut one page; a page number past the end shows the last page."""
    matched = _matching(rows, _predicates(query, now).values())
    column = query.sort.lstrip("-")
    matched.sort(key=_sort_key(column), reverse=query.sort.startswith("-"))
    num_pages = max(1, math.ceil(len(matched) / query.per_page))
    number = min(query.page, num_pages)
    first = (number - 1) * query.per_page
    shown = matched[first : first + query.per_page]
    return Page(
        shown, len(matched), number, num_pages, first + 1 if shown else 0, first + len(shown)
    )
