"""The pages read the catalogue: fresh copies cost no upstream call, stale ones queue one
background refresh, a hung API never holds a page with a copy, gone models get a tombstone."""

from __future__ import annotations

import datetime
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.catalogue.models import CatalogueModel, UpstreamState
from dashboard.catalogue.sync import refresh, sync_models
from dashboard.upstreams import get_client
from tests.markup import find_all

from .conftest import REAL_API_KEY
from .loopback import elapsed_since, hung_listener
from .worker import queued_refreshes, run_worker

FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:pages:Pg12Ab34"
MODEL = {"id": FINE_TUNE, "object": "model", "created": 1_720_000_000, "owned_by": "acme"}
HTMX = {"HX-Request": "true"}
SLACK = 1.5


def _text(response: Any) -> str:
    return " ".join(e.text for e in find_all(response.content, "main"))


def _ids(response: Any) -> list[str]:
    return [a.text for a in find_all(response.content, "a", class_="model-id")]


@pytest.fixture
def hung(settings: Any) -> Iterator[str]:
    """The default upstream on a socket that accepts and never answers; a 2-second budget."""
    for url in hung_listener():
        settings.OPENAI_API_KEY = REAL_API_KEY
        settings.OPENAI_BASE_URL = url
        settings.UPSTREAM_PAGE_BUDGET = 2.0
        settings.UPSTREAM_TIMEOUT = 1.0
        yield url


def test_a_fresh_copy_is_served_with_no_upstream_call(
    owner: Client, real_api: respx.MockRouter
) -> None:
    sync_models("default", [MODEL])
    route = real_api.get("/models").respond(200, json={"object": "list", "data": []})

    response = owner.get("/u/default/models/")

    assert route.call_count == 0
    assert _ids(response) == [FINE_TUNE]
    assert "Updated just now" in _text(response)
    assert queued_refreshes() == 0


def test_with_a_hung_upstream_and_a_copy_every_list_page_answers_at_once(
    owner: Client, hung: str, settings: Any
) -> None:
    sync_models("default", [MODEL])
    settings.MODELS_CACHE_SECONDS = 0  # every page finds the copy stale

    took = []
    for _ in range(3):
        start = time.monotonic()
        response = owner.get("/u/default/models/")
        took.append(elapsed_since(start))
        assert response.status_code == 200
        assert _ids(response) == [FINE_TUNE]
        assert "Refreshing in the background" in _text(response)

    assert max(took) < 1.0
    assert queued_refreshes() == 1  # one refresh in flight, however many pages ask


def test_after_a_failed_refresh_pages_say_so_and_queue_nothing_while_backing_off(
    owner: Client, hung: str, settings: Any
) -> None:
    sync_models("default", [MODEL])
    settings.MODELS_CACHE_SECONDS = 0

    def no_answer() -> list[object]:
        raise TimeoutError("no answer")

    refresh("default", no_answer)
    response = owner.get("/u/default/models/")

    assert response.status_code == 200
    assert "The last refresh failed: TimeoutError: no answer (will retry at" in _text(response)
    assert queued_refreshes() == 0
    assert UpstreamState.objects.get(upstream="default").consecutive_failures == 1


def test_a_first_ever_load_on_a_hung_upstream_answers_within_the_budget_and_says_the_wait(
    owner: Client, hung: str, settings: Any
) -> None:
    settings.UPSTREAM_MAX_RETRIES = 1
    settings.UPSTREAM_PAGE_BUDGET = 4.0  # room for a second 1-second attempt and the backoff
    start = time.monotonic()
    response = owner.get("/u/default/models/")
    took = elapsed_since(start)

    assert took < 4.0 + SLACK
    assert response.status_code == 504
    assert re.search(r"No answer within [\d.]+ seconds in 2 attempts\.", _text(response))


def test_the_detail_page_shows_the_last_known_data_when_the_api_is_down(
    owner: Client, hung: str
) -> None:
    sync_models("default", [{**MODEL, "notes": "kept"}])

    response = owner.get(reverse("model-detail", args=["default", FINE_TUNE]))

    assert response.status_code == 200
    text = _text(response)
    assert "Last known data, from" in text
    assert "the API did not answer: The API did not answer in time." in text
    assert "kept" in text


def _sandbox_fine_tune(owner: Client) -> str:
    owner.get("/u/default/models/")  # the first load fills the catalogue
    found = CatalogueModel.objects.filter(upstream="default", kind="fine-tuned", gone_at=None)
    return found.order_by("model_id").values_list("model_id", flat=True).first() or ""


