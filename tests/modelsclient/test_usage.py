"""`client.admin.organization.usage.completions`: the admin key, the query as the `openai`
package sends it, `next_page` paging, types, raw and streaming responses and errors."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
import respx

import modelsclient
from modelsclient.types.admin.organization import UsageCompletionsResponse
from modelsclient.types.admin.organization.usage_completions_response import (
    Data,
    DataResultOrganizationUsageCompletionsResult,
)

from .conftest import Twin, resolve

DAY = 86400
START = 1730419200  # 2024-11-01 00:00 UTC


def bucket(day: int, *results: dict[str, Any]) -> dict[str, Any]:
    start = START + day * DAY
    return {
        "object": "bucket",
        "start_time": start,
        "end_time": start + DAY,
        "results": list(results),
    }


def result(model: str, requests: int, **fields: Any) -> dict[str, Any]:
    return {
        "object": "organization.usage.completions.result",
        "input_tokens": requests * 100,
        "output_tokens": requests * 20,
        "input_cached_tokens": 0,
        "num_model_requests": requests,
        "model": model,
        "api_key_id": "key_abc",
        "project_id": None,
        "user_id": None,
        "batch": None,
        **fields,
    }


class UsageServer:
    """Three pages of day buckets, chained by opaque `next_page` cursors."""

    PAGES = [
        [bucket(0, result("gpt-4o-mini", 5)), bucket(1)],
        [bucket(2, result("ft:gpt-4o-mini:acme:bot:x1", 2), result("gpt-4o-mini", 1))],
        [bucket(3)],
    ]
    CURSORS = [None, "AAAAAGcqsYA=", "AAAAAGdGxdE="]

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert len(self.requests) <= 10, "the client keeps asking for pages"
        index = self.CURSORS.index(request.url.params.get("page"))
        last = index == len(self.PAGES) - 1
        body = {
            "object": "page",
            "data": self.PAGES[index],
            "has_more": not last,
            "next_page": None if last else self.CURSORS[index + 1],
        }
        return httpx.Response(200, json=body, headers={"x-request-id": "req_usage"})

    @property
    def cursors(self) -> list[str | None]:
        return [request.url.params.get("page") for request in self.requests]


async def collect(iterable: Any) -> list[Any]:
    if hasattr(iterable, "__aiter__"):
        return [item async for item in iterable]
    return list(iterable)


def admin_client(twin: Twin, handler: Any, **kwargs: Any) -> Any:
    return twin.client(handler, admin_api_key="sk-admin-secret", **kwargs)


async def test_usage_is_signed_with_the_admin_key_not_the_project_key(twin: Twin) -> None:
    server = UsageServer()
    api = admin_client(twin, server)

    await resolve(api.admin.organization.usage.completions(start_time=START))

    sent = server.requests[0]
    assert (sent.method, sent.url.path) == ("GET", "/v1/organization/usage/completions")
    assert sent.headers["authorization"] == "Bearer sk-admin-secret"
    assert list(sent.url.params.multi_items()) == [("start_time", str(START))]


async def test_every_query_parameter_goes_out_as_the_openai_package_sends_it(twin: Twin) -> None:
    server = UsageServer()
    api = admin_client(twin, server)

    await resolve(
        api.admin.organization.usage.completions(
            start_time=START,
            end_time=START + 31 * DAY,
            bucket_width="1d",
            group_by=["model", "api_key_id"],
            project_ids=["proj_1"],
            api_key_ids=["key_abc", "key_def"],
            models=["gpt-4o-mini"],
            batch=False,
            limit=31,
        )
    )

    assert sorted(server.requests[0].url.params.multi_items()) == [
        ("api_key_ids[]", "key_abc"),
        ("api_key_ids[]", "key_def"),
        ("batch", "false"),
        ("bucket_width", "1d"),
        ("end_time", str(START + 31 * DAY)),
        ("group_by[]", "api_key_id"),
        ("group_by[]", "model"),
        ("limit", "31"),
        ("models[]", "gpt-4o-mini"),
        ("project_ids[]", "proj_1"),
        ("start_time", str(START)),
    ]


@respx.mock(base_url="https://api.example.test/v1", assert_all_called=True)
def test_the_query_and_headers_match_the_official_package_on_the_wire(
    respx_mock: respx.MockRouter,
) -> None:
    page = {"object": "page", "data": [], "has_more": False, "next_page": None}
    jobs = {"object": "list", "data": [], "has_more": False}
    usage_route = respx_mock.get("/organization/usage/completions").respond(json=page)
    jobs_route = respx_mock.get("/fine_tuning/jobs").respond(json=jobs)
    checkpoints_route = respx_mock.get("/fine_tuning/jobs/ftjob-1/checkpoints").respond(json=jobs)
    options: dict[str, Any] = {
        "api_key": "sk-project",
        "admin_api_key": "sk-admin",
        "base_url": "https://api.example.test/v1",
        "max_retries": 0,
    }
    usage_query: dict[str, Any] = {
        "start_time": START,
        "group_by": ["model", "api_key_id"],
        "models": ["a", "b"],
        "batch": True,
        "limit": 7,
        "page": "AAAA",
    }

    for make in (openai.OpenAI, modelsclient.OpenAI):
        api: Any = make(**options)
        api.admin.organization.usage.completions(**usage_query)
        api.fine_tuning.jobs.list(after="ftjob-9", limit=20, metadata={"team": "x", "env": "prod"})
        api.fine_tuning.jobs.checkpoints.list("ftjob-1", after="ftckpt_1", limit=5)

    for route in (usage_route, jobs_route, checkpoints_route):
        official, ours = (call.request for call in route.calls)
        assert sorted(ours.url.params.multi_items()) == sorted(official.url.params.multi_items())
        assert ours.url.path == official.url.path
        assert ours.headers["authorization"] == official.headers["authorization"]
    assert usage_route.calls[1].request.headers["authorization"] == "Bearer sk-admin"
    assert jobs_route.calls[1].request.headers["authorization"] == "Bearer sk-project"


async def test_iterating_usage_follows_next_page_across_three_pages(twin: Twin) -> None:
    server = UsageServer()
    api = admin_client(twin, server)

    buckets = await collect(api.admin.organization.usage.completions(start_time=START, limit=2))

    assert [b.start_time for b in buckets] == [START + day * DAY for day in range(4)]
    assert server.cursors == UsageServer.CURSORS
    assert [r.url.params.get("limit") for r in server.requests] == ["2", "2", "2"]
    assert all(isinstance(b, Data) for b in buckets)


async def test_the_first_usage_page_has_the_official_response_attributes(twin: Twin) -> None:
    server = UsageServer()
    api = admin_client(twin, server)

    page = await resolve(api.admin.organization.usage.completions(start_time=START))

    expected = modelsclient.AsyncUsagePage if twin.is_async else modelsclient.SyncUsagePage
    assert isinstance(page, expected)
    assert (page.object, page.has_more, page.next_page) == ("page", True, "AAAAAGcqsYA=")
    first = page.data[0].results[0]
    assert isinstance(first, DataResultOrganizationUsageCompletionsResult)
    assert (first.model, first.api_key_id, first.num_model_requests) == (
        "gpt-4o-mini",
        "key_abc",
        5,
    )
    assert (first.input_tokens, first.output_tokens, first.project_id) == (500, 100, None)
    assert page.data[1].results == []
    second = await resolve(page.get_next_page())
    assert [r.model for r in second.data[0].results] == [
        "ft:gpt-4o-mini:acme:bot:x1",
        "gpt-4o-mini",
    ]
    assert server.cursors == [None, "AAAAAGcqsYA="]


def test_the_response_type_validates_a_documented_page() -> None:
    body = {
        "object": "page",
        "data": [bucket(0, result("gpt-4o", 5, service_tier="default", input_text_tokens=3))],
        "has_more": True,
        "next_page": "AAAAAGdGxdEiJdKOAAAAAGcqsYA=",
    }

    page = UsageCompletionsResponse.model_validate(body)

    assert page.data[0].results[0].service_tier == "default"
    assert page.data[0].results[0].model_extra == {"input_text_tokens": 3}
    assert page.to_dict() == body


async def test_usage_without_an_admin_key_fails_before_any_request(twin: Twin) -> None:
    server = UsageServer()
    api = twin.client(server)  # a project key only

    with pytest.raises(modelsclient.ModelsClientError, match="admin_api_key.*OPENAI_ADMIN_KEY"):
        await resolve(api.admin.organization.usage.completions(start_time=START))

    assert server.requests == []


async def test_a_client_with_only_an_admin_key_reads_usage_but_not_models(
    twin: Twin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_ADMIN_KEY", "sk-admin-from-env")
    server = UsageServer()
    api = twin.client(server, api_key=None)

    assert api.api_key is None
    assert api.admin_api_key == "sk-admin-from-env"
    await resolve(api.admin.organization.usage.completions(start_time=START))
    with pytest.raises(modelsclient.ModelsClientError, match="api_key.*OPENAI_API_KEY"):
        await resolve(api.models.list())

    assert [r.headers["authorization"] for r in server.requests] == ["Bearer sk-admin-from-env"]


def test_a_copy_keeps_the_admin_key() -> None:
    original = modelsclient.Client(api_key="sk-test", admin_api_key="sk-admin")

    assert original.with_options(max_retries=0).admin_api_key == "sk-admin"
    assert original.with_options(admin_api_key="sk-other").admin_api_key == "sk-other"


async def test_start_time_must_be_unix_seconds(twin: Twin) -> None:
    server = UsageServer()
    api = admin_client(twin, server)

    with pytest.raises(TypeError, match="start_time"):
        await resolve(api.admin.organization.usage.completions(start_time=True))

    assert server.requests == []


async def test_the_raw_usage_response_has_headers_and_parses_to_the_page(twin: Twin) -> None:
    server = UsageServer()
    api = admin_client(twin, server)

    raw = await resolve(
        api.admin.organization.usage.with_raw_response.completions(
            start_time=START, page="AAAAAGcqsYA="
        )
    )

    assert raw.request_id == "req_usage"
    assert raw.json()["next_page"] == "AAAAAGdGxdE="
    assert raw.parse().next_page == "AAAAAGdGxdE="
    assert server.cursors == ["AAAAAGcqsYA="]


async def test_the_streaming_usage_response_parses_when_read(twin: Twin) -> None:
    server = UsageServer()
    api = admin_client(twin, server)
    stream = api.admin.organization.usage.with_streaming_response.completions(start_time=START)

    if twin.is_async:
        async with stream as response:
            page = await response.parse()
    else:
        with stream as response:
            page = response.parse()

    assert response.headers["x-request-id"] == "req_usage"
    assert page.next_page == "AAAAAGcqsYA="
    assert response.is_closed


async def test_a_project_key_refused_by_the_usage_api_is_an_authentication_error(
    twin: Twin,
) -> None:
    message = (
        "You have insufficient permissions for this operation. Missing scopes: api.usage.read."
    )

    def handler(request: httpx.Request) -> httpx.Response:
        error = {"message": message, "type": "invalid_request_error", "param": None}
        return httpx.Response(401, json={"error": {**error, "code": "missing_scope"}})

    api = admin_client(twin, handler)

    with pytest.raises(modelsclient.AuthenticationError) as caught:
        await resolve(api.admin.organization.usage.completions(start_time=START))

    assert caught.value.status_code == 401
    assert caught.value.code == "missing_scope"
    assert caught.value.body["message"] == message  # type: ignore[index]


async def test_a_server_error_on_a_later_usage_page_is_retried_with_its_cursor(
    twin: Twin, sleeps: list[float]
) -> None:
    server = UsageServer()
    failures = iter([False, True, False, False])

    def handler(request: httpx.Request) -> httpx.Response:
        if next(failures):
            return httpx.Response(503, headers={"retry-after": "1"})
        return server(request)

    api = admin_client(twin, handler)

    buckets = await collect(api.admin.organization.usage.completions(start_time=START))

    assert len(buckets) == 4
    assert sleeps == [1.0]
    assert server.cursors == UsageServer.CURSORS
