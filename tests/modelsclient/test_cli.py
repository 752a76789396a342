"""The command line: `python -m modelsclient models list|retrieve|delete [--json]`."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import respx

from modelsclient.__main__ import main

BASE_URL = "https://api.example.test/v1"
KEY = "sk-cli-secret-0123456789"

MODELS = [
    {
        "id": "gpt-4o-mini",
        "object": "model",
        "created": 1721172741,
        "owned_by": "system",
    },
    {
        "id": "ft:gpt-4o-mini:acme:support-bot:abc123",
        "object": "model",
        "created": 1735689600,
        "owned_by": "acme-org",
        "shutdown_date": "2026-01-15",
    },
]


@pytest.fixture(autouse=True)
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def test_list_prints_an_aligned_table_with_utc_dates(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get("/models").respond(json={"object": "list", "data": MODELS})

    assert main(["models", "list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "ID                                      OWNED BY  CREATED           SHUTDOWN",
        "gpt-4o-mini                             system    2024-07-16 23:32  -",
        "ft:gpt-4o-mini:acme:support-bot:abc123  acme-org  2025-01-01 00:00  2026-01-15",
    ]


def test_list_columns_start_at_the_same_offset_on_every_line(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get("/models").respond(json={"object": "list", "data": MODELS})

    main(["models", "list"])

    header, *rows = capsys.readouterr().out.splitlines()
    for title in ("OWNED BY", "CREATED", "SHUTDOWN"):
        offset = header.index(title)
        assert all(row[offset - 2 : offset] == "  " and row[offset] != " " for row in rows)


def test_list_with_no_models_says_so(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get("/models").respond(json={"object": "list", "data": []})

    assert main(["models", "list"]) == 0

    assert capsys.readouterr().out == "no models\n"


def test_list_json_is_an_array_equal_to_the_api_data(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get("/models").respond(json={"object": "list", "data": MODELS})

    assert main(["models", "list", "--json"]) == 0

    assert json.loads(capsys.readouterr().out) == MODELS


def test_list_follows_has_more_pages(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    route = api.get("/models")
    route.side_effect = [
        httpx.Response(200, json={"object": "list", "data": MODELS[:1], "has_more": True}),
        httpx.Response(200, json={"object": "list", "data": MODELS[1:], "has_more": False}),
    ]

    assert main(["models", "list", "--json"]) == 0

    assert json.loads(capsys.readouterr().out) == MODELS
    assert route.calls[1].request.url.params["after"] == "gpt-4o-mini"


def test_retrieve_prints_key_value_lines_including_extra_fields(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {**MODELS[1], "permission": [{"allow_view": True}], "region": "eu"}
    api.get("/models/ft:gpt-4o-mini:acme:support-bot:abc123").respond(json=body)

    assert main(["models", "retrieve", "ft:gpt-4o-mini:acme:support-bot:abc123"]) == 0

    assert capsys.readouterr().out.splitlines() == [
        "id             ft:gpt-4o-mini:acme:support-bot:abc123",
        "created        1735689600 (2025-01-01 00:00 UTC)",
        "object         model",
        "owned_by       acme-org",
        "shutdown_date  2026-01-15",
        'permission     [{"allow_view": true}]',
        "region         eu",
    ]


def test_retrieve_json_equals_the_api_object(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {**MODELS[0], "region": "eu"}
    api.get("/models/gpt-4o-mini").respond(json=body)

    assert main(["models", "retrieve", "gpt-4o-mini", "--json"]) == 0

    assert json.loads(capsys.readouterr().out) == body


def test_delete_sends_delete_to_the_encoded_path_and_prints_a_sentence(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    route = api.delete("/models/ft:acme%2Fteam:x").respond(
        json={"id": "ft:acme/team:x", "object": "model", "deleted": True}
    )

    assert main(["models", "delete", "ft:acme/team:x"]) == 0

    assert route.call_count == 1
    assert route.calls[0].request.url.raw_path == b"/v1/models/ft:acme%2Fteam:x"
    assert capsys.readouterr().out == "deleted ft:acme/team:x\n"


def test_delete_that_the_server_refuses_says_not_deleted(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.delete("/models/ft:gpt-4o-mini:acme:x:1").respond(
        json={"id": "ft:gpt-4o-mini:acme:x:1", "object": "model", "deleted": False}
    )

    assert main(["models", "delete", "ft:gpt-4o-mini:acme:x:1"]) == 0

    assert capsys.readouterr().out == "not deleted ft:gpt-4o-mini:acme:x:1\n"


def test_delete_json_equals_the_api_object(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    body = {"id": "ft:gpt-4o-mini:acme:x:1", "object": "model", "deleted": True}
    api.delete("/models/ft:gpt-4o-mini:acme:x:1").respond(json=body)

    assert main(["models", "delete", "ft:gpt-4o-mini:acme:x:1", "--json"]) == 0

    assert json.loads(capsys.readouterr().out) == body


def test_a_404_exits_1_with_one_line_on_stderr(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    error = {"message": "No such model", "type": "invalid_request_error", "code": None}
    api.get("/models/nope").respond(404, json={"error": error})

    assert main(["models", "retrieve", "nope"]) == 1

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: Error code: 404 - No such model\n"


def test_a_connection_error_exits_1_with_one_line_on_stderr(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get("/models").mock(side_effect=httpx.ConnectError("connection refused"))

    assert main(["models", "list"]) == 1

    err = capsys.readouterr().err
    assert err == "error: Connection error: connection refused\n"


def test_an_error_message_never_shows_the_api_key(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str]
) -> None:
    api.get("/models").respond(401, json={"error": {"message": f"Incorrect API key {KEY}"}})

    assert main(["models", "list"]) == 1

    captured = capsys.readouterr()
    assert KEY not in captured.err + captured.out
    assert captured.err == "error: Error code: 401 - Incorrect API key [redacted]\n"


def test_a_missing_key_exits_1_naming_openai_api_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY")

    assert main(["models", "list"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "OPENAI_API_KEY" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("model", ["", ".."])
def test_a_bad_id_exits_1_without_calling_the_api(
    api: respx.MockRouter, capsys: pytest.CaptureFixture[str], model: str
) -> None:
    assert main(["models", "retrieve", model]) == 1

    assert capsys.readouterr().err.startswith("error: ")
    assert not api.calls


@pytest.mark.parametrize(
    "argv", [[], ["models"], ["models", "rename", "x"], ["models", "retrieve"]]
)
def test_a_usage_error_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2

    assert "usage:" in capsys.readouterr().err


def test_python_dash_m_modelsclient_help_exits_0() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelsclient", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0
    assert "usage: modelsclient" in result.stdout
    assert "OPENAI_API_KEY" in result.stdout


@pytest.fixture
def loopback_api() -> Iterator[str]:
    """A real HTTP server on loopback answering GET /v1/models with 20,000 models."""
    import http.server
    import threading

    body = json.dumps(
        {"object": "list", "data": [{**MODELS[1], "id": f"ft:m:acme:s:{i}"} for i in range(20000)]}
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_listing_piped_into_head_ends_quietly_without_a_traceback(loopback_api: str) -> None:
    reader = subprocess.Popen(
        ["head", "-n", "2"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert reader.stdin is not None
    cli = subprocess.run(
        [sys.executable, "-m", "modelsclient", "models", "list"],
        stdout=reader.stdin,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        env={"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": loopback_api, "PATH": "/usr/bin:/bin"},
    )
    reader.stdin.close()
    assert reader.stdout is not None
    shown = reader.stdout.read()
    reader.wait(timeout=10)

    assert shown.splitlines()[0].startswith("ID ")
    assert len(shown.splitlines()) == 2
    assert cli.stderr == ""
    assert cli.returncode == 1
