"""/models/<id>/: every field, the raw response, redacted headers, curl, odd ids, no secrets."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest
import respx
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from .conftest import REAL_API_KEY

HTMX = {"HX-Request": "true"}
SCRIPT_ID = "<script>alert(1)</script>"


def _text(response: Any) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, whitespace collapsed."""
    inline = re.sub(r"</?(span|a|strong|kbd|time|b|i)\b[^>]*>", "", response.content.decode())
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", inline)).split())


def _fields(response: Any) -> dict[str, str]:
    """The Fields and Kind cards' <dt>/<dd> pairs, as text."""
    pairs = re.findall(r"<dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>", response.content.decode(), re.S)
    return {
        html.unescape(name): " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())
        for name, value in pairs
    }


def _headers_table(response: Any) -> dict[str, str]:
    rows = re.findall(
        r'<tr><th scope="row" class="mono">([^<]*)</th><td class="mono[^"]*">([^<]*)</td></tr>',
        response.content.decode(),
    )
    return {name: html.unescape(value) for name, value in rows}


def _code_blocks(response: Any) -> list[str]:
    blocks = re.findall(r"<code>(.*?)</code>", response.content.decode(), re.S)
    return [html.unescape(block) for block in blocks]


def _detail_url(model_id: str) -> str:
    return reverse("model-detail", args=["default", model_id])


def _model(model_id: str, **extra: Any) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1700000000, "owned_by": "acme", **extra}


def _serve_model(
    router: respx.MockRouter, body: dict[str, Any], headers: dict[str, str] | None = None
) -> respx.Route:
    return router.get(path__startswith="/models/").respond(
        200, json=body, headers=headers or {"x-request-id": "req_detail_1"}
    )


# --- A normal model ---------------------------------------------------------------------------


def test_detail_shows_every_field_including_unknown_extra_ones(owner: Client, sandbox: int) -> None:
    response = owner.get(_detail_url("gpt-4o"))

    assert response.status_code == 200
    fields = _fields(response)
    assert fields["id"] == "gpt-4o"
    assert fields["object"] == "model"
    assert fields["owned_by"] == "system"
    assert fields["shutdown_date"] == "null"
    assert fields["context_window"] == "128000"
    assert re.fullmatch(r"\d{10} · \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC · .+ ago", fields["created"])
    assert "1 field not in OpenAI's schema (context_window) sent by this server." in _text(response)


