"""Deleting a model upstream: audit intent first, then the call, then the outcome.

`delete_model()` is the one routine, for a page, a job or a command alike: it takes an actor
and a model id, never a request, and returns what happened for the caller to turn into a
response. A crash between the two writes leaves the intent (outcome "pending") in the log;
`reconcile()` settles such entries, and "unknown" ones, later by looking the model up.

The outcome is never a guess. When the API may have acted but its answer was lost (a read
timeout, a dropped connection, a truncated or unreadable body, a 5xx), the routine looks the
model up: gone means deleted, still there means not deleted, and no answer means "unknown" —
never "not deleted".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import httpx
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

import modelsclient

from . import dbwrites
from .catalogue.sync import record_deletion
from .listing import Row
from .logging import security_event
from .models import AuditEntry
from .rendering import forbidden
from .signals import client_ip
from .upstreams import (
    MIN_ATTEMPT_SECONDS,
    Budget,
    RedirectRefused,
    ResponseTooLarge,
    Upstream,
    UpstreamProblem,
    call_within_budget,
    describe_error,
    never_sent,
    scrub,
    upstreams,
)

Outcome = AuditEntry.Outcome
Confirmation = AuditEntry.Confirmation

SNAPSHOT_MAX_BYTES = 4096  # an audit row keeps the model's fields, not a copy of any size
SNAPSHOT_MAX_VALUE = 256  # characters of one value
SNAPSHOT_MAX_FIELDS = 40
_CORE_FIELDS = ("id", "object", "created", "owned_by")
SNAPSHOT_SHARE = 0.25  # of a delete's budget, at most, for looking the model up first
CHECK_SHARE = 0.3  # of a delete's budget kept for the check when the answer is lost
UNKNOWN_WORDS = (
    "The API did not confirm; the model may or may not be deleted. The dashboard will check again."
)


class ConfirmDeleteForm(forms.Form):
    """The owner types the model id to confirm."""

    confirm_id = forms.CharField(
        label="Type the model id to confirm",
        strip=False,  # compared exactly: ids may begin or end with spaces, and " x" is not "x"
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )

    def __init__(self, *args: Any, model_id: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_id = model_id

    def clean_confirm_id(self) -> str:
        typed: str = self.cleaned_data["confirm_id"]
        if typed != self.model_id and typed.strip() == self.model_id.strip():
            raise forms.ValidationError(
                "The spaces at the start or end do not match: the id is “%(id)s”, between the "
                "quotes. Nothing was deleted.",
                params={"id": self.model_id},
            )
        if typed != self.model_id:
            raise forms.ValidationError("That is not this model's id. Nothing was deleted.")
        return typed


def _audit(
    actor: User | AnonymousUser,
    upstream: Upstream,
    model_id: str,
    snapshot: dict[str, Any] | None,
    remote_addr: str | None,
    **fields: Any,
) -> AuditEntry:
    """The one place an audit row is written (deletes, denials and recorded events)."""
    with dbwrites.write():
        return _create_entry(actor, upstream, model_id, snapshot, remote_addr, **fields)


def _create_entry(
    actor: User | AnonymousUser,
    upstream: Upstream,
    model_id: str,
    snapshot: dict[str, Any] | None,
    remote_addr: str | None,
    **fields: Any,
) -> AuditEntry:
    return AuditEntry.objects.create(
        user=actor if actor.is_authenticated else None,
        username=actor.get_username() if actor.is_authenticated else "",
        model_id=model_id,
        model_snapshot=bounded_snapshot(snapshot or {"id": model_id}, model_id),
        upstream=upstream.label[:200],
        upstream_alias=upstream.alias,
        remote_addr=remote_addr or None,
        **fields,
    )


def deny(request: HttpRequest, upstream: Upstream, model_id: str, reason: str) -> HttpResponse:
    """403 before any upstream call; a POST attempt is recorded in the audit log."""
    if request.method == "POST":
        _audit(
            request.user,
            upstream,
            model_id,
            None,
            client_ip(request),
            outcome=Outcome.DENIED,
            message=reason,
        )
    return forbidden(request, reason, model=model_id)


def record_event(
    actor: User | AnonymousUser,
    upstream: Upstream,
    action: str,
    *,
    model_ids: Iterable[str] = (),
    message: str = "",
    job_id: int | None = None,
    deletion_request_id: int | None = None,
    remote_addr: str | None = None,
) -> AuditEntry:
    """Audit something that calls no API (a job created or confirmed, a request decided):
    outcome "recorded"; the models' ids (at most 50 kept, with the count) in the snapshot."""
    ids = list(model_ids)
    snapshot: dict[str, Any] = {"count": len(ids), "model_ids": ids[:50]}
    return AuditEntry.objects.create(
        user=actor if actor.is_authenticated else None,
        username=actor.get_username() if actor.is_authenticated else "",
        action=action[:32],
        model_id=ids[0] if len(ids) == 1 else "",
        model_snapshot=bounded_snapshot(snapshot, ids[0] if len(ids) == 1 else ""),
        upstream=upstream.label[:200],
        upstream_alias=upstream.alias,
        outcome=Outcome.RECORDED,
        message=message[:2000],
        finished_at=timezone.now(),
        job_id=job_id,
        deletion_request_id=deletion_request_id,
        remote_addr=remote_addr or None,
    )


