"""The errors `modelsclient` raises.

Every error that comes from talking to the API is also an `httpx.HTTPError`, so code written
against plain httpx keeps working; each is catchable by its own name as in the `openai` package.

```
ModelsClientError (alias OpenAIError)
└── APIError                      .message .request .body .code .param .type   (httpx.HTTPError)
    ├── APIStatusError            .response .status_code .request_id   (httpx.HTTPStatusError)
    │   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403,
    │   │   NotFoundError 404, ConflictError 409, UnprocessableEntityError 422,
    │   │   RateLimitError 429, InternalServerError >= 500
    ├── APIConnectionError        (httpx.TransportError)
    │   └── APITimeoutError       (httpx.TimeoutException)
    └── APIResponseValidationError .response .status_code
```
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "ModelsClientError",
    "NotFoundError",
    "OpenAIError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "make_status_error",
]


class ModelsClientError(Exception):
    """Base of every error this package raises on purpose."""


OpenAIError = ModelsClientError


def _str_field(body: object, name: str) -> str | None:
    value = body.get(name) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


class APIError(ModelsClientError, httpx.HTTPError):
    """A request to the API failed; `.body` holds the error object or the raw body."""

    message: str
    body: object | None
    code: str | None
    param: str | None
    type: str | None

    def __init__(self, message: str, request: httpx.Request, *, body: object | None) -> None:
        # httpx.HTTPError.__init__ directly: the httpx subclasses' signatures differ.
        httpx.HTTPError.__init__(self, message)
        self.request = request
        self.message = message
        self.body = body
        self.code = _str_field(body, "code")
        self.param = _str_field(body, "param")
        self.type = _str_field(body, "type")


class APIResponseValidationError(APIError):
    """A 2xx response whose body is not JSON, or does not fit the expected type."""

    def __init__(
        self, response: httpx.Response, body: object | None, *, message: str | None = None
    ) -> None:
        super().__init__(
            message or "Data returned by API invalid for expected schema.",
            response.request,
            body=body,
        )
        self.response = response
        self.status_code = response.status_code


class APIStatusError(APIError, httpx.HTTPStatusError):
    """The API answered with a 4xx or 5xx status."""

    def __init__(self, message: str, *, response: httpx.Response, body: object | None) -> None:
        super().__init__(message, response.request, body=body)
        self.response = response
        self.status_code: int = response.status_code
        self.request_id: str | None = response.headers.get("x-request-id")


class APIConnectionError(APIError, httpx.TransportError):
    """The request never got an answer: DNS, refused connection, reset, protocol error."""

    def __init__(self, *, message: str = "Connection error.", request: httpx.Request) -> None:
        super().__init__(message, request, body=None)


class APITimeoutError(APIConnectionError, httpx.TimeoutException):
    """The request timed out (connect, read, write or pool)."""

    def __init__(self, request: httpx.Request) -> None:
        super().__init__(message="Request timed out.", request=request)


class BadRequestError(APIStatusError):
    """400."""


class AuthenticationError(APIStatusError):
    """401: the key is missing, wrong or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do that."""


class NotFoundError(APIStatusError):
    """404."""


class ConflictError(APIStatusError):
    """409."""


class UnprocessableEntityError(APIStatusError):
    """422."""


class RateLimitError(APIStatusError):
    """429."""


class InternalServerError(APIStatusError):
    """Any status >= 500."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def make_status_error(response: httpx.Response) -> APIStatusError:
    """Turn a read 4xx/5xx response into the matching error, envelope parsed."""
    text = response.text.strip()
    body: Any = text
    with contextlib.suppress(ValueError):
        body = json.loads(text)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        body = body["error"]
    detail = _str_field(body, "message") or (
        body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    )
    message = f"Error code: {response.status_code}" + (f" - {detail}" if detail else "")
    status = response.status_code
    cls = InternalServerError if status >= 500 else _STATUS_ERRORS.get(status, APIStatusError)
    return cls(message, response=response, body=body)
