"""A deletion job survives its worker being killed with `kill -9` mid-job.

A `db_worker` process runs a confirmed job of 40 fine-tunes against a fake API that answers
each request after 0.3 s (four deletes in flight at once). From the tenth DELETE on, the API
deletes but holds its answers; once the tenth has arrived, the worker's process group gets
SIGKILL: those models are gone upstream but the dashboard never heard so. A second worker,
started afterwards, runs the follow-up the first runner queued for just after its lease; it
looks up what was left in flight, and finishes the job. One file SQLite database is shared by
every process.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from .fake_api import FakeModelsAPI, fine_tunes
from .worker_processes import LEASE_SECONDS, in_flight, job_env, kill, prepare, report, wait_for
from .worker_processes import worker as db_worker

MODELS = 40
KILL_AFTER = 10  # DELETEs received


def test_a_job_whose_worker_is_killed_is_finished_by_another_with_no_model_deleted_twice(
    tmp_path: Path,
) -> None:
    models = fine_tunes(MODELS)
    ids = [model["id"] for model in models]
    database = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    log = tmp_path / "workers.log"
    with FakeModelsAPI(models, latency=0.3) as api:
        env = job_env(database, api.base_url)
        (job,) = prepare(env, [ids], start=True)
        api.hold_answers_from(KILL_AFTER)

        with db_worker(env, log) as first:
            assert api.wait_for_deletes(KILL_AFTER, timeout=30), log.read_text()
            kill(first)  # the tenth DELETE has reached the API; its answer has not come back
        api.release()
        stranded = in_flight(database, job)
        deleted_before_restart = api.deletes()

        with db_worker(env, log) as second:
            seen = wait_for(
                database, [job], "done", timeout=LEASE_SECONDS + 25, workers=[second], log=log
            )
        result = report(database, [job])
        per_model = api.deletes_per_model()
        remaining = api.remaining()

    assert seen == {job: "done"}, log.read_text()
    assert stranded >= 1  # killed mid-job: something was in flight
    assert KILL_AFTER <= deleted_before_restart < MODELS
    # Every model got exactly one DELETE, and is gone.
    assert per_model == dict.fromkeys(ids, 1)
    assert remaining == []
    items = result[job]["items"]
    assert [item["state"] for item in items] == ["finished"] * MODELS
    outcomes = Counter(item["outcome"] for item in items)
    # What the dead worker deleted without learning so is "already gone", its audit entry
    # settled as deleted; the rest deleted by one worker or the other.
    assert set(outcomes) <= {"deleted", "already_gone"}
    assert outcomes["already_gone"] >= 1
    assert outcomes["deleted"] + outcomes["already_gone"] == MODELS
    assert {item["entry"] for item in items if item["outcome"] == "already_gone"} == {"deleted"}
    assert not any(item["holds_lock"] for item in items)
    # The audit log: one entry settled as deleted per DELETE the API received; nothing pending.
    # (An entry written just before the kill, whose DELETE was never sent, is settled "failed":
    # the model was still there, and was deleted later under its own entry.)
    entries = result[job]["entries"]
    assert sorted(e["model_id"] for e in entries if e["outcome"] == "deleted") == sorted(ids)
    assert {e["outcome"] for e in entries} <= {"deleted", "failed"}
    assert all("still exists" in e["message"] for e in entries if e["outcome"] == "failed")
    # The second worker ran a follow-up queued by the first runner (it was never re-enqueued).
    runs = result["runs"]
    assert any(run["result"] and run["result"].get("outcome") == "done" for run in runs), runs
