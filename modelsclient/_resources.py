"""`client.models`: retrieve, list and delete, plain, raw and streaming, sync and async.

Each endpoint is described once (`_retrieve`, `_list`, `_delete`: request options) and sent
three ways: raw (`_request`, body read), plain (raw, then `.parse()`) and streaming (`_stream`,
body unread).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack
from urllib.parse import quote

import httpx
import pydantic

from ._pagination import AsyncPage, AsyncPaginator, SyncPage
from ._response import APIResponse, AsyncStreamContext, Parser, StreamContext, model_parser
from ._types import NOT_GIVEN, Body, Headers, Query, RequestOptions, TimeoutArg
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


class CallOptions(TypedDict, total=False):
    """The per-call options every method takes (all keyword-only)."""

    extra_headers: Headers | None
    extra_query: Query | None
    extra_body: Body | None
    timeout: TimeoutArg


class _ModelList(pydantic.BaseModel):
    object: str = "list"
    data: list[Model]
    has_more: bool | None = None


def _lenient_model(value: object) -> Model:
    """An item as the official package reads it: validated when it fits, else built as sent
    (a field missing, `null` or of another type is kept as is); not an object → ValueError."""
    if not isinstance(value, dict):
        raise ValueError("a model must be a JSON object")
    try:
        return Model.model_validate(value)
    except pydantic.ValidationError:
        return Model.model_construct(**value)


def _lenient_list(body: object) -> _ModelList:
    """A list whose items do not all fit `Model`: one odd item never fails the list."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise ValueError("a list must be an object with a data array")
    return _ModelList.model_construct(
        object=body.get("object", "list"),
        data=[_lenient_model(item) for item in body["data"]],
        has_more=body.get("has_more"),
    )


def _lenient_retrieved(body: object) -> Model:
    """A retrieved model as sent; a body without an `id` is not a model at all."""
    if not isinstance(body, dict) or "id" not in body:
        raise ValueError("a model must have an id")
    return _lenient_model(body)


# A delete's answer is validated strictly: `deleted` must be a real boolean to be believed.
_parse_model = model_parser(Model, lenient=_lenient_retrieved)
_parse_deleted = model_parser(ModelDeleted)
_parse_list = model_parser(_ModelList, lenient=_lenient_list)


def model_path(model: str) -> str:
    """`models/<id>` with the id checked and percent-encoded as exactly one path segment."""
    if not isinstance(model, str) or not model:
        raise ValueError(f"Expected a non-empty value for `model` but received {model!r}")
    if model in {".", ".."}:
        raise ValueError(f"`model` cannot be {model!r}: a dot segment would change the path")
    # ':' and '@' are legal in a segment (ft:base:org:suffix:id goes out as is); '/' is not.
    return "models/" + quote(model, safe=":@")


def _options(method: Literal["GET", "DELETE"], path: str, call: CallOptions) -> RequestOptions:
    return RequestOptions(
        method,
        path,
        headers=call.get("extra_headers"),
        query=call.get("extra_query"),
        body=call.get("extra_body"),
        timeout=call.get("timeout", NOT_GIVEN),
    )


def _retrieve(model: str, call: CallOptions) -> RequestOptions:
    return _options("GET", model_path(model), call)


def _list(call: CallOptions) -> RequestOptions:
    return _options("GET", "models", call)


def _delete(model: str, call: CallOptions) -> RequestOptions:
    return _options("DELETE", model_path(model), call)


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


def _sync_page_parser(client: Client, options: RequestOptions) -> Parser[SyncPage[Model]]:
    def parse(response: httpx.Response) -> SyncPage[Model]:
        body = _parse_list(response)
        return SyncPage(
            data=body.data,
            object=body.object,
            has_more=body.has_more,
            options=options,
            fetch=lambda nxt: client._request(nxt, _sync_page_parser(client, nxt)).parse(),
        )

    return parse


def _async_page_parser(client: AsyncClient, options: RequestOptions) -> Parser[AsyncPage[Model]]:
    async def fetch(nxt: RequestOptions) -> AsyncPage[Model]:
        return (await client._request(nxt, _async_page_parser(client, nxt))).parse()

    def parse(response: httpx.Response) -> AsyncPage[Model]:
        body = _parse_list(response)
        return AsyncPage(
            data=body.data, object=body.object, has_more=body.has_more, options=options, fetch=fetch
        )

    return parse


class ModelsWithRawResponse:
    """`client.models.with_raw_response`: the same calls, returning `APIResponse`."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def retrieve(self, model: str, **call: Unpack[CallOptions]) -> APIResponse[Model]:
        return self._client._request(_retrieve(model, call), _parse_model)

    def list(self, **call: Unpack[CallOptions]) -> APIResponse[SyncPage[Model]]:
        options = _list(call)
        return self._client._request(options, _sync_page_parser(self._client, options))

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
        return self._client._stream(options, _sync_page_parser(self._client, options))

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

        async def first() -> AsyncPage[Model]:
            parser = _async_page_parser(self._client, options)
            return (await self._client._request(options, parser)).parse()

        return AsyncPaginator(first)

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
        return await self._client._request(options, _async_page_parser(self._client, options))

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
        return self._client._stream(options, _async_page_parser(self._client, options))

    def delete(self, model: str, **call: Unpack[CallOptions]) -> AsyncStreamContext[ModelDeleted]:
        return self._client._stream(_delete(model, call), _parse_deleted)
