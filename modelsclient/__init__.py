"""A light, typed client for the Models API of OpenAI-compatible servers.

A drop-in for the `openai` package's `client.models` (retrieve, list, delete; sync and async;
raw and streaming responses; pagination; typed errors), and for the read-only calls a model
inventory needs: `client.fine_tuning.jobs` (retrieve, list, `checkpoints.list`) and
`client.admin.organization.usage.completions` (with an admin key):

```python
from modelsclient import OpenAI

client = OpenAI()  # OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID, OPENAI_PROJECT_ID
for model in client.models.list():
    print(model.id)
```

The retry decision is public (`retry_delay`, `wanted_delay`, `retry_after`) for callers that
run their own attempts under a deadline of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._client import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, AsyncClient, Client
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    ModelsClientError,
    NotFoundError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from ._pagination import (
    AsyncCursorPage,
    AsyncPage,
    AsyncPaginator,
    AsyncUsagePage,
    SyncCursorPage,
    SyncPage,
    SyncUsagePage,
)
from ._response import (
    APIResponse,
    AsyncStreamContext,
    AsyncStreamedAPIResponse,
    StreamContext,
    StreamedAPIResponse,
)
from ._retry import MAX_RETRY_AFTER, retry_after, retry_delay, wanted_delay
from ._types import NOT_GIVEN, NotGiven, Omit, RequestOptions, Timeout, not_given, omit
from ._version import __title__, __version__

if TYPE_CHECKING:
    from . import types
    from ._admin import (
        Admin,
        AsyncAdmin,
        AsyncOrganization,
        AsyncProjects,
        AsyncUsage,
        AsyncUsageWithRawResponse,
        AsyncUsageWithStreamingResponse,
        Organization,
        Projects,
        Usage,
        UsageWithRawResponse,
        UsageWithStreamingResponse,
    )
    from ._api_keys import (
        APIKeys,
        APIKeysWithRawResponse,
        APIKeysWithStreamingResponse,
        AsyncAPIKeys,
        AsyncAPIKeysWithRawResponse,
        AsyncAPIKeysWithStreamingResponse,
    )
    from ._checkpoints import (
        AsyncCheckpoints,
        AsyncCheckpointsWithRawResponse,
        AsyncCheckpointsWithStreamingResponse,
        Checkpoints,
        CheckpointsWithRawResponse,
        CheckpointsWithStreamingResponse,
    )
    from ._fine_tuning import (
        AsyncFineTuning,
        AsyncJobs,
        AsyncJobsWithRawResponse,
        AsyncJobsWithStreamingResponse,
        FineTuning,
        Jobs,
        JobsWithRawResponse,
        JobsWithStreamingResponse,
    )
    from ._resources import (
        AsyncModels,
        AsyncModelsWithRawResponse,
        AsyncModelsWithStreamingResponse,
        Models,
        ModelsWithRawResponse,
        ModelsWithStreamingResponse,
    )
    from .types import Model, ModelDeleted

OpenAI = Client
AsyncOpenAI = AsyncClient

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "MAX_RETRY_AFTER",
    "NOT_GIVEN",
    "APIConnectionError",
    "APIError",
    "APIKeys",
    "APIKeysWithRawResponse",
    "APIKeysWithStreamingResponse",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "Admin",
    "AsyncAPIKeys",
    "AsyncAPIKeysWithRawResponse",
    "AsyncAPIKeysWithStreamingResponse",
    "AsyncAdmin",
    "AsyncCheckpoints",
    "AsyncCheckpointsWithRawResponse",
    "AsyncCheckpointsWithStreamingResponse",
    "AsyncClient",
    "AsyncCursorPage",
    "AsyncFineTuning",
    "AsyncJobs",
    "AsyncJobsWithRawResponse",
    "AsyncJobsWithStreamingResponse",
    "AsyncModels",
    "AsyncModelsWithRawResponse",
    "AsyncModelsWithStreamingResponse",
    "AsyncOpenAI",
    "AsyncOrganization",
    "AsyncPage",
    "AsyncPaginator",
    "AsyncProjects",
    "AsyncStreamContext",
    "AsyncStreamedAPIResponse",
    "AsyncUsage",
    "AsyncUsagePage",
    "AsyncUsageWithRawResponse",
    "AsyncUsageWithStreamingResponse",
    "AuthenticationError",
    "BadRequestError",
    "Checkpoints",
    "CheckpointsWithRawResponse",
    "CheckpointsWithStreamingResponse",
    "Client",
    "ConflictError",
    "FineTuning",
    "InternalServerError",
    "Jobs",
    "JobsWithRawResponse",
    "JobsWithStreamingResponse",
    "Model",
    "ModelDeleted",
    "Models",
    "ModelsClientError",
    "ModelsWithRawResponse",
    "ModelsWithStreamingResponse",
    "NotFoundError",
    "NotGiven",
    "Omit",
    "OpenAI",
    "OpenAIError",
    "Organization",
    "PermissionDeniedError",
    "Projects",
    "RateLimitError",
    "RequestOptions",
    "StreamContext",
    "StreamedAPIResponse",
    "SyncCursorPage",
    "SyncPage",
    "SyncUsagePage",
    "Timeout",
    "UnprocessableEntityError",
    "Usage",
    "UsageWithRawResponse",
    "UsageWithStreamingResponse",
    "__title__",
    "__version__",
    "not_given",
    "omit",
    "retry_after",
    "retry_delay",
    "types",
    "wanted_delay",
]

# Names that need pydantic are loaded on first use, so `import modelsclient` stays cheap.
_LAZY = {
    "types": "types",
    "Model": "types",
    "ModelDeleted": "types",
    "AsyncModels": "_resources",
    "AsyncModelsWithRawResponse": "_resources",
    "AsyncModelsWithStreamingResponse": "_resources",
    "Models": "_resources",
    "ModelsWithRawResponse": "_resources",
    "ModelsWithStreamingResponse": "_resources",
    "AsyncFineTuning": "_fine_tuning",
    "AsyncJobs": "_fine_tuning",
    "AsyncJobsWithRawResponse": "_fine_tuning",
    "AsyncJobsWithStreamingResponse": "_fine_tuning",
    "FineTuning": "_fine_tuning",
    "Jobs": "_fine_tuning",
    "JobsWithRawResponse": "_fine_tuning",
    "JobsWithStreamingResponse": "_fine_tuning",
    "AsyncCheckpoints": "_checkpoints",
    "AsyncCheckpointsWithRawResponse": "_checkpoints",
    "AsyncCheckpointsWithStreamingResponse": "_checkpoints",
    "Checkpoints": "_checkpoints",
    "CheckpointsWithRawResponse": "_checkpoints",
    "CheckpointsWithStreamingResponse": "_checkpoints",
    "Admin": "_admin",
    "AsyncAdmin": "_admin",
    "AsyncOrganization": "_admin",
    "AsyncUsage": "_admin",
    "AsyncUsageWithRawResponse": "_admin",
    "AsyncUsageWithStreamingResponse": "_admin",
    "Organization": "_admin",
    "Usage": "_admin",
    "UsageWithRawResponse": "_admin",
    "UsageWithStreamingResponse": "_admin",
    "AsyncProjects": "_admin",
    "Projects": "_admin",
    "APIKeys": "_api_keys",
    "APIKeysWithRawResponse": "_api_keys",
    "APIKeysWithStreamingResponse": "_api_keys",
    "AsyncAPIKeys": "_api_keys",
    "AsyncAPIKeysWithRawResponse": "_api_keys",
    "AsyncAPIKeysWithStreamingResponse": "_api_keys",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f"{__name__}.{module_name}")
    value = module if name == module_name else getattr(module, name)
    globals()[name] = value
    return value
