"""/models/: full page and htmx fragment, search, filters with counts, sort, pages, cache."""

from __future__ import annotations

import html
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import respx
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.test import Client
from django_tasks_db.models import DBTaskResult

from dashboard.catalogue.tasks import refresh_catalogue
from tests.markup import Element, find_all

HTMX = {"HX-Request": "true"}
DAY = 86400


def _text(response: Any) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, whitespace collapsed."""
    inline = re.sub(r"</?(span|a|strong|kbd|time|b|i)\b[^>]*>", "", response.content.decode())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def _ids(response: Any) -> list[str]:
    """The model ids in the table, in row order."""
    found = re.findall(r'class="mono model-id" href="[^"]*">([^<]*)</a>', response.content.decode())
    return [html.unescape(model_id) for model_id in found]


def _hrefs(response: Any, css_class: str) -> list[str]:
    pattern = rf'<a class="{css_class}"[^>]*?href="([^"]*)"'
    return [html.unescape(href) for href in re.findall(pattern, response.content.decode())]


def _sort_links(response: Any) -> list[str]:
    found = re.findall(
        r'<a href="([^"]*)" hx-get="[^"]*" hx-target="#results" hx-push-url="true" class="sort',
        response.content.decode(),
    )
    return [html.unescape(href) for href in found]


def _hrefs_to_refresh(response: Any) -> list[str]:
    found = re.findall(r'<a href="([^"]*refresh=1)"', response.content.decode())
    return [html.unescape(href) for href in found]


def _aria_sort(response: Any) -> dict[str, str]:
    found = re.findall(
        r'<th scope="col" class="col-(\w+)" aria-sort="(\w+)">', response.content.decode()
    )
    return dict(found)


def _delete_labels(response: Any) -> list[str]:
    found = re.findall(r'aria-label="Delete ([^"]*)">Delete</a>', response.content.decode())
    return [html.unescape(label) for label in found]


def _params(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _option(response: Any, select_id: str, value: str) -> str:
    """The visible label of one <option> of one filter <select>."""
    page = response.content.decode()
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, f"no select #{select_id}"
    option = re.search(rf'<option value="{re.escape(value)}"[^>]*>([^<]*)</option>', select[1])
    assert option is not None, f"no option {value!r} in #{select_id}"
    return html.unescape(option[1])


def _model(model_id: str, *, owned_by: str = "acme", days_old: float = 1, **extra: Any) -> dict:
    return {
        "id": model_id,
        "object": "model",
        "created": int(time.time() - days_old * DAY),
        "owned_by": owned_by,
        **extra,
    }


def _serve(router: respx.MockRouter, models: list[dict]) -> respx.Route:
    return router.get("/models").respond(
        200, json={"object": "list", "data": models}, headers={"x-request-id": "req_list_1"}
    )


# --- Full page, fragment, login ---------------------------------------------------------------


def test_list_without_htmx_is_the_full_page(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/")

    assert response.status_code == 200
    page = response.content.decode()
    assert page.lstrip().startswith("<!doctype html>")
    assert '<header class="site-header">' in page
    assert '<form id="filters"' in page
    assert len(_ids(response)) == 50


def test_list_with_htmx_header_is_only_the_results_fragment(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", headers=HTMX)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert "site-header" not in page
    assert '<form id="filters"' not in page
    assert 'id="summary-count"' in page
    assert len(_ids(response)) == 50


def test_list_response_varies_on_the_htmx_header(owner: Client, sandbox: int) -> None:
    for headers in ({}, HTMX):
        response = owner.get("/u/default/models/", headers=headers)
        vary = [part.strip().lower() for part in response["Vary"].split(",")]
        assert "hx-request" in vary


def test_list_sends_an_anonymous_browser_to_the_login_page(client: Client, db: None) -> None:
    response = client.get("/u/default/models/?q=acme")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/u/default/models/%3Fq%3Dacme"


def test_list_answers_an_anonymous_htmx_request_with_401_and_hx_redirect(
    client: Client, db: None
) -> None:
    response = client.get("/u/default/models/", headers=HTMX)

    assert response.status_code == 401
    location = response["HX-Redirect"]
    assert urlsplit(location).path == "/login/"
    assert _params(location)["next"] == ["/u/default/models/"]
    assert b"<html" not in response.content


def test_site_root_redirects_to_the_model_list(owner: Client) -> None:
    response = owner.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/u/default/models/"


# --- Search -----------------------------------------------------------------------------------


def test_search_requires_every_word_to_match_id_or_owner(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"q": "acme triage"})

    assert sorted(_ids(response)) == [
        "ft:gpt-4.1-2025-04-14:acme:triage:1BTHaFiM",
        "ft:gpt-4.1-2025-04-14:acme:triage:KUpTXYgw",
        "ft:gpt-4o-mini-2024-07-18:acme:triage:PBScRTaQ",
    ]
    assert "1–3 of 3" in _text(response)


def test_search_is_case_insensitive(owner: Client, sandbox: int) -> None:
    lower = owner.get("/u/default/models/", {"q": "acme triage"})
    upper = owner.get("/u/default/models/", {"q": "ACME TriAGE"})

    assert len(_ids(upper)) == 3
    assert _ids(upper) == _ids(lower)


def test_search_matches_the_owner_as_well_as_the_id(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"q": "openai-internal", "per_page": 100})

    assert sorted(_ids(response)) == ["text-embedding-ada-002", "tts-1", "whisper-1"]


def test_search_with_one_word_that_matches_nothing_finds_nothing(
    owner: Client, sandbox: int
) -> None:
    response = owner.get("/u/default/models/", {"q": "triage system"})

    assert _ids(response) == []
    assert "No models match" in _text(response)
    assert "Nothing matches “triage system”" in _text(response)


# --- Filters and their counts -----------------------------------------------------------------


def test_owner_filter_shows_only_that_owners_models(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"owner": "openai", "per_page": 100})

    assert sorted(_ids(response)) == ["gpt-3.5-turbo", "gpt-4"]
    assert _option(response, "facet-owner", "openai") == "openai (2)"


def test_owner_filter_options_show_how_many_models_each_owner_has(
    owner: Client, sandbox: int
) -> None:
    response = owner.get("/u/default/models/")

    assert _option(response, "facet-owner", "acme") == "acme (38)"
    assert _option(response, "facet-owner", "system") == "system (21)"
    assert _option(response, "facet-owner", "openai") == "openai (2)"
    assert _option(response, "facet-owner", "openai-internal") == "openai-internal (3)"


def test_kind_filter_fine_tuned_shows_only_fine_tunes(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"kind": "fine-tuned", "per_page": 100})

    ids = _ids(response)
    assert len(ids) == 35
    assert all(model_id.startswith("ft:") for model_id in ids)
    assert _option(response, "facet-kind", "base") == "Base (29)"
    assert _option(response, "facet-kind", "fine-tuned") == "Fine-tuned (35)"


def test_kind_filter_base_shows_only_models_that_are_not_fine_tunes(
    owner: Client, sandbox: int
) -> None:
    response = owner.get("/u/default/models/", {"kind": "base", "per_page": 100})

    ids = _ids(response)
    assert len(ids) == 29
    assert not any(model_id.startswith("ft:") for model_id in ids)
    assert {"gpt-4o", "acme/llama-3.1-8b-support", "acme:100%-recall"} <= set(ids)


def test_base_model_filter_shows_the_fine_tunes_of_that_base(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"base": "gpt-3.5-turbo-0125"})

    assert sorted(_ids(response)) == [
        "ft:gpt-3.5-turbo-0125:acme:legal-review:fAPXrSLU",
        "ft:gpt-3.5-turbo-0125:acme:ticket-router:RA2pocvv",
        "ft:gpt-3.5-turbo-0125:acme:tone-polish:iXzSj9Co:ckpt-step-261",
    ]
    assert _option(response, "facet-base", "gpt-3.5-turbo-0125") == "gpt-3.5-turbo-0125 (3)"
    assert _option(response, "facet-base", "gpt-4.1-2025-04-14") == "gpt-4.1-2025-04-14 (9)"


def test_filter_counts_take_the_other_active_filters_into_account(
    owner: Client, sandbox: int
) -> None:
    response = owner.get("/u/default/models/", {"q": "triage"})

    assert _option(response, "facet-owner", "acme") == "acme (3)"
    assert _option(response, "facet-kind", "fine-tuned") == "Fine-tuned (3)"
    assert _option(response, "facet-kind", "base") == "Base (0)"
    assert _option(response, "facet-base", "gpt-4.1-2025-04-14") == "gpt-4.1-2025-04-14 (2)"


@pytest.mark.parametrize(
    ("params", "any_counts"),
    [
        ({}, {"owner": "64", "kind": "64", "base": "64", "age": "64"}),
        ({"q": "triage"}, {"owner": "3", "kind": "3", "base": "3", "age": "3"}),
        ({"kind": "fine-tuned"}, {"owner": "35", "kind": "64", "base": "35", "age": "35"}),
    ],
)
def test_each_filters_any_option_counts_what_the_other_filters_let_through(
    owner: Client, sandbox: int, params: dict[str, str], any_counts: dict[str, str]
) -> None:
    response = owner.get("/u/default/models/", params)

    for name, count in any_counts.items():
        assert _option(response, f"facet-{name}", "") == f"Any ({count})"


def test_the_selected_filter_option_is_marked_selected(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"owner": "openai"})

    assert '<option value="openai" selected>' in response.content.decode()
    assert '<option value="acme" selected>' not in response.content.decode()


AGED = [
    ("young", 10),
    ("month-old", 45),
    ("quarter-old", 100),
    ("year-old", 400),
    ("ancient", 700),
]


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        ("30", ["ancient", "month-old", "quarter-old", "year-old"]),
        ("90", ["ancient", "quarter-old", "year-old"]),
        ("365", ["ancient", "year-old"]),
    ],
)
def test_age_filter_shows_models_older_than_the_chosen_days(
    owner: Client, real_api: respx.MockRouter, age: str, expected: list[str]
) -> None:
    _serve(real_api, [_model(name, days_old=days) for name, days in AGED])

    response = owner.get("/u/default/models/", {"age": age})

    assert sorted(_ids(response)) == expected


def test_age_filter_options_count_the_models_older_than_each_limit(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve(real_api, [_model(name, days_old=days) for name, days in AGED])

    response = owner.get("/u/default/models/")

    assert _option(response, "facet-age", "30") == "Older than 30 days (4)"
    assert _option(response, "facet-age", "90") == "Older than 90 days (3)"
    assert _option(response, "facet-age", "365") == "Older than 365 days (2)"


def test_unknown_filter_values_are_ignored(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"kind": "evil", "age": "7"})

    assert response.status_code == 200
    assert "1–50 of 64" in _text(response)


# --- Columns ----------------------------------------------------------------------------------


def test_kind_column_shows_the_parts_of_a_fine_tune_id(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"q": "KUpTXYgw"})

    page = response.content.decode()
    assert _ids(response) == ["ft:gpt-4.1-2025-04-14:acme:triage:KUpTXYgw"]
    assert '<span class="badge badge--ft">fine-tuned</span>' in page
    assert '<span title="Base model">gpt-4.1-2025-04-14</span>' in page
    assert '<span title="Organisation">acme</span>' in page
    assert '<span title="Suffix">triage</span>' in page


def test_kind_column_says_base_for_a_model_that_is_not_a_fine_tune(
    owner: Client, sandbox: int
) -> None:
    response = owner.get("/u/default/models/", {"q": "whisper"})

    page = response.content.decode()
    assert _ids(response) == ["whisper-1"]
    assert '<span class="badge">base</span>' in page
    assert "badge--ft" not in page


def test_created_column_is_relative_with_the_exact_utc_time_on_hover(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve(real_api, [{"id": "m", "object": "model", "created": 1700000000, "owned_by": "acme"}])

    response = owner.get("/u/default/models/")

    page = response.content.decode()
    assert '<time datetime="2023-11-14T22:13:20+00:00" title="2023-11-14 22:13:20 UTC">' in page
    assert re.search(r'title="2023-11-14 22:13:20 UTC">\d+ years? ago</time>', page)


def test_shutdown_column_shows_the_date_or_a_dash(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve(real_api, [_model("retiring", shutdown_date="2026-10-23"), _model("staying")])

    response = owner.get("/u/default/models/", {"sort": "id"})

    cells = re.findall(r'<td class="col-shutdown_date"[^>]*>(.*?)</td>', response.content.decode())
    assert cells == ['<span class="mono">2026-10-23</span>', '<span class="muted">—</span>']


# --- Sorting ----------------------------------------------------------------------------------

SORTABLE = [
    _model("bravo", owned_by="zeta", days_old=3, shutdown_date="2026-05-01"),
    _model("ft:gpt-4o:acme:x:job1", owned_by="acme", days_old=9),
    _model("charlie", owned_by="mid", days_old=6, shutdown_date="2025-01-01"),
    _model("alpha", owned_by="beta", days_old=1),
]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("id", ["alpha", "bravo", "charlie", "ft:gpt-4o:acme:x:job1"]),
        ("-id", ["ft:gpt-4o:acme:x:job1", "charlie", "bravo", "alpha"]),
        ("owned_by", ["ft:gpt-4o:acme:x:job1", "alpha", "charlie", "bravo"]),
        ("-owned_by", ["bravo", "charlie", "alpha", "ft:gpt-4o:acme:x:job1"]),
        ("created", ["ft:gpt-4o:acme:x:job1", "charlie", "bravo", "alpha"]),
        ("-created", ["alpha", "bravo", "charlie", "ft:gpt-4o:acme:x:job1"]),
        ("shutdown_date", ["charlie", "bravo", "alpha", "ft:gpt-4o:acme:x:job1"]),
        ("-shutdown_date", ["ft:gpt-4o:acme:x:job1", "alpha", "bravo", "charlie"]),
        ("kind", ["alpha", "bravo", "charlie", "ft:gpt-4o:acme:x:job1"]),
        ("-kind", ["ft:gpt-4o:acme:x:job1", "charlie", "bravo", "alpha"]),
    ],
)
def test_sorting_by_a_column_orders_the_rows(
    owner: Client, real_api: respx.MockRouter, sort: str, expected: list[str]
) -> None:
    _serve(real_api, SORTABLE)

    response = owner.get("/u/default/models/", {"sort": sort})

    assert _ids(response) == expected


def test_default_sort_is_newest_first(owner: Client, real_api: respx.MockRouter) -> None:
    _serve(real_api, SORTABLE)

    response = owner.get("/u/default/models/")

    assert _ids(response) == ["alpha", "bravo", "charlie", "ft:gpt-4o:acme:x:job1"]


def test_sorted_column_header_carries_aria_sort(owner: Client, sandbox: int) -> None:
    ascending = _aria_sort(owner.get("/u/default/models/", {"sort": "owned_by"}))
    descending = _aria_sort(owner.get("/u/default/models/", {"sort": "-id"}))

    assert ascending == {
        "id": "none",
        "kind": "none",
        "owned_by": "ascending",
        "created": "none",
        "shutdown_date": "none",
        "stops_on": "none",
        "last_used": "none",
    }
    assert descending["id"] == "descending"
    assert descending["owned_by"] == "none"


def test_clicking_the_sorted_column_again_flips_its_direction(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"sort": "id", "q": "acme"})

    columns = ("id", "kind", "owned_by", "created", "shutdown_date", "stops_on", "last_used")
    links = dict(zip(columns, _sort_links(response), strict=True))
    assert _params(links["id"])["sort"] == ["-id"]
    assert _params(links["owned_by"])["sort"] == ["owned_by"]
    assert "sort" not in _params(links["created"])  # newest first is the default


# --- Pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "rows", "summary"),
    [
        ({"per_page": 25}, 25, "1–25 of 64"),
        ({"per_page": 25, "page": 2}, 25, "26–50 of 64"),
        ({"per_page": 25, "page": 3}, 14, "51–64 of 64"),
        ({"per_page": 50}, 50, "1–50 of 64"),
        ({"per_page": 50, "page": 2}, 14, "51–64 of 64"),
        ({"per_page": 100}, 64, "1–64 of 64"),
        ({"per_page": 200}, 64, "1–64 of 64"),
    ],
)
def test_page_sizes_cut_the_list_and_say_which_rows_are_shown(
    owner: Client, sandbox: int, params: dict, rows: int, summary: str
) -> None:
    response = owner.get("/u/default/models/", params)

    assert len(_ids(response)) == rows
    assert summary in _text(response)


def test_pages_do_not_overlap_and_cover_every_model(owner: Client, sandbox: int) -> None:
    pages = [owner.get("/u/default/models/", {"per_page": 25, "page": n}) for n in (1, 2, 3)]

    ids = [model_id for page in pages for model_id in _ids(page)]
    assert len(ids) == 64
    assert len(set(ids)) == 64


def test_a_page_past_the_end_shows_the_last_page(owner: Client, sandbox: int) -> None:
    last = owner.get("/u/default/models/", {"per_page": 25, "page": 3})
    past = owner.get("/u/default/models/", {"per_page": 25, "page": 99})

    assert past.status_code == 200
    assert "51–64 of 64" in _text(past)
    assert "Page 3 of 3" in _text(past)
    assert _ids(past) == _ids(last)


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "7"},
        {"sort": "evil"},
        {"sort": "--id"},
        {"page": "abc"},
        {"page": "-3"},
        {"per_page": "many", "sort": "", "page": ""},
    ],
)
def test_invalid_list_params_fall_back_to_the_defaults(
    owner: Client, sandbox: int, params: dict
) -> None:
    default = owner.get("/u/default/models/")

    response = owner.get("/u/default/models/", params)

    assert response.status_code == 200
    assert "1–50 of 64" in _text(response)
    assert _ids(response) == _ids(default)
    assert _aria_sort(response)["created"] == "descending"


def test_pagination_links_keep_search_filters_sort_and_page_size(
    owner: Client, sandbox: int
) -> None:
    response = owner.get(
        "/u/default/models/",
        {"q": "acme", "kind": "fine-tuned", "sort": "id", "per_page": 25, "page": 1},
    )

    assert "1–25 of 35" in _text(response)
    (next_link,) = _hrefs(response, "btn btn--small")
    assert _params(next_link) == {
        "q": ["acme"],
        "kind": ["fine-tuned"],
        "sort": ["id"],
        "page": ["2"],
        "per_page": ["25"],
    }
    following = owner.get("/u/default/models/" + next_link)
    assert "26–35 of 35" in _text(following)
    assert _ids(following) == sorted(_ids(following), key=str.casefold)


def test_sort_links_keep_search_filters_and_page_size_and_go_back_to_page_one(
    owner: Client, sandbox: int
) -> None:
    response = owner.get(
        "/u/default/models/",
        {"q": "acme", "owner": "acme", "base": "babbage-002", "per_page": 25, "page": 2},
    )

    links = _sort_links(response)
    assert len(links) == 7  # every sortable column
    for link in links:
        params = _params(link)
        assert params["q"] == ["acme"]
        assert params["owner"] == ["acme"]
        assert params["base"] == ["babbage-002"]
        assert params["per_page"] == ["25"]
        assert "page" not in params


def test_every_htmx_link_in_the_table_has_the_same_real_href(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"q": "acme", "per_page": 25, "page": 2})

    pairs = re.findall(r'href="([^"]*)" hx-get="([^"]*)"', response.content.decode())
    assert len(pairs) >= 7  # five sort headers, previous, next
    for href, hx_get in pairs:
        if href.startswith("?"):
            assert hx_get == "/u/default/models/" + href
        else:
            assert hx_get == href


def test_the_filter_form_keeps_the_sort_when_it_is_submitted(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"sort": "owned_by"}, headers=HTMX)

    assert '<input type="hidden" name="sort" value="owned_by">' in response.content.decode()
    assert '<option value="25">25</option>' in response.content.decode()
    assert '<option value="50" selected>50</option>' in response.content.decode()


# --- Delete buttons ---------------------------------------------------------------------------


def test_owner_sees_delete_buttons_only_for_models_not_owned_by_the_provider(
    owner: Client, sandbox: int
) -> None:
    response = owner.get("/u/default/models/", {"per_page": 100})

    deletable = _delete_labels(response)
    assert len(deletable) == 38
    assert "acme/llama-3.1-8b-support" in deletable
    assert "ft:gpt-4.1-2025-04-14:acme:triage:KUpTXYgw" in deletable
    assert not {"gpt-4o", "gpt-4", "whisper-1"} & set(deletable)


def test_delete_button_links_to_the_encoded_delete_url_and_comes_back_to_the_list(
    owner: Client, sandbox: int
) -> None:
    response = owner.get("/u/default/models/", {"q": "llama"})

    (href,) = re.findall(
        r'href="(/u/default/models/[^"]*/delete/[^"]*)"', response.content.decode()
    )
    assert html.unescape(href) == (
        "/u/default/models/acme%252Fllama-3.1-8b-support/delete/?next=/u/default/models/%3Fq%3Dllama"
    )


@pytest.mark.parametrize("role", ["support", "team_admin"])
def test_support_and_admin_never_see_delete_buttons(
    role: str, request: pytest.FixtureRequest, sandbox: int
) -> None:
    browser: Client = request.getfixturevalue(role)

    response = browser.get("/u/default/models/", {"per_page": 100})

    assert response.status_code == 200
    assert len(_ids(response)) == 64
    assert _delete_labels(response) == []
    assert "btn--danger" not in response.content.decode()


def _actions_cells(response: Any) -> tuple[list[Element], list[Element]]:
    """The Actions column's header cells and body cells."""
    return (
        find_all(response.content, "th", class_="col-actions"),
        find_all(response.content, "td", class_="col-actions"),
    )


