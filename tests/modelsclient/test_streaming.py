"""`with_streaming_response`: the body stays on the wire until the caller asks for it."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

import modelsclient
from modelsclient.types import Model, ModelDeleted

from .conftest import Twin, resolve

MODEL = {"id": "gpt-4o-mini", "created": 1721172741, "object": "model", "owned_by": "system"}
MODEL_BYTES = json.dumps(MODEL).encode()
# The JSON body cut into three pieces the server sends one after the other.
CHUNKS = [MODEL_BYTES[:10], MODEL_BYTES[10:40], MODEL_BYTES[40:]]


class RecordingStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that is produced only when pulled; logs each pull and the close."""

    def __init__(self, chunks: list[bytes], events: list[str]) -> None:
        self._chunks = chunks
        self._events = events

    def __iter__(self) -> Iterator[bytes]:
        for index, chunk in enumerate(self._chunks):
            self._events.append(f"pull {index}")
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for index, chunk in enumerate(self._chunks):
            self._events.append(f"pull {index}")
            yield chunk

    def close(self) -> None:
        self._events.append("close")

    async def aclose(self) -> None:
        self._events.append("close")


class StreamingServer:
    """A mock handler whose responses stream `chunks`; records requests and stream events."""

    def __init__(self, chunks: list[bytes] | None = None, status: int = 200) -> None:
        self.chunks = CHUNKS if chunks is None else chunks
        self.status = status
        self.events: list[str] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(
            self.status,
            headers={"content-type": "application/json", "x-request-id": "req_stream_1"},
            stream=RecordingStream(self.chunks, self.events),
        )


@contextlib.asynccontextmanager
async def opened(context: Any) -> AsyncIterator[Any]:
    """`with context as r` for the sync client, `async with context as r` for the async one."""
    if isinstance(context, modelsclient.AsyncStreamContext):
        async with context as response:
            yield response
    else:
        with context as response:
            yield response


async def collect(iterable: Any) -> list[Any]:
    """Drain a sync or an async iterator into a list."""
    if hasattr(iterable, "__aiter__"):
        return [item async for item in iterable]
    return list(iterable)


