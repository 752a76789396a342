"""Deleting a model upstream: audit intent first, then the call, then the outcome.

A crash between the two writes leaves the intent (outcome "pending") in the log.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import trigger_client_event

import modelsclient

from .listing import Row
from .logging import security_event
from .models import AuditEntry
from .rendering import HtmxHttpRequest, current_path, forbidden
from .signals import client_ip
from .upstream import current_upstream, describe_error, forget_model, get_client

Outcome = AuditEntry.Outcome


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
    request: HttpRequest, model_id: str, snapshot: dict[str, Any] | None, **fields: Any
) -> AuditEntry:
    return AuditEntry.objects.create(
        user=request.user if request.user.is_authenticated else None,
        username=request.user.get_username() if request.user.is_authenticated else "",
        model_id=model_id,
        model_snapshot=snapshot or {"id": model_id},
        upstream=current_upstream().label[:200],
        remote_addr=client_ip(request) or None,
        **fields,
    )


def deny(request: HttpRequest, model_id: str, reason: str) -> HttpResponse:
    """403 before any upstream call; a POST attempt is recorded in the audit log."""
    if request.method == "POST":
        _audit(request, model_id, None, outcome=Outcome.DENIED, message=reason)
    return forbidden(request, reason, model=model_id)


def delete_model(
    request: HtmxHttpRequest, model_id: str, snapshot: dict[str, Any] | None, *, next_url: str
) -> HttpResponse:
    """POST, confirmed: refuse base models, else audit, call upstream, record, message."""
    if snapshot is None:  # not in the cached list: the audit wants to know what it was
        snapshot = _fetch_snapshot(model_id)
    if snapshot is not None and not Row.from_api(snapshot).is_deletable:
        return deny(
            request,
            model_id,
            f"{model_id} is a base model owned by "
            f"{snapshot.get('owned_by')}; base models cannot be deleted.",
        )
    entry = _audit(request, model_id, snapshot)
    outcome, level, text = _call_upstream(entry, model_id)
    security_event(
        "delete",
        user=entry.username,
        model=model_id,
        outcome=outcome,
        status=entry.upstream_status,
        request_id=entry.upstream_request_id,
    )
    messages.add_message(request, level, text)
    if not request.htmx:
        return redirect(next_url)
    if not _on_list_page(request):  # e.g. the detail page of the model that is now gone
        response = HttpResponse(status=204)
        response["HX-Redirect"] = next_url
        return response
    response = render(request, "messages.html", {"oob": True})
    return trigger_client_event(response, "models-changed", {"outcome": outcome})


def _fetch_snapshot(model_id: str) -> dict[str, Any] | None:
    """The model as upstream describes it now; None if that fails (the delete will say why)."""
    try:
        return get_client().models.retrieve(model_id).to_dict()
    except (modelsclient.APIError, ValueError):
        return None


def _on_list_page(request: HttpRequest) -> bool:
    return urlsplit(current_path(request) or "").path == reverse("model-list")


def _call_upstream(entry: AuditEntry, model_id: str) -> tuple[str, int, str]:
    try:
        raw = get_client().models.with_raw_response.delete(model_id)
        result = raw.parse()
    except modelsclient.NotFoundError as exc:
        entry.record_outcome(
            Outcome.ALREADY_GONE,
            status=404,
            request_id=exc.request_id,
            message=describe_error(exc).detail,
        )
        forget_model(model_id)
        return Outcome.ALREADY_GONE, messages.WARNING, f"{model_id} was already gone upstream."
    except modelsclient.APIStatusError as exc:
        problem = describe_error(exc)
        outcome = Outcome.REFUSED if exc.status_code < 500 else Outcome.FAILED
        entry.record_outcome(
            outcome, status=exc.status_code, request_id=exc.request_id, message=problem.detail
        )
        return outcome, messages.ERROR, f"{model_id} was not deleted: {problem.detail}"
    except (modelsclient.APIError, ValueError) as exc:
        problem = describe_error(exc)
        status = getattr(exc, "status_code", None)
        request_id = (
            exc.response.headers.get("x-request-id")
            if isinstance(exc, modelsclient.APIResponseValidationError)
            else None
        )
        entry.record_outcome(
            Outcome.FAILED,
            status=status,
            request_id=request_id,
            message=f"{problem.title}. {problem.detail}",
        )
        return Outcome.FAILED, messages.ERROR, f"{model_id} was not deleted: {problem.title}."
    if not result.deleted:
        entry.record_outcome(
            Outcome.REFUSED,
            status=raw.status_code,
            request_id=raw.request_id,
            message="The API answered deleted=false.",
        )
        return Outcome.REFUSED, messages.ERROR, f"{model_id} was not deleted (deleted=false)."
    entry.record_outcome(Outcome.DELETED, status=raw.status_code, request_id=raw.request_id)
    forget_model(model_id)
    return Outcome.DELETED, messages.SUCCESS, f"Deleted {model_id}."
