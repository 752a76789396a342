"""Reaching the sandbox in-process: a WSGI app for `httpx.WSGITransport`, and a transport
that honours the request's timeout as a network would."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings
from django.core.handlers.wsgi import WSGIRequest
from django.urls import Resolver404, resolve

from .views import _error


class InProcessTransport(httpx.WSGITransport):
    """The in-process sandbox with a network transport's timeout: a sandbox slower than the
    request's read timeout (SANDBOX_LATENCY > UPSTREAM_TIMEOUT) waits that timeout, then raises
    `httpx.ReadTimeout`, as a real API that does not answer in time would."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        read_timeout = (request.extensions.get("timeout") or {}).get("read")
        latency: float = settings.SANDBOX_LATENCY
        if read_timeout is not None and latency > read_timeout:
            time.sleep(read_timeout)
            raise httpx.ReadTimeout(
                f"sandbox: no response within {read_timeout:g} s", request=request
            )
        return super().handle_request(request)


class InProcessSandbox:
    """A WSGI app for `httpx.WSGITransport` that calls the sandbox views directly.

    Django's full handler would fire request_started/request_finished, which close the
    thread's database connection — the connection the outer dashboard request is using.
    Here there are no signals and no middleware: just routing to the sandbox views.
    """

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        failure = settings.SANDBOX_FAILURE
        if failure == "timeout":
            raise httpx.ReadTimeout("sandbox: simulated read timeout")
        if failure == "unavailable":
            raise httpx.ConnectError("sandbox: simulated connection refused")
        # httpx passes PATH_INFO as decoded text; PEP 3333 (and Django) expect the UTF-8
        # bytes as latin-1 text, else a non-ASCII id ("acme/модель-ru") cannot be decoded.
        path_info = environ.get("PATH_INFO", "/").encode("utf-8").decode("iso-8859-1")
        request = WSGIRequest({**environ, "PATH_INFO": path_info})
        try:
            match = resolve(request.path_info)
            if match.namespace != "sandbox":
                raise Resolver404
            response = match.func(request, *match.args, **match.kwargs)
        except Resolver404:
            response = _error(
                404, f"Invalid URL ({request.method} {request.path})", "invalid_request_error"
            )
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]
