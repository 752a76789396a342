"""A user's selection on one upstream: the models they ticked, across pages and filters.

Kept in `SelectedModel` until cleared, so it survives paging, filtering and reloads. Only
models the catalogue has as present and deletable are added (never a provider's base model),
and a selection holds at most `settings.CLEANUP_MAX_ITEMS` models: whatever would go past the
bound is left out and said so. These functions take a user and an alias, never a request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.db.models import QuerySet

from dashboard.catalogue import queries
from dashboard.catalogue.models import CatalogueModel
from dashboard.listing import ListQuery

from .models import SelectedModel

User = AuthUser | AnonymousUser


@dataclass(frozen=True)
class Added:
    """What adding did: `added` new models; `cut` more were left out by the bound."""

    added: int
    cut: int = 0
    matching: int = 0  # for "select all matching": how many deletable models matched

    @property
    def limit(self) -> int:
        return limit()


@dataclass(frozen=True)
class Bar:
    """What the selection bar above the list shows."""

    count: int
    page_ids: list[str]  # the page's deletable rows
    selected_on_page: frozenset[str] = field(default_factory=frozenset)
    matching: int | None = None  # deletable rows matching the filter, when offered
    unselected: int = 0  # of those, how many are not selected yet
    return_to: str = ""

    @property
    def all_on_page(self) -> bool:
        return bool(self.page_ids) and len(self.selected_on_page) == len(self.page_ids)

    @property
    def offer_matching(self) -> bool:
        """Django admin's offer: every row on the page ticked, more rows matching elsewhere."""
        return self.all_on_page and self.unselected > 0

    @property
    def limit(self) -> int:
        return limit()

    @property
    def matching_over_limit(self) -> bool:
        return self.matching is not None and self.matching > self.limit


def limit() -> int:
    """How many models a selection (and a request) holds at most."""
    return int(settings.CLEANUP_MAX_ITEMS)


def rows(user: User, upstream: str) -> QuerySet[SelectedModel]:
    if user.pk is None:  # signed-in users only (the site requires signing in)
        return SelectedModel.objects.none()
    return SelectedModel.objects.filter(user_id=user.pk, upstream=upstream)


def selected_ids(user: User, upstream: str) -> list[str]:
    """The selection's ids, in id order."""
    return list(rows(user, upstream).order_by("model_id").values_list("model_id", flat=True))


def count(user: User, upstream: str) -> int:
    return rows(user, upstream).count()


def deletable(upstream: str) -> QuerySet[CatalogueModel]:
    """The upstream's present models that may be selected (not a provider's base model)."""
    return queries.present(upstream).filter(is_deletable=True)


def add(user: User, upstream: str, model_ids: Iterable[str]) -> Added:
    """Add the given models that are present and deletable, in the given order, up to the
    bound."""
    wanted = list(dict.fromkeys(model_ids))
    known = set(deletable(upstream).filter(model_id__in=wanted).values_list("model_id", flat=True))
    already = set(
        rows(user, upstream).filter(model_id__in=wanted).values_list("model_id", flat=True)
    )
    new = [model_id for model_id in wanted if model_id in known and model_id not in already]
    return _insert(user, upstream, new)


def add_matching(user: User, upstream: str, query: ListQuery, now: float) -> Added:
    """Add every deletable model the list's search and filters match, across all pages, in
    the list's order, up to the bound."""
    found = queries.matching(upstream, query, now).filter(is_deletable=True)
    missing = found.exclude(model_id__in=rows(user, upstream).values("model_id"))
    unselected = missing.count()
    room = max(0, limit() - count(user, upstream))
    added = _insert(user, upstream, list(missing.values_list("model_id", flat=True)[:room]))
    return Added(added.added, unselected - added.added, found.count())


def _insert(user: User, upstream: str, new: Sequence[str]) -> Added:
    if user.pk is None:  # signed-in users only (the site requires signing in)
        return Added(0, len(new))
    room = max(0, limit() - count(user, upstream))
    taken = list(new[:room])
    SelectedModel.objects.bulk_create(
        [SelectedModel(user_id=user.pk, upstream=upstream, model_id=m) for m in taken],
        ignore_conflicts=True,  # the same tick from two tabs at once
    )
    return Added(len(taken), len(new) - len(taken))


def remove(user: User, upstream: str, model_ids: Iterable[str]) -> int:
    removed, _ = rows(user, upstream).filter(model_id__in=list(model_ids)).delete()
    return removed


def clear(user: User, upstream: str) -> int:
    removed, _ = rows(user, upstream).delete()
    return removed


def sync_page(user: User, upstream: str, shown: Iterable[str], ticked: Iterable[str]) -> Added:
    """The page's boxes as they are now: the ticked ones selected, the others not."""
    shown_ids = set(shown)
    ticked_ids = [model_id for model_id in ticked if model_id in shown_ids]
    remove(user, upstream, shown_ids - set(ticked_ids))
    return add(user, upstream, ticked_ids)


def bar(
    user: User, upstream: str, query: ListQuery, page_ids: list[str], *, now: float, return_to: str
) -> Bar:
    """The bar for a list page: the count, the page's ticked rows and, when a filter is on and
    the whole page is ticked, how many deletable models match in all and how many of those
    are not selected yet (two queries, four with the offer)."""
    on_page = rows(user, upstream).filter(model_id__in=page_ids)
    selected = frozenset(on_page.values_list("model_id", flat=True))
    found = Bar(count(user, upstream), page_ids, selected, return_to=return_to)
    if not (query.is_filtered and found.all_on_page):
        return found
    matching = queries.matching(upstream, query, now).filter(is_deletable=True)
    unselected = matching.exclude(model_id__in=rows(user, upstream).values("model_id"))
    return replace(found, matching=matching.count(), unselected=unselected.count())


def context(
    user: User, upstream: str, query: ListQuery, page_ids: list[str], *, now: float, return_to: str
) -> dict[str, object]:
    """What a list page's template needs for its boxes and bar: `selection` (the bar). The
    delete form names the selection, not its ids: the server reads them (any number of them)."""
    return {"selection": bar(user, upstream, query, page_ids, now=now, return_to=return_to)}
