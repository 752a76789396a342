"""Deletion jobs run by real `db_worker` processes, on a file SQLite or a PostgreSQL database.

The dashboard runs in subprocesses (`manage.py …`) with its own environment, pointed at a fake
API (fake_api.py) by OPENAI_API_KEY/OPENAI_BASE_URL, as a deployment with separate workers
would be. The test process reads the database directly (sqlite3 or psycopg) to wait for a
job and to report what happened.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..login_race import clean_env
from ..processes import REPO_ROOT, manage

LEASE_SECONDS = 3.0  # a dead worker's job is taken over this long after its last renewal
# One delete's budget: a runner only claims an item while its lease outlasts it (+1 s).
PAGE_BUDGET = 1.0


def job_env(database_url: str, api_url: str, **extra: str) -> dict[str, str]:
    """The environment of every process of a test: one database, the fake API, short leases."""
    return clean_env(
        DATABASE_URL=database_url,
        OPENAI_API_KEY="sk-fake-jobs-test",
        OPENAI_BASE_URL=api_url,
        SANDBOX_ENABLED="0",
        CLEANUP_LEASE_SECONDS=str(LEASE_SECONDS),
        CLEANUP_CONCURRENCY="4",
        UPSTREAM_PAGE_BUDGET=str(PAGE_BUDGET),
        UPSTREAM_TIMEOUT="5",
        **extra,
    )


SETUP = """
import json
from django.contrib.auth.models import User
from django.core.management import call_command
from dashboard.cleanup import jobs
from dashboard.cleanup.models import DeletionJob
from dashboard.cleanup.tasks import run_job
from dashboard.upstreams import get_upstream

groups, start, extra_runs = json.loads({arguments!r})
call_command("migrate", "--noinput", verbosity=0)
owner = User.objects.filter(username="owner").first() or User.objects.create_superuser(
    "owner", "owner@example.test", "not-used"
)
upstream = get_upstream("default")
pks = [jobs.create_job(owner, upstream, ids).pk for ids in groups]
if start:
    for pk in pks:
        assert jobs.validate(pk) == "ready"
        job = DeletionJob.objects.get(pk=pk)
        jobs.confirm(job, owner, str(jobs.to_delete(job)))  # queues run_job on commit
        for _ in range(extra_runs):
            run_job.enqueue(pk)
print(json.dumps(pks))
"""


def prepare(
    env: dict[str, str], groups: Sequence[Sequence[str]], *, start: bool, extra_runs: int = 0
) -> list[int]:
    """Migrate, then create one job per group of ids (by an owner); with `start`, validate and
    confirm each (its `run_job` queued, plus `extra_runs` more). The jobs' pks."""
    arguments = json.dumps([[list(ids) for ids in groups], start, extra_runs])
    out = manage(env, "shell", "--no-imports", "-c", SETUP.format(arguments=arguments))
    return [int(pk) for pk in json.loads(out.splitlines()[-1])]


@contextmanager
def worker(
    env: dict[str, str], log: Path, worker_id: str = "worker"
) -> Iterator[subprocess.Popen[bytes]]:
    """A `manage.py db_worker` in its own process group (so `kill -9` takes all of it);
    stopped at the end if still running. Its output is appended to `log`."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--no-startup-delay", "--no-reload",
             "--interval", "0.1", "--worker-id", worker_id],
            cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill(process)


def kill(process: subprocess.Popen[bytes]) -> None:
    """`kill -9` the worker's whole process group, and reap it."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def _query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of one read-only query, straight from the database the processes share."""
    url = urlsplit(database_url)
    if url.scheme == "sqlite":
        path = "/" + url.path.lstrip("/")  # sqlite:////abs/path
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
            return db.execute(sql).fetchall()
    import psycopg

    host = parse_qs(url.query)["host"][0]
    with psycopg.connect(host=host, dbname=url.path.lstrip("/"), user="postgres") as db:
        return db.execute(sql).fetchall()  # type: ignore[arg-type]


def statuses(database_url: str, job_pks: Sequence[int]) -> dict[int, str]:
    ids = ",".join(str(int(pk)) for pk in job_pks)
    rows = _query(database_url, f"SELECT id, status FROM cleanup_deletionjob WHERE id IN ({ids})")
    return {int(pk): str(status) for pk, status in rows}


def in_flight(database_url: str, job_pk: int) -> int:
    rows = _query(
        database_url,
        f"SELECT COUNT(*) FROM cleanup_jobitem WHERE job_id = {int(job_pk)} "
        "AND state = 'in_flight'",
    )
    return int(rows[0][0])


def wait_for(
    database_url: str,
    job_pks: Sequence[int],
    status: str,
    *,
    timeout: float,
    workers: Sequence[subprocess.Popen[bytes]] = (),
    log: Path | None = None,
) -> dict[int, str]:
    """Poll (every 0.2 s, at most `timeout` s) until every job has `status`; the last seen.
    Fails at once if a worker exits."""
    deadline = time.monotonic() + timeout
    seen = statuses(database_url, job_pks)
    for _ in range(int(timeout / 0.2) + 1):
        if all(value == status for value in seen.values()) or time.monotonic() > deadline:
            break
        for process in workers:
            assert process.poll() is None, log.read_text() if log else "a worker exited"
        time.sleep(0.2)
        seen = statuses(database_url, job_pks)
    return seen


def report(database_url: str, job_pks: Sequence[int]) -> dict[str, Any]:
    """Each job's status, items (with their audit entry's outcome) and delete audit entries,
    and every `run_job` task's status and result. Keys: the job pks, and "runs"."""
    result: dict[Any, Any] = {}
    for pk in (int(pk) for pk in job_pks):
        items = _query(
            database_url,
            "SELECT i.model_id, i.verdict, i.refusal_text, i.holds_lock, i.state, i.outcome, "
            "a.outcome FROM cleanup_jobitem i LEFT JOIN dashboard_auditentry a "
            f"ON a.id = i.audit_entry_id WHERE i.job_id = {pk} ORDER BY i.position",
        )
        entries = _query(
            database_url,
            "SELECT model_id, outcome, message FROM dashboard_auditentry "
            f"WHERE job_id = {pk} AND action = 'delete' ORDER BY id",
        )
        keys = ("model_id", "verdict", "refusal_text", "holds_lock", "state", "outcome", "entry")
        result[pk] = {
            "status": statuses(database_url, [pk])[pk],
            "items": [dict(zip(keys, row, strict=True)) for row in items],
            "entries": [
                dict(zip(("model_id", "outcome", "message"), row, strict=True)) for row in entries
            ],
        }
    result["runs"] = task_runs(database_url, "run_job")
    return result


def task_runs(database_url: str, task: str) -> list[dict[str, Any]]:
    """Every queued or run `dashboard.cleanup.tasks.<task>`, oldest first: its status, args,
    the workers that took it, when it started and finished, and what it returned."""
    rows = _query(
        database_url,
        "SELECT status, args_kwargs, worker_ids, started_at, finished_at, return_value "
        "FROM django_tasks_database_dbtaskresult "
        f"WHERE task_path = 'dashboard.cleanup.tasks.{task}' ORDER BY enqueued_at",
    )
    return [
        {
            "status": status,
            "args": _json(args)["args"],
            "workers": _json(workers),
            "started": _when(started),
            "finished": _when(finished),
            "result": _json(value),
        }
        for status, args, workers, started, finished, value in rows
    ]


def _when(value: Any) -> datetime | None:
    """A timestamp as read: text from SQLite, a datetime from PostgreSQL."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _json(value: Any) -> Any:
    """A JSON column as read: text from SQLite, already decoded from PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value
