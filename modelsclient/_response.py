"""Raw and streaming responses.

The raw response is the base of every call: the plain call is "raw, then `.parse()`", and the
streaming call is the same request with the body left unread until asked for.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ._exceptions import APIResponseValidationError

if TYPE_CHECKING:
    import pydantic

__all__ = [
    "APIResponse",
    "AsyncStreamContext",
    "AsyncStreamedAPIResponse",
    "Parser",
    "StreamContext",
    "StreamedAPIResponse",
    "model_parser",
]

type Parser[T] = Callable[[httpx.Response], T]


def _decoded_body(response: httpx.Response) -> object:
    try:
        return json.loads(response.content)
    except ValueError:
        return response.text


def model_parser[M: pydantic.BaseModel](
    cls: type[M], *, lenient: Callable[[object], M] | None = None
) -> Parser[M]:
    """A parser that validates a read JSON body as `cls`.

    A body that does not validate is given to `lenient` (when set), which builds what it can
    the way the official package does (without validation) or raises `ValueError` when the
    body's outer shape is not the resource's; then `APIResponseValidationError` is raised.
    """
    import pydantic  # deferred: `import modelsclient` stays cheap

    def parse(response: httpx.Response) -> M:
        try:
            return cls.model_validate_json(response.content)
        except pydantic.ValidationError as exc:
            body = _decoded_body(response)
            if lenient is not None and not isinstance(body, str):
                try:
                    return lenient(body)
                except ValueError:
                    pass
            kind = "is not JSON" if isinstance(body, str) else f"does not fit {cls.__name__}"
            message = (
                f"The {response.status_code} response body {kind} "
                f"(content-type {response.headers.get('content-type', 'missing')!r})."
            )
            raise APIResponseValidationError(response, body, message=message) from exc

    return parse


class _ResponseInfo:
    """What every response exposes before its body is read."""

    def __init__(self, http_response: httpx.Response, *, retries_taken: int) -> None:
        self.http_response = http_response
        self.retries_taken = retries_taken

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def url(self) -> httpx.URL:
        return self.http_response.url

    @property
    def method(self) -> str:
        return self.http_response.request.method

    @property
    def http_version(self) -> str:
        return self.http_response.http_version

    @property
    def request_id(self) -> str | None:
        request_id: str | None = self.http_response.headers.get("x-request-id")
        return request_id

    @property
    def elapsed(self) -> datetime.timedelta:
        """Time from sending the request to the end of the body (available once it is read)."""
        return self.http_response.elapsed

    @property
    def is_closed(self) -> bool:
        return self.http_response.is_closed

    def __repr__(self) -> str:
        return f"<{type(self).__name__} [{self.status_code}] {self.method} {self.url}>"


class APIResponse[T](_ResponseInfo):
    """A response whose body has been read; `.parse()` gives the typed result.

    ```python
    raw = client.models.with_raw_response.retrieve("gpt-4o")
    print(raw.request_id, raw.headers["openai-processing-ms"])
    model = raw.parse()
    ```
    """

    def __init__(
        self, http_response: httpx.Response, parser: Parser[T], *, retries_taken: int
    ) -> None:
        super().__init__(http_response, retries_taken=retries_taken)
        self._parser = parser
        self._parsed: list[T] = []

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    def json(self) -> Any:
        """The body decoded as JSON."""
        return self.http_response.json()

    def parse(self) -> T:
        """The typed result (parsed once, then cached)."""
        if not self._parsed:
            self._parsed.append(self._parser(self.http_response))
        return self._parsed[0]


class StreamedAPIResponse[T](_ResponseInfo):
    """A response whose body is read only when asked for; iterating yields byte chunks.

    ```python
    with client.models.with_streaming_response.list() as response:
        for line in response.iter_lines():
            print(line)
    ```
    """

    def __init__(
        self, http_response: httpx.Response, parser: Parser[T], *, retries_taken: int
    ) -> None:
        super().__init__(http_response, retries_taken=retries_taken)
        self._parser = parser

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        """The body's bytes, decoded from any content-encoding, chunk by chunk."""
        return self.http_response.iter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> Iterator[str]:
        """The body as text chunks."""
        return self.http_response.iter_text(chunk_size)

    def iter_lines(self) -> Iterator[str]:
        """The body line by line."""
        return self.http_response.iter_lines()

    def read(self) -> bytes:
        """Read (and keep) the whole body."""
        return self.http_response.read()

    def parse(self) -> T:
        """Read the body and return the typed result."""
        self.read()
        return self._parser(self.http_response)

    def close(self) -> None:
        """Release the connection; safe to call more than once."""
        self.http_response.close()

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_bytes()


class AsyncStreamedAPIResponse[T](_ResponseInfo):
    """The async twin of `StreamedAPIResponse`: `async for chunk in response`.

    ```python
    async with client.models.with_streaming_response.retrieve("gpt-4o") as response:
        model = await response.parse()
    ```
    """

    def __init__(
        self, http_response: httpx.Response, parser: Parser[T], *, retries_taken: int
    ) -> None:
        super().__init__(http_response, retries_taken=retries_taken)
        self._parser = parser

    def iter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        """The body's bytes, chunk by chunk."""
        return self.http_response.aiter_bytes(chunk_size)

    def iter_text(self, chunk_size: int | None = None) -> AsyncIterator[str]:
        """The body as text chunks."""
        return self.http_response.aiter_text(chunk_size)

    def iter_lines(self) -> AsyncIterator[str]:
        """The body line by line."""
        return self.http_response.aiter_lines()

    async def read(self) -> bytes:
        """Read (and keep) the whole body."""
        return await self.http_response.aread()

    async def parse(self) -> T:
        """Read the body and return the typed result."""
        await self.read()
        return self._parser(self.http_response)

    async def close(self) -> None:
        """Release the connection; safe to call more than once."""
        await self.http_response.aclose()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # Direct iteration (`r = await ...; async for chunk in r`) closes at the end.
        try:
            async for chunk in self.http_response.aiter_bytes():
                yield chunk
        finally:
            await self.close()


class StreamContext[T]:
    """What `with_streaming_response.X()` returns: a context manager, or iterate it directly.

    ```python
    with client.models.with_streaming_response.retrieve("gpt-4o") as response:
        print(response.headers["x-request-id"])
    for chunk in client.models.with_streaming_response.retrieve("gpt-4o"):
        print(chunk)
    ```
    """

    def __init__(self, send: Callable[[], StreamedAPIResponse[T]]) -> None:
        self._send = send
        self._response: StreamedAPIResponse[T] | None = None

    def __enter__(self) -> StreamedAPIResponse[T]:
        self._response = self._send()
        return self._response

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            self._response.close()

    def __iter__(self) -> Generator[bytes]:
        with self as response:
            yield from response.iter_bytes()


class AsyncStreamContext[T]:
    """The async twin of `StreamContext`: `async with` it, or `await` it and `async for`.

    ```python
    response = await client.models.with_streaming_response.retrieve("gpt-4o")
    async for chunk in response:
        print(chunk)
    ```
    """

    def __init__(self, send: Callable[[], Awaitable[AsyncStreamedAPIResponse[T]]]) -> None:
        self._send = send
        self._response: AsyncStreamedAPIResponse[T] | None = None

    async def __aenter__(self) -> AsyncStreamedAPIResponse[T]:
        self._response = await self._send()
        return self._response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._response is not None:
            await self._response.close()

    def __await__(self) -> Generator[Any, None, AsyncStreamedAPIResponse[T]]:
        return self.__aenter__().__await__()
