"""Numbered pages on the model list and the audit log: first, last, a window around the
current page; each a real link with the same htmx URL, the current one aria-current."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.models import AuditEntry
from dashboard.pagination import PageLink, paginate
from dashboard.sandbox.seed import reseed
from tests.markup import Element, find, find_all


def _numbers(pagination: list[PageLink]) -> list[int | None]:
    return [link.number for link in pagination]


def _query(number: int) -> str:
    return f"?page={number}"


@pytest.mark.parametrize(
    ("number", "shown"),
    [
        (1, [1, 2, 3, None, 20]),
        (6, [1, None, 4, 5, 6, 7, 8, None, 20]),
        (15, [1, None, 13, 14, 15, 16, 17, None, 20]),
        (20, [1, None, 18, 19, 20]),
    ],
)
def test_pages_show_the_first_the_last_and_two_either_side_of_the_current(
    number: int, shown: list[int | None]
) -> None:
    assert _numbers(paginate("/x/", number, 20, _query).links) == shown


def test_a_few_pages_are_all_shown_without_gaps() -> None:
    assert _numbers(paginate("/x/", 2, 6, _query).links) == [1, 2, 3, 4, 5, 6]


def test_only_the_current_page_is_current_and_each_page_has_its_query() -> None:
    pagination = paginate("/x/", 6, 20, _query)

    assert [link.number for link in pagination.links if link.current] == [6]
    assert {link.query for link in pagination.links if link.number} == {
        f"?page={n}" for n in (1, 4, 5, 6, 7, 8, 20)
    }
    assert (pagination.previous, pagination.next) == ("?page=5", "?page=7")


def test_the_first_page_has_no_previous_and_the_last_no_next() -> None:
    assert paginate("/x/", 1, 3, _query).previous == ""
    assert paginate("/x/", 3, 3, _query).next == ""


# --- The model list ---------------------------------------------------------------------------


def _page_links(content: bytes) -> list[Element]:
    return find_all(content, "a", class_="pagination__page")


@pytest.fixture
def many_models(db: None) -> int:
    return reseed(500)


def test_the_model_list_numbers_its_pages_around_the_current_one(
    owner: Client, many_models: int
) -> None:
    response = owner.get("/u/default/models/", {"per_page": 25, "page": 6})

    assert [link.text for link in _page_links(response.content)] == [
        "1", "4", "5", "6", "7", "8", "20",
    ]  # fmt: skip
    assert [gap.text for gap in find_all(response.content, "span", class_="pagination__gap")] == [
        "…",
        "…",
    ]
    current = find(response.content, "a", class_="pagination__page", aria_current="page")
    assert current.text == "6"
    assert current.attrs["aria-label"] == "Page 6"


def test_every_page_link_is_a_real_href_with_the_same_htmx_url_and_keeps_the_state(
    owner: Client, many_models: int
) -> None:
    state = {"q": "acme", "sort": "id", "per_page": "25"}

    response = owner.get("/u/default/models/", {**state, "page": 4})

    links = _page_links(response.content)
    assert links
    for link in links:
        href = link.attrs["href"]
        assert link.attrs["hx-get"] == "/u/default/models/" + href
        assert link.attrs["hx-target"] == "#results"
        assert link.attrs["hx-push-url"] == "true"
        params = {name: values[0] for name, values in parse_qs(urlsplit(href).query).items()}
        expected_page = {} if link.text == "1" else {"page": link.text}
        assert params == {**state, **expected_page}


def test_a_page_link_leads_to_that_page(owner: Client, many_models: int) -> None:
    first = owner.get("/u/default/models/", {"per_page": 25})
    last = next(link for link in _page_links(first.content) if link.text == "20")

    response = owner.get("/u/default/models/" + last.attrs["href"])

    assert "476–500 of 500" in find(response.content, "p", id="summary-count").text
    assert find(response.content, "a", class_="pagination__page", aria_current="page").text == "20"


def test_the_htmx_fragment_carries_the_numbered_pages(owner: Client, many_models: int) -> None:
    response = owner.get(
        "/u/default/models/", {"per_page": 25, "page": 2}, headers={"HX-Request": "true"}
    )

    assert find_all(response.content, "html") == []
    assert find(response.content, "a", class_="pagination__page", aria_current="page").text == "2"


def test_one_page_of_models_has_no_page_links(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"per_page": 100})

    assert find_all(response.content, "nav", class_="pagination") == []


# --- The audit log ----------------------------------------------------------------------------


@pytest.fixture
def many_entries(db: None) -> None:
    AuditEntry.objects.bulk_create(
        AuditEntry(
            username="olivia" if number % 2 else "adam",
            model_id=f"ft:m:acme:bulk:{number:04d}",
            model_snapshot={},
            outcome=AuditEntry.Outcome.DELETED,
            upstream="https://api.example.test/v1",
        )
        for number in range(1000)
    )


def test_the_audit_log_numbers_its_pages_and_keeps_its_filters(
    team_admin: Client, many_entries: None
) -> None:
    response = team_admin.get(reverse("audit-log"), {"user": "olivia", "page": 7})

    links = _page_links(response.content)
    assert [link.text for link in links] == ["1", "5", "6", "7", "8", "9", "10"]
    for link in links:
        assert link.attrs["href"] == f"?user=olivia&page={link.text}"
        assert link.attrs["hx-get"] == "/audit/" + link.attrs["href"]
        assert link.attrs["hx-target"] == "#audit-results"
    assert find(response.content, "a", class_="pagination__page", aria_current="page").text == "7"
    assert find(response.content, "a", rel="prev").attrs["href"] == "?user=olivia&page=6"
    assert find(response.content, "a", rel="next").attrs["href"] == "?user=olivia&page=8"


def test_an_audit_page_link_leads_to_that_page(team_admin: Client, many_entries: None) -> None:
    first = team_admin.get(reverse("audit-log"))
    last = next(link for link in _page_links(first.content) if link.text == "20")

    response = team_admin.get(reverse("audit-log") + last.attrs["href"])

    assert find(response.content, "a", class_="pagination__page", aria_current="page").text == "20"
    assert "951–1000 of 1000" in find(response.content, "p", class_="summary__count").text
