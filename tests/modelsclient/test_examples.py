"""Every Python example of the user's models-api.md runs with only the import changed.

The examples are read from the document at test time, `from openai import` becomes
`from modelsclient import`, and each runs in a fresh namespace against a respx-mocked server
(respx patches httpx's transports, so the example's own `OpenAI()` reaches the mock).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import respx

BASE_URL = "https://models.example.test/v1"
API_KEY = "sk-example"

MODEL = {"id": "my_model", "created": 1686935002, "object": "model", "owned_by": "acme"}
MODEL_JSON = json.dumps(MODEL).encode()
# The retrieve body goes out in three pieces, so the streaming examples print three chunks.
MODEL_CHUNKS = [MODEL_JSON[:15], MODEL_JSON[15:50], MODEL_JSON[50:]]
LIST = {
    "object": "list",
    "data": [{**MODEL, "id": "gpt-4o", "owned_by": "system"}, MODEL],
}
DELETED = {"id": "my_model", "deleted": True, "object": "model"}
RESPONSE_HEADERS = {"content-type": "application/json", "x-request-id": "req_example"}

MODEL_REPR = (
    "Model(id='my_model', created=1686935002, object='model', owned_by='acme', shutdown_date=None)"
)
LIST_REPRS = [
    "Model(id='gpt-4o', created=1686935002, object='model', owned_by='system', shutdown_date=None)",
    MODEL_REPR,
]
DELETED_REPR = "ModelDeleted(id='my_model', deleted=True, object='model')"
HEADERS_REPR = "Headers({'content-type': 'application/json', 'x-request-id': 'req_example'})"


def repo_root() -> Path:
    for directory in Path(__file__).resolve().parents:
        if (directory / "pyproject.toml").is_file():
            return directory
    raise AssertionError(f"no pyproject.toml above {__file__}")


API_DOC = repo_root() / "docs" / "spec" / "models-api.md"


def python_examples(document: Path = API_DOC) -> list[str]:
    """The ```python blocks of models-api.md, in document order."""
    if not document.is_file():
        pytest.fail(
            f"The API document models-api.md is missing: expected it at {document} (the copy "
            "kept in docs/spec/); its examples cannot be checked.",
            pytrace=False,
        )
    text = document.read_text(encoding="utf-8")
    return re.findall(r"^```python[ \t]*\n(.*?)^```[ \t]*$", text, flags=re.DOTALL | re.MULTILINE)


def with_modelsclient_import(code: str) -> str:
    """The example with only its import changed."""
    changed, count = re.subn(
        r"^from openai import ", "from modelsclient import ", code, flags=re.MULTILINE
    )
    assert count == 1, f"expected exactly one `from openai import` line in:\n{code}"
    assert "openai" not in changed.replace("OpenAI", ""), f"another openai import in:\n{code}"
    return changed


class ChunkedBody(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body sent in separate chunks, for the sync and the async client alike."""

    def __init__(self, chunks: list[bytes]) -> None:
        self._chunks = chunks

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk


@dataclass(frozen=True)
class Example:
    name: str
    is_async: bool
    kind: str  # "plain", "raw" or "streaming"
    call: str  # the API call the example must contain
    method: str
    path: str
    output: list[str]


RETRIEVE = ("GET", "/v1/models/my_model")
LIST_ALL = ("GET", "/v1/models")
DELETE = ("DELETE", "/v1/models/my_model")
RAW_OUTPUT = [HEADERS_REPR, MODEL_JSON.decode()]
STREAM_OUTPUT = [repr(chunk) for chunk in MODEL_CHUNKS]

EXAMPLES = [
    Example("retrieve", False, "plain", "models.retrieve(model_id)", *RETRIEVE, [MODEL_REPR]),
    Example("list", False, "plain", "models.list()", *LIST_ALL, LIST_REPRS),
    Example("delete", False, "plain", "models.delete(model_id)", *DELETE, [DELETED_REPR]),
    Example("async-retrieve", True, "plain", "await models.retrieve(", *RETRIEVE, [MODEL_REPR]),
    Example("async-list", True, "plain", "async for model in models.list()", *LIST_ALL, LIST_REPRS),
    Example("async-delete", True, "plain", "await models.delete(", *DELETE, [DELETED_REPR]),
    Example("raw", False, "raw", "models.retrieve(model_id)", *RETRIEVE, RAW_OUTPUT),
    Example("async-raw", True, "raw", "await models.retrieve(", *RETRIEVE, RAW_OUTPUT),
    Example("streaming", False, "streaming", "models.retrieve(model_id)", *RETRIEVE, STREAM_OUTPUT),
    Example(
        "async-streaming", True, "streaming", "await models.retrieve(", *RETRIEVE, STREAM_OUTPUT
    ),
]


def test_the_api_document_has_exactly_ten_python_examples() -> None:
    assert len(python_examples()) == len(EXAMPLES) == 10


@pytest.mark.parametrize(
    ("index", "example"), list(enumerate(EXAMPLES)), ids=[e.name for e in EXAMPLES]
)
def test_the_documented_example_runs_with_only_the_import_changed(
    index: int,
    example: Example,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    examples = python_examples()
    assert len(examples) == 10, f"models-api.md has {len(examples)} python examples, not 10"
    code = examples[index]
    assert ("AsyncOpenAI" in code) == example.is_async, code
    assert ("with_raw_response" in code) == (example.kind == "raw"), code
    assert ("with_streaming_response" in code) == (example.kind == "streaming"), code
    assert example.call in code, code

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", BASE_URL)
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as server:
        server.get("/models/my_model").mock(
            side_effect=lambda request: httpx.Response(
                200, headers=RESPONSE_HEADERS, stream=ChunkedBody(MODEL_CHUNKS)
            )
        )
        server.get("/models").respond(200, json=LIST)
        server.delete("/models/my_model").respond(200, json=DELETED)

        source = compile(with_modelsclient_import(code), f"models-api.md:{example.name}", "exec")
        exec(source, {"__name__": f"models_api_example_{index}"})
        requests = [call.request for call in server.calls]  # respx forgets them on exit

    assert capsys.readouterr().out.splitlines() == example.output
    assert [(request.method, request.url.path) for request in requests] == [
        (example.method, example.path)
    ]
    assert requests[0].url.host == "models.example.test"
    assert requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_a_missing_api_document_fails_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(pytest.fail.Exception, match="models-api.md is missing: expected it at"):
        python_examples(tmp_path / "models-api.md")
