"""`client.fine_tuning.jobs.checkpoints`: a job's checkpoints, plain, raw and streaming, sync
and async (read-only: the `openai` package's `list`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

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
from .types.fine_tuning.jobs import FineTuningJobCheckpoint

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = [
    "AsyncCheckpoints",
    "AsyncCheckpointsWithRawResponse",
    "AsyncCheckpointsWithStreamingResponse",
    "Checkpoints",
    "CheckpointsWithRawResponse",
    "CheckpointsWithStreamingResponse",
    "job_path",
]

type Page = SyncCursorPage[FineTuningJobCheckpoint]
type AsyncPage = AsyncCursorPage[FineTuningJobCheckpoint]


class _CheckpointList(pydantic.BaseModel):
    object: str = "list"
    data: list[FineTuningJobCheckpoint]
    has_more: bool | None = None


_parse_list = lenient_list_parser(_CheckpointList, FineTuningJobCheckpoint)


def job_path(fine_tuning_job_id: str) -> str:
    """`fine_tuning/jobs/<id>` with the id checked and encoded as one path segment."""
    return "fine_tuning/jobs/" + path_segment("fine_tuning_job_id", fine_tuning_job_id)


def _list(
    fine_tuning_job_id: str, after: str | Omit, limit: int | Omit, call: CallOptions
) -> RequestOptions:
    path = job_path(fine_tuning_job_id) + "/checkpoints"
    return endpoint("GET", path, call, params={"after": after, "limit": limit})


class Checkpoints:
    """`client.fine_tuning.jobs.checkpoints`: the checkpoints of a fine-tuning job.

    ```python
    for checkpoint in client.fine_tuning.jobs.checkpoints.list("ftjob-abc123"):
        print(checkpoint.step_number, checkpoint.metrics.train_loss)
    ```
    """

    def __init__(self, client: Client) -> None:
        self._client = client
        self.with_raw_response = CheckpointsWithRawResponse(client)
        self.with_streaming_response = CheckpointsWithStreamingResponse(client)

    def list(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> Page:
        """List a job's checkpoints, newest first (iterating walks every page)."""
        raw = self.with_raw_response.list(fine_tuning_job_id, after=after, limit=limit, **call)
        return raw.parse()


class CheckpointsWithRawResponse:
    """`client.fine_tuning.jobs.checkpoints.with_raw_response`: calls returning `APIResponse`."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> APIResponse[Page]:
        options = _list(fine_tuning_job_id, after, limit, call)
        parser = sync_page_parser(self._client, options, SyncCursorPage, _parse_list)
        return self._client._request(options, parser)


class CheckpointsWithStreamingResponse:
    """`client.fine_tuning.jobs.checkpoints.with_streaming_response`: body left unread."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> StreamContext[Page]:
        options = _list(fine_tuning_job_id, after, limit, call)
        parser = sync_page_parser(self._client, options, SyncCursorPage, _parse_list)
        return self._client._stream(options, parser)


class AsyncCheckpoints:
    """`async_client.fine_tuning.jobs.checkpoints`: the async twin of `Checkpoints`.

    ```python
    async for checkpoint in client.fine_tuning.jobs.checkpoints.list("ftjob-abc123"):
        print(checkpoint.step_number)
    ```
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.with_raw_response = AsyncCheckpointsWithRawResponse(client)
        self.with_streaming_response = AsyncCheckpointsWithStreamingResponse(client)

    def list(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> AsyncPaginator[FineTuningJobCheckpoint, AsyncPage]:
        """List a job's checkpoints: `await` it for the first page, or `async for` over all."""
        options = _list(fine_tuning_job_id, after, limit, call)  # checked now, sent later
        return AsyncPaginator(first_page(self._client, options, AsyncCursorPage, _parse_list))


class AsyncCheckpointsWithRawResponse:
    """`async_client.fine_tuning.jobs.checkpoints.with_raw_response`: awaited `APIResponse`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> APIResponse[AsyncPage]:
        options = _list(fine_tuning_job_id, after, limit, call)
        parser = async_page_parser(self._client, options, AsyncCursorPage, _parse_list)
        return await self._client._request(options, parser)


class AsyncCheckpointsWithStreamingResponse:
    """`async_client.fine_tuning.jobs.checkpoints.with_streaming_response`: body unread."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def list(
        self,
        fine_tuning_job_id: str,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> AsyncStreamContext[AsyncPage]:
        options = _list(fine_tuning_job_id, after, limit, call)
        parser = async_page_parser(self._client, options, AsyncCursorPage, _parse_list)
        return self._client._stream(options, parser)
