"""Upstream failures become pages (or htmx fragments) in words, never a 500."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import respx
from django.test import Client
from django.urls import reverse

from .conftest import REAL_API_KEY
from .worker import run_worker

HTMX = {"HX-Request": "true"}
REQUEST_ID = "req_err_0042"


def _text(response: Any) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, whitespace collapsed."""
    inline = re.sub(r"</?(span|a|strong|kbd|time|b|i)\b[^>]*>", "", response.content.decode())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def _ids(response: Any) -> list[str]:
    found = re.findall(r'class="mono model-id" href="[^"]*">([^<]*)</a>', response.content.decode())
    return [html.unescape(model_id) for model_id in found]


def _try_again_links(response: Any) -> list[str]:
    found = re.findall(
        r'<a class="btn btn--primary" href="([^"]*)">Try again</a>', response.content.decode()
    )
    return [html.unescape(href) for href in found]


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "acme"}


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "api_error", "param": None, "code": str(status)}}


@dataclass(frozen=True)
class Failure:
    """One way upstream can fail, and what the dashboard must answer."""

    name: str
    status: int  # what our page answers with
    title: str
    retryable: bool
    has_request_id: bool
    side_effect: type[Exception] | None = None
    upstream_status: int = 200
    body: bytes = b""
    content_type: str = "application/json"

    def apply(self, route: respx.Route) -> None:
        if self.side_effect is not None:
            route.mock(side_effect=self.side_effect(f"simulated {self.name}"))
        else:
            route.mock(
                return_value=httpx.Response(
                    self.upstream_status,
                    content=self.body,
                    headers={"content-type": self.content_type, "x-request-id": REQUEST_ID},
                )
            )


def _status_failure(upstream: int, status: int, title: str, retryable: bool) -> Failure:
    body = _error_body(upstream, f"Upstream says {upstream}.")
    return Failure(
        f"http-{upstream}",
        status,
        title,
        retryable,
        has_request_id=True,
        upstream_status=upstream,
        body=httpx.Response(200, json=body).content,
    )


FAILURES = [
    Failure(
        "connection-refused",
        502,
        "The API cannot be reached",
        retryable=True,
        has_request_id=False,
        side_effect=httpx.ConnectError,
    ),
    Failure(
        "timeout",
        504,
        "The API did not answer in time",
        retryable=True,
        has_request_id=False,
        side_effect=httpx.ReadTimeout,
    ),
    _status_failure(401, 502, "The API rejected the dashboard's key", retryable=False),
    _status_failure(403, 403, "The API refused", retryable=False),
    _status_failure(404, 404, "Not found upstream", retryable=False),
    _status_failure(429, 503, "Rate limited", retryable=True),
    _status_failure(500, 502, "The API answered with an error (500)", retryable=True),
    _status_failure(503, 502, "The API answered with an error (503)", retryable=True),
    Failure(
        "malformed-body",
        502,
        "The API sent a response we could not read",
        retryable=True,
        has_request_id=True,
        body=b"<html><body>502 Bad Gateway</body></html>",
        content_type="text/html",
    ),
    Failure(
        "json-of-the-wrong-shape",
        502,
        "The API sent a response we could not read",
        retryable=True,
        has_request_id=True,
        body=b'{"unexpected": true}',
    ),
]
STATUS_FAILURES = [f for f in FAILURES if f.name.startswith("http-")]


def _failing_route(router: respx.MockRouter, page: str) -> respx.Route:
    if page == "list":
        return router.get("/models")
    return router.get("/models/acme-model")


PAGES = {"list": "/u/default/models/?q=acme&sort=id", "detail": "/u/default/models/acme-model/"}


