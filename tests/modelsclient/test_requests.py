"""What goes on the wire: model-id paths, merged headers and query, bodies and timeouts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import modelsclient
from modelsclient import NOT_GIVEN, Omit

from .conftest import Twin, resolve

MODEL = {"id": "gpt-4o-mini", "object": "model", "created": 1686935002, "owned_by": "openai"}
DELETED = {"id": "ft:gpt-4o-mini:acme:suffix:abc123", "object": "model", "deleted": True}


class Recorder:
    """A mock API that answers every call successfully and keeps the requests it received."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "DELETE":
            return httpx.Response(200, json=DELETED)
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [MODEL]})
        return httpx.Response(200, json=MODEL)

    @property
    def only(self) -> httpx.Request:
        assert len(self.requests) == 1
        return self.requests[0]


@pytest.fixture
def api() -> Recorder:
    return Recorder()


async def call(api_client: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    return await resolve(getattr(api_client.models, method)(*args, **kwargs))


# --- model ids -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["retrieve", "delete"])
async def test_empty_model_id_raises_exact_value_error_without_a_request(
    twin: Twin, api: Recorder, method: str
) -> None:
    api_client = twin.client(api)

    with pytest.raises(ValueError) as info:
        await call(api_client, method, "")

    assert str(info.value) == "Expected a non-empty value for `model` but received ''"
    assert api.requests == []


@pytest.mark.parametrize("model", [".", ".."])
@pytest.mark.parametrize("method", ["retrieve", "delete"])
async def test_dot_segment_model_ids_raise_value_error_without_a_request(
    twin: Twin, api: Recorder, method: str, model: str
) -> None:
    api_client = twin.client(api)

    with pytest.raises(ValueError):
        await call(api_client, method, model)

    assert api.requests == []


@pytest.mark.parametrize(
    ("model", "raw_path"),
    [
        ("gpt-4o-mini", b"/v1/models/gpt-4o-mini"),
        ("a/b", b"/v1/models/a%2Fb"),
        ("ft:gpt-4o-mini:acme:suffix:abc123", b"/v1/models/ft:gpt-4o-mini:acme:suffix:abc123"),
        ("user@org", b"/v1/models/user@org"),
        ("what?x=1", b"/v1/models/what%3Fx%3D1"),
        ("frag#ment", b"/v1/models/frag%23ment"),
        ("100%", b"/v1/models/100%25"),
        ("%2F", b"/v1/models/%252F"),
        ("my model", b"/v1/models/my%20model"),
        ("modèle-é", b"/v1/models/mod%C3%A8le-%C3%A9"),
        ("../admin", b"/v1/models/..%2Fadmin"),
    ],
)
@pytest.mark.parametrize("method", ["retrieve", "delete"])
async def test_model_id_goes_out_as_exactly_one_encoded_path_segment(
    twin: Twin, api: Recorder, method: str, model: str, raw_path: bytes
) -> None:
    api_client = twin.client(api)

    await call(api_client, method, model)

    assert api.only.method == ("GET" if method == "retrieve" else "DELETE")
    assert api.only.url.raw_path == raw_path
    assert api.only.url.query == b""
    assert api.only.url.fragment == ""


@pytest.mark.parametrize("method", ["retrieve", "delete"])
async def test_question_mark_in_model_id_never_mixes_with_extra_query(
    twin: Twin, api: Recorder, method: str
) -> None:
    api_client = twin.client(api)

    await call(api_client, method, "x?admin=1", extra_query={"page": "2"})

    assert api.only.url.raw_path == b"/v1/models/x%3Fadmin%3D1?page=2"
    assert dict(api.only.url.params) == {"page": "2"}


# --- headers -------------------------------------------------------------------------------


async def test_default_headers_are_sent_on_every_request(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api, api_key="sk-abc")

    await call(api_client, "retrieve", "gpt-4o-mini")

    headers = api.only.headers
    assert headers.get_list("authorization") == ["Bearer sk-abc"]
    assert headers["accept"] == "application/json"
    assert headers["user-agent"] == f"modelsclient/Python {modelsclient.__version__}"
    assert headers["x-stainless-retry-count"] == "0"
    assert "openai-organization" not in headers
    assert "openai-project" not in headers


async def test_organization_and_project_headers_are_sent_when_set(
    twin: Twin, api: Recorder
) -> None:
    api_client = twin.client(api, organization="org-123", project="proj_456")

    await call(api_client, "list")

    assert api.only.headers.get_list("openai-organization") == ["org-123"]
    assert api.only.headers.get_list("openai-project") == ["proj_456"]


async def test_extra_headers_override_client_headers_case_insensitively(
    twin: Twin, api: Recorder
) -> None:
    api_client = twin.client(
        api, api_key="sk-client", default_headers={"X-Team": "blue", "Accept": "text/plain"}
    )

    await call(
        api_client,
        "retrieve",
        "gpt-4o-mini",
        extra_headers={"authorization": "Bearer sk-call", "x-team": "red", "X-New": "1"},
    )

    headers = api.only.headers
    assert headers.get_list("authorization") == ["Bearer sk-call"]
    assert headers.get_list("x-team") == ["red"]
    assert headers.get_list("accept") == ["text/plain"]
    assert headers["x-new"] == "1"


async def test_default_headers_override_built_in_headers_case_insensitively(
    twin: Twin, api: Recorder
) -> None:
    api_client = twin.client(api, default_headers={"authorization": "Bearer proxy-token"})

    await call(api_client, "retrieve", "gpt-4o-mini")

    assert api.only.headers.get_list("authorization") == ["Bearer proxy-token"]


@pytest.mark.parametrize("name", ["User-Agent", "user-agent", "Authorization", "Accept"])
async def test_omit_in_extra_headers_removes_the_header(
    twin: Twin, api: Recorder, name: str
) -> None:
    api_client = twin.client(api)

    await call(api_client, "retrieve", "gpt-4o-mini", extra_headers={name: Omit()})

    assert name.lower() not in api.only.headers
    assert "x-stainless-retry-count" in api.only.headers  # only the omitted header is gone


@pytest.mark.parametrize("name", ["User-Agent", "OpenAI-Organization"])
async def test_omit_in_default_headers_removes_the_header(
    twin: Twin, api: Recorder, name: str
) -> None:
    api_client = twin.client(api, organization="org-123", default_headers={name: Omit()})

    await call(api_client, "list")

    assert name.lower() not in api.only.headers
    assert api.only.headers["authorization"] == "Bearer sk-test"


async def test_omit_of_retry_count_sends_no_retry_count(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api)

    await call(
        api_client, "retrieve", "gpt-4o-mini", extra_headers={"x-stainless-retry-count": Omit()}
    )

    assert "x-stainless-retry-count" not in api.only.headers


async def test_caller_set_retry_count_is_kept(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api)

    await call(
        api_client, "retrieve", "gpt-4o-mini", extra_headers={"X-Stainless-Retry-Count": "7"}
    )

    assert api.only.headers.get_list("x-stainless-retry-count") == ["7"]


async def test_raw_response_marker_header_is_never_sent(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api)

    await call(api_client, "retrieve", "gpt-4o-mini")
    await resolve(api_client.models.with_raw_response.retrieve("gpt-4o-mini"))
    await resolve(api_client.models.with_raw_response.delete("ft:x"))
    if twin.is_async:
        async with api_client.models.with_streaming_response.retrieve("gpt-4o-mini") as r:
            await r.read()
    else:
        with api_client.models.with_streaming_response.retrieve("gpt-4o-mini") as r:
            r.read()

    assert len(api.requests) == 4
    for request in api.requests:
        assert "x-stainless-raw-response" not in request.headers
        assert not any(
            name.lower().startswith(b"x-stainless-raw") for name, _ in request.headers.raw
        )


# --- query and body ------------------------------------------------------------------------


async def test_extra_query_merges_over_default_query(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api, default_query={"api-version": "2024-01", "region": "eu"})

    await call(api_client, "list", extra_query={"region": "us", "limit": 5})

    assert dict(api.only.url.params) == {"api-version": "2024-01", "region": "us", "limit": "5"}
    assert api.only.url.path == "/v1/models"


async def test_default_query_is_sent_without_extra_query(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api, default_query={"api-version": "2024-01"})

    await call(api_client, "retrieve", "gpt-4o-mini")

    assert api.only.url.query == b"api-version=2024-01"


async def test_extra_body_is_sent_as_json_on_delete(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api)

    await call(api_client, "delete", "ft:x", extra_body={"reason": "cleanup", "force": True})

    assert api.only.method == "DELETE"
    assert api.only.headers["content-type"] == "application/json"
    assert json.loads(api.only.content) == {"reason": "cleanup", "force": True}


async def test_delete_without_extra_body_sends_no_body(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api)

    await call(api_client, "delete", "ft:x")

    assert api.only.content == b""
    assert "content-type" not in api.only.headers


@pytest.mark.parametrize("method", ["retrieve", "list"])
async def test_extra_body_is_not_sent_on_get(twin: Twin, api: Recorder, method: str) -> None:
    api_client = twin.client(api)
    args = ("gpt-4o-mini",) if method == "retrieve" else ()

    await call(api_client, method, *args, extra_body={"reason": "ignored"})

    assert api.only.method == "GET"
    assert api.only.content == b""
    assert "content-type" not in api.only.headers
    assert "content-length" not in api.only.headers


# --- timeouts ------------------------------------------------------------------------------


def phases(
    connect: float | None, read: float | None, write: float | None, pool: float | None
) -> dict[str, float | None]:
    return {"connect": connect, "read": read, "write": write, "pool": pool}


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (NOT_GIVEN, phases(5.0, 600.0, 600.0, 600.0)),
        (None, phases(None, None, None, None)),
        (2.5, phases(2.5, 2.5, 2.5, 2.5)),
        (httpx.Timeout(7.0, connect=1.0), phases(1.0, 7.0, 7.0, 7.0)),
        (httpx.Timeout(1.0, read=None, pool=3.0), phases(1.0, None, 1.0, 3.0)),
    ],
    ids=["not-given", "none", "float", "timeout", "timeout-partial"],
)
async def test_per_call_timeout_reaches_the_transport(
    twin: Twin, api: Recorder, timeout: Any, expected: dict[str, float | None]
) -> None:
    api_client = twin.client(api)

    await call(api_client, "retrieve", "gpt-4o-mini", timeout=timeout)

    assert api.only.extensions["timeout"] == expected