@pytest.mark.parametrize("role", ["support", "team_admin"])
def test_users_who_may_not_delete_see_no_actions_column_at_all(
    role: str, request: pytest.FixtureRequest, sandbox: int
) -> None:
    browser: Client = request.getfixturevalue(role)

    response = browser.get("/u/default/models/", {"per_page": 25})

    assert _actions_cells(response) == ([], [])
    assert len(find_all(response.content, "th", scope="col")) == 7  # with Stops working, Last used
    # six cells on each of 25 rows, and "Last used" said once across them (not read yet)
    assert len(find_all(response.content, "td")) == 25 * 6 + 1


def test_owners_see_the_actions_column_on_every_row(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/", {"per_page": 25})

    headers, cells = _actions_cells(response)
    assert [header.text for header in headers] == ["Actions"]
    assert len(cells) == 25


# --- Cache ------------------------------------------------------------------------------------


def test_a_warm_list_makes_no_second_upstream_call(
    owner: Client, real_api: respx.MockRouter
) -> None:
    route = _serve(real_api, [_model("one", days_old=1), _model("two", days_old=2)])

    first = owner.get("/u/default/models/")
    second = owner.get("/u/default/models/", {"sort": "id"}, headers=HTMX)

    assert route.call_count == 1
    assert _ids(first) == ["one", "two"]
    assert _ids(second) == ["one", "two"]


def _queued_refreshes() -> int:
    return DBTaskResult.objects.filter(
        task_path=refresh_catalogue.module_path, status=TaskResultStatus.READY
    ).count()


def _run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)


