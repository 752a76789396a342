"""Upstream answers are trusted only as far as they deserve: no redirects to another origin (or
for a delete), bounded bodies, and no API key in anything shown, stored or logged."""

from __future__ import annotations

import gzip
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx
from django.test import Client
from django.urls import reverse

from dashboard.catalogue.models import CatalogueModel
from dashboard.models import AuditEntry
from dashboard.sandbox.models import SandboxModel
from tests.markup import text

from .conftest import REAL_API_BASE, REAL_API_KEY
from .worker import run_worker

Outcome = AuditEntry.Outcome
FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12Cd34"
MODEL = {"id": FINE_TUNE, "object": "model", "created": 1_710_000_000, "owned_by": "acme"}
OTHER = "https://other.example/v1"
HTMX = {"HX-Request": "true"}


def _text(response: Any) -> str:
    return text(response.content)


def _cache_the_list(owner: Client, real_api: respx.MockRouter, *models: dict[str, Any]) -> None:
    real_api.get("/models").respond(json={"object": "list", "data": list(models or [MODEL])})
    assert owner.get(reverse("model-list", args=["default"])).status_code == 200


def _post_delete(owner: Client, model_id: str = FINE_TUNE) -> Any:
    return owner.post(
        reverse("model-delete", args=["default", model_id]), {"confirm_id": model_id}, follow=True
    )


# --- Redirects ----------------------------------------------------------------------------------


def test_a_delete_redirected_to_another_origin_is_not_followed_and_says_so(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _cache_the_list(owner, real_api)
    target = f"{OTHER}/models/{FINE_TUNE}"
    redirect = real_api.delete(f"/models/{FINE_TUNE}").respond(307, headers={"Location": target})
    elsewhere = real_api.route(method="DELETE", url=target).respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": True}
    )
    check = real_api.get(f"/models/{FINE_TUNE}").respond(json=MODEL)

    response = _post_delete(owner)

    assert redirect.call_count == 1
    assert elsewhere.call_count == 0
    assert check.call_count == 0  # the API answered with a redirect: it did not delete
    assert "Deleted" not in _text(response)
    assert f"{FINE_TUNE} was not deleted: Redirect not followed." in _text(response)
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.FAILED
    assert entry.upstream_status == 307
    assert entry.message == (
        f"Redirect not followed — not deleted. The API redirected the request to {target}; "
        "the dashboard does not follow redirects to another address."
    )
    assert _listed(FINE_TUNE)  # still listed: it still exists


def test_a_delete_redirected_on_the_same_origin_is_not_followed_either(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _cache_the_list(owner, real_api)
    target = f"{REAL_API_BASE}/v2/models/{FINE_TUNE}"
    real_api.delete(f"/models/{FINE_TUNE}").respond(308, headers={"Location": target})
    moved = real_api.route(method="DELETE", url=target).respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": True}
    )

    _post_delete(owner)

    assert moved.call_count == 0
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.FAILED
    assert "the dashboard does not follow redirects for a change such as a delete" in (
        entry.message
    )


@pytest.mark.parametrize("page", ["list", "detail"])
def test_a_page_redirected_to_another_origin_shows_where_and_does_not_follow(
    owner: Client, real_api: respx.MockRouter, page: str
) -> None:
    path = "/models" if page == "list" else f"/models/{FINE_TUNE}"
    real_api.get(path).respond(302, headers={"Location": f"{OTHER}{path}"})
    elsewhere = real_api.route(url=f"{OTHER}{path}").respond(json=MODEL)
    url = (
        reverse("model-list", args=["default"])
        if page == "list"
        else reverse("model-detail", args=["default", FINE_TUNE])
    )

    response = owner.get(url)

    assert response.status_code == 502
    assert elsewhere.call_count == 0
    text = _text(response)
    assert "Redirect not followed" in text
    assert f"The API redirected the request to {OTHER}{path}; " in text
    assert "does not follow redirects to another address." in text
    assert REAL_API_KEY not in response.content.decode()