# --- Every failure, on both pages, full and htmx ----------------------------------------------


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
@pytest.mark.parametrize("page", ["list", "detail"])
def test_upstream_failure_gives_a_full_page_in_words_never_a_500(
    owner: Client, real_api: respx.MockRouter, failure: Failure, page: str
) -> None:
    route = _failing_route(real_api, page)
    failure.apply(route)

    response = owner.get(PAGES[page])

    assert response.status_code == failure.status
    assert route.call_count == 1
    body = response.content.decode()
    assert "<html" in body
    assert '<header class="site-header">' in body
    assert f'<h1 class="problem__title">{html.escape(failure.title)}</h1>' in body
    assert "Back to models" in _text(response)
    assert _try_again_links(response) == ([PAGES[page]] if failure.retryable else [])
    assert (f"Request id {REQUEST_ID}" in _text(response)) is failure.has_request_id


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
@pytest.mark.parametrize("page", ["list", "detail"])
def test_upstream_failure_gives_htmx_the_problem_fragment_with_the_same_status(
    owner: Client, real_api: respx.MockRouter, failure: Failure, page: str
) -> None:
    failure.apply(_failing_route(real_api, page))

    response = owner.get(PAGES[page], headers=HTMX)

    assert response.status_code == failure.status
    body = response.content.decode()
    assert "<html" not in body
    assert "site-header" not in body
    assert body.lstrip().startswith('<section class="problem card" role="alert">')
    assert f'<h1 class="problem__title">{html.escape(failure.title)}</h1>' in body
    assert _try_again_links(response) == ([PAGES[page]] if failure.retryable else [])
    assert (REQUEST_ID in body) is failure.has_request_id
    assert "hx-request" in response["Vary"].lower()


@pytest.mark.parametrize("failure", STATUS_FAILURES, ids=lambda f: f.name)
def test_problem_page_shows_the_upstream_status_and_message(
    owner: Client, real_api: respx.MockRouter, failure: Failure
) -> None:
    failure.apply(_failing_route(real_api, "list"))

    response = owner.get("/u/default/models/")

    text = _text(response)
    assert f"Upstream status {failure.upstream_status}" in text
    assert f"Upstream says {failure.upstream_status}." in text


def test_timeout_page_says_how_long_the_dashboard_waited(
    owner: Client, real_api: respx.MockRouter, settings: Any
) -> None:
    settings.UPSTREAM_TIMEOUT = 7.5
    real_api.get("/models").mock(side_effect=httpx.ReadTimeout("slow"))

    response = owner.get("/u/default/models/")

    assert response.status_code == 504
    assert "No answer within 7.5 seconds." in _text(response)


def test_a_wait_of_exactly_one_second_is_said_in_the_singular(
    owner: Client, real_api: respx.MockRouter, settings: Any
) -> None:
    settings.UPSTREAM_TIMEOUT = 1.0
    real_api.get("/models").mock(side_effect=httpx.ReadTimeout("slow"))

    response = owner.get("/u/default/models/")

    assert response.status_code == 504
    assert "No answer within 1 second." in _text(response)


