"""A runner deletes only while its lease outlasts the delete, whatever the lease setting;
it stops at once when the job is cancelled under it.

If a runner's lease could lapse while one of its deletes is still on its way, another runner
would take the job over, look the model up (still there: the DELETE has not arrived), put it
back to waiting and delete it a second time. So every item is claimed while the lease has at
least one delete's budget (the upstream's page budget) and a second left.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dashboard.cleanup import jobs
from dashboard.cleanup.models import DeletionJob, JobItem
from dashboard.upstreams import get_upstream

FT = [f"ft:gpt-4o-mini-2024-07-18:acme:lease:L{n:04d}" for n in range(20)]


@pytest.fixture
def api(real_api: respx.MockRouter) -> respx.MockRouter:
    listed = [
        {"id": model_id, "object": "model", "created": 1_720_000_000, "owned_by": "acme"}
        for model_id in FT
    ]
    real_api.get("/models").respond(json={"object": "list", "data": listed})
    return real_api


def _confirmed(olivia: User) -> DeletionJob:
    """A confirmed job over FT, run in the test's thread (concurrency 1)."""
    job = jobs.create_job(olivia, get_upstream("default"), FT)
    DeletionJob.objects.filter(pk=job.pk).update(concurrency=1)
    assert jobs.validate(job.pk) == "ready"
    job.refresh_from_db()
    return jobs.confirm(job, olivia, str(len(FT)))


@pytest.mark.parametrize("lease_seconds", [2.0, 30.0])
def test_every_delete_starts_with_the_lease_outlasting_its_budget_even_when_set_shorter(
    api: respx.MockRouter, owner: Client, settings: Any, lease_seconds: float
) -> None:
    settings.CLEANUP_LEASE_SECONDS = lease_seconds
    settings.UPSTREAM_PAGE_BUDGET = 8.0
    job = _confirmed(User.objects.get(username="olivia"))
    lease_left: dict[str, float] = {}

    def delete(request: httpx.Request) -> httpx.Response:
        model_id = request.url.path.rsplit("/", 1)[1]
        lease_until = DeletionJob.objects.get(pk=job.pk).lease_until
        claimed_at = JobItem.objects.get(job=job, model_id=model_id).claimed_at
        assert lease_until is not None and claimed_at is not None
        lease_left[model_id] = (lease_until - claimed_at).total_seconds()
        return httpx.Response(200, json={"id": model_id, "object": "model", "deleted": True})

    api.route(method="DELETE").mock(side_effect=delete)

    result = jobs.Runner(job.pk).run()

    assert result["outcome"] == "done"
    assert sorted(lease_left) == sorted(FT)
    assert min(lease_left.values()) > 8.0 + 1


def test_a_runner_stops_at_its_first_refused_claim_after_the_job_is_cancelled_under_it(
    api: respx.MockRouter, owner: Client
) -> None:
    olivia = User.objects.get(username="olivia")
    job = _confirmed(olivia)
    sent: list[str] = []

    def delete(request: httpx.Request) -> httpx.Response:
        model_id = request.url.path.rsplit("/", 1)[1]
        sent.append(model_id)
        if len(sent) == 1:
            assert jobs.cancel(job, olivia)  # while the first delete is on its way
        return httpx.Response(200, json={"id": model_id, "object": "model", "deleted": True})

    api.route(method="DELETE").mock(side_effect=delete)

    with CaptureQueriesContext(connection) as queries:
        jobs.Runner(job.pk).run()

    assert sent == [FT[0]]
    claims = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('UPDATE "cleanup_jobitem" SET "state" = \'in_flight\'')
    ]
    assert len(claims) == 2  # the first item's, and one refused: not one per skipped item
    items = {item.model_id: item for item in JobItem.objects.filter(job=job)}
    assert items[FT[0]].outcome == "deleted"
    assert {items[model_id].outcome for model_id in FT[1:]} == {"skipped"}