def test_a_get_redirected_on_the_same_origin_is_followed(
    owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.get("/models/old-name").respond(301, headers={"Location": f"/v1/models/{FINE_TUNE}"})
    moved = real_api.get(f"/models/{FINE_TUNE}").respond(json=MODEL)

    response = owner.get(reverse("model-detail", args=["default", "old-name"]))

    assert response.status_code == 200
    assert moved.call_count == 1
    assert moved.calls.last.request.headers["Authorization"] == f"Bearer {REAL_API_KEY}"


def test_the_client_package_still_follows_redirects_like_openai_python() -> None:
    import modelsclient

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.host == "old.example":
            return httpx.Response(307, headers={"Location": "https://new.example/v1/models/m"})
        return httpx.Response(200, json={**MODEL, "id": "m"})

    transport = httpx.MockTransport(api)
    with modelsclient.Client(
        api_key="sk-test",
        base_url="https://old.example/v1",
        http_client=httpx.Client(transport=transport, follow_redirects=True),
    ) as plain:
        assert plain.models.retrieve("m").id == "m"


# --- Size limits -------------------------------------------------------------------------------


@pytest.fixture
def small_limits(settings: Any) -> None:
    settings.UPSTREAM_MAX_RESPONSE_BYTES = 8 * 1024
    settings.UPSTREAM_MAX_MODEL_BYTES = 4 * 1024


def _many_models(count: int) -> dict[str, Any]:
    data = [{**MODEL, "id": f"ft:gpt-4o-mini:acme:bulk:{i:06d}"} for i in range(count)]
    return {"object": "list", "data": data}


def _chunked(body: bytes) -> httpx.Response:
    """A response without Content-Length, its body in small chunks."""

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    return httpx.Response(200, stream=httpx.ByteStream(b"") if not body else _Stream(chunks()))


class _Stream(httpx.SyncByteStream):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.read += len(chunk)
            yield chunk


@pytest.mark.parametrize("framing", ["content-length", "chunked", "gzip"])
def test_an_oversized_list_is_refused_with_a_clear_error(
    owner: Client, real_api: respx.MockRouter, small_limits: None, framing: str
) -> None:
    body = json.dumps(_many_models(200)).encode()  # about 20 KB
    if framing == "content-length":
        real_api.get("/models").respond(200, content=body)
    elif framing == "chunked":
        real_api.get("/models").mock(return_value=_chunked(body))
    else:  # small on the wire, large once decoded
        real_api.get("/models").respond(
            200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"}
        )

    response = owner.get(reverse("model-list", args=["default"]))

    assert response.status_code == 502
    text = _text(response)
    assert "The API sent more than 8 KB" in text
    assert "more than the dashboard reads for a list of models" in text


def test_a_chunked_body_stops_being_read_at_the_limit(
    owner: Client, real_api: respx.MockRouter, small_limits: None
) -> None:
    stream = _Stream(iter([b"x" * 1000] * 1000))  # a megabyte, if anyone read it all
    real_api.get("/models").mock(return_value=httpx.Response(200, stream=stream))

    assert owner.get(reverse("model-list", args=["default"])).status_code == 502
    assert stream.read <= 9 * 1000


def test_an_oversized_list_keeps_the_stale_copy_on_refresh(
    owner: Client, real_api: respx.MockRouter, small_limits: None
) -> None:
    _cache_the_list(owner, real_api)
    real_api.get("/models").respond(200, content=json.dumps(_many_models(200)).encode())

    owner.get(reverse("model-list", args=["default"]), {"refresh": "1"}, headers=HTMX)
    run_worker()
    response = owner.get(reverse("model-list", args=["default"]), headers=HTMX)

    assert response.status_code == 200
    assert FINE_TUNE in _text(response)
    assert "The API sent more than 8 KB." in _text(response)


def test_an_oversized_model_gives_the_detail_page_a_clear_error(
    owner: Client, real_api: respx.MockRouter, small_limits: None
) -> None:
    real_api.get(f"/models/{FINE_TUNE}").respond(json={**MODEL, "notes": "n" * 10_000})

    response = owner.get(reverse("model-detail", args=["default", FINE_TUNE]))

    assert response.status_code == 502
    assert "The API sent more than 4 KB" in _text(response)
    assert len(response.content) < 20_000


def test_the_in_process_sandbox_is_held_to_the_same_limit(
    owner: Client, sandbox: int, settings: Any
) -> None:
    settings.UPSTREAM_MAX_MODEL_BYTES = 64 * 1024
    SandboxModel.objects.create(
        id="acme-huge", created=1, owned_by="acme", extra={"blob": "b" * 200_000}
    )

    response = owner.get(reverse("model-detail", args=["default", "acme-huge"]))

    assert response.status_code == 502
    assert "The API sent more than 64 KB" in _text(response)


def test_an_oversized_answer_to_a_delete_is_checked_not_trusted(
    owner: Client, real_api: respx.MockRouter, small_limits: None
) -> None:
    _cache_the_list(owner, real_api)
    real_api.delete(f"/models/{FINE_TUNE}").respond(
        200, json={"id": FINE_TUNE, "deleted": True, "padding": "p" * 20_000}
    )
    check = real_api.get(f"/models/{FINE_TUNE}").respond(404)

    response = _post_delete(owner)

    assert check.call_count == 1
    assert f"Deleted {FINE_TUNE}." in _text(response)
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.DELETED
    assert entry.confirmed_by == AuditEntry.Confirmation.CHECK
    assert "The API sent more than 4 KB." in entry.message


def test_a_large_model_under_the_limit_makes_a_bounded_detail_page(
    owner: Client, real_api: respx.MockRouter
) -> None:
    big = {**MODEL, "description": "d" * 400_000, "tags": ["t" * 100] * 1000}
    real_api.get(f"/models/{FINE_TUNE}").respond(json=big)

    response = owner.get(reverse("model-detail", args=["default", FINE_TUNE]))

    assert response.status_code == 200
    assert len(response.content) < 120_000  # the answer is ~500 KB
    text = _text(response)
    assert "… (cut: the body is" in text
    assert "the page shows the first 65,536)" in text


def test_an_audit_snapshot_keeps_the_fields_bounded_in_size(
    owner: Client, real_api: respx.MockRouter
) -> None:
    fields = {f"field_{i:02d}": f"value {i} " * 40 for i in range(60)}
    large = {**MODEL, "description": "d" * 100_000, "nested": {"deep": ["x"] * 10_000}, **fields}
    _cache_the_list(owner, real_api, large)
    real_api.delete(f"/models/{FINE_TUNE}").respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": True}
    )

    _post_delete(owner)

    snapshot = AuditEntry.objects.get().model_snapshot
    assert len(json.dumps(snapshot, ensure_ascii=False).encode()) <= 4096
    assert {key: snapshot[key] for key in MODEL} == MODEL
    assert snapshot["description"] == "d" * 255 + "…"
    assert snapshot["_fields_not_kept"] > 0