def test_an_error_without_a_message_still_says_what_happened(
    owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.get("/models").respond(500, text="")

    response = owner.get("/u/default/models/")

    assert response.status_code == 502
    assert "The API answered 500 without an error message." in _text(response)


def test_detail_error_page_keeps_the_model_id_in_its_title_escaped(
    owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.get(path__startswith="/models/").respond(
        503, json=_error_body(503, "overloaded"), headers={"x-request-id": REQUEST_ID}
    )

    response = owner.get(reverse("model-detail", args=["default", "<b>m</b>"]))

    assert response.status_code == 502
    assert "<title>&lt;b&gt;m&lt;/b&gt; · Models Dashboard</title>" in response.content.decode()
    assert "no-store" in response["Cache-Control"]


# --- Untrusted messages, secrets --------------------------------------------------------------


@pytest.mark.parametrize("page", ["list", "detail"])
def test_upstream_message_is_shown_escaped_and_without_the_api_key(
    owner: Client, real_api: respx.MockRouter, page: str
) -> None:
    message = f"<img src=x onerror=alert(1)> bad request from key {REAL_API_KEY}!"
    _failing_route(real_api, page).respond(400, json=_error_body(400, message))

    for headers in ({}, HTMX):
        response = owner.get(PAGES[page], headers=headers)

        body = response.content.decode()
        assert response.status_code == 502
        assert "<img src=x" not in body
        assert "&lt;img src=x onerror=alert(1)&gt; bad request from key [redacted]!" in body
        assert REAL_API_KEY not in body


def test_a_401_with_a_masked_key_in_its_message_never_shows_the_full_key(
    owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.get("/models").respond(
        401,
        json=_error_body(401, "Incorrect API key provided: sk-li*****6789."),
        headers={"x-request-id": REQUEST_ID},
    )

    response = owner.get("/u/default/models/")

    assert response.status_code == 502
    assert "Incorrect API key provided: sk-li*****6789." in _text(response)
    assert REAL_API_KEY not in response.content.decode()
    assert _try_again_links(response) == []


# --- A cached list stays visible ---------------------------------------------------------------


def _prime(owner: Client, router: respx.MockRouter) -> respx.Route:
    route = router.get("/models").respond(
        200, json={"object": "list", "data": [_model("alpha"), _model("bravo")]}
    )
    assert _ids(owner.get("/u/default/models/", {"sort": "id"})) == ["alpha", "bravo"]
    return route


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.name)
def test_a_failed_background_refresh_keeps_the_list_with_a_warning(
    owner: Client, real_api: respx.MockRouter, failure: Failure
) -> None:
    route = _prime(owner, real_api)
    failure.apply(route)

    response = owner.get("/u/default/models/", {"sort": "id", "refresh": "1"}, headers=HTMX)
    assert route.call_count == 1  # queued, not waited for
    run_worker()
    after = owner.get("/u/default/models/", {"sort": "id"}, headers=HTMX)

    assert route.call_count == 2
    assert response.status_code == after.status_code == 200
    assert response["HX-Push-Url"] == "/u/default/models/?sort=id"
    assert "<html" not in after.content.decode()
    assert _ids(after) == ["alpha", "bravo"]
    text = _text(after)
    assert f"The last refresh failed: {failure.title}." in text
    assert re.search(r"\(will retry at \d\d:\d\d\) Showing the copy updated", text)
    assert '<span class="badge badge--warning">stale</span>' in after.content.decode()


def test_an_expired_copy_and_a_failing_upstream_still_show_the_last_list(
    owner: Client, real_api: respx.MockRouter, settings: Any
) -> None:
    route = _prime(owner, real_api)
    settings.MODELS_CACHE_SECONDS = 0
    route.respond(500, json=_error_body(500, "Upstream is on fire."))

    owner.get("/u/default/models/", {"sort": "id"})
    run_worker()
    response = owner.get("/u/default/models/", {"sort": "id"})

    assert route.call_count == 2
    assert response.status_code == 200
    assert _ids(response) == ["alpha", "bravo"]
    assert "The API answered with an error (500). Upstream is on fire." in _text(response)


def test_the_warning_goes_away_once_upstream_answers_again(
    owner: Client, real_api: respx.MockRouter, settings: Any
) -> None:
    route = _prime(owner, real_api)
    settings.MODELS_CACHE_SECONDS = 0
    settings.CATALOGUE_BACKOFF_SECONDS = 0  # retry at once, for the test
    route.mock(side_effect=httpx.ConnectError("down"))
    owner.get("/u/default/models/")
    run_worker()
    assert "The API cannot be reached" in _text(owner.get("/u/default/models/"))

    route.mock(
        side_effect=None,
        return_value=httpx.Response(200, json={"object": "list", "data": [_model("charlie")]}),
    )
    run_worker()
    response = owner.get("/u/default/models/")

    assert _ids(response) == ["charlie"]
    assert "The API cannot be reached" not in _text(response)
    assert "stale" not in _text(response)


def test_failed_refresh_without_htmx_keeps_the_list_and_says_the_refresh_failed(
    owner: Client, real_api: respx.MockRouter
) -> None:
    route = _prime(owner, real_api)
    route.respond(503, json=_error_body(503, "Try later."))

    response = owner.get("/u/default/models/", {"sort": "id", "refresh": "1"})
    run_worker()

    assert response.status_code == 302
    assert response["Location"] == "/u/default/models/?sort=id"
    page = owner.get(response["Location"])
    assert page.status_code == 200
    assert _ids(page) == ["alpha", "bravo"]
    assert "The API answered with an error (503). Try later." in _text(page)
    assert route.call_count == 2


def test_failed_refresh_without_htmx_and_without_a_cached_list_shows_the_problem_page(
    owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.get("/models").mock(side_effect=httpx.ConnectError("down"))

    response = owner.get("/u/default/models/", {"refresh": "1"}, follow=True)

    assert response.status_code == 502
    assert "The API cannot be reached" in _text(response)
    assert _try_again_links(response) == ["/u/default/models/"]


# --- The sandbox's injected faults ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "title"),
    [
        ("error-500", 502, "The API answered with an error (500)"),
        ("error-429", 503, "Rate limited"),
        ("timeout", 504, "The API did not answer in time"),
        ("unavailable", 502, "The API cannot be reached"),
        ("malformed", 502, "The API sent a response we could not read"),
    ],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["full", "htmx"])
def test_sandbox_faults_give_the_right_message_on_the_list(
    owner: Client, sandbox: int, settings: Any, fault: str, status: int, title: str, headers: dict
) -> None:
    settings.SANDBOX_FAILURE = fault

    response = owner.get("/u/default/models/", headers=headers)

    assert response.status_code == status
    assert f'<h1 class="problem__title">{title}</h1>' in response.content.decode()
    assert ("<html" in response.content.decode()) is not bool(headers)


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ("error-500", 502),
        ("error-429", 503),
        ("timeout", 504),
        ("unavailable", 502),
        ("malformed", 502),
    ],
)
def test_sandbox_faults_give_a_problem_page_on_the_detail(
    owner: Client, sandbox: int, settings: Any, fault: str, status: int
) -> None:
    settings.SANDBOX_FAILURE = fault

    response = owner.get(reverse("model-detail", args=["default", "acme/llama-3.1-8b-support"]))

    assert response.status_code == status
    assert 'class="problem__title"' in response.content.decode()


