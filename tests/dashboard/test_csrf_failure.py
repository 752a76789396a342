"""A refused CSRF check: signed out it is an expired session; signed in, the page was out of
date — nothing was done, the delete confirmation comes back as typed, with a fresh token."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard.accounts import STALE_TOKEN_MESSAGE
from dashboard.models import AuditEntry
from tests.markup import find, find_all

FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12Cd34"
MODELS = [
    {"id": FINE_TUNE, "object": "model", "created": 1_710_000_000, "owned_by": "acme"},
    {"id": "gpt-4o", "object": "model", "created": 1_690_000_000, "owned_by": "system"},
]
TYPED = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12"  # half typed when the token went stale
PLANTED = "x" * 32  # a well-formed token cookie the page's token does not match
HTMX = {"HX-Request": "true", "HX-Current-URL": "http://testserver/u/default/models/?q=acme"}


@pytest.fixture
def upstream(real_api: respx.MockRouter) -> respx.Route:
    """The real API's list and model, and its delete route (returned, to count the calls)."""
    real_api.get("/models").respond(json={"object": "list", "data": MODELS})
    real_api.get(f"/models/{FINE_TUNE}").respond(json=MODELS[0])
    body = {"id": FINE_TUNE, "object": "model", "deleted": True}
    return real_api.delete(f"/models/{FINE_TUNE}").mock(
        return_value=httpx.Response(200, json=body, headers={"x-request-id": "req_after_stale"})
    )


