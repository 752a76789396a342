"""The sandbox API over real HTTP (pytest-django's live server), as any client would use it."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest
from pytest_django.live_server_helper import LiveServer

import modelsclient
from dashboard.sandbox.models import SandboxModel
from dashboard.sandbox.seed import reseed, seed_rows

OWNER = {"Authorization": "Bearer sk-sandbox-owner"}
READER = {"Authorization": "Bearer sk-sandbox-reader"}
FINE_TUNE = min(row.id for row in seed_rows() if row.id.startswith("ft:"))


@pytest.fixture
def base_url(live_server: LiveServer, transactional_db: None) -> str:
    """The live server's sandbox API, freshly seeded with its 64 models."""
    assert reseed() == 64
    return f"{live_server.url}/sandbox/v1"


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The OpenAI error envelope's inner object (asserting the envelope's exact shape)."""
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"].startswith("req_")
    error: dict[str, Any] = body["error"]
    return error


def item_url(base_url: str, model_id: str) -> str:
    return f"{base_url}/models/{quote(model_id, safe=':@')}"


def test_list_over_http_returns_the_json_list_with_api_headers(base_url: str) -> None:
    response = httpx.get(f"{base_url}/models", headers=READER)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == list(
        SandboxModel.objects.values_list("id", flat=True)
    )
    assert {m["object"] for m in body["data"]} == {"model"}
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["openai-organization"] == "org-sandbox"
    assert response.headers["openai-version"] == "2020-10-01"
    assert int(response.headers["openai-processing-ms"]) >= 1
    assert response.headers["x-ratelimit-limit-requests"] == "10000"


@pytest.mark.parametrize(
    ("model_id", "raw_segment"),
    [
        ("acme/llama-3.1-8b-support", b"acme%2Fllama-3.1-8b-support"),
        ("acme/модель-ru", b"acme%2F%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C-ru"),
        ("acme:100%-recall", b"acme:100%25-recall"),
    ],
)
def test_retrieve_over_http_finds_ids_sent_percent_encoded(
    base_url: str, model_id: str, raw_segment: bytes
) -> None:
    response = httpx.get(item_url(base_url, model_id), headers=READER)

    assert response.request.url.raw_path.endswith(b"/models/" + raw_segment)
    assert response.status_code == 200
    assert response.json() == {
        "id": model_id,
        "object": "model",
        "created": SandboxModel.objects.get(pk=model_id).created,
        "owned_by": "acme",
        "shutdown_date": None,
    }


def test_delete_over_http_with_the_owner_key_then_again_is_not_found(base_url: str) -> None:
    first = httpx.delete(item_url(base_url, FINE_TUNE), headers=OWNER)
    second = httpx.delete(item_url(base_url, FINE_TUNE), headers=OWNER)

    assert first.status_code == 200
    assert first.json() == {"id": FINE_TUNE, "object": "model", "deleted": True}
    assert not SandboxModel.objects.filter(pk=FINE_TUNE).exists()
    assert second.status_code == 404
    assert error_of(second) == {
        "message": f"The model '{FINE_TUNE}' does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_delete_over_http_with_the_reader_key_is_forbidden(base_url: str) -> None:
    response = httpx.delete(item_url(base_url, FINE_TUNE), headers=READER)

    assert response.status_code == 403
    assert "Missing scopes: api.delete" in error_of(response)["message"]
    assert SandboxModel.objects.filter(pk=FINE_TUNE).exists()


def test_a_request_over_http_without_a_key_is_unauthenticated(base_url: str) -> None:
    response = httpx.get(f"{base_url}/models")

    assert response.status_code == 401
    error = error_of(response)
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You didn't provide an API key.")


def test_a_request_over_http_with_an_unknown_key_is_unauthenticated(base_url: str) -> None:
    response = httpx.delete(
        item_url(base_url, FINE_TUNE), headers={"Authorization": "Bearer sk-guess-12345678"}
    )

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"
    assert SandboxModel.objects.filter(pk=FINE_TUNE).exists()


def test_posting_to_the_models_collection_is_method_not_allowed(base_url: str) -> None:
    response = httpx.post(f"{base_url}/models", headers=OWNER, json={"id": "new-model"})

    assert response.status_code == 405
    assert error_of(response) == {
        "message": "Method POST not allowed.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert SandboxModel.objects.count() == 64


def test_an_unknown_path_under_the_api_is_an_invalid_url_envelope(base_url: str) -> None:
    response = httpx.get(f"{base_url}/batches", headers=OWNER)

    assert response.status_code == 404
    assert error_of(response) == {
        "message": "Invalid URL (GET /sandbox/v1/batches)",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }


def test_modelsclient_lists_retrieves_and_deletes_over_tcp(base_url: str) -> None:
    with modelsclient.Client(base_url=base_url, api_key="sk-sandbox-owner") as api:
        listed = [m.id for m in api.models.list()]
        retrieved = api.models.retrieve("acme/модель-ru")
        deleted = api.models.delete(FINE_TUNE)
        with pytest.raises(modelsclient.NotFoundError) as caught:
            api.models.retrieve(FINE_TUNE)

    assert len(listed) == 64
    assert FINE_TUNE in listed
    assert retrieved.id == "acme/модель-ru"
    assert retrieved.owned_by == "acme"
    assert deleted == modelsclient.ModelDeleted(id=FINE_TUNE, object="model", deleted=True)
    assert caught.value.code == "model_not_found"
    assert SandboxModel.objects.count() == 63


def test_the_official_openai_package_lists_and_retrieves_over_tcp(base_url: str) -> None:
    openai = pytest.importorskip("openai")
    with openai.OpenAI(base_url=base_url, api_key="sk-sandbox-reader", max_retries=0) as official:
        page = official.models.list()
        slashed = official.models.retrieve("acme/llama-3.1-8b-support")
        unicode = official.models.retrieve("acme/модель-ru")
        with pytest.raises(openai.PermissionDeniedError) as caught:
            official.models.delete(FINE_TUNE)

    assert [m.id for m in page.data] == list(SandboxModel.objects.values_list("id", flat=True))
    assert slashed.id == "acme/llama-3.1-8b-support"
    assert unicode.id == "acme/модель-ru"
    assert caught.value.status_code == 403
    assert SandboxModel.objects.filter(pk=FINE_TUNE).exists()
