"""The dashboard's pages: one function view per URL, each serving full page and htmx fragment."""

from __future__ import annotations

import json
import re
import shlex
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

import modelsclient

from . import roles
from .catalogue import freshness, lineage, queries, stops
from .catalogue.models import CatalogueModel, Change
from .cleanup.selection import context as selection_context
from .deletion import ConfirmDeleteForm, Deletion, delete_model, deny
from .listing import PAGE_SIZES, ListQuery, Row, parse_fine_tune
from .models import AuditEntry
from .pagination import paginate
from .rendering import HtmxHttpRequest, current_path, forbidden, template_for, wants_fragment
from .signals import client_ip
from .upstreams import (
    DEFAULT,
    Budget,
    Upstream,
    UpstreamProblem,
    call_within_budget,
    describe_error,
    get_client,
    get_upstream,
    scrub,
)
from .usage import pages as usage_pages

Outcome = AuditEntry.Outcome

# Response headers hidden on the detail page: those that carry credentials or session state.
# Every other header is shown (values still scrubbed of anything that looks like a key).
# "token" counts only as a credential: `x-ratelimit-remaining-tokens` is a count, shown.
CREDENTIAL_HEADER = re.compile(
    r"authorization|cookie|key|secret|session|token(?!s(?:$|-))", re.IGNORECASE
)
SHOWN_BODY_CHARS = 64 * 1024  # the raw body on the detail page; the full answer can be larger
SHOWN_VALUE_CHARS = 1000  # one field's value on the detail page


def problem_response(
    request: HttpRequest, problem: UpstreamProblem, *, retry_url: str, title: str
) -> HttpResponse:
    """The one way an upstream failure becomes a page (or, for htmx, the fragment)."""
    context = {"problem": problem, "retry_url": retry_url, "page_title": title}
    return render(
        request, template_for(request, "error.html", "problem"), context, status=problem.status
    )


def upstream_for(request: HttpRequest, alias: str) -> Upstream:
    """The URL's upstream, when this user may see it (the page header then shows it).

    Raises Http404 for an alias that is not configured and PermissionDenied without access;
    every view of an upstream calls this first.
    """
    try:
        upstream = get_upstream(alias)
    except KeyError:
        raise Http404(f"No upstream is configured as {alias!r}.") from None
    if not roles.can_view(request.user, alias):
        raise PermissionDenied(f"You have no access to the upstream {upstream.label}.")
    request.upstream = upstream  # type: ignore[attr-defined]
    return upstream


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's 403 handler: the site's own 403 page or fragment, with the reason."""
    reason = str(exception) if exception and str(exception) else "You may not do that."
    return forbidden(request, reason)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """The first upstream this user may see (the default one first)."""
    visible = roles.visible_upstreams(request.user)
    return redirect("model-list", visible[0].alias if visible else DEFAULT)


@require_http_methods(["GET", "HEAD", "POST"])
def legacy_redirect(request: HttpRequest, model_id: str = "", action: str = "") -> HttpResponse:
    """The URLs from before several upstreams: the same page on the default upstream (307,
    so a form posted to an old address is posted again, not lost)."""
    if model_id:
        target = reverse(f"model-{action or 'detail'}", args=[DEFAULT, model_id])
    else:
        target = reverse("model-list", args=[DEFAULT])
    query = request.META.get("QUERY_STRING", "")
    return HttpResponseRedirect(target + (f"?{query}" if query else ""), status=307)


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def model_list(request: HttpRequest, alias: str) -> HttpResponse:
    """The catalogue's copy, at once; only a first-ever load waits (bounded) for the API."""
    upstream = upstream_for(request, alias)
    query = ListQuery.from_querydict(request.GET)
    usage, query = usage_pages.for_list(upstream, query)  # "Last used", the idle filter
    list_path = reverse("model-list", args=[alias])
    asked = bool(request.GET.get("refresh"))
    status = freshness.copy_status(upstream, ask=asked)
    if status.updated_at is None:
        problem = freshness.first_load(upstream)
        if problem:
            retry_url = (list_path + query.url()).removesuffix("?")
            return problem_response(request, problem, retry_url=retry_url, title="Models")
        status = freshness.copy_status(upstream)
    elif asked and not wants_fragment(request):
        return redirect(list_path + query.url())  # the refresh is queued: back to the page
    now = time.time()
    result = queries.list_page(alias, query, now, usage_days=usage.days if usage.known else None)
    page = result.page
    list_url = list_path + query.url()
    page_ids = [row.id for row in page.rows if row.is_deletable]
    context = {
        "query": query,
        "page": page,
        "pagination": paginate(list_path, page.number, page.num_pages, lambda n: query.url(page=n)),
        "facets": result.facets,
        "status": status,
        "new_ids": freshness.new_ids(alias, result.models),
        "total_models": queries.present(alias).count() if query.is_filtered else page.total,
        "list_url": list_url,
        "page_sizes": PAGE_SIZES,
        "columns": query.columns(),
        "usage": usage,
        **selection_context(request.user, alias, query, page_ids, now=now, return_to=list_url),
    }
    response = render(request, template_for(request, "models/list.html", "results"), context)
    if wants_fragment(request) and current_path(request) != list_url.removesuffix("?"):
        response["HX-Push-Url"] = list_url  # canonical: no empty or `refresh` params
    return response


