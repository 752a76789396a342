"""refresh: one at a time per upstream (a lease), backoff after failures, scrubbed errors."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
import respx
from django.utils import timezone

from dashboard.catalogue.models import CatalogueModel, SyncRun, UpstreamState
from dashboard.catalogue.sync import Fetched, claim_lease, ensure_state, refresh
from dashboard.catalogue.tasks import fetch_for

from ..conftest import REAL_API_KEY

pytestmark = pytest.mark.django_db

MODELS = [{"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system"}]


class Fetch:
    """A fetch that counts its calls and returns (or raises) what it is given."""

    def __init__(self, result: Any = MODELS) -> None:
        self.result = result
        self.calls = 0

    def __call__(self) -> Any:
        self.calls += 1
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


def _state() -> UpstreamState:
    return UpstreamState.objects.get(upstream="default")


def _seconds_until_next_attempt() -> float:
    next_attempt = _state().next_attempt_at
    assert next_attempt is not None
    return (next_attempt - timezone.now()).total_seconds()


def test_a_refresh_fetches_syncs_and_records_the_success() -> None:
    fetch = Fetch(Fetched(MODELS, request_id="req_123"))

    run = refresh("default", fetch)

    assert isinstance(run, SyncRun)
    assert (run.status, run.seen, run.request_id) == ("succeeded", 1, "req_123")
    assert fetch.calls == 1
    assert list(CatalogueModel.objects.values_list("model_id", flat=True)) == ["gpt-4o"]
    state = _state()
    assert state.last_success_at is not None and run.finished_at is not None
    assert run.started_at <= state.last_success_at <= run.finished_at
    assert (state.refresh_lease_until, state.consecutive_failures, state.last_error) == (
        None,
        0,
        "",
    )


def test_while_another_process_holds_the_lease_a_refresh_is_busy_and_fetches_nothing() -> None:
    ensure_state("default")
    UpstreamState.objects.update(refresh_lease_until=timezone.now() + datetime.timedelta(minutes=1))
    fetch = Fetch()

    assert refresh("default", fetch) == "busy"
    assert fetch.calls == 0
    assert SyncRun.objects.count() == 0


def test_a_lease_is_granted_once_until_released_or_expired(settings: Any) -> None:
    settings.CATALOGUE_REFRESH_LEASE_SECONDS = 60

    first = claim_lease("default")
    second = claim_lease("default")
    UpstreamState.objects.update(refresh_lease_until=timezone.now() - datetime.timedelta(seconds=1))
    after_expiry = claim_lease("default")

    assert isinstance(first, datetime.datetime)
    assert second == "busy"
    assert isinstance(after_expiry, datetime.datetime)  # a crashed holder does not block forever


def test_a_lease_taken_over_after_expiry_is_not_released_by_the_old_holder() -> None:
    def slow_fetch() -> list[dict[str, Any]]:
        # While this refresh runs its lease expires and another process takes it.
        later = timezone.now() + datetime.timedelta(hours=1)
        UpstreamState.objects.update(refresh_lease_until=later)
        return MODELS

    refresh("default", slow_fetch)

    assert _state().refresh_lease_until is not None  # the newer holder keeps it


def test_a_failed_refresh_records_a_scrubbed_error_and_backs_off(settings: Any) -> None:
    settings.CATALOGUE_BACKOFF_SECONDS = 30
    fetch = Fetch(RuntimeError(f"upstream said no to {settings.SANDBOX_API_KEY}"))

    run = refresh("default", fetch)

    assert isinstance(run, SyncRun)
    assert (run.status, run.error) == ("failed", "RuntimeError: upstream said no to [redacted]")
    state = _state()
    assert (state.consecutive_failures, state.last_error, state.refresh_lease_until) == (
        1,
        run.error,
        None,
    )
    assert 25 < _seconds_until_next_attempt() <= 30


def test_while_backing_off_a_refresh_says_so_without_fetching_unless_forced() -> None:
    refresh("default", Fetch(RuntimeError("down")))
    fetch = Fetch()

    assert refresh("default", fetch) == "backing off"
    assert fetch.calls == 0
    forced = refresh("default", fetch, force=True)
    assert isinstance(forced, SyncRun) and forced.status == "succeeded"
    assert fetch.calls == 1


def test_the_backoff_doubles_with_each_failure_up_to_its_cap(settings: Any) -> None:
    settings.CATALOGUE_BACKOFF_SECONDS = 10
    settings.CATALOGUE_BACKOFF_MAX_SECONDS = 35
    waits = []
    for _ in range(4):
        refresh("default", Fetch(RuntimeError("down")), force=True)
        waits.append(round(_seconds_until_next_attempt()))

    assert waits == [10, 20, 35, 35]
    assert _state().consecutive_failures == 4


def test_a_success_after_failures_ends_the_backoff() -> None:
    refresh("default", Fetch(RuntimeError("down")))
    refresh("default", Fetch(RuntimeError("down")), force=True)

    refresh("default", Fetch(), force=True)

    state = _state()
    assert (state.consecutive_failures, state.next_attempt_at, state.last_error) == (0, None, "")


def test_the_lease_is_released_even_when_the_refresh_is_interrupted() -> None:
    with pytest.raises(KeyboardInterrupt):
        refresh("default", Fetch(KeyboardInterrupt()))

    assert _state().refresh_lease_until is None


def test_an_api_error_is_stored_in_words_with_its_request_id_and_no_key(
    real_api: respx.MockRouter,
) -> None:
    real_api.get("/models").respond(
        500,
        json={"error": {"message": f"internal error for key {REAL_API_KEY}"}},
        headers={"x-request-id": "req_failed"},
    )

    run = refresh("default", fetch_for("default"))

    assert isinstance(run, SyncRun)
    assert run.status == "failed"
    assert run.request_id == "req_failed"
    assert REAL_API_KEY not in run.error and REAL_API_KEY not in _state().last_error
    assert run.error.startswith("The API answered with an error (500). internal error for key")


def test_an_unreachable_api_is_a_recorded_failure_not_an_exception(
    real_api: respx.MockRouter,
) -> None:
    real_api.get("/models").mock(side_effect=httpx.ConnectError("refused"))

    run = refresh("default", fetch_for("default"))

    assert isinstance(run, SyncRun)
    assert run.error == (
        "The API cannot be reached. The connection to the API failed. It may be down or "
        "unreachable from this server."
    )
