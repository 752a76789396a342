"""The fine-tuning job behind a fine-tune (issue 11 §3), cached in `FineTuningJobRecord`.

- `job_for(upstream, model_id, budget=…)` (the detail page): the cached job; on a miss it pages
  `GET /fine_tuning/jobs` (newest first) within the page's budget for the job whose
  `fine_tuned_model` is the model (for a checkpoint model `…:ckpt-step-N`, the model it is a
  checkpoint of), fetches that job's checkpoints and caches it. When the budget or the page
  bound runs out first it queues `fill_job_cache` and says "looking it up"; an upstream failure
  is returned as a problem, never raised.
- `fill_job_cache(alias)` (a task): pages every job once, with each job's checkpoints, into the
  cache; then recomputes the upstream's stop dates (a job's `model` can name the base).
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from django.core.cache import cache
from django.tasks import task
from django.utils import timezone

import modelsclient
from dashboard.upstreams import (
    MIN_ATTEMPT_SECONDS,
    Budget,
    Upstream,
    UpstreamProblem,
    call_within_budget,
    describe_error,
    get_client,
    get_upstream,
)

from . import stops
from .models import CatalogueModel, FineTuningJobRecord

CHECKPOINT = re.compile(r":ckpt-step-(\d+)$")
JOBS_PER_PAGE = 100  # the API's most
LOOKUP_PAGES = 5  # a page looks through at most this many pages of jobs itself
CHECKPOINT_PAGES = 10  # checkpoints per job: at most this many pages (jobs keep a few)
SCANNED_SECONDS = 24 * 3600  # how long a full scan counts as recent

State = Literal["found", "looking", "none", "failed"]
_UNEXPECTED = UpstreamProblem(502, "Unexpected error", "The lookup failed; see the server log.")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sibling:
    """One checkpoint of the job: its model id, step, metrics, and whether it is listed."""

    model_id: str
    step: int | None
    metrics: dict[str, Any]
    listed: bool
    current: bool


@dataclass(frozen=True)
class Lineage:
    """What the detail page says about where a fine-tune came from."""

    state: State
    job: FineTuningJobRecord | None = None
    problem: UpstreamProblem | None = None
    final_model: str = ""  # the model a checkpoint model is a checkpoint of
    final_listed: bool = False
    checkpoints: list[Sibling] = field(default_factory=list)
    in_checkpoints: bool = True  # a checkpoint model: whether the job lists it
    scanned_at: datetime.datetime | None = None

    @property
    def data(self) -> dict[str, Any]:
        return self.job.data if self.job else {}


def final_model(model_id: str) -> str:
    """The fine-tuned model a checkpoint model `…:ckpt-step-N` belongs to (else the id)."""
    return CHECKPOINT.sub("", model_id)


def cached(alias: str, model_id: str) -> FineTuningJobRecord | None:
    """The cached job whose `fine_tuned_model` is the model (or the model it checkpoints)."""
    return (
        FineTuningJobRecord.objects.filter(upstream=alias, fine_tuned_model=final_model(model_id))
        .order_by("-fetched_at", "job_id")
        .first()
    )


def job_for(upstream: Upstream, model_id: str, *, budget: Budget, look_up: bool = True) -> Lineage:
    """The lineage of `model_id`: from the cache, else looked up within `budget` (unless
    `look_up` is False: the API just failed this page), else queued."""
    record = cached(upstream.alias, model_id)
    if record is None and look_up:
        try:
            record, more = _look_up(upstream, final_model(model_id), budget)
        except (modelsclient.APIError, ValueError) as exc:
            return Lineage("failed", problem=describe_error(exc))
        except Exception:  # a side panel: whatever went wrong, the model's page still shows
            log.exception("Looking up the fine-tuning job of %r failed", model_id)
            return Lineage("failed", problem=_UNEXPECTED)
        if record is None:
            scanned = scanned_at(upstream)
            if more and scanned is None:
                request_fill(upstream.alias)
                return Lineage("looking")
            return Lineage("none", scanned_at=scanned)
    if record is None:  # not looked up: the API just failed on this page
        scanned = scanned_at(upstream)
        if scanned is not None:
            return Lineage("none", scanned_at=scanned)
        request_fill(upstream.alias)
        return Lineage("looking")
    return _described(upstream.alias, model_id, record)


def _described(alias: str, model_id: str, record: FineTuningJobRecord) -> Lineage:
    final = record.fine_tuned_model or final_model(model_id)
    checkpoint_ids = [
        str(c.get("fine_tuned_model_checkpoint", ""))
        for c in record.checkpoints
        if isinstance(c, dict)
    ]
    listed = set(
        CatalogueModel.objects.filter(
            upstream=alias, gone_at__isnull=True, model_id__in=[final, *checkpoint_ids]
        ).values_list("model_id", flat=True)
    )
    siblings = [
        Sibling(
            model_id=checkpoint_id,
            step=c.get("step_number") if isinstance(c.get("step_number"), int) else None,
            metrics=c.get("metrics") if isinstance(c.get("metrics"), dict) else {},
            listed=checkpoint_id in listed,
            current=checkpoint_id == model_id,
        )
        for c, checkpoint_id in zip(record.checkpoints, checkpoint_ids, strict=True)
    ]
    is_checkpoint = bool(CHECKPOINT.search(model_id))
    return Lineage(
        "found",
        job=record,
        final_model=final,
        final_listed=final in listed,
        checkpoints=siblings,
        in_checkpoints=not is_checkpoint or model_id in checkpoint_ids,
    )


def _look_up(
    upstream: Upstream, wanted: str, budget: Budget
) -> tuple[FineTuningJobRecord | None, bool]:
    """(the job of `wanted`, cached; or None and whether more pages were left unread)."""
    after: str | None = None
    for _ in range(LOOKUP_PAGES):
        if budget.left() < MIN_ATTEMPT_SECONDS:
            return None, True
        body = call_within_budget(
            partial(_jobs_page, after=after), upstream=upstream, budget=budget
        )
        jobs = [job for job in body.get("data") or [] if isinstance(job, dict)]
        for job in jobs:
            if job.get("fine_tuned_model") == wanted:
                checkpoints = call_within_budget(
                    partial(_all_checkpoints, job_id=str(job["id"])),
                    upstream=upstream,
                    budget=budget,
                )
                return store(upstream.alias, job, checkpoints), False
        if not body.get("has_more") or not jobs:
            return None, False
        after = str(jobs[-1].get("id", ""))
    return None, True


def _jobs_page(client: modelsclient.Client, after: str | None) -> dict[str, Any]:
    """One page of jobs as sent."""
    options: dict[str, Any] = {"limit": JOBS_PER_PAGE}
    if after:
        options["after"] = after
    body = client.fine_tuning.jobs.with_raw_response.list(**options).json()
    return body if isinstance(body, dict) else {}


def _all_checkpoints(client: modelsclient.Client, job_id: str) -> list[dict[str, Any]]:
    """A job's checkpoints as sent, newest first (every page, up to CHECKPOINT_PAGES)."""
    found: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(CHECKPOINT_PAGES):
        options: dict[str, Any] = {"limit": 100}
        if after:
            options["after"] = after
        body = client.fine_tuning.jobs.checkpoints.with_raw_response.list(job_id, **options)
        page = body.json()
        items = [c for c in (page.get("data") or []) if isinstance(c, dict)]
        found.extend(items)
        if not page.get("has_more") or not items:
            break
        after = str(items[-1].get("id", ""))
    return found


