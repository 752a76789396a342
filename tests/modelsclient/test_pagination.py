"""`list()` pages: OpenAI's single page, and `has_more` / `after` cursors of compatible servers."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

import modelsclient

from .conftest import Twin, resolve


def model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "created": 1700000000, "object": "model", "owned_by": "acme"}


PAGES = [["m-1", "m-2"], ["m-3", "m-4"], ["m-5"]]
ALL_IDS = ["m-1", "m-2", "m-3", "m-4", "m-5"]


class CursorServer:
    """Pages `PAGES` by the `after` cursor; `has_more` is true on every page but the last."""

    def __init__(self, pages: list[list[str]] = PAGES) -> None:
        self.pages = pages
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert len(self.requests) <= 10, "the client keeps asking for pages"
        after = request.url.params.get("after")
        index = 0 if after is None else [page[-1] for page in self.pages].index(after) + 1
        return httpx.Response(
            200,
            json={
                "object": "list",
                "data": [model(model_id) for model_id in self.pages[index]],
                "has_more": index < len(self.pages) - 1,
            },
        )

    @property
    def cursors(self) -> list[str | None]:
        return [request.url.params.get("after") for request in self.requests]


def single_page_handler(requests: list[httpx.Request]) -> Any:
    """OpenAI's `/models`: one page, no `has_more` at all."""

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(
            200, json={"object": "list", "data": [model("gpt-4o"), model("gpt-4o-mini")]}
        )

    return handler


async def collect(iterable: Any) -> list[Any]:
    if hasattr(iterable, "__aiter__"):
        return [item async for item in iterable]
    return list(iterable)


def test_sync_list_returns_a_sync_page_with_the_first_page_data() -> None:
    server = CursorServer()
    api = Twin(is_async=False).client(server)

    page = api.models.list()

    assert isinstance(page, modelsclient.SyncPage)
    assert page.object == "list"
    assert page.has_more is True
    assert [item.id for item in page.data] == ["m-1", "m-2"]
    assert all(isinstance(item, modelsclient.Model) for item in page.data)
    assert server.cursors == [None]


def test_iterating_a_sync_page_walks_all_three_pages_by_cursor() -> None:
    server = CursorServer()
    api = Twin(is_async=False).client(server)

    ids = [item.id for item in api.models.list()]

    assert ids == ALL_IDS
    assert server.cursors == [None, "m-2", "m-4"]
    assert [request.url.path for request in server.requests] == ["/v1/models"] * 3
    assert all(request.method == "GET" for request in server.requests)


async def test_async_for_over_list_walks_all_three_pages_by_cursor() -> None:
    server = CursorServer()
    api = Twin(is_async=True).client(server)

    ids = [item.id async for item in api.models.list()]

    assert ids == ALL_IDS
    assert server.cursors == [None, "m-2", "m-4"]


async def test_async_list_is_not_a_coroutine_and_sends_nothing_until_awaited() -> None:
    server = CursorServer()
    api = Twin(is_async=True).client(server)

    paginator = api.models.list()

    assert not inspect.iscoroutine(paginator)
    assert isinstance(paginator, modelsclient.AsyncPaginator)
    assert server.requests == []

    page = await paginator

    assert isinstance(page, modelsclient.AsyncPage)
    assert [item.id for item in page.data] == ["m-1", "m-2"]
    assert server.cursors == [None]


async def test_async_list_sends_nothing_until_iterated() -> None:
    server = CursorServer()
    api = Twin(is_async=True).client(server)

    paginator = api.models.list()
    assert server.requests == []
    iterator = aiter(paginator)
    assert server.requests == []

    first = await anext(iterator)

    assert first.id == "m-1"
    assert server.cursors == [None]


async def test_iterating_an_awaited_async_page_walks_every_page() -> None:
    server = CursorServer()
    api = Twin(is_async=True).client(server)

    page = await api.models.list()
    ids = [item.id async for item in page]

    assert ids == ALL_IDS
    assert server.cursors == [None, "m-2", "m-4"]


