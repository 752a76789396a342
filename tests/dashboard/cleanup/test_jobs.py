"""Deletion jobs: the check, the typed count, the ledger, pacing, cancel, retry, resume.

Jobs run here with one thread (in the test's own database connection); several threads and
processes, kill -9 and PostgreSQL are proven in test_job_survives_kill.py and
test_postgres_job_workers.py.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
import respx
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.cleanup import jobs
from dashboard.cleanup.models import DeletionJob, JobItem
from dashboard.deletion import reconcile
from dashboard.models import AuditEntry
from dashboard.roles import SUPPORT
from dashboard.upstreams import Budget, get_upstream

FT = [f"ft:gpt-4o-mini-2024-07-18:acme:s{n}:Id{n:04d}" for n in range(6)]
BASE = "gpt-4o"
GONE = "ft:gpt-4o-mini-2024-07-18:acme:gone:Gone0001"


def _model(model_id: str, owned_by: str = "acme") -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_720_000_000, "owned_by": owned_by}


def _deleted(model_id: str, request_id: str = "") -> httpx.Response:
    headers = {"x-request-id": request_id} if request_id else {}
    return httpx.Response(
        200, json={"id": model_id, "object": "model", "deleted": True}, headers=headers
    )


@pytest.fixture
def api(real_api: respx.MockRouter) -> respx.MockRouter:
    """The list has the fine-tunes and one base model; deletes answer deleted unless a test
    routes them otherwise."""
    listed = [_model(model_id) for model_id in FT] + [_model(BASE, "system")]
    real_api.get("/models").respond(json={"object": "list", "data": listed})
    return real_api


@pytest.fixture
def olivia(owner: Client) -> User:
    return User.objects.get(username="olivia")


def _job(user: User, ids: list[str], **kwargs: Any) -> DeletionJob:
    job = jobs.create_job(user, get_upstream("default"), ids, **kwargs)
    DeletionJob.objects.filter(pk=job.pk).update(concurrency=1)
    job.refresh_from_db()
    return job


def _checked(user: User, ids: list[str]) -> DeletionJob:
    job = _job(user, ids)
    assert jobs.validate(job.pk) == "ready"
    job.refresh_from_db()
    return job


def _answer_the_rest(api: respx.MockRouter) -> None:
    """Any DELETE no earlier route answers: deleted (respx tries routes in the order added)."""
    api.route(method="DELETE").mock(
        side_effect=lambda request: _deleted(request.url.path.rsplit("/", 1)[1])
    )


def _run(api: respx.MockRouter, user: User, ids: list[str]) -> DeletionJob:
    job = _checked(user, ids)
    jobs.confirm(job, user, str(jobs.to_delete(job)))
    _answer_the_rest(api)
    jobs.Runner(job.pk).run()
    job.refresh_from_db()
    return job


def _items(job: DeletionJob) -> dict[str, JobItem]:
    return {item.model_id: item for item in JobItem.objects.filter(job=job)}


def _deletes(api: respx.MockRouter, model_id: str) -> int:
    return sum(
        1
        for call in api.calls
        if call.request.method == "DELETE" and call.request.url.path.endswith(model_id)
    )


# --- Creating and checking ---------------------------------------------------------------


def test_creating_a_job_deletes_nothing_and_audits_the_creation(
    api: respx.MockRouter, olivia: User
) -> None:
    job = _job(olivia, [FT[0], FT[1], FT[0]])

    assert job.status == DeletionJob.Status.VALIDATING
    assert list(JobItem.objects.filter(job=job).values_list("model_id", flat=True)) == FT[:2]
    assert api.calls.call_count == 0
    created = AuditEntry.objects.get(action="job.created")
    assert (created.job_id, created.outcome, created.username) == (job.pk, "recorded", "olivia")
    assert created.model_snapshot["count"] == 2


def test_only_owners_create_jobs(api: respx.MockRouter, team_admin: Client) -> None:
    adam = User.objects.get(username="adam")
    with pytest.raises(PermissionDenied):
        jobs.create_job(adam, get_upstream("default"), [FT[0]])
    assert not DeletionJob.objects.exists()


def test_a_job_has_a_bound_on_its_size(api: respx.MockRouter, olivia: User, settings: Any) -> None:
    settings.CLEANUP_MAX_ITEMS = 3
    with pytest.raises(ValueError, match="more than one job takes"):
        jobs.create_job(olivia, get_upstream("default"), FT[:4])
    with pytest.raises(ValueError, match="No models"):
        jobs.create_job(olivia, get_upstream("default"), [])


def test_the_check_refuses_gone_base_invalid_and_locked_models_and_deletes_nothing(
    api: respx.MockRouter, olivia: User
) -> None:
    first = _checked(olivia, [FT[0]])
    job = _checked(olivia, [FT[0], FT[1], GONE, BASE, "bad\tid"])

    items = _items(job)
    assert items[FT[1]].verdict == "ready" and items[FT[1]].holds_lock
    assert (items[FT[0]].refusal, items[FT[0]].refusal_text) == (
        "locked",
        f"Already in open job #{first.pk}.",
    )
    assert items[GONE].refusal == "gone"
    assert items[BASE].refusal == "base"
    assert "base models cannot be deleted" in items[BASE].refusal_text
    assert items[BASE].refusal != "" and not items[BASE].holds_lock
    assert items["bad\tid"].refusal == "invalid"
    assert [call.request.method for call in api.calls] == ["GET", "GET"]  # one list read each
    assert jobs.to_delete(job) == 1


def test_the_check_notes_what_the_owner_should_see(api: respx.MockRouter, olivia: User) -> None:
    job = _checked(olivia, [FT[0]])

    notes = _items(job)[FT[0]].notes
    assert "New since yesterday." in notes  # the catalogue first saw it during this check


def test_a_check_that_cannot_read_the_list_says_why_and_can_run_again(
    real_api: respx.MockRouter, olivia: User
) -> None:
    route = real_api.get("/models").respond(500, json={"error": {"message": "boom"}})
    job = _job(olivia, [FT[0]])

    assert jobs.validate(job.pk).startswith("problem:")
    job.refresh_from_db()
    assert job.status == "validating"
    assert "could not read the API's list" in job.validation_problem
    route.respond(json={"object": "list", "data": [_model(FT[0])]})
    jobs.check_again(job)
    assert jobs.validate(job.pk) == "ready"


# --- Confirming ----------------------------------------------------------------------------


def test_confirming_needs_the_exact_number_of_models(api: respx.MockRouter, olivia: User) -> None:
    job = _checked(olivia, [FT[0], FT[1], BASE])

    for typed in ("3", "", "two", "02x"):
        with pytest.raises(jobs.NotConfirmed):
            jobs.confirm(job, olivia, typed)
    job.refresh_from_db()
    assert job.status == "ready"
    jobs.confirm(job, olivia, "2")
    job.refresh_from_db()
    assert (job.status, job.confirmed_by_name) == ("running", "olivia")
    assert AuditEntry.objects.filter(action="job.confirmed", job_id=job.pk).count() == 1
    assert _deletes(api, "") == 0  # confirming queues the run; nothing deleted yet


def test_dropped_models_are_never_deleted_and_the_count_follows(
    api: respx.MockRouter, olivia: User
) -> None:
    job = _checked(olivia, FT[:3])
    dropped = _items(job)[FT[1]]

    assert jobs.drop_items(job, [dropped.pk]) == 1
    assert jobs.to_delete(job) == 2
    with pytest.raises(jobs.NotConfirmed):
        jobs.confirm(job, olivia, "3")
    jobs.confirm(job, olivia, "2")
    _answer_the_rest(api)
    jobs.Runner(job.pk).run()

    assert _deletes(api, FT[1]) == 0
    assert _deletes(api, FT[0]) == _deletes(api, FT[2]) == 1


# --- Running: the ledger -------------------------------------------------------------------


def test_the_ledger_has_each_models_outcome_from_the_shared_delete_routine(
    api: respx.MockRouter, olivia: User
) -> None:
    api.delete(f"/models/{FT[0]}").mock(return_value=_deleted(FT[0], "req_ok"))
    api.delete(f"/models/{FT[1]}").respond(404, json={"error": {"message": "gone"}})
    api.delete(f"/models/{FT[2]}").respond(
        403, json={"error": {"message": "not yours"}}, headers={"x-request-id": "req_403"}
    )
    api.delete(f"/models/{FT[3]}").respond(500, json={"error": {"message": "oops"}})
    api.get(f"/models/{FT[3]}").respond(json=_model(FT[3]))  # the check: still there
    api.delete(f"/models/{FT[4]}").mock(side_effect=httpx.ReadTimeout("slow"))
    api.get(f"/models/{FT[4]}").respond(404, json={"error": {"message": "gone"}})

    job = _run(api, olivia, FT[:5])

    items = _items(job)
    outcomes = {model_id: items[model_id].outcome for model_id in FT[:5]}
    assert outcomes == {
        FT[0]: "deleted",
        FT[1]: "already_gone",
        FT[2]: "refused",
        FT[3]: "failed",
        FT[4]: "deleted",  # the answer was lost; a check found it gone
    }
    assert items[FT[0]].upstream_request_id == "req_ok"
    assert (items[FT[2]].upstream_status, items[FT[2]].upstream_request_id) == (403, "req_403")
    assert "not deleted" in items[FT[3]].message
    for model_id in FT[:5]:
        entry = items[model_id].audit_entry
        assert entry is not None and entry.job_id == job.pk and entry.model_id == model_id
        assert _deletes(api, model_id) == 1
    assert AuditEntry.objects.get(model_id=FT[4], action="delete").confirmed_by == "check"
    assert job.status == "done" and job.finished_at is not None
    progress = jobs.progress(job)
    assert (progress.percent, progress.finished, progress.failed) == (100, 5, 1)
    assert not JobItem.objects.filter(holds_lock=True).exists()


def test_a_429_pauses_the_job_for_its_retry_after_and_the_model_is_deleted_once(
    api: respx.MockRouter, olivia: User
) -> None:
    sent: list[tuple[str, float]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        model_id = request.url.path.rsplit("/", 1)[1]
        sent.append((model_id, time.monotonic()))
        if len(sent) == 1:
            return httpx.Response(
                429, json={"error": {"message": "slow down"}}, headers={"retry-after": "1"}
            )
        return _deleted(model_id)

    api.delete(url__regex=r"/models/.+").mock(side_effect=answer)
    job = _run(api, olivia, FT[:2])

    assert [model_id for model_id, _ in sent] == [FT[0], FT[0], FT[1]]
    assert sent[1][1] - sent[0][1] >= 0.9  # every thread waited out the retry-after
    items = _items(job)
    assert items[FT[0]].outcome == "deleted" and items[FT[0]].attempts == 2
    said = list(
        AuditEntry.objects.filter(model_id=FT[0], action="delete")
        .order_by("id")
        .values_list("outcome", "upstream_status")
    )
    assert said == [("refused", 429), ("deleted", 200)]  # the 429 said "not deleted", truly


def test_no_requests_left_in_the_rate_limit_waits_for_its_reset(
    api: respx.MockRouter, olivia: User
) -> None:
    sent: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(time.monotonic())
        model_id = request.url.path.rsplit("/", 1)[1]
        response = _deleted(model_id)
        response.headers["x-ratelimit-remaining-requests"] = "0" if len(sent) == 1 else "50"
        response.headers["x-ratelimit-reset-requests"] = "1s"
        return response

    api.delete(url__regex=r"/models/.+").mock(side_effect=answer)
    job = _run(api, olivia, FT[:3])

    assert len(sent) == 3
    assert sent[1] - sent[0] >= 0.9
    assert sent[2] - sent[1] < 0.9  # requests left again: no pause
    assert {item.outcome for item in _items(job).values()} == {"deleted"}


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("1s", 1.0), ("6m0s", 360.0), ("20ms", 0.02), ("1h2m3.5s", 3723.5), ("2", 2.0)],
)
def test_rate_limit_reset_durations_are_read_as_openai_sends_them(
    header: str, seconds: float
) -> None:
    assert jobs.parse_reset(header) == pytest.approx(seconds)


@pytest.mark.parametrize("header", [None, "", "soon", "1s and more", "-"])
def test_an_unreadable_reset_is_none(header: str | None) -> None:
    assert jobs.parse_reset(header) is None


# --- Retry, cancel ---------------------------------------------------------------------------


def test_retry_the_failed_ones_makes_a_new_checked_job_over_those_items(
    api: respx.MockRouter, olivia: User
) -> None:
    api.delete(f"/models/{FT[1]}").respond(500, json={"error": {"message": "oops"}})
    api.get(f"/models/{FT[1]}").respond(json=_model(FT[1]))
    job = _run(api, olivia, FT[:3])

    retry = jobs.retry_failed(job, olivia)

    assert retry.retry_of == job and retry.status == "validating"
    assert list(JobItem.objects.filter(job=retry).values_list("model_id", flat=True)) == [FT[1]]
    assert "retry of the failed items of job" in AuditEntry.objects.get(job_id=retry.pk).message


def test_a_job_with_nothing_failed_or_still_open_has_no_retry(
    api: respx.MockRouter, olivia: User
) -> None:
    done = _run(api, olivia, [FT[0]])
    with pytest.raises(ValueError, match="Nothing failed"):
        jobs.retry_failed(done, olivia)
    open_job = _checked(olivia, [FT[1]])
    with pytest.raises(ValueError, match="still open"):
        jobs.retry_failed(open_job, olivia)


def test_cancelling_a_ready_job_skips_everything_and_frees_the_models(
    api: respx.MockRouter, olivia: User
) -> None:
    job = _checked(olivia, FT[:2])

    assert jobs.cancel(job, olivia)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert {item.outcome for item in _items(job).values()} == {"skipped"}
    again = _checked(olivia, FT[:2])
    assert jobs.to_delete(again) == 2  # no longer locked by the cancelled job
    assert not jobs.cancel(job, olivia)  # already ended
    assert AuditEntry.objects.filter(action="job.cancelled", job_id=job.pk).count() == 1


def test_cancelling_a_running_job_skips_what_has_not_started(
    api: respx.MockRouter, olivia: User
) -> None:
    job = _checked(olivia, FT[:4])

    def answer(request: httpx.Request) -> httpx.Response:
        model_id = request.url.path.rsplit("/", 1)[1]
        if model_id == FT[1]:  # the owner cancels while the second delete is in flight
            jobs.cancel(DeletionJob.objects.get(pk=job.pk), olivia)
        return _deleted(model_id)

    api.delete(url__regex=r"/models/.+").mock(side_effect=answer)
    jobs.confirm(job, olivia, "4")
    jobs.Runner(job.pk).run()

    outcomes = {model_id: item.outcome for model_id, item in _items(job).items()}
    assert outcomes == {FT[0]: "deleted", FT[1]: "deleted", FT[2]: "skipped", FT[3]: "skipped"}
    assert _deletes(api, FT[2]) == _deletes(api, FT[3]) == 0
    job.refresh_from_db()
    assert job.status == "cancelled"


# --- Runners: one at a time, resuming a dead one ---------------------------------------------


def _running(user: User, ids: list[str]) -> DeletionJob:
    job = _checked(user, ids)
    jobs.confirm(job, user, str(len(ids)))
    job.refresh_from_db()
    return job


def test_a_live_runner_keeps_a_second_one_out(api: respx.MockRouter, olivia: User) -> None:
    job = _running(olivia, FT[:2])
    DeletionJob.objects.filter(pk=job.pk).update(
        runner="another", lease_until=timezone.now() + timedelta(seconds=30)
    )

    assert jobs.Runner(job.pk).run()["outcome"] == "held by another runner"
    assert _deletes(api, "") == 0
    follow_up = DBTaskResult.objects.filter(task_path="dashboard.cleanup.tasks.run_job").last()
    assert follow_up is not None and follow_up.run_after is not None  # it watches that runner


def test_a_runner_takes_over_a_lapsed_lease_and_checks_what_was_in_flight(
    api: respx.MockRouter, olivia: User
) -> None:
    job = _running(olivia, FT[:3])
    # The first runner died (kill -9) with FT0 and FT1 in flight: it had deleted FT0, not FT1.
    DeletionJob.objects.filter(pk=job.pk).update(
        runner="dead", lease_until=timezone.now() - timedelta(seconds=1)
    )
    for model_id in FT[:2]:
        JobItem.objects.filter(job=job, model_id=model_id).update(
            state="in_flight", runner="dead", attempts=1
        )
        AuditEntry.objects.create(
            username="olivia", model_id=model_id, job_id=job.pk, upstream_alias="default"
        )
    api.get(f"/models/{FT[0]}").respond(404, json={"error": {"message": "gone"}})
    api.get(f"/models/{FT[1]}").respond(json=_model(FT[1]))

    _answer_the_rest(api)
    jobs.Runner(job.pk).run()

    items = _items(job)
    assert items[FT[0]].outcome == "already_gone"
    assert "worker stopped mid-delete" in items[FT[0]].message
    assert _deletes(api, FT[0]) == 0  # never sent again
    assert _deletes(api, FT[1]) == 1 and items[FT[1]].outcome == "deleted"
    assert _deletes(api, FT[2]) == 1
    settled = dict(
        AuditEntry.objects.filter(model_id__in=FT[:2], confirmed_by="reconcile").values_list(
            "model_id", "outcome"
        )
    )
    assert settled == {FT[0]: "deleted", FT[1]: "failed"}
    assert not AuditEntry.objects.filter(outcome__in=AuditEntry.UNSETTLED).exists()
    job.refresh_from_db()
    assert job.status == "done"


def test_a_runner_deletes_nothing_once_the_confirming_owner_may_no_longer_delete(
    api: respx.MockRouter, olivia: User
) -> None:
    job = _running(olivia, FT[:2])
    olivia.groups.set([Group.objects.get(name=SUPPORT)])

    jobs.Runner(job.pk).run()

    assert _deletes(api, "") == 0
    assert {item.outcome for item in _items(job).values()} == {"skipped"}


def test_a_later_check_settles_an_unknown_item_in_the_ledger(
    api: respx.MockRouter, olivia: User, settings: Any
) -> None:
    api.delete(f"/models/{FT[0]}").mock(side_effect=httpx.ReadTimeout("slow"))
    check = api.get(f"/models/{FT[0]}").mock(side_effect=httpx.ConnectTimeout("down"))
    job = _run(api, olivia, [FT[0]])
    assert _items(job)[FT[0]].outcome == "unknown"

    check.mock(return_value=httpx.Response(404, json={"error": {"message": "gone"}}))
    reconcile(grace=timedelta(0), budget=Budget(5))

    item = _items(job)[FT[0]]
    assert item.outcome == "deleted" and "Reconciled" in item.message


@pytest.mark.parametrize(
    ("days", "words"), [(-3, "Stopped working on {d}"), (20, "Stops working on {d} (in 20 days)")]
)
def test_the_check_notes_when_a_model_stopped_or_soon_stops_working_with_its_base(
    api: respx.MockRouter, olivia: User, days: int, words: str
) -> None:
    base = "gpt-4o-mini-2024-07-18"
    day = (timezone.now().date() + timedelta(days=days)).isoformat()
    listed = [_model(FT[0]), {**_model(base, "system"), "shutdown_date": day}]
    api.get("/models").respond(json={"object": "list", "data": listed})

    job = _checked(olivia, [FT[0]])

    expected = words.format(d=day) + f", with its base model {base}."
    assert expected in _items(job)[FT[0]].notes
