"""Lineage on a fine-tune's detail page, and the Deprecation / Sunset headers (issue 11)."""

from __future__ import annotations

import datetime
from typing import Any

import httpx
import pytest
import respx
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dashboard.catalogue import lineage
from dashboard.catalogue.models import CatalogueModel, FineTuningJobRecord
from dashboard.catalogue.sync import sync_models
from tests.markup import find_all

FT = "ft:gpt-4o-mini-2024-07-18:acme:support:Ab12Cd34"
CKPT = f"{FT}:ckpt-step-20"


def _url(model_id: str) -> str:
    return f"/u/default/models/{model_id}/"


def _job(n: int, model: str | None = None) -> dict[str, Any]:
    return {
        "id": f"ftjob-{n}",
        "object": "fine_tuning.job",
        "created_at": 1_760_000_000 + n,
        "finished_at": 1_760_003_600 + n,
        "fine_tuned_model": model or f"ft:gpt-4o-mini-2024-07-18:acme::other{n}",
        "model": "gpt-4o-mini-2024-07-18",
        "status": "succeeded",
        "trained_tokens": 123456,
        "hyperparameters": {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 1.8},
        "method": {"type": "supervised"},
        "training_file": "file-train123",
        "validation_file": "file-valid456",
        "metadata": {"team": "support", "ticket": "ML-101"},
    }


def _checkpoint(step: int) -> dict[str, Any]:
    return {
        "id": f"ftckpt-{step}",
        "object": "fine_tuning.job.checkpoint",
        "fine_tuned_model_checkpoint": f"{FT}:ckpt-step-{step}",
        "fine_tuning_job_id": "ftjob-9",
        "metrics": {"step": float(step), "train_loss": 0.5, "valid_loss": 0.61},
        "step_number": step,
    }


def _serve(real_api: respx.MockRouter, *models: str) -> dict[str, respx.Route]:
    """The model's retrieve, three pages of jobs (the match, ftjob-9, on the third) and its
    checkpoints (steps 30, 20, 10)."""
    pages = {
        None: ([_job(1), _job(2), _job(3)], True),
        "ftjob-3": ([_job(4), _job(5), _job(6)], True),
        "ftjob-6": ([_job(7), _job(8), _job(9, FT)], False),
    }

    def jobs(request: httpx.Request) -> httpx.Response:
        data, more = pages[request.url.params.get("after")]
        return httpx.Response(200, json={"object": "list", "data": data, "has_more": more})

    routes = {
        "jobs": real_api.get("/fine_tuning/jobs").mock(side_effect=jobs),
        "checkpoints": real_api.get("/fine_tuning/jobs/ftjob-9/checkpoints").respond(
            json={
                "object": "list",
                "data": [_checkpoint(30), _checkpoint(20), _checkpoint(10)],
                "has_more": False,
            }
        ),
    }
    for model_id in models:
        real_api.get(f"/models/{model_id}").respond(
            json={"id": model_id, "object": "model", "created": 1, "owned_by": "acme"}
        )
    return routes


def _dl(response: Any, css_class: str) -> dict[str, str]:
    html = response.content.decode()
    start = html.index(f'class="fields {css_class}"')
    chunk = html[start : html.index("</dl>", start)]
    terms = [dt.text for dt in find_all(chunk, "dt")]
    return dict(zip(terms, [dd.text for dd in find_all(chunk, "dd")], strict=True))


def test_the_job_is_found_on_the_third_page_of_jobs_and_shown(
    owner: Client, real_api: respx.MockRouter
) -> None:
    routes = _serve(real_api, FT)

    response = owner.get(_url(FT))

    assert response.status_code == 200
    sent = [call.request.url.params.get("after") for call in routes["jobs"].calls]
    assert sent == [None, "ftjob-3", "ftjob-6"]
    assert {call.request.url.params["limit"] for call in routes["jobs"].calls} == {"100"}
    fields = _dl(response, "lineage__fields")
    assert fields["Fine-tuning job"] == "ftjob-9"
    assert fields["Status"] == "succeeded"
    assert fields["Trained from"] == "gpt-4o-mini-2024-07-18"
    assert fields["Trained tokens"] == "123456"
    assert fields["Hyperparameters"] == (
        "n_epochs=3, batch_size=4, learning_rate_multiplier=1.8 (supervised)"
    )
    assert (fields["Training file"], fields["Validation file"]) == (
        "file-train123",
        "file-valid456",
    )
    assert fields["Metadata"] == "team: support, ticket: ML-101"
    assert fields["Created"].endswith("UTC")
    steps = [td.text for td in find_all(response.content, "td") if td.text in {"30", "20", "10"}]
    assert steps == ["30", "20", "10"]
    record = FineTuningJobRecord.objects.get(upstream="default", job_id="ftjob-9")
    assert (record.fine_tuned_model, record.base_model, len(record.checkpoints)) == (
        FT,
        "gpt-4o-mini-2024-07-18",
        3,
    )


def test_a_cached_job_is_shown_without_any_fine_tuning_call(
    owner: Client, real_api: respx.MockRouter
) -> None:
    routes = _serve(real_api, FT)
    lineage.store("default", _job(9, FT), [_checkpoint(10)])

    response = owner.get(_url(FT))

    assert response.status_code == 200
    assert routes["jobs"].call_count == 0
    assert routes["checkpoints"].call_count == 0
    assert _dl(response, "lineage__fields")["Fine-tuning job"] == "ftjob-9"


