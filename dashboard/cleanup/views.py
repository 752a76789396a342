"""Deletion job pages: create (owners), the check's report, confirm, progress and ledger,
cancel, retry the failed ones, the ledger as CSV or JSON.

Owners of the upstream act; its Admins (audit readers) and the requester of an approved
request may look. Every refusal is decided here, on the server, before any upstream call.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard import exports, roles
from dashboard.pagination import paginate
from dashboard.rendering import forbidden, template_for
from dashboard.signals import client_ip
from dashboard.views import list_return_url, upstream_for

from . import jobs, selection
from .models import DeletionJob, DeletionRequest, JobItem

LEDGER_PAGE = 100
LEDGER_COLUMNS = [
    "position",
    "model_id",
    "check",
    "check_reason",
    "notes",
    "outcome",
    "message",
    "upstream_status",
    "upstream_request_id",
    "audit_entry",
    "finished_utc",
]


def _job(request: HttpRequest, alias: str, pk: int) -> DeletionJob:
    """The job of this upstream, if this user may look at it (404 / 403 otherwise)."""
    upstream_for(request, alias)
    job = DeletionJob.objects.filter(pk=pk, upstream=alias).select_related("retry_of").first()
    if job is None:
        raise Http404(f"No deletion job #{pk} on this upstream.")
    if roles.can_view_audit(request.user, alias):
        return job
    requested = DeletionRequest.objects.filter(job=job, requested_by=request.user.pk).exists()
    if requested:
        return job
    raise PermissionDenied("Deletion jobs are for the upstream's owners and admins.")


def _require_owner(request: HttpRequest, alias: str, what: str) -> None:
    """403 (Django's handler: the site's page with the reason, a security event) unless the
    user is an Owner of the upstream."""
    if not roles.can_delete(request.user, alias):
        raise PermissionDenied(f"Only owners may {what}.")


def _owned_job(request: HttpRequest, alias: str, pk: int, what: str) -> DeletionJob:
    """The job, for one of its owners to act on (404 / 403 otherwise)."""
    job = _job(request, alias, pk)
    _require_owner(request, alias, what)
    return job


@never_cache
@require_safe
def job_list(request: HttpRequest, alias: str) -> HttpResponse:
    """The upstream's deletion jobs, newest first (owners and admins)."""
    upstream_for(request, alias)
    if not roles.can_view_audit(request.user, alias):
        return forbidden(request, "Deletion jobs are for the upstream's owners and admins.")
    page = Paginator(DeletionJob.objects.filter(upstream=alias), 25).get_page(
        request.GET.get("page")
    )
    rows = [(job, jobs.progress(job)) for job in page]
    context = {
        "page": page,
        "rows": rows,
        "pagination": paginate(
            reverse("job-list", args=[alias]),
            page.number,
            page.paginator.num_pages,
            lambda n: "?" + urlencode({"page": str(n)}),
        ),
        "page_title": "Deletion jobs",
    }
    return render(request, "cleanup/job_list.html", context)


