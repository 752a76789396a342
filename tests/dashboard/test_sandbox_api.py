"""The embedded sandbox API, driven in-process through `modelsclient` like any other client."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.db import connection, transaction
from django.test import Client

import modelsclient
from dashboard.sandbox.models import SandboxModel
from dashboard.sandbox.seed import UNUSUAL_IDS, seed_rows
from dashboard.sandbox.transport import InProcessSandbox
from dashboard.upstreams import get_client

BASE_URL = "http://sandbox.internal/sandbox/v1"
OWNER_KEY = "sk-sandbox-owner"
READER_KEY = "sk-sandbox-reader"
ENVELOPE_KEYS = {"message", "type", "param", "code"}
# The seed is deterministic: the same fine-tune comes first every time.
FINE_TUNE = min(row.id for row in seed_rows() if row.id.startswith("ft:"))

ApiFactory = Callable[..., modelsclient.Client]


@pytest.fixture
def sent() -> list[httpx.Request]:
    """Every request the clients built by `api` put on the (in-process) wire."""
    return []


@pytest.fixture
def received() -> list[httpx.Response]:
    """Every response the clients built by `api` got back, errors included."""
    return []


@pytest.fixture
def api(sent: list[httpx.Request], received: list[httpx.Response]) -> Iterator[ApiFactory]:
    """Build a client for a key, over `httpx.WSGITransport(InProcessSandbox())`."""
    made: list[modelsclient.Client] = []

    def build(key: str = OWNER_KEY, **options: Any) -> modelsclient.Client:
        http = httpx.Client(
            transport=httpx.WSGITransport(app=InProcessSandbox()),
            event_hooks={"request": [sent.append], "response": [received.append]},
        )
        made.append(
            modelsclient.Client(api_key=key, base_url=BASE_URL, http_client=http, **options)
        )
        return made[-1]

    yield build
    for built in made:
        built.close()


def test_list_returns_every_seeded_model_with_realistic_fields(
    api: ApiFactory, sandbox: int
) -> None:
    models = list(api().models.list())

    assert sandbox == 64
    assert [m.id for m in models] == list(SandboxModel.objects.values_list("id", flat=True))
    assert {m.object for m in models} == {"model"}
    assert {m.owned_by for m in models} == {"system", "openai", "openai-internal", "acme"}
    now = time.time()
    assert all(now - 732 * 86400 < m.created <= now for m in models)
    assert {m.shutdown_date for m in models} >= {None, "2026-07-14", "2027-06-06"}
    by_id = {m.id: m for m in models}
    assert by_id["gpt-4o"].model_extra == {"context_window": 128000}
    assert by_id["whisper-1"].owned_by == "openai-internal"


@pytest.mark.parametrize("model_id", [FINE_TUNE, *UNUSUAL_IDS])
def test_retrieve_returns_the_model_for_ids_with_colons_slashes_percent_and_unicode(
    api: ApiFactory, sandbox: int, model_id: str
) -> None:
    model = api(READER_KEY).models.retrieve(model_id)

    row = SandboxModel.objects.get(pk=model_id)
    assert model.to_dict() == row.as_api()
    assert model.owned_by == "acme"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model_id", [FINE_TUNE, "acme/модель-ru"])
def test_delete_with_the_owner_key_removes_the_row_for_good(
    api: ApiFactory, sandbox: int, model_id: str
) -> None:
    result = api(OWNER_KEY).models.delete(model_id)

    assert result == modelsclient.ModelDeleted(id=model_id, object="model", deleted=True)
    assert not SandboxModel.objects.filter(pk=model_id).exists()
    assert SandboxModel.objects.count() == 63


def test_a_second_delete_of_the_same_model_is_not_found_with_the_envelope(
    api: ApiFactory, sandbox: int
) -> None:
    model_id = FINE_TUNE
    owner_api = api(OWNER_KEY)
    owner_api.models.delete(model_id)

    with pytest.raises(modelsclient.NotFoundError) as caught:
        owner_api.models.delete(model_id)

    error = caught.value
    assert error.status_code == 404
    assert error.code == "model_not_found"
    assert error.type == "invalid_request_error"
    assert error.param == "model"
    assert error.body == {
        "message": f"The model '{model_id}' does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_delete_with_the_reader_key_is_forbidden_and_keeps_the_row(
    api: ApiFactory, sandbox: int
) -> None:
    model_id = FINE_TUNE

    with pytest.raises(modelsclient.PermissionDeniedError) as caught:
        api(READER_KEY).models.delete(model_id)

    assert caught.value.status_code == 403
    assert caught.value.type == "invalid_request_error"
    assert "Missing scopes: api.delete" in caught.value.message
    assert set(caught.value.response.json()["error"]) == ENVELOPE_KEYS
    assert SandboxModel.objects.filter(pk=model_id).exists()


def test_a_request_without_a_key_is_unauthenticated(
    api: ApiFactory, sandbox: int, sent: list[httpx.Request]
) -> None:
    with pytest.raises(modelsclient.AuthenticationError) as caught:
        api().models.list(extra_headers={"Authorization": modelsclient.Omit()})

    assert "authorization" not in sent[0].headers
    assert caught.value.status_code == 401
    assert caught.value.type == "invalid_request_error"
    assert caught.value.code is None
    assert "You didn't provide an API key" in caught.value.message
    assert set(caught.value.response.json()["error"]) == ENVELOPE_KEYS


def test_an_unknown_key_is_unauthenticated_and_not_echoed_back(
    api: ApiFactory, sandbox: int
) -> None:
    with pytest.raises(modelsclient.AuthenticationError) as caught:
        api("sk-not-a-sandbox-key-0123456789").models.retrieve("gpt-4o")

    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert caught.value.type == "invalid_request_error"
    assert caught.value.body == {
        "message": "Incorrect API key provided: sk-*****6789.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
    assert "not-a-sandbox-key" not in caught.value.response.text


def test_a_base_model_cannot_be_deleted_even_by_the_owner(api: ApiFactory, sandbox: int) -> None:
    with pytest.raises(modelsclient.PermissionDeniedError) as caught:
        api(OWNER_KEY).models.delete("gpt-4o-mini")

    assert caught.value.status_code == 403
    assert caught.value.param == "model"
    assert caught.value.message == (
        "Error code: 403 - You cannot delete the base model 'gpt-4o-mini'."
    )
    assert SandboxModel.objects.filter(pk="gpt-4o-mini").exists()


def test_retrieving_an_unknown_id_is_not_found(api: ApiFactory, sandbox: int) -> None:
    with pytest.raises(modelsclient.NotFoundError) as caught:
        api(READER_KEY).models.retrieve("ft:gpt-4o:acme:gone:XXXXXXXX")

    assert caught.value.status_code == 404
    assert caught.value.code == "model_not_found"
    assert caught.value.param == "model"
    assert caught.value.message == (
        "Error code: 404 - The model 'ft:gpt-4o:acme:gone:XXXXXXXX' does not exist"
    )


def test_an_unknown_url_under_the_api_is_an_invalid_url_error_with_headers(sandbox: int) -> None:
    transport = httpx.WSGITransport(app=InProcessSandbox())
    with httpx.Client(transport=transport, base_url=BASE_URL) as http:
        response = http.get("/batches", headers={"Authorization": f"Bearer {OWNER_KEY}"})

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": "Invalid URL (GET /sandbox/v1/batches)",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
    assert response.headers["x-request-id"].startswith("req_")


def test_an_invalid_limit_is_a_bad_request_naming_the_parameter(
    api: ApiFactory, sandbox: int
) -> None:
    with pytest.raises(modelsclient.BadRequestError) as caught:
        api().models.list(extra_query={"limit": 0})

    assert caught.value.status_code == 400
    assert caught.value.param == "limit"
    assert caught.value.type == "invalid_request_error"


def test_every_response_success_or_error_carries_the_api_headers(
    api: ApiFactory, sandbox: int, received: list[httpx.Response]
) -> None:
    reader = api(READER_KEY)
    reader.models.list()
    reader.models.retrieve("gpt-4o")
    for failing_call in (
        lambda: reader.models.retrieve("no-such-model"),
        lambda: reader.models.delete(FINE_TUNE),
        lambda: api("sk-wrong").models.list(),
        lambda: reader.models.list(extra_headers={"Authorization": modelsclient.Omit()}),
    ):
        with pytest.raises(modelsclient.APIStatusError):
            failing_call()

    assert [r.status_code for r in received] == [200, 200, 404, 403, 401, 401]
    request_ids = [r.headers["x-request-id"] for r in received]
    assert len(set(request_ids)) == 6
    assert all(rid.startswith("req_") and len(rid) == 36 for rid in request_ids)
    for response in received:
        assert response.headers["openai-organization"] == "org-sandbox"
        assert response.headers["openai-version"] == "2020-10-01"
        assert int(response.headers["openai-processing-ms"]) >= 1
        assert response.headers["x-ratelimit-limit-requests"] == "10000"
        assert response.headers["x-ratelimit-remaining-requests"] == "9999"
        assert response.headers["x-ratelimit-limit-tokens"] == "30000000"
        assert response.headers["x-ratelimit-remaining-tokens"] == "30000000"
        assert "x-ratelimit-reset-requests" in response.headers
        assert "x-ratelimit-reset-tokens" in response.headers


def test_limit_pages_are_walked_in_order_until_every_model_is_listed(
    api: ApiFactory, sandbox: int, sent: list[httpx.Request]
) -> None:
    first_page = api().models.list(extra_query={"limit": 10})

    ids = [m.id for m in first_page]

    assert ids == list(SandboxModel.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) == 64
    assert len(sent) == 7
    assert [r.url.params.get("limit") for r in sent] == ["10"] * 7
    assert [r.url.params.get("after") for r in sent] == [None, *ids[9:60:10]]
    assert len(first_page.data) == 10
    assert first_page.has_more is True


@pytest.mark.parametrize(
    ("failure", "error_class", "status"),
    [
        ("error-500", modelsclient.InternalServerError, 500),
        ("error-429", modelsclient.RateLimitError, 429),
    ],
)
def test_injected_status_failures_raise_their_error_once_without_retrying(
    api: ApiFactory,
    sandbox: int,
    settings: Any,
    sent: list[httpx.Request],
    failure: str,
    error_class: type[modelsclient.APIStatusError],
    status: int,
) -> None:
    settings.SANDBOX_FAILURE = failure

    with pytest.raises(error_class) as caught:
        api(max_retries=2).models.list()

    assert caught.value.status_code == status
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.request_id == caught.value.response.headers["x-request-id"]
    assert set(caught.value.response.json()["error"]) == ENVELOPE_KEYS
    assert len(sent) == 1


def test_an_injected_malformed_body_is_a_response_validation_error(
    api: ApiFactory, sandbox: int, settings: Any, sent: list[httpx.Request]
) -> None:
    settings.SANDBOX_FAILURE = "malformed"

    with pytest.raises(modelsclient.APIResponseValidationError) as caught:
        api(max_retries=2).models.list()

    assert caught.value.status_code == 200
    assert caught.value.body == "<html><body>502 Bad Gateway</body></html>"
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert len(sent) == 1


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [("timeout", modelsclient.APITimeoutError), ("unavailable", modelsclient.APIConnectionError)],
)
def test_injected_transport_failures_raise_connection_errors(
    api: ApiFactory,
    sandbox: int,
    settings: Any,
    sent: list[httpx.Request],
    failure: str,
    error_class: type[modelsclient.APIConnectionError],
) -> None:
    settings.SANDBOX_FAILURE = failure

    with pytest.raises(modelsclient.APIConnectionError) as caught:
        api(max_retries=0).models.retrieve("gpt-4o")

    assert type(caught.value) is error_class
    assert len(sent) == 1


# --- The nested request: the sandbox runs inside the dashboard's own request ---------------


@pytest.fixture
def close_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every time something asks the thread's database connection to close.

    The test database is in-memory SQLite, whose `close()` is a no-op, so the attempt is what
    can be observed; on a file or server database it would end the outer transaction.
    """
    calls: list[str] = []
    real_close = connection.close

    def close() -> None:
        calls.append("close")
        real_close()

    monkeypatch.setattr(connection, "close", close)
    return calls


