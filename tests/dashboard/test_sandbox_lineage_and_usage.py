"""The sandbox's fine-tuning jobs, checkpoints, Usage API and deprecation headers, driven
in-process through `modelsclient` (and the dashboard's own client) like any other API."""

from __future__ import annotations

import calendar
import datetime
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.test import Client

import modelsclient
from dashboard.sandbox.jobs import CHECKPOINT, base_of
from dashboard.sandbox.models import SandboxFineTuningJob, SandboxModel
from dashboard.sandbox.transport import InProcessSandbox
from dashboard.upstreams import get_client

BASE_URL = "http://sandbox.internal/sandbox/v1"
OWNER_KEY = "sk-sandbox-owner"
READER_KEY = "sk-sandbox-reader"
ADMIN_KEY = "sk-sandbox-admin"
DAY = 86400

ApiFactory = Callable[..., modelsclient.Client]


@pytest.fixture
def sent() -> list[httpx.Request]:
    return []


@pytest.fixture
def api(sent: list[httpx.Request]) -> Iterator[ApiFactory]:
    """A client for a project key (and the admin key) over the in-process sandbox."""
    made: list[modelsclient.Client] = []

    def build(key: str = OWNER_KEY, admin: str | None = ADMIN_KEY) -> modelsclient.Client:
        http = httpx.Client(
            transport=httpx.WSGITransport(app=InProcessSandbox()),
            event_hooks={"request": [sent.append]},
        )
        made.append(
            modelsclient.Client(
                api_key=key, admin_api_key=admin, base_url=BASE_URL, http_client=http
            )
        )
        return made[-1]

    yield build
    for built in made:
        built.close()


def fine_tunes() -> list[str]:
    """The sandbox's fine-tuned models that are not checkpoints."""
    ids = SandboxModel.objects.filter(id__startswith="ft:").values_list("id", flat=True)
    return [model_id for model_id in ids if not CHECKPOINT.search(model_id)]


def today_start() -> int:
    return int(time.time()) // DAY * DAY


# --- fine-tuning jobs -----------------------------------------------------------------------


def test_listing_jobs_takes_three_pages_at_the_default_limit(
    api: ApiFactory, sandbox: int, sent: list[httpx.Request]
) -> None:
    jobs = list(api().fine_tuning.jobs.list())

    assert len(jobs) == SandboxFineTuningJob.objects.count() == 42
    assert [r.url.params.get("after") for r in sent] == [None, jobs[19].id, jobs[39].id]
    assert [j.created_at for j in jobs] == sorted((j.created_at for j in jobs), reverse=True)
    assert len({j.id for j in jobs}) == 42
    assert {j.status for j in jobs} == {"succeeded", "failed", "cancelled"}


def test_every_fine_tune_has_one_succeeded_job_that_made_it(api: ApiFactory, sandbox: int) -> None:
    by_model = {j.fine_tuned_model: j for j in api().fine_tuning.jobs.list(limit=100)}
    created = dict(SandboxModel.objects.values_list("id", "created"))

    for model_id in fine_tunes():
        job = by_model[model_id]
        assert job.status == "succeeded"
        assert job.model == base_of(model_id) == model_id.split(":")[1]
        assert job.organization_id == "org-sandbox"
        assert job.created_at < job.finished_at < created[model_id]  # type: ignore[operator]
        assert job.trained_tokens is not None and job.trained_tokens > 0
        assert job.training_file.startswith("file-")
        assert job.hyperparameters.n_epochs in {2, 3, 4, 5}
        assert job.method is not None and job.method.type in {"supervised", "dpo"}
    assert any(j.metadata for j in by_model.values())
    assert any(j.validation_file for j in by_model.values())


def test_a_failed_job_has_an_error_and_no_model(api: ApiFactory, sandbox: int) -> None:
    failed = [j for j in api().fine_tuning.jobs.list(limit=100) if j.status == "failed"]

    assert failed
    assert all(j.fine_tuned_model is None and j.trained_tokens is None for j in failed)
    assert all(j.error is not None and j.error.param == "training_file" for j in failed)


def test_the_dashboards_client_retrieves_the_job_of_a_fine_tune(sandbox: int) -> None:
    model_id = fine_tunes()[0]
    row = SandboxFineTuningJob.objects.get(fine_tuned_model=model_id)

    job = get_client().fine_tuning.jobs.retrieve(row.id)

    assert job.fine_tuned_model == model_id
    assert job.to_dict() == row.body


def test_an_unknown_job_is_not_found(api: ApiFactory, sandbox: int) -> None:
    with pytest.raises(modelsclient.NotFoundError) as caught:
        api().fine_tuning.jobs.retrieve("ftjob-nope")

    assert caught.value.status_code == 404
    assert caught.value.param == "fine_tuning_job_id"
    with pytest.raises(modelsclient.NotFoundError):
        api().fine_tuning.jobs.checkpoints.list("ftjob-nope")


