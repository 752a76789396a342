"""`client.admin.organization.usage`: the Usage API's completions endpoint, plain, raw and
streaming, sync and async (the `openai` package's names; it needs the admin key).

`GET /organization/usage/completions` answers with time buckets of requests and tokens. The
`openai` package returns the bare `UsageCompletionsResponse` and leaves paging to the caller;
here the result is a `SyncUsagePage` with the same attributes (`data`, `has_more`,
`next_page`, `object`) that also follows `next_page` (sent back as `page=`) when iterated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, TypedDict, Unpack

from ._pagination import AsyncPaginator, AsyncUsagePage, SyncUsagePage
from ._resource import (
    CallOptions,
    async_page_parser,
    endpoint,
    first_page,
    lenient_list_parser,
    sync_page_parser,
)
from ._response import APIResponse, AsyncStreamContext, StreamContext
from ._types import Omit, RequestOptions
from .types.admin.organization import UsageCompletionsResponse
from .types.admin.organization.usage_completions_response import Data

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = [
    "Admin",
    "AsyncAdmin",
    "AsyncOrganization",
    "AsyncProjects",
    "AsyncUsage",
    "AsyncUsageWithRawResponse",
    "AsyncUsageWithStreamingResponse",
    "Organization",
    "Projects",
    "Usage",
    "UsageWithRawResponse",
    "UsageWithStreamingResponse",
]

type Page = SyncUsagePage[Data]
type AsyncPage = AsyncUsagePage[Data]
type GroupBy = Literal["project_id", "user_id", "api_key_id", "model", "batch", "service_tier"]


class UsageQuery(TypedDict, total=False):
    """The query of `usage.completions()` besides the required `start_time` (all optional)."""

    api_key_ids: Sequence[str] | Omit
    batch: bool | Omit
    bucket_width: Literal["1m", "1h", "1d"] | Omit
    end_time: int | Omit
    group_by: Sequence[GroupBy] | Omit
    limit: int | Omit
    models: Sequence[str] | Omit
    page: str | Omit
    project_ids: Sequence[str] | Omit
    user_ids: Sequence[str] | Omit


class UsageArguments(UsageQuery, CallOptions, total=False):
    """`UsageQuery` and the per-call options, as one keyword list."""


_QUERY_NAMES = UsageQuery.__optional_keys__
_parse_page = lenient_list_parser(UsageCompletionsResponse, Data)


def _completions(start_time: int, arguments: UsageArguments) -> RequestOptions:
    # start_time is required by the API, and a bool is an int to Python: refuse it here.
    if isinstance(start_time, bool) or not isinstance(start_time, int):
        raise TypeError(f"start_time must be unix seconds (an int), got {start_time!r}")
    params = {name: value for name, value in arguments.items() if name in _QUERY_NAMES}
    call = CallOptions()
    for name in CallOptions.__optional_keys__ & arguments.keys():
        call[name] = arguments[name]  # type: ignore[literal-required]
    path = "organization/usage/completions"
    return endpoint(
        "GET", path, call, params={"start_time": start_time, **params}, auth="admin_api_key"
    )


class Admin:
    """`client.admin`: the Admin API (`organization.usage.completions` and
    `organization.projects.api_keys.list`)."""

    def __init__(self, client: Client) -> None:
        self.organization = Organization(client)


class Organization:
    """`client.admin.organization`: holds `usage` and `projects`."""

    def __init__(self, client: Client) -> None:
        self.usage = Usage(client)
        self.projects = Projects(client)


class Projects:
    """`client.admin.organization.projects`: holds `api_keys`."""

    def __init__(self, client: Client) -> None:
        from ._api_keys import APIKeys

        self.api_keys = APIKeys(client)


class Usage:
    """`client.admin.organization.usage`: requests and tokens per time bucket (admin key).

    ```python
    client = Client(admin_api_key="sk-admin-...")  # or OPENAI_ADMIN_KEY
    usage = client.admin.organization.usage.completions(
        start_time=1730419200, bucket_width="1d", group_by=["model"], limit=31
    )
    for bucket in usage:  # every bucket of every page
        for result in bucket.results:
            print(bucket.start_time, result.model, result.num_model_requests)
    ```
    """

    def __init__(self, client: Client) -> None:
        self.with_raw_response = UsageWithRawResponse(client)
        self.with_streaming_response = UsageWithStreamingResponse(client)

    def completions(self, *, start_time: int, **arguments: Unpack[UsageArguments]) -> Page:
        """Completions usage from `start_time` (iterating follows `next_page`)."""
        return self.with_raw_response.completions(start_time=start_time, **arguments).parse()


class UsageWithRawResponse:
    """`client.admin.organization.usage.with_raw_response`: calls returning `APIResponse`."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def completions(
        self, *, start_time: int, **arguments: Unpack[UsageArguments]
    ) -> APIResponse[Page]:
        options = _completions(start_time, arguments)
        parser = sync_page_parser(self._client, options, SyncUsagePage, _parse_page)
        return self._client._request(options, parser)