@pytest.mark.parametrize("status", [500, 404, 429])
def test_an_upstream_failure_on_the_lookup_keeps_the_page_with_a_message(
    owner: Client, real_api: respx.MockRouter, status: int
) -> None:
    real_api.get(f"/models/{FT}").respond(json={"id": FT, "object": "model", "created": 1})
    jobs = real_api.get("/fine_tuning/jobs").respond(
        status, json={"error": {"message": "nope", "type": "server_error"}}
    )

    response = owner.get(_url(FT))

    assert response.status_code == 200
    assert jobs.call_count == 1
    alerts = [p.text for p in find_all(response.content, "p", class_="alert")]
    assert len(alerts) == 1 and alerts[0].startswith("Could not look up the fine-tuning job:")
    assert FineTuningJobRecord.objects.count() == 0


def test_when_the_api_failed_the_page_does_not_look_up_the_job(
    owner: Client, real_api: respx.MockRouter
) -> None:
    sync_models("default", [{"id": FT, "owned_by": "acme"}])
    real_api.get(f"/models/{FT}").respond(503, json={"error": {"message": "down"}})
    jobs = real_api.get("/fine_tuning/jobs").respond(json={"data": [], "has_more": False})

    response = owner.get(_url(FT))

    assert response.status_code == 200
    assert jobs.call_count == 0
    status = find_all(response.content, "p", role="status")
    assert status and status[0].text.startswith("Looking up the fine-tuning job")


def test_a_long_job_list_is_left_to_the_background_task(
    owner: Client, real_api: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lineage, "LOOKUP_PAGES", 2)
    routes = _serve(real_api, FT)

    response = owner.get(_url(FT))

    assert response.status_code == 200
    assert routes["jobs"].call_count == 2
    status = find_all(response.content, "p", role="status")
    assert status and status[0].text.startswith("Looking up the fine-tuning job")
    queued = DBTaskResult.objects.filter(task_path="dashboard.catalogue.lineage.fill_job_cache")
    assert [r.args_kwargs["args"] for r in queued] == [["default"]]


def test_the_task_reads_every_job_and_its_checkpoints_into_the_cache(
    real_api: respx.MockRouter, db: None
) -> None:
    _serve(real_api)
    real_api.get(path__regex=r"/fine_tuning/jobs/ftjob-[1-8]/checkpoints").respond(
        json={"object": "list", "data": [], "has_more": False}
    )
    sync_models(
        "default",
        [{"id": "gpt-4o-mini", "shutdown_date": "2027-05-01"}, {"id": FT, "owned_by": "acme"}],
    )

    result = lineage.fill_job_cache.call("default")

    assert result["jobs"] == 9
    assert FineTuningJobRecord.objects.filter(upstream="default").count() == 9
    assert len(FineTuningJobRecord.objects.get(job_id="ftjob-9").checkpoints) == 3
    assert CatalogueModel.objects.get(model_id=FT).stops_on == datetime.date(2027, 5, 1)


def test_a_checkpoint_model_links_its_final_model_and_listed_siblings(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve(real_api, CKPT)
    sync_models(
        "default",
        [{"id": m, "owned_by": "acme"} for m in (FT, CKPT, f"{FT}:ckpt-step-30")],
    )

    response = owner.get(_url(CKPT))

    assert response.status_code == 200
    links = {a.text: a.attrs["href"] for a in find_all(response.content, "a")}
    assert links[FT] == _url(FT)
    assert links[f"{FT}:ckpt-step-30"] == _url(f"{FT}:ckpt-step-30")
    assert f"{FT}:ckpt-step-10" not in links  # not in the catalogue: named, not linked
    current = find_all(response.content, "tr", class_="is-current")
    assert len(current) == 1 and "this model" in current[0].text


def test_the_detail_page_shows_the_sandboxs_deprecation_and_sunset_headers(
    owner: Client, sandbox: int
) -> None:
    response = owner.get(_url("babbage-002"))

    notes = find_all(response.content, "div", class_="deprecation")
    assert len(notes) == 1
    title = find_all(response.content, "p", id="deprecation-title")[0].text
    assert title.startswith("Deprecated since ")
    assert "· Sunset 2026-10-23" in title
    assert title.endswith("Deprecation notice")


def test_a_model_without_a_shutdown_date_shows_no_deprecation(owner: Client, sandbox: int) -> None:
    response = owner.get(_url("gpt-4o"))

    assert find_all(response.content, "div", class_="deprecation") == []


def test_a_fine_tunes_page_says_when_it_stops_and_with_which_base(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _serve(real_api, FT)
    day = timezone.now().date() + datetime.timedelta(days=40)
    sync_models(
        "default",
        [{"id": "gpt-4o-mini", "shutdown_date": day.isoformat()}, {"id": FT, "owned_by": "acme"}],
    )

    response = owner.get(_url(FT))

    line = find_all(response.content, "p", class_="stops-line")[0].text
    assert line == (
        f"Stops working on {day.isoformat()} (in 40 days), with its base model gpt-4o-mini. "
        "All shutdowns"
    )
