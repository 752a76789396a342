"""A delete's outcome is never a guess: lost answers are checked, retries keep their history,
pending and unknown entries are reconciled later, and the words say what happened."""

from __future__ import annotations

import csv
import datetime
import io
import time
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import respx
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dashboard.catalogue.models import CatalogueModel
from dashboard.models import AuditEntry
from dashboard.sandbox.models import SandboxModel
from dashboard.upstreams import get_upstream

from .conftest import REAL_API_BASE

Outcome = AuditEntry.Outcome
FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12Cd34"
MODEL = {"id": FINE_TUNE, "object": "model", "created": 1_710_000_000, "owned_by": "acme"}
UNKNOWN_WORDS = (
    "The API did not confirm; the model may or may not be deleted. The dashboard will check again."
)


@pytest.fixture(autouse=True)
def _no_real_sleeping(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries record their waits instead of sleeping (the budget still counts real time)."""
    waits: list[float] = []
    monkeypatch.setattr(time, "sleep", waits.append)
    return waits


@pytest.fixture
def listed(owner: Client, real_api: respx.MockRouter) -> respx.MockRouter:
    """The real API lists the fine-tune, and the owner's list page has cached it."""
    real_api.get("/models").respond(json={"object": "list", "data": [MODEL]})
    assert owner.get(reverse("model-list", args=["default"])).status_code == 200
    return real_api


def _delete(owner: Client, model_id: str = FINE_TUNE) -> str:
    """POST the confirmed delete, follow the redirect, and return the message shown."""
    response = owner.post(
        reverse("model-delete", args=["default", model_id]), {"confirm_id": model_id}, follow=True
    )
    assert response.status_code == 200
    return _alerts(response.content.decode())


def _alerts(html: str) -> str:
    """The text of each message (`.alert`) on the page, joined by " | "."""

    class Alerts(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.depth = 0
            self.found: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            classes = (dict(attrs).get("class") or "").split()
            if self.depth or "alert" in classes:
                self.depth += 1
                if self.depth == 1:
                    self.found.append("")

        def handle_endtag(self, tag: str) -> None:
            if self.depth:
                self.depth -= 1

        def handle_data(self, data: str) -> None:
            if self.depth:
                self.found[-1] += data

    parser = Alerts()
    parser.feed(html)
    return " | ".join(" ".join(text.split()) for text in parser.found)


# --- The answer was lost: the routine checks -------------------------------------------------

LOST_ANSWERS = {
    "read-timeout": httpx.ReadTimeout("timed out"),
    "dropped-after-sending": httpx.RemoteProtocolError("Server disconnected without a response"),
    "reset-while-reading": httpx.ReadError("[Errno 104] Connection reset by peer"),
    "body-truncated": httpx.RemoteProtocolError("peer closed connection: incomplete chunked read"),
    "write-timeout": httpx.WriteTimeout("timed out while sending"),
}


@pytest.mark.parametrize("lost", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_a_lost_answer_and_a_check_that_finds_the_model_gone_is_deleted_confirmed_by_the_check(
    lost: Exception, owner: Client, listed: respx.MockRouter
) -> None:
    delete = listed.delete(f"/models/{FINE_TUNE}").mock(side_effect=lost)
    check = listed.get(f"/models/{FINE_TUNE}").respond(404, json={"error": {"message": "gone"}})

    shown = _delete(owner)

    assert delete.call_count == 1
    assert check.call_count == 1
    assert shown.startswith(f"Deleted {FINE_TUNE}.")
    assert "a check confirmed the model is gone" in shown
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.DELETED
    assert entry.confirmed_by == AuditEntry.Confirmation.CHECK
    assert entry.message.startswith("Deleted — confirmed by a check: the model is gone.")
    assert not _listed(FINE_TUNE)


@pytest.mark.parametrize("lost", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_a_lost_answer_and_a_check_that_finds_the_model_is_not_deleted_confirmed_by_the_check(
    lost: Exception, owner: Client, listed: respx.MockRouter
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").mock(side_effect=lost)
    check = listed.get(f"/models/{FINE_TUNE}").respond(json=MODEL)

    shown = _delete(owner)

    assert check.call_count == 1
    assert shown.startswith(f"{FINE_TUNE} was not deleted:")
    assert shown.endswith("A check found the model still there.")
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.FAILED
    assert entry.confirmed_by == AuditEntry.Confirmation.CHECK
    assert "not deleted (a check found the model still there)" in entry.message
    assert _listed(FINE_TUNE)


@pytest.mark.parametrize(
    "check_fails",
    [httpx.ReadTimeout("timed out"), httpx.ConnectError("refused"), httpx.Response(503)],
    ids=["check-times-out", "check-cannot-connect", "check-answers-503"],
)
@pytest.mark.parametrize("lost", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_a_lost_answer_and_a_failed_check_is_unknown_never_not_deleted(
    lost: Exception, check_fails: Any, owner: Client, listed: respx.MockRouter
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").mock(side_effect=lost)
    listed.get(f"/models/{FINE_TUNE}").mock(side_effect=[check_fails])

    shown = _delete(owner)

    assert shown == f"{FINE_TUNE}: {UNKNOWN_WORDS}"
    assert "not deleted" not in shown
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.UNKNOWN
    assert entry.get_outcome_display() == "Unknown (the API did not confirm)"
    assert entry.message.startswith(UNKNOWN_WORDS)
    assert entry.confirmed_by == ""
    assert entry.finished_at is not None


def test_an_unreadable_2xx_answer_to_a_delete_is_checked(
    owner: Client, listed: respx.MockRouter
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").respond(200, text="<html>OK</html>")
    check = listed.get(f"/models/{FINE_TUNE}").respond(404)

    shown = _delete(owner)

    assert check.call_count == 1
    assert shown.startswith(f"Deleted {FINE_TUNE}.")
    assert AuditEntry.objects.get().confirmed_by == AuditEntry.Confirmation.CHECK


def test_a_gateway_error_to_a_delete_is_checked_because_the_api_may_have_acted(
    owner: Client, listed: respx.MockRouter
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").respond(504, headers={"x-request-id": "req_gw"})
    listed.get(f"/models/{FINE_TUNE}").respond(404)

    _delete(owner)

    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.DELETED
    assert entry.upstream_status == 504
    assert entry.upstream_request_id == "req_gw"


@pytest.mark.parametrize(
    "not_sent",
    [httpx.ConnectError("refused"), httpx.ConnectTimeout("no connection")],
    ids=["connect-error", "connect-timeout"],
)
def test_a_delete_that_never_connected_is_not_deleted_without_a_check(
    not_sent: Exception, owner: Client, listed: respx.MockRouter
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").mock(side_effect=not_sent)
    check = listed.get(f"/models/{FINE_TUNE}").respond(json=MODEL)

    shown = _delete(owner)

    assert check.call_count == 0
    assert shown.startswith(f"{FINE_TUNE} was not deleted:")
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.FAILED
    assert "not deleted" in entry.message


def test_a_dropped_connection_is_never_called_unreachable(
    owner: Client, listed: respx.MockRouter
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").mock(side_effect=httpx.RemoteProtocolError("dropped"))
    listed.get(f"/models/{FINE_TUNE}").mock(side_effect=httpx.ReadError("reset"))

    _delete(owner)

    message = AuditEntry.objects.get().message
    assert "cannot be reached" not in message
    assert "The connection to the API broke." in message


# --- Retries keep their history ---------------------------------------------------------------


def test_a_retry_that_answers_404_after_a_lost_answer_means_deleted(
    owner: Client, listed: respx.MockRouter, settings: Any, _no_real_sleeping: list[float]
) -> None:
    settings.UPSTREAM_MAX_RETRIES = 2
    delete = listed.delete(f"/models/{FINE_TUNE}").mock(
        side_effect=[httpx.ReadTimeout("lost"), httpx.Response(404, json={"error": {}})]
    )
    check = listed.get(f"/models/{FINE_TUNE}").respond(json=MODEL)

    shown = _delete(owner)

    assert delete.call_count == 2
    assert len(_no_real_sleeping) == 1
    assert check.call_count == 0
    assert shown == f"Deleted {FINE_TUNE}."
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.DELETED
    assert entry.confirmed_by == AuditEntry.Confirmation.RETRY
    assert entry.upstream_status == 404
    assert "the retry found the model gone" in entry.message


def test_a_first_attempts_404_is_already_gone(owner: Client, listed: respx.MockRouter) -> None:
    listed.delete(f"/models/{FINE_TUNE}").respond(404, json={"error": {"message": "no model"}})

    shown = _delete(owner)

    assert shown == f"{FINE_TUNE} was already gone upstream."
    assert AuditEntry.objects.get().outcome == Outcome.ALREADY_GONE


def test_a_404_after_a_rate_limited_attempt_is_already_gone(
    owner: Client, listed: respx.MockRouter, settings: Any
) -> None:
    settings.UPSTREAM_MAX_RETRIES = 2
    delete = listed.delete(f"/models/{FINE_TUNE}").mock(
        side_effect=[
            httpx.Response(429, headers={"retry-after": "1"}),
            httpx.Response(404, json={"error": {"message": "no model"}}),
        ]
    )

    shown = _delete(owner)

    assert delete.call_count == 2
    assert shown == f"{FINE_TUNE} was already gone upstream."
    assert AuditEntry.objects.get().outcome == Outcome.ALREADY_GONE


def test_a_retry_that_deletes_after_a_lost_answer_is_deleted(
    owner: Client, listed: respx.MockRouter, settings: Any
) -> None:
    settings.UPSTREAM_MAX_RETRIES = 1
    listed.delete(f"/models/{FINE_TUNE}").mock(
        side_effect=[
            httpx.RemoteProtocolError("dropped"),
            httpx.Response(200, json={"id": FINE_TUNE, "object": "model", "deleted": True}),
        ]
    )

    assert _delete(owner) == f"Deleted {FINE_TUNE}."
    assert AuditEntry.objects.get().outcome == Outcome.DELETED


# --- Words --------------------------------------------------------------------------------------


def test_a_rate_limited_delete_says_so_and_what_the_api_asked_for(
    owner: Client, listed: respx.MockRouter, settings: Any
) -> None:
    settings.UPSTREAM_MAX_RETRIES = 2
    delete = listed.delete(f"/models/{FINE_TUNE}").respond(
        429,
        json={"error": {"message": "Rate limit reached for requests."}},
        headers={"retry-after": "120", "x-request-id": "req_429"},
    )

    shown = _delete(owner)

    assert delete.call_count == 1  # two minutes do not fit in a page's budget
    assert shown == (
        f"{FINE_TUNE} was not deleted: Rate limited. The API asked to retry after 2 minutes. "
        "Rate limit reached for requests."
    )
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.REFUSED
    assert entry.message == (
        "Rate limited — not deleted. The API asked to retry after 2 minutes. "
        "Rate limit reached for requests."
    )
    assert entry.upstream_status == 429
    assert entry.upstream_request_id == "req_429"


def test_a_delete_with_a_rejected_key_says_the_key_was_rejected(
    owner: Client, listed: respx.MockRouter
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").respond(
        401, json={"error": {"message": "Incorrect API key provided: sk-li*****6789."}}
    )

    shown = _delete(owner)

    assert shown.startswith(f"{FINE_TUNE} was not deleted: The API rejected the dashboard's key.")
    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.REFUSED
    assert entry.message.startswith("The API rejected the dashboard's key — not deleted.")


def test_a_refused_delete_quotes_the_apis_reason(owner: Client, listed: respx.MockRouter) -> None:
    listed.delete(f"/models/{FINE_TUNE}").respond(
        403, json={"error": {"message": "Missing scopes: api.delete."}}
    )

    _delete(owner)

    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.REFUSED
    assert entry.message == "The API refused — not deleted. Missing scopes: api.delete."


# --- The routine stands on its own (no request) ------------------------------------------------


def test_the_routine_takes_an_actor_an_upstream_and_a_model_id_and_returns_the_outcome(
    owner: Client, listed: respx.MockRouter
) -> None:
    from django.contrib.auth.models import User

    from dashboard.deletion import delete_model

    listed.get(f"/models/{FINE_TUNE}").respond(json=MODEL)  # for the audit snapshot
    listed.delete(f"/models/{FINE_TUNE}").respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": True}
    )

    deletion = delete_model(User.objects.get(username="olivia"), get_upstream("default"), FINE_TUNE)

    assert deletion.entry.model_snapshot == MODEL
    assert deletion.outcome == Outcome.DELETED
    assert deletion.text == f"Deleted {FINE_TUNE}."
    assert deletion.entry.username == "olivia"
    assert deletion.entry.remote_addr is None


# --- Reconciliation -----------------------------------------------------------------------------


def _left_behind(model_id: str, outcome: str = Outcome.PENDING, minutes: int = 10) -> AuditEntry:
    """An entry a crash (pending) or a lost answer (unknown) left, `minutes` ago."""
    entry = AuditEntry.objects.create(
        username="olivia",
        model_id=model_id,
        model_snapshot={"id": model_id},
        upstream="Sandbox (in-process)",
        created_at=timezone.now() - datetime.timedelta(minutes=minutes),
    )
    if outcome != Outcome.PENDING:
        entry.record_outcome(Outcome(outcome), message=UNKNOWN_WORDS)
    return entry


def _reconcile(**options: Any) -> str:
    out = io.StringIO()
    call_command("reconcile_audit", stdout=out, **options)
    return out.getvalue()


@pytest.mark.parametrize("left", [Outcome.PENDING, Outcome.UNKNOWN])
def test_reconcile_settles_an_entry_whose_model_is_gone_as_deleted(
    left: str, sandbox: int, team_admin: Client
) -> None:
    entry = _left_behind("ft:gpt-4o-mini:acme:gone:abc", left)

    output = _reconcile()

    entry.refresh_from_db()
    assert entry.outcome == Outcome.DELETED
    assert entry.confirmed_by == AuditEntry.Confirmation.RECONCILE
    assert entry.reconciled_at is not None
    stamp = f"{entry.reconciled_at:%Y-%m-%d %H:%M:%S}"
    found = f"Reconciled at {stamp} UTC: the model is gone upstream — deleted."
    assert entry.message.startswith(f"{found} Before that: ")
    assert "Reconciled 1 audit entry; 0 left." in output
    page = team_admin.get(reverse("audit-log")).content.decode()
    assert found in " ".join(_text_of(page).split())
    export = b"".join(team_admin.get(reverse("audit-log"), {"format": "csv"}).streaming_content)
    rows = list(csv.DictReader(io.StringIO(export.decode())))
    assert rows[0]["outcome"] == "deleted"
    assert rows[0]["confirmed_by"] == "reconcile"
    assert rows[0]["reconciled_utc"] == f"{entry.reconciled_at:%Y-%m-%dT%H:%M:%SZ}"
    assert rows[0]["message"].startswith(found)


def _text_of(html: str) -> str:
    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(html)
    return "".join(parser.parts)


def test_reconcile_settles_an_entry_whose_model_still_exists_as_not_deleted(
    sandbox: int,
) -> None:
    model_id = SandboxModel.objects.filter(owned_by="acme").first().id  # type: ignore[union-attr]
    entry = _left_behind(model_id)

    _reconcile()

    entry.refresh_from_db()
    assert entry.outcome == Outcome.FAILED
    assert "the model still exists upstream — not deleted." in entry.message
    assert "No outcome was recorded (the dashboard stopped mid-delete)." in entry.message


def test_reconcile_leaves_entries_younger_than_the_longest_delete(sandbox: int) -> None:
    entry = _left_behind("ft:gpt-4o-mini:acme:gone:abc", minutes=0)

    _reconcile()

    entry.refresh_from_db()
    assert entry.outcome == Outcome.PENDING
    assert entry.reconciled_at is None


def test_reconcile_leaves_entries_of_another_upstream(sandbox: int) -> None:
    other = AuditEntry.objects.create(
        username="olivia",
        model_id="ft:other",
        upstream="https://elsewhere.example/v1",
        created_at=timezone.now() - datetime.timedelta(hours=1),
    )

    output = _reconcile()

    other.refresh_from_db()
    assert other.outcome == Outcome.PENDING
    assert "skipped: recorded against https://elsewhere.example/v1" in output


def test_reconcile_leaves_the_entry_when_the_api_does_not_answer(
    sandbox: int, settings: Any
) -> None:
    entry = _left_behind("ft:gpt-4o-mini:acme:gone:abc", Outcome.UNKNOWN)
    settings.SANDBOX_FAILURE = "timeout"

    output = _reconcile(seconds=2)

    entry.refresh_from_db()
    assert entry.outcome == Outcome.UNKNOWN
    assert entry.reconciled_at is None
    assert "left for the next run: the API did not say" in output


def test_a_settled_entry_cannot_be_reconciled_again(sandbox: int) -> None:
    entry = _left_behind("ft:gpt-4o-mini:acme:gone:abc")
    _reconcile()
    entry.refresh_from_db()
    first = (entry.outcome, entry.message, entry.reconciled_at)

    assert entry.reconcile(Outcome.FAILED, message="again") is False
    assert AuditEntry.objects.reconcile(entry.pk, outcome=Outcome.FAILED) == 0
    entry.refresh_from_db()
    assert (entry.outcome, entry.message, entry.reconciled_at) == first


def test_reconciling_to_an_unsettled_outcome_is_refused(db: None) -> None:
    entry = _left_behind("ft:x")

    with pytest.raises(PermissionError):
        AuditEntry.objects.reconcile(entry.pk, outcome=Outcome.UNKNOWN)


def test_an_unknown_delete_is_reconciled_once_the_api_answers(
    owner: Client, listed: respx.MockRouter, settings: Any
) -> None:
    listed.delete(f"/models/{FINE_TUNE}").mock(side_effect=httpx.ReadTimeout("lost"))
    check = listed.get(f"/models/{FINE_TUNE}")
    check.mock(side_effect=[httpx.ReadTimeout("still nothing")])
    _delete(owner)
    assert AuditEntry.objects.get().outcome == Outcome.UNKNOWN
    check.mock(side_effect=None, return_value=httpx.Response(404))

    _reconcile(grace=0)

    entry = AuditEntry.objects.get()
    assert entry.outcome == Outcome.DELETED
    assert "the model is gone upstream — deleted. Before that: " + UNKNOWN_WORDS in entry.message
    assert entry.upstream == REAL_API_BASE


def _listed(model_id: str, alias: str = "default") -> bool:
    """Whether the catalogue still lists the model (present, not gone)."""
    return CatalogueModel.objects.filter(
        upstream=alias, model_id=model_id, gone_at__isnull=True
    ).exists()