def store(
    alias: str, job: dict[str, Any], checkpoints: list[dict[str, Any]]
) -> FineTuningJobRecord:
    """Cache one job (as sent) and its checkpoints."""
    record, _ = FineTuningJobRecord.objects.update_or_create(
        upstream=alias,
        job_id=str(job.get("id", ""))[:200],
        defaults={
            "fine_tuned_model": str(job.get("fine_tuned_model") or "")[:512],
            "base_model": str(job.get("model") or "")[:512],
            "status": str(job.get("status") or "")[:32],
            "data": job,
            "checkpoints": checkpoints,
            "fetched_at": timezone.now(),
        },
    )
    return record


# --- The whole upstream, in the background ----------------------------------------------------


def _scan_key(upstream: Upstream) -> str:
    return f"lineage:scanned:{upstream.cache_key}"


def scanned_at(upstream: Upstream) -> datetime.datetime | None:
    """When `fill_job_cache` last read every job of the upstream (recently), if it did."""
    found = cache.get(_scan_key(upstream))
    return found if isinstance(found, datetime.datetime) else None


def request_fill(alias: str) -> bool:
    """Queue `fill_job_cache` unless one waits already; True if this call queued it."""
    from .tasks import is_pending

    if is_pending(fill_job_cache, alias):
        return False
    fill_job_cache.enqueue(alias)
    return True


def _every_job(client: modelsclient.Client) -> Iterator[dict[str, Any]]:
    after: str | None = None
    while True:
        body = _jobs_page(client, after)
        jobs = [job for job in body.get("data") or [] if isinstance(job, dict)]
        yield from jobs
        if not body.get("has_more") or not jobs:
            return
        after = str(jobs[-1].get("id", ""))


@task()
def fill_job_cache(alias: str) -> dict[str, Any]:
    """Read every fine-tuning job of the upstream (and their checkpoints) into the cache."""
    upstream = get_upstream(alias)
    client = get_client(upstream)
    jobs = 0
    try:
        for job in _every_job(client):
            checkpoints = (
                _all_checkpoints(client, str(job["id"])) if job.get("fine_tuned_model") else []
            )
            store(alias, job, checkpoints)
            jobs += 1
    except (modelsclient.APIError, ValueError) as exc:
        return {"upstream": alias, "jobs": jobs, "error": describe_error(exc).title}
    cache.set(_scan_key(upstream), timezone.now(), SCANNED_SECONDS)
    changed = stops.update_stops(alias)
    return {"upstream": alias, "jobs": jobs, "stops_changed": changed}