async def test_omitting_the_timeout_argument_uses_the_client_default(
    twin: Twin, api: Recorder
) -> None:
    api_client = twin.client(api, timeout=30.0)

    await call(api_client, "delete", "ft:x")

    assert api.only.extensions["timeout"] == phases(30.0, 30.0, 30.0, 30.0)


@pytest.mark.parametrize(
    ("timeout", "expected"),
    [
        (NOT_GIVEN, phases(5.0, 600.0, 600.0, 600.0)),
        (None, phases(None, None, None, None)),
        (12.0, phases(12.0, 12.0, 12.0, 12.0)),
        (httpx.Timeout(20.0, connect=2.0), phases(2.0, 20.0, 20.0, 20.0)),
    ],
    ids=["not-given", "none", "float", "timeout"],
)
async def test_client_level_timeout_reaches_the_transport(
    twin: Twin, api: Recorder, timeout: Any, expected: dict[str, float | None]
) -> None:
    api_client = twin.client(api, timeout=timeout)

    await call(api_client, "list")

    assert api.only.extensions["timeout"] == expected


async def test_per_call_timeout_wins_over_client_timeout(twin: Twin, api: Recorder) -> None:
    api_client = twin.client(api, timeout=None)

    await call(api_client, "retrieve", "gpt-4o-mini", timeout=4.0)

    assert api.only.extensions["timeout"] == phases(4.0, 4.0, 4.0, 4.0)
