"""`client.admin.organization.projects.api_keys`: a project's API keys (names and owners),
plain, raw and streaming, sync and async (read-only: the `openai` package's `list`; it needs
the admin key).

`GET /organization/projects/{project_id}/api_keys` pages with `after` = the last key's id, like
the other lists here (the `openai` package's `SyncConversationCursorPage`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Unpack

import pydantic

from ._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage
from ._resource import (
    CallOptions,
    async_page_parser,
    endpoint,
    first_page,
    lenient_list_parser,
    path_segment,
    sync_page_parser,
)
from ._response import APIResponse, AsyncStreamContext, StreamContext
from ._types import Omit, RequestOptions, omit
from .types.admin.organization.projects import ProjectAPIKey

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = [
    "APIKeys",
    "APIKeysWithRawResponse",
    "APIKeysWithStreamingResponse",
    "AsyncAPIKeys",
    "AsyncAPIKeysWithRawResponse",
    "AsyncAPIKeysWithStreamingResponse",
]

type Page = SyncCursorPage[ProjectAPIKey]
type AsyncPage = AsyncCursorPage[ProjectAPIKey]
type Access = Literal["active", "inactive", "any"]


class _KeyList(pydantic.BaseModel):
    object: str = "list"
    data: list[ProjectAPIKey]
    has_more: bool | None = None
    first_id: str | None = None
    last_id: str | None = None


_parse_list = lenient_list_parser(_KeyList, ProjectAPIKey)


def _list(
    project_id: str,
    after: str | Omit,
    limit: int | Omit,
    owner_project_access: Access | Omit,
    call: CallOptions,
) -> RequestOptions:
    path = f"organization/projects/{path_segment('project_id', project_id)}/api_keys"
    params = {"after": after, "limit": limit, "owner_project_access": owner_project_access}
    return endpoint("GET", path, call, params=params, auth="admin_api_key")


class APIKeys:
    """`client.admin.organization.projects.api_keys`: a project's API keys (admin key).

    ```python
    client = Client(admin_api_key="sk-admin-...")
    for key in client.admin.organization.projects.api_keys.list("proj_abc"):
        print(key.id, key.name, key.owner.type if key.owner else None)
    ```
    """

    def __init__(self, client: Client) -> None:
        self.with_raw_response = APIKeysWithRawResponse(client)
        self.with_streaming_response = APIKeysWithStreamingResponse(client)

    def list(
        self,
        project_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        owner_project_access: Access | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> Page:
        """List a project's API keys (iterating walks every page)."""
        raw = self.with_raw_response.list(
            project_id, after=after, limit=limit, owner_project_access=owner_project_access, **call
        )
        return raw.parse()


class APIKeysWithRawResponse:
    """`….projects.api_keys.with_raw_response`: calls returning `APIResponse`."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        project_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        owner_project_access: Access | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> APIResponse[Page]:
        options = _list(project_id, after, limit, owner_project_access, call)
        parser = sync_page_parser(self._client, options, SyncCursorPage, _parse_list)
        return self._client._request(options, parser)


class APIKeysWithStreamingResponse:
    """`….projects.api_keys.with_streaming_response`: body left unread."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        project_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        owner_project_access: Access | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> StreamContext[Page]:
        options = _list(project_id, after, limit, owner_project_access, call)
        parser = sync_page_parser(self._client, options, SyncCursorPage, _parse_list)
        return self._client._stream(options, parser)


class AsyncAPIKeys:
    """`async_client.admin.organization.projects.api_keys`: the async twin of `APIKeys`.

    ```python
    async for key in client.admin.organization.projects.api_keys.list("proj_abc"):
        print(key.id, key.name)
    ```
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.with_raw_response = AsyncAPIKeysWithRawResponse(client)
        self.with_streaming_response = AsyncAPIKeysWithStreamingResponse(client)

    def list(
        self,
        project_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        owner_project_access: Access | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> AsyncPaginator[ProjectAPIKey, AsyncPage]:
        """List a project's API keys: `await` it for the first page, or `async for` over all."""
        options = _list(project_id, after, limit, owner_project_access, call)
        return AsyncPaginator(first_page(self._client, options, AsyncCursorPage, _parse_list))


class AsyncAPIKeysWithRawResponse:
    """`async_client.….projects.api_keys.with_raw_response`: awaited `APIResponse`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        project_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        owner_project_access: Access | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> APIResponse[AsyncPage]:
        options = _list(project_id, after, limit, owner_project_access, call)
        parser = async_page_parser(self._client, options, AsyncCursorPage, _parse_list)
        return await self._client._request(options, parser)


class AsyncAPIKeysWithStreamingResponse:
    """`async_client.….projects.api_keys.with_streaming_response`: body left unread."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def list(
        self,
        project_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        owner_project_access: Access | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> AsyncStreamContext[AsyncPage]:
        options = _list(project_id, after, limit, owner_project_access, call)
        parser = async_page_parser(self._client, options, AsyncCursorPage, _parse_list)
        return self._client._stream(options, parser)
