"""Which failures are retried, how long the client waits, and that nothing is left open."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from modelsclient import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    Model,
)

from .conftest import Twin, resolve

MODEL = {"id": "gpt-4o-mini", "object": "model", "created": 1686935002, "owned_by": "openai"}


class Script:
    """A mock API that plays a list of answers in order (the last one repeats)."""

    def __init__(self, *answers: Callable[[], httpx.Response | BaseException]) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    @property
    def retry_counts(self) -> list[str | None]:
        return [r.headers.get("x-stainless-retry-count") for r in self.requests]


def status(code: int, **headers: str) -> Callable[[], httpx.Response]:
    """A fresh error response per attempt (a response object can be sent only once)."""
    return lambda: httpx.Response(code, headers=headers, json={"error": {"message": "nope"}})


def ok() -> httpx.Response:
    return httpx.Response(200, json=MODEL)


async def retrieve(api_client: Any) -> Any:
    return await resolve(api_client.models.retrieve("gpt-4o-mini"))


# --- what is retried -----------------------------------------------------------------------


@pytest.mark.parametrize("code", [408, 409, 429, 500, 502, 503, 504])
async def test_retryable_status_is_tried_three_times_with_increasing_retry_count(
    twin: Twin, sleeps: list[float], code: int
) -> None:
    api = Script(status(code))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(APIStatusError) as info:
        await retrieve(api_client)

    assert info.value.status_code == code
    assert api.retry_counts == ["0", "1", "2"]
    assert len(sleeps) == 2


@pytest.mark.parametrize("code", [408, 409, 429, 500, 503])
async def test_success_after_retries_returns_the_model_and_counts_retries(
    twin: Twin, code: int
) -> None:
    api = Script(status(code), status(code), ok)
    api_client = twin.client(api, max_retries=2)

    raw = await resolve(api_client.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.retries_taken == 2
    assert raw.status_code == 200
    assert raw.parse() == Model(**MODEL)
    assert api.retry_counts == ["0", "1", "2"]


async def test_plain_call_returns_the_parsed_model_after_one_retry(twin: Twin) -> None:
    api = Script(status(503), ok)
    api_client = twin.client(api)

    model = await retrieve(api_client)

    assert model.id == "gpt-4o-mini"
    assert model.owned_by == "openai"
    assert api.retry_counts == ["0", "1"]


async def test_streaming_response_counts_retries_taken(twin: Twin) -> None:
    api = Script(status(429), ok)
    api_client = twin.client(api)

    if twin.is_async:
        async with api_client.models.with_streaming_response.retrieve("gpt-4o-mini") as r:
            retries_taken, model = r.retries_taken, await r.parse()
    else:
        with api_client.models.with_streaming_response.retrieve("gpt-4o-mini") as r:
            retries_taken, model = r.retries_taken, r.parse()

    assert retries_taken == 1
    assert model.id == "gpt-4o-mini"


@pytest.mark.parametrize("code", [400, 401, 403, 404, 422])
async def test_client_errors_are_not_retried(twin: Twin, sleeps: list[float], code: int) -> None:
    api = Script(status(code))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(APIStatusError) as info:
        await retrieve(api_client)

    assert info.value.status_code == code
    assert len(api.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    ("raised", "wrapped"),
    [
        (lambda: httpx.ConnectError("connection refused"), APIConnectionError),
        (lambda: httpx.RemoteProtocolError("peer closed"), APIConnectionError),
        (lambda: httpx.ReadTimeout("read timed out"), APITimeoutError),
        (lambda: httpx.ConnectTimeout("connect timed out"), APITimeoutError),
    ],
    ids=["connect-error", "protocol-error", "read-timeout", "connect-timeout"],
)
async def test_transport_errors_are_retried_then_wrapped_with_their_cause(
    twin: Twin,
    sleeps: list[float],
    raised: Callable[[], httpx.TransportError],
    wrapped: type[APIConnectionError],
) -> None:
    errors: list[httpx.TransportError] = []

    def fail() -> httpx.TransportError:
        errors.append(raised())
        return errors[-1]

    api = Script(fail)
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(APIConnectionError) as info:
        await retrieve(api_client)

    assert type(info.value) is wrapped
    assert info.value.__cause__ is errors[-1]
    assert info.value.request.url == "https://api.example.test/v1/models/gpt-4o-mini"
    assert api.retry_counts == ["0", "1", "2"]
    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


async def test_transport_error_then_success_returns_the_model(twin: Twin) -> None:
    api = Script(lambda: httpx.ConnectError("refused"), ok)
    api_client = twin.client(api)

    raw = await resolve(api_client.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.retries_taken == 1
    assert raw.parse().id == "gpt-4o-mini"


async def test_max_retries_zero_makes_exactly_one_attempt(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(503))
    api_client = twin.client(api, max_retries=0)

    with pytest.raises(InternalServerError):
        await retrieve(api_client)

    assert api.retry_counts == ["0"]
    assert sleeps == []


async def test_max_retries_zero_raises_transport_error_after_one_attempt(twin: Twin) -> None:
    api = Script(lambda: httpx.ReadTimeout("slow"))
    api_client = twin.client(api, max_retries=0)

    with pytest.raises(APITimeoutError):
        await retrieve(api_client)

    assert len(api.requests) == 1


async def test_caller_set_retry_count_is_kept_on_every_attempt(twin: Twin) -> None:
    api = Script(status(500), ok)
    api_client = twin.client(api)

    await resolve(
        api_client.models.retrieve("gpt-4o-mini", extra_headers={"x-stainless-retry-count": "9"})
    )

    assert api.retry_counts == ["9", "9"]


async def test_should_retry_true_retries_a_bad_request(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(400, **{"x-should-retry": "true"}))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(BadRequestError):
        await retrieve(api_client)

    assert api.retry_counts == ["0", "1", "2"]
    assert len(sleeps) == 2


async def test_should_retry_false_stops_a_server_error(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(503, **{"x-should-retry": "false"}))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(InternalServerError):
        await retrieve(api_client)

    assert len(api.requests) == 1
    assert sleeps == []


class TimeLimit(BaseException):
    """Stands in for a worker's time-limit signal, which must never be swallowed or retried."""


