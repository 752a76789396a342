"""Selecting models across pages: ticks without and with htmx, the whole page, all matching
a filter (deletable rows only, bounded), review, remove, clear, and the list state kept."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx
from django.contrib.auth.models import User
from django.test import Client

from dashboard.catalogue.sync import sync_models
from dashboard.cleanup.models import DeletionJob, SelectedModel
from tests.markup import find, find_all, text

HTMX = {"HX-Request": "true"}
LIST = "/u/default/models/"
TICK = "/u/default/selection/tick/"
MATCHING = "/u/default/selection/matching/"
REVIEW = "/u/default/selection/"
REMOVE = "/u/default/selection/remove/"
CLEAR = "/u/default/selection/clear/"
DAY = 86400


def tone(n: int) -> str:
    return f"ft:gpt-4o-mini-2024-07-18:acme:tone:T{n:03d}"


def other(n: int) -> str:
    return f"ft:o4-mini-2025-04-16:acme:other:O{n:03d}"


BASES = ["gpt-4o", "gpt-4o-mini", "o3"]


def catalogue(tones: int = 120, others: int = 30) -> list[dict[str, Any]]:
    """Fine-tunes of two bases (`tone` ones older than 90 days when odd) and base models."""
    now = int(time.time())
    items: list[dict[str, Any]] = [
        {"id": b, "object": "model", "created": now - 400 * DAY, "owned_by": "system"}
        for b in BASES
    ]
    items += [
        {
            "id": tone(n),
            "object": "model",
            "created": now - (100 if n % 2 else 10) * DAY - n,
            "owned_by": "acme",
        }
        for n in range(tones)
    ]
    items += [
        {"id": other(n), "object": "model", "created": now - 5 * DAY - n, "owned_by": "acme"}
        for n in range(others)
    ]
    return items


@pytest.fixture
def listed(real_api: respx.MockRouter, db: None) -> list[dict[str, Any]]:
    """The catalogue holds a fresh copy (the list pages make no upstream call)."""
    items = catalogue()
    sync_models("default", items)
    real_api.route().respond(500)  # any upstream call would show as an error
    return items


def selected(username: str) -> set[str]:
    user = User.objects.get(username=username)
    return set(
        SelectedModel.objects.filter(user=user, upstream="default").values_list(
            "model_id", flat=True
        )
    )


def page_boxes(response: Any) -> dict[str, bool]:
    """The row checkboxes on a list page: model id -> ticked."""
    boxes = find_all(response.content, "input", type="checkbox", name="model_id")
    return {box.attrs["value"]: "checked" in box.attrs for box in boxes}


def bar_count(response: Any) -> int:
    return int(find(response.content, "strong", id="selection-count").text)


def tick(browser: Client, page_ids: list[str], ticked: list[str], return_to: str, **kw: str) -> Any:
    """The list's selection form as a browser sends it (the page's ids, the ticked ones)."""
    return browser.post(
        TICK, {"page_id": page_ids, "model_id": ticked, "return_to": return_to, **kw}
    )


def test_every_deletable_row_has_a_box_and_base_models_have_none(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    response = support.get(LIST + "?sort=id&per_page=200")

    boxes = page_boxes(response)
    assert len(boxes) == 150
    assert not set(BASES) & set(boxes)
    assert not any(boxes.values())


def test_the_boxes_are_outside_the_filter_form_so_they_never_become_filters(
    owner: Client, listed: list[dict[str, Any]]
) -> None:
    response = owner.get(LIST + "?q=tone")

    for box in find_all(response.content, "input", type="checkbox"):
        assert box.attrs["form"] == "selection-form"
    form = find(response.content, "form", id="selection-form")
    assert form.attrs["method"] == "post"
    assert form.attrs["action"] == TICK


def test_ticks_on_two_pages_of_two_sorts_add_up_and_survive_paging_without_javascript(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    first = support.get(LIST + "?sort=id")
    page_one = list(page_boxes(first))
    back = LIST + "?sort=id"
    response = tick(support, page_one, page_one[:2], back)

    assert response.status_code == 302
    assert response["Location"] == back
    third = support.get(LIST + "?sort=-created&page=3")
    page_three = list(page_boxes(third))
    tick(support, page_three, page_three[-3:], LIST + "?sort=-created&page=3")

    assert selected("sam") == {*page_one[:2], *page_three[-3:]}
    again = support.get(LIST + "?sort=id")
    assert [m for m, ticked in page_boxes(again).items() if ticked] == page_one[:2]
    assert bar_count(again) == 5
    review = support.get(REVIEW + "?return_to=" + LIST)
    assert {a.text for a in find_all(review.content, "a", class_="model-id")} == selected("sam")


def test_unticking_a_box_removes_only_that_model(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    ids = list(page_boxes(support.get(LIST + "?sort=id")))
    tick(support, ids, ids[:4], LIST)

    tick(support, ids, [ids[0], ids[2], ids[3]], LIST)

    assert selected("sam") == {ids[0], ids[2], ids[3]}


def test_a_tick_with_htmx_answers_with_the_bar_only(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    ids = list(page_boxes(support.get(LIST + "?sort=id")))

    response = support.post(
        TICK, {"page_id": ids, "model_id": [ids[7]], "return_to": LIST}, headers=HTMX
    )

    assert response.status_code == 200
    assert bar_count(response) == 1
    assert find(response.content, "div", id="selection-bar")
    assert not find_all(response.content, "table")
    assert selected("sam") == {ids[7]}


def test_ids_that_are_not_deletable_or_not_on_the_page_are_never_added(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    ids = list(page_boxes(support.get(LIST + "?sort=id")))

    tick(
        support,
        [ids[0], "gpt-4o", "no-such-model"],
        [ids[0], "gpt-4o", "no-such-model", ids[1]],
        LIST,
    )

    assert selected("sam") == {ids[0]}


def test_select_all_on_this_page_and_untick_the_page(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    ids = list(page_boxes(support.get(LIST + "?sort=id")))

    tick(support, ids, [], LIST, op="page-all")
    assert selected("sam") == set(ids)
    tick(support, ids, [], LIST, op="page")  # the header box, unticked (htmx)
    assert selected("sam") == set()
    tick(support, ids, [], LIST, op="page", all_on_page="1")  # the header box, ticked
    assert selected("sam") == set(ids)


def test_with_a_filter_and_the_page_ticked_the_bar_offers_all_matching(
    owner: Client, listed: list[dict[str, Any]]
) -> None:
    url = LIST + "?q=tone&age=90&sort=id"
    ids = list(page_boxes(owner.get(url)))
    tick(owner, ids, ids, url)

    response = owner.get(url)

    offer = find(response.content, "button", formaction=MATCHING)
    assert offer.text == "Select all 60 matching"


def test_without_a_filter_there_is_no_offer_of_all_matching(
    owner: Client, listed: list[dict[str, Any]]
) -> None:
    ids = list(page_boxes(owner.get(LIST)))
    tick(owner, ids, ids, LIST)

    assert not find_all(owner.get(LIST).content, "button", formaction=MATCHING)


def test_select_all_matching_adds_exactly_the_deletable_rows_of_the_filter_and_returns(
    owner: Client, listed: list[dict[str, Any]]
) -> None:
    back = LIST + "?q=gpt-4o&age=90&sort=-created&page=2&per_page=25"

    response = owner.post(MATCHING, {"return_to": back})

    assert response.status_code == 302
    assert response["Location"] == back
    older_tones = {tone(n) for n in range(120) if n % 2}
    assert selected("olivia") == older_tones  # not gpt-4o itself (a base model), no o4-mini
    page = owner.get(back)
    assert all(page_boxes(page).values())
    assert "Selected all 60 matching models." in text(page.content)


def test_select_all_matching_with_htmx_swaps_the_bar(
    owner: Client, listed: list[dict[str, Any]]
) -> None:
    response = owner.post(MATCHING, {"return_to": LIST + "?base=o4-mini-2025-04-16"}, headers=HTMX)

    assert response.status_code == 200
    assert bar_count(response) == 30
    assert "Selected all 30 matching models." in text(response.content)
    assert selected("olivia") == {other(n) for n in range(30)}


def test_select_all_matching_stops_at_the_bound_and_says_so(
    owner: Client, listed: list[dict[str, Any]], settings: Any
) -> None:
    settings.CLEANUP_MAX_ITEMS = 25
    ids = list(page_boxes(owner.get(LIST + "?q=o4-mini&sort=id")))
    tick(owner, ids, ids[:5], LIST)

    owner.post(MATCHING, {"return_to": LIST + "?q=tone"})

    assert len(selected("olivia")) == 25
    page = text(owner.get(LIST).content)
    assert "100 models were not added: a selection holds at most 25 models." in page


def test_the_offer_says_when_the_matching_rows_are_more_than_a_selection_holds(
    owner: Client, listed: list[dict[str, Any]], settings: Any
) -> None:
    settings.CLEANUP_MAX_ITEMS = 40
    url = LIST + "?q=tone&sort=id"
    ids = list(page_boxes(owner.get(url)))
    tick(owner, ids, ids[:40], url)
    tick(owner, ids, ids[:40], url)
    owner.post(REMOVE, {"model_id": ids[39], "return_to": url})
    tick(owner, ids, ids[:40], url)  # 40 of the page's 50: the page is not all ticked

    assert not find_all(owner.get(url).content, "button", formaction=MATCHING)
    assert len(selected("olivia")) == 40


def test_review_lists_the_selection_and_removes_one_model_staying_on_review(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    back = LIST + "?q=tone&sort=id&page=2"
    support.post(MATCHING, {"return_to": LIST + "?base=o4-mini-2025-04-16"})
    review = support.get(REVIEW, {"return_to": back})
    assert len(find_all(review.content, "a", class_="model-id")) == 30
    back_links = [
        a.attrs["href"] for a in find_all(review.content, "a") if a.text == "← Back to the list"
    ]
    assert back_links == [back]

    response = support.post(REMOVE, {"model_id": other(3), "return_to": back, "from": "review"})

    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == REVIEW
    assert parse_qs(urlsplit(response["Location"]).query)["return_to"] == [back]
    assert other(3) not in selected("sam")
    assert len(selected("sam")) == 29


def test_clear_empties_the_selection_and_goes_back_to_the_same_list(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    back = LIST + "?kind=fine-tuned&sort=owned_by&page=2"
    support.post(MATCHING, {"return_to": back})

    response = support.post(CLEAR, {"return_to": back})

    assert response["Location"] == back
    assert selected("sam") == set()
    assert bar_count(support.get(back)) == 0


def test_a_foreign_or_absolute_return_to_is_ignored(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    for foreign in (
        "https://evil.example/u/default/models/",
        "//evil.example/u/default/models/",
        "http://testserver/u/default/models/?q=tone",
        "/admin/",
        "/u/default/models/../../../admin/",
        "/u/default/models/%2e%2e/%2e%2e/admin/",
        "/u/other/models/",
    ):
        response = support.post(CLEAR, {"return_to": foreign})
        assert response["Location"] == LIST, foreign


def test_selections_are_per_user_and_per_upstream(
    support: Client, owner: Client, listed: list[dict[str, Any]]
) -> None:
    support.post(MATCHING, {"return_to": LIST + "?base=o4-mini-2025-04-16"})

    assert selected("olivia") == set()
    assert bar_count(owner.get(LIST)) == 0
    assert bar_count(support.get(LIST)) == 30


def test_owners_get_a_delete_form_that_names_the_selection_and_the_list(
    owner: Client, listed: list[dict[str, Any]]
) -> None:
    back = LIST + "?base=o4-mini-2025-04-16&sort=id"
    owner.post(MATCHING, {"return_to": back})

    page = owner.get(back)

    form = find(page.content, "form", id="deletion-form")
    assert form.attrs["action"] == "/u/default/jobs/new/"
    # The selection by reference: the server reads its ids (no hidden input per id).
    assert not find_all(page.content, "input", form="deletion-form", name="model_id")
    [named] = find_all(page.content, "input", form="deletion-form", name="selection")
    assert named.attrs["value"] == "1"
    [return_to] = find_all(page.content, "input", form="deletion-form", name="return_to")
    assert return_to.attrs["value"] == back
    assert "Request deletion…" not in text(page.content)

    response = owner.post("/u/default/jobs/new/", {"selection": "1", "return_to": back})

    job = DeletionJob.objects.get()
    assert response["Location"] == f"/u/default/jobs/{job.pk}/"
    ids = sorted(job.items.values_list("model_id", flat=True))
    assert ids == sorted(other(n) for n in range(30))
    assert job.return_to == back
    assert not SelectedModel.objects.exists()  # the selection went into the job


def test_a_selection_larger_than_a_form_may_post_becomes_one_job(
    owner: Client, settings: Any
) -> None:
    many = [
        {"id": f"ft:o4-mini-2025-04-16:acme:bulk:B{n:05d}", "object": "model", "created": 1,
         "owned_by": "acme"}
        for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 200)
    ]  # fmt: skip
    sync_models("default", many)
    owner.post(MATCHING, {"return_to": LIST + "?base=o4-mini-2025-04-16"})

    response = owner.post("/u/default/jobs/new/", {"selection": "1"})

    assert response.status_code == 302
    assert DeletionJob.objects.get().items.count() == len(many)


def test_others_get_request_deletion_instead_of_delete(
    support: Client, listed: list[dict[str, Any]]
) -> None:
    back = LIST + "?base=o4-mini-2025-04-16"
    support.post(MATCHING, {"return_to": back})

    page = support.get(back)

    assert not find_all(page.content, "form", id="deletion-form")
    [link] = [a for a in find_all(page.content, "a") if a.text == "Request deletion…"]
    assert parse_qs(urlsplit(link.attrs["href"]).query)["return_to"] == [back]


def test_selection_pages_need_access_to_the_upstream(
    listed: list[dict[str, Any]], support: Client
) -> None:
    response = support.get("/u/nowhere/selection/")
    assert response.status_code == 404
    assert Client().post(TICK, {"page_id": [tone(1)], "model_id": [tone(1)]}).status_code == 302