@dataclass(frozen=True)
class Deletion:
    """What one delete did: its audit entry, and the words (and message level) for the actor.

    `headers` are the last answer's response headers (None when no answer came): a bulk job
    paces itself by their `retry-after` and `x-ratelimit-*-requests`.
    """

    entry: AuditEntry
    level: int
    text: str
    headers: httpx.Headers | None = None

    @property
    def outcome(self) -> str:
        return self.entry.outcome


def delete_model(
    actor: User | AnonymousUser,
    upstream: Upstream,
    model_id: str,
    *,
    snapshot: dict[str, Any] | None = None,
    remote_addr: str | None = None,
    budget: Budget | None = None,
    job_id: int | None = None,
) -> Deletion:
    """Delete one model upstream: refuse base models, audit, call, learn the outcome, record it.

    The whole routine, lookups and checks included, fits in `budget` (a page's by default).
    `job_id`: the deletion job this delete belongs to (kept in the audit entry).
    """
    budget = budget if budget is not None else Budget.for_upstream(upstream)
    if snapshot is None:  # not in the catalogue: the audit wants to know what it was
        snapshot = _fetch_snapshot(upstream, model_id, budget.part(budget.seconds * SNAPSHOT_SHARE))
    if snapshot is not None and not Row.from_api(snapshot).is_deletable:
        reason = (
            f"{model_id} is a base model owned by "
            f"{snapshot.get('owned_by')}; base models cannot be deleted."
        )
        entry = _audit(
            actor,
            upstream,
            model_id,
            snapshot,
            remote_addr,
            outcome=Outcome.DENIED,
            message=reason,
            job_id=job_id,
        )
        return Deletion(entry, messages.ERROR, reason)
    entry = _audit(actor, upstream, model_id, snapshot, remote_addr, job_id=job_id)
    failures: list[modelsclient.APIError] = []
    deletion = _delete(entry, upstream, model_id, budget, failures)
    if deletion.headers is None and failures:
        last = failures[-1]
        if isinstance(last, modelsclient.APIStatusError):
            deletion = replace(deletion, headers=last.response.headers)
    security_event(
        "delete",
        user=entry.username,
        upstream=upstream.alias,
        model=model_id,
        outcome=entry.outcome,
        status=entry.upstream_status,
        request_id=entry.upstream_request_id,
    )
    return deletion


def _fetch_snapshot(upstream: Upstream, model_id: str, budget: Budget) -> dict[str, Any] | None:
    """The model as upstream describes it now; None if that fails (the delete will say why)."""
    try:
        return call_within_budget(
            lambda c: c.models.retrieve(model_id).to_dict(), upstream=upstream, budget=budget
        )
    except (modelsclient.APIError, ValueError):
        return None