def test_a_model_deleted_through_the_dashboard_leaves_a_tombstone_saying_who_and_which_request(
    owner: Client, sandbox: int
) -> None:
    model_id = _sandbox_fine_tune(owner)
    owner.post(reverse("model-delete", args=["default", model_id]), {"confirm_id": model_id})

    listing = owner.get("/u/default/models/", {"q": model_id})
    response = owner.get(reverse("model-detail", args=["default", model_id]))

    assert model_id not in _ids(listing)  # dropped at once, no refresh needed
    assert response.status_code == 410
    text = _text(response)
    assert "Deleted through this dashboard by olivia" in text
    assert "upstream request id req_" in text
    assert "Delete attempts" in text


def test_a_model_deleted_elsewhere_shows_as_deleted_elsewhere(owner: Client, sandbox: int) -> None:
    model_id = _sandbox_fine_tune(owner)
    get_client("default").models.delete(model_id)  # the sandbox's own API, not the dashboard
    refresh("default", lambda: [m.to_dict() for m in get_client("default").models.list()])

    response = owner.get(reverse("model-detail", args=["default", model_id]))
    changes = owner.get(reverse("changes"), {"kind": "disappeared"})

    assert response.status_code == 410
    assert "Deleted elsewhere (not through this dashboard)" in _text(response)
    assert model_id in _text(changes)
    assert "Deleted elsewhere" in _text(changes)


def test_support_sees_the_catalogue_history_but_not_the_delete_attempts(
    support: Client, sandbox: int, owner: Client
) -> None:
    model_id = _sandbox_fine_tune(owner)

    mine = owner.get(reverse("model-detail", args=["default", model_id]))
    theirs = support.get(reverse("model-detail", args=["default", model_id]))

    assert "First seen by the dashboard" in _text(mine)
    assert "First seen by the dashboard" in _text(theirs)
    assert "Delete attempts" in _text(mine)
    assert "Delete attempts" not in _text(theirs)


def test_a_new_shutdown_date_shows_on_the_changes_page(owner: Client) -> None:
    sync_models("default", [MODEL])
    sync_models("default", [{**MODEL, "shutdown_date": "2026-01-31"}])
    sync_models("default", [MODEL, {**MODEL, "id": "other"}])

    changed = owner.get(reverse("changes"), {"kind": "changed"})
    appeared = owner.get(reverse("changes"), {"kind": "appeared"})

    assert "Shutdown date: — → 2026-01-31" in _text(changed)
    assert "other" not in _text(changed)
    assert "other" in _text(appeared)
    assert FINE_TUNE not in _text(appeared)


def test_the_changes_page_filters_by_time(owner: Client) -> None:
    long_ago = timezone.now() - datetime.timedelta(days=10)
    sync_models("default", [MODEL], now=long_ago)
    sync_models("default", [], now=long_ago + datetime.timedelta(seconds=1))

    recent = owner.get(reverse("changes"), {"since": "7"})
    ever = owner.get(reverse("changes"))

    assert "No changes" in _text(recent)
    assert FINE_TUNE in _text(ever)


def test_the_status_fragment_says_when_the_background_refresh_finished(
    owner: Client, sandbox: int
) -> None:
    owner.get("/u/default/models/")
    shown = UpstreamState.objects.get(upstream="default").last_success_at
    assert shown is not None
    owner.get("/u/default/models/", {"refresh": "1"}, headers=HTMX)
    run_worker()

    response = owner.get(
        reverse("model-list-status", args=["default"]), {"shown": shown.timestamp() - 5}
    )

    assert "Updated just now · Reload to see it" in " ".join(
        e.text for e in find_all(response.content, "p")
    )


def test_pointing_the_alias_at_another_api_drops_the_old_copy_instead_of_showing_it(
    owner: Client, sandbox: int, settings: Any
) -> None:
    sandbox_list = owner.get(reverse("model-list", args=["default"]))
    assert "gpt-4o-mini" in _text(sandbox_list)
    settings.OPENAI_API_KEY = REAL_API_KEY
    settings.OPENAI_BASE_URL = "https://other-api.example.test/v1"
    other = {"id": "only-on-the-other-api", "object": "model", "created": 1, "owned_by": "x"}

    with respx.mock(base_url="https://other-api.example.test/v1") as api:
        api.get("/models").respond(json={"object": "list", "data": [other]})
        response = owner.get(reverse("model-list", args=["default"]))

    assert _ids(response) == ["only-on-the-other-api"]
    assert set(CatalogueModel.objects.values_list("model_id", flat=True)) == {
        "only-on-the-other-api"
    }
    from dashboard.catalogue.models import Change

    assert not Change.objects.filter(cause="deleted elsewhere").exists()  # not drift
