"""What the dashboard accepts from an upstream answer: the transport under every upstream client.

`GuardedTransport` wraps the real transport (the network, or the in-process sandbox) and
trusts an answer only as far as it deserves:

- Redirects are followed only for GET and only on the upstream's own origin (scheme, host and
  port). Any other redirect raises `RedirectRefused` before a second request is sent: a 307 to
  another host must never turn into "Deleted".
- A body may be at most `UPSTREAM_MAX_RESPONSE_BYTES` for a list of models and
  `UPSTREAM_MAX_MODEL_BYTES` for anything else (one model, a delete's answer, an error).
  Content-Length is checked before reading; the bytes are counted as they arrive (after
  gzip/deflate decoding, so a small compressed body cannot expand past the limit). Over the
  limit: `ResponseTooLarge`, and the rest of the body is never read.
- One attempt's body must arrive within the attempt's read timeout in total, not per chunk: a
  server that drips a byte a second cannot hold a page.

Both errors are `modelsclient.APIError`s that are not transport errors, so the client neither
retries nor rewraps them; callers catch them with every other API error.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator

import httpx

import modelsclient

__all__ = ["GuardedTransport", "RedirectRefused", "ResponseTooLarge"]

_CHUNK = 64 * 1024


class RedirectRefused(modelsclient.APIStatusError):
    """The API answered with a redirect the dashboard does not follow (another origin, or not
    a GET). Nothing was sent to the redirect's target."""

    def __init__(
        self, response: httpx.Response, *, location: httpx.URL, cross_origin: bool
    ) -> None:
        self.location = location
        self.cross_origin = cross_origin
        super().__init__(
            f"Redirect {response.status_code} to {location} not followed",
            response=response,
            body=None,
        )


class ResponseTooLarge(modelsclient.APIError):
    """The API's answer is larger than the dashboard reads; the rest of it was not read.

    `status_code` is the answer's status: a 200 to a retrieve still says the model exists.
    """

    def __init__(
        self, request: httpx.Request, *, response: httpx.Response, limit: int, for_list: bool
    ) -> None:
        self.limit = limit
        self.for_list = for_list
        self.status_code = response.status_code
        self.request_id: str | None = response.headers.get("x-request-id")
        super().__init__(f"Response larger than {limit} bytes", request, body=None)


class GuardedTransport(httpx.BaseTransport):
    """The dashboard's transport: redirects, size and total read time checked (see module)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        *,
        base_url: httpx.URL,
        max_list_bytes: int,
        max_model_bytes: int,
    ) -> None:
        self._inner = inner
        self._origin = _origin(base_url)
        base_path = (
            base_url.raw_path if base_url.raw_path.endswith(b"/") else base_url.raw_path + b"/"
        )
        self._list_path = base_path + b"models"
        self._max_list_bytes = max_list_bytes
        self._max_model_bytes = max_model_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.monotonic()
        request.headers["Accept-Encoding"] = "gzip, deflate"  # only what is decoded below
        response = self._inner.handle_request(request)
        response.request = request
        try:
            if response.has_redirect_location:
                self._check_redirect(request, response)
            return self._limited(request, response, started)
        except BaseException:
            response.close()
            raise

    def close(self) -> None:
        self._inner.close()

    def _check_redirect(self, request: httpx.Request, response: httpx.Response) -> None:
        location = request.url.join(response.headers["location"])
        cross_origin = _origin(location) != self._origin
        if cross_origin or request.method != "GET":
            raise RedirectRefused(response, location=location, cross_origin=cross_origin)

    def _limited(
        self, request: httpx.Request, response: httpx.Response, started: float
    ) -> httpx.Response:
        for_list = request.url.raw_path.split(b"?")[0] == self._list_path
        limit = self._max_list_bytes if for_list else self._max_model_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(request, response=response, limit=limit, for_list=for_list)
        headers = httpx.Headers(response.headers)
        decoder = _decoder(headers.get("content-encoding", ""))
        if decoder is not None:  # decoded here, so the limit counts what will be kept
            del headers["content-encoding"]
            headers.pop("content-length", None)
        read_timeout = request.extensions.get("timeout", {}).get("read")
        deadline = None if read_timeout is None else started + read_timeout
        stream = _LimitedStream(
            response, decoder, limit=limit, deadline=deadline, for_list=for_list
        )
        return httpx.Response(
            response.status_code,
            headers=headers,
            stream=stream,
            extensions=response.extensions,
            request=request,
        )


class _LimitedStream(httpx.SyncByteStream):
    def __init__(
        self,
        response: httpx.Response,
        decoder: zlib._Decompress | None,
        *,
        limit: int,
        deadline: float | None,
        for_list: bool,
    ) -> None:
        self._response = response
        self._decoder = decoder
        self._limit = limit
        self._deadline = deadline
        self._for_list = for_list

    def __iter__(self) -> Iterator[bytes]:
        received = 0
        stream = self._response.stream
        assert isinstance(stream, httpx.SyncByteStream)  # a sync client's transport
        for raw in stream:
            chunks = [raw] if self._decoder is None else self._decoded(raw)
            for chunk in chunks:
                received += len(chunk)
                if received > self._limit:
                    raise ResponseTooLarge(
                        self._response.request,
                        response=self._response,
                        limit=self._limit,
                        for_list=self._for_list,
                    )
                yield chunk
            if self._deadline is not None and time.monotonic() > self._deadline:
                raise httpx.ReadTimeout("The body did not arrive in time.")
        if self._decoder is not None:
            tail = self._decoder.flush()
            if received + len(tail) > self._limit:
                raise ResponseTooLarge(
                    self._response.request,
                    response=self._response,
                    limit=self._limit,
                    for_list=self._for_list,
                )
            if tail:
                yield tail

    def _decoded(self, raw: bytes) -> Iterator[bytes]:
        """Decode in bounded pieces: never more than the limit (plus one piece) in memory."""
        assert self._decoder is not None
        data = raw
        while True:
            try:
                piece = self._decoder.decompress(data, _CHUNK)
            except zlib.error as exc:
                raise httpx.DecodingError(f"Undecodable {exc}") from exc
            if piece:
                yield piece
            data = self._decoder.unconsumed_tail
            if not data:
                return

    def close(self) -> None:
        self._response.close()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    default_port = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default_port


def _decoder(encoding: str) -> zlib._Decompress | None:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj()
    return None  # identity; anything else is passed on undecoded and counted as it arrives