@pytest.fixture
def request_signals() -> Iterator[list[str]]:
    """request_started / request_finished as sent (they close the thread's connection)."""
    seen: list[str] = []

    def started(**kwargs: Any) -> None:
        seen.append("started")

    def finished(**kwargs: Any) -> None:
        seen.append("finished")

    request_started.connect(started)
    request_finished.connect(finished)
    yield seen
    request_started.disconnect(started)
    request_finished.disconnect(finished)


@pytest.mark.django_db(transaction=True)
def test_a_nested_sandbox_call_leaves_the_outer_transaction_open_and_usable(
    sandbox: int, close_calls: list[str], request_signals: list[str]
) -> None:
    model_id = FINE_TUNE

    with transaction.atomic():
        User.objects.create_user("outer-writer")
        deleted = get_client().models.delete(model_id)
        listed = [m.id for m in get_client().models.list()]

        assert connection.connection is not None
        assert connection.in_atomic_block
        assert not connection.needs_rollback
        assert User.objects.filter(username="outer-writer").exists()
        assert SandboxModel.objects.count() == 63

    assert deleted.deleted is True
    assert model_id not in listed
    assert len(listed) == 63
    assert User.objects.filter(username="outer-writer").exists()  # committed
    assert close_calls == []
    assert request_signals == []


@pytest.mark.django_db(transaction=True)
def test_a_dashboard_page_that_calls_the_sandbox_leaves_the_connection_usable(
    sandbox: int, owner: Client, close_calls: list[str]
) -> None:
    response = owner.get("/u/default/models/")

    assert response.status_code == 200
    assert "gpt-4o-mini" in response.text
    assert close_calls == []
    assert connection.connection is not None
    assert User.objects.filter(username="olivia").exists()


def test_the_dashboard_reaches_the_sandbox_without_opening_a_socket(
    sandbox: int, owner: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[object] = []

    def refuse(sock: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("no sockets in sandbox mode")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)

    response = owner.get("/u/default/models/")

    assert response.status_code == 200
    assert "acme/llama-3.1-8b-support" in response.text
    assert attempts == []
