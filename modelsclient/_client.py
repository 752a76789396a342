"""`Client` and `AsyncClient`: mirror images over `BaseClient` that differ only in `await`."""

from __future__ import annotations

import time
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from ._base_client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, LIMITS, BaseClient, set_elapsed
from ._exceptions import make_status_error
from ._response import (
    APIResponse,
    AsyncStreamContext,
    AsyncStreamedAPIResponse,
    Parser,
    StreamContext,
    StreamedAPIResponse,
)
from ._retry import retry_delay
from ._types import NOT_GIVEN, Headers, Query, RequestOptions, TimeoutArg

if TYPE_CHECKING:
    from ._admin import Admin, AsyncAdmin
    from ._fine_tuning import AsyncFineTuning, FineTuning
    from ._resources import AsyncModels, Models

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "AsyncClient", "Client"]


async def _async_sleep(seconds: float) -> None:
    import asyncio  # deferred: sync users never pay for importing asyncio

    await asyncio.sleep(seconds)


class Client(BaseClient[httpx.Client]):
    """A client for the Models API, drop-in for `openai.OpenAI` as far as models go.

    ```python
    with Client(api_key="sk-...") as client:
        for model in client.models.list():
            print(model.id)
    ```
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        admin_api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Headers | None = None,
        default_query: Query | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.Client):
            raise TypeError(f"http_client must be an httpx.Client, got {type(http_client)!r}")
        super().__init__(
            api_key=api_key,
            admin_api_key=admin_api_key,
            organization=organization,
            project=project,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=default_query,
            http_client=http_client,
        )
        self._http = http_client or httpx.Client(
            timeout=self.timeout, limits=LIMITS, follow_redirects=True
        )

    @cached_property
    def models(self) -> Models:
        from ._resources import Models

        return Models(self)

    @cached_property
    def fine_tuning(self) -> FineTuning:
        from ._fine_tuning import FineTuning

        return FineTuning(self)

    @cached_property
    def admin(self) -> Admin:
        from ._admin import Admin

        return Admin(self)

    def close(self) -> None:
        """Close the connection pool (a copy made by `with_options` leaves it open)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, options: RequestOptions, *, stream: bool) -> tuple[httpx.Response, int]:
        retries_taken = 0
        while True:
            request = self._build_request(options, retries_taken)
            response = None
            start = time.perf_counter()
            try:
                response = self._http.send(request, stream=True)
                if not (stream and response.is_success):
                    response.read()
                    response.close()
                    set_elapsed(response, start)
            except httpx.TransportError as exc:
                if response is not None:
                    response.close()
                delay = retry_delay(None, retries_taken, self.max_retries)
                if delay is None:
                    raise self._connection_error(exc, request) from exc
            except httpx.RequestError as exc:  # e.g. a body that fails to decode: not retried
                if response is not None:
                    response.close()
                raise self._connection_error(exc, request) from exc
            except BaseException:
                if response is not None:
                    response.close()
                raise
            else:
                if response.is_success:
                    return response, retries_taken
                delay = retry_delay(response, retries_taken, self.max_retries)
                if delay is None:
                    raise make_status_error(response)
            time.sleep(delay)
            retries_taken += 1

    def _request[T](self, options: RequestOptions, parser: Parser[T]) -> APIResponse[T]:
        response, retries_taken = self._send(options, stream=False)
        return APIResponse(response, parser, retries_taken=retries_taken)

    def _stream[T](self, options: RequestOptions, parser: Parser[T]) -> StreamContext[T]:
        def send() -> StreamedAPIResponse[T]:
            response, retries_taken = self._send(options, stream=True)
            return StreamedAPIResponse(response, parser, retries_taken=retries_taken)

        return StreamContext(send)


class AsyncClient(BaseClient[httpx.AsyncClient]):
    """The async twin of `Client`, drop-in for `openai.AsyncOpenAI` as far as models go.

    ```python
    async with AsyncClient() as client:
        async for model in client.models.list():
            print(model.id)
    ```
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        admin_api_key: str | None = None,
        organization: str | None = None,
        project: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Headers | None = None,
        default_query: Query | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise TypeError(f"http_client must be an httpx.AsyncClient, got {type(http_client)!r}")
        super().__init__(
            api_key=api_key,
            admin_api_key=admin_api_key,
            organization=organization,
            project=project,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            default_query=default_query,
            http_client=http_client,
        )
        self._http = http_client or httpx.AsyncClient(
            timeout=self.timeout, limits=LIMITS, follow_redirects=True
        )

    @cached_property
    def models(self) -> AsyncModels:
        from ._resources import AsyncModels

        return AsyncModels(self)

    @cached_property
    def fine_tuning(self) -> AsyncFineTuning:
        from ._fine_tuning import AsyncFineTuning

        return AsyncFineTuning(self)

    @cached_property
    def admin(self) -> AsyncAdmin:
        from ._admin import AsyncAdmin

        return AsyncAdmin(self)

    async def close(self) -> None:
        """Close the connection pool (a copy made by `with_options` leaves it open)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _send(self, options: RequestOptions, *, stream: bool) -> tuple[httpx.Response, int]:
        retries_taken = 0
        while True:
            request = self._build_request(options, retries_taken)
            response = None
            start = time.perf_counter()
            try:
                response = await self._http.send(request, stream=True)
                if not (stream and response.is_success):
                    await response.aread()
                    await response.aclose()
                    set_elapsed(response, start)
            except httpx.TransportError as exc:
                if response is not None:
                    await response.aclose()
                delay = retry_delay(None, retries_taken, self.max_retries)
                if delay is None:
                    raise self._connection_error(exc, request) from exc
            except httpx.RequestError as exc:  # e.g. a body that fails to decode: not retried
                if response is not None:
                    await response.aclose()
                raise self._connection_error(exc, request) from exc
            except BaseException:
                if response is not None:
                    await response.aclose()
                raise
            else:
                if response.is_success:
                    return response, retries_taken
                delay = retry_delay(response, retries_taken, self.max_retries)
                if delay is None:
                    raise make_status_error(response)
            await _async_sleep(delay)
            retries_taken += 1

    async def _request[T](self, options: RequestOptions, parser: Parser[T]) -> APIResponse[T]:
        response, retries_taken = await self._send(options, stream=False)
        return APIResponse(response, parser, retries_taken=retries_taken)

    def _stream[T](self, options: RequestOptions, parser: Parser[T]) -> AsyncStreamContext[T]:
        async def send() -> AsyncStreamedAPIResponse[T]:
            response, retries_taken = await self._send(options, stream=True)
            return AsyncStreamedAPIResponse(response, parser, retries_taken=retries_taken)

        return AsyncStreamContext(send)
