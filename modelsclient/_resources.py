"""`client.models`: retrieve, list and delete, plain, raw and streaming, sync and async.

Each endpoint is described once (`_retrieve`, `_list`, `_delete`: request options) and sent
three ways: raw (`_request`, body read), plain (raw, then `.parse()`) and streaming (`_stream`,
body unread).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Unpack

import pydantic

from ._pagination import AsyncPage, AsyncPaginator, SyncPage
from ._resource import (
    CallOptions,
    async_page_parser,
    endpoint,
    first_page,
    lenient_list_parser,
    object_parser,
    path_segment,
    sync_page_parser,
)
from ._response import APIResponse, AsyncStreamContext, Parser, StreamContext, model_parser
from ._types import RequestOptions
from .types import Model, ModelDeleted

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = [
    "AsyncModels",
    "AsyncModelsWithRawResponse",
    "AsyncModelsWithStreamingResponse",
    "CallOptions",
    "Models",
    "ModelsWithRawResponse",
    "ModelsWithStreamingResponse",
    "model_path",
]


class _ModelList(pydantic.BaseModel):
    object: str = "list"
    data: list[Model]
    has_more: bool | None = None


# Items are read leniently (as the official package reads them); a delete's answer is
# validated strictly: `deleted` must be a real boolean to be believed.
_parse_model = object_parser(Model)
_parse_deleted = model_parser(ModelDeleted)
_parse_list = lenient_list_parser(_ModelList, Model)


def model_path(model: str) -> str:
    """`models/<id>` with the id checked and percent-encoded as exactly one path segment."""
    return "models/" + path_segment("model", model)


def _retrieve(model: str, call: CallOptions) -> RequestOptions:
    return endpoint("GET", model_path(model), call)


def _list(call: CallOptions) -> RequestOptions:
    return endpoint("GET", "models", call)


def _delete(model: str, call: CallOptions) -> RequestOptions:
    return endpoint("DELETE", model_path(model), call)


class Models:
    """`client.models`: retrieve, list and delete models.

    ```python
    model = client.models.retrieve("gpt-4o-mini")
    ```
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    @cached_property
    def with_raw_response(self) -> ModelsWithRawResponse:
        return ModelsWithRawResponse(self._client)

    @cached_property
    def with_streaming_response(self) -> ModelsWithStreamingResponse:
        return ModelsWithStreamingResponse(self._client)

    def retrieve(self, model: str, **call: Unpack[CallOptions]) -> Model:
        """Retrieve one model by id."""
        return self.with_raw_response.retrieve(model, **call).parse()

    def list(self, **call: Unpack[CallOptions]) -> SyncPage[Model]:
        """List the available models (iterating walks every page)."""
        return self.with_raw_response.list(**call).parse()

    def delete(self, model: str, **call: Unpack[CallOptions]) -> ModelDeleted:
        """Delete a fine-tuned model (needs the Owner role upstream)."""
        return self.with_raw_response.delete(model, **call).parse()


def _sync_pages(client: Client, options: RequestOptions) -> Parser[SyncPage[Model]]:
    return sync_page_parser(client, options, SyncPage, _parse_list)


def _async_pages(client: AsyncClient, options: RequestOptions) -> Parser[AsyncPage[Model]]:
    return async_page_parser(client, options, AsyncPage, _parse_list)


class ModelsWithRawResponse:
    """`client.models.with_raw_response`: the same calls, returning `APIResponse`."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def retrieve(self, model: str, **call: Unpack[CallOptions]) -> APIResponse[Model]:
        return self._client._request(_retrieve(model, call), _parse_model)

    def list(self, **call: Unpack[CallOptions]) -> APIResponse[SyncPage[Model]]:
        options = _list(call)
        return self._client._request(options, _sync_pages(self._client, options))

    def delete(self, model: str, **call: Unpack[CallOptions]) -> APIResponse[ModelDeleted]:
        return self._client._request(_delete(model, call), _parse_deleted)


class ModelsWithStreamingResponse:
    """`client.models.with_streaming_response`: the same calls, body left unread."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def retrieve(self, model: str, **call: Unpack[CallOptions]) -> StreamContext[Model]:
        return self._client._stream(_retrieve(model, call), _parse_model)

    def list(self, **call: Unpack[CallOptions]) -> StreamContext[SyncPage[Model]]:
        options = _list(call)
        return self._client._stream(options, _sync_pages(self._client, options))

    def delete(self, model: str, **call: Unpack[CallOptions]) -> StreamContext[ModelDeleted]:
        return self._client._stream(_delete(model, call), _parse_deleted)


class AsyncModels:
    """`async_client.models`: the async twin of `Models`.

    ```python
    model = await client.models.retrieve("gpt-4o-mini")
    ```
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    @cached_property
    def with_raw_response(self) -> AsyncModelsWithRawResponse:
        return AsyncModelsWithRawResponse(self._client)

    @cached_property
    def with_streaming_response(self) -> AsyncModelsWithStreamingResponse:
        return AsyncModelsWithStreamingResponse(self._client)

    async def retrieve(self, model: str, **call: Unpack[CallOptions]) -> Model:
        """Retrieve one model by id."""
        return (await self.with_raw_response.retrieve(model, **call)).parse()

    def list(self, **call: Unpack[CallOptions]) -> AsyncPaginator[Model, AsyncPage[Model]]:
        """List models: `await` it for the first page, or `async for` over every model."""
        options = _list(call)  # validated now; sent when awaited or iterated
        return AsyncPaginator(first_page(self._client, options, AsyncPage, _parse_list))

    async def delete(self, model: str, **call: Unpack[CallOptions]) -> ModelDeleted:
        """Delete a fine-tuned model (needs the Owner role upstream)."""
        return (await self.with_raw_response.delete(model, **call)).parse()


class AsyncModelsWithRawResponse:
    """`async_client.models.with_raw_response`: awaited calls returning `APIResponse`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def retrieve(self, model: str, **call: Unpack[CallOptions]) -> APIResponse[Model]:
        return await self._client._request(_retrieve(model, call), _parse_model)

    async def list(self, **call: Unpack[CallOptions]) -> APIResponse[AsyncPage[Model]]:
        options = _list(call)
        return await self._client._request(options, _async_pages(self._client, options))

    async def delete(self, model: str, **call: Unpack[CallOptions]) -> APIResponse[ModelDeleted]:
        return await self._client._request(_delete(model, call), _parse_deleted)


class AsyncModelsWithStreamingResponse:
    """`async_client.models.with_streaming_response`: `async with` or `await` the call."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def retrieve(self, model: str, **call: Unpack[CallOptions]) -> AsyncStreamContext[Model]:
        return self._client._stream(_retrieve(model, call), _parse_model)

    def list(self, **call: Unpack[CallOptions]) -> AsyncStreamContext[AsyncPage[Model]]:
        options = _list(call)
        return self._client._stream(options, _async_pages(self._client, options))

    def delete(self, model: str, **call: Unpack[CallOptions]) -> AsyncStreamContext[ModelDeleted]:
        return self._client._stream(_delete(model, call), _parse_deleted)
