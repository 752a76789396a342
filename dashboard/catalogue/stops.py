"""When a model stops working: a base model on its own `shutdown_date`, a fine-tune with its
base model (issue 11 §2).

`update_stops(upstream)` sets `CatalogueModel.stops_on` / `stops_because` for every present row
of the upstream in one set-based UPDATE (only rows whose value changes are written); the sync
calls it after writing the list, the lineage task after learning jobs' base models. A
fine-tune's base is the fine-tuning job's `model` when the job is known, else the base in its
`ft:` id, matched to the catalogue's row of that id or, for a dated snapshot the catalogue does
not list (`gpt-4o-mini-2024-07-18`), to the row of its undated alias (`gpt-4o-mini`).

`shutdown_groups(upstream, today)` gives the Shutdowns page: the fine-tunes grouped by the day
they stop.
"""

from __future__ import annotations

import datetime
import email.utils
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Case, F, Q, Value, When

from dashboard.listing import parse_fine_tune
from dashboard.upstreams import scrub

from .models import CatalogueModel, FineTuningJobRecord, ModelKind

_DATED = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def undated(model_id: str) -> str:
    """`gpt-4o-mini-2024-07-18` → `gpt-4o-mini`; other ids as they are."""
    return _DATED.sub("", model_id)


def resolve_base(base: str, known: Iterable[str]) -> str | None:
    """The catalogue id whose shutdown date `base` (a fine-tune's base) shares: the same id, or
    the undated alias of a dated snapshot; a fine-tune id as base counts as its own base."""
    ids = set(known)
    fine_tune = parse_fine_tune(base)
    if fine_tune is not None:
        base = fine_tune.base
    for candidate in (base, undated(base)):
        if candidate in ids:
            return candidate
    return None


def update_stops(upstream: str) -> int:
    """Recompute `stops_on` / `stops_because` for the upstream's present rows; returns how many
    rows changed. Three small reads (the fine-tunes' bases, the jobs' bases, the bases' dates)
    and one UPDATE of the rows whose value changes."""
    rows = CatalogueModel.objects.filter(upstream=upstream, gone_at__isnull=True)
    referenced = set(
        rows.filter(kind=ModelKind.FINE_TUNED)
        .order_by()
        .values_list("base_model", flat=True)
        .distinct()
    )
    moved = _job_bases(upstream)  # fine-tunes whose job names another base than their id
    referenced |= set(moved.values())
    wanted = {*referenced, *(undated(r) for r in referenced)}
    wanted |= {f.base for r in referenced if (f := parse_fine_tune(r))}
    wanted |= {undated(w) for w in list(wanted)}
    dates = _base_dates(upstream, wanted)
    arms: dict[str, tuple[datetime.date, str]] = {}
    for ref in referenced:
        found = resolve_base(ref, dates)
        day = dates[found] if found else None
        if found and day is not None:
            arms[ref] = (day, found)

    by_job: dict[str, list[str]] = {}
    for model_id, ref in moved.items():
        by_job.setdefault(ref, []).append(model_id)
    base_key = Case(
        *(When(model_id__in=ids, then=Value(ref)) for ref, ids in sorted(by_job.items())),
        default=F("base_model"),
    )
    day_field = CatalogueModel._meta.get_field("stops_on")
    because_field = CatalogueModel._meta.get_field("stops_because")
    base_day = Case(
        *(When(base_key=ref, then=Value(day)) for ref, (day, _) in arms.items()),
        default=Value(None),
        output_field=day_field,
    )
    base_because = Case(
        *(When(base_key=ref, then=Value(because)) for ref, (_, because) in arms.items()),
        default=Value(""),
        output_field=because_field,
    )
    fine_tune = Q(kind=ModelKind.FINE_TUNED)
    # Its own date counts when it has one and (a fine-tune) it is not later than its base's.
    own_first = Q(shutdown_date__isnull=False) & (
        ~fine_tune | Q(base_day__isnull=True) | Q(shutdown_date__lte=F("base_day"))
    )
    new_day = Case(
        When(own_first, then=F("shutdown_date")),
        When(fine_tune, then=F("base_day")),
        default=Value(None),
        output_field=day_field,
    )
    new_because = Case(
        When(own_first, then=F("model_id")),
        When(fine_tune, then=F("base_because")),
        default=Value(""),
        output_field=because_field,
    )
    annotated = (
        rows.alias(base_key=base_key)
        .alias(base_day=base_day, base_because=base_because)
        .alias(new_day=new_day, new_because=new_because)
    )
    differs = (
        Q(new_day__isnull=True, stops_on__isnull=False)
        | Q(new_day__isnull=False, stops_on__isnull=True)
        | (Q(new_day__isnull=False, stops_on__isnull=False) & ~Q(stops_on=F("new_day")))
        | ~Q(stops_because=F("new_because"))
    )
    return annotated.filter(differs).update(stops_on=F("new_day"), stops_because=F("new_because"))


def _job_bases(upstream: str) -> dict[str, str]:
    """Fine-tune id → its job's `model`, where that names another base than the id does (a
    job's `model` can be a fine-tune: its base is then the base in that id)."""
    moved: dict[str, str] = {}
    records = FineTuningJobRecord.objects.filter(upstream=upstream).exclude(base_model="")
    for model_id, job_model in records.exclude(fine_tuned_model="").values_list(
        "fine_tuned_model", "base_model"
    ):
        own = parse_fine_tune(model_id)
        parent = parse_fine_tune(job_model)
        base = parent.base if parent else job_model
        if own is None or base != own.base:
            moved[model_id] = base
    return moved