def test_sandbox_server_error_message_is_shown_with_the_request_id(
    owner: Client, sandbox: int, settings: Any
) -> None:
    settings.SANDBOX_FAILURE = "error-500"

    response = owner.get("/u/default/models/")

    text = _text(response)
    assert "The server had an error while processing your request." in text
    assert re.search(r"Request id req_[0-9a-f]{32}", text)
    assert "sk-sandbox-owner" not in response.content.decode()


def test_a_sandbox_fault_after_a_good_load_keeps_the_list_visible(
    owner: Client, sandbox: int, settings: Any
) -> None:
    first = owner.get("/u/default/models/")
    settings.SANDBOX_FAILURE = "unavailable"

    owner.get("/u/default/models/", {"refresh": "1"}, headers=HTMX)
    run_worker()
    response = owner.get("/u/default/models/", headers=HTMX)

    assert response.status_code == 200
    assert len(_ids(response)) == 50
    assert _ids(response) == _ids(first)
    assert "The API cannot be reached." in _text(response)


# --- Odd but valid data never breaks the page -------------------------------------------------


@pytest.mark.parametrize("created", [0, -86400, 10**13, 2**62])
def test_a_model_with_an_extreme_created_time_does_not_break_the_pages(
    owner: Client, real_api: respx.MockRouter, created: int
) -> None:
    odd = {"id": "odd", "object": "model", "created": created, "owned_by": "acme"}
    real_api.get("/models").respond(200, json={"object": "list", "data": [odd]})
    real_api.get("/models/odd").respond(200, json=odd)

    listing = owner.get("/u/default/models/")
    detail = owner.get("/u/default/models/odd/")

    assert listing.status_code == 200
    assert _ids(listing) == ["odd"]
    assert detail.status_code == 200
    assert f"{created}" in _text(detail)