async def test_has_next_page_and_get_next_page_follow_the_cursor(twin: Twin) -> None:
    server = CursorServer()
    api = twin.client(server)

    first = await resolve(api.models.list())
    assert first.has_next_page() is True
    second = await resolve(first.get_next_page())
    assert second.has_next_page() is True
    third = await resolve(second.get_next_page())

    assert [item.id for item in second.data] == ["m-3", "m-4"]
    assert [item.id for item in third.data] == ["m-5"]
    assert third.has_more is False
    assert third.has_next_page() is False
    assert server.cursors == [None, "m-2", "m-4"]


async def test_iter_pages_yields_each_page_once_in_order(twin: Twin) -> None:
    server = CursorServer()
    api = twin.client(server)

    first = await resolve(api.models.list())
    pages = await collect(first.iter_pages())

    assert pages[0] is first
    assert [[item.id for item in page.data] for page in pages] == PAGES
    assert server.cursors == [None, "m-2", "m-4"]


async def test_get_next_page_on_the_last_page_raises_runtime_error(twin: Twin) -> None:
    server = CursorServer(pages=[["only-1", "only-2"]])
    api = twin.client(server)
    page = await resolve(api.models.list())

    assert page.has_next_page() is False
    with pytest.raises(RuntimeError, match=r"has_next_page\(\)"):
        await resolve(page.get_next_page())
    assert len(server.requests) == 1


async def test_an_openai_style_single_page_sends_exactly_one_request(twin: Twin) -> None:
    requests: list[httpx.Request] = []
    api = twin.client(single_page_handler(requests))

    page = await resolve(api.models.list())
    ids = [item.id for item in await collect(page)]

    assert ids == ["gpt-4o", "gpt-4o-mini"]
    assert page.has_more is None
    assert page.has_next_page() is False
    assert len(requests) == 1
    assert "after" not in requests[0].url.params


async def test_async_for_over_an_openai_style_list_sends_exactly_one_request() -> None:
    requests: list[httpx.Request] = []
    api = Twin(is_async=True).client(single_page_handler(requests))

    ids = [item.id async for item in api.models.list()]

    assert ids == ["gpt-4o", "gpt-4o-mini"]
    assert len(requests) == 1


async def test_extra_query_is_sent_with_every_page_request(twin: Twin) -> None:
    server = CursorServer()
    api = twin.client(server)

    page = await resolve(api.models.list(extra_query={"limit": 2}))
    ids = [item.id for item in await collect(page)]

    assert ids == ALL_IDS
    assert [request.url.params.get("limit") for request in server.requests] == ["2", "2", "2"]
    assert server.cursors == [None, "m-2", "m-4"]


async def test_extra_headers_are_sent_with_every_page_request(twin: Twin) -> None:
    server = CursorServer()
    api = twin.client(server)

    page = await resolve(api.models.list(extra_headers={"X-Tenant": "acme"}))
    await collect(page)

    assert [request.headers.get("x-tenant") for request in server.requests] == ["acme"] * 3


async def test_a_server_repeating_the_same_last_id_does_not_loop_forever(twin: Twin) -> None:
    requests: list[httpx.Request] = []

    def stuck(request: httpx.Request) -> httpx.Response:
        # Ignores the cursor: always the same page, always "has_more".
        requests.append(request)
        assert len(requests) <= 10, "the client keeps asking for the same page"
        body = {"object": "list", "data": [model("a"), model("b")], "has_more": True}
        return httpx.Response(200, json=body)

    api = twin.client(stuck)

    page = await resolve(api.models.list())
    ids = [item.id for item in await collect(page)]

    assert ids == ["a", "b", "a", "b"]
    assert [request.url.params.get("after") for request in requests] == [None, "b"]


async def test_an_empty_page_with_has_more_stops_the_iteration(twin: Twin) -> None:
    requests: list[httpx.Request] = []

    def empty(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": True})

    api = twin.client(empty)

    page = await resolve(api.models.list())

    assert await collect(page) == []
    assert page.has_next_page() is False
    assert len(requests) == 1
