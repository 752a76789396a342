"""`GET /organization/usage/completions`: a page of time buckets, each with its results.

Names as in `openai.types.admin.organization.usage_completions_response`: the page is
`UsageCompletionsResponse`, a bucket `Data`, a result
`DataResultOrganizationUsageCompletionsResult`. The grouping fields (`model`, `api_key_id`,
`project_id`, `user_id`, `batch`, `service_tier`) are set only when grouped by them.
"""

from __future__ import annotations

from typing import Literal

from ... import BaseModel

__all__ = ["Data", "DataResultOrganizationUsageCompletionsResult", "UsageCompletionsResponse"]


class DataResultOrganizationUsageCompletionsResult(BaseModel):
    """The requests and tokens of one group in one bucket."""

    input_tokens: int
    num_model_requests: int
    object: Literal["organization.usage.completions.result"]
    output_tokens: int
    api_key_id: str | None = None
    batch: bool | None = None
    input_audio_tokens: int | None = None
    input_cached_tokens: int | None = None
    model: str | None = None
    output_audio_tokens: int | None = None
    project_id: str | None = None
    service_tier: str | None = None
    user_id: str | None = None


class Data(BaseModel):
    """One time bucket: `[start_time, end_time)` in unix seconds (UTC days for `1d`)."""

    end_time: int
    object: Literal["bucket"]
    results: list[DataResultOrganizationUsageCompletionsResult]
    start_time: int


class UsageCompletionsResponse(BaseModel):
    """The body of one page; `next_page` is the `page` cursor of the next one."""

    data: list[Data]
    has_more: bool
    next_page: str | None = None
    object: Literal["page"]