@pytest.mark.parametrize(
    "raised",
    [TimeLimit, KeyboardInterrupt, asyncio.CancelledError, RuntimeError, ValueError],
    ids=["base-exception", "keyboard-interrupt", "cancelled", "runtime-error", "value-error"],
)
async def test_non_transport_exceptions_propagate_at_once(
    twin: Twin, sleeps: list[float], raised: type[BaseException]
) -> None:
    api = Script(lambda: raised("stop"))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(raised) as info:
        await retrieve(api_client)

    assert type(info.value) is raised
    assert str(info.value) == "stop"
    assert len(api.requests) == 1
    assert sleeps == []


@pytest.mark.parametrize(
    "raised",
    [httpx.DecodingError("bad gzip"), httpx.TooManyRedirects("loop")],
    ids=["decoding-error", "too-many-redirects"],
)
async def test_other_httpx_request_errors_are_wrapped_but_not_retried(
    twin: Twin, sleeps: list[float], raised: httpx.RequestError
) -> None:
    api = Script(lambda: raised)
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(APIConnectionError) as info:
        await retrieve(api_client)

    assert info.value.__cause__ is raised
    assert len(api.requests) == 1
    assert sleeps == []


# --- how long it waits ---------------------------------------------------------------------


async def test_retry_after_ms_sets_the_delay(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(429, **{"retry-after-ms": "1500"}), ok)
    api_client = twin.client(api)

    await retrieve(api_client)

    assert sleeps == [1.5]


async def test_retry_after_ms_wins_over_retry_after(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(429, **{"retry-after-ms": "250", "retry-after": "30"}), ok)
    api_client = twin.client(api)

    await retrieve(api_client)

    assert sleeps == [0.25]


