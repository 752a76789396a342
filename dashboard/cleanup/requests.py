"""Deletion requests, four eyes: someone who may not delete asks; an owner of the upstream
approves (which creates a deletion job, starting at validation) or rejects with a comment.

```
pending ──approve (an owner, not the requester)──▶ approved ── job
   │    ──reject (an owner, not the requester)───▶ rejected
   └────withdraw (the requester)─────────────────▶ withdrawn
```

A decision is one conditional UPDATE on `status = pending`: of two owners deciding at once,
one wins and the other is told it was already decided (`AlreadyDecided`); an approval and its
job are one transaction. Every step is in the audit log (`request.created`, `.approved`,
`.rejected`, `.withdrawn`; outcome `recorded`, or `denied` for a refused attempt), with the
request's id and, on approval, the job's. These functions take an actor, never a request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from dashboard import roles
from dashboard.deletion import record_event
from dashboard.models import AuditEntry
from dashboard.upstreams import Upstream, upstreams

from . import selection
from .models import DeletionRequest

if TYPE_CHECKING:
    from .models import DeletionJob

User = AuthUser | AnonymousUser
Status = DeletionRequest.Status
Outcome = AuditEntry.Outcome

REASON_MAX = 2000  # characters
COMMENT_MAX = 2000
AUDIT_IDS = 50  # ids kept in an audit entry's snapshot (with the count)


class AlreadyDecided(Exception):
    """The request is no longer pending (another owner decided it, or it was withdrawn)."""

    def __init__(self, request: DeletionRequest) -> None:
        self.request = request
        by = f" by {request.decided_by_name}" if request.decided_by_name else ""
        super().__init__(f"Request #{request.pk} was already {request.status}{by}.")


class NothingToRequest(ValueError):
    """None of the models asked for can be deleted (gone, a base model, unknown)."""


def may_request(user: User, upstream: str) -> bool:
    """Anyone who sees the upstream and may not delete on it (owners delete themselves)."""
    return roles.can_view(user, upstream) and not roles.can_delete(user, upstream)


def may_decide(user: User, request: DeletionRequest) -> bool:
    """An owner of the request's upstream who did not make the request."""
    return roles.can_delete(user, request.upstream) and request.requested_by_id != user.pk


def may_see(user: User, request: DeletionRequest) -> bool:
    return roles.can_delete(user, request.upstream) or request.requested_by_id == user.pk


def owned_upstreams(user: User) -> list[str]:
    return [alias for alias in upstreams() if roles.can_delete(user, alias)]


def for_owner(user: User) -> QuerySet[DeletionRequest]:
    """The requests on every upstream this user owns (their own included)."""
    return DeletionRequest.objects.filter(upstream__in=owned_upstreams(user))


def pending_count(user: User) -> int | None:
    """Pending requests this user may decide (one query); None for a user who owns nothing."""
    if not user.is_authenticated:
        return None
    owned = owned_upstreams(user)
    if not owned:
        return None
    pending = DeletionRequest.objects.filter(upstream__in=owned, status=Status.PENDING)
    return pending.exclude(requested_by_id=user.pk).count()


def create(
    actor: User,
    upstream: Upstream,
    model_ids: Sequence[str],
    reason: str,
    *,
    return_to: str = "",
    remote_addr: str | None = None,
) -> DeletionRequest:
    """Ask the upstream's owners to delete the models (those present and deletable)."""
    if not may_request(actor, upstream.alias):
        raise PermissionDenied("Only those who may not delete ask for a deletion.")
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise ValueError(f"A reason of 1 to {REASON_MAX} characters is needed.")
    wanted = list(dict.fromkeys(model_ids))
    known = set(
        selection.deletable(upstream.alias)
        .filter(model_id__in=wanted)
        .values_list("model_id", flat=True)
    )
    ids = [model_id for model_id in wanted if model_id in known][: selection.limit()]
    if not ids:
        raise NothingToRequest("None of these models can be deleted (gone, or a base model).")
    with transaction.atomic():
        request = DeletionRequest.objects.create(
            upstream=upstream.alias,
            requested_by=actor if actor.is_authenticated else None,
            requested_by_name=actor.get_username(),
            reason=reason,
            model_ids=ids,
            return_to=return_to[:2000],
        )
        _audit(actor, upstream, "request.created", request, message=reason, ip=remote_addr)
    return request


