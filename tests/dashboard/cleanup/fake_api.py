"""A fake OpenAI-compatible models API on loopback, for deletion jobs run by real processes.

    with FakeModelsAPI(fine_tunes(40), latency=0.3) as api:
        env = {..., "OPENAI_API_KEY": "sk-fake", "OPENAI_BASE_URL": api.base_url}
        ...
        assert api.deletes_per_model() == dict.fromkeys(ids, 1)

It serves `GET /v1/models`, `GET /v1/models/{id}` and `DELETE /v1/models/{id}` from a dict of
models, each answer after `latency` seconds. A DELETE takes effect when it arrives, before the
latency: a worker killed while it waits has deleted the model without learning so (as a real
API that acted before the connection dropped). Every DELETE received is recorded per model id,
whether it found the model or not; `GET /_fake/deletes` answers those counts as JSON (for a
process that runs the API in another one). A standard-library `ThreadingHTTPServer` (daemon
threads); all state is behind one lock; `close()` stops it.

    python -m tests.dashboard.cleanup.fake_api COUNT LATENCY [ORG]

serves COUNT fine-tunes in a process of its own, prints its base URL, and stops when its
standard input closes (the benchmark runs it so, so that its work is not the dashboard's).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import unquote, urlsplit

PREFIX = "/v1/models"
STATS = "/_fake/deletes"
WAIT_LIMIT = 60.0  # the longest `wait_for_deletes` waits, whatever it is asked
HOLD_LIMIT = 30.0  # the longest a held answer waits for `release()`


def fine_tunes(count: int, *, org: str = "acme") -> list[dict[str, Any]]:
    """`count` fine-tuned models owned by an organisation (deletable), ids in a stable order."""
    return [
        {
            "id": f"ft:gpt-4o-mini-2024-07-18:{org}:bulk:J{n:04d}",
            "object": "model",
            "created": 1_700_000_000 + n,
            "owned_by": org,
        }
        for n in range(count)
    ]


class FakeModelsAPI:
    """The models endpoints of an API, on 127.0.0.1 with an ephemeral port."""

    def __init__(self, models: list[dict[str, Any]], *, latency: float = 0.0) -> None:
        self.latency = latency  # seconds before every answer (read per request: may change)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._models = {str(model["id"]): dict(model) for model in models}
        self._deletes: Counter[str] = Counter()
        self._requests: Counter[str] = Counter()
        self._hold_from: int | None = None  # the answers of DELETEs from this one on wait…
        self._released = threading.Event()  # …until this is set
        self._released.set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- Life ------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    # --- What it saw -----------------------------------------------------------------------

    def deletes_per_model(self) -> dict[str, int]:
        """How many DELETEs each model id received (ids never asked for are absent)."""
        with self._lock:
            return dict(self._deletes)

    def deletes(self) -> int:
        with self._lock:
            return self._deletes.total()

    def requests(self) -> dict[str, int]:
        """Requests received per method ("GET list", "GET one", "DELETE")."""
        with self._lock:
            return dict(self._requests)

    def remaining(self) -> list[str]:
        with self._lock:
            return sorted(self._models)

    def wait_for_deletes(self, count: int, timeout: float) -> bool:
        """Block until `count` DELETEs have arrived (True), or `timeout` seconds pass (False)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._deletes.total() >= count, timeout=min(timeout, WAIT_LIMIT)
            )

    def hold_answers_from(self, count: int) -> None:
        """From the `count`th DELETE on (counting every one received), act but do not answer
        until `release()` (or HOLD_LIMIT): a worker killed meanwhile never learns it deleted."""
        with self._lock:
            self._hold_from = count
            self._released.clear()

    def release(self) -> None:
        with self._lock:
            self._hold_from = None
            self._released.set()

    # --- Serving ---------------------------------------------------------------------------

    def _answer(self, method: str, path: str) -> tuple[int, dict[str, Any], bool]:
        """The status and body for one request, and whether its answer is held; a DELETE acts
        here, before any latency."""
        status, body = self._act(method, path)
        with self._lock:
            held = (
                method == "DELETE"
                and self._hold_from is not None
                and self._deletes.total() >= self._hold_from
            )
        return status, body, held

    def _act(self, method: str, path: str) -> tuple[int, dict[str, Any]]:
        if path == STATS:
            return 200, self.deletes_per_model()
        if path in (PREFIX, PREFIX + "/"):
            if method != "GET":
                return 405, _error("Method not allowed.", "invalid_request_error")
            with self._lock:
                self._requests["GET list"] += 1
                data = [dict(model) for model in self._models.values()]
            return 200, {"object": "list", "data": data}
        if not path.startswith(PREFIX + "/"):
            return 404, _error("Unknown path.", "invalid_request_error")
        model_id = unquote(path[len(PREFIX) + 1 :])
        with self._changed:
            if method == "DELETE":
                self._requests["DELETE"] += 1
                self._deletes[model_id] += 1
                found = self._models.pop(model_id, None)
                self._changed.notify_all()
                if found is not None:
                    return 200, {"id": model_id, "object": "model", "deleted": True}
            elif method == "GET":
                self._requests["GET one"] += 1
                found = self._models.get(model_id)
                if found is not None:
                    return 200, dict(found)
            else:
                return 405, _error("Method not allowed.", "invalid_request_error")
        return 404, _error(f"The model '{model_id}' does not exist", "invalid_request_error")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out as two writes: without this, Nagle's algorithm holds the
            # body back until the client's delayed ACK (~40 ms on Linux) on every answer.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(min(length, 1 << 20))
                path = urlsplit(self.path).path
                status, body, held = api._answer(self.command, path)
                if held:
                    api._released.wait(HOLD_LIMIT)
                if api.latency > 0 and path != STATS:
                    time.sleep(api.latency)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("x-request-id", f"req_{uuid.uuid4().hex[:16]}")
                self.end_headers()
                # The caller may be gone (a killed worker): then there is nobody to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            do_GET = do_DELETE = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the tests assert on what was recorded

        return Handler


def _error(message: str, type_: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": None, "code": None}}


def main(argv: list[str]) -> None:
    """Serve `COUNT` fine-tunes with `LATENCY` seconds per answer until stdin closes."""
    count, latency = int(argv[0]), float(argv[1])
    org = argv[2] if len(argv) > 2 else "acme"
    with FakeModelsAPI(fine_tunes(count, org=org), latency=latency) as api:
        print(api.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1:])