class UsageWithStreamingResponse:
    """`client.admin.organization.usage.with_streaming_response`: body left unread."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def completions(
        self, *, start_time: int, **arguments: Unpack[UsageArguments]
    ) -> StreamContext[Page]:
        options = _completions(start_time, arguments)
        parser = sync_page_parser(self._client, options, SyncUsagePage, _parse_page)
        return self._client._stream(options, parser)


class AsyncAdmin:
    """`async_client.admin`: the async twin of `Admin`."""

    def __init__(self, client: AsyncClient) -> None:
        self.organization = AsyncOrganization(client)


class AsyncOrganization:
    """`async_client.admin.organization`: holds `usage` and `projects`."""

    def __init__(self, client: AsyncClient) -> None:
        self.usage = AsyncUsage(client)
        self.projects = AsyncProjects(client)


class AsyncProjects:
    """`async_client.admin.organization.projects`: holds `api_keys`."""

    def __init__(self, client: AsyncClient) -> None:
        from ._api_keys import AsyncAPIKeys

        self.api_keys = AsyncAPIKeys(client)


class AsyncUsage:
    """`async_client.admin.organization.usage`: the async twin of `Usage`.

    ```python
    async for bucket in client.admin.organization.usage.completions(start_time=1730419200):
        print(bucket.start_time, len(bucket.results))
    ```
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.with_raw_response = AsyncUsageWithRawResponse(client)
        self.with_streaming_response = AsyncUsageWithStreamingResponse(client)

    def completions(
        self, *, start_time: int, **arguments: Unpack[UsageArguments]
    ) -> AsyncPaginator[Data, AsyncPage]:
        """Completions usage: `await` it for the first page, or `async for` over every bucket."""
        options = _completions(start_time, arguments)
        return AsyncPaginator(first_page(self._client, options, AsyncUsagePage, _parse_page))


class AsyncUsageWithRawResponse:
    """`async_client.admin.organization.usage.with_raw_response`: awaited `APIResponse`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def completions(
        self, *, start_time: int, **arguments: Unpack[UsageArguments]
    ) -> APIResponse[AsyncPage]:
        options = _completions(start_time, arguments)
        parser = async_page_parser(self._client, options, AsyncUsagePage, _parse_page)
        return await self._client._request(options, parser)


class AsyncUsageWithStreamingResponse:
    """`async_client.admin.organization.usage.with_streaming_response`: body left unread."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def completions(
        self, *, start_time: int, **arguments: Unpack[UsageArguments]
    ) -> AsyncStreamContext[AsyncPage]:
        options = _completions(start_time, arguments)
        parser = async_page_parser(self._client, options, AsyncUsagePage, _parse_page)
        return self._client._stream(options, parser)