@require_POST
def job_create(request: HttpRequest, alias: str) -> HttpResponse:
    """A job over the posted `model_id`s (the selection, or one model); deletes nothing yet."""
    upstream = upstream_for(request, alias)
    _require_owner(request, alias, "create deletion jobs")
    return_to = list_return_url(request, alias, "return_to")
    from_selection = bool(request.POST.get("selection"))
    if from_selection:  # the user's selection, read here: any number of ids, never posted
        ids = selection.selected_ids(request.user, alias)
    else:
        ids = request.POST.getlist("model_id")
    try:
        job = jobs.create_job(
            request.user, upstream, ids, return_to=return_to, remote_addr=client_ip(request)
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect(return_to)
    if from_selection:
        selection.clear(request.user, alias)
        messages.info(request, f"Your selection is in job #{job.pk}, and was cleared.")
    return redirect("job-detail", alias, job.pk)


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def job_detail(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """The job: its check's report (ready / refused, drop, confirm), then its progress bar and
    ledger. htmx polls the `progress` fragment until the job has ended."""
    job = _job(request, alias, pk)
    shown = request.GET.get("show", "")
    items = JobItem.objects.filter(job=job).select_related("audit_entry").order_by("position")
    if job.status in (DeletionJob.Status.VALIDATING, DeletionJob.Status.READY):
        tab = shown if shown in ("ready", "refused", "dropped") else ""
        items = {
            "ready": items.filter(verdict=JobItem.Verdict.READY, dropped=False),
            "refused": items.filter(verdict=JobItem.Verdict.REFUSED),
            "dropped": items.filter(dropped=True),
        }.get(tab, items)
    else:
        tab = shown if shown in JobItem.Outcome.values else ""
        items = items.filter(outcome=tab) if tab else items
    page = Paginator(items, LEDGER_PAGE).get_page(request.GET.get("page"))
    base = reverse("job-detail", args=[alias, job.pk])
    context = {
        "job": job,
        "progress": jobs.progress(job),
        "to_delete": jobs.to_delete(job) if job.status == DeletionJob.Status.READY else 0,
        "items": page,
        "tab": tab,
        "pagination": paginate(
            base,
            page.number,
            page.paginator.num_pages,
            lambda n: "?" + urlencode({**({"show": tab} if tab else {}), "page": str(n)}),
        ),
        "may_act": roles.can_delete(request.user, alias),
        "back_url": job.return_to or reverse("model-list", args=[alias]),
        "page_title": f"Deletion job #{job.pk}",
        "request_of_job": DeletionRequest.objects.filter(job=job).first(),
        "now": timezone.now(),
    }
    return render(request, template_for(request, "cleanup/job.html", "progress"), context)


@require_POST
def job_drop(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """Take the ticked items out of a ready job."""
    job = _owned_job(request, alias, pk, "change deletion jobs")
    picked = [int(value) for value in request.POST.getlist("item") if value.isdigit()]
    dropped = jobs.drop_items(job, picked)
    if dropped:
        messages.info(request, f"Dropped {dropped} model{'s' * (dropped != 1)} from the job.")
    elif job.status != DeletionJob.Status.READY:
        messages.error(request, "Items can only be dropped while the job waits to be confirmed.")
    return redirect("job-detail", alias, job.pk)


@require_POST
def job_check(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """Queue the check again (after the API could not be read)."""
    job = _owned_job(request, alias, pk, "check deletion jobs")
    if job.status == DeletionJob.Status.VALIDATING:
        jobs.check_again(job)
        messages.info(request, "Checking again.")
    return redirect("job-detail", alias, job.pk)


@require_POST
def job_confirm(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """Start the job: the owner typed the number of models it will delete."""
    job = _owned_job(request, alias, pk, "run deletion jobs")
    try:
        typed = request.POST.get("count", "")
        jobs.confirm(job, request.user, typed, remote_addr=client_ip(request))
    except jobs.NotConfirmed as exc:
        messages.error(request, str(exc))
        return redirect("job-detail", alias, job.pk)
    messages.success(request, f"Job #{job.pk} started.")
    return redirect("job-detail", alias, job.pk)


@require_POST
def job_cancel(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    job = _owned_job(request, alias, pk, "cancel deletion jobs")
    if jobs.cancel(job, request.user, remote_addr=client_ip(request)):
        messages.warning(request, f"Job #{job.pk} cancelled: models not yet started are skipped.")
    else:
        messages.error(request, f"Job #{job.pk} had already ended.")
    return redirect("job-detail", alias, job.pk)


@require_POST
def job_retry(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """A new job over the failed items; it is checked again before anything is deleted."""
    job = _owned_job(request, alias, pk, "retry deletion jobs")
    try:
        retry = jobs.retry_failed(job, request.user, remote_addr=client_ip(request))
    except ValueError as exc:
        messages.error(request, str(exc))
        return redirect("job-detail", alias, job.pk)
    return redirect("job-detail", alias, retry.pk)


@never_cache
@require_safe
def job_ledger_export(
    request: HttpRequest, alias: str, pk: int, fmt: str
) -> HttpResponse | StreamingHttpResponse:
    """Every item of the job with its check and outcome, as CSV or JSON (streamed)."""
    job = _job(request, alias, pk)
    if fmt not in ("csv", "json"):
        raise Http404("Exports are CSV or JSON.")
    items = JobItem.objects.filter(job=job).order_by("position").iterator(exports.CHUNK_SIZE)
    name = exports.export_filename(f"deletion-job-{job.pk}-ledger", {"upstream": alias}, fmt)
    if fmt == "json":
        return exports.json_response(name, (_ledger_item(item) for item in items))
    rows = (
        [
            item.position + 1,
            exports.neutralise(item.model_id),
            _check_words(item),
            exports.neutralise(item.refusal_text),
            exports.neutralise(" ".join(item.notes)),
            item.outcome,
            exports.neutralise(item.message),
            item.upstream_status or "",
            exports.neutralise(item.upstream_request_id),
            item.audit_entry_id or "",
            item.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ") if item.finished_at else "",
        ]
        for item in items
    )
    return exports.csv_response(name, LEDGER_COLUMNS, rows)


def _check_words(item: JobItem) -> str:
    return "dropped" if item.dropped else item.verdict


def _ledger_item(item: JobItem) -> dict[str, object]:
    return {
        "position": item.position + 1,
        "model_id": item.model_id,
        "check": _check_words(item),
        "check_reason": item.refusal_text,
        "notes": item.notes,
        "outcome": item.outcome or None,
        "message": item.message,
        "upstream_status": item.upstream_status,
        "upstream_request_id": item.upstream_request_id or None,
        "audit_entry": item.audit_entry_id,
        "finished_utc": item.finished_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if item.finished_at
        else None,
    }