def approve(
    actor: User, upstream: Upstream, request: DeletionRequest, *, remote_addr: str | None = None
) -> DeletionJob:
    """Approve: a deletion job over the request's models, starting at validation."""
    from .jobs import create_job  # the jobs engine imports this app's models too

    _check_decider(actor, upstream, request, "request.approved", remote_addr)
    with transaction.atomic():
        _decide(actor, request, Status.APPROVED, "")
        job = create_job(
            actor, upstream, list(request.model_ids), return_to=request.return_to, request=request
        )
        DeletionRequest.objects.filter(pk=request.pk).update(job=job)
        request.job = job
        _audit(
            actor,
            upstream,
            "request.approved",
            request,
            message=f"Approved; deletion job #{job.pk} checks the models first.",
            job_id=job.pk,
            ip=remote_addr,
        )
    return job


def reject(
    actor: User,
    upstream: Upstream,
    request: DeletionRequest,
    comment: str,
    *,
    remote_addr: str | None = None,
) -> None:
    """Reject, saying why (the requester sees the comment)."""
    _check_decider(actor, upstream, request, "request.rejected", remote_addr)
    if request.status != Status.PENDING:
        raise AlreadyDecided(request)
    comment = comment.strip()
    if not comment or len(comment) > COMMENT_MAX:
        raise ValueError(f"A comment of 1 to {COMMENT_MAX} characters is needed.")
    with transaction.atomic():
        _decide(actor, request, Status.REJECTED, comment)
        _audit(actor, upstream, "request.rejected", request, message=comment, ip=remote_addr)


def withdraw(
    actor: User, upstream: Upstream, request: DeletionRequest, *, remote_addr: str | None = None
) -> None:
    """The requester takes back a pending request."""
    if request.requested_by_id != actor.pk:
        _audit(
            actor,
            upstream,
            "request.withdrawn",
            request,
            outcome=Outcome.DENIED,
            message="Only the requester may withdraw a request.",
            ip=remote_addr,
        )
        raise PermissionDenied("Only the requester may withdraw a request.")
    with transaction.atomic():
        _decide(actor, request, Status.WITHDRAWN, "")
        _audit(actor, upstream, "request.withdrawn", request, message="", ip=remote_addr)


def _check_decider(
    actor: User, upstream: Upstream, request: DeletionRequest, action: str, ip: str | None
) -> None:
    """Only an owner of the upstream, never the requester (even an owner): refusals audited."""
    if not roles.can_delete(actor, request.upstream):
        reason = "Only owners of this upstream approve or reject deletion requests."
    elif request.requested_by_id == actor.pk:
        reason = "You made this request: another owner must decide it."
    else:
        return
    _audit(actor, upstream, action, request, outcome=Outcome.DENIED, message=reason, ip=ip)
    raise PermissionDenied(reason)


def _decide(actor: User, request: DeletionRequest, status: str, comment: str) -> None:
    """The decision, if the request is still pending (one conditional UPDATE)."""
    fields: dict[str, Any] = {
        "status": status,
        "decided_at": timezone.now(),
        "comment": comment,
    }
    if status != Status.WITHDRAWN:
        fields.update(decided_by_id=actor.pk, decided_by_name=actor.get_username())
    won = DeletionRequest.objects.filter(pk=request.pk, status=Status.PENDING).update(**fields)
    request.refresh_from_db()
    if not won:
        raise AlreadyDecided(request)


def _audit(
    actor: User,
    upstream: Upstream,
    action: str,
    request: DeletionRequest,
    *,
    message: str,
    outcome: str = Outcome.RECORDED,
    job_id: int | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """A request's event (`record_event`), or a refused attempt at one (outcome `denied`)."""
    ids = list(request.model_ids)
    if outcome == Outcome.RECORDED:
        return record_event(
            actor,
            upstream,
            action,
            model_ids=ids,
            message=message,
            job_id=job_id,
            deletion_request_id=request.pk,
            remote_addr=ip,
        )
    return AuditEntry.objects.create(
        user=actor if actor.is_authenticated else None,
        username=actor.get_username() if actor.is_authenticated else "",
        action=action,
        model_id=ids[0] if len(ids) == 1 else "",
        model_snapshot={"count": len(ids), "model_ids": ids[:AUDIT_IDS]},
        upstream=upstream.label[:200],
        upstream_alias=upstream.alias,
        outcome=outcome,
        message=message[:2000],
        finished_at=timezone.now(),
        remote_addr=ip or None,
        deletion_request_id=request.pk,
    )