@never_cache
@require_safe
def model_list_status(request: HttpRequest, alias: str) -> HttpResponse:
    """The copy's status line (htmx polls it while a background refresh runs)."""
    upstream = upstream_for(request, alias)
    try:
        shown = float(request.GET.get("shown", ""))
    except ValueError:
        shown = 0.0
    status = freshness.copy_status(upstream)
    newer = bool(status.updated_at and shown and status.updated_at.timestamp() > shown + 0.5)
    context = {
        "status": status,
        "newer": newer,
        "query": ListQuery(),
        "list_url": reverse("model-list", args=[alias]),
    }
    return render(request, "models/list.html#status", context)


@never_cache
@vary_on_headers("HX-Request")
@require_safe
def model_detail(request: HttpRequest, alias: str, model_id: str) -> HttpResponse:
    """The catalogue's fields and history, the API's raw answer; a tombstone when gone."""
    upstream = upstream_for(request, alias)
    story = queries.history(alias, model_id)
    known = story.model
    if known is not None and known.gone_at is not None:
        return _tombstone(request, alias, model_id, story)
    client = get_client(upstream)
    budget = Budget.for_upstream(upstream)  # the retrieve and the lineage lookup share it
    raw = None
    problem = None
    try:
        raw = call_within_budget(
            lambda c: c.models.with_raw_response.retrieve(model_id),
            upstream=upstream,
            budget=budget,
        )
        model = raw.parse()
    except (modelsclient.APIError, ValueError) as exc:
        problem = describe_error(exc)
        if known is None:
            if isinstance(exc, modelsclient.NotFoundError) and _delete_entry(alias, model_id):
                return _tombstone(request, alias, model_id, story)
            retry_url = request.get_full_path()
            return problem_response(request, problem, retry_url=retry_url, title=model_id)
    data = known.data if known is not None else model.to_dict()
    context = {
        "model_id": model_id,
        "row": Row.from_api({**data, "id": model_id}),
        "fields": _fields(data),
        "extra_fields": sorted((k, v) for k, v in data.items() if k not in CORE_FIELDS),
        "known": known,
        "last_seen": story.last_seen,
        "problem": problem,
        "history": _history(request, alias, model_id, story),
        "page_title": model_id,
        **usage_pages.for_detail(upstream, model_id),
    }
    if raw is not None:
        context.update(
            raw_json=_shown_body(raw.json()),
            status_line=f"{raw.http_version} {raw.status_code} {raw.http_response.reason_phrase}",
            headers=[(name, _shown_header(name, value)) for name, value in raw.headers.items()],
            request_id=scrub(raw.request_id) if raw.request_id else None,
            elapsed_ms=round(raw.elapsed.total_seconds() * 1000, 1),
            retries_taken=raw.retries_taken,
            curl=_curl(request, upstream, client, raw.url),
            deprecation=stops.deprecation(raw.headers),
        )
    # Issue 11: when it stops working, and (a fine-tune) the job it came from.
    context["stops"] = known if known is not None and known.stops_on else None
    if parse_fine_tune(model_id):
        context["lineage"] = lineage.job_for(
            upstream, model_id, budget=budget, look_up=problem is None
        )
    return render(request, template_for(request, "models/detail.html", "content"), context)


