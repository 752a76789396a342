"""Reading the Usage API: only the days not read yet, every page, rows replaced not duplicated,
backoff after failures, last_used set, and nothing called without an admin key."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
import respx

from dashboard.catalogue.models import CatalogueModel
from dashboard.catalogue.sync import sync_models
from dashboard.upstreams import get_upstream
from dashboard.usage.models import KeyDay, ModelDay, UsageState
from dashboard.usage.reading import day_start, read_usage
from dashboard.usage.tasks import request_usage_read

from ..conftest import REAL_API_KEY

pytestmark = pytest.mark.django_db

ADMIN_KEY = "sk-admin-SECRET-usage-0123456789"
USAGE = "/organization/usage/completions"
NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()
DAY = datetime.timedelta(days=1)
FT = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12"


@pytest.fixture
def admin_api(real_api: respx.MockRouter, settings: Any) -> respx.MockRouter:
    settings.OPENAI_ADMIN_KEY = ADMIN_KEY
    return real_api


def result(model: str, key: str, requests: int) -> dict[str, Any]:
    return {
        "object": "organization.usage.completions.result",
        "model": model,
        "api_key_id": key,
        "num_model_requests": requests,
        "input_tokens": requests * 100,
        "output_tokens": requests * 10,
    }


def bucket(day: datetime.date, *results: dict[str, Any]) -> dict[str, Any]:
    start = day_start(day)
    return {
        "object": "bucket",
        "start_time": start,
        "end_time": start + 86400,
        "results": list(results),
    }


def page(*buckets: dict[str, Any], next_page: str | None = None) -> httpx.Response:
    body = {"object": "page", "data": list(buckets), "has_more": bool(next_page)}
    return httpx.Response(200, json={**body, "next_page": next_page})


def test_the_first_reading_asks_for_the_window_by_day_grouped_by_model_and_key_with_the_admin_key(
    admin_api: respx.MockRouter, settings: Any
) -> None:
    settings.USAGE_DAYS = 120
    route = admin_api.get(USAGE).mock(return_value=page(bucket(TODAY, result(FT, "key_a", 3))))

    read_usage(get_upstream(), now=NOW)

    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {ADMIN_KEY}"
    assert request.url.params["start_time"] == str(day_start(TODAY - 119 * DAY))
    assert request.url.params["bucket_width"] == "1d"
    assert request.url.params.get_list("group_by[]") == ["model", "api_key_id", "project_id"]
    state = UsageState.objects.get(upstream="default")
    assert (state.first_day, state.complete_through) == (TODAY - 119 * DAY, TODAY - DAY)


def test_every_page_is_followed_and_summed_per_model_and_per_key(
    admin_api: respx.MockRouter,
) -> None:
    first = page(
        bucket(TODAY - 2 * DAY, result(FT, "key_a", 3), result(FT, "key_b", 4)),
        next_page="cursor-2",
    )
    second = page(bucket(TODAY, result(FT, "key_a", 5), result("gpt-4o", "key_b", 7)))
    route = admin_api.get(USAGE).mock(side_effect=[first, second])

    read_usage(get_upstream(), now=NOW)

    assert route.call_count == 2
    assert route.calls[1].request.url.params["page"] == "cursor-2"
    days = ModelDay.objects.order_by("day", "model_id")
    assert [(d.model_id, d.day, d.requests, d.input_tokens, d.output_tokens) for d in days] == [
        (FT, TODAY - 2 * DAY, 7, 700, 70),
        (FT, TODAY, 5, 500, 50),
        ("gpt-4o", TODAY, 7, 700, 70),
    ]
    keys = KeyDay.objects.order_by("day", "model_id", "api_key_id")
    assert [(k.model_id, k.api_key_id, k.day, k.requests) for k in keys] == [
        (FT, "key_a", TODAY - 2 * DAY, 3),
        (FT, "key_b", TODAY - 2 * DAY, 4),
        (FT, "key_a", TODAY, 5),
        ("gpt-4o", "key_b", TODAY, 7),
    ]


def test_a_second_reading_asks_only_for_the_days_not_read_completely_and_replaces_them(
    admin_api: respx.MockRouter,
) -> None:
    route = admin_api.get(USAGE)
    route.mock(
        return_value=page(
            bucket(TODAY - DAY, result(FT, "key_a", 2)), bucket(TODAY, result(FT, "key_a", 1))
        )
    )
    read_usage(get_upstream(), now=NOW)

    tomorrow = NOW + DAY
    route.mock(
        return_value=page(
            bucket(TODAY, result(FT, "key_a", 9)), bucket(TODAY + DAY, result(FT, "key_a", 4))
        )
    )
    read_usage(get_upstream(), now=tomorrow)

    assert route.calls.last.request.url.params["start_time"] == str(day_start(TODAY))
    rows = ModelDay.objects.order_by("day").values_list("day", "requests")
    assert list(rows) == [(TODAY - DAY, 2), (TODAY, 9), (TODAY + DAY, 4)]
    assert KeyDay.objects.filter(day=TODAY).count() == 1
    assert UsageState.objects.get().complete_through == TODAY


def test_a_day_that_ended_less_than_the_settling_time_ago_is_read_again(
    admin_api: respx.MockRouter, settings: Any
) -> None:
    settings.USAGE_SETTLE_HOURS = 6
    route = admin_api.get(USAGE).mock(return_value=page())
    read_usage(get_upstream(), now=NOW.replace(hour=3))

    read_usage(get_upstream(), now=NOW.replace(hour=23))

    assert UsageState.objects.get().complete_through == TODAY - DAY
    assert route.calls.last.request.url.params["start_time"] == str(day_start(TODAY - DAY))


def test_last_used_is_the_latest_day_with_requests_and_days_past_the_window_are_dropped(
    admin_api: respx.MockRouter, settings: Any
) -> None:
    settings.USAGE_DAYS = 30
    sync_models("default", [{"id": FT}, {"id": "gpt-4o"}, {"id": "idle-one"}])
    route = admin_api.get(USAGE)
    route.mock(
        return_value=page(
            bucket(TODAY - 29 * DAY, result("idle-one", "key_a", 1)),
            bucket(TODAY - 3 * DAY, result(FT, "key_a", 2)),
        )
    )
    read_usage(get_upstream(), now=NOW)

    route.mock(return_value=page(bucket(TODAY + DAY, result("gpt-4o", "key_b", 1))))
    read_usage(get_upstream(), now=NOW + DAY)

    last_used = dict(CatalogueModel.objects.values_list("model_id", "last_used"))
    assert last_used == {FT: TODAY - 3 * DAY, "gpt-4o": TODAY + DAY, "idle-one": None}
    assert not ModelDay.objects.filter(model_id="idle-one").exists()
    assert UsageState.objects.get().first_day == TODAY - 28 * DAY


def test_a_failed_reading_is_recorded_scrubbed_and_backs_off_without_calling_again(
    admin_api: respx.MockRouter,
) -> None:
    route = admin_api.get(USAGE).mock(
        return_value=httpx.Response(
            401,
            json={"error": {"message": f"Bad key {ADMIN_KEY}", "type": "invalid_request_error"}},
        )
    )

    failed = read_usage(get_upstream(), now=NOW)
    again = read_usage(get_upstream())

    assert not isinstance(failed, str)
    assert failed.consecutive_failures == 1
    assert failed.next_attempt_at is not None
    assert ADMIN_KEY not in failed.last_error and "[redacted]" in failed.last_error
    assert again == "backing off"
    assert route.call_count == 1
    assert request_usage_read("default") == "backing off"


def test_a_success_after_a_failure_clears_the_error(admin_api: respx.MockRouter) -> None:
    route = admin_api.get(USAGE).mock(side_effect=[httpx.Response(500, json={}), page()])
    read_usage(get_upstream(), now=NOW)

    state = read_usage(get_upstream(), now=NOW, force=True)

    assert route.call_count == 2
    assert not isinstance(state, str)
    assert (state.consecutive_failures, state.last_error, state.next_attempt_at) == (0, "", None)


def test_without_an_admin_key_nothing_is_called_or_queued(real_api: respx.MockRouter) -> None:
    route = real_api.get(USAGE).mock(return_value=page())

    assert read_usage(get_upstream(), now=NOW) == "no admin key"
    assert request_usage_read("default") == "no admin key"
    assert route.call_count == 0
    assert not UsageState.objects.exists()


def test_the_admin_key_is_scrubbed_like_the_api_key(admin_api: respx.MockRouter) -> None:
    from dashboard.upstreams import scrub

    assert scrub(f"{ADMIN_KEY} and {REAL_API_KEY}") == "[redacted] and [redacted]"


def test_upstreams_take_an_admin_key_from_options_or_a_variable(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROJ_B_ADMIN", "sk-admin-from-env")
    settings.UPSTREAMS = {
        "proj-a": {"API_KEY": "sk-a", "ADMIN_API_KEY": "sk-admin-a"},
        "proj-b": {"API_KEY": "sk-b", "ADMIN_API_KEY_ENV": "PROJ_B_ADMIN"},
        "proj-c": {"API_KEY": "sk-c"},
    }

    keys = {alias: get_upstream(alias).admin_api_key for alias in ("proj-a", "proj-b", "proj-c")}

    assert keys == {"proj-a": "sk-admin-a", "proj-b": "sk-admin-from-env", "proj-c": ""}
    assert "sk-admin-a" not in repr(get_upstream("proj-a"))
    assert get_upstream("default").admin_api_key == "sk-sandbox-admin"  # sandbox mode


def test_a_page_queues_one_reading_when_usage_is_due(admin_api: respx.MockRouter) -> None:
    from django_tasks_db.models import DBTaskResult

    assert request_usage_read("default") == "queued"
    assert request_usage_read("default") == "already queued"
    assert DBTaskResult.objects.filter(task_path__endswith="read_usage_task").count() == 1


def test_the_task_reads_and_schedules_the_next_reading_an_interval_later(
    admin_api: respx.MockRouter, settings: Any
) -> None:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from dashboard.usage.tasks import read_usage_task

    settings.USAGE_REFRESH_SECONDS = 3600
    admin_api.get(USAGE).mock(return_value=page())

    outcome = read_usage_task.call("default")

    assert outcome["outcome"] == "succeeded"
    waiting = DBTaskResult.objects.get(task_path__endswith="read_usage_task")
    assert waiting.run_after > timezone.now() + datetime.timedelta(minutes=59)


def _key(key_id: str, name: str, owner: dict[str, Any]) -> dict[str, Any]:
    return {"object": "organization.project.api_key", "id": key_id, "name": name, "owner": owner}


def test_key_names_and_owners_are_read_for_the_projects_the_usage_came_from(
    admin_api: respx.MockRouter,
) -> None:
    from dashboard.usage.models import KeyName

    used = result(FT, "key_a", 3) | {"project_id": "proj_1"}
    admin_api.get(USAGE).mock(return_value=page(bucket(TODAY, used)))
    user = {"type": "user", "user": {"id": "user_1", "name": "Ada"}}
    bot = {"type": "service_account", "service_account": {"id": "svc_1", "name": "bot"}}
    keys = admin_api.get("/organization/projects/proj_1/api_keys").mock(
        side_effect=[
            httpx.Response(200, json={"data": [_key("key_a", "Backend", user)], "has_more": True}),
            httpx.Response(200, json={"data": [_key("key_b", "Bot", bot)], "has_more": False}),
        ]
    )

    read_usage(get_upstream(), now=NOW)

    assert [call.request.url.params.get("after") for call in keys.calls] == [None, "key_a"]
    assert keys.calls[0].request.headers["authorization"] == f"Bearer {ADMIN_KEY}"
    names = KeyName.objects.order_by("api_key_id").values_list(
        "api_key_id", "project_id", "name", "owner_type", "owner_name"
    )
    assert list(names) == [
        ("key_a", "proj_1", "Backend", "user", "Ada"),
        ("key_b", "proj_1", "Bot", "service_account", "bot"),
    ]


def test_key_names_that_cannot_be_read_leave_the_usage_read(
    admin_api: respx.MockRouter,
) -> None:
    used = result(FT, "key_a", 3) | {"project_id": "proj_1"}
    admin_api.get(USAGE).mock(return_value=page(bucket(TODAY, used)))
    admin_api.get("/organization/projects/proj_1/api_keys").mock(
        return_value=httpx.Response(403, json={"error": {"message": "Missing scopes"}})
    )

    state = read_usage(get_upstream(), now=NOW)

    assert not isinstance(state, str) and state.last_error == ""
    assert ModelDay.objects.get().requests == 3


def test_an_alias_pointed_at_another_api_drops_its_days_and_reads_the_window_again(
    admin_api: respx.MockRouter, settings: Any
) -> None:
    route = admin_api.get(USAGE)
    route.mock(return_value=page(bucket(TODAY, result(FT, "key_a", 3))))
    read_usage(get_upstream(), now=NOW)

    settings.OPENAI_ORG_ID = "org-another"
    route.mock(return_value=page(bucket(TODAY, result("gpt-4o", "key_z", 1))))
    read_usage(get_upstream(), now=NOW + datetime.timedelta(hours=1))

    assert route.calls.last.request.url.params["start_time"] == str(day_start(TODAY - 119 * DAY))
    assert list(ModelDay.objects.values_list("model_id", flat=True)) == ["gpt-4o"]
    assert UsageState.objects.get().identity == get_upstream().cache_key
