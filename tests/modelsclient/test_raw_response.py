"""`with_raw_response`: the read response, its headers and body, and the typed `.parse()`."""

from __future__ import annotations

import datetime
import inspect
import json

import httpx
import pytest

import modelsclient
from modelsclient.types import Model, ModelDeleted

from .conftest import Twin, resolve

MODEL = {"id": "gpt-4o-mini", "created": 1721172741, "object": "model", "owned_by": "system"}
LIST = {"object": "list", "data": [MODEL, {**MODEL, "id": "gpt-4o", "created": 1715367049}]}
DELETED = {"id": "ft:gpt-4o-mini:acme::abc123", "deleted": True, "object": "model"}


class Server:
    """Answers every request with `body` as JSON; records what it received."""

    def __init__(self, body: object, headers: dict[str, str] | None = None) -> None:
        self.content = json.dumps(body).encode()
        self.headers = {"content-type": "application/json", **(headers or {})}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, headers=self.headers, content=self.content)


async def test_raw_retrieve_exposes_status_headers_and_body(twin: Twin) -> None:
    server = Server(MODEL, {"x-request-id": "req_123", "openai-processing-ms": "42"})
    api = twin.client(server)

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert server.requests[0].method == "GET"
    assert server.requests[0].url == "https://api.example.test/v1/models/gpt-4o-mini"
    assert raw.status_code == 200
    assert raw.headers["openai-processing-ms"] == "42"
    assert raw.headers["Content-Type"] == "application/json"
    assert raw.content == server.content
    assert raw.text == server.content.decode()
    assert raw.json() == MODEL


async def test_raw_retrieve_parse_returns_the_typed_model(twin: Twin) -> None:
    api = twin.client(Server(MODEL))

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))
    model = raw.parse()

    assert isinstance(model, Model)
    assert model == Model(id="gpt-4o-mini", created=1721172741, object="model", owned_by="system")


async def test_raw_parse_is_cached_and_returns_the_same_object(twin: Twin) -> None:
    api = twin.client(Server(MODEL))

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.parse() is raw.parse()


async def test_async_raw_call_is_awaited_but_parse_is_a_plain_call() -> None:
    api = Twin(is_async=True).client(Server(MODEL))

    pending = api.models.with_raw_response.retrieve("gpt-4o-mini")
    assert inspect.isawaitable(pending)
    raw = await pending
    parsed = raw.parse()

    assert not inspect.isawaitable(parsed)
    assert parsed.id == "gpt-4o-mini"


async def test_raw_request_id_is_the_x_request_id_header(twin: Twin) -> None:
    api = twin.client(Server(MODEL, {"x-request-id": "req_abc123"}))

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.request_id == "req_abc123"


async def test_raw_request_id_is_none_without_the_header(twin: Twin) -> None:
    api = twin.client(Server(MODEL))

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.request_id is None


async def test_raw_http_response_is_the_read_httpx_response(twin: Twin) -> None:
    server = Server(MODEL)
    api = twin.client(server)

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert isinstance(raw.http_response, httpx.Response)
    assert raw.http_response.status_code == 200
    assert raw.http_response.content == server.content
    assert raw.http_response.request.url == "https://api.example.test/v1/models/gpt-4o-mini"
    assert raw.http_response.is_closed is True


async def test_raw_elapsed_is_a_timedelta(twin: Twin) -> None:
    api = twin.client(Server(MODEL))

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert isinstance(raw.elapsed, datetime.timedelta)
    assert datetime.timedelta(0) <= raw.elapsed < datetime.timedelta(seconds=30)


async def test_raw_retries_taken_is_zero_when_the_first_attempt_succeeds(twin: Twin) -> None:
    api = twin.client(Server(MODEL))

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.retries_taken == 0


async def test_raw_retries_taken_is_one_after_a_500_then_a_200(
    twin: Twin, sleeps: list[float]
) -> None:
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        if len(attempts) == 1:
            return httpx.Response(500, json={"error": {"message": "try again"}})
        return httpx.Response(200, json=MODEL)

    api = twin.client(handler)

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.retries_taken == 1
    assert raw.status_code == 200
    assert raw.parse().id == "gpt-4o-mini"
    assert len(attempts) == 2
    assert len(sleeps) == 1


async def test_raw_list_gives_the_body_and_parses_to_a_page(twin: Twin) -> None:
    server = Server(LIST, {"x-request-id": "req_list"})
    api = twin.client(server)

    raw = await resolve(api.models.with_raw_response.list())

    assert server.requests[0].method == "GET"
    assert server.requests[0].url == "https://api.example.test/v1/models"
    assert raw.status_code == 200
    assert raw.request_id == "req_list"
    assert raw.json() == LIST
    assert raw.text == server.content.decode()
    page = raw.parse()
    assert isinstance(page, modelsclient.AsyncPage if twin.is_async else modelsclient.SyncPage)
    assert [model.id for model in page.data] == ["gpt-4o-mini", "gpt-4o"]
    assert raw.parse() is page


async def test_raw_delete_sends_delete_and_parses_to_model_deleted(twin: Twin) -> None:
    server = Server(DELETED, {"x-request-id": "req_del"})
    api = twin.client(server)

    raw = await resolve(api.models.with_raw_response.delete("ft:gpt-4o-mini:acme::abc123"))

    assert server.requests[0].method == "DELETE"
    assert server.requests[0].url.raw_path == b"/v1/models/ft:gpt-4o-mini:acme::abc123"
    assert raw.status_code == 200
    assert raw.request_id == "req_del"
    assert raw.json() == DELETED
    assert raw.content == server.content
    assert raw.parse() == ModelDeleted(
        id="ft:gpt-4o-mini:acme::abc123", deleted=True, object="model"
    )
    assert raw.parse() is raw.parse()
    assert raw.retries_taken == 0


async def test_raw_body_is_readable_when_parse_rejects_it(twin: Twin) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/html"}, text="<h1>proxy</h1>")

    api = twin.client(handler)

    raw = await resolve(api.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.status_code == 200
    assert raw.text == "<h1>proxy</h1>"
    assert raw.content == b"<h1>proxy</h1>"
    with pytest.raises(modelsclient.APIResponseValidationError) as caught:
        raw.parse()
    assert caught.value.response is raw.http_response
    assert caught.value.body == "<h1>proxy</h1>"