def test_list_says_how_old_the_data_is_and_offers_refresh(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve(real_api, [_model("one")])

    response = owner.get("/u/default/models/", {"q": "one"})

    assert "Updated just now · Refresh" in _text(response)
    assert _hrefs_to_refresh(response) == ["?q=one&refresh=1"]


def test_htmx_refresh_queues_a_background_refresh_and_pushes_the_url_without_refresh(
    owner: Client, real_api: respx.MockRouter
) -> None:
    route = _serve(real_api, [_model("one")])
    owner.get("/u/default/models/")

    response = owner.get("/u/default/models/", {"q": "one", "refresh": "1"}, headers=HTMX)

    assert route.call_count == 1  # the page did not wait for the API
    assert _queued_refreshes() == 1
    assert response.status_code == 200
    assert response["HX-Push-Url"] == "/u/default/models/?q=one"
    assert _ids(response) == ["one"]
    assert "Refreshing in the background" in _text(response)
    _run_worker()
    assert route.call_count == 2


def test_refresh_without_htmx_queues_and_redirects_to_the_url_without_refresh(
    owner: Client, real_api: respx.MockRouter
) -> None:
    route = _serve(real_api, [_model("one")])
    owner.get("/u/default/models/")

    response = owner.get("/u/default/models/", {"q": "one", "sort": "id", "refresh": "1"})

    assert response.status_code == 302
    assert response["Location"] == "/u/default/models/?q=one&sort=id"
    assert _queued_refreshes() == 1
    after = owner.get(response["Location"])
    assert route.call_count == 1
    assert _ids(after) == ["one"]


def test_models_that_appeared_upstream_show_after_the_background_refresh_marked_new(
    owner: Client, real_api: respx.MockRouter
) -> None:
    route = _serve(real_api, [_model("one")])
    owner.get("/u/default/models/")
    route.respond(200, json={"object": "list", "data": [_model("one"), _model("new")]})

    stale = owner.get("/u/default/models/", {"sort": "id", "refresh": "1"}, headers=HTMX)
    _run_worker()
    fresh = owner.get("/u/default/models/", {"sort": "id"})

    assert _ids(stale) == ["one"]
    assert _ids(fresh) == ["new", "one"]
    marked = [b.text for b in find_all(fresh.content.decode(), "span", class_="badge--new")]
    assert marked == ["new"]  # only the model that appeared after the first sync


def test_a_stale_copy_is_served_at_once_and_one_refresh_is_queued(
    owner: Client, real_api: respx.MockRouter, settings: Any
) -> None:
    settings.MODELS_CACHE_SECONDS = 0
    route = _serve(real_api, [_model("one")])
    owner.get("/u/default/models/")  # the first-ever load fetches while the page waits

    for _ in range(3):
        assert _ids(owner.get("/u/default/models/")) == ["one"]

    assert route.call_count == 1
    assert _queued_refreshes() == 1  # asked three times, queued once


def test_list_sends_the_real_key_to_upstream_as_a_bearer_token(
    owner: Client, real_api: respx.MockRouter
) -> None:
    route = _serve(real_api, [_model("one")])

    owner.get("/u/default/models/")

    request = route.calls.last.request
    assert request.url == "https://api.example.test/v1/models"
    assert request.headers["Authorization"] == "Bearer sk-live-SECRET-do-not-show-0123456789"


def test_list_of_model_ids_with_markup_is_escaped(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve(real_api, [_model("<img src=x onerror=alert(1)>", owned_by="<b>evil</b>")])

    response = owner.get("/u/default/models/")

    page = response.content.decode()
    assert "<img src=x" not in page
    assert "<b>evil</b>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;b&gt;evil&lt;/b&gt;" in page


def test_an_empty_upstream_list_says_so(owner: Client, real_api: respx.MockRouter) -> None:
    _serve(real_api, [])

    response = owner.get("/u/default/models/")

    assert response.status_code == 200
    assert "No models yet" in _text(response)
    assert "The upstream API returned an empty list." in _text(response)