def _strict(username: str) -> Client:
    """A browser whose CSRF checks are enforced, signed in as `username`."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(username=username))
    return browser


def _with_stale_token(browser: Client) -> str:
    """Open the confirmation (the page's token), then let the token cookie change under it."""
    page = browser.get(reverse("model-delete", args=["default", FINE_TUNE]))
    token = _page_token(page.content)
    browser.cookies["csrftoken"] = PLANTED
    return token


def _page_token(content: bytes) -> str:
    """The token the page's forms carry (the confirmation's and the sign-out button's)."""
    tokens = {
        element.attrs["value"]
        for element in find_all(content, "input", type="hidden")
        if element.attrs.get("name") == "csrfmiddlewaretoken"
    }
    assert len(tokens) == 1
    return tokens.pop()


def _confirm(token: str, typed: str = TYPED) -> dict[str, str]:
    return {"confirm_id": typed, "csrfmiddlewaretoken": token, "next": "/u/default/models/?q=acme"}


def _url() -> str:
    return reverse("model-delete", args=["default", FINE_TUNE])


def test_a_stale_token_on_a_valid_session_shows_the_confirmation_again_as_typed(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")
    browser.get(
        reverse("model-list", args=["default"])
    )  # the list is cached: the page says whose model it is
    stale = _with_stale_token(browser)

    response = browser.post(_url(), _confirm(stale))

    assert response.status_code == 403
    assert find(response.content, "div", role="alert", class_="alert--warning").text == (
        STALE_TOKEN_MESSAGE
    )
    assert find(response.content, "input", id="confirm-id").attrs["value"] == TYPED
    assert (
        find(response.content, "input", name="next").attrs["value"] == "/u/default/models/?q=acme"
    )
    assert find(response.content, "h2", id="dialog-title").text == "Delete model?"
    assert "Owned by acme" in find(response.content, "p", class_="muted").text
    assert "session expired" not in response.content.decode().lower()
    assert upstream.call_count == 0
    assert not AuditEntry.objects.exists()


def test_the_second_submit_after_a_stale_token_deletes_and_is_audited(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")
    refused = browser.post(_url(), _confirm(_with_stale_token(browser), typed=FINE_TUNE))
    fresh = _page_token(refused.content)

    response = browser.post(_url(), _confirm(fresh, typed=FINE_TUNE))

    assert refused.status_code == 403
    assert response.status_code == 302
    assert response["Location"] == "/u/default/models/?q=acme"
    assert upstream.call_count == 1
    entry = AuditEntry.objects.get()
    assert (entry.username, entry.model_id, entry.outcome) == ("olivia", FINE_TUNE, "deleted")
    assert entry.upstream_request_id == "req_after_stale"


def test_a_stale_token_gets_a_new_token_cookie_not_the_one_it_was_sent_with(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")

    response = browser.post(_url(), _confirm(_with_stale_token(browser)))

    assert response.cookies["csrftoken"].value not in ("", PLANTED)


def test_a_stale_token_during_htmx_swaps_the_confirmation_into_the_dialog(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")
    stale = _with_stale_token(browser)

    response = browser.post(_url(), _confirm(stale), headers=HTMX)

    assert response.status_code == 403
    assert response["HX-Retarget"] == "#dialog"
    assert response["HX-Reswap"] == "innerHTML"
    assert "HX-Redirect" not in response
    assert find_all(response.content, "html") == []
    assert find(response.content, "div", role="alert", class_="alert--warning").text == (
        STALE_TOKEN_MESSAGE
    )
    assert find(response.content, "input", id="confirm-id").attrs["value"] == TYPED
    handed = json.loads(response["HX-Trigger"])["csrf-token"]["token"]
    in_form = _page_token(response.content)
    assert handed and in_form and stale not in (handed, in_form)
    assert upstream.call_count == 0
    assert not AuditEntry.objects.exists()


def test_the_token_handed_to_htmx_after_a_stale_token_works_for_the_second_submit(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")
    refused = browser.post(_url(), _confirm(_with_stale_token(browser)), headers=HTMX)
    handed = json.loads(refused["HX-Trigger"])["csrf-token"]["token"]

    response = browser.post(
        _url(),
        {"confirm_id": FINE_TUNE, "next": "/u/default/models/?q=acme"},
        headers={**HTMX, "X-CSRFToken": handed},
    )

    assert response.status_code == 200
    assert upstream.call_count == 1
    assert AuditEntry.objects.get().outcome == "deleted"


def test_a_stale_token_on_another_form_says_the_page_was_out_of_date(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")
    browser.get(reverse("model-list", args=["default"]))
    browser.cookies["csrftoken"] = PLANTED

    response = browser.post(
        reverse("logout"), {"csrfmiddlewaretoken": "y" * 32}, headers={"Referer": "/audit/"}
    )

    assert response.status_code == 403
    assert find(response.content, "h1").text == "This page was out of date"
    assert find(response.content, "p", class_="problem__detail").text == STALE_TOKEN_MESSAGE
    assert find(response.content, "a", class_="btn--primary").attrs["href"] == "/audit/"
    assert (
        browser.get(reverse("model-list", args=["default"])).status_code == 200
    )  # still signed in


def test_the_out_of_date_page_links_back_only_to_this_site(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")

    response = browser.post(reverse("logout"), headers={"Referer": "https://evil.example/x"})

    assert find(response.content, "a", class_="btn--primary").attrs["href"] == "/"


def test_a_stale_token_on_another_htmx_request_is_said_in_the_messages_area(
    owner: Client, upstream: respx.Route
) -> None:
    browser = _strict("olivia")

    response = browser.post(reverse("logout"), headers=HTMX)

    assert response.status_code == 403
    assert response["HX-Retarget"] == "#messages"
    assert response["HX-Reswap"] == "innerHTML"
    assert find(response.content, "div", class_="alert--warning").text == STALE_TOKEN_MESSAGE
    assert json.loads(response["HX-Trigger"])["csrf-token"]["token"]


def test_a_support_user_with_a_stale_token_on_the_delete_url_gets_no_confirmation(
    support: Client, upstream: respx.Route
) -> None:
    browser = _strict("sam")

    response = browser.post(_url(), {"confirm_id": FINE_TUNE})

    assert response.status_code == 403
    assert find(response.content, "h1").text == "This page was out of date"
    assert find_all(response.content, "input", id="confirm-id") == []
    assert upstream.call_count == 0


def test_without_a_session_a_refused_token_says_the_session_expired(
    owner: Client, upstream: respx.Route
) -> None:
    signed_out = Client(enforce_csrf_checks=True)

    response = signed_out.post(_url(), {"confirm_id": FINE_TUNE})

    assert response.status_code == 403
    assert find(response.content, "h1").text == "Your session expired"
    sign_in = find(response.content, "a", class_="btn--primary").attrs["href"]
    assert sign_in.startswith("/login/?") and "expired=1" in sign_in
    assert upstream.call_count == 0
    assert not AuditEntry.objects.exists()


def test_without_a_session_a_refused_htmx_token_redirects_to_sign_in(
    owner: Client, upstream: respx.Route
) -> None:
    signed_out = Client(enforce_csrf_checks=True)

    response = signed_out.post(_url(), {"confirm_id": FINE_TUNE}, headers=HTMX)

    assert response.status_code == 403
    assert response["HX-Redirect"].startswith("/login/?")
    assert "expired=1" in response["HX-Redirect"]
    assert "next=%2Fu%2Fdefault%2Fmodels%2F%3Fq%3Dacme" in response["HX-Redirect"]
    assert upstream.call_count == 0
