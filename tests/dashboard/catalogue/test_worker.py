"""A `db_worker` process picks up a refresh that another process queued, and fills the catalogue.

Both run `manage.py` with their own environment on one SQLite file (DATABASE_URL), the
dashboard on its in-process sandbox, as a deployment with a separate worker would.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..processes import REPO_ROOT, manage

ENQUEUE = """
from dashboard.catalogue.tasks import request_refresh
print(request_refresh("default"))
"""


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SANDBOX_ENABLED": "1",
    }
    for name in ("OPENAI_API_KEY", "DJANGO_PRODUCTION", "SANDBOX_FAILURE", "SANDBOX_LATENCY"):
        env.pop(name, None)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_sandbox")
    return env


@pytest.fixture
def worker(environment: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    with (tmp_path / "worker.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload",
             "--interval", "0.2"],
            cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _catalogue(database: Path) -> tuple[int, list[str]]:
    """(catalogue rows, task statuses) read straight from the shared file."""
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        rows = db.execute("SELECT COUNT(*) FROM catalogue_cataloguemodel").fetchone()[0]
        tasks = db.execute("SELECT status FROM django_tasks_database_dbtaskresult")
        statuses = [status for (status,) in tasks]
    return int(rows), statuses


def test_a_worker_process_runs_a_refresh_queued_by_another_process(
    environment: dict[str, str], worker: subprocess.Popen[bytes], tmp_path: Path
) -> None:
    database = tmp_path / "db.sqlite3"
    assert _catalogue(database) == (0, [])

    queued = manage(environment, "shell", "--no-imports", "-c", ENQUEUE)

    assert queued == "queued\n"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _catalogue(database)[0] < 64:
        assert worker.poll() is None, (tmp_path / "worker.log").read_text()
        time.sleep(0.2)
    while time.monotonic() < deadline and "SUCCESSFUL" not in _catalogue(database)[1]:
        time.sleep(0.2)
    rows, statuses = _catalogue(database)
    assert rows == 64, (tmp_path / "worker.log").read_text()
    # The refresh succeeded and queued the deferred pruning run (not due yet).
    assert sorted(statuses) == ["READY", "SUCCESSFUL"]
