"""PostgreSQL is supported: migrate, seed, demo users and the in-process sandbox on a real server.

A throwaway cluster (unix socket only) is started in a temporary directory when PostgreSQL's
binaries are installed; otherwise the module is skipped. The dashboard runs in subprocesses
with `DATABASE_URL` pointing at it, exactly as a deployment would configure it.
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

from .login_race import clean_env, race

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

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@/{DB_NAME}?host={self.socket_dir}"

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
        yield Cluster(root)
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


def test_migrate_seed_and_setup_demo_succeed_on_postgresql(
    cluster: Cluster, prepared: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert {name: done.returncode for name, done in prepared.items()} == dict.fromkeys(
        prepared, 0
    ), {name: done.stderr for name, done in prepared.items()}
    assert "Applying dashboard." in prepared["migrate"].stdout
    assert "Sandbox seeded with 64 models." in prepared["seed_sandbox"].stdout
    assert "Demo logins (sandbox mode):" in prepared["setup_demo"].stdout

    lines = cluster.shell(
        """
        from django.contrib.auth.models import User
        from django.db import connection
        print(connection.vendor)
        print(",".join(User.objects.order_by("username").values_list("username", flat=True)))
        print(User.objects.get(username="owner").has_perm("dashboard.delete_upstream_model"))
        """
    )

    assert lines == ["postgresql", "admin,owner,support", "True"]


def test_a_nested_sandbox_delete_keeps_the_outer_postgresql_transaction(
    cluster: Cluster, prepared: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    lines = cluster.shell(
        """
        import io
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.db import connection, transaction
        from dashboard.models import AuditEntry
        from dashboard.sandbox.models import SandboxModel
        from dashboard.upstreams import get_client

        call_command("seed_sandbox", "--reset", stdout=io.StringIO())
        victim = SandboxModel.objects.filter(id__startswith="ft:").order_by("id")[0].id
        with transaction.atomic():
            User.objects.create_user("nested-writer")
            deleted = get_client().models.delete(victim)
            listed = [m.id for m in get_client().models.list()]
            print("open", connection.in_atomic_block, not connection.connection.closed)
            print("outer row visible", User.objects.filter(username="nested-writer").exists())
        print("deleted", deleted.deleted, victim in listed, len(listed))
        print("remaining", SandboxModel.objects.count())
        print("committed", User.objects.filter(username="nested-writer").exists())
        print("audit", AuditEntry.objects.count())
        """
    )

    assert lines == [
        "open True True",
        "outer row visible True",
        "deleted True False 63",
        "remaining 63",
        "committed True",
        "audit 0",
    ]


def test_the_dashboard_delete_flow_is_audited_on_postgresql(
    cluster: Cluster, prepared: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    lines = cluster.shell(
        """
        import io
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client
        from django.urls import reverse
        from dashboard.models import AuditEntry
        from dashboard.sandbox.models import SandboxModel

        call_command("seed_sandbox", "--reset", stdout=io.StringIO())
        victim = "acme/модель-ru"
        browser = Client(HTTP_HOST="localhost")
        browser.force_login(User.objects.get(username="owner"))
        url = reverse("model-delete", args=["default", victim])
        response = browser.post(url, {"confirm_id": victim, "next": "/u/default/models/"})
        entry = AuditEntry.objects.filter(model_id=victim).latest("id")
        print("status", response.status_code, response.headers.get("Location"))
        still_there = SandboxModel.objects.filter(pk=victim).exists()
        print("remaining", SandboxModel.objects.count(), still_there)
        print("audit", AuditEntry.objects.filter(model_id=victim).count(), entry.username)
        print("outcome", entry.outcome, entry.upstream_status, entry.upstream_request_id[:4])
        """
    )

    assert lines == [
        "status 302 /u/default/models/",
        "remaining 63 False",
        "audit 1 owner",
        "outcome deleted 200 req_",
    ]


def test_forty_concurrent_wrong_guesses_on_postgresql_check_at_most_the_limit(
    cluster: Cluster, prepared: dict[str, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    env = clean_env(
        DATABASE_URL=cluster.database_url,
        LOGIN_FAILURE_LIMIT="5",
        LOGIN_FAILURE_LIMIT_PER_ADDRESS="1000",
    )

    tally = race(env, tmp_path / "sync", username="owner", address="203.0.113.9")

    assert tally == {"invalid_login": 5, "throttled": 35, "checked": 5}
    lines = cluster.shell(
        """
        from dashboard.models import LoginFailure
        print(sorted(LoginFailure.objects.values_list("address", "count")))
        """
    )
    assert lines == [str([("203.0.113.9", 5), ("203.0.113.9", 5)])]
