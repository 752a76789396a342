"""Deletion jobs with two `db_worker` processes at once on PostgreSQL: never a model twice.

Each test has its own database on the throwaway cluster of tests/dashboard/postgres.py
(skipped where PostgreSQL's binaries are absent) and a fake API on loopback (fake_api.py);
the workers run `manage.py db_worker` with DATABASE_URL pointing at it.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests.dashboard.postgres import Cluster, cluster  # noqa: F401

from .fake_api import FakeModelsAPI, fine_tunes
from .worker_processes import (
    LEASE_SECONDS,
    job_env,
    kill,
    prepare,
    report,
    task_runs,
    wait_for,
)
from .worker_processes import worker as db_worker

MODELS = 40


def _holder(database: str) -> str | None:
    """The worker whose `run_job` has been running longest (the one holding the job)."""
    running = [run for run in task_runs(database, "run_job") if run["status"] == "RUNNING"]
    running.sort(key=lambda run: run["started"])
    return running[0]["workers"][-1] if running else None


@pytest.mark.parametrize("kill_the_holder", [False, True], ids=["both-live", "holder-killed"])
def test_two_workers_running_one_job_on_postgresql_delete_every_model_exactly_once(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
    kill_the_holder: bool,
) -> None:
    models = fine_tunes(MODELS)
    ids = [model["id"] for model in models]
    database = cluster.create_database(f"jobs_{uuid.uuid4().hex[:12]}")
    logs = {name: tmp_path / f"{name}.log" for name in ("one", "two")}
    with FakeModelsAPI(models, latency=0.2) as api:
        env = job_env(database, api.base_url)
        # run_job queued twice: both workers start on the same job at once.
        (job,) = prepare(env, [ids], start=True, extra_runs=1)
        if kill_the_holder:  # from the tenth DELETE on, acted on but not answered before the kill
            api.hold_answers_from(10)

        with db_worker(env, logs["one"], "one") as one, db_worker(env, logs["two"], "two") as two:
            workers = {"one": one, "two": two}
            assert api.wait_for_deletes(10, timeout=30), logs["one"].read_text()
            holder = _holder(database)
            assert holder in workers
            if kill_the_holder:
                kill(workers.pop(holder))
                api.release()
            survivors = list(workers.values())
            seen = wait_for(database, [job], "done", timeout=LEASE_SECONDS + 25, workers=survivors)
        result = report(database, [job])
        per_model = api.deletes_per_model()

    assert seen == {job: "done"}, [log.read_text()[-3000:] for log in logs.values()]
    assert per_model == dict.fromkeys(ids, 1)
    items = result[job]["items"]
    assert [item["state"] for item in items] == ["finished"] * MODELS
    outcomes = Counter(item["outcome"] for item in items)
    assert set(outcomes) <= {"deleted", "already_gone"}
    assert sorted(e["model_id"] for e in result[job]["entries"] if e["outcome"] == "deleted") == (
        sorted(ids)
    )
    assert not any(e["outcome"] in ("pending", "unknown") for e in result[job]["entries"])
    outcomes_of_runs = [run["result"]["outcome"] for run in result["runs"] if run["result"]]
    # The second run found the job held and watched it (a follow-up) instead of deleting.
    assert "held by another runner" in outcomes_of_runs
    assert "done" in outcomes_of_runs
    if kill_the_holder:  # the survivor took over: its worker ran the run that finished
        assert outcomes["already_gone"] >= 1  # what the holder deleted without hearing so
        finished = [run for run in result["runs"] if (run["result"] or {}).get("left") == 0]
        survivor = "two" if holder == "one" else "one"
        assert [run["workers"][-1] for run in finished] == [survivor]


def test_two_jobs_over_the_same_models_validated_at_once_lock_each_model_in_one_job(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    models = fine_tunes(MODELS)
    ids = [model["id"] for model in models]
    first_ids, second_ids = ids[:30], ids[10:]  # 20 models in both
    database = cluster.create_database(f"jobs_{uuid.uuid4().hex[:12]}")
    log = tmp_path / "workers.log"
    # Every list read takes 0.5 s: both checks read it at the same time, then judge together.
    with FakeModelsAPI(models, latency=0.5) as api:
        env = job_env(database, api.base_url)
        prepare(env, [], start=False)  # the tables, before the workers poll them
        with db_worker(env, log, "one") as one, db_worker(env, log, "two") as two:
            for _ in range(100):  # both polling (bounded: 20 s)
                if log.exists() and log.read_text().count("Starting worker") >= 2:
                    break
                time.sleep(0.2)
            first, second = prepare(env, [first_ids, second_ids], start=False)
            seen = wait_for(database, [first, second], "ready", timeout=25, workers=[one, two])
        result = report(database, [first, second])
        validations = task_runs(database, "validate_job")

    assert seen == {first: "ready", second: "ready"}, validations
    # The two checks ran at the same time, in the two workers.
    assert sorted(run["workers"][-1] for run in validations) == ["one", "two"]
    (a, b) = validations
    assert a["started"] < b["finished"] and b["started"] < a["finished"]
    # Each model is locked by exactly one job; the other job's item is refused, naming it.
    by_job = {
        job: {item["model_id"]: item for item in result[job]["items"]} for job in (first, second)
    }
    for model_id in ids:
        holders = [job for job in by_job if by_job[job].get(model_id, {}).get("holds_lock")]
        assert len(holders) == 1, model_id
        for job in (first, second):
            item = by_job[job].get(model_id)
            if item is None or job in holders:
                continue
            assert item["verdict"] == "refused"
            assert item["refusal_text"] == f"Already in open job #{holders[0]}."
    ready = {job: [i["model_id"] for i in by_job[job].values() if i["verdict"] == "ready"]
             for job in (first, second)}  # fmt: skip
    assert sorted(ready[first] + ready[second]) == sorted(ids)
