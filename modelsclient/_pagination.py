"""Pages of a list, and auto-pagination over `has_more` / `after` cursors.

OpenAI's `/models` is a single page. Some compatible servers page with `has_more` and an
`after` cursor; iterating a page here walks every page, so their users see every model.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Protocol

from ._types import RequestOptions

__all__ = ["AsyncPage", "AsyncPaginator", "SyncPage"]


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_NO_NEXT_PAGE = "No next page: check `has_next_page()` before calling `get_next_page()`."


class _BasePage[T: _HasId]:
    def __init__(
        self, *, data: list[T], object: str, has_more: bool | None, options: RequestOptions
    ) -> None:
        self.data = data
        self.object = object
        self.has_more = has_more
        self._options = options

    def has_next_page(self) -> bool:
        """True when the server said there is more and gave a cursor we have not used yet."""
        if not self.has_more or not self.data:
            return False
        return self.data[-1].id != self._options.params.get("after")

    def _next_options(self) -> RequestOptions:
        if not self.has_next_page():
            raise RuntimeError(_NO_NEXT_PAGE)
        return self._options.with_params(after=self.data[-1].id)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data=<{len(self.data)} items>, has_more={self.has_more})"


class SyncPage[T: _HasId](_BasePage[T]):
    """One page of a list; iterating it yields every item of every page.

    ```python
    page = client.models.list()
    print(len(page.data))
    for model in page:  # fetches further pages when the server pages
        print(model.id)
    ```
    """

    def __init__(
        self,
        *,
        data: list[T],
        object: str,
        has_more: bool | None,
        options: RequestOptions,
        fetch: Callable[[RequestOptions], SyncPage[T]],
    ) -> None:
        super().__init__(data=data, object=object, has_more=has_more, options=options)
        self._fetch = fetch

    def get_next_page(self) -> SyncPage[T]:
        """Fetch the next page (raises RuntimeError when there is none)."""
        return self._fetch(self._next_options())

    def iter_pages(self) -> Iterator[SyncPage[T]]:
        """This page and every following one."""
        page = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage[T: _HasId](_BasePage[T]):
    """The async twin of `SyncPage`: `async for model in page`."""

    def __init__(
        self,
        *,
        data: list[T],
        object: str,
        has_more: bool | None,
        options: RequestOptions,
        fetch: Callable[[RequestOptions], Awaitable[AsyncPage[T]]],
    ) -> None:
        super().__init__(data=data, object=object, has_more=has_more, options=options)
        self._fetch = fetch

    async def get_next_page(self) -> AsyncPage[T]:
        """Fetch the next page (raises RuntimeError when there is none)."""
        return await self._fetch(self._next_options())

    async def iter_pages(self) -> AsyncIterator[AsyncPage[T]]:
        """This page and every following one."""
        page = self
        yield page
        while page.has_next_page():
            page = await page.get_next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


class AsyncPaginator[T: _HasId, PageT]:
    """What the async `list()` returns, without a request yet: `await` it for the first page,
    or `async for` over every item.

    ```python
    first_page = await client.models.list()
    async for model in client.models.list():
        print(model.id)
    ```
    """

    def __init__(self, fetch_first: Callable[[], Awaitable[AsyncPage[T]]]) -> None:
        self._fetch_first = fetch_first

    def __await__(self) -> Generator[Any, None, AsyncPage[T]]:
        return self._fetch_first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._fetch_first()
        async for item in page:
            yield item
