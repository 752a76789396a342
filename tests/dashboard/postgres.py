"""A throwaway PostgreSQL cluster for tests that run the dashboard in other processes.

`cluster` (a module-scoped fixture) starts one (unix socket only, in a temporary directory)
when PostgreSQL's binaries are installed, and skips the test otherwise; `prepared` migrates,
seeds and sets up the demo users once in its database (sandbox mode). The dashboard runs in
subprocesses with `DATABASE_URL` pointing at it, exactly as a deployment would configure it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DB_NAME = "dashboard_pg_test"


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _run_as() -> tuple[list[str], pwd.struct_passwd | None]:
    """A command prefix that drops root (initdb and postgres refuse to run as root)."""
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        if shutil.which("runuser"):
            return ["runuser", "-u", name, "--"], user
        if shutil.which("setpriv"):
            ids = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
            return ["setpriv", *ids], user
    pytest.skip("running as root with no 'postgres'/'nobody' user or no runuser/setpriv")


@dataclass(frozen=True)
class Cluster:
    socket_dir: str
    bin_dir: Path

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@/{DB_NAME}?host={self.socket_dir}"

    def create_database(self, name: str) -> str:
        """A new, empty database on this cluster (for a test that wants its own); its URL."""
        done = subprocess.run(
            [str(self.bin_dir / "createdb"), "-h", self.socket_dir, "-U", "postgres", name],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return f"postgres://postgres@/{name}?host={self.socket_dir}"

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`manage.py …` against this cluster, in a fresh process, in sandbox mode."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("OPENAI_", "SANDBOX_", "DJANGO_"))
        }
        env |= {"DATABASE_URL": self.database_url, "DJANGO_SETTINGS_MODULE": "dashboard.settings"}
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def shell(self, script: str) -> list[str]:
        done = self.manage("shell", "--no-imports", "-c", textwrap.dedent(script))
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    pytest.importorskip("psycopg")
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb in PATH or /usr/lib/postgresql)")
    prefix, user = _run_as()
    root = tempfile.mkdtemp(prefix="pg-")  # short: a socket path has a ~100 byte limit
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    data = os.path.join(root, "data")
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", data]

    def step(command: list[str]) -> None:
        done = subprocess.run(
            command, cwd=root, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode != 0:
            pytest.skip(f"cannot start a PostgreSQL cluster: {' '.join(command)}: {done.stderr}")

    started = False
    try:
        step(
            [
                *prefix,
                str(bin_dir / "initdb"),
                *("-D", data, "-U", "postgres", "--auth=trust", "--no-sync"),
                *("--encoding=UTF8", "--locale=C"),
            ]
        )
        options = f"-k {root} -c listen_addresses='' -c fsync=off"
        step([*pg_ctl, "-l", os.path.join(root, "log"), "-o", options, "-w", "start"])
        started = True
        step([str(bin_dir / "createdb"), "-h", root, "-U", "postgres", DB_NAME])
        yield Cluster(root, bin_dir)
    finally:
        if started:
            subprocess.run(
                [*pg_ctl, "-m", "immediate", "-w", "stop"], capture_output=True, check=False
            )
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def prepared(cluster: Cluster) -> dict[str, subprocess.CompletedProcess[str]]:
    """migrate, seed_sandbox and setup_demo, run once against the cluster."""
    return {
        "migrate": cluster.manage("migrate", "--noinput"),
        "seed_sandbox": cluster.manage("seed_sandbox"),
        "setup_demo": cluster.manage("setup_demo"),
    }
