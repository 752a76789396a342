"""CACHE_URL=redis://… : the model list cache is shared by every process (several workers)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
from dashboard.upstreams import fetch_models, get_upstream
listing = fetch_models(get_upstream("default"))
from django.core.cache import caches
print(type(caches["default"]).__name__, listing.from_cache, len(listing.models))
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    port = _free_port()
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


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_model_list_cached_by_one_process_is_reused_by_another(
    redis_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CACHE_URL": redis_url,
    }
    env.pop("OPENAI_API_KEY", None)
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "seed_sandbox")

    first = _manage(env, "shell", "--no-imports", "-c", SCRIPT).split()
    second = _manage(env, "shell", "--no-imports", "-c", SCRIPT).split()

    assert first == ["RedisCache", "False", "64"]  # fetched from the sandbox, then cached
    assert second == ["RedisCache", "True", "64"]  # another process: served from Redis
