"""A real, scripted HTTP server on loopback for tests where timing matters: it answers, rate
limits, hangs or drips a body byte by byte, as a test tells it to. Every wait is bounded, so a
forgotten hang ends by itself."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_HANG_SECONDS = 30.0


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return b"" if self.body is None else json.dumps(self.body).encode()


@dataclass(frozen=True)
class Hang:
    """Read the request, then never answer (until the server stops)."""


@dataclass(frozen=True)
class Drip:
    """Send the status and headers at once, then the body one byte every `interval` seconds."""

    body: bytes
    interval: float


Action = Reply | Hang | Drip


class ScriptedAPI:
    """`api.script("GET", "/v1/models", Reply(...), Hang())`: answers in order, the last repeats."""

    def __init__(self) -> None:
        self._scripts: dict[tuple[str, str], list[Action]] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        self.stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, method: str, path: str, *actions: Action) -> None:
        with self._lock:
            self._scripts[(method, path)] = list(actions)

    def calls(self, method: str, path: str) -> int:
        with self._lock:
            return self.requests.count((method, path))

    def next_action(self, method: str, path: str) -> Action:
        with self._lock:
            self.requests.append((method, path))
            actions = self._scripts.get((method, path)) or [Reply(404, {"error": {}})]
            return actions.pop(0) if len(actions) > 1 else actions[0]

    @contextmanager
    def running(self) -> Iterator[ScriptedAPI]:
        thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=5)


def _handler_for(api: ScriptedAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self._answer()

        def do_DELETE(self) -> None:  # noqa: N802
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            path = self.path.split("?")[0]
            action = api.next_action(self.command, path)
            if isinstance(action, Hang):
                api.stopping.wait(MAX_HANG_SECONDS)
                self.close_connection = True
                return
            if isinstance(action, Drip):
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(action.body)))
                self.end_headers()
                for byte in action.body:
                    if api.stopping.wait(action.interval):
                        return
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                return
            body = action.encoded()
            self.send_response(action.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-request-id", f"req_loopback_{len(api.requests)}")
            for name, value in action.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


def hung_listener() -> Iterator[str]:
    """A loopback socket that accepts connections (the kernel's backlog) and never answers."""
    import socket

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"


def elapsed_since(start: float) -> float:
    return time.monotonic() - start
