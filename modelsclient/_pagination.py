"""Pages of a list, and auto-pagination over their cursors.

Two kinds of cursor, as the API has them:

- `after` = the last item's id while `has_more` (`SyncPage` for `/models`, whose OpenAI answer is
  a single page but some compatible servers page it; `SyncCursorPage` for fine-tuning jobs and
  their checkpoints, the `openai` package's name for the same scheme);
- `page` = the body's opaque `next_page` while `has_more` (`SyncUsagePage`, the Usage API).

Iterating a page walks every page; `iter_pages()` yields the pages themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Protocol, Self

from ._types import RequestOptions

__all__ = [
    "AsyncCursorPage",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncUsagePage",
    "SyncCursorPage",
    "SyncPage",
    "SyncUsagePage",
]


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_NO_NEXT_PAGE = "No next page: check `has_next_page()` before calling `get_next_page()`."


class _BasePage[T]:
    def __init__(
        self, *, data: list[T], object: str, has_more: bool | None, options: RequestOptions
    ) -> None:
        self.data = data
        self.object = object
        self.has_more = has_more
        self._options = options

    def _cursor(self) -> dict[str, str] | None:
        """The query parameters that ask for the next page (None: no cursor to follow)."""
        raise NotImplementedError

    def has_next_page(self) -> bool:
        """True when the server said there is more and gave a cursor we have not used yet."""
        cursor = self._cursor() if self.has_more else None
        if not cursor:
            return False
        # A server that repeats the cursor we sent would make iteration loop forever.
        return any(self._options.params.get(name) != value for name, value in cursor.items())

    def _next_options(self) -> RequestOptions:
        cursor = self._cursor() if self.has_next_page() else None
        if cursor is None:
            raise RuntimeError(_NO_NEXT_PAGE)
        return self._options.with_params(**cursor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(data=<{len(self.data)} items>, has_more={self.has_more})"


class _SyncPages[T](_BasePage[T]):
    def __init__(
        self,
        *,
        data: list[T],
        object: str,
        has_more: bool | None,
        options: RequestOptions,
        fetch: Callable[[RequestOptions], Self],
    ) -> None:
        super().__init__(data=data, object=object, has_more=has_more, options=options)
        self._fetch = fetch

    def get_next_page(self) -> Self:
        """Fetch the next page (raises RuntimeError when there is none)."""
        return self._fetch(self._next_options())

    def iter_pages(self) -> Iterator[Self]:
        """This page and every following one."""
        page = self
        yield page
        while page.has_next_page():
            page = page.get_next_page()
            yield page

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page.data


class _AsyncPages[T](_BasePage[T]):
    def __init__(
        self,
        *,
        data: list[T],
        object: str,
        has_more: bool | None,
        options: RequestOptions,
        fetch: Callable[[RequestOptions], Awaitable[Self]],
    ) -> None:
        super().__init__(data=data, object=object, has_more=has_more, options=options)
        self._fetch = fetch

    async def get_next_page(self) -> Self:
        """Fetch the next page (raises RuntimeError when there is none)."""
        return await self._fetch(self._next_options())

    async def iter_pages(self) -> AsyncIterator[Self]:
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


def _after_last_id(data: list[Any]) -> dict[str, str] | None:
    last_id = getattr(data[-1], "id", None) if data else None
    return {"after": last_id} if isinstance(last_id, str) and last_id else None


class SyncPage[T: _HasId](_SyncPages[T]):
    """One page of a list; iterating it yields every item of every page.

    ```python
    page = client.models.list()
    print(len(page.data))
    for model in page:  # fetches further pages when the server pages
        print(model.id)
    ```
    """

    def _cursor(self) -> dict[str, str] | None:
        return _after_last_id(self.data)


class AsyncPage[T: _HasId](_AsyncPages[T]):
    """The async twin of `SyncPage`: `async for model in page`."""

    def _cursor(self) -> dict[str, str] | None:
        return _after_last_id(self.data)


class SyncCursorPage[T: _HasId](SyncPage[T]):
    """A page of fine-tuning jobs or checkpoints: the next page is `after=<last id>`.

    ```python
    for job in client.fine_tuning.jobs.list(limit=20):  # every job, 20 per request
        print(job.id, job.fine_tuned_model)
    ```
    """


class AsyncCursorPage[T: _HasId](AsyncPage[T]):
    """The async twin of `SyncCursorPage`."""


class _UsageCursor:
    next_page: str | None

    def _cursor(self) -> dict[str, str] | None:
        return {"page": self.next_page} if self.next_page else None


class SyncUsagePage[T](_UsageCursor, _SyncPages[T]):
    """A page of Usage API buckets; the next page is `page=<next_page>`.

    It has the attributes of the `openai` package's `UsageCompletionsResponse` (`data`,
    `has_more`, `next_page`, `object`); that package does not auto-paginate the Usage API,
    this page does: iterating it yields every bucket of every page.

    ```python
    usage = client.admin.organization.usage.completions(start_time=1730419200, limit=31)
    for bucket in usage:  # follows next_page
        print(bucket.start_time, sum(r.num_model_requests for r in bucket.results))
    ```
    """

    def __init__(
        self,
        *,
        data: list[T],
        object: str,
        has_more: bool | None,
        next_page: str | None,
        options: RequestOptions,
        fetch: Callable[[RequestOptions], Self],
    ) -> None:
        super().__init__(data=data, object=object, has_more=has_more, options=options, fetch=fetch)
        self.next_page = next_page


class AsyncUsagePage[T](_UsageCursor, _AsyncPages[T]):
    """The async twin of `SyncUsagePage`: `async for bucket in page`."""

    def __init__(
        self,
        *,
        data: list[T],
        object: str,
        has_more: bool | None,
        next_page: str | None,
        options: RequestOptions,
        fetch: Callable[[RequestOptions], Awaitable[Self]],
    ) -> None:
        super().__init__(data=data, object=object, has_more=has_more, options=options, fetch=fetch)
        self.next_page = next_page


class AsyncPaginator[T, PageT: _AsyncPages[Any]]:
    """What an async `list()` returns, without a request yet: `await` it for the first page,
    or `async for` over every item.

    ```python
    first_page = await client.models.list()
    async for model in client.models.list():
        print(model.id)
    ```
    """

    def __init__(self, fetch_first: Callable[[], Awaitable[PageT]]) -> None:
        self._fetch_first = fetch_first

    def __await__(self) -> Generator[Any, None, PageT]:
        return self._fetch_first().__await__()

    async def __aiter__(self) -> AsyncIterator[T]:
        page = await self._fetch_first()
        item: T
        async for item in page:
            yield item