def _base_dates(upstream: str, wanted: set[str]) -> dict[str, datetime.date | None]:
    """Base model id → its shutdown date (a present row's rather than a gone one's)."""
    found: dict[str, datetime.date | None] = {}
    candidates = CatalogueModel.objects.filter(
        upstream=upstream, kind=ModelKind.BASE, model_id__in=sorted(wanted)
    )
    for model_id, day, gone_at in candidates.values_list("model_id", "shutdown_date", "gone_at"):
        if model_id not in found or gone_at is None:
            found[model_id] = day
    return found


# --- The Shutdowns page ----------------------------------------------------------------------

SHOWN_PER_DAY = 100  # model ids listed under one day; the rest are counted and linked


@dataclass
class ShutdownDay:
    """The fine-tunes that stop working on one day: `models` (at most SHOWN_PER_DAY ids, in id
    order) of `count`; `because` the models whose date it is, `bases` the bases in their ids."""

    day: datetime.date
    days_left: int  # negative: already past
    count: int = 0
    because: list[str] = field(default_factory=list)
    bases: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)

    @property
    def past(self) -> bool:
        return self.days_left < 0


@dataclass(frozen=True)
class Shutdowns:
    days: list[ShutdownDay]  # past days first (oldest first), then the coming ones
    undated: int  # fine-tunes with no known date

    @property
    def past(self) -> list[ShutdownDay]:
        return [d for d in self.days if d.past]

    @property
    def coming(self) -> list[ShutdownDay]:
        return [d for d in self.days if not d.past]


def fine_tunes_stopping(upstream: str, day: datetime.date) -> list[str]:
    """The ids of the upstream's present fine-tunes that stop on `day`, in id order."""
    found = CatalogueModel.objects.filter(
        upstream=upstream, gone_at__isnull=True, kind=ModelKind.FINE_TUNED, stops_on=day
    )
    return list(found.order_by("model_id").values_list("model_id", flat=True))


def shutdowns(upstream: str, today: datetime.date) -> Shutdowns:
    """The upstream's present fine-tunes grouped by the day they stop (two queries)."""
    fine_tunes = CatalogueModel.objects.filter(
        upstream=upstream, gone_at__isnull=True, kind=ModelKind.FINE_TUNED
    )
    days: dict[datetime.date, ShutdownDay] = {}
    dated = fine_tunes.filter(stops_on__isnull=False).order_by("stops_on", "model_id")
    for model_id, day, because, base in dated.values_list(
        "model_id", "stops_on", "stops_because", "base_model"
    ):
        if day is None:  # excluded by the filter; said for the type checker
            continue
        group = days.get(day)
        if group is None:
            group = days[day] = ShutdownDay(day, (day - today).days)
        group.count += 1
        if because and because not in group.because:
            group.because.append(because)
        if base and base not in group.bases:
            group.bases.append(base)
        if len(group.models) < SHOWN_PER_DAY:
            group.models.append(model_id)
    undated = fine_tunes.filter(stops_on__isnull=True).count()
    return Shutdowns(list(days.values()), undated)


# --- Deprecation and Sunset response headers (RFC 9745, RFC 8594) ----------------------------

_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_REL = re.compile(r"""\brel\s*=\s*"?([^";]*)"?""", re.IGNORECASE)


@dataclass(frozen=True)
class Deprecation:
    """What a response's `Deprecation`, `Sunset` and `Link: rel="deprecation"` headers say."""

    deprecated: bool
    since: datetime.date | None  # None: deprecated, no date given (or an unreadable one)
    sunset: datetime.date | None
    link: str  # an http(s) address only; "" otherwise
    raw: dict[str, str] = field(default_factory=dict)  # the headers as sent


def deprecation(headers: Mapping[str, str]) -> Deprecation | None:
    """The headers parsed; None when the response has neither `Deprecation` nor `Sunset`."""
    lower = {name.lower(): value for name, value in headers.items()}
    sent_deprecation = lower.get("deprecation", "").strip()
    sent_sunset = lower.get("sunset", "").strip()
    if not sent_deprecation and not sent_sunset:
        return None
    raw = {"Deprecation": sent_deprecation, "Sunset": sent_sunset}
    link = _deprecation_link(lower.get("link", ""))
    if link:
        raw["Link"] = lower.get("link", "")
    return Deprecation(
        deprecated=bool(sent_deprecation) and sent_deprecation.lower() != "false",
        since=_structured_date(sent_deprecation) or _http_date(sent_deprecation),
        sunset=_http_date(sent_sunset),
        link=link,
        raw={k: scrub(v)[:1000] for k, v in raw.items() if v},  # as the headers table does
    )


def _structured_date(value: str) -> datetime.date | None:
    """RFC 9745's `@<Unix seconds>` as a UTC date."""
    if not value.startswith("@"):
        return None
    try:
        return datetime.datetime.fromtimestamp(int(value[1:]), tz=datetime.UTC).date()
    except (ValueError, OverflowError, OSError):
        return None


def _http_date(value: str) -> datetime.date | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(datetime.UTC).date()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _deprecation_link(value: str) -> str:
    for target, params in _LINK.findall(value):
        rels = " ".join(_REL.findall(params)).lower().split()
        if "deprecation" in rels and target.startswith(("https://", "http://")):
            return str(target)
    return ""