def test_the_metadata_filter_lists_only_the_jobs_with_that_metadata(
    api: ApiFactory, sandbox: int, sent: list[httpx.Request]
) -> None:
    every = list(api().fine_tuning.jobs.list(limit=100))
    team = next(j.metadata["team"] for j in every if j.metadata)

    filtered = list(api().fine_tuning.jobs.list(metadata={"team": team}))

    expected = [j.id for j in every if (j.metadata or {}).get("team") == team]
    assert [j.id for j in filtered] == expected
    assert 0 < len(expected) < len(every)
    assert sent[-1].url.params["metadata[team]"] == team


def test_a_seeded_checkpoint_model_is_among_its_jobs_checkpoints(
    api: ApiFactory, sandbox: int, sent: list[httpx.Request]
) -> None:
    checkpoint_model = SandboxModel.objects.filter(id__contains=":ckpt-step-").first()
    assert checkpoint_model is not None
    final, step = checkpoint_model.id.rsplit(":ckpt-step-", 1)
    job = SandboxFineTuningJob.objects.get(fine_tuned_model=final)
    sent.clear()

    checkpoints = list(api().fine_tuning.jobs.checkpoints.list(job.id, limit=1))

    assert len(checkpoints) == len(sent) == 3  # one a page
    steps = [c.step_number for c in checkpoints]
    assert steps == sorted(steps, reverse=True)
    assert int(step) in steps
    assert {c.fine_tuned_model_checkpoint for c in checkpoints} >= {checkpoint_model.id}
    assert all(c.fine_tuning_job_id == job.id for c in checkpoints)
    assert all(c.metrics.train_loss is not None and c.metrics.step for c in checkpoints)
    assert all(c.id.startswith("ftckpt_") for c in checkpoints)


@pytest.mark.django_db(transaction=True)
def test_deleting_a_fine_tune_leaves_its_job(api: ApiFactory, sandbox: int) -> None:
    model_id = fine_tunes()[0]
    owner = api(OWNER_KEY)
    job_id = SandboxFineTuningJob.objects.get(fine_tuned_model=model_id).id

    owner.models.delete(model_id)

    assert owner.fine_tuning.jobs.retrieve(job_id).fine_tuned_model == model_id


# --- usage ----------------------------------------------------------------------------------


def read_usage(api: ApiFactory, **query: Any) -> list[Any]:
    start = today_start() - 119 * DAY
    return list(api().admin.organization.usage.completions(start_time=start, **query))


def last_use(buckets: list[Any]) -> dict[str, int]:
    """Model -> days before today of its last use, from buckets grouped by model."""
    today = today_start()
    seen: dict[str, int] = {}
    for bucket in buckets:
        for result in bucket.results:
            seen[result.model] = (today - bucket.start_time) // DAY
    return seen


def test_usage_of_the_last_120_days_takes_four_pages_of_utc_days(
    api: ApiFactory, sandbox: int, sent: list[httpx.Request]
) -> None:
    buckets = read_usage(api, limit=31, bucket_width="1d", group_by=["model"])

    assert len(buckets) == 120
    assert [b.start_time for b in buckets] == [
        today_start() - (119 - day) * DAY for day in range(120)
    ]
    assert all(b.end_time - b.start_time == DAY and b.start_time % DAY == 0 for b in buckets)
    pages = [r.url.params.get("page") for r in sent]
    assert len(pages) == 4 and pages[0] is None and None not in pages[1:]
    assert all(r.headers["authorization"] == f"Bearer {ADMIN_KEY}" for r in sent)


def test_some_fine_tunes_are_busy_some_idle_for_months_and_some_never_used(
    api: ApiFactory, sandbox: int
) -> None:
    used = last_use(read_usage(api, limit=31, group_by=["model"]))

    tuned = fine_tunes()
    busy = [m for m in tuned if used.get(m, 999) <= 1]
    idle_for_months = [m for m in tuned if 100 <= used.get(m, -1) < 120]
    never = [m for m in tuned if m not in used]
    assert len(busy) >= 5
    assert len(idle_for_months) >= 2
    assert len(never) >= 3
    assert {"gpt-4o-mini", "gpt-4o"} <= {m for m, ago in used.items() if ago <= 1}


def test_usage_is_the_same_on_every_read(api: ApiFactory, sandbox: int) -> None:
    query = {"limit": 31, "group_by": ["model", "api_key_id"]}

    first = [b.to_dict() for b in read_usage(api, **query)]
    second = [b.to_dict() for b in read_usage(api, **query)]

    assert first == second


