"""The deletion job's pages: create, the check's report, confirm, progress (htmx polling that
stops), the way back to the list, and who may see or do what."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard.cleanup import jobs
from dashboard.cleanup.models import DeletionJob, JobItem
from dashboard.models import AuditEntry
from tests.markup import find, find_all, text

FT = [f"ft:gpt-4o-mini-2024-07-18:acme:p{n}:Pg{n:04d}" for n in range(3)]
LIST_STATE = "/u/default/models/?kind=fine-tuned&sort=id&page=2&per_page=25"


@pytest.fixture
def api(real_api: respx.MockRouter) -> respx.MockRouter:
    models = [
        {"id": m, "object": "model", "created": 1_720_000_000, "owned_by": "acme"} for m in FT
    ]
    real_api.get("/models").respond(json={"object": "list", "data": models})
    real_api.route(method="DELETE").mock(
        side_effect=lambda request: httpx.Response(
            200,
            json={"id": request.url.path.rsplit("/", 1)[1], "object": "model", "deleted": True},
        )
    )
    return real_api


def _create(browser: Client, ids: list[str], return_to: str = LIST_STATE) -> Any:
    return browser.post(
        reverse("job-create", args=["default"]), {"model_id": ids, "return_to": return_to}
    )


def _job_url(job: DeletionJob) -> str:
    return reverse("job-detail", args=["default", job.pk])


def test_an_owner_creates_a_job_from_a_selection_and_lands_on_its_page(
    owner: Client, api: respx.MockRouter
) -> None:
    response = _create(owner, FT[:2])

    job = DeletionJob.objects.get()
    assert response.status_code == 302 and response["Location"] == _job_url(job)
    assert job.return_to == LIST_STATE
    assert api.calls.call_count == 0  # nothing read or deleted until the check runs
    page = owner.get(_job_url(job))
    assert page.status_code == 200
    assert "Checking 2 models against the API" in text(page.content)
    polling = find(page.content, "div", **{"hx-trigger": "every 1s"})
    assert polling.attrs["hx-get"] == _job_url(job)


def test_the_report_shows_ready_and_refused_models_and_asks_for_the_count(
    owner: Client, api: respx.MockRouter
) -> None:
    _create(owner, [FT[0], "ft:gpt-4o-mini-2024-07-18:acme:gone:Gone0001"])
    job = DeletionJob.objects.get()
    jobs.validate(job.pk)

    page = owner.get(_job_url(job))

    words = text(page.content)
    assert "1 ready, 1 refused" in words
    assert "Already gone: the API's list does not have it now." in words
    assert find(page.content, "label", **{"for": "confirm-count"}).text == (
        "Type 1, the number of models to delete"
    )
    assert not find_all(page.content, "div", **{"hx-trigger": "every 1s"})  # waits for the owner


def test_a_wrong_count_starts_nothing_and_the_right_one_starts_the_job(
    owner: Client, api: respx.MockRouter
) -> None:
    _create(owner, FT[:2])
    job = DeletionJob.objects.get()
    jobs.validate(job.pk)
    confirm = reverse("job-confirm", args=["default", job.pk])

    wrong = owner.post(confirm, {"count": "3"}, follow=True)
    assert "Type 2, the number of models to delete. Nothing was deleted." in text(wrong.content)
    job.refresh_from_db()
    assert job.status == "ready"

    right = owner.post(confirm, {"count": "2"})
    assert right.status_code == 302
    job.refresh_from_db()
    assert job.status == "running"
    assert not [call for call in api.calls if call.request.method == "DELETE"]  # queued, not run


def test_progress_polls_while_running_and_stops_at_one_hundred_percent(
    owner: Client, api: respx.MockRouter
) -> None:
    _create(owner, FT)
    job = DeletionJob.objects.get()
    jobs.validate(job.pk)
    DeletionJob.objects.filter(pk=job.pk).update(concurrency=1)
    owner.post(reverse("job-confirm", args=["default", job.pk]), {"count": "3"})
    htmx = {"HX-Request": "true"}

    running = owner.get(_job_url(job), headers=htmx)
    bar = find(running.content, "progress", role="progressbar")
    assert (bar.attrs["aria-valuenow"], bar.attrs["aria-valuemax"]) == ("0", "3")
    assert find_all(running.content, "div", **{"hx-trigger": "every 1s"})
    assert b"<html" not in running.content  # the fragment only

    jobs.Runner(job.pk).run()
    done = owner.get(_job_url(job), headers=htmx)

    bar = find(done.content, "progress", role="progressbar")
    assert (bar.attrs["aria-valuenow"], bar.attrs["aria-valuemax"]) == ("3", "3")
    assert "100%" in text(done.content)
    assert not find_all(done.content, "div", **{"hx-trigger": "every 1s"})  # polling stops
    ledger = text(done.content)
    assert all(model_id in ledger for model_id in FT)
    assert "Deleted 3" in " ".join(text(done.content).split())


def test_the_page_leads_back_to_the_list_state_it_came_from(
    owner: Client, api: respx.MockRouter
) -> None:
    _create(owner, FT[:1])
    job = DeletionJob.objects.get()

    page = owner.get(_job_url(job))

    back = [a for a in find_all(page.content, "a") if a.text == "Back to the list"]
    assert back and back[0].attrs["href"] == LIST_STATE


@pytest.mark.parametrize(
    "foreign", ["https://evil.example/models/", "//evil.example/", "javascript:alert(1)"]
)
def test_a_foreign_return_address_is_ignored(
    owner: Client, api: respx.MockRouter, foreign: str
) -> None:
    _create(owner, FT[:1], return_to=foreign)

    job = DeletionJob.objects.get()
    assert job.return_to == "/u/default/models/"
    page = owner.get(_job_url(job))
    back = [a for a in find_all(page.content, "a") if a.text == "Back to the list"]
    assert back[0].attrs["href"] == "/u/default/models/"


def test_support_cannot_create_a_job_and_nothing_reaches_upstream(
    support: Client, api: respx.MockRouter
) -> None:
    response = _create(support, FT[:1])

    assert response.status_code == 403
    assert not DeletionJob.objects.exists()
    assert api.calls.call_count == 0


def test_an_admin_sees_a_job_but_cannot_confirm_cancel_or_retry_it(
    owner: Client, team_admin: Client, api: respx.MockRouter
) -> None:
    _create(owner, FT[:1])
    job = DeletionJob.objects.get()
    jobs.validate(job.pk)

    page = team_admin.get(_job_url(job))
    assert page.status_code == 200
    assert not find_all(page.content, "input", id="confirm-count")  # no confirm form to show
    for action in ("confirm", "cancel", "retry", "drop"):
        response = team_admin.post(
            reverse(f"job-{action}", args=["default", job.pk]), {"count": "1"}
        )
        assert response.status_code == 403
    job.refresh_from_db()
    assert job.status == "ready"


def test_the_audit_log_filters_by_job(owner: Client, api: respx.MockRouter) -> None:
    _create(owner, FT[:1])
    _create(owner, FT[1:2])
    first, second = DeletionJob.objects.order_by("pk")

    page = owner.get(reverse("audit-log"), {"job": str(first.pk)})

    rows = find_all(page.content, "tr")[1:]
    assert len(rows) == AuditEntry.objects.filter(job_id=first.pk).count() == 1
    assert f"job #{first.pk}" in text(page.content)
    assert f"job #{second.pk}" not in text(page.content)


def test_dropping_items_from_the_report(owner: Client, api: respx.MockRouter) -> None:
    _create(owner, FT)
    job = DeletionJob.objects.get()
    jobs.validate(job.pk)
    item = JobItem.objects.get(job=job, model_id=FT[1])

    owner.post(reverse("job-drop", args=["default", job.pk]), {"item": [str(item.pk)]})

    assert jobs.to_delete(job) == 2
    page = owner.get(_job_url(job))
    label = find(page.content, "label", **{"for": "confirm-count"})
    assert label.text == "Type 2, the number of models to delete"


def test_the_job_list_shows_jobs_to_owners_and_admins_only(
    owner: Client, support: Client, api: respx.MockRouter
) -> None:
    _create(owner, FT[:1])
    job = DeletionJob.objects.get()

    listing = owner.get(reverse("job-list", args=["default"]))
    assert f"#{job.pk}" in text(listing.content)
    assert support.get(reverse("job-list", args=["default"])).status_code == 403
    assert support.get(_job_url(job)).status_code == 403


def test_a_job_of_another_upstream_is_not_found(owner: Client, api: respx.MockRouter) -> None:
    user = User.objects.get(username="olivia")
    job = DeletionJob.objects.create(upstream="elsewhere", created_by=user, created_by_name="o")

    assert owner.get(_job_url(job)).status_code == 404


def test_the_ledger_exports_as_csv_and_json_with_the_job_in_the_file_name(
    owner: Client, api: respx.MockRouter
) -> None:
    formula = "=HYPERLINK(1)"
    _create(owner, [FT[0], formula])
    job = DeletionJob.objects.get()
    jobs.validate(job.pk)

    csv_response = owner.get(reverse("job-ledger-export", args=["default", job.pk, "csv"]))
    assert csv_response.streaming
    assert (
        f'filename="deletion-job-{job.pk}-ledger-upstream-default.csv"'
        in (csv_response["Content-Disposition"])
    )
    lines = b"".join(csv_response.streaming_content).decode().splitlines()
    assert lines[0].startswith("position,model_id,check,check_reason")
    assert lines[1].startswith(f"1,{FT[0]},ready,")
    assert lines[2].startswith("2,'=HYPERLINK(1),refused,")  # neutralised for spreadsheets

    json_response = owner.get(reverse("job-ledger-export", args=["default", job.pk, "json"]))
    items = json.loads(b"".join(json_response.streaming_content))
    assert [(i["model_id"], i["check"]) for i in items] == [(FT[0], "ready"), (formula, "refused")]
    assert items[1]["check_reason"].startswith("Already gone")