async def test_retry_after_seconds_sets_the_delay(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(503, **{"retry-after": "3"}), ok)
    api_client = twin.client(api)

    await retrieve(api_client)

    assert sleeps == [3.0]


@pytest.mark.parametrize("usegmt", [True, False], ids=["gmt", "numeric-zone"])
async def test_retry_after_http_date_sets_the_delay(
    twin: Twin, sleeps: list[float], usegmt: bool
) -> None:
    when = email.utils.formatdate(time.time() + 10, usegmt=usegmt)
    api = Script(status(503, **{"retry-after": when}), ok)
    api_client = twin.client(api)

    await retrieve(api_client)

    assert len(sleeps) == 1
    assert 8.0 <= sleeps[0] <= 10.5


async def test_retry_after_of_120_seconds_is_honoured(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(429, **{"retry-after": "120"}), ok)
    api_client = twin.client(api)

    await retrieve(api_client)

    assert sleeps == [120.0]
    assert len(api.requests) == 2


@pytest.mark.parametrize("headers", [{"retry-after": "121"}, {"retry-after-ms": "120001"}])
async def test_retry_after_above_120_seconds_raises_without_retrying(
    twin: Twin, sleeps: list[float], headers: dict[str, str]
) -> None:
    api = Script(status(429, **headers), ok)
    api_client = twin.client(api)

    with pytest.raises(APIStatusError) as info:
        await retrieve(api_client)

    assert info.value.status_code == 429
    assert len(api.requests) == 1
    assert sleeps == []


async def test_backoff_without_hints_doubles_with_jitter(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(500))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(InternalServerError):
        await retrieve(api_client)

    assert len(sleeps) == 2
    assert 0.375 <= sleeps[0] <= 0.5
    assert 0.75 <= sleeps[1] <= 1.0


