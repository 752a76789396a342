"""Configuration and request building shared by `Client` and `AsyncClient` (no I/O here)."""

from __future__ import annotations

import datetime
import os
import time
from typing import Any, Self

import httpx

from ._exceptions import APIConnectionError, APITimeoutError, ModelsClientError
from ._types import Headers, NotGiven, Omit, Query, RequestOptions, TimeoutArg
from ._version import __title__, __version__

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT", "BaseClient", "set_elapsed"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_TIMEOUT = httpx.Timeout(600.0, connect=5.0)
DEFAULT_MAX_RETRIES = 2
_HTTPX_DEFAULT_TIMEOUT = httpx.Timeout(5.0)
LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


def _env(name: str) -> str | None:
    return os.environ.get(name) or None  # an empty variable counts as unset


def set_elapsed(response: httpx.Response, start: float) -> None:
    # httpx sets `elapsed` when it closes the stream; a body it had pre-loaded (mock
    # transports, in-process apps) was "closed" before that hook existed.
    try:
        response.elapsed  # noqa: B018
    except RuntimeError:
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)


def _timeout(value: TimeoutArg) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        return value
    return httpx.Timeout(None if isinstance(value, NotGiven) else value)


class BaseClient[HttpT: (httpx.Client, httpx.AsyncClient)]:
    _http: HttpT

    def __init__(
        self,
        *,
        api_key: str | None,
        admin_api_key: str | None = None,
        organization: str | None,
        project: str | None,
        base_url: str | httpx.URL | None,
        timeout: TimeoutArg,
        max_retries: int,
        default_headers: Headers | None,
        default_query: Query | None,
        http_client: HttpT | None,
    ) -> None:
        api_key = api_key if api_key is not None else _env("OPENAI_API_KEY")
        admin_api_key = admin_api_key if admin_api_key is not None else _env("OPENAI_ADMIN_KEY")
        if not api_key and not admin_api_key:
            raise ModelsClientError(
                "The api_key client option must be set either by passing api_key to the client "
                "or by setting the OPENAI_API_KEY environment variable (or, for the Admin API "
                "only, admin_api_key / OPENAI_ADMIN_KEY)"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries must be an int >= 0, got {max_retries!r}")
        self.api_key = api_key or None
        # The Usage API (`client.admin.…`) takes an admin key, the Models API a project key.
        self.admin_api_key = admin_api_key or None
        self.organization = organization if organization is not None else _env("OPENAI_ORG_ID")
        self.project = project if project is not None else _env("OPENAI_PROJECT_ID")
        self.base_url = httpx.URL(base_url or _env("OPENAI_BASE_URL") or DEFAULT_BASE_URL)
        if isinstance(timeout, NotGiven):
            own = http_client.timeout if http_client is not None else _HTTPX_DEFAULT_TIMEOUT
            timeout = own if own != _HTTPX_DEFAULT_TIMEOUT else DEFAULT_TIMEOUT
        self.timeout = _timeout(timeout)
        self.max_retries = max_retries
        self._owns_http = True  # a copy sharing another client's pool sets this to False
        self._custom_headers: dict[str, str | Omit] = dict(default_headers or {})
        self._custom_query: dict[str, object] = dict(default_query or {})
        # Header names compared case-insensitively: lower name -> (name as given, value).
        self._headers: dict[str, tuple[str, str | Omit]] = {
            name.lower(): (name, value)
            for name, value in {
                **({"Authorization": f"Bearer {api_key}"} if api_key else {}),
                "Accept": "application/json",
                "User-Agent": f"{__title__}/Python {__version__}",
                **({"OpenAI-Organization": self.organization} if self.organization else {}),
                **({"OpenAI-Project": self.project} if self.project else {}),
                **self._custom_headers,
            }.items()
        }

    @property
    def base_url(self) -> httpx.URL:
        return self._base_url

    @base_url.setter
    def base_url(self, url: httpx.URL | str) -> None:
        url = httpx.URL(url)
        if not url.raw_path.endswith(b"/"):
            url = url.copy_with(raw_path=url.raw_path + b"/")
        self._base_url = url
        self._urls: dict[str, httpx.URL] = {}

    def _url(self, path: str) -> httpx.URL:
        """`base_url` + an encoded relative path; parsing a URL is the costliest step of a call,
        so the few distinct ones a client uses are kept."""
        url = self._urls.get(path)
        if url is None:
            if len(self._urls) >= 512:
                self._urls.clear()
            base = self._base_url
            url = self._urls[path] = base.copy_with(raw_path=base.raw_path + path.encode())
        return url

    def with_options(self, **overrides: Any) -> Self:
        """A new client with some options changed, sharing this one's connection pool."""
        headers = overrides.pop("set_default_headers", None)
        if headers is None:
            headers = {**self._custom_headers, **(overrides.pop("default_headers", None) or {})}
        query = overrides.pop("set_default_query", None)
        if query is None:
            query = {**self._custom_query, **(overrides.pop("default_query", None) or {})}
        options = {
            "api_key": self.api_key,
            "admin_api_key": self.admin_api_key,
            "organization": self.organization,
            "project": self.project,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "http_client": None,
        }
        unknown = set(overrides) - set(options)
        if unknown:
            raise TypeError(f"Unknown client option(s): {', '.join(sorted(unknown))}")
        kwargs = {**options, **overrides, "default_headers": headers, "default_query": query}
        own = kwargs["http_client"] is not None
        copy = type(self)(**{**kwargs, "http_client": kwargs["http_client"] or self._http})
        copy._owns_http = own  # closing a copy must not close the shared pool
        return copy

    copy = with_options

    def _build_request(self, options: RequestOptions, retries_taken: int) -> httpx.Request:
        merged = dict(self._headers)
        if options.auth == "admin_api_key":
            merged.pop("authorization", None)
            if self.admin_api_key:
                merged["authorization"] = ("Authorization", f"Bearer {self.admin_api_key}")
        for name, value in (options.headers or {}).items():
            merged[name.lower()] = (name, value)
        if "authorization" not in merged:  # checked before any I/O, naming what is missing
            argument, variable = (
                ("admin_api_key", "OPENAI_ADMIN_KEY")
                if options.auth == "admin_api_key"
                else ("api_key", "OPENAI_API_KEY")
            )
            raise ModelsClientError(
                f"`{options.path}` needs the {argument} client option: pass {argument} to the "
                f"client or set the {variable} environment variable"
            )
        merged.setdefault(
            "x-stainless-retry-count", ("x-stainless-retry-count", str(retries_taken))
        )
        headers = {name: v for name, v in merged.values() if not isinstance(v, Omit)}
        query = {**self._custom_query, **(options.query or {}), **options.params}
        params = {k: v for k, v in query.items() if not isinstance(v, Omit | NotGiven)}
        send_body = options.method != "GET" and options.body is not None
        request = self._http.build_request(
            options.method,
            self._url(options.path),
            headers=headers,
            params=params or None,
            json=dict(options.body) if send_body and options.body is not None else None,
            timeout=self.timeout
            if isinstance(options.timeout, NotGiven)
            else _timeout(options.timeout),
        )
        for name, value in merged.values():
            if isinstance(value, Omit):  # the http client may add its own default again
                request.headers.pop(name, None)
        return request

    def _connection_error(self, exc: httpx.RequestError, request: httpx.Request) -> Exception:
        if isinstance(exc, httpx.TimeoutException):
            return APITimeoutError(request)
        return APIConnectionError(message=f"Connection error: {exc}", request=request)
