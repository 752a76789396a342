"""A fault-injecting HTTP proxy on loopback, and the "other origin" a redirect points to.

    test client -> dashboard view -> modelsclient -> FaultProxy -> upstream (live server sandbox)
                                                          \\-> 307 -> Elsewhere (another origin)

Both are standard-library threaded HTTP servers on 127.0.0.1 with ephemeral ports. A fault is
injected per (method, path), for every matching request or for the first `times` of them:

    with FaultProxy(upstream_url) as proxy:
        proxy.inject("DELETE", "/sandbox/v1/models/acme%2Fx", Fault.reset())
        ...
        assert proxy.calls[("DELETE", "/sandbox/v1/models/acme%2Fx")] == 3

Paths are compared raw (percent-encoding kept, query string dropped), as they arrive.
Everything is bounded: upstream calls and hangs have timeouts, handler threads are daemons,
and `close()` releases hangs, closes open connections and stops both servers.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import unquote, urlsplit

Action = Literal[
    "answer", "reset", "hang", "truncate", "redirect", "oversize", "latency", "forward"
]
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)
UPSTREAM_TIMEOUT = 10.0  # seconds the proxy waits for the real upstream
HANG_LIMIT = 30.0  # a hung request is released at close(), or after this at the latest
IDLE_TIMEOUT = 10.0  # an idle keep-alive connection is closed after this
OVERSIZE_BYTES = 20 * 1024 * 1024


def error_body(status: int, message: str, type_: str = "api_error") -> bytes:
    """An OpenAI-style error envelope."""
    error = {"message": message, "type": type_, "param": None, "code": None}
    return json.dumps({"error": error}).encode()


@dataclass(frozen=True)
class Fault:
    """What the proxy does with a matching request, instead of forwarding it plainly."""

    action: Action
    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    delay: float = 0.0

    @classmethod
    def status_code(cls, status: int, *, retry_after: int | None = None) -> Fault:
        """Answer `status` with an OpenAI-style error body; the request is not forwarded."""
        messages = {
            401: "Incorrect API key provided: sk-sa*****wner.",
            403: "You have insufficient permissions for this operation.",
            404: "The model does not exist",
            429: "Rate limit reached for requests.",
        }
        message = messages.get(status, "The server had an error while processing your request.")
        headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
        return cls("answer", status, headers, error_body(status, message))

    @classmethod
    def not_json(cls) -> Fault:
        """A 200 that is an HTML page (a captive portal, a misconfigured gateway)."""
        page = b"<html><body><h1>Welcome</h1><p>Please sign in to the network.</p></body></html>"
        return cls("answer", 200, (("Content-Type", "text/html; charset=utf-8"),), page)

    @classmethod
    def reset(cls) -> Fault:
        """Forward the request (it takes effect upstream), then reset without answering."""
        return cls("reset")

    @classmethod
    def hang(cls) -> Fault:
        """Read the request and never answer (until the proxy closes)."""
        return cls("hang")

    @classmethod
    def truncate(cls) -> Fault:
        """Forward, then send the full Content-Length but only half the body, and close."""
        return cls("truncate")

    @classmethod
    def redirect(cls) -> Fault:
        """307 to the same path on another origin (`Elsewhere`)."""
        return cls("redirect", 307)

    @classmethod
    def oversize(cls) -> Fault:
        """Forward, then answer the upstream's JSON padded to 20 MB."""
        return cls("oversize")

    @classmethod
    def latency(cls, seconds: float) -> Fault:
        """Wait, then forward."""
        return cls("latency", delay=seconds)


@dataclass
class _Rule:
    fault: Fault
    remaining: int | None  # None: every matching request


@dataclass
class _Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()
        self.open_sockets: set[socket.socket] = set()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def count(self, method: str, path: str) -> None:
        with self.lock:
            self.calls[(method, path)] += 1

    def start(self) -> None:
        threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=type(self).__name__,
            daemon=True,
        ).start()

    def stop(self) -> None:
        self.stopping.set()  # releases hung handlers
        self.shutdown()  # waits for serve_forever to return (it polls every 0.02 s)
        with self.lock:
            sockets = list(self.open_sockets)
        for sock in sockets:  # wake handlers blocked reading an idle keep-alive connection
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows what the assertions say

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _path(self) -> str:
        return urlsplit(self.path).path

    def _send(self, answer: _Answer, *, body: bytes | None = None) -> None:
        self.send_response(answer.status, answer.reason or None)
        for name, value in answer.headers:
            if name.lower() not in HOP_BY_HOP and name.lower() not in ("content-length", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body if body is None else body)
        self.wfile.flush()


