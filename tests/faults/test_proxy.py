"""The fault proxy itself, driven with plain httpx against the live server's sandbox."""

from __future__ import annotations

import time
from urllib.parse import quote

import httpx
import pytest

from dashboard.sandbox.models import SandboxModel

from .proxy import OVERSIZE_BYTES, Fault, FaultProxy

OWNER = {"Authorization": "Bearer sk-sandbox-owner"}
MODEL = "acme/llama-3.1-8b-support"
MODEL_PATH = "/sandbox/v1/models/" + quote(MODEL, safe=":@")
LIST_PATH = "/sandbox/v1/models"


def test_proxy_forwards_to_the_sandbox_and_counts_each_request(proxy: FaultProxy) -> None:
    with httpx.Client(base_url=proxy.url, headers=OWNER) as http:
        listed = http.get(LIST_PATH)
        retrieved = http.get(MODEL_PATH)
        again = http.get(MODEL_PATH)

    assert listed.status_code == 200
    assert len(listed.json()["data"]) == 64
    assert listed.headers["x-request-id"].startswith("req_")
    assert retrieved.json()["id"] == MODEL
    assert again.status_code == 200
    assert proxy.calls == {("GET", LIST_PATH): 1, ("GET", MODEL_PATH): 2}


def test_an_injected_status_answers_without_forwarding_for_the_given_number_of_times(
    proxy: FaultProxy,
) -> None:
    proxy.inject("DELETE", MODEL_PATH, Fault.status_code(429, retry_after=120), times=1)

    with httpx.Client(base_url=proxy.url, headers=OWNER) as http:
        limited = http.delete(MODEL_PATH)
        assert SandboxModel.objects.filter(pk=MODEL).exists()
        deleted = http.delete(MODEL_PATH)

    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "120"
    assert limited.json()["error"]["message"] == "Rate limit reached for requests."
    assert deleted.json() == {"id": MODEL, "object": "model", "deleted": True}
    assert not SandboxModel.objects.filter(pk=MODEL).exists()
    assert proxy.calls == {("DELETE", MODEL_PATH): 2}


def test_a_reset_comes_after_the_request_took_effect_upstream(proxy: FaultProxy) -> None:
    proxy.inject("DELETE", MODEL_PATH, Fault.reset())

    with (
        httpx.Client(base_url=proxy.url, headers=OWNER) as http,
        pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)),
    ):
        http.delete(MODEL_PATH)

    assert not SandboxModel.objects.filter(pk=MODEL).exists()
    assert proxy.calls == {("DELETE", MODEL_PATH): 1}


def test_a_hung_request_is_never_answered_and_the_client_times_out(proxy: FaultProxy) -> None:
    proxy.inject("GET", None, Fault.hang())
    started = time.perf_counter()

    with (
        httpx.Client(base_url=proxy.url, headers=OWNER, timeout=0.3) as http,
        pytest.raises(httpx.ReadTimeout),
    ):
        http.get(MODEL_PATH)

    assert 0.3 <= time.perf_counter() - started < 2.0
    assert proxy.calls == {("GET", MODEL_PATH): 1}


def test_a_truncated_body_promises_more_than_it_sends(proxy: FaultProxy) -> None:
    proxy.inject("DELETE", MODEL_PATH, Fault.truncate())

    with (
        httpx.Client(base_url=proxy.url, headers=OWNER) as http,
        pytest.raises(httpx.RemoteProtocolError, match="incomplete|peer closed"),
    ):
        http.delete(MODEL_PATH)

    assert not SandboxModel.objects.filter(pk=MODEL).exists()  # it happened all the same


def test_a_redirect_points_to_another_origin_that_claims_the_delete(proxy: FaultProxy) -> None:
    proxy.inject("DELETE", MODEL_PATH, Fault.redirect())

    with httpx.Client(base_url=proxy.url, headers=OWNER) as http:
        redirect = http.delete(MODEL_PATH)
        followed = http.delete(MODEL_PATH, follow_redirects=True)

    assert redirect.status_code == 307
    assert redirect.headers["location"] == proxy.elsewhere_url + MODEL_PATH
    assert followed.json() == {"id": MODEL, "object": "model", "deleted": True}
    assert proxy.elsewhere_calls == {("DELETE", MODEL_PATH): 1}
    assert SandboxModel.objects.filter(pk=MODEL).exists()


def test_an_oversized_answer_is_the_real_one_padded_to_twenty_megabytes(
    proxy: FaultProxy,
) -> None:
    proxy.inject("GET", MODEL_PATH, Fault.oversize())

    with httpx.Client(base_url=proxy.url, headers=OWNER) as http:
        response = http.get(MODEL_PATH)

    assert len(response.content) > OVERSIZE_BYTES
    assert response.json()["id"] == MODEL
    assert response.headers["content-type"] == "application/json"


def test_latency_delays_then_forwards_and_a_non_json_answer_is_html(proxy: FaultProxy) -> None:
    proxy.inject("GET", MODEL_PATH, Fault.latency(0.3))
    proxy.inject("GET", LIST_PATH, Fault.not_json())

    with httpx.Client(base_url=proxy.url, headers=OWNER) as http:
        started = time.perf_counter()
        slow = http.get(MODEL_PATH)
        elapsed = time.perf_counter() - started
        html = http.get(LIST_PATH)

    assert slow.json()["id"] == MODEL
    assert elapsed >= 0.3
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")


def test_closing_the_proxy_releases_hung_requests_and_stops_both_servers(
    proxy: FaultProxy,
) -> None:
    proxy.inject("GET", None, Fault.hang())
    with (
        httpx.Client(base_url=proxy.url, headers=OWNER, timeout=0.2) as http,
        pytest.raises(httpx.ReadTimeout),
    ):
        http.get(LIST_PATH)
    started = time.perf_counter()

    proxy.close()

    assert time.perf_counter() - started < 2.0
    for url in (proxy.url, proxy.elsewhere_url):
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + LIST_PATH, timeout=0.5)
