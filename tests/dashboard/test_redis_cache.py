"""CACHE_URL=redis://… : the cache (readiness checks, login throttling) is shared by every
process (several workers)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .processes import free_port, manage

SCRIPT = """
from django.core.cache import caches
cache = caches["default"]
found = cache.get("probe:shared")
cache.set("probe:shared", "written-by-another-process", 60)
print(type(cache).__name__, found or "nothing")
"""


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_value_cached_by_one_process_is_read_by_another(redis_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": redis_url,
    }
    env.pop("OPENAI_API_KEY", None)
    manage(env, "migrate", "--noinput", "-v0")

    first = manage(env, "shell", "--no-imports", "-c", SCRIPT).split()
    second = manage(env, "shell", "--no-imports", "-c", SCRIPT).split()

    assert first == ["RedisCache", "nothing"]
    assert second == ["RedisCache", "written-by-another-process"]  # read from Redis