async def test_entering_the_stream_sends_the_request_but_pulls_no_chunk(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        assert len(server.requests) == 1
        assert server.requests[0].method == "GET"
        assert server.requests[0].url == "https://api.example.test/v1/models/gpt-4o-mini"
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.request_id == "req_stream_1"
        assert response.retries_taken == 0
        assert response.is_closed is False
        assert server.events == []


async def test_iter_bytes_yields_the_chunks_in_order_then_closes(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        chunks = await collect(response.iter_bytes())

    assert chunks == CHUNKS
    assert server.events == ["pull 0", "pull 1", "pull 2", "close"]
    assert response.is_closed is True


async def test_leaving_the_block_half_read_closes_the_stream(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        chunks = response.iter_bytes()
        first = await anext(chunks) if twin.is_async else next(chunks)
        assert first == CHUNKS[0]
        assert server.events == ["pull 0"]

    assert server.events == ["pull 0", "close"]
    assert response.is_closed is True


async def test_leaving_the_block_unread_closes_the_stream_without_pulling(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        pass

    assert server.events == ["close"]
    assert response.is_closed is True


async def test_an_exception_inside_the_block_still_closes_the_stream(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    with pytest.raises(KeyError):
        async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")):
            raise KeyError("caller bug")

    assert server.events == ["close"]


def test_iterating_the_sync_call_directly_yields_the_chunks_then_closes() -> None:
    server = StreamingServer()
    api = Twin(is_async=False).client(server)

    streaming_response = api.models.with_streaming_response.retrieve("gpt-4o-mini")
    assert server.requests == []  # nothing is sent until the loop starts
    seen = []
    for chunk in streaming_response:
        seen.append((chunk, list(server.events)))

    assert seen == [
        (CHUNKS[0], ["pull 0"]),
        (CHUNKS[1], ["pull 0", "pull 1"]),
        (CHUNKS[2], ["pull 0", "pull 1", "pull 2"]),
    ]
    assert server.events == ["pull 0", "pull 1", "pull 2", "close"]
    assert len(server.requests) == 1


def test_breaking_out_of_direct_sync_iteration_closes_the_stream() -> None:
    server = StreamingServer()
    api = Twin(is_async=False).client(server)

    for chunk in api.models.with_streaming_response.retrieve("gpt-4o-mini"):
        assert chunk == CHUNKS[0]
        break

    assert server.events == ["pull 0", "close"]


async def test_awaiting_the_async_call_gives_a_response_whose_iteration_closes_at_the_end() -> None:
    server = StreamingServer()
    api = Twin(is_async=True).client(server)

    response = await api.models.with_streaming_response.retrieve("gpt-4o-mini")
    assert response.status_code == 200
    assert response.request_id == "req_stream_1"
    assert server.events == []

    chunks = [chunk async for chunk in response]

    assert chunks == CHUNKS
    assert server.events == ["pull 0", "pull 1", "pull 2", "close"]
    assert response.is_closed is True


async def test_stopping_async_iteration_early_closes_the_response_once_the_iterator_closes() -> (
    None
):
    server = StreamingServer()
    api = Twin(is_async=True).client(server)
    response = await api.models.with_streaming_response.retrieve("gpt-4o-mini")

    async with contextlib.aclosing(aiter(response)) as chunks:
        async for chunk in chunks:
            assert chunk == CHUNKS[0]
            break

    assert server.events == ["pull 0", "close"]
    assert response.is_closed is True


async def test_the_async_call_sends_nothing_before_it_is_awaited_or_entered() -> None:
    server = StreamingServer()
    api = Twin(is_async=True).client(server)

    context = api.models.with_streaming_response.retrieve("gpt-4o-mini")
    assert server.requests == []

    async with context as response:
        assert response.status_code == 200
    assert len(server.requests) == 1


async def test_parse_reads_the_stream_and_returns_the_model(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        model = await resolve(response.parse())
        assert server.events[:3] == ["pull 0", "pull 1", "pull 2"]

    assert isinstance(model, Model)
    assert model == Model(id="gpt-4o-mini", created=1721172741, object="model", owned_by="system")
    assert server.events[-1] == "close"


async def test_parse_on_the_async_client_must_be_awaited() -> None:
    api = Twin(is_async=True).client(StreamingServer())

    async with api.models.with_streaming_response.retrieve("gpt-4o-mini") as response:
        pending = response.parse()
        assert not isinstance(pending, Model)
        model = await pending

    assert model.id == "gpt-4o-mini"


async def test_read_returns_the_whole_body(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        assert await resolve(response.read()) == MODEL_BYTES


async def test_iter_text_yields_the_body_as_text(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        texts = await collect(response.iter_text())

    assert "".join(texts) == MODEL_BYTES.decode()
    assert all(isinstance(text, str) for text in texts)


async def test_iter_lines_splits_the_body_on_newlines_across_chunks(twin: Twin) -> None:
    server = StreamingServer(chunks=[b"first li", b"ne\nsecond", b" line\nthird\n"])
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        lines = await collect(response.iter_lines())

    assert lines == ["first line", "second line", "third"]


async def test_list_streams_and_parses_to_a_page(twin: Twin) -> None:
    body = {"object": "list", "data": [MODEL, {**MODEL, "id": "gpt-4o"}]}
    raw = json.dumps(body).encode()
    server = StreamingServer(chunks=[raw[:25], raw[25:]])
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.list()) as response:
        assert server.events == []
        page = await resolve(response.parse())

    assert server.requests[0].url == "https://api.example.test/v1/models"
    assert isinstance(page, modelsclient.AsyncPage if twin.is_async else modelsclient.SyncPage)
    assert [model.id for model in page.data] == ["gpt-4o-mini", "gpt-4o"]
    assert server.events == ["pull 0", "pull 1", "close"]


async def test_delete_streams_and_parses_to_model_deleted(twin: Twin) -> None:
    raw = b'{"id": "ft:gpt-4o-mini:acme::abc123", "deleted": true, "object": "model"}'
    server = StreamingServer(chunks=[raw[:30], raw[30:]])
    api = twin.client(server)

    context = api.models.with_streaming_response.delete("ft:gpt-4o-mini:acme::abc123")
    async with opened(context) as response:
        assert server.events == []
        assert await collect(response.iter_bytes()) == [raw[:30], raw[30:]]

    request = server.requests[0]
    assert request.method == "DELETE"
    assert request.url.raw_path == b"/v1/models/ft:gpt-4o-mini:acme::abc123"
    assert server.events == ["pull 0", "pull 1", "close"]


async def test_delete_stream_parse_returns_model_deleted(twin: Twin) -> None:
    raw = b'{"id": "ft:abc", "deleted": true, "object": "model"}'
    api = twin.client(StreamingServer(chunks=[raw]))

    async with opened(api.models.with_streaming_response.delete("ft:abc")) as response:
        result = await resolve(response.parse())

    assert result == ModelDeleted(id="ft:abc", deleted=True, object="model")


async def test_an_error_status_raises_the_typed_error_on_enter_and_leaves_nothing_open(
    twin: Twin,
) -> None:
    envelope = {
        "error": {
            "message": "The model `nope` does not exist",
            "type": "invalid_request_error",
            "param": None,
            "code": "model_not_found",
        }
    }
    error = json.dumps(envelope).encode()
    server = StreamingServer(chunks=[error[:20], error[20:]], status=404)
    api = twin.client(server)
    entered = False

    with pytest.raises(modelsclient.NotFoundError) as caught:
        async with opened(api.models.with_streaming_response.retrieve("nope")):
            entered = True

    assert entered is False
    assert caught.value.status_code == 404
    assert caught.value.code == "model_not_found"
    assert str(caught.value) == "Error code: 404 - The model `nope` does not exist"
    assert caught.value.response.is_closed is True
    assert server.events == ["pull 0", "pull 1", "close"]
    assert len(server.requests) == 1


def test_an_error_status_raises_when_iterating_the_sync_call_directly() -> None:
    server = StreamingServer(chunks=[b'{"error": {"message": "gone"}}'], status=404)
    api = Twin(is_async=False).client(server)

    with pytest.raises(modelsclient.NotFoundError):
        for _ in api.models.with_streaming_response.retrieve("nope"):
            pytest.fail("an error response must not yield chunks")

    assert server.events == ["pull 0", "close"]


async def test_an_error_status_raises_when_awaiting_the_async_call() -> None:
    server = StreamingServer(chunks=[b'{"error": {"message": "gone"}}'], status=404)
    api = Twin(is_async=True).client(server)

    with pytest.raises(modelsclient.NotFoundError):
        await api.models.with_streaming_response.retrieve("nope")

    assert server.events == ["pull 0", "close"]


async def test_a_retried_stream_reports_retries_taken_and_closes_the_failed_attempt(
    twin: Twin, sleeps: list[float]
) -> None:
    events: list[str] = []
    attempts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request)
        status = 500 if len(attempts) == 1 else 200
        events.append(f"attempt {len(attempts)}")
        return httpx.Response(status, stream=RecordingStream(CHUNKS, events))

    api = twin.client(handler)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        assert response.retries_taken == 1
        assert events == ["attempt 1", "pull 0", "pull 1", "pull 2", "close", "attempt 2"]

    assert [r.headers["x-stainless-retry-count"] for r in attempts] == ["0", "1"]
    assert len(sleeps) == 1
    assert events[-1] == "close"


async def test_iterating_the_entered_response_yields_the_chunks(twin: Twin) -> None:
    server = StreamingServer()
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        chunks = await collect(response)

    assert chunks == CHUNKS
    assert server.events == ["pull 0", "pull 1", "pull 2", "close"]


async def test_parse_of_a_streamed_body_that_is_not_json_raises_a_validation_error(
    twin: Twin,
) -> None:
    server = StreamingServer(chunks=[b"<html>", b"gateway says hi</html>"])
    api = twin.client(server)

    async with opened(api.models.with_streaming_response.retrieve("gpt-4o-mini")) as response:
        with pytest.raises(modelsclient.APIResponseValidationError) as caught:
            await resolve(response.parse())

    assert caught.value.status_code == 200
    assert caught.value.body == "<html>gateway says hi</html>"
    assert server.events[-1] == "close"
