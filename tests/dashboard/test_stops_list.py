"""The list's "Stops working" column, its sort and its filter with counts (issue 11 §2)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.catalogue.sync import sync_models
from tests.markup import find_all

TODAY = datetime.datetime.now(tz=datetime.UTC).date()
FT_SOON = "ft:gpt-4o-mini-2024-07-18:acme:soon:aaa111"
FT_PAST = "ft:babbage-002:acme:past:bbb222"
FT_LATER = "ft:gpt-4.1-2025-04-14:acme:later:ccc333"
FT_NEVER = "ft:o4-mini:acme:never:ddd444"


def _day(days: int) -> str:
    return (TODAY + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def catalogue(db: None) -> None:
    models: list[dict[str, Any]] = [
        {"id": "gpt-4o-mini", "owned_by": "system", "shutdown_date": _day(12)},
        {"id": "babbage-002", "owned_by": "system", "shutdown_date": _day(-3)},
        {"id": "gpt-4.1", "owned_by": "system", "shutdown_date": _day(60)},
        {"id": "o4-mini", "owned_by": "system"},
        *({"id": i, "owned_by": "acme"} for i in (FT_SOON, FT_PAST, FT_LATER, FT_NEVER)),
    ]
    sync_models("default", models)


def _cells(response: Any) -> dict[str, str]:
    """Model id → the text of its Stops working cell."""
    ids = [a.text for a in find_all(response.content, "a", class_="model-id")]
    cells = [td.text for td in find_all(response.content, "td", class_="col-stops_on")]
    return dict(zip(ids, cells, strict=True))


def _stops_options(response: Any) -> list[str]:
    """The Stops working filter's options as shown."""
    select = find_all(response.content, "select", id="facet-stops")
    assert len(select) == 1, "no Stops working filter"
    html = response.content.decode()
    start = html.index('id="facet-stops"')
    return [o.text for o in find_all(html[start : html.index("</select>", start)], "option")]


def test_the_column_says_the_date_how_far_and_with_which_base(
    owner: Client, catalogue: None
) -> None:
    cells = _cells(owner.get("/u/default/models/"))

    assert cells[FT_SOON] == f"{_day(12)} in 12 days with gpt-4o-mini"
    assert cells[FT_PAST] == f"{_day(-3)} stopped 3 days ago with babbage-002"
    assert cells["gpt-4.1"] == f"{_day(60)} in 60 days"  # its own date: no "with"
    assert cells[FT_NEVER] == "—"


def test_sorting_by_stops_working_puts_the_soonest_first_and_undated_last(
    owner: Client, catalogue: None
) -> None:
    ascending = list(_cells(owner.get("/u/default/models/", {"sort": "stops_on"})))
    descending = list(_cells(owner.get("/u/default/models/", {"sort": "-stops_on"})))

    assert ascending[:6] == ["babbage-002", FT_PAST, FT_SOON, "gpt-4o-mini", FT_LATER, "gpt-4.1"]
    assert set(ascending[6:]) == {"o4-mini", FT_NEVER}
    assert descending[2:] == ascending[:6][::-1]


@pytest.mark.parametrize(
    ("stops", "expected"),
    [
        ("30", {"gpt-4o-mini", FT_SOON}),
        ("90", {"gpt-4o-mini", FT_SOON, "gpt-4.1", FT_LATER}),
        ("past", {"babbage-002", FT_PAST}),
    ],
)
def test_the_stops_filter_keeps_the_models_in_that_window(
    owner: Client, catalogue: None, stops: str, expected: set[str]
) -> None:
    assert set(_cells(owner.get("/u/default/models/", {"stops": stops}))) == expected


def test_the_filter_counts_each_window_given_the_other_filters(
    owner: Client, catalogue: None
) -> None:
    everything = owner.get("/u/default/models/")
    fine_tunes = owner.get("/u/default/models/", {"kind": "fine-tuned", "stops": "90"})

    assert _stops_options(everything) == [
        "Any (8)",
        "Within 30 days (2)",
        "Within 90 days (4)",
        "Already past (2)",
    ]
    assert _stops_options(fine_tunes) == [
        "Any (4)",  # every fine-tune, whatever its date
        "Within 30 days (1)",
        "Within 90 days (2)",
        "Already past (1)",
    ]


def test_the_list_with_the_stops_filter_and_sort_stays_within_three_queries_for_its_rows(
    owner: Client, catalogue: None
) -> None:
    from dashboard.catalogue import queries
    from dashboard.listing import ListQuery

    query = ListQuery(stops="90", sort="-stops_on")
    with CaptureQueriesContext(connection) as captured:
        queries.list_page("default", query, datetime.datetime.now(tz=datetime.UTC).timestamp())

    assert len(captured) <= 3, [q["sql"] for q in captured]
