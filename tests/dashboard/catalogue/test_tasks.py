"""Background work: refresh and prune tasks, at most one queued refresh per upstream."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
import respx
from django.core.management import call_command
from django.db import connection
from django.tasks import TaskResultStatus
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import modelsclient
from dashboard.catalogue import tasks
from dashboard.catalogue.models import CatalogueModel, Change, SyncRun, UpstreamState
from dashboard.catalogue.sync import Fetched, ensure_state, sync_models
from dashboard.catalogue.tasks import (
    fetch_for,
    prune_changes,
    refresh_catalogue,
    request_refresh,
    schedule_pruning,
)

pytestmark = pytest.mark.django_db

IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
DUMMY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def _queued(task_path: str) -> list[DBTaskResult[Any, Any]]:
    return list(DBTaskResult.objects.filter(task_path=task_path, status=TaskResultStatus.READY))


def test_a_refresh_request_queues_one_refresh_task_for_the_upstream() -> None:
    assert request_refresh("default") == "queued"
    assert request_refresh("default") == "already queued"

    queued = _queued(refresh_catalogue.module_path)
    assert [q.args_kwargs["args"] for q in queued] == [["default"]]
    assert UpstreamState.objects.get(upstream="default").refresh_requested_at is not None


def test_asking_again_while_a_refresh_is_queued_writes_nothing() -> None:
    request_refresh("default")

    with CaptureQueriesContext(connection) as captured:
        assert request_refresh("default") == "already queued"

    assert [q["sql"] for q in captured if not q["sql"].startswith("SELECT")] == []


def test_each_upstream_gets_its_own_queued_refresh() -> None:
    assert request_refresh("default") == "queued"
    assert request_refresh("compatible") == "queued"

    assert sorted(q.args_kwargs["args"][0] for q in _queued(refresh_catalogue.module_path)) == [
        "compatible",
        "default",
    ]


def test_no_refresh_is_queued_while_one_runs_or_while_backing_off() -> None:
    ensure_state("default")
    soon = timezone.now() + datetime.timedelta(minutes=1)

    UpstreamState.objects.update(refresh_lease_until=soon)
    assert request_refresh("default") == "busy"
    UpstreamState.objects.update(refresh_lease_until=None, next_attempt_at=soon)
    assert request_refresh("default") == "backing off"

    assert _queued(refresh_catalogue.module_path) == []


def test_a_started_refresh_no_longer_counts_as_queued() -> None:
    request_refresh("default")
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING)

    assert request_refresh("default") == "queued"


def test_the_dummy_backend_is_asked_what_is_queued_too(settings: Any) -> None:
    settings.TASKS = DUMMY

    assert request_refresh("default") == "queued"
    assert request_refresh("default") == "already queued"


def test_the_worker_runs_a_queued_refresh_and_the_catalogue_fills(sandbox: int) -> None:
    request_refresh("default")

    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)

    assert CatalogueModel.objects.filter(upstream="default").count() == sandbox == 64
    result = DBTaskResult.objects.get(task_path=refresh_catalogue.module_path)
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value["outcome"] == "succeeded"
    assert result.return_value["seen"] == 64


def test_a_refresh_task_schedules_the_pruning_of_old_changes(sandbox: int) -> None:
    refresh_catalogue.call("default")

    (pruning,) = _queued(prune_changes.module_path)
    delay = pruning.run_after - timezone.now()
    assert datetime.timedelta(hours=23) < delay <= datetime.timedelta(days=1)
    refresh_catalogue.call("default")
    assert len(_queued(prune_changes.module_path)) == 1  # still one


def test_refresh_catalogue_runs_inline_on_the_immediate_backend(
    settings: Any, sandbox: int
) -> None:
    settings.TASKS = IMMEDIATE

    result = refresh_catalogue.enqueue("default")

    assert result.return_value == {
        "upstream": "default",
        "outcome": "succeeded",
        "sync_run": SyncRun.objects.get().pk,
        "seen": 64,
        "rows_written": 64,
        "error": "",
    }
    assert schedule_pruning() is False  # nothing to defer to on an inline backend


def test_the_fetch_returns_items_as_sent_with_the_request_id(real_api: respx.MockRouter) -> None:
    odd = [
        {"id": "a", "object": "model", "created": None, "owned_by": "x"},
        {"id": "b", "created": 1},
        {"id": 42, "object": "model", "created": 1, "owned_by": "y", "meta": {"deep": [1]}},
    ]
    real_api.get("/models").respond(
        json={"object": "list", "data": odd}, headers={"x-request-id": "req_list"}
    )

    fetched = fetch_for("default")()

    assert isinstance(fetched, Fetched)
    assert (list(fetched.models), fetched.request_id) == (odd, "req_list")


def test_a_list_response_without_data_is_a_failed_refresh(real_api: respx.MockRouter) -> None:
    real_api.get("/models").respond(json={"object": "list"})

    with pytest.raises(modelsclient.APIResponseValidationError):
        fetch_for("default")()


def test_an_alias_with_no_upstream_is_refused() -> None:
    with pytest.raises(LookupError):
        fetch_for("nowhere")


def test_pruning_deletes_changes_and_runs_past_the_retention_period(settings: Any) -> None:
    settings.CATALOGUE_CHANGE_RETENTION_DAYS = 30
    now = timezone.now()
    old, recent = now - datetime.timedelta(days=31), now - datetime.timedelta(days=29)
    sync_models("default", [{"id": "a"}], now=old - datetime.timedelta(hours=1))
    sync_models("default", [{"id": "b"}], now=old)
    sync_models("default", [{"id": "c"}], now=recent)

    result = prune_changes.call()

    assert result == {"changes": 2, "sync_runs": 2}
    assert sorted(Change.objects.values_list("model_id", "kind")) == [
        ("b", "disappeared"),
        ("c", "appeared"),
    ]
    assert SyncRun.objects.count() == 1
    assert CatalogueModel.objects.count() == 3  # the catalogue itself is kept
    assert len(_queued(prune_changes.module_path)) == 1  # and it scheduled its next run


def test_the_refresh_command_syncs_now_and_says_what_changed(sandbox: int) -> None:
    out = io.StringIO()

    call_command("refresh_catalogue", stdout=out)

    assert out.getvalue() == (
        "default: 64 models; 64 appeared, 0 reappeared, 0 changed, 0 disappeared, 0 skipped.\n"
    )


def test_the_refresh_command_can_queue_instead() -> None:
    out = io.StringIO()

    call_command("refresh_catalogue", "--enqueue", stdout=out)

    assert out.getvalue() == "default: queued\n"


def test_the_refresh_command_reports_a_failure(settings: Any, sandbox: int) -> None:
    settings.SANDBOX_FAILURE = "error-500"
    err = io.StringIO()

    call_command("refresh_catalogue", stderr=err)

    assert err.getvalue().startswith("default: refresh failed: The API answered with an error")


def test_the_prune_command_deletes_old_records() -> None:
    sync_models("default", [], now=timezone.now() - datetime.timedelta(days=10))
    out = io.StringIO()

    call_command("prune_catalogue", "--days", "7", stdout=out)

    assert out.getvalue() == "Deleted 0 change records and 1 sync runs.\n"
    assert tasks.conf.retention() == datetime.timedelta(days=180)  # the default