def test_detail_shows_created_as_unix_seconds_utc_time_and_age(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(real_api, _model("m", created=1700000000))

    response = owner.get(_detail_url("m"))

    assert re.fullmatch(
        r"1700000000 · 2023-11-14 22:13:20 UTC · \d+ years? ago", _fields(response)["created"]
    )


def test_detail_without_htmx_is_the_full_page(owner: Client, sandbox: int) -> None:
    response = owner.get(_detail_url("gpt-4o"))

    page = response.content.decode()
    assert page.lstrip().startswith("<!doctype html>")
    assert '<header class="site-header">' in page
    assert '<h1 class="mono model-title">gpt-4o</h1>' in page


def test_detail_with_htmx_header_is_only_the_content_fragment(owner: Client, sandbox: int) -> None:
    response = owner.get(_detail_url("gpt-4o"), headers=HTMX)

    page = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in page
    assert "site-header" not in page
    assert '<h1 class="mono model-title">gpt-4o</h1>' in page
    assert "hx-request" in response["Vary"].lower()


def test_detail_shows_the_raw_json_body_pretty_printed(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(real_api, _model("m", context_window=8192, tags=["a", "b"]))

    response = owner.get(_detail_url("m"))

    assert _code_blocks(response)[0] == (
        "{\n"
        '  "id": "m",\n'
        '  "object": "model",\n'
        '  "created": 1700000000,\n'
        '  "owned_by": "acme",\n'
        '  "context_window": 8192,\n'
        '  "tags": [\n'
        '    "a",\n'
        '    "b"\n'
        "  ]\n"
        "}"
    )
    assert _fields(response)["context_window"] == "8192"
    assert "2 fields not in OpenAI's schema (context_window, tags)" in _text(response)


def test_detail_shows_the_parsed_parts_of_a_fine_tune_id(owner: Client, sandbox: int) -> None:
    model_id = "ft:gpt-4o-2024-08-06:acme:translator-de:rE2ke02N:ckpt-step-260"

    response = owner.get(_detail_url(model_id))

    fields = _fields(response)
    assert fields["Base model"] == "gpt-4o-2024-08-06"
    assert fields["Organisation"] == "acme"
    assert fields["Suffix"] == "translator-de"
    assert fields["Job id"] == "rE2ke02N"
    assert fields["Checkpoint"] == "ckpt-step-260"
    assert '<span class="badge badge--ft">fine-tuned</span>' in response.content.decode()


def test_detail_of_a_fine_tune_without_suffix_shows_a_dash(owner: Client, sandbox: int) -> None:
    response = owner.get(_detail_url("ft:gpt-4.1-2025-04-14:acme::uzK8UXgr"))

    fields = _fields(response)
    assert fields["Base model"] == "gpt-4.1-2025-04-14"
    assert fields["Suffix"] == "—"
    assert fields["Job id"] == "uzK8UXgr"
    assert "Checkpoint" not in fields


def test_detail_of_a_provider_model_says_it_cannot_be_deleted(owner: Client, sandbox: int) -> None:
    response = owner.get(_detail_url("whisper-1"))

    assert "A provider model owned by openai-internal; it cannot be deleted." in _text(response)
    assert "/delete/" not in response.content.decode()


def test_detail_offers_delete_to_an_owner_for_an_organisation_model(
    owner: Client, sandbox: int
) -> None:
    response = owner.get(_detail_url("acme/llama-3.1-8b-support"))

    assert (
        'href="/u/default/models/acme%252Fllama-3.1-8b-support/delete/?next=/u/default/models/"'
        in (response.content.decode())
    )


@pytest.mark.parametrize("role", ["support", "team_admin"])
def test_detail_never_offers_delete_to_support_or_admin(
    role: str, request: pytest.FixtureRequest, sandbox: int
) -> None:
    browser: Client = request.getfixturevalue(role)

    response = browser.get(_detail_url("acme/llama-3.1-8b-support"))

    assert response.status_code == 200
    assert "/delete/" not in response.content.decode()


# --- The raw response -------------------------------------------------------------------------


def test_detail_shows_the_http_status_line_request_id_and_elapsed_time(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(real_api, _model("m"), headers={"x-request-id": "req_abc123"})

    response = owner.get(_detail_url("m"))

    fields = _fields(response)
    assert fields["Status"] == "HTTP/1.1 200 OK"
    assert fields["Request id"] == "req_abc123"
    assert re.fullmatch(r"\d+(\.\d+)? ms", fields["Elapsed"])


def test_detail_shows_a_dash_when_upstream_sent_no_request_id(
    owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.get(path__startswith="/models/").respond(200, json=_model("m"))

    response = owner.get(_detail_url("m"))

    assert _fields(response)["Request id"] == "—"


def test_detail_shows_the_response_headers_a_real_api_sends(owner: Client, sandbox: int) -> None:
    response = owner.get(_detail_url("gpt-4o"))

    headers = _headers_table(response)
    assert headers["content-type"] == "application/json"
    assert headers["openai-version"] == "2020-10-01"
    assert headers["openai-organization"] == "org-sandbox"
    assert headers["x-ratelimit-limit-requests"] == "10000"
    assert headers["x-ratelimit-remaining-requests"] == "9999"
    assert re.fullmatch(r"\d+", headers["openai-processing-ms"])
    assert re.fullmatch(r"req_[0-9a-f]{32}", headers["x-request-id"])
    assert headers["x-request-id"] == _fields(response)["Request id"]


SENSITIVE_HEADERS = {
    "set-cookie": "session=COOKIE-VALUE-1; HttpOnly",
    "x-api-key-hint": "sk-HINT-VALUE-2",
    "authorization-debug": "Bearer AUTH-VALUE-3",
    "x-secret-thing": "SECRET-VALUE-4",
    "x-session-token": "TOKEN-VALUE-6",
    "cookie": "sid=COOKIE-VALUE-7",
    "x-csrf-token": "CSRF-VALUE-8",
    "proxy-authorization": "Basic PROXY-VALUE-9",
}
HARMLESS_HEADERS = {
    "x-internal-shard": "shard-5",
    "server": "cloudflare",
    "content-security-policy": "default-src 'none'",
    "x-ratelimit-limit-tokens": "30000000",
    "x-ratelimit-remaining-tokens": "29999000",
    "x-ratelimit-reset-tokens": "2ms",
    "cf-ray": "8f1e2d3c4b5a-AMS",
}


def test_detail_redacts_headers_that_carry_credentials_or_session_state(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(
        real_api,
        _model("m"),
        headers={
            "x-request-id": "req_abc123",
            "openai-processing-ms": "42",
            "openai-version": "2020-10-01",
            "x-ratelimit-limit-requests": "5000",
            **SENSITIVE_HEADERS,
            **HARMLESS_HEADERS,
        },
    )

    response = owner.get(_detail_url("m"))

    headers = _headers_table(response)
    assert headers["x-request-id"] == "req_abc123"
    assert headers["openai-processing-ms"] == "42"
    assert headers["openai-version"] == "2020-10-01"
    assert headers["x-ratelimit-limit-requests"] == "5000"
    page = response.content.decode()
    for name, value in SENSITIVE_HEADERS.items():
        assert headers[name] == "[redacted]"
        assert value not in page
        assert value.split("=")[-1].split(";")[0] not in page


def test_detail_shows_every_header_that_carries_no_credential(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(real_api, _model("m"), headers={**SENSITIVE_HEADERS, **HARMLESS_HEADERS})

    headers = _headers_table(owner.get(_detail_url("m")))

    assert {name: headers[name] for name in HARMLESS_HEADERS} == HARMLESS_HEADERS


def test_detail_redacts_the_api_key_inside_any_header_value(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(
        real_api, _model("m"), headers={"x-debug-echo": f"called with {REAL_API_KEY} at 12:00"}
    )

    response = owner.get(_detail_url("m"))

    assert _headers_table(response)["x-debug-echo"] == "called with [redacted] at 12:00"
    assert REAL_API_KEY not in response.content.decode()


# --- Copy as curl -----------------------------------------------------------------------------


def test_copy_as_curl_uses_the_key_variable_and_the_encoded_upstream_url(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(real_api, _model("acme/llama-3.1-8b-support"))

    response = owner.get(_detail_url("acme/llama-3.1-8b-support"))

    curl = _code_blocks(response)[-1]
    assert curl == (
        "curl https://api.example.test/v1/models/acme%2Fllama-3.1-8b-support \\\n"
        '  -H "Authorization: Bearer $OPENAI_API_KEY"'
    )
    assert REAL_API_KEY not in response.content.decode()


def test_copy_as_curl_includes_organization_and_project_when_configured(
    owner: Client, real_api: respx.MockRouter, settings: Any
) -> None:
    settings.OPENAI_ORG_ID = "org-123"
    settings.OPENAI_PROJECT_ID = "proj_456"
    route = _serve_model(real_api, _model("gpt-4o"))

    response = owner.get(_detail_url("gpt-4o"))

    assert _code_blocks(response)[-1] == (
        "curl https://api.example.test/v1/models/gpt-4o \\\n"
        '  -H "Authorization: Bearer $OPENAI_API_KEY" \\\n'
        "  -H 'OpenAI-Organization: org-123' \\\n"
        "  -H 'OpenAI-Project: proj_456'"
    )
    sent = route.calls.last.request.headers
    assert sent["OpenAI-Organization"] == "org-123"
    assert sent["OpenAI-Project"] == "proj_456"


def test_copy_as_curl_in_sandbox_mode_points_at_this_servers_sandbox(
    owner: Client, sandbox: int
) -> None:
    response = owner.get(_detail_url("acme:100%-recall"))

    assert _code_blocks(response)[-1] == (
        "curl http://testserver/sandbox/v1/models/acme:100%25-recall \\\n"
        '  -H "Authorization: Bearer $OPENAI_API_KEY"'
    )
    assert "sk-sandbox-owner" not in response.content.decode()


def test_copy_as_curl_quotes_an_id_the_shell_would_interpret(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve_model(real_api, _model("a b;$(rm -rf)"))

    response = owner.get(_detail_url("a b;$(rm -rf)"))

    assert _code_blocks(response)[-1].splitlines()[0] == (
        "curl https://api.example.test/v1/models/a%20b%3B%24%28rm%20-rf%29 \\"
    )


# --- Ids that need encoding -------------------------------------------------------------------


def test_detail_url_of_an_id_with_a_slash_is_one_encoded_segment(db: None) -> None:
    assert (
        _detail_url("acme/llama-3.1-8b-support")
        == "/u/default/models/acme%252Fllama-3.1-8b-support/"
    )


@pytest.mark.parametrize(
    "model_id", ["acme/llama-3.1-8b-support", "acme:100%-recall", "acme/модель-ru", "gpt-4o"]
)
def test_detail_works_for_ids_with_slash_colon_percent_or_unicode(
    owner: Client, sandbox: int, model_id: str
) -> None:
    response = owner.get(_detail_url(model_id))

    assert response.status_code == 200
    assert _fields(response)["id"] == model_id
    assert f'<h1 class="mono model-title">{html.escape(model_id)}</h1>' in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("model_id", "upstream_path"),
    [
        ("acme/llama-3.1-8b-support", b"/v1/models/acme%2Fllama-3.1-8b-support"),
        ("acme:100%-recall", b"/v1/models/acme:100%25-recall"),
        ("acme/модель-ru", b"/v1/models/acme%2F%D0%BC%D0%BE%D0%B4%D0%B5%D0%BB%D1%8C-ru"),
        ("ft:gpt-4o:acme:x:abc", b"/v1/models/ft:gpt-4o:acme:x:abc"),
        ("a?b#c", b"/v1/models/a%3Fb%23c"),
    ],
)
def test_detail_sends_the_id_upstream_as_one_encoded_path_segment(
    owner: Client, real_api: respx.MockRouter, model_id: str, upstream_path: bytes
) -> None:
    route = _serve_model(real_api, _model(model_id))

    response = owner.get(_detail_url(model_id))

    assert response.status_code == 200
    assert route.call_count == 1
    assert route.calls.last.request.url.raw_path == upstream_path
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {REAL_API_KEY}"


@pytest.mark.parametrize("model_id", [".", ".."])
def test_dot_segment_ids_are_refused_without_calling_upstream(
    owner: Client, real_api: respx.MockRouter, model_id: str
) -> None:
    route = real_api.get(url__regex=r".*").respond(200, json={"object": "list", "data": []})

    response = owner.get(_detail_url(model_id))

    assert response.status_code == 400
    assert "Invalid model id" in _text(response)
    assert route.call_count == 0


def test_an_id_with_markup_is_escaped_everywhere_on_the_detail_page(
    owner: Client, real_api: respx.MockRouter
) -> None:
    route = _serve_model(real_api, _model(SCRIPT_ID, owned_by="<b>x</b>", note="<i>hi</i>"))

    response = owner.get(_detail_url(SCRIPT_ID))

    page = response.content.decode()
    assert response.status_code == 200
    assert (
        route.calls.last.request.url.raw_path
        == b"/v1/models/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
    )
    assert "<script>alert(1)" not in page
    assert "<b>x</b>" not in page
    assert "<i>hi</i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _fields(response)["id"] == SCRIPT_ID


# --- Not found, caching headers ---------------------------------------------------------------


def test_a_model_that_does_not_exist_gives_a_404_page_that_says_so(
    owner: Client, sandbox: int
) -> None:
    response = owner.get(_detail_url("no-such-model"))

    assert response.status_code == 404
    text = _text(response)
    assert "Not found upstream" in text
    assert "The model 'no-such-model' does not exist" in text
    assert "Back to models" in text
    assert "Try again" not in text


def test_detail_page_is_never_cached(owner: Client, sandbox: int) -> None:
    for url in (_detail_url("gpt-4o"), _detail_url("no-such-model")):
        for headers in ({}, HTMX):
            response = owner.get(url, headers=headers)
            assert "no-store" in response["Cache-Control"]


def test_detail_always_asks_upstream_even_when_the_list_is_cached(
    owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.get("/models").respond(200, json={"object": "list", "data": [_model("m")]})
    route = _serve_model(real_api, _model("m", context_window=1))
    owner.get("/u/default/models/")

    owner.get(_detail_url("m"))
    owner.get(_detail_url("m"))

    assert route.call_count == 2


def test_detail_requires_login(client: Client, db: None) -> None:
    response = client.get(_detail_url("gpt-4o"))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/u/default/models/gpt-4o/")


# --- The real key appears in no page ----------------------------------------------------------


@pytest.fixture
def leaky_api(real_api: respx.MockRouter) -> respx.MockRouter:
    """A real API whose every answer tries to echo the key back in a message."""
    leak = f"Your key {REAL_API_KEY} is fine"
    real_api.get("/models").respond(
        200,
        json={
            "object": "list",
            "data": [_model("acme-model"), _model("gpt-4o", owned_by="system")],
        },
    )
    real_api.get("/models/acme-model").respond(
        200, json=_model("acme-model"), headers={"x-request-id": "req_1", "x-echo": REAL_API_KEY}
    )
    real_api.get("/models/missing").respond(
        404, json={"error": {"message": f"No model. {leak}", "type": "invalid_request_error"}}
    )
    real_api.delete("/models/acme-model").respond(
        500, json={"error": {"message": f"Delete failed. {leak}", "type": "server_error"}}
    )
    return real_api


def test_the_real_api_key_appears_in_no_page(
    owner: Client, support: Client, leaky_api: respx.MockRouter, settings: Any
) -> None:
    pages = []
    for headers in ({}, HTMX):
        pages += [
            owner.get("/u/default/models/", headers=headers),
            owner.get(_detail_url("acme-model"), headers=headers),
            owner.get(_detail_url("missing"), headers=headers),
            owner.get(reverse("model-delete", args=["default", "acme-model"]), headers=headers),
            support.get(reverse("model-delete", args=["default", "acme-model"]), headers=headers),
        ]
    deleted = owner.post(
        reverse("model-delete", args=["default", "acme-model"]),
        {"confirm_id": "acme-model", "next": "/u/default/models/"},
        follow=True,
    )
    pages += [deleted, owner.get("/audit/"), owner.get("/audit/?format=csv")]
    leaky_api.get("/models").respond(
        401, json={"error": {"message": f"Bad key {REAL_API_KEY}", "type": "invalid_request_error"}}
    )
    settings.MODELS_CACHE_SECONDS = 0
    owner.get("/u/default/models/")  # stale: a background refresh is queued
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", verbosity=0)
    pages += [owner.get("/u/default/models/"), owner.get("/u/default/models/", headers=HTMX)]
    leaky_api.get("/models").mock(side_effect=httpx.ConnectError(f"refused {REAL_API_KEY}"))
    pages += [owner.get("/u/default/models/", {"refresh": "1"}, follow=True)]

    statuses = [page.status_code for page in pages]
    assert statuses == [200, 200, 404, 200, 403] * 2 + [200, 200, 200, 200, 200, 200]
    assert "was not deleted" in _text(deleted)
    assert "Delete failed. Your key [redacted] is fine" in _text(deleted)
    assert "Bad key [redacted]" in _text(pages[-3])
    for page in pages:
        body = b"".join(page.streaming_content) if page.streaming else page.content
        assert REAL_API_KEY.encode() not in body
        assert b"SECRET-do-not-show" not in body
