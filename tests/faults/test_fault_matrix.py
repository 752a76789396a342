"""Page × upstream fault, for real: what the owner sees, what upstream was asked, what the audit
log says.

Every cell drives a dashboard page with Django's test Client, the dashboard calls the sandbox
over HTTP through the fault proxy (retries on, the default 2), and the proxy injects one fault
on the page's upstream request: GET for the list, fragment and detail pages, DELETE for the
delete (the GET that fetches the model before deleting it, and any check after, pass).

Expectations follow issue 8: never a 500; never a lie in the audit log (a DELETE that was
forwarded and then dropped is "deleted, confirmed by a check", not "failed"; a retry's 404 after
a lost answer is "deleted", not "already gone"; a lost answer whose model is still there is
"not deleted" only because a check said so); every page answers within the budget
(UPSTREAM_PAGE_BUDGET) — a `Retry-After: 120` says "retry after 2 minutes" instead of waiting,
a hang says how long it waited in all; redirects are not followed; oversized answers are not
read. Every phrase, count and outcome lives in MATRIX below; the README's fault table is MATRIX
in words.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from dashboard.models import AuditEntry
from dashboard.sandbox.models import SandboxModel

from .conftest import PAGE_BUDGET
from .pages import text_of
from .proxy import Fault, FaultProxy

MODEL = "acme/llama-3.1-8b-support"  # a fine-tune of the organisation, with "/" in its id
LIST_PATH = "/sandbox/v1/models"
MODEL_PATH = "/sandbox/v1/models/" + quote(MODEL, safe=":@")
SLACK = 1.5  # seconds past the budget a page may take (rendering, a busy machine)
PAGES = ("list", "fragment", "detail", "delete")

FAULTS: dict[str, Fault] = {
    "500": Fault.status_code(500),
    "502": Fault.status_code(502),
    "503": Fault.status_code(503),
    "429, Retry-After 1": Fault.status_code(429, retry_after=1),
    "429, Retry-After 120": Fault.status_code(429, retry_after=120),
    "reset": Fault.reset(),
    "reset once": Fault.reset(),  # only the first request: the retry gets through
    "hang": Fault.hang(),
    "truncated": Fault.truncate(),
    "non-JSON 200": Fault.not_json(),
    "401": Fault.status_code(401),
    "403": Fault.status_code(403),
    "404": Fault.status_code(404),
    "redirect": Fault.redirect(),
    "oversized": Fault.oversize(),
    "latency": Fault.latency(0.3),
}
ONCE = {"reset once"}


@dataclass(frozen=True)
class Audit:
    """The audit entry a delete leaves: its outcome, how the dashboard knows it
    (`confirmed_by`: "answer", "retry", "check"), and a phrase of its message ("" when the
    message must be empty: a plain, confirmed delete needs no words)."""

    outcome: str
    confirmed_by: str
    says: str


@dataclass(frozen=True)
class Cell:
    """What one page answers under one fault.

    `says` is a phrase of the page (of the flash message, for the no-JS delete), compared
    case-insensitively; `never` a phrase it must not contain. `gets`/`deletes` count the
    requests the proxy saw on the page's upstream path (retries included), `elsewhere` those
    the redirect target saw. `audit` is the entry the page writes, or None when it writes
    none. `exists`: the model is still in the sandbox afterwards.
    """

    status: int
    says: str
    gets: int
    deletes: int = 0
    never: str | None = None
    elsewhere: int = 0
    audit: Audit | None = None
    exists: bool = True


def lists(cell: Cell) -> dict[str, Cell]:
    """The list page and its htmx fragment answer alike."""
    return {"list": cell, "fragment": cell}


NOT_THERE = "a check found the model still there"
GONE = "a check confirmed the model is gone"
# The delete's upstream calls, by design: one GET for the audit's snapshot before the DELETE
# (the test's cache is empty, as when a delete comes from a bookmarked page), the DELETE and
# its retries, and one GET to check when an answer was lost (5xx, reset, timeout, truncated,
# unreadable or oversized) unless a retry's 404 already said the model is gone.
# fmt: off
MATRIX: dict[str, dict[str, Cell]] = {
    "500": {  # retried twice; a 5xx to a DELETE may come after the API acted: checked
        **lists(Cell(502, "answered with an error (500)", gets=3)),
        "detail": Cell(502, "answered with an error (500)", gets=3),
        "delete": Cell(302, NOT_THERE, gets=2, deletes=3,
                       audit=Audit("failed", "check", f"not deleted ({NOT_THERE})")),
    },
    "502": {
        **lists(Cell(502, "answered with an error (502)", gets=3)),
        "detail": Cell(502, "answered with an error (502)", gets=3),
        "delete": Cell(302, NOT_THERE, gets=2, deletes=3,
                       audit=Audit("failed", "check", f"not deleted ({NOT_THERE})")),
    },
    "503": {
        **lists(Cell(502, "answered with an error (503)", gets=3)),
        "detail": Cell(502, "answered with an error (503)", gets=3),
        "delete": Cell(302, NOT_THERE, gets=2, deletes=3,
                       audit=Audit("failed", "check", f"not deleted ({NOT_THERE})")),
    },
    "429, Retry-After 1": {  # one wait of 1 s fits a page's 2 s, a second does not; a
        # delete's DELETE has 1.4 s (the rest is kept for a check): no wait fits
        **lists(Cell(503, "retry after 1 second", gets=2)),
        "detail": Cell(503, "retry after 1 second", gets=2),
        "delete": Cell(302, "not deleted: rate limited", gets=1, deletes=1,
                       audit=Audit("refused", "answer", "rate limited — not deleted")),
    },
    "429, Retry-After 120": {  # not waited for: said, at once
        **lists(Cell(503, "retry after 2 minutes", gets=1)),
        "detail": Cell(503, "retry after 2 minutes", gets=1),
        "delete": Cell(302, "retry after 2 minutes", gets=1, deletes=1,
                       audit=Audit("refused", "answer",
                                   "rate limited — not deleted. The API asked to retry after "
                                   "2 minutes")),
    },
    "reset": {  # forwarded (the DELETE happens), then reset: no answer, ever
        **lists(Cell(502, "the connection to the API broke", never="cannot be reached",
                     gets=3)),
        "detail": Cell(502, "the connection to the API broke", never="cannot be reached",
                       gets=3),
        "delete": Cell(302, GONE, never="not deleted", gets=2, deletes=3,
                       audit=Audit("deleted", "check",
                                   "confirmed by a check: the model is gone"),
                       exists=False),
    },
    "reset once": {  # the first request is forwarded and reset, the retry gets through
        **lists(Cell(200, MODEL, gets=2)),
        "detail": Cell(200, MODEL, gets=2),
        "delete": Cell(302, f"deleted {MODEL}.", never="already gone", gets=1, deletes=2,
                       audit=Audit("deleted", "retry", "the retry found the model gone"),
                       exists=False),
    },
    "hang": {  # never forwarded: a 1 s attempt, a 0.075 s wait, the ~0.9 s left of the 2 s;
        # a hung DELETE: one 1 s attempt, then the check's GET in what is left
        **lists(Cell(504, "seconds in 2 attempts", gets=2)),
        "detail": Cell(504, "seconds in 2 attempts", gets=2),
        "delete": Cell(302, NOT_THERE, gets=2, deletes=1,
                       audit=Audit("failed", "check",
                                   f"did not answer in time — not deleted ({NOT_THERE})")),
    },
    "truncated": {  # forwarded, then half of the answer
        **lists(Cell(502, "the connection to the API broke", never="cannot be reached",
                     gets=3)),
        "detail": Cell(502, "the connection to the API broke", never="cannot be reached",
                       gets=3),
        "delete": Cell(302, GONE, never="not deleted", gets=2, deletes=3,
                       audit=Audit("deleted", "check",
                                   "confirmed by a check: the model is gone"),
                       exists=False),
    },
    "non-JSON 200": {  # not forwarded: a captive portal's page; not retried
        **lists(Cell(502, "could not read", gets=1)),
        "detail": Cell(502, "could not read", gets=1),
        "delete": Cell(302, NOT_THERE, gets=2, deletes=1,
                       audit=Audit("failed", "check",
                                   f"could not read — not deleted ({NOT_THERE})")),
    },
    "401": {
        **lists(Cell(502, "rejected the dashboard's key", gets=1)),
        "detail": Cell(502, "rejected the dashboard's key", gets=1),
        "delete": Cell(302, "not deleted: the API rejected the dashboard's key", gets=1,
                       deletes=1,
                       audit=Audit("refused", "answer",
                                   "rejected the dashboard's key — not deleted")),
    },
    "403": {
        **lists(Cell(403, "the API refused", gets=1)),
        "detail": Cell(403, "the API refused", gets=1),
        "delete": Cell(302, "not deleted: the API refused", gets=1, deletes=1,
                       audit=Audit("refused", "answer",
                                   "not deleted. You have insufficient permissions")),
    },
    "404": {  # the proxy's 404 is all the dashboard can know: the sandbox still has it
        **lists(Cell(404, "not found upstream", gets=1)),
        "detail": Cell(404, "not found upstream", gets=1),
        "delete": Cell(302, "already gone", gets=1, deletes=1,
                       audit=Audit("already_gone", "answer", "does not exist")),
    },
    "redirect": {  # a 307 to another origin: not followed, for any method
        **lists(Cell(502, "redirect not followed", gets=1)),
        "detail": Cell(502, "redirect not followed", gets=1),
        "delete": Cell(302, "redirect not followed", never=f"deleted {MODEL}", gets=1,
                       deletes=1,
                       audit=Audit("failed", "answer", "redirect not followed — not deleted")),
    },
    "oversized": {  # forwarded (the DELETE happens), answered padded to 20 MB: not read
        **lists(Cell(502, "the API sent more than 16 MB", gets=1)),
        "detail": Cell(502, "the API sent more than 1 MB", gets=1),
        "delete": Cell(302, GONE, never="not deleted", gets=2, deletes=1,
                       audit=Audit("deleted", "check",
                                   "confirmed by a check: the model is gone"),
                       exists=False),
    },
    "latency": {  # 0.3 s, well within one attempt
        **lists(Cell(200, MODEL, gets=1)),
        "detail": Cell(200, MODEL, gets=1),
        "delete": Cell(302, f"deleted {MODEL}.", gets=1, deletes=1,
                       audit=Audit("deleted", "answer", ""), exists=False),
    },
}
# fmt: on


@dataclass(frozen=True)
class Seen:
    """A cell as observed, in the shape of the expectation (so a failure diffs field by field)."""

    status: int
    says: bool
    never_says: bool
    calls: dict[tuple[str, str], int]
    elsewhere: int
    audit: tuple[str, str, bool] | None
    exists: bool
    within_budget: bool

    @classmethod
    def expected(cls, cell: Cell, path: str) -> Seen:
        calls = {("GET", path): cell.gets, ("DELETE", path): cell.deletes}
        return cls(
            status=cell.status,
            says=True,
            never_says=True,
            calls={key: count for key, count in calls.items() if count},
            elsewhere=cell.elsewhere,
            audit=(cell.audit.outcome, cell.audit.confirmed_by, True) if cell.audit else None,
            exists=cell.exists,
            within_budget=True,
        )


def _visit(owner: Client, page: str) -> tuple[int, str]:
    """Open `page` as an owner; the status and what the owner reads."""
    if page == "delete":
        response = owner.post(
            reverse("model-delete", args=["default", MODEL]), {"confirm_id": MODEL}
        )
        if response.status_code == 302:
            assert response["Location"] == reverse("model-list", args=["default"])
        return response.status_code, " ".join(
            str(m.message) for m in get_messages(response.wsgi_request)
        )
    if page == "detail":
        response = owner.get(reverse("model-detail", args=["default", MODEL]))
    else:
        headers = {"HX-Request": "true"} if page == "fragment" else {}
        response = owner.get(reverse("model-list", args=["default"]), headers=headers)
    html = response.content.decode()
    if page == "fragment":
        assert "<html" not in html, "an htmx request must get the fragment, not the page"
    return response.status_code, text_of(html)


CELLS = [
    pytest.param(fault, page, id=f"{page}-{fault}".replace(", ", "-").replace(" ", "-"))
    for fault in FAULTS
    for page in PAGES
]


def test_the_matrix_has_one_cell_per_fault_and_page() -> None:
    assert set(MATRIX) == set(FAULTS)
    assert all(set(pages) == set(PAGES) for pages in MATRIX.values())


@pytest.mark.parametrize(("fault", "page"), CELLS)
def test_fault_matrix_cell(
    dashboard_via_proxy: FaultProxy, owner: Client, fault: str, page: str
) -> None:
    proxy = dashboard_via_proxy
    cell = MATRIX[fault][page]
    path = LIST_PATH if page in ("list", "fragment") else MODEL_PATH
    method = "DELETE" if page == "delete" else "GET"
    proxy.inject(method, path, FAULTS[fault], times=1 if fault in ONCE else None)

    started = time.perf_counter()
    status, text = _visit(owner, page)
    elapsed = time.perf_counter() - started

    entries = list(AuditEntry.objects.all())
    assert len(entries) <= 1
    audit_message = entries[0].message if entries else ""
    audit_phrase = cell.audit.says if cell.audit else ""
    seen = Seen(
        status=status,
        says=cell.says.casefold() in text.casefold(),
        never_says=cell.never is None or cell.never.casefold() not in text.casefold(),
        calls=dict(proxy.calls),
        elsewhere=sum(proxy.elsewhere_calls.values()),
        audit=(
            (
                entries[0].outcome,
                entries[0].confirmed_by,
                audit_phrase.casefold() in audit_message.casefold()
                if audit_phrase
                else audit_message == "",
            )
            if entries
            else None
        ),
        exists=SandboxModel.objects.filter(pk=MODEL).exists(),
        within_budget=elapsed <= PAGE_BUDGET + SLACK,
    )
    assert seen == Seen.expected(cell, path), (
        f"{page} × {fault}: answered {status} in {elapsed:.2f} s; "
        f"says {text[:300]!r}; audit {audit_message[:300]!r}"
    )