CORE_FIELDS = tuple(modelsclient.Model.model_fields)  # the schema's fields, in its order


def _fields(data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The model's fields as the page lists them: the schema's four first, then the rest."""
    rest = [name for name in data if name not in CORE_FIELDS]
    return [(name, _shown_value(data.get(name))) for name in (*CORE_FIELDS, *rest)]


def _tombstone(
    request: HttpRequest, alias: str, model_id: str, story: queries.History
) -> HttpResponse:
    """A gone model: 410 Gone, with what was last known, when, who deleted it, its history."""
    known = story.model
    entry = _delete_entry(alias, model_id)
    departure = next((c for c in story.changes if c.kind == Change.Kind.DISAPPEARED), None)
    if departure is not None and departure.audit_entry is not None:
        entry = departure.audit_entry
    data = known.data if known is not None else (entry.model_snapshot if entry else {})
    deleted_here = entry is not None and (
        departure is None or departure.cause != Change.Cause.DELETED_ELSEWHERE
    )
    context = {
        "model_id": model_id,
        "row": Row.from_api({**data, "id": model_id}),
        "fields": _fields(data),
        "known": known,
        "last_seen": story.last_seen or (entry.created_at if entry else None),
        "gone_at": known.gone_at if known else (entry.finished_at if entry else None),
        "entry": entry if deleted_here else None,
        "may_read_audit": roles.can_view_audit(request.user, alias),
        "history": _history(request, alias, model_id, story),
        "page_title": f"{model_id} (gone)",
    }
    template = template_for(request, "models/tombstone.html", "content")
    return render(request, template, context, status=410)


def _delete_entry(alias: str, model_id: str) -> AuditEntry | None:
    """The latest delete through this dashboard that left the model gone."""
    return (
        AuditEntry.objects.filter(
            upstream_alias=alias,
            model_id=model_id,
            action="delete",
            outcome__in=[Outcome.DELETED, Outcome.ALREADY_GONE],
        )
        .order_by("-created_at", "-id")
        .first()
    )


def _history(
    request: HttpRequest, alias: str, model_id: str, story: queries.History
) -> dict[str, Any]:
    """First seen, the catalogue's changes and (for audit readers) every delete attempt."""
    may_read_audit = roles.can_view_audit(request.user, alias)
    attempts = (
        list(
            AuditEntry.objects.filter(upstream_alias=alias, model_id=model_id, action="delete")
            .exclude(outcome=Outcome.DENIED)
            .order_by("-created_at", "-id")[:50]
        )
        if may_read_audit
        else []
    )
    return {
        "first_seen": story.model.first_seen if story.model else None,
        "changes": story.changes,
        "attempts": attempts,
        "may_read_audit": may_read_audit,
        "audit_url": reverse("audit-log") + "?" + urlencode({"upstream": alias, "model": model_id}),
    }


def _shown_header(name: str, value: str) -> str:
    if CREDENTIAL_HEADER.search(name):
        return "[redacted]"
    return scrub(value)[:SHOWN_VALUE_CHARS]


def _shown_value(value: Any) -> Any:
    """A field as the page shows it: numbers as they are, text (and lists, objects as JSON)
    scrubbed and cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = scrub(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return text if len(text) <= SHOWN_VALUE_CHARS else text[:SHOWN_VALUE_CHARS] + "… (cut)"


def _shown_body(body: Any) -> str:
    """The body as indented JSON, scrubbed, and cut at a size a page can carry."""
    text = scrub(json.dumps(body, indent=2, ensure_ascii=False, sort_keys=False))
    if len(text) <= SHOWN_BODY_CHARS:
        return text
    return (
        text[:SHOWN_BODY_CHARS]
        + f"\n… (cut: the body is {len(text):,} characters; the page shows the first "
        f"{SHOWN_BODY_CHARS:,})"
    )


def _curl(
    request: HttpRequest, upstream: Upstream, client: modelsclient.Client, url: httpx.URL
) -> str:
    """The request just made, as a shell command; the key is always `$OPENAI_API_KEY`."""
    if upstream.is_sandbox:  # reachable over HTTP at this server's address
        url = httpx.URL(request.build_absolute_uri("/")).copy_with(raw_path=url.raw_path)
    parts = [f"curl {shlex.quote(str(url))}", '-H "Authorization: Bearer $OPENAI_API_KEY"']
    if client.organization:
        parts.append(f"-H {shlex.quote('OpenAI-Organization: ' + client.organization)}")
    if client.project:
        parts.append(f"-H {shlex.quote('OpenAI-Project: ' + client.project)}")
    return " \\\n  ".join(parts)


@never_cache
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD", "POST"])
def model_delete(request: HtmxHttpRequest, alias: str, model_id: str) -> HttpResponse:
    """Admin-style delete: permission, fetch, confirm (GET), act (POST), message, redirect."""
    upstream = upstream_for(request, alias)
    if not roles.can_delete(request.user, alias):
        return deny(request, upstream, model_id, "Only owners may delete models.")
    next_url = _next_url(request, alias)
    snapshot = _catalogue_snapshot(alias, model_id)
    if request.method == "POST":
        form = ConfirmDeleteForm(request.POST, model_id=model_id)
        if form.is_valid():
            deletion = delete_model(
                request.user,
                upstream,
                model_id,
                snapshot=snapshot,
                remote_addr=client_ip(request),
            )
            return _deletion_response(request, model_id, deletion, next_url)
        status = 422
    else:
        form = ConfirmDeleteForm(model_id=model_id)
        status = 200
    gone = False
    if snapshot is None:
        try:
            snapshot = call_within_budget(
                lambda c: c.models.retrieve(model_id).to_dict(), upstream=upstream
            )
        except modelsclient.NotFoundError:
            gone = True
        except (modelsclient.APIError, ValueError) as exc:
            return problem_response(
                request, describe_error(exc), retry_url=request.get_full_path(), title="Delete"
            )
    context = {
        "model_id": model_id,
        "row": Row.from_api(snapshot) if snapshot else None,
        "gone": gone,
        "form": form,
        "next_url": next_url,
        "page_title": f"Delete {model_id}",
    }
    return render(
        request, template_for(request, "models/delete.html", "dialog"), context, status=status
    )


def delete_confirmation_again(
    request: HttpRequest, alias: str, model_id: str, *, notice: str
) -> HttpResponse:
    """The confirmation once more, with `notice` and the id as typed, after a POST that was
    refused before reaching the view (a stale CSRF token): nothing was sent upstream."""
    upstream_for(request, alias)
    snapshot = _catalogue_snapshot(alias, model_id)
    typed = request.POST.get("confirm_id", "")[:1000]
    context = {
        "model_id": model_id,
        "row": Row.from_api(snapshot) if snapshot else None,
        "gone": False,
        "form": ConfirmDeleteForm(initial={"confirm_id": typed}, model_id=model_id),
        "next_url": _next_url(request, alias),
        "notice": notice,
        "page_title": f"Delete {model_id}",
    }
    template = template_for(request, "models/delete.html", "dialog")
    response = render(request, template, context, status=403)
    if wants_fragment(request):  # a 403 that htmx must swap, and into the dialog: said outright
        response["HX-Retarget"] = "#dialog"
        response["HX-Reswap"] = "innerHTML"
    return response


def _catalogue_snapshot(alias: str, model_id: str) -> dict[str, Any] | None:
    """The model as the catalogue last saw it in the list (no upstream call)."""
    found = CatalogueModel.objects.filter(upstream=alias, model_id=model_id, gone_at__isnull=True)
    data = found.values_list("data", flat=True).first()
    return {**data, "id": model_id} if isinstance(data, dict) else None


def _deletion_response(
    request: HtmxHttpRequest, model_id: str, deletion: Deletion, next_url: str
) -> HttpResponse:
    """The routine's result as a response: 403, or a message and the way back."""
    if deletion.outcome == Outcome.DENIED:
        return forbidden(request, deletion.text, model=model_id)
    messages.add_message(request, deletion.level, deletion.text)
    if not request.htmx:
        return redirect(next_url)
    if not _on_list_page(request, deletion.entry.upstream_alias):  # e.g. the gone model's page
        response = HttpResponse(status=204)
        response["HX-Redirect"] = next_url
        return response
    response = render(request, "messages.html", {"oob": True})
    return trigger_client_event(response, "models-changed", {"outcome": deletion.outcome})


def _on_list_page(request: HttpRequest, alias: str) -> bool:
    return urlsplit(current_path(request) or "").path == reverse("model-list", args=[alias])


def _next_url(request: HttpRequest, alias: str) -> str:
    return list_return_url(request, alias, "next")


def local_url(request: HttpRequest, candidate: str) -> str:
    """`candidate` if it is an address on this site (where a flow may send the user back),
    else "" — never another host or scheme."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def list_return_url(request: HttpRequest, alias: str, *names: str) -> str:
    """Where a flow that started on the upstream's list goes back to: the first of the POST or
    GET fields `names` that is a `local_url`, relative, under the list's path (the list in
    some state, or a model's page), else the list itself. Anything else (another host, an
    absolute or scheme-relative URL, another path, dot segments) is ignored."""
    list_path = reverse("model-list", args=[alias])
    for name in names:
        candidate = local_url(request, request.POST.get(name) or request.GET.get(name) or "")
        parts = urlsplit(candidate)
        if (
            candidate.startswith(list_path)
            and not parts.scheme
            and not parts.netloc
            and not any(unquote(part) in {".", ".."} for part in parts.path.split("/"))
        ):
            return candidate
    return list_path


@login_not_required
@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that do not link one (the Django admin)."""
    return redirect(static("favicon.svg"), permanent=True)


@login_not_required
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up (no database, no upstream)."""
    return JsonResponse({"status": "ok"})


READY_CACHE_KEY = "readyz:upstream"
READY_CACHE_SECONDS = 10  # probes come often and need no login: spare the upstream quota


READY_CHECK_SECONDS = 4.0  # under a probe's usual 5-second timeout


def _upstream_check() -> str:
    def status_only(client: modelsclient.Client) -> str:
        with client.models.with_streaming_response.list():  # the body is not read
            return "ok"

    budget = Budget(min(READY_CHECK_SECONDS, settings.UPSTREAM_PAGE_BUDGET))
    try:
        return call_within_budget(status_only, upstream=DEFAULT, budget=budget)
    except modelsclient.APIError as exc:
        return f"error: {describe_error(exc).title}"


@login_not_required
@never_cache
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    """The database answers and the upstream API is reachable."""
    checks: dict[str, Any] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not ready"
        checks["database"] = f"error: {type(exc).__name__}"
    checks["upstream"] = cache.get_or_set(READY_CACHE_KEY, _upstream_check, READY_CACHE_SECONDS)
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
