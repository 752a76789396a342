"""`client.fine_tuning.jobs` and `.jobs.checkpoints`: the wire, pages, types, raw and streaming
responses and errors, on the sync and the async client."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

import modelsclient
from modelsclient.types.fine_tuning import FineTuningJob
from modelsclient.types.fine_tuning.jobs import FineTuningJobCheckpoint

from .conftest import Twin, resolve

MODEL_ID = "ft:gpt-4o-mini-2024-07-18:acme:support-bot:AbC123xy"


def job(job_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": job_id,
        "object": "fine_tuning.job",
        "created_at": 1721000000,
        "finished_at": 1721003600,
        "error": None,
        "fine_tuned_model": MODEL_ID,
        "hyperparameters": {"n_epochs": 3, "batch_size": 8, "learning_rate_multiplier": 1.8},
        "method": {
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 8}},
        },
        "model": "gpt-4o-mini-2024-07-18",
        "organization_id": "org-acme",
        "result_files": ["file-result1"],
        "seed": 42,
        "status": "succeeded",
        "trained_tokens": 120000,
        "training_file": "file-train1",
        "validation_file": "file-valid1",
        "metadata": {"team": "support"},
        **fields,
    }


def checkpoint(step: int) -> dict[str, Any]:
    return {
        "id": f"ftckpt_{step}",
        "object": "fine_tuning.job.checkpoint",
        "created_at": 1721003000 + step,
        "fine_tuned_model_checkpoint": f"{MODEL_ID}:ckpt-step-{step}",
        "fine_tuning_job_id": "ftjob-1",
        "metrics": {"step": step, "train_loss": 0.5, "train_mean_token_accuracy": 0.9},
        "step_number": step,
    }


class CursorServer:
    """Pages items by `after` = the last id; `has_more` on every page but the last."""

    def __init__(self, pages: list[list[dict[str, Any]]]) -> None:
        self.pages = pages
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert len(self.requests) <= 10, "the client keeps asking for pages"
        after = request.url.params.get("after")
        lasts = [page[-1]["id"] for page in self.pages]
        index = lasts.index(after) + 1 if after in lasts else 0
        has_more = index < len(self.pages) - 1
        body = {"object": "list", "data": self.pages[index], "has_more": has_more}
        return httpx.Response(200, json=body, headers={"x-request-id": "req_jobs"})

    @property
    def cursors(self) -> list[str | None]:
        return [request.url.params.get("after") for request in self.requests]


JOB_PAGES = [[job("ftjob-3"), job("ftjob-2")], [job("ftjob-1")]]
CHECKPOINT_PAGES = [[checkpoint(300), checkpoint(200)], [checkpoint(100)]]


async def collect(iterable: Any) -> list[Any]:
    if hasattr(iterable, "__aiter__"):
        return [item async for item in iterable]
    return list(iterable)


async def test_listing_jobs_walks_every_page_by_the_last_job_id(twin: Twin) -> None:
    server = CursorServer(JOB_PAGES)
    api = twin.client(server)

    jobs = await collect(api.fine_tuning.jobs.list(limit=2))

    assert [j.id for j in jobs] == ["ftjob-3", "ftjob-2", "ftjob-1"]
    assert server.cursors == [None, "ftjob-2"]
    assert [r.url.params.get("limit") for r in server.requests] == ["2", "2"]
    assert {(r.method, r.url.path) for r in server.requests} == {("GET", "/v1/fine_tuning/jobs")}
    assert all(isinstance(j, FineTuningJob) for j in jobs)


async def test_the_first_page_of_jobs_is_a_cursor_page_with_its_own_data(twin: Twin) -> None:
    server = CursorServer(JOB_PAGES)
    api = twin.client(server)

    paginator = api.fine_tuning.jobs.list()
    if twin.is_async:
        assert not inspect.iscoroutine(paginator)
        assert server.requests == []
    page = await resolve(paginator)

    expected = modelsclient.AsyncCursorPage if twin.is_async else modelsclient.SyncCursorPage
    assert isinstance(page, expected)
    assert [j.id for j in page.data] == ["ftjob-3", "ftjob-2"]
    assert page.has_next_page() is True
    next_page = await resolve(page.get_next_page())
    assert [j.id for j in next_page.data] == ["ftjob-1"]
    assert next_page.has_next_page() is False
    assert server.cursors == [None, "ftjob-2"]


async def test_the_metadata_filter_goes_out_as_bracketed_keys_and_the_key_signs(
    twin: Twin,
) -> None:
    server = CursorServer([[job("ftjob-1")]])
    api = twin.client(server, admin_api_key="sk-admin")

    await resolve(api.fine_tuning.jobs.list(after="ftjob-9", metadata={"team": "support"}))

    sent = server.requests[0]
    assert sorted(sent.url.params.multi_items()) == [
        ("after", "ftjob-9"),
        ("metadata[team]", "support"),
    ]
    assert sent.headers["authorization"] == "Bearer sk-test"  # the project key, not the admin key


async def test_retrieve_reads_every_field_of_a_job(twin: Twin) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=job("ftjob-1", user_provided_suffix="support-bot"))

    api = twin.client(handler)

    found = await resolve(api.fine_tuning.jobs.retrieve("ftjob-1"))

    assert requests[0].url.raw_path == b"/v1/fine_tuning/jobs/ftjob-1"
    assert found.fine_tuned_model == MODEL_ID
    assert found.model == "gpt-4o-mini-2024-07-18"
    assert (found.hyperparameters.n_epochs, found.hyperparameters.batch_size) == (3, 8)
    assert found.hyperparameters.learning_rate_multiplier == 1.8
    assert found.method is not None and found.method.type == "supervised"
    assert found.method.supervised is not None
    assert found.method.supervised.hyperparameters is not None
    assert found.method.supervised.hyperparameters.n_epochs == 3
    assert (found.training_file, found.validation_file) == ("file-train1", "file-valid1")
    assert (found.trained_tokens, found.seed, found.status) == (120000, 42, "succeeded")
    assert found.metadata == {"team": "support"}
    assert found.model_extra == {"user_provided_suffix": "support-bot"}


@pytest.mark.parametrize(
    ("job_id", "raw_path"),
    [
        ("ftjob-a/b", b"/v1/fine_tuning/jobs/ftjob-a%2Fb"),
        ("ftjob ?#", b"/v1/fine_tuning/jobs/ftjob%20%3F%23"),
    ],
)
async def test_a_job_id_stays_one_path_segment(twin: Twin, job_id: str, raw_path: bytes) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path.endswith("/checkpoints"):
            return httpx.Response(200, json={"object": "list", "data": []})
        return httpx.Response(200, json=job(job_id))

    api = twin.client(handler)

    await resolve(api.fine_tuning.jobs.retrieve(job_id))
    await resolve(api.fine_tuning.jobs.checkpoints.list(job_id))

    assert [r.url.raw_path for r in requests] == [raw_path, raw_path + b"/checkpoints"]


@pytest.mark.parametrize("job_id", ["", ".", ".."])
async def test_an_empty_or_dot_job_id_is_refused_before_any_request(
    twin: Twin, job_id: str
) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200)

    api = twin.client(handler)

    with pytest.raises(ValueError, match="fine_tuning_job_id"):
        await resolve(api.fine_tuning.jobs.retrieve(job_id))
    with pytest.raises(ValueError, match="fine_tuning_job_id"):
        await resolve(api.fine_tuning.jobs.checkpoints.list(job_id))

    assert requests == []


async def test_listing_checkpoints_walks_every_page_of_the_job(twin: Twin) -> None:
    server = CursorServer(CHECKPOINT_PAGES)
    api = twin.client(server)

    found = await collect(api.fine_tuning.jobs.checkpoints.list("ftjob-1", limit=2))

    assert [c.step_number for c in found] == [300, 200, 100]
    assert server.cursors == [None, "ftckpt_200"]
    assert {r.url.path for r in server.requests} == {"/v1/fine_tuning/jobs/ftjob-1/checkpoints"}
    assert all(isinstance(c, FineTuningJobCheckpoint) for c in found)
    assert found[0].fine_tuned_model_checkpoint == f"{MODEL_ID}:ckpt-step-300"
    assert (found[0].metrics.step, found[0].metrics.train_loss) == (300, 0.5)
    assert found[0].metrics.valid_loss is None


async def test_the_raw_response_of_a_job_has_headers_and_parses_to_the_job(twin: Twin) -> None:
    server = CursorServer(JOB_PAGES)
    api = twin.client(server)

    raw = await resolve(api.fine_tuning.jobs.with_raw_response.list())
    checkpoints = await resolve(api.fine_tuning.jobs.with_raw_response.checkpoints.list("ftjob-1"))

    assert isinstance(raw, modelsclient.APIResponse)
    assert raw.status_code == 200
    assert raw.request_id == "req_jobs"
    assert raw.json()["data"][0]["id"] == "ftjob-3"
    assert [j.id for j in raw.parse().data] == ["ftjob-3", "ftjob-2"]
    assert checkpoints.http_response.request.url.path.endswith("/ftjob-1/checkpoints")


async def test_the_streaming_response_of_a_job_is_read_only_when_asked(twin: Twin) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=job("ftjob-1"))

    api = twin.client(handler)
    stream = api.fine_tuning.jobs.with_streaming_response.retrieve("ftjob-1")

    if twin.is_async:
        async with stream as response:
            assert response.status_code == 200
            found = await response.parse()
    else:
        with stream as response:
            assert response.status_code == 200
            found = response.parse()

    assert found.id == "ftjob-1"
    assert response.is_closed


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (404, modelsclient.NotFoundError),
        (401, modelsclient.AuthenticationError),
        (403, modelsclient.PermissionDeniedError),
    ],
)
async def test_a_failed_job_call_raises_the_error_of_its_status_without_retrying(
    twin: Twin, status: int, error_class: type[Exception]
) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        error = {"message": "No such job: ftjob-x", "type": "invalid_request_error"}
        return httpx.Response(status, json={"error": {**error, "param": None, "code": None}})

    api = twin.client(handler)

    with pytest.raises(error_class) as caught:
        await resolve(api.fine_tuning.jobs.retrieve("ftjob-x"))

    assert isinstance(caught.value, httpx.HTTPError)
    assert str(caught.value) == f"Error code: {status} - No such job: ftjob-x"
    assert len(requests) == 1


async def test_a_rate_limited_page_is_retried_with_the_same_cursor(
    twin: Twin, sleeps: list[float]
) -> None:
    server = CursorServer(JOB_PAGES)
    answers = iter([None, httpx.Response(429, headers={"retry-after-ms": "10"}), None])

    def handler(request: httpx.Request) -> httpx.Response:
        limited = next(answers)
        return limited if limited is not None else server(request)

    api = twin.client(handler)

    jobs = await collect(api.fine_tuning.jobs.list())

    assert [j.id for j in jobs] == ["ftjob-3", "ftjob-2", "ftjob-1"]
    assert sleeps == [0.01]
    assert server.cursors == [None, "ftjob-2"]


async def test_one_odd_job_never_fails_the_list(twin: Twin) -> None:
    odd = {"id": "ftjob-odd", "object": "fine_tuning.job", "status": "running", "seed": None}
    api = twin.client(
        lambda request: httpx.Response(200, json={"object": "list", "data": [odd, job("ftjob-1")]})
    )

    page = await resolve(api.fine_tuning.jobs.list())

    assert [j.id for j in page.data] == ["ftjob-odd", "ftjob-1"]
    assert page.data[0].status == "running"
    assert page.data[0].seed is None


async def test_a_job_list_that_is_not_a_list_is_a_validation_error(twin: Twin) -> None:
    api = twin.client(lambda request: httpx.Response(200, json={"object": "list"}))

    with pytest.raises(modelsclient.APIResponseValidationError):
        await resolve(api.fine_tuning.jobs.list())