# --- Keys scrubbed everywhere -------------------------------------------------------------------

# A key the dashboard is not configured with, shaped like OpenAI's project keys.
FOREIGN_KEY = "sk-proj-" + "Zq9" * 15


@pytest.mark.parametrize("key", [REAL_API_KEY, FOREIGN_KEY], ids=["configured", "key-shaped"])
def test_a_request_id_with_a_key_in_it_is_scrubbed_in_pages_audit_csv_and_log(
    owner: Client, real_api: respx.MockRouter, caplog: pytest.LogCaptureFixture, key: str
) -> None:
    caplog.set_level(logging.DEBUG)
    leaky = {"x-request-id": f"req_{key}"}
    _cache_the_list(owner, real_api)
    real_api.get(f"/models/{FINE_TUNE}").respond(json=MODEL, headers=leaky)
    real_api.get("/models/broken").respond(500, json={"error": {}}, headers=leaky)
    real_api.delete(f"/models/{FINE_TUNE}").respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": True}, headers=leaky
    )

    pages = [
        owner.get(reverse("model-detail", args=["default", FINE_TUNE])),
        owner.get(reverse("model-detail", args=["default", "broken"])),
        _post_delete(owner),
        owner.get(reverse("audit-log")),
    ]
    export = b"".join(owner.get(reverse("audit-log"), {"format": "csv"}).streaming_content)

    assert [page.status_code for page in pages] == [200, 502, 200, 200]
    assert "Request id req_[redacted]" in _text(pages[0])
    assert "Request id req_[redacted]" in _text(pages[1])
    assert AuditEntry.objects.get().upstream_request_id == "req_[redacted]"
    for body in [page.content for page in pages] + [export]:
        assert key.encode() not in body
    assert b"req_[redacted]" in export
    assert key not in caplog.text
    assert "request_id='req_[redacted]'" in caplog.text


def _listed(model_id: str, alias: str = "default") -> bool:
    """Whether the catalogue still lists the model (present, not gone)."""
    return CatalogueModel.objects.filter(
        upstream=alias, model_id=model_id, gone_at__isnull=True
    ).exists()
