"""`manage.py serve` (what `make run` starts): the web server and the task worker as one command.

Each test runs the real command on a free loopback port against its own SQLite file, the
dashboard on its in-process sandbox, and looks at the processes from outside.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .processes import REPO_ROOT, free_port, manage

ENQUEUE = """
from dashboard.catalogue.tasks import request_refresh
print(request_refresh("default"))
"""


def _environment(database: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "SANDBOX_ENABLED": "1",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("OPENAI_API_KEY", "DJANGO_PRODUCTION", "SANDBOX_FAILURE", "SANDBOX_LATENCY"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded database file, copied by each test (migrating once is enough)."""
    database = tmp_path_factory.mktemp("serve") / "template.sqlite3"
    env = _environment(database)
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "seed_sandbox")
    return database


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    database: Path
    port: int
    log: Path

    def pids(self) -> dict[str, int]:
        """The children's pids, as the command announced them."""
        text = self.log.read_text()
        return {
            name: int(pid) for name, pid in re.findall(r"serve: (\w+) started \(pid (\d+)\)", text)
        }

    def wait_until_answering(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                url = f"http://127.0.0.1:{self.port}/healthz"
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200 and len(self.pids()) == 2:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("the web server never answered:\n" + self.log.read_text())


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _gone_within(pids: list[int], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def served(migrated: Path, tmp_path: Path) -> Iterator[Served]:
    if not sys.platform.startswith("linux"):
        pytest.skip("reads /proc to see the children")
    database = tmp_path / "db.sqlite3"
    shutil.copy(migrated, database)
    env = _environment(database)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", f"127.0.0.1:{port}", "--worker-interval",
             "0.2", "--grace", "20"],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    run = Served(process, env, database, port, log)
    try:
        run.wait_until_answering()
        yield run
    finally:
        children = list(run.pids().values())
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in children:  # never leave a child behind, whatever the test did
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _catalogue_rows(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5) as db:
        return int(db.execute("SELECT COUNT(*) FROM catalogue_cataloguemodel").fetchone()[0])


def test_serve_answers_pages_and_its_worker_runs_a_queued_refresh(served: Served) -> None:
    assert sorted(served.pids()) == ["web", "worker"]
    assert all(_alive(pid) for pid in served.pids().values())
    assert _catalogue_rows(served.database) == 0

    assert manage(served.env, "shell", "--no-imports", "-c", ENQUEUE) == "queued\n"

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _catalogue_rows(served.database) < 64:
        time.sleep(0.2)
    assert _catalogue_rows(served.database) == 64, served.log.read_text()


def test_ctrl_c_stops_the_web_server_and_the_worker(served: Served) -> None:
    children = list(served.pids().values())

    served.process.send_signal(signal.SIGINT)

    assert served.process.wait(timeout=30) == 0, served.log.read_text()
    assert _gone_within(children, 5)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{served.port}/healthz", timeout=2)


def test_sigterm_stops_both_children(served: Served) -> None:
    children = list(served.pids().values())

    served.process.terminate()

    served.process.wait(timeout=30)
    assert _gone_within(children, 5), served.log.read_text()


def test_when_the_worker_dies_the_web_server_is_stopped_too(served: Served) -> None:
    pids = served.pids()

    os.kill(pids["worker"], signal.SIGKILL)

    assert served.process.wait(timeout=30) != 0  # the worker's failure is the command's
    assert _gone_within([pids["web"]], 5), served.log.read_text()
    assert "worker exited; stopping the other" in served.log.read_text()


def test_a_killed_supervisor_leaves_no_orphans(served: Served) -> None:
    children = list(served.pids().values())

    served.process.kill()  # kill -9: no chance to forward anything

    served.process.wait(timeout=10)
    assert _gone_within(children, 20), served.log.read_text()
