"""Deletion requests' pages: ask (one model, or the selection), the owners' Requests page,
one request (approve, reject with a comment, withdraw), and My requests.

Permission checks are here and in `requests` (which audits refusals); templates only show
what the checks allow.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from dashboard.catalogue.models import CatalogueModel
from dashboard.pagination import paginate
from dashboard.rendering import HtmxHttpRequest, forbidden, template_for, wants_fragment
from dashboard.signals import client_ip
from dashboard.upstreams import get_upstream
from dashboard.views import list_return_url, upstream_for

from . import requests, selection
from .models import DeletionRequest

Status = DeletionRequest.Status
PER_PAGE = 50
SHOWN_IDS = 8  # ids listed in the request dialog before "and N more"


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Why should these models go?",
        max_length=requests.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Say why: the owners decide on your reason."},
    )


class CommentForm(forms.Form):
    comment = forms.CharField(
        label="Why not? (the requester sees this)",
        max_length=requests.COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "A rejection needs a comment for the requester."},
    )


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """A redirect that htmx follows as a whole page (the dialog's form posts with htmx)."""
    if wants_fragment(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD", "POST"])
def request_create(request: HtmxHttpRequest, alias: str) -> HttpResponse:
    """Ask the owners to delete one model (`model`) or the selection, with a reason."""
    upstream = upstream_for(request, alias)
    if not requests.may_request(request.user, alias):
        return forbidden(request, "Owners delete models themselves; requests are for the others.")
    return_to = list_return_url(request, alias, "return_to", "next")
    single = request.POST.get("model") or request.GET.get("model") or ""
    model_ids = [single] if single else selection.selected_ids(request.user, alias)
    status = 200
    form = ReasonForm(request.POST or None)
    if request.method == "POST":
        if model_ids and form.is_valid():
            try:
                made = requests.create(
                    request.user,
                    upstream,
                    model_ids,
                    form.cleaned_data["reason"],
                    return_to=return_to,
                    remote_addr=client_ip(request),
                )
            except requests.NothingToRequest as exc:
                form.add_error(None, str(exc))
            else:
                text = (
                    f"Request #{made.pk} sent to the owners of {upstream.label}: "
                    f"{_models(len(made.model_ids))}."
                )
                if not single:
                    selection.clear(request.user, alias)
                    text += " Your selection was cleared."
                messages.success(request, text)
                return _redirect(request, return_to)
        status = 422
    known = set(
        CatalogueModel.objects.filter(
            upstream=alias, model_id__in=model_ids[:SHOWN_IDS], is_deletable=True
        )
        .filter(gone_at__isnull=True)
        .values_list("model_id", flat=True)
    )
    context = {
        "form": form,
        "single": single,
        "model_ids": model_ids,
        "shown_ids": [(m, m in known) for m in model_ids[:SHOWN_IDS]],
        "more": max(0, len(model_ids) - SHOWN_IDS),
        "return_to": return_to,
        "reason_max": requests.REASON_MAX,
        "page_title": "Request deletion",
    }
    template = template_for(request, "cleanup/request_new.html", "dialog")
    response = render(request, template, context, status=status)
    if status == 422 and wants_fragment(request):
        response["HX-Retarget"] = "#dialog"
        response["HX-Reswap"] = "innerHTML"
    return response


def _models(n: int) -> str:
    return f"{n} model{'s' if n != 1 else ''}"


def _request_of(
    request: HttpRequest, alias: str, pk: int, *, to_act: bool = False
) -> DeletionRequest:
    """The request, if this user may see it; to act on it, `requests` checks (and audits)."""
    found = DeletionRequest.objects.filter(pk=pk, upstream=alias).first()
    if found is None:
        raise Http404("No such request.")
    if not to_act and not requests.may_see(request.user, found):
        raise PermissionDenied("Only the requester and the upstream's owners see this request.")
    return found


def _detail_context(request: HttpRequest, found: DeletionRequest) -> dict[str, Any]:
    rows = {
        m.model_id: m
        for m in CatalogueModel.objects.filter(
            upstream=found.upstream, model_id__in=list(found.model_ids)
        )
    }
    return {
        "req": found,
        "models": [(m, rows.get(m)) for m in found.model_ids],
        "may_decide": found.status == Status.PENDING and requests.may_decide(request.user, found),
        "own": found.requested_by_id == request.user.pk,
        "job_url": reverse("job-detail", args=[found.upstream, found.job_id])
        if found.job_id
        else "",
        "comment_form": CommentForm(),
        "page_title": f"Request #{found.pk}",
    }


@never_cache
@require_safe
def request_detail(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """One request: its models, reason, requester, status; the decision forms."""
    upstream_for(request, alias)
    found = _request_of(request, alias, pk)
    return render(request, "cleanup/request_detail.html", _detail_context(request, found))


@require_POST
def request_approve(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """Approve: a deletion job over the models, then its page (it starts at validation)."""
    upstream = upstream_for(request, alias)
    found = _request_of(request, alias, pk, to_act=True)
    try:
        job = requests.approve(request.user, upstream, found, remote_addr=client_ip(request))
    except requests.AlreadyDecided as exc:
        messages.warning(request, f"{exc} Nothing was changed.")
        return redirect("request-detail", alias, pk)
    messages.success(
        request,
        f"Approved request #{found.pk}: job #{job.pk} checks the models before deleting any.",
    )
    return redirect("job-detail", alias, job.pk)


@require_POST
def request_reject(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """Reject with a comment (required)."""
    upstream = upstream_for(request, alias)
    found = _request_of(request, alias, pk, to_act=True)
    form = CommentForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    try:
        requests.reject(request.user, upstream, found, comment, remote_addr=client_ip(request))
    except requests.AlreadyDecided as exc:
        messages.warning(request, f"{exc} Nothing was changed.")
    except ValueError:  # no comment, or too long: the form says which
        context = {**_detail_context(request, found), "comment_form": form}
        return render(request, "cleanup/request_detail.html", context, status=422)
    else:
        messages.success(request, f"Rejected request #{found.pk}; the requester sees why.")
    return redirect("request-detail", alias, pk)


@require_POST
def request_withdraw(request: HttpRequest, alias: str, pk: int) -> HttpResponse:
    """The requester takes back a pending request."""
    upstream = upstream_for(request, alias)
    found = _request_of(request, alias, pk, to_act=True)
    try:
        requests.withdraw(request.user, upstream, found, remote_addr=client_ip(request))
    except requests.AlreadyDecided as exc:
        messages.warning(request, f"{exc} Nothing was changed.")
    else:
        messages.success(request, f"Withdrew request #{found.pk}.")
    return redirect("request-detail", alias, pk)


STATUS_FILTERS = {"pending": "Pending", "decided": "Decided", "all": "All"}


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    """The owners' page: requests on the upstreams they own, pending first by default."""
    owned = requests.owned_upstreams(request.user)
    if not owned:
        return forbidden(request, "The Requests page is for owners; see My requests.")
    shown = request.GET.get("status", "pending")
    shown = shown if shown in STATUS_FILTERS else "pending"
    found = requests.for_owner(request.user)
    if shown == "pending":
        found = found.filter(status=Status.PENDING)
    elif shown == "decided":
        found = found.exclude(status=Status.PENDING)
    context = {
        **_listing(request, found, reverse("request-list"), {"status": shown}),
        "shown": shown,
        "filters": STATUS_FILTERS,
        "page_title": "Deletion requests",
    }
    return render(request, template_for(request, "cleanup/request_list.html", "results"), context)


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def my_requests(request: HttpRequest) -> HttpResponse:
    """The requests this user made, on every upstream: status, decision, comment, job."""
    found = DeletionRequest.objects.filter(requested_by_id=request.user.pk)
    context = {
        **_listing(request, found, reverse("my-requests"), {}),
        "mine": True,
        "page_title": "My requests",
    }
    return render(request, template_for(request, "cleanup/request_list.html", "results"), context)


def _listing(
    request: HttpRequest, found: QuerySet[DeletionRequest], path: str, params: dict[str, str]
) -> dict[str, Any]:
    page = Paginator(found.order_by("-created_at", "-id"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    entries = [
        {
            "req": r,
            "label": _label(r.upstream),
            "url": reverse("request-detail", args=[r.upstream, r.pk]),
            "job_url": reverse("job-detail", args=[r.upstream, r.job_id]) if r.job_id else "",
            "first_ids": list(r.model_ids[:3]),
            "more": max(0, len(r.model_ids) - 3),
            "own": r.requested_by_id == request.user.pk,
        }
        for r in page
    ]
    return {
        "page": page,
        "entries": entries,
        "pagination": paginate(
            path,
            page.number,
            page.paginator.num_pages,
            lambda n: "?" + urlencode({**params, "page": str(n)}),
        ),
    }


def _label(alias: str) -> str:
    try:
        return get_upstream(alias).label
    except KeyError:  # an upstream no longer configured: its requests stay readable
        return alias
