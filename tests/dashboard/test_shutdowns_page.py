"""The Shutdowns page: fine-tunes grouped by the day their base stops, days left, counts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from dashboard.catalogue.stops import shutdowns
from dashboard.catalogue.sync import sync_models
from dashboard.cleanup.selection import selected_ids
from tests.markup import find_all

TODAY = datetime.datetime.now(tz=datetime.UTC).date()


def _day(days: int) -> str:
    return (TODAY + datetime.timedelta(days=days)).isoformat()


def _fine_tunes(base: str, n: int) -> list[dict[str, Any]]:
    return [{"id": f"ft:{base}:acme:s{i}:j{base[:3]}{i}", "owned_by": "acme"} for i in range(n)]


@pytest.fixture
def catalogue(db: None) -> None:
    sync_models(
        "default",
        [
            {"id": "babbage-002", "owned_by": "system", "shutdown_date": _day(-10)},
            {"id": "gpt-3.5-turbo-0125", "owned_by": "system", "shutdown_date": _day(20)},
            {"id": "gpt-4o-mini", "owned_by": "system", "shutdown_date": _day(20)},
            {"id": "gpt-4.1", "owned_by": "system", "shutdown_date": _day(200)},
            {"id": "o3", "owned_by": "system"},
            *_fine_tunes("babbage-002", 2),
            *_fine_tunes("gpt-3.5-turbo-0125", 3),
            *_fine_tunes("gpt-4o-mini-2024-07-18", 1),
            *_fine_tunes("o3", 4),
        ],
    )


def test_fine_tunes_are_grouped_by_day_past_first_with_days_left_and_bases(
    catalogue: None,
) -> None:
    found = shutdowns("default", TODAY)

    assert [(d.day.isoformat(), d.days_left, d.count) for d in found.days] == [
        (_day(-10), -10, 2),
        (_day(20), 20, 4),
    ]
    assert found.days[1].because == ["gpt-3.5-turbo-0125", "gpt-4o-mini"]
    assert found.days[1].bases == ["gpt-3.5-turbo-0125", "gpt-4o-mini-2024-07-18"]
    assert found.undated == 4  # the o3 fine-tunes; base models are not listed


def _days(response: Any) -> list[tuple[str, str, str]]:
    """Each day on the timeline: its id, its days-left badge, what stops."""
    ids = [li.attrs["id"] for li in find_all(response.content, "li", class_="timeline__day")]
    badges = [s.text for s in find_all(response.content, "span", class_="timeline__left")]
    what = [p.text for p in find_all(response.content, "p", class_="timeline__what")]
    return list(zip(ids, badges, what, strict=True))


def test_the_page_shows_each_day_with_days_left_or_past_and_the_count(
    support: Client, catalogue: None
) -> None:
    response = support.get("/u/default/shutdowns/")

    assert response.status_code == 200
    days = _days(response)
    assert days == [
        (
            f"day-{_day(-10)}",
            "Already stopped · 10 days ago",
            "2 fine-tunes stopped working with babbage-002.",
        ),
        (
            f"day-{_day(20)}",
            "20 days left",
            "4 fine-tunes stop working with gpt-3.5-turbo-0125, gpt-4o-mini.",
        ),
    ]
    past = find_all(response.content, "li", class_="timeline__day--past")
    assert [p.attrs["id"] for p in past] == [f"day-{_day(-10)}"]
    links = {
        a.attrs["href"]
        for a in find_all(response.content, "a")
        if "/models/ft:" in a.attrs.get("href", "")
    }
    assert len(links) == 6
    assert not [b for b in find_all(response.content, "button") if "Select" in b.text]


def test_the_header_links_to_the_page(support: Client, catalogue: None) -> None:
    response = support.get("/u/default/models/")

    nav = [a for a in find_all(response.content, "a") if a.text == "Shutdowns"]
    assert [a.attrs["href"] for a in nav] == ["/u/default/shutdowns/"]


def test_without_dated_fine_tunes_the_page_says_so(support: Client, db: None) -> None:
    sync_models("default", [{"id": "o3"}, *_fine_tunes("o3", 2)])

    response = support.get("/u/default/shutdowns/")

    assert response.status_code == 200
    assert [h.text for h in find_all(response.content, "h2")] == ["No shutdowns ahead"]


def test_an_owner_selects_the_fine_tunes_of_one_day(owner: Client, catalogue: None) -> None:
    page = owner.get("/u/default/shutdowns/")
    buttons = [b.text for b in find_all(page.content, "button") if b.text.startswith("Select")]
    assert buttons == ["Select these 2", "Select these 4"]

    response = owner.post("/u/default/shutdowns/select/", {"day": _day(20)})

    assert response.status_code == 302
    assert response["Location"] == f"/u/default/shutdowns/#day-{_day(20)}"
    olivia = User.objects.get(username="olivia")
    assert selected_ids(olivia, "default") == sorted(
        [m["id"] for m in _fine_tunes("gpt-3.5-turbo-0125", 3)]
        + [m["id"] for m in _fine_tunes("gpt-4o-mini-2024-07-18", 1)]
    )


def test_support_may_not_select_from_the_page(support: Client, catalogue: None) -> None:
    response = support.post("/u/default/shutdowns/select/", {"day": _day(20)})

    assert response.status_code == 403
    assert selected_ids(User.objects.get(username="sam"), "default") == []
