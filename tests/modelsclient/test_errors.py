"""Status codes map to typed errors that carry the request, the response and the parsed body."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from modelsclient import (
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

from .conftest import Twin, resolve

ENVELOPE = {
    "error": {
        "message": "No such model",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
}


def answer(response: Callable[[], httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: response()


async def retrieve(api_client: Any, model: str = "gpt-4o-mini") -> Any:
    return await resolve(api_client.models.retrieve(model))


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_each_status_raises_its_own_error_class(
    twin: Twin, code: int, error_class: type[APIStatusError]
) -> None:
    api_client = twin.client(answer(lambda: httpx.Response(code, json=ENVELOPE)), max_retries=0)

    with pytest.raises(APIStatusError) as info:
        await retrieve(api_client)

    err = info.value
    assert type(err) is error_class
    assert err.status_code == code
    for base in (
        APIStatusError,
        APIError,
        ModelsClientError,
        OpenAIError,
        httpx.HTTPStatusError,
        httpx.HTTPError,
    ):
        assert isinstance(err, base)


async def test_connection_error_is_an_httpx_transport_error(twin: Twin) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    api_client = twin.client(refuse, max_retries=0)

    with pytest.raises(httpx.TransportError) as info:
        await retrieve(api_client)

    err = info.value
    assert type(err) is APIConnectionError
    assert isinstance(err, APIError)
    assert isinstance(err, ModelsClientError)
    assert isinstance(err, httpx.HTTPError)
    assert not isinstance(err, httpx.TimeoutException)
    assert err.request.url == "https://api.example.test/v1/models/gpt-4o-mini"
    assert isinstance(err.__cause__, httpx.ConnectError)


async def test_timeout_error_is_an_httpx_timeout_exception(twin: Twin) -> None:
    def stall(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    api_client = twin.client(stall, max_retries=0)

    with pytest.raises(httpx.TimeoutException) as info:
        await retrieve(api_client)

    err = info.value
    assert type(err) is APITimeoutError
    assert isinstance(err, APIConnectionError)
    assert isinstance(err, httpx.TransportError)
    assert isinstance(err, httpx.HTTPError)
    assert isinstance(err, OpenAIError)
    assert isinstance(err.__cause__, httpx.ReadTimeout)


async def test_openai_error_envelope_fills_the_error_fields(twin: Twin) -> None:
    api_client = twin.client(
        answer(lambda: httpx.Response(404, json=ENVELOPE, headers={"x-request-id": "req_123"})),
        max_retries=0,
    )

    with pytest.raises(NotFoundError) as info:
        await retrieve(api_client, "gpt-9")

    err = info.value
    assert err.message == "Error code: 404 - No such model"
    assert str(err) == "Error code: 404 - No such model"
    assert err.code == "model_not_found"
    assert err.param == "model"
    assert err.type == "invalid_request_error"
    assert err.body == ENVELOPE["error"]
    assert err.status_code == 404
    assert err.request_id == "req_123"
    assert err.response.status_code == 404
    assert err.response.json() == ENVELOPE
    assert err.request.method == "GET"
    assert err.request.url == "https://api.example.test/v1/models/gpt-9"
    assert err.response.request is err.request


async def test_request_id_is_none_without_the_header(twin: Twin) -> None:
    api_client = twin.client(answer(lambda: httpx.Response(404, json=ENVELOPE)), max_retries=0)

    with pytest.raises(NotFoundError) as info:
        await retrieve(api_client)

    assert info.value.request_id is None


async def test_plain_text_error_body_is_kept_as_text(twin: Twin) -> None:
    api_client = twin.client(
        answer(lambda: httpx.Response(502, text="upstream exploded")), max_retries=0
    )

    with pytest.raises(InternalServerError) as info:
        await retrieve(api_client)

    err = info.value
    assert err.body == "upstream exploded"
    assert "upstream exploded" in str(err)
    assert str(err).startswith("Error code: 502")
    assert err.code is None
    assert err.param is None
    assert err.type is None


async def test_json_error_body_without_envelope_is_kept_as_a_dict(twin: Twin) -> None:
    body = {"detail": "model is busy", "retry": False}
    api_client = twin.client(answer(lambda: httpx.Response(409, json=body)), max_retries=0)

    with pytest.raises(ConflictError) as info:
        await retrieve(api_client)

    err = info.value
    assert err.body == body
    assert "model is busy" in str(err)
    assert str(err).startswith("Error code: 409")


async def test_envelope_whose_error_is_a_string_is_not_unwrapped(twin: Twin) -> None:
    body = {"error": "rate limited"}
    api_client = twin.client(answer(lambda: httpx.Response(429, json=body)), max_retries=0)

    with pytest.raises(RateLimitError) as info:
        await retrieve(api_client)

    assert info.value.body == body
    assert "rate limited" in str(info.value)


async def test_empty_error_body_still_gives_a_readable_message(twin: Twin) -> None:
    api_client = twin.client(answer(lambda: httpx.Response(401)), max_retries=0)

    with pytest.raises(AuthenticationError) as info:
        await retrieve(api_client)

    assert str(info.value) == "Error code: 401"


async def test_success_body_that_is_not_json_raises_validation_error(twin: Twin) -> None:
    api_client = twin.client(answer(lambda: httpx.Response(200, text="<html>proxy login</html>")))

    with pytest.raises(APIResponseValidationError) as info:
        await retrieve(api_client)

    err = info.value
    assert err.status_code == 200
    assert err.response.status_code == 200
    assert err.response.text == "<html>proxy login</html>"
    assert err.body == "<html>proxy login</html>"
    assert err.request.url == "https://api.example.test/v1/models/gpt-4o-mini"
    assert isinstance(err, APIError)
    assert isinstance(err, httpx.HTTPError)
    assert not isinstance(err, APIStatusError)


async def test_success_json_missing_required_fields_is_returned_as_sent_not_raised(
    twin: Twin,
) -> None:
    # The official package builds models without validation; so does this one for a model
    # object (see test_types.py for every variant). Only the outer shape is enforced.
    body = {"id": "gpt-4o-mini", "object": "model"}
    api_client = twin.client(answer(lambda: httpx.Response(200, json=body)))

    model = await retrieve(api_client)

    assert model.to_dict() == body


async def test_delete_response_of_the_wrong_shape_raises_validation_error(twin: Twin) -> None:
    api_client = twin.client(answer(lambda: httpx.Response(200, json=[1, 2, 3])))

    with pytest.raises(APIResponseValidationError) as info:
        await resolve(api_client.models.delete("ft:x"))

    assert info.value.body == [1, 2, 3]
    assert info.value.response.request.method == "DELETE"


async def test_a_404_from_retrieve_is_caught_as_httpx_http_error(twin: Twin) -> None:
    api_client = twin.client(answer(lambda: httpx.Response(404, json=ENVELOPE)))
    caught: httpx.HTTPError | None = None

    try:
        await retrieve(api_client, "missing")
    except httpx.HTTPError as exc:
        caught = exc

    assert isinstance(caught, NotFoundError)
    assert caught.response.status_code == 404


async def test_raise_for_status_style_handlers_see_the_response(twin: Twin) -> None:
    api_client = twin.client(answer(lambda: httpx.Response(403, json=ENVELOPE)))

    with pytest.raises(httpx.HTTPStatusError) as info:
        await retrieve(api_client)

    assert info.value.response.status_code == 403
    assert info.value.request.url.path == "/v1/models/gpt-4o-mini"
