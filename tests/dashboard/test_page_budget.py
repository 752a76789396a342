"""No page waits long on the upstream: all attempts and Retry-After waits fit in
UPSTREAM_PAGE_BUDGET, against a real server on loopback that rate limits, hangs and drips."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.models import AuditEntry
from tests.markup import text

from .conftest import REAL_API_KEY
from .loopback import Drip, Hang, Reply, ScriptedAPI, elapsed_since
from .worker import run_worker

FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12Cd34"
MODEL = {"id": FINE_TUNE, "object": "model", "created": 1_710_000_000, "owned_by": "acme"}
LISTING = {"object": "list", "data": [MODEL]}
RATE_LIMITED = {"error": {"message": "Rate limit reached for requests.", "type": "requests"}}
SLACK = 1.5  # test-client and scheduling overhead on a busy machine


@pytest.fixture
def api(settings: Any) -> Iterator[ScriptedAPI]:
    """The dashboard pointed at a scripted server on loopback, with a 2-second page budget."""
    server = ScriptedAPI()
    settings.OPENAI_API_KEY = REAL_API_KEY
    settings.OPENAI_BASE_URL = server.base_url
    settings.UPSTREAM_PAGE_BUDGET = 2.0
    settings.UPSTREAM_MAX_RETRIES = 2
    with server.running():
        yield server


def _text(response: Any) -> str:
    return text(response.content)


def _timed_get(browser: Client, url: str, **kwargs: Any) -> tuple[Any, float]:
    start = time.monotonic()
    response = browser.get(url, **kwargs)
    return response, elapsed_since(start)


# --- Retry-After ------------------------------------------------------------------------------


def test_a_retry_after_of_two_minutes_answers_within_the_budget_and_says_so(
    owner: Client, api: ScriptedAPI
) -> None:
    api.script("GET", "/v1/models", Reply(429, RATE_LIMITED, {"Retry-After": "120"}))

    response, took = _timed_get(owner, "/u/default/models/")

    assert took < 2.0 + SLACK
    assert response.status_code == 503
    text = _text(response)
    assert "Rate limited" in text
    assert "The API asked to retry after 2 minutes. Rate limit reached for requests." in text
    assert api.calls("GET", "/v1/models") == 1  # the wait does not fit: no second attempt


def test_the_list_keeps_its_stale_copy_when_the_api_asks_for_a_long_wait(
    owner: Client, api: ScriptedAPI, settings: Any
) -> None:
    api.script(
        "GET",
        "/v1/models",
        Reply(200, LISTING),
        Reply(429, RATE_LIMITED, {"Retry-After": "120"}),
    )
    assert owner.get("/u/default/models/").status_code == 200

    response, took = _timed_get(
        owner, "/u/default/models/", data={"refresh": "1"}, headers={"HX-Request": "true"}
    )
    settings.UPSTREAM_MAX_RETRIES = 0  # the worker would honour the 2 minutes (no page waits)
    run_worker()  # the background refresh meets the 429
    response = owner.get("/u/default/models/", headers={"HX-Request": "true"})

    assert took < 0.5 + SLACK  # the refresh is queued, not waited for
    assert response.status_code == 200
    text = _text(response)
    assert FINE_TUNE in text
    assert "stale" in text
    assert "Rate limited. The API asked to retry after 2 minutes." in text


def test_a_short_retry_after_is_waited_for_within_the_budget(
    owner: Client, api: ScriptedAPI
) -> None:
    api.script(
        "GET",
        "/v1/models",
        Reply(429, RATE_LIMITED, {"Retry-After-Ms": "200"}),
        Reply(200, LISTING),
    )

    response, took = _timed_get(owner, "/u/default/models/")

    assert response.status_code == 200
    assert FINE_TUNE in _text(response)
    assert api.calls("GET", "/v1/models") == 2
    assert 0.2 <= took < 2.0 + SLACK


# --- A hung or slow upstream -------------------------------------------------------------------


def test_a_hung_upstream_gives_the_list_page_a_504_within_the_budget(
    owner: Client, api: ScriptedAPI, settings: Any
) -> None:
    settings.UPSTREAM_TIMEOUT = 15.0  # longer than the budget: the budget wins
    settings.UPSTREAM_PAGE_BUDGET = 1.5
    api.script("GET", "/v1/models", Hang())

    response, took = _timed_get(owner, "/u/default/models/")

    assert response.status_code == 504
    assert took < 1.5 + SLACK
    waited = re.search(r"No answer within ([\d.]+) seconds\.", _text(response))
    assert waited is not None
    assert 1.0 <= float(waited.group(1)) <= 1.5  # what was left of the budget, truthfully
    assert api.calls("GET", "/v1/models") == 1


def test_the_timeout_words_count_every_attempt_and_the_total_wait(
    owner: Client, api: ScriptedAPI, settings: Any
) -> None:
    settings.UPSTREAM_TIMEOUT = 0.8
    settings.UPSTREAM_PAGE_BUDGET = 3.0
    api.script("GET", "/v1/models", Hang())

    response, took = _timed_get(owner, "/u/default/models/")

    assert response.status_code == 504
    assert took < 3.0 + SLACK
    attempts = api.calls("GET", "/v1/models")
    assert attempts == 2  # 0.8 s, a backoff under 0.5 s, 0.8 s; a backoff of 0.75 s or more
    # and another attempt do not fit in what is left
    assert "seconds in 2 attempts." in _text(response)


def test_a_body_that_drips_in_is_cut_off_by_the_attempts_timeout(
    owner: Client, api: ScriptedAPI, settings: Any
) -> None:
    settings.UPSTREAM_TIMEOUT = 0.6  # each byte comes sooner than that; the whole body does not
    settings.UPSTREAM_PAGE_BUDGET = 1.5
    settings.UPSTREAM_MAX_RETRIES = 0
    api.script("GET", f"/v1/models/{FINE_TUNE}", Drip(b'{"id": "' + b"x" * 200 + b'"}', 0.1))

    response, took = _timed_get(owner, reverse("model-detail", args=["default", FINE_TUNE]))

    assert response.status_code == 504
    assert took < 1.5 + SLACK


def test_the_detail_page_answers_within_the_budget_on_a_hung_upstream(
    owner: Client, api: ScriptedAPI
) -> None:
    api.script("GET", f"/v1/models/{FINE_TUNE}", Hang())

    response, took = _timed_get(owner, reverse("model-detail", args=["default", FINE_TUNE]))

    assert response.status_code == 504
    assert took < 2.0 + SLACK


def test_a_delete_whose_answer_never_comes_is_checked_within_the_budget(
    owner: Client, api: ScriptedAPI, settings: Any
) -> None:
    settings.UPSTREAM_PAGE_BUDGET = 4.0  # 70% for the delete, the rest for the check
    settings.UPSTREAM_MAX_RETRIES = 0
    path = f"/v1/models/{FINE_TUNE}"
    api.script("GET", path, Reply(200, MODEL), Reply(404, {"error": {"message": "gone"}}))
    api.script("DELETE", path, Hang())  # the API got it, and its answer is lost

    start = time.monotonic()
    response = owner.post(
        reverse("model-delete", args=["default", FINE_TUNE]), {"confirm_id": FINE_TUNE}
    )
    took = elapsed_since(start)

    assert response.status_code == 302
    assert took < 4.0 + SLACK
    assert api.calls("DELETE", path) == 1
    assert api.calls("GET", path) == 2  # the snapshot, then the check
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.DELETED
    assert entry.confirmed_by == AuditEntry.Confirmation.CHECK


def test_readyz_answers_within_the_budget_on_a_hung_upstream(
    client: Client, api: ScriptedAPI, settings: Any
) -> None:
    settings.UPSTREAM_PAGE_BUDGET = 1.0
    api.script("GET", "/v1/models", Hang())

    start = time.monotonic()
    response = client.get("/readyz")

    assert elapsed_since(start) < 1.0 + SLACK
    assert response.status_code == 503
    assert response.json()["checks"]["upstream"] == "error: The API did not answer in time"
