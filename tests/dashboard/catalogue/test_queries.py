"""The list page from the database gives what `listing.apply` and `listing.facets` give."""

from __future__ import annotations

import datetime
import itertools
from dataclasses import replace
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dashboard import listing
from dashboard.catalogue import queries
from dashboard.catalogue.models import CatalogueModel, Change
from dashboard.catalogue.sync import sync_models
from dashboard.listing import SORTS, ListQuery, Row

pytestmark = pytest.mark.django_db

NOW = 1_780_000_000.5  # Unix seconds; not whole, so the age cut-off falls between two seconds
DAY = 86400
BASES = ("gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "o4-mini")


def catalogue_items() -> list[dict[str, Any]]:
    """Mixed case and non-ASCII ids and owners, fine-tunes of three bases, missing owners and
    creation times, ties in every sort column, and models right at the age cut-offs."""
    items: list[dict[str, Any]] = []
    base_ids = ["gpt-4o", "GPT-4o-Mini", "o3", "Straße-Embed", "STRASSE-tts", "Ärger-1", "b", "B"]
    for n, model_id in enumerate(base_ids):
        items.append(
            {
                "id": model_id,
                "object": "model",
                "created": int(NOW) - [1, 40, 100, 400, 800, 5, 5, 5][n] * DAY,
                "owned_by": ("system", "openai", "openai-internal")[n % 3],
                "shutdown_date": [None, "2026-10-23", None, "2027-06-06"][n % 4],
            }
        )
    owners = ("acme", "Acme", "globex", "Groß-Firma")
    for n in range(48):
        suffix = ("tone", "Support", "summarise", "")[n % 4]
        job = f"J{n:03d}" if n % 2 else f"j{n:03d}"
        model_id = f"ft:{BASES[n % 3]}:{owners[n % 4]}:{suffix}:{job}"
        if not suffix:
            model_id = f"ft:{BASES[n % 3]}:{owners[n % 4]}:{job}"
        if n % 11 == 0:
            model_id += ":ckpt-step-100"
        item: dict[str, Any] = {
            "id": model_id,
            "object": "model",
            "created": int(NOW) - (n % 13) * 17 * DAY,
            "owned_by": owners[n % 4].lower() if n % 5 else owners[n % 4],
            "shutdown_date": None if n % 3 else f"2027-0{n % 9 + 1}-01",
        }
        if n % 7 == 0:
            item["created"] = None
        if n % 9 == 0:
            del item["owned_by"]
        items.append(item)
    today = datetime.datetime.fromtimestamp(NOW, tz=datetime.UTC).date()
    for n, days in enumerate((-1, 0, 30, 31, 90, 91)):  # either side of the Stops cut-offs
        day = (today + datetime.timedelta(days=days)).isoformat()
        items.append({"id": f"stops-{n}", "owned_by": "system", "shutdown_date": day})
    soon = (today + datetime.timedelta(days=20)).isoformat()  # its fine-tunes stop with it:
    items.append({"id": "gpt-4.1-mini", "owned_by": "system", "shutdown_date": soon})
    for days in (30, 90, 365):  # one second either side of each cut-off
        cutoff = NOW - days * DAY
        items.append({"id": f"edge-{days}-before", "created": int(cutoff), "owned_by": "edge"})
        items.append({"id": f"edge-{days}-after", "created": int(cutoff) + 1, "owned_by": "edge"})
    return items


FILTERS: list[dict[str, str]] = [
    {},
    {"q": "acme"},
    {"q": "ACME tone"},
    {"q": "strasse"},  # casefold: matches "Straße" too
    {"q": "ß"},
    {"q": "4o"},
    {"q": "j00"},
    {"q": "nothing-matches-this"},
    {"owner": "acme"},
    {"owner": "Acme"},
    {"owner": "nobody"},
    {"kind": "base"},
    {"kind": "fine-tuned"},
    {"base": "o4-mini"},
    {"age": "30"},
    {"age": "90"},
    {"age": "365"},
    {"q": "ft", "owner": "globex", "age": "90"},
    {"kind": "fine-tuned", "base": "gpt-4o-mini-2024-07-18", "q": "s"},
    {"owner": "system", "kind": "fine-tuned"},
    {"q": "edge", "age": "90", "kind": "base"},
    {"stops": "30"},
    {"stops": "90"},
    {"stops": "past"},
    {"stops": "90", "kind": "fine-tuned"},
    {"q": "stops", "stops": "past", "owner": "system"},
]


@pytest.mark.parametrize("sort", [f"{d}{c}" for c in SORTS for d in ("", "-")])
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "&".join(map("=".join, f.items())))
def test_the_database_page_and_facets_equal_the_listing_functions(
    filters: dict[str, str], sort: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = catalogue_items()
    sync_models("default", items)
    stops = dict(
        CatalogueModel.objects.values_list("model_id", "stops_on")
    )  # a fine-tune's comes from its base model's row
    rows = [replace(Row.from_api(item), stops_on=stops[item["id"]]) for item in items]

    # Both ways to the rows: by id when few match (the default here), by the sort's index.
    for few, page in itertools.product((queries.FEW, 0), (1, 2, 3, 99)):
        monkeypatch.setattr(queries, "FEW", few)
        query = ListQuery(**filters, sort=sort, page=page, per_page=25)  # type: ignore[arg-type]
        expected = listing.apply(rows, query, NOW)

        result = queries.list_page("default", query, NOW)

        got = result.page
        assert [r.id for r in got.rows] == [r.id for r in expected.rows], query
        assert (got.total, got.number, got.num_pages, got.start, got.end) == (
            expected.total,
            expected.number,
            expected.num_pages,
            expected.start,
            expected.end,
        ), query
        assert result.facets == listing.facets(rows, query, NOW), query
        assert [m.model_id for m in result.models] == [r.id for r in got.rows]


def test_gone_models_and_other_upstreams_are_not_listed() -> None:
    sync_models("default", [{"id": "kept"}, {"id": "deleted"}])
    sync_models("default", [{"id": "kept"}])
    sync_models("other", [{"id": "elsewhere"}])

    result = queries.list_page("default", ListQuery(), NOW)

    assert [r.id for r in result.page.rows] == ["kept"]
    assert result.page.total == 1


def test_a_page_is_built_in_at_most_three_queries() -> None:
    sync_models("default", catalogue_items())

    for query in (
        ListQuery(),
        ListQuery(q="acme", owner="acme", age="30", sort="id"),
        ListQuery(stops="90", sort="-stops_on"),
    ):
        with CaptureQueriesContext(connection) as captured:
            queries.list_page("default", query, NOW)
        assert len(captured) <= 3, [q["sql"] for q in captured]


def test_page_rows_are_list_rows_with_what_upstream_sent() -> None:
    sync_models(
        "default",
        [{"id": "m", "created": None, "shutdown_date": "not a date", "extra": {"a": 1}}],
    )

    row = queries.list_page("default", ListQuery(), NOW).page.rows[0]

    assert (row.id, row.owned_by, row.created, row.shutdown_date, row.kind) == (
        "m",
        "",
        0,
        "not a date",
        "base",
    )
    assert row.data["extra"] == {"a": 1}


def test_a_filter_value_with_a_nul_character_matches_nothing() -> None:
    sync_models("default", [{"id": "m", "owned_by": "acme"}])

    for query in (ListQuery(q="a\x00"), ListQuery(owner="acme\x00"), ListQuery(base="x\x00")):
        assert queries.list_page("default", query, NOW).page.total == 0


T0 = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)


