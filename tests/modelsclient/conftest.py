"""Shared fixtures: no real sleeping, a clean environment, and sync/async twins from one test."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import modelsclient


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see the developer's real OPENAI_* variables."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries record how long they would have slept instead of sleeping."""
    recorded: list[float] = []
    real_async_sleep = asyncio.sleep

    def fake_sleep(seconds: float) -> None:
        recorded.append(seconds)

    async def fake_async_sleep(seconds: float, *args: Any, **kwargs: Any) -> Any:
        recorded.append(seconds)
        return await real_async_sleep(0)

    monkeypatch.setattr(time, "sleep", fake_sleep)
    monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)
    return recorded


async def resolve(value: Any) -> Any:
    """Await `value` if the async client returned an awaitable; sync results pass through."""
    return await value if inspect.isawaitable(value) else value


class Twin:
    """One test body, run against `Client` and `AsyncClient` over the same mock handler."""

    def __init__(self, is_async: bool) -> None:
        self.is_async = is_async
        self._clients: list[Any] = []

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    def client(self, handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> Any:
        kwargs.setdefault("api_key", "sk-test")
        kwargs.setdefault("base_url", "https://api.example.test/v1")
        transport = httpx.MockTransport(handler)
        if self.is_async:
            made: Any = modelsclient.AsyncClient(
                http_client=httpx.AsyncClient(transport=transport), **kwargs
            )
        else:
            made = modelsclient.Client(http_client=httpx.Client(transport=transport), **kwargs)
        self._clients.append(made)
        return made


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def twin(request: pytest.FixtureRequest) -> Iterator[Twin]:
    yield Twin(request.param)