async def test_backoff_is_capped_at_eight_seconds(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(500))
    api_client = twin.client(api, max_retries=7)

    with pytest.raises(InternalServerError):
        await retrieve(api_client)

    ceilings = [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert len(sleeps) == len(ceilings)
    for slept, ceiling in zip(sleeps, ceilings, strict=True):
        assert 0.75 * ceiling <= slept <= ceiling


async def test_backoff_is_jittered(twin: Twin, sleeps: list[float]) -> None:
    api = Script(status(500))
    api_client = twin.client(api, max_retries=20)

    with pytest.raises(InternalServerError):
        await retrieve(api_client)

    assert len(sleeps) == 20
    assert len(set(sleeps[4:])) > 1  # capped delays differ only by their jitter


@pytest.mark.parametrize("value", ["soon", "-5", "0"])
async def test_unusable_retry_after_falls_back_to_backoff(
    twin: Twin, sleeps: list[float], value: str
) -> None:
    api = Script(status(503, **{"retry-after": value}), ok)
    api_client = twin.client(api)

    await retrieve(api_client)

    assert len(sleeps) == 1
    assert 0.375 <= sleeps[0] <= 0.5


# --- nothing left open ---------------------------------------------------------------------


class TrackedStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body that records whether the client closed it."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        yield self.body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def tracked_failures(streams: list[TrackedStream], code: int = 503) -> Callable[[], httpx.Response]:
    def answer() -> httpx.Response:
        streams.append(TrackedStream(b'{"error": {"message": "overloaded"}}'))
        return httpx.Response(
            code, headers={"content-type": "application/json"}, stream=streams[-1]
        )

    return answer


async def test_every_failed_response_is_closed_and_nothing_is_left_open(twin: Twin) -> None:
    streams: list[TrackedStream] = []
    api = Script(tracked_failures(streams))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(InternalServerError) as info:
        await retrieve(api_client)

    assert len(streams) == 3
    assert [s.closed for s in streams] == [True, True, True]
    assert info.value.response.is_closed
    assert info.value.message == "Error code: 503 - overloaded"


async def test_failed_response_is_closed_before_sleeping(
    twin: Twin, monkeypatch: pytest.MonkeyPatch
) -> None:
    streams: list[TrackedStream] = []
    closed_at_sleep: list[list[bool]] = []
    recorded_async_sleep = asyncio.sleep

    def sleep(seconds: float) -> None:
        closed_at_sleep.append([s.closed for s in streams])

    async def async_sleep(seconds: float, *args: Any) -> None:
        closed_at_sleep.append([s.closed for s in streams])
        await recorded_async_sleep(0)

    monkeypatch.setattr(time, "sleep", sleep)
    monkeypatch.setattr(asyncio, "sleep", async_sleep)
    api = Script(tracked_failures(streams, 429), tracked_failures(streams, 429), ok)
    api_client = twin.client(api, max_retries=2)

    await retrieve(api_client)

    assert closed_at_sleep == [[True], [True, True]]


async def test_failed_stream_request_closes_failed_responses(twin: Twin) -> None:
    streams: list[TrackedStream] = []
    api = Script(tracked_failures(streams))
    api_client = twin.client(api, max_retries=1)

    with pytest.raises(InternalServerError):
        if twin.is_async:
            async with api_client.models.with_streaming_response.retrieve("gpt-4o-mini"):
                pass
        else:
            with api_client.models.with_streaming_response.retrieve("gpt-4o-mini"):
                pass

    assert [s.closed for s in streams] == [True, True]


async def test_transport_error_while_reading_the_body_is_retried(twin: Twin) -> None:
    class Broken(TrackedStream):
        def __iter__(self) -> Iterator[bytes]:
            yield b'{"id": '
            raise httpx.ReadError("connection reset")

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"id": '
            raise httpx.ReadError("connection reset")

    broken = Broken(b"")
    api = Script(lambda: httpx.Response(200, stream=broken), ok)
    api_client = twin.client(api)

    raw = await resolve(api_client.models.with_raw_response.retrieve("gpt-4o-mini"))

    assert raw.retries_taken == 1
    assert raw.parse().id == "gpt-4o-mini"
    assert broken.closed


async def test_response_is_closed_when_reading_it_is_interrupted(twin: Twin) -> None:
    class Interrupted(TrackedStream):
        def __iter__(self) -> Iterator[bytes]:
            raise TimeLimit("mid-body")
            yield b""  # pragma: no cover

        async def __aiter__(self) -> AsyncIterator[bytes]:
            raise TimeLimit("mid-body")
            yield b""  # pragma: no cover

    stream = Interrupted(b"")
    api = Script(lambda: httpx.Response(503, stream=stream))
    api_client = twin.client(api, max_retries=2)

    with pytest.raises(TimeLimit):
        await retrieve(api_client)

    assert stream.closed
    assert len(api.requests) == 1


# --- the decision itself, for callers with their own deadline ------------------------------


def test_wanted_delay_reports_a_long_server_hint_that_retry_delay_refuses() -> None:
    from modelsclient import retry_delay, wanted_delay

    response = httpx.Response(429, headers={"retry-after": "300"})

    assert wanted_delay(response, 0) == 300.0
    assert retry_delay(response, 0, 2) is None


@pytest.mark.parametrize(
    ("code", "headers"),
    [(400, {}), (404, {}), (500, {"x-should-retry": "false"})],
)
def test_wanted_delay_is_none_for_what_is_never_retried(code: int, headers: dict[str, str]) -> None:
    from modelsclient import wanted_delay

    assert wanted_delay(httpx.Response(code, headers=headers), 0) is None


def test_wanted_delay_ignores_the_attempt_cap_and_backs_off_for_transport_errors() -> None:
    from modelsclient import retry_delay, wanted_delay

    delay = wanted_delay(None, 5)

    assert delay is not None
    assert 6.0 <= delay <= 8.0
    assert retry_delay(None, 5, 5) is None


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [({"retry-after-ms": "250"}, 0.25), ({"retry-after": "120"}, 120.0), ({}, None)],
)
def test_retry_after_reads_the_servers_hint(headers: dict[str, str], seconds: float | None) -> None:
    from modelsclient import retry_after

    assert retry_after(httpx.Headers(headers)) == seconds
