"""A deletion job's running phase: 200 models, 50 ms on every upstream request, 4 at a time.

Run with `make bench` (or `.venv/bin/python bench/bench_jobs.py`). It uses its own SQLite
file in a temporary directory (removed at the end) and the fake models API of the tests
(tests/dashboard/cleanup/fake_api.py) on loopback, in a process of its own (an upstream's work
is not the dashboard's), answering every request after 50 ms. For each of three jobs of 200
fine-tunes it creates the job, checks it (`jobs.validate`), confirms it, and then runs it with
a real `jobs.Runner` in this process (its default concurrency, 4 threads, each with its own
database connection), timing confirm → done.

The ideal is 200 × 50 ms / 4 = 2.5 s (every thread always waiting on the API, the database
free); the ratio is the median run against it, and the goal is <= 1.5. Also printed: the SQL
statements and upstream DELETEs per model, that every model got exactly one DELETE, and the
floor on this machine: the same 200 DELETEs sent by 4 threads through the dashboard's client
alone (no job, no database), so that a busy machine's share can be told from the engine's.
Prints the figures; exits 0 whatever the ratio (it informs, it does not gate).
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dashboard.cleanup.fake_api import STATS, fine_tunes  # noqa: E402

MODELS = 200
LATENCY = 0.05
RUNS = 3
GOAL = 1.5

WORKDIR = Path(tempfile.mkdtemp(prefix="jobs-bench-"))
SERVED = MODELS * (RUNS + 1)  # the last 200 for the floor
API = subprocess.Popen(
    [sys.executable, "-m", "tests.dashboard.cleanup.fake_api", str(SERVED), str(LATENCY), "bench"],
    cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
)  # fmt: skip
assert API.stdout is not None
API_URL = API.stdout.readline().strip()  # it prints its base URL once it listens
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "dashboard.settings",
        "DATABASE_URL": f"sqlite:///{WORKDIR / 'bench.sqlite3'}",
        "DJANGO_DEBUG": "0",
        "CACHE_URL": "locmemcache://bench",
        "OPENAI_API_KEY": "sk-bench-not-a-key",
        "OPENAI_BASE_URL": API_URL,
        "SANDBOX_ENABLED": "0",
    }
)
for name in ("DJANGO_PRODUCTION", "CLEANUP_CONCURRENCY", "CLEANUP_LEASE_SECONDS"):
    os.environ.pop(name, None)

import django  # noqa: E402
import httpx  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402

from dashboard.cleanup import jobs  # noqa: E402
from dashboard.cleanup.models import DeletionJob  # noqa: E402
from dashboard.upstreams import get_client, get_upstream  # noqa: E402

STATEMENTS = 0
_count_lock = threading.Lock()


def _count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    global STATEMENTS
    with _count_lock:
        STATEMENTS += 1
    return execute(sql, params, many, context)


def _wrap(sender: Any, connection: Any, **kwargs: Any) -> None:
    connection.execute_wrappers.append(_count)  # every connection, the runner's threads' too


def upstream_deletes() -> dict[str, int]:
    """How many DELETEs each model got, as the fake API counted them."""
    counts: dict[str, int] = httpx.get(API_URL.removesuffix("/v1") + STATS, timeout=10).json()
    return counts


def floor(ids: list[str]) -> float:
    """Seconds for DELETEs of `ids` by as many threads as a job has, through the upstream's
    client (its GuardedTransport included), with nothing else: what the machine allows."""
    client = get_client(get_upstream("default")).with_options(max_retries=0, timeout=10)
    share = settings.CLEANUP_CONCURRENCY

    def delete(part: list[str]) -> None:
        for model_id in part:
            client.models.with_raw_response.delete(model_id)

    threads = [threading.Thread(target=delete, args=(ids[n::share],)) for n in range(share)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def one_run(owner: User, ids: list[str]) -> tuple[float, int, int]:
    """(seconds from confirm to done, SQL statements, upstream DELETEs) for one job."""
    global STATEMENTS
    job = jobs.create_job(owner, get_upstream("default"), ids)
    assert jobs.validate(job.pk) == "ready"
    job.refresh_from_db()
    before = sum(upstream_deletes().values())
    STATEMENTS = 0
    started = time.perf_counter()
    jobs.confirm(job, owner, str(jobs.to_delete(job)))
    result = jobs.Runner(job.pk).run()
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    assert job.status == DeletionJob.Status.DONE, (job.status, result)
    assert result.get("deleted") == len(ids), result
    return seconds, STATEMENTS, sum(upstream_deletes().values()) - before


def main() -> None:
    logging.disable(logging.WARNING)
    connection_created.connect(_wrap)
    ideal = MODELS * LATENCY / settings.CLEANUP_CONCURRENCY
    try:
        call_command("migrate", verbosity=0)
        owner = User.objects.create_superuser("bench", password="bench-password")
        ids = [str(model["id"]) for model in fine_tunes(SERVED, org="bench")]
        print(
            f"Deletion job benchmark (SQLite {connection.Database.sqlite_version}, the runner in "
            f"this process): {MODELS} models, {LATENCY * 1000:.0f} ms per upstream request, "
            f"concurrency {settings.CLEANUP_CONCURRENCY}; ideal {ideal:.2f} s"
        )
        times = []
        for run in range(RUNS):
            chunk = ids[run * MODELS : (run + 1) * MODELS]
            seconds, statements, requests = one_run(owner, chunk)
            times.append(seconds)
            print(
                f"    run {run + 1}: {seconds:5.2f} s   ratio {seconds / ideal:4.2f}x   "
                f"{statements / MODELS:5.1f} SQL statements and "
                f"{requests / MODELS:4.2f} upstream DELETEs per model"
            )
        median = statistics.median(times)
        deletes = upstream_deletes()
        once = sorted(deletes) == sorted(ids[: MODELS * RUNS]) and set(deletes.values()) == {1}
        print(
            f"    median {median:5.2f} s   ratio {median / ideal:4.2f}x (goal <= {GOAL})   "
            f"every model deleted exactly once: {'yes' if once else 'NO'}"
        )
        alone = floor(ids[MODELS * RUNS :])
        print(
            f"    floor: the same {MODELS} DELETEs through the client alone, "
            f"{settings.CLEANUP_CONCURRENCY} threads: {alone:5.2f} s ({alone / ideal:4.2f}x); "
            f"the job's median is {median / alone:4.2f}x that"
        )
    finally:
        connections.close_all()
        shutil.rmtree(WORKDIR, ignore_errors=True)
        API.communicate(timeout=10)  # closes its stdin: it stops


if __name__ == "__main__":
    main()