def _delete(
    entry: AuditEntry,
    upstream: Upstream,
    model_id: str,
    budget: Budget,
    failures: list[modelsclient.APIError],
) -> Deletion:
    try:
        raw = call_within_budget(
            lambda c: c.models.with_raw_response.delete(model_id),
            upstream=upstream,
            budget=budget.part(budget.left() * (1 - CHECK_SHARE)),
            failures=failures,
        )
        result = raw.parse()
    except ValueError as exc:  # an id the client refuses before sending anything
        return _not_deleted(entry, model_id, describe_error(exc), Outcome.FAILED)
    except modelsclient.NotFoundError as exc:
        if any(_may_have_acted(e) for e in failures[:-1]):
            return _deleted_by_a_retry(entry, upstream, model_id, exc, failures)
        entry.record_outcome(
            Outcome.ALREADY_GONE,
            status=404,
            request_id=describe_error(exc).request_id,
            message=describe_error(exc).detail,
            confirmed_by=Confirmation.ANSWER,
        )
        record_deletion(upstream.alias, model_id, entry)
        return Deletion(entry, messages.WARNING, f"{model_id} was already gone upstream.")
    except modelsclient.APIError as exc:
        if _may_have_acted(exc) or any(_may_have_acted(e) for e in failures):
            return _check(entry, upstream, model_id, describe_error(exc), budget)
        outcome = (
            Outcome.REFUSED if isinstance(exc, modelsclient.APIStatusError) else Outcome.FAILED
        )
        if isinstance(exc, RedirectRefused):
            outcome = Outcome.FAILED
        return _not_deleted(entry, model_id, describe_error(exc), outcome)
    request_id = scrub(raw.request_id) if raw.request_id else None
    if not result.deleted:
        entry.record_outcome(
            Outcome.REFUSED,
            status=raw.status_code,
            request_id=request_id,
            message="The API answered deleted=false.",
            confirmed_by=Confirmation.ANSWER,
        )
        return Deletion(
            entry, messages.ERROR, f"{model_id} was not deleted (deleted=false).", raw.headers
        )
    entry.record_outcome(
        Outcome.DELETED,
        status=raw.status_code,
        request_id=request_id,
        confirmed_by=Confirmation.ANSWER,
    )
    record_deletion(upstream.alias, model_id, entry)
    return Deletion(entry, messages.SUCCESS, f"Deleted {model_id}.", raw.headers)


def _may_have_acted(exc: Exception) -> bool:
    """Whether the API may have deleted the model although this answer does not say so."""
    if isinstance(exc, RedirectRefused | modelsclient.NotFoundError):
        return False  # the API itself answered: it redirected, or has no such model
    if isinstance(exc, modelsclient.APIStatusError):
        return exc.status_code >= 500  # a gateway's 502/504, a crash mid-way: maybe
    if isinstance(exc, modelsclient.APIConnectionError):
        return not never_sent(exc)  # timed out, dropped or truncated after sending
    return True  # a 2xx too large or unreadable to parse: the API probably acted


def _not_deleted(
    entry: AuditEntry, model_id: str, problem: UpstreamProblem, outcome: Outcome
) -> Deletion:
    entry.record_outcome(
        outcome,
        status=problem.upstream_status,
        request_id=problem.request_id,
        message=f"{problem.title} — not deleted. {problem.detail}",
        confirmed_by=Confirmation.ANSWER,
    )
    return Deletion(
        entry, messages.ERROR, f"{model_id} was not deleted: {problem.title}. {problem.detail}"
    )


def _deleted_by_a_retry(
    entry: AuditEntry,
    upstream: Upstream,
    model_id: str,
    exc: modelsclient.NotFoundError,
    failures: list[modelsclient.APIError],
) -> Deletion:
    lost = describe_error(next(e for e in failures if _may_have_acted(e)))
    entry.record_outcome(
        Outcome.DELETED,
        status=404,
        request_id=describe_error(exc).request_id,
        message=(
            f"Deleted: an earlier attempt got no complete answer ({lost.title}); "
            "the retry found the model gone."
        ),
        confirmed_by=Confirmation.RETRY,
    )
    record_deletion(upstream.alias, model_id, entry)
    return Deletion(entry, messages.SUCCESS, f"Deleted {model_id}.")


def _check(
    entry: AuditEntry, upstream: Upstream, model_id: str, lost: UpstreamProblem, budget: Budget
) -> Deletion:
    """The answer to the delete was lost: look the model up to learn what happened."""
    answer = f"The delete got no complete answer: {lost.title}. {lost.detail}"
    found = _look_up(upstream, model_id, budget) if budget.left() >= MIN_ATTEMPT_SECONDS else None
    status, request_id = lost.upstream_status, lost.request_id
    if found is False:
        entry.record_outcome(
            Outcome.DELETED,
            status=status,
            request_id=request_id,
            message=f"Deleted — confirmed by a check: the model is gone. {answer}",
            confirmed_by=Confirmation.CHECK,
        )
        record_deletion(upstream.alias, model_id, entry)
        return Deletion(
            entry,
            messages.SUCCESS,
            f"Deleted {model_id}. The API's answer was lost; a check confirmed the model is gone.",
        )
    if found is True:
        entry.record_outcome(
            Outcome.FAILED,
            status=status,
            request_id=request_id,
            message=f"{lost.title} — not deleted (a check found the model still there). "
            f"{lost.detail}",
            confirmed_by=Confirmation.CHECK,
        )
        return Deletion(
            entry,
            messages.ERROR,
            f"{model_id} was not deleted: {lost.title}. {lost.detail} "
            "A check found the model still there.",
        )
    entry.record_outcome(
        Outcome.UNKNOWN, status=status, request_id=request_id, message=f"{UNKNOWN_WORDS} {answer}"
    )
    from .tasks import schedule_reconcile  # the worker checks again after the grace period

    schedule_reconcile()
    return Deletion(entry, messages.WARNING, f"{model_id}: {UNKNOWN_WORDS}")


