"""Sentinels, type aliases and the one request-options structure every call funnels through."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, final

import httpx

__all__ = [
    "NOT_GIVEN",
    "Body",
    "Headers",
    "NotGiven",
    "Omit",
    "Query",
    "RequestOptions",
    "Timeout",
    "TimeoutArg",
    "not_given",
    "omit",
]


@final
class NotGiven:
    """The caller did not pass this argument (distinct from passing ``None``).

    ```python
    client.models.retrieve("gpt-4o", timeout=NOT_GIVEN)  # client default
    client.models.retrieve("gpt-4o", timeout=None)  # no timeout at all
    ```
    """

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


@final
class Omit:
    """Remove a default: ``extra_headers={"User-Agent": Omit()}`` sends no User-Agent."""

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "Omit()"


NOT_GIVEN: Final = NotGiven()
not_given: Final = NOT_GIVEN
omit: Final = Omit()

Timeout = httpx.Timeout
type TimeoutArg = float | httpx.Timeout | None | NotGiven
type Headers = Mapping[str, str | Omit]
type Query = Mapping[str, object]
type Body = Mapping[str, object]


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Everything one API call asks for; retries and pagination re-send it as is."""

    method: Literal["GET", "DELETE"]
    path: str
    headers: Headers | None = None
    query: Query | None = None
    body: Body | None = None
    timeout: TimeoutArg = NOT_GIVEN
    params: Mapping[str, Any] = field(default_factory=dict)
    # Which of the client's keys signs the request: the Admin API wants the admin key.
    auth: Literal["api_key", "admin_api_key"] = "api_key"

    def with_params(self, **params: Any) -> RequestOptions:
        """The same request with more query parameters (used for the next page's cursor)."""
        return RequestOptions(
            self.method,
            self.path,
            self.headers,
            self.query,
            self.body,
            self.timeout,
            {**self.params, **params},
            self.auth,
        )