class _ProxyHandler(_Handler):
    server: _ProxyServer

    def do_GET(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self._read_body()
        path = self._path()
        self.server.count(self.command, path)
        fault = self.server.take_fault(self.command, path)
        action = fault.action if fault else "forward"
        if action == "answer":
            assert fault is not None
            headers = list(fault.headers)
            if not any(name.lower() == "content-type" for name, _ in headers):
                headers.append(("Content-Type", "application/json"))
            self._send(_Answer(fault.status, "", headers, fault.body))
        elif action == "hang":
            self.server.stopping.wait(HANG_LIMIT)
            self.close_connection = True
        elif action == "redirect":
            location = self.server.elsewhere_url + self.path
            self._send(_Answer(307, "", [("Location", location)], b""))
        elif action == "reset":
            self._forward(body)
            self._reset()
        elif action == "truncate":
            answer = self._forward(body)
            self._send(answer, body=answer.body[: len(answer.body) // 2])
            self.close_connection = True
        elif action == "oversize":
            answer = self._forward(body)
            self._send(_oversized(answer))
        else:
            if fault is not None and fault.delay:
                self.server.stopping.wait(fault.delay)
            self._send(self._forward(body))

    def _forward(self, body: bytes) -> _Answer:
        upstream = urlsplit(self.server.upstream_url)
        connection = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=UPSTREAM_TIMEOUT
        )
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Host"] = upstream.netloc
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            return _Answer(response.status, response.reason, response.getheaders(), response.read())
        finally:
            connection.close()

    def _reset(self) -> None:
        """Close with RST (SO_LINGER 0): the client sees a connection reset, no answer."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


def _oversized(answer: _Answer) -> _Answer:
    try:
        document = json.loads(answer.body)
    except ValueError:
        document = {"body": answer.body.decode("utf-8", "replace")}
    target = document
    if isinstance(document.get("data"), list) and document["data"]:
        target = document["data"][0]  # a list with one enormous model
    target["description"] = "x" * OVERSIZE_BYTES
    headers = [(k, v) for k, v in answer.headers if k.lower() != "content-type"]
    headers.append(("Content-Type", "application/json"))
    return _Answer(answer.status, answer.reason, headers, json.dumps(document).encode())


class _ProxyServer(_Server):
    def __init__(self, upstream_url: str, elsewhere_url: str) -> None:
        super().__init__(_ProxyHandler)
        self.upstream_url = upstream_url.rstrip("/")
        self.elsewhere_url = elsewhere_url.rstrip("/")
        self.rules: dict[tuple[str, str | None], _Rule] = {}

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            rule = self.rules.get((method, path)) or self.rules.get((method, None))
            if rule is None or rule.remaining == 0:
                return None
            if rule.remaining is not None:
                rule.remaining -= 1
            return rule.fault


class _ElsewhereHandler(_Handler):
    """Another origin that claims whatever a redirected client hopes to hear."""

    server: _Server

    def do_GET(self) -> None:
        self._answer()

    def do_DELETE(self) -> None:
        self._answer()

    def _answer(self) -> None:
        self._read_body()
        path = self._path()
        self.server.count(self.command, path)
        if path.endswith("/models"):
            document: dict[str, Any] = {"object": "list", "data": [_elsewhere_model("elsewhere")]}
        else:
            model_id = unquote(path.rpartition("/models/")[2])
            if self.command == "DELETE":
                document = {"id": model_id, "object": "model", "deleted": True}
            else:
                document = _elsewhere_model(model_id)
        headers = [("Content-Type", "application/json"), ("x-request-id", "req_elsewhere")]
        self._send(_Answer(200, "OK", headers, json.dumps(document).encode()))


def _elsewhere_model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1, "owned_by": "elsewhere"}


@dataclass
class FaultProxy:
    """The proxy and its "other origin", started on construction, stopped by `close()`."""

    upstream_url: str
    _proxy: _ProxyServer = field(init=False)
    _elsewhere: _Server = field(init=False)

    def __post_init__(self) -> None:
        self._elsewhere = _Server(_ElsewhereHandler)
        self._proxy = _ProxyServer(self.upstream_url, self._elsewhere.url)
        self._elsewhere.start()
        self._proxy.start()

    @property
    def url(self) -> str:
        return self._proxy.url

    @property
    def elsewhere_url(self) -> str:
        return self._elsewhere.url

    @property
    def calls(self) -> Counter[tuple[str, str]]:
        """Requests the proxy received, per (method, raw path)."""
        with self._proxy.lock:
            return Counter(self._proxy.calls)

    @property
    def elsewhere_calls(self) -> Counter[tuple[str, str]]:
        """Requests the other origin received (a followed redirect)."""
        with self._elsewhere.lock:
            return Counter(self._elsewhere.calls)

    def inject(
        self, method: str, path: str | None, fault: Fault, *, times: int | None = None
    ) -> None:
        """`fault` for requests with this method and raw path (None: any path)."""
        with self._proxy.lock:
            self._proxy.rules[(method, path)] = _Rule(fault, times)

    def clear(self) -> None:
        """Forget faults and counts."""
        with self._proxy.lock:
            self._proxy.rules.clear()
            self._proxy.calls.clear()
        with self._elsewhere.lock:
            self._elsewhere.calls.clear()

    def close(self) -> None:
        self._proxy.stop()
        self._elsewhere.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