def _look_up(upstream: Upstream, model_id: str, budget: Budget) -> bool | None:
    """True: the model exists; False: it is gone (404); None: the API did not say."""
    try:
        call_within_budget(
            lambda c: c.models.with_raw_response.retrieve(model_id),
            upstream=upstream,
            budget=budget,
        )
    except modelsclient.NotFoundError:
        return False
    except ResponseTooLarge as exc:  # too big to read, but a 200 says it is there
        return True if exc.status_code == 200 else None
    except (modelsclient.APIError, ValueError):
        return None
    return True


# --- Later: settle what was left pending or unknown -------------------------------------------


@dataclass(frozen=True)
class Reconciled:
    entry: AuditEntry
    settled: bool
    words: str


def reconcile_grace() -> timedelta:
    """The longest a delete can take (its page's budget, and one attempt's timeout to spare):
    entries younger than this may still be in flight."""
    return timedelta(seconds=settings.UPSTREAM_PAGE_BUDGET + settings.UPSTREAM_TIMEOUT)


def reconcile(*, grace: timedelta, budget: Budget, limit: int = 500) -> list[Reconciled]:
    """Look up the model of every pending or unknown delete older than `grace` and settle
    the entry with what that shows. Entries of an upstream no longer configured, and ones the
    API does not answer for within `budget`, are left for the next run."""
    cutoff = timezone.now() - grace
    configured = upstreams()
    candidates = AuditEntry.objects.filter(
        action="delete", outcome__in=AuditEntry.UNSETTLED, created_at__lt=cutoff
    ).order_by("created_at", "id")[:limit]
    done: list[Reconciled] = []
    for entry in candidates:
        upstream = configured.get(entry.upstream_alias)
        if upstream is None or upstream.label[:200] != entry.upstream:
            done.append(Reconciled(entry, False, f"skipped: recorded against {entry.upstream}"))
            continue
        if budget.left() < MIN_ATTEMPT_SECONDS:
            done.append(Reconciled(entry, False, "left for the next run: out of time"))
            continue
        found = _look_up(upstream, entry.model_id, budget)
        if found is None:
            done.append(Reconciled(entry, False, "left for the next run: the API did not say"))
            continue
        if found:
            outcome, words = Outcome.FAILED, "the model still exists upstream — not deleted."
        else:
            outcome, words = Outcome.DELETED, "the model is gone upstream — deleted."
            record_deletion(upstream.alias, entry.model_id, entry)
        settled = entry.reconcile(outcome, message=words)
        done.append(Reconciled(entry, settled, words if settled else "settled meanwhile"))
        if settled and entry.job_id is not None:
            from .cleanup.jobs import entry_settled  # the job's ledger follows its audit entry

            entry_settled(entry)
        if settled:
            security_event(
                "delete.reconciled", model=entry.model_id, outcome=outcome, entry=entry.pk
            )
    return done


# --- Audit snapshots -------------------------------------------------------------------------


def bounded_snapshot(model: dict[str, Any], model_id: str) -> dict[str, Any]:
    """The model's fields for the audit row, bounded: long values cut, at most a few KB."""
    snapshot: dict[str, Any] = {"id": model_id}
    for key, value in list(model.items())[:SNAPSHOT_MAX_FIELDS]:
        name = scrub(str(key))[:64]
        if name != "id":
            snapshot[name] = _bounded_value(value)
    dropped = max(0, len(model) - SNAPSHOT_MAX_FIELDS)
    while len(json.dumps(snapshot, ensure_ascii=False).encode()) > SNAPSHOT_MAX_BYTES:
        extra = [key for key in snapshot if key not in _CORE_FIELDS]
        if not extra:
            break
        del snapshot[extra[-1]]
        dropped += 1
    if dropped:
        snapshot["_fields_not_kept"] = dropped
    return snapshot


def _bounded_value(value: Any) -> Any:
    """Numbers as they are; text (and nested values, as JSON text) scrubbed and cut."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    shown = scrub(text)
    if len(shown) > SNAPSHOT_MAX_VALUE:
        return shown[: SNAPSHOT_MAX_VALUE - 1] + "…"
    return value if shown == text else shown
