"""What every resource shares: per-call options, path segments, query parameters, lenient
parsing and the page parsers that make auto-pagination (no I/O here; the clients send).

A resource describes each endpoint once, as a function returning `RequestOptions`, and sends it
three ways: raw (`client._request`, body read), plain (raw, then `.parse()`) and streaming
(`client._stream`, body unread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict
from urllib.parse import quote

import httpx
import pydantic

from ._response import Parser, model_parser
from ._types import NOT_GIVEN, Body, Headers, NotGiven, Omit, Query, RequestOptions, TimeoutArg

if TYPE_CHECKING:
    from ._client import AsyncClient, Client
    from ._pagination import _AsyncPages, _SyncPages

__all__ = [
    "CallOptions",
    "async_page_parser",
    "endpoint",
    "lenient_list_parser",
    "object_parser",
    "path_segment",
    "sync_page_parser",
]


class CallOptions(TypedDict, total=False):
    """The per-call options every method takes (all keyword-only)."""

    extra_headers: Headers | None
    extra_query: Query | None
    extra_body: Body | None
    timeout: TimeoutArg


def path_segment(name: str, value: str) -> str:
    """`value` checked and percent-encoded as exactly one path segment (`name` is the argument's
    name, for the error message)."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"Expected a non-empty value for `{name}` but received {value!r}")
    if value in {".", ".."}:
        raise ValueError(f"`{name}` cannot be {value!r}: a dot segment would change the path")
    # ':' and '@' are legal in a segment (ft:base:org:suffix:id goes out as is); '/' is not.
    return quote(value, safe=":@")


def _primitive(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _query(params: Mapping[str, object]) -> dict[str, object]:
    """A method's parameters as the `openai` package puts them in a URL: unset ones and `None`
    left out, `{"k": "v"}` as `name[k]=v`, a list as repeated `name[]=…`, booleans as
    `true`/`false`."""
    flat: dict[str, object] = {}
    for name, value in params.items():
        if value is None or isinstance(value, NotGiven | Omit):
            continue
        if isinstance(value, Mapping):
            for key, item in value.items():
                if item is not None:
                    flat[f"{name}[{key}]"] = _primitive(item)
        elif isinstance(value, list | tuple):
            flat[f"{name}[]"] = [_primitive(item) for item in value if item is not None]
        else:
            flat[name] = _primitive(value)
    return flat


def endpoint(
    method: Literal["GET", "DELETE"],
    path: str,
    call: CallOptions,
    *,
    params: Mapping[str, object] | None = None,
    auth: Literal["api_key", "admin_api_key"] = "api_key",
) -> RequestOptions:
    """One call's request: the method's own query parameters, then `extra_query` over them (as
    in the `openai` package, the caller's extras win)."""
    query = {**_query(params or {}), **(call.get("extra_query") or {})}
    return RequestOptions(
        method,
        path,
        headers=call.get("extra_headers"),
        query=query or None,
        body=call.get("extra_body"),
        timeout=call.get("timeout", NOT_GIVEN),
        auth=auth,
    )


def lenient_item[M: pydantic.BaseModel](cls: type[M], value: object) -> M:
    """An item as the official package reads it: validated when it fits, else built as sent
    (a field missing, `null` or of another type is kept as is); not an object → ValueError."""
    if not isinstance(value, dict):
        raise ValueError(f"a {cls.__name__} must be a JSON object")
    try:
        return cls.model_validate(value)
    except pydantic.ValidationError:
        return cls.model_construct(**value)


def object_parser[M: pydantic.BaseModel](cls: type[M]) -> Parser[M]:
    """A retrieved object, read leniently; a body without an `id` is not the object at all."""

    def lenient(body: object) -> M:
        if not isinstance(body, dict) or "id" not in body:
            raise ValueError(f"a {cls.__name__} must have an id")
        return lenient_item(cls, body)

    return model_parser(cls, lenient=lenient)


def lenient_list_parser[L: pydantic.BaseModel](
    list_cls: type[L], item_cls: type[pydantic.BaseModel]
) -> Parser[L]:
    """A list body (`{"data": [...], ...}`) whose items do not all fit `item_cls` is still read:
    one odd item never fails the list; a body without a `data` array is not a list."""

    def lenient(body: object) -> L:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise ValueError("a list must be an object with a data array")
        fields = {name: body[name] for name in list_cls.model_fields if name in body}
        fields["data"] = [lenient_item(item_cls, item) for item in body["data"]]
        return list_cls.model_construct(**fields)

    return model_parser(list_cls, lenient=lenient)


def _page_fields(body: pydantic.BaseModel) -> dict[str, Any]:
    names = ("data", "object", "has_more", "next_page")
    return {name: getattr(body, name, None) for name in names if name in type(body).model_fields}


def sync_page_parser[P: _SyncPages[Any]](
    client: Client, options: RequestOptions, page: type[P], body: Parser[Any]
) -> Parser[P]:
    """Parse a list body into a `page` that fetches its next pages through `client`."""

    def fetch(nxt: RequestOptions) -> P:
        return client._request(nxt, sync_page_parser(client, nxt, page, body)).parse()

    def parse(response: httpx.Response) -> P:
        return page(**_page_fields(body(response)), options=options, fetch=fetch)

    return parse


def async_page_parser[P: _AsyncPages[Any]](
    client: AsyncClient, options: RequestOptions, page: type[P], body: Parser[Any]
) -> Parser[P]:
    """The async twin of `sync_page_parser`."""

    async def fetch(nxt: RequestOptions) -> P:
        return (await client._request(nxt, async_page_parser(client, nxt, page, body))).parse()

    def parse(response: httpx.Response) -> P:
        return page(**_page_fields(body(response)), options=options, fetch=fetch)

    return parse


def first_page[P: _AsyncPages[Any]](
    client: AsyncClient, options: RequestOptions, page: type[P], body: Parser[Any]
) -> Callable[[], Awaitable[P]]:
    """What an `AsyncPaginator` awaits: the first page, sent only when asked for."""

    async def fetch() -> P:
        parser = async_page_parser(client, options, page, body)
        return (await client._request(options, parser)).parse()

    return fetch