def _at(hours: int) -> datetime.datetime:
    return T0 + datetime.timedelta(hours=hours)


def test_changes_are_listed_newest_first_and_filtered_by_upstream_kind_and_time() -> None:
    sync_models("default", [{"id": "a"}], now=_at(0))
    sync_models("default", [{"id": "a"}, {"id": "b"}], now=_at(1))
    sync_models("default", [{"id": "b", "owned_by": "x"}], now=_at(2))
    sync_models("other", [], now=_at(0))
    sync_models("other", [{"id": "c"}], now=_at(3))

    def listed(**filters: Any) -> list[tuple[str, str, str]]:
        return [(c.upstream, c.model_id, c.kind) for c in queries.changes(**filters)]

    assert listed() == [
        ("other", "c", "appeared"),
        ("default", "a", "disappeared"),
        ("default", "b", "changed"),
        ("default", "b", "appeared"),
    ]
    assert listed(upstream="default", kind="appeared") == [("default", "b", "appeared")]
    assert {c[1] for c in listed(since=_at(2))} == {"a", "b", "c"}
    assert listed(upstream="other", since=_at(4)) == []


def test_history_gives_first_sighting_last_sighting_and_changes_of_a_gone_model() -> None:
    sync_models("default", [{"id": "m", "shutdown_date": None}], now=_at(0))
    sync_models("default", [{"id": "m", "shutdown_date": "2027-01-01"}], now=_at(1))
    sync_models("default", [{"id": "m", "shutdown_date": "2027-01-01"}], now=_at(2))
    sync_models("default", [], now=_at(3))

    story = queries.history("default", "m")

    assert story.model is not None
    seen = (story.model.first_seen, story.last_seen, story.model.gone_at)
    assert seen == (_at(0), _at(2), _at(3))
    assert [(c.kind, c.field) for c in story.changes] == [
        ("disappeared", ""),
        ("changed", "shutdown_date"),
    ]
    assert story.model.data == {"id": "m", "shutdown_date": "2027-01-01"}


def test_history_of_a_present_model_says_it_was_seen_in_the_latest_sync() -> None:
    sync_models("default", [{"id": "m"}], now=_at(0))
    sync_models("default", [{"id": "m"}], now=_at(5))

    story = queries.history("default", "m")

    assert story.last_seen == _at(5)
    assert story.changes == []


def test_history_of_a_model_never_seen_is_empty() -> None:
    story = queries.history("default", "never")

    assert (story.model, story.last_seen, story.changes) == (None, None, [])
    assert Change.objects.count() == 0