def test_grouping_by_model_and_key_names_both_and_leaves_the_rest_null(
    api: ApiFactory, sandbox: int
) -> None:
    buckets = read_usage(api, limit=31, group_by=["model", "api_key_id"])

    results = [r for b in buckets for r in b.results]
    assert results
    assert all(r.model and r.api_key_id and r.api_key_id.startswith("key_") for r in results)
    assert all(r.project_id is None and r.user_id is None for r in results)
    assert all(r.num_model_requests > 0 and r.input_tokens > 0 for r in results)
    assert len({r.api_key_id for r in results}) == 3


def test_without_grouping_a_day_has_one_total(api: ApiFactory, sandbox: int) -> None:
    grouped = read_usage(api, limit=31, group_by=["model"])
    totals = read_usage(api, limit=31)

    for by_model, total in zip(grouped, totals, strict=True):
        assert len(total.results) == (1 if by_model.results else 0)
        if total.results:
            expected = sum(r.num_model_requests for r in by_model.results)
            assert total.results[0].num_model_requests == expected
            assert total.results[0].model is None


def test_the_models_filter_keeps_only_those_models(api: ApiFactory, sandbox: int) -> None:
    buckets = read_usage(api, limit=31, group_by=["model"], models=["gpt-4o-mini"])

    assert {r.model for b in buckets for r in b.results} == {"gpt-4o-mini"}


@pytest.mark.parametrize("key", [OWNER_KEY, READER_KEY])
def test_a_project_key_gets_the_missing_scope_401_from_the_usage_api(
    api: ApiFactory, sandbox: int, key: str
) -> None:
    with pytest.raises(modelsclient.AuthenticationError) as caught:
        api(key, admin=key).admin.organization.usage.completions(start_time=today_start())

    assert caught.value.status_code == 401
    assert caught.value.code == "missing_scope"
    assert caught.value.type == "invalid_request_error"
    assert "Missing scopes: api.usage.read" in caught.value.message


def test_the_admin_key_may_read_models_but_not_delete_them(api: ApiFactory, sandbox: int) -> None:
    admin = api(ADMIN_KEY)

    assert len(list(admin.models.list())) == 64
    with pytest.raises(modelsclient.PermissionDeniedError):
        admin.models.delete(fine_tunes()[0])


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ({"limit": "32"}, "limit"),
        ({"bucket_width": "1h"}, "bucket_width"),
        ({"group_by": "organization"}, "group_by"),
        ({"page": "not-a-cursor"}, "page"),
    ],
)
def test_a_bad_usage_query_is_a_bad_request_naming_the_parameter(
    sandbox: int, query: dict[str, str], param: str
) -> None:
    response = Client().get(
        "/sandbox/v1/organization/usage/completions",
        {"start_time": str(today_start()), **query},
        HTTP_AUTHORIZATION=f"Bearer {ADMIN_KEY}",
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


# --- deprecation headers --------------------------------------------------------------------


def test_a_model_with_a_shutdown_date_is_answered_with_deprecation_and_sunset(
    sandbox: int,
) -> None:
    response = Client().get("/sandbox/v1/models/o3-mini", HTTP_AUTHORIZATION=f"Bearer {READER_KEY}")

    shutdown = calendar.timegm(datetime.date(2026, 7, 14).timetuple())
    assert response.status_code == 200
    assert response["Sunset"] == "Tue, 14 Jul 2026 00:00:00 GMT"
    assert response["Deprecation"] == f"@{shutdown - 180 * DAY}"
    assert response["Link"] == (
        '<https://platform.openai.com/docs/deprecations>; rel="deprecation"; type="text/html"'
    )


def test_a_model_without_a_shutdown_date_has_no_deprecation_headers(sandbox: int) -> None:
    response = Client().get("/sandbox/v1/models/gpt-4o", HTTP_AUTHORIZATION=f"Bearer {READER_KEY}")

    assert response.status_code == 200
    assert "Deprecation" not in response
    assert "Sunset" not in response


@pytest.mark.django_db(transaction=True)
def test_deleting_a_fine_tune_with_a_shutdown_date_carries_the_headers(
    api: ApiFactory, sandbox: int
) -> None:
    model_id = fine_tunes()[0]  # its base shuts down, so it does too
    SandboxModel.objects.filter(pk=model_id).update(shutdown_date=datetime.date(2027, 1, 15))

    raw = api(OWNER_KEY).models.with_raw_response.delete(model_id)

    shutdown = calendar.timegm(datetime.date(2027, 1, 15).timetuple())
    assert raw.parse().deleted is True
    assert raw.headers["Sunset"] == "Fri, 15 Jan 2027 00:00:00 GMT"
    assert raw.headers["Deprecation"] == f"@{shutdown - 180 * DAY}"


def test_a_refused_delete_of_a_model_with_a_shutdown_date_carries_the_headers_too(
    api: ApiFactory, sandbox: int
) -> None:
    with pytest.raises(modelsclient.PermissionDeniedError) as caught:
        api(OWNER_KEY).models.delete("o3-mini")

    assert caught.value.response.headers["Sunset"] == "Tue, 14 Jul 2026 00:00:00 GMT"
