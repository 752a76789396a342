"""`client.fine_tuning.jobs`: retrieve and list fine-tuning jobs, plain, raw and streaming, sync
and async (read-only: the `openai` package's `retrieve` and `list`; `checkpoints` beneath)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

import pydantic

from ._checkpoints import (
    AsyncCheckpoints,
    AsyncCheckpointsWithRawResponse,
    AsyncCheckpointsWithStreamingResponse,
    Checkpoints,
    CheckpointsWithRawResponse,
    CheckpointsWithStreamingResponse,
    job_path,
)
from ._pagination import AsyncCursorPage, AsyncPaginator, SyncCursorPage
from ._resource import (
    CallOptions,
    async_page_parser,
    endpoint,
    first_page,
    lenient_list_parser,
    object_parser,
    sync_page_parser,
)
from ._response import APIResponse, AsyncStreamContext, StreamContext
from ._types import Omit, RequestOptions, omit
from .types.fine_tuning import FineTuningJob

if TYPE_CHECKING:
    from ._client import AsyncClient, Client

__all__ = [
    "AsyncFineTuning",
    "AsyncJobs",
    "AsyncJobsWithRawResponse",
    "AsyncJobsWithStreamingResponse",
    "FineTuning",
    "Jobs",
    "JobsWithRawResponse",
    "JobsWithStreamingResponse",
]

type Page = SyncCursorPage[FineTuningJob]
type AsyncPage = AsyncCursorPage[FineTuningJob]
type Metadata = dict[str, str] | None


class _JobList(pydantic.BaseModel):
    object: str = "list"
    data: list[FineTuningJob]
    has_more: bool | None = None


_parse_job = object_parser(FineTuningJob)
_parse_list = lenient_list_parser(_JobList, FineTuningJob)


def _retrieve(fine_tuning_job_id: str, call: CallOptions) -> RequestOptions:
    return endpoint("GET", job_path(fine_tuning_job_id), call)


def _list(
    after: str | Omit, limit: int | Omit, metadata: Metadata | Omit, call: CallOptions
) -> RequestOptions:
    # metadata={"team": "support"} goes out as metadata[team]=support, as the openai package
    # sends it; None sends nothing (that package drops it too).
    params = {"after": after, "limit": limit, "metadata": metadata}
    return endpoint("GET", "fine_tuning/jobs", call, params=params)


class FineTuning:
    """`client.fine_tuning`: holds `jobs` (and their `checkpoints`)."""

    def __init__(self, client: Client) -> None:
        self.jobs = Jobs(client)


class Jobs:
    """`client.fine_tuning.jobs`: the organization's fine-tuning jobs.

    ```python
    job = next(j for j in client.fine_tuning.jobs.list() if j.fine_tuned_model == model_id)
    ```
    """

    def __init__(self, client: Client) -> None:
        self.checkpoints = Checkpoints(client)
        self.with_raw_response = JobsWithRawResponse(client)
        self.with_streaming_response = JobsWithStreamingResponse(client)

    def retrieve(self, fine_tuning_job_id: str, **call: Unpack[CallOptions]) -> FineTuningJob:
        """Retrieve one job by id."""
        return self.with_raw_response.retrieve(fine_tuning_job_id, **call).parse()

    def list(
        self,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        metadata: Metadata | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> Page:
        """List jobs, newest first (iterating walks every page by `after`)."""
        raw = self.with_raw_response.list(after=after, limit=limit, metadata=metadata, **call)
        return raw.parse()


class JobsWithRawResponse:
    """`client.fine_tuning.jobs.with_raw_response`: the same calls, returning `APIResponse`."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.checkpoints = CheckpointsWithRawResponse(client)

    def retrieve(
        self, fine_tuning_job_id: str, **call: Unpack[CallOptions]
    ) -> APIResponse[FineTuningJob]:
        return self._client._request(_retrieve(fine_tuning_job_id, call), _parse_job)

    def list(
        self,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        metadata: Metadata | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> APIResponse[Page]:
        options = _list(after, limit, metadata, call)
        parser = sync_page_parser(self._client, options, SyncCursorPage, _parse_list)
        return self._client._request(options, parser)


class JobsWithStreamingResponse:
    """`client.fine_tuning.jobs.with_streaming_response`: the same calls, body left unread."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.checkpoints = CheckpointsWithStreamingResponse(client)

    def retrieve(
        self, fine_tuning_job_id: str, **call: Unpack[CallOptions]
    ) -> StreamContext[FineTuningJob]:
        return self._client._stream(_retrieve(fine_tuning_job_id, call), _parse_job)

    def list(
        self,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        metadata: Metadata | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> StreamContext[Page]:
        options = _list(after, limit, metadata, call)
        parser = sync_page_parser(self._client, options, SyncCursorPage, _parse_list)
        return self._client._stream(options, parser)


class AsyncFineTuning:
    """`async_client.fine_tuning`: holds `jobs` (and their `checkpoints`)."""

    def __init__(self, client: AsyncClient) -> None:
        self.jobs = AsyncJobs(client)


class AsyncJobs:
    """`async_client.fine_tuning.jobs`: the async twin of `Jobs`.

    ```python
    async for job in client.fine_tuning.jobs.list(metadata={"team": "support"}):
        print(job.id)
    ```
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.checkpoints = AsyncCheckpoints(client)
        self.with_raw_response = AsyncJobsWithRawResponse(client)
        self.with_streaming_response = AsyncJobsWithStreamingResponse(client)

    async def retrieve(self, fine_tuning_job_id: str, **call: Unpack[CallOptions]) -> FineTuningJob:
        """Retrieve one job by id."""
        return (await self.with_raw_response.retrieve(fine_tuning_job_id, **call)).parse()

    def list(
        self,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        metadata: Metadata | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> AsyncPaginator[FineTuningJob, AsyncPage]:
        """List jobs: `await` it for the first page, or `async for` over every job."""
        options = _list(after, limit, metadata, call)
        return AsyncPaginator(first_page(self._client, options, AsyncCursorPage, _parse_list))


class AsyncJobsWithRawResponse:
    """`async_client.fine_tuning.jobs.with_raw_response`: awaited calls returning `APIResponse`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.checkpoints = AsyncCheckpointsWithRawResponse(client)

    async def retrieve(
        self, fine_tuning_job_id: str, **call: Unpack[CallOptions]
    ) -> APIResponse[FineTuningJob]:
        return await self._client._request(_retrieve(fine_tuning_job_id, call), _parse_job)

    async def list(
        self,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        metadata: Metadata | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> APIResponse[AsyncPage]:
        options = _list(after, limit, metadata, call)
        parser = async_page_parser(self._client, options, AsyncCursorPage, _parse_list)
        return await self._client._request(options, parser)


class AsyncJobsWithStreamingResponse:
    """`async_client.fine_tuning.jobs.with_streaming_response`: `async with` or `await` it."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.checkpoints = AsyncCheckpointsWithStreamingResponse(client)

    def retrieve(
        self, fine_tuning_job_id: str, **call: Unpack[CallOptions]
    ) -> AsyncStreamContext[FineTuningJob]:
        return self._client._stream(_retrieve(fine_tuning_job_id, call), _parse_job)

    def list(
        self,
        *,
        after: str | Omit = omit,
        limit: int | Omit = omit,
        metadata: Metadata | Omit = omit,
        **call: Unpack[CallOptions],
    ) -> AsyncStreamContext[AsyncPage]:
        options = _list(after, limit, metadata, call)
        parser = async_page_parser(self._client, options, AsyncCursorPage, _parse_list)
        return self._client._stream(options, parser)
