"""/audit/: who may read it, what it shows, filters, CSV; the log is append-only everywhere."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertInHTML

from dashboard.models import AuditEntry

Outcome = AuditEntry.Outcome
UTC = datetime.UTC
ALPHA = "ft:gpt-4o-mini-2024-07-18:acme:alpha:AAAA1111"
BETA = "ft:gpt-4.1-mini-2025-04-14:acme:beta:BBBB2222"
GAMMA = "acme/gamma-support"


def _entry(**fields: object) -> AuditEntry:
    defaults: dict[str, object] = {
        "username": "olivia",
        "model_id": ALPHA,
        "model_snapshot": {"id": fields.get("model_id", ALPHA), "owned_by": "acme"},
        "upstream": "https://api.example.test/v1",
    }
    return AuditEntry.objects.create(**{**defaults, **fields})


@pytest.fixture
def entries(db: None) -> list[AuditEntry]:
    """Three attempts by two users with three outcomes, at known times."""
    return [
        _entry(
            created_at=datetime.datetime(2026, 11, 20, 9, 30, 15, tzinfo=UTC),
            username="olivia",
            model_id=ALPHA,
            outcome=Outcome.DELETED,
            upstream_status=200,
            upstream_request_id="req_alpha_deleted",
        ),
        _entry(
            created_at=datetime.datetime(2026, 11, 21, 10, 0, 0, tzinfo=UTC),
            username="adam",
            model_id=BETA,
            outcome=Outcome.DENIED,
            message="Only owners may delete models.",
        ),
        _entry(
            created_at=datetime.datetime(2026, 11, 22, 11, 45, 5, tzinfo=UTC),
            username="olivia",
            model_id=GAMMA,
            outcome=Outcome.FAILED,
            upstream_status=500,
            upstream_request_id="req_gamma_failed",
            message="The server had an error.",
        ),
    ]


def _csv_rows(response: object) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(body)))


# --- Who may read it -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["team_admin", "owner"])
def test_audit_log_shows_every_column_to_admins_and_owners(
    role: str, request: pytest.FixtureRequest, entries: list[AuditEntry]
) -> None:
    browser: Client = request.getfixturevalue(role)

    response = browser.get(reverse("audit-log"))

    assert response.status_code == 200
    html = response.content.decode()
    for header in ("Time (UTC)", "User", "Action", "Model", "Outcome", "Upstream", "Request id"):
        assert f'<th scope="col">{header}</th>' in html
    assert '<time datetime="2026-11-20T09:30:15+00:00">2026-11-20 09:30:15</time>' in html
    assertInHTML('<td data-label="User">olivia</td>', html, count=2)
    assertInHTML('<td data-label="User">adam</td>', html, count=1)
    assertInHTML('<td data-label="Action">delete</td>', html, count=3)
    assert ALPHA in html and BETA in html and GAMMA in html
    assert "Deleted</span>" in html
    assert "Denied by the dashboard</span>" in html
    assert "Failed</span>" in html
    assertInHTML('<td class="mono" data-label="Upstream">200</td>', html)
    assertInHTML('<td class="mono" data-label="Upstream">500</td>', html)
    assert "req_alpha_deleted" in html
    assert "req_gamma_failed" in html
    assert "<strong>3</strong>" in html


def test_audit_log_is_forbidden_to_support(support: Client, entries: list[AuditEntry]) -> None:
    response = support.get(reverse("audit-log"))

    assert response.status_code == 403
    html = response.content.decode()
    assert "The audit log is for admins and owners." in html
    assert ALPHA not in html
    assert "req_alpha_deleted" not in html


def test_audit_log_fragment_and_csv_are_forbidden_to_support(
    support: Client, entries: list[AuditEntry]
) -> None:
    fragment = support.get(reverse("audit-log"), headers={"HX-Request": "true"})
    export = support.get(reverse("audit-log"), {"format": "csv"})

    assert fragment.status_code == 403
    assert "<html" not in fragment.content.decode()
    assert ALPHA not in fragment.content.decode()
    assert export.status_code == 403
    assert not export.get("Content-Type", "").startswith("text/csv")
    assert ALPHA not in export.content.decode()


def test_audit_log_requires_sign_in(entries: list[AuditEntry]) -> None:
    response = Client().get(reverse("audit-log"))

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/audit/")


def test_audit_log_link_is_only_in_the_header_for_those_who_may_read_it(
    team_admin: Client, support: Client, sandbox: int
) -> None:
    link = f'href="{reverse("audit-log")}"'

    assert link in team_admin.get(reverse("model-list", args=["default"])).content.decode()
    assert link not in support.get(reverse("model-list", args=["default"])).content.decode()


def test_audit_log_without_entries_says_so(team_admin: Client) -> None:
    response = team_admin.get(reverse("audit-log"))

    assert response.status_code == 200
    assert "Nobody has tried to delete a model yet." in response.content.decode()


# --- Filters ---------------------------------------------------------------------------------


def test_audit_log_filters_by_user(team_admin: Client, entries: list[AuditEntry]) -> None:
    html = team_admin.get(reverse("audit-log"), {"user": "adam"}).content.decode()

    assert BETA in html
    assert ALPHA not in html
    assert GAMMA not in html
    assert '<option value="adam" selected>' in html


def test_audit_log_filters_by_model_id_substring(
    team_admin: Client, entries: list[AuditEntry]
) -> None:
    html = team_admin.get(reverse("audit-log"), {"model": "GAMMA-sup"}).content.decode()

    assert GAMMA in html
    assert ALPHA not in html
    assert BETA not in html


def test_audit_log_filters_by_outcome(team_admin: Client, entries: list[AuditEntry]) -> None:
    html = team_admin.get(reverse("audit-log"), {"outcome": "failed"}).content.decode()

    assert GAMMA in html
    assert ALPHA not in html
    assert BETA not in html
    assert '<option value="failed" selected>' in html


def test_audit_log_filters_combine(team_admin: Client, entries: list[AuditEntry]) -> None:
    both = team_admin.get(reverse("audit-log"), {"user": "olivia", "outcome": "deleted"})
    none = team_admin.get(reverse("audit-log"), {"user": "adam", "outcome": "deleted"})

    assert ALPHA in both.content.decode()
    assert GAMMA not in both.content.decode()
    assert BETA not in both.content.decode()
    assert "Nothing matches these filters." in none.content.decode()


def test_audit_log_ignores_an_unknown_outcome(
    team_admin: Client, entries: list[AuditEntry]
) -> None:
    html = team_admin.get(reverse("audit-log"), {"outcome": "bogus"}).content.decode()

    assert ALPHA in html and BETA in html and GAMMA in html


def test_audit_log_via_htmx_returns_only_the_results_fragment(
    team_admin: Client, entries: list[AuditEntry]
) -> None:
    response = team_admin.get(
        reverse("audit-log"), {"outcome": "denied"}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="audit-filters"' not in html
    assert "audit-table" in html
    assert BETA in html
    assert ALPHA not in html
    assert "HX-Request" in response["Vary"]


def test_audit_log_pages_after_fifty_entries(team_admin: Client) -> None:
    for number in range(51):
        _entry(model_id=f"ft:m:acme:bulk:{number:04d}")

    first = team_admin.get(reverse("audit-log")).content.decode()
    second = team_admin.get(reverse("audit-log"), {"page": 2}).content.decode()

    assert "Page 1 of 2" in first
    assert "ft:m:acme:bulk:0050" in first
    assert "ft:m:acme:bulk:0000" not in first
    assert "ft:m:acme:bulk:0000" in second


# --- CSV -------------------------------------------------------------------------------------


def test_audit_csv_has_a_header_row_and_every_entry(
    team_admin: Client, entries: list[AuditEntry]
) -> None:
    response = team_admin.get(reverse("audit-log"), {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert rows[0] == [
        "time_utc",
        "user",
        "action",
        "model_id",
        "outcome",
        "upstream_status",
        "upstream_request_id",
        "message",
        "upstream",
        "finished_utc",
        "confirmed_by",
        "reconciled_utc",
        "job_id",
        "deletion_request_id",
    ]
    assert [row[3] for row in rows[1:]] == [GAMMA, BETA, ALPHA]
    assert rows[3][:7] == [
        "2026-11-20T09:30:15Z",
        "olivia",
        "delete",
        ALPHA,
        "deleted",
        "200",
        "req_alpha_deleted",
    ]
    assert rows[2][4:8] == ["denied", "", "", "Only owners may delete models."]


def test_audit_csv_respects_the_filters(team_admin: Client, entries: list[AuditEntry]) -> None:
    response = team_admin.get(reverse("audit-log"), {"format": "csv", "user": "olivia"})

    rows = _csv_rows(response)
    assert rows[0][0] == "time_utc"
    assert [row[3] for row in rows[1:]] == [GAMMA, ALPHA]


def test_audit_csv_link_carries_the_filters(team_admin: Client, entries: list[AuditEntry]) -> None:
    html = team_admin.get(reverse("audit-log"), {"user": "adam"}).content.decode()

    assert 'href="?user=adam&amp;format=csv"' in html


@pytest.mark.parametrize(
    "model_id", ['=HYPERLINK("https://evil.example/","x")', "+1+2", "-2+3", "@SUM(A1)"]
)
def test_audit_csv_neutralises_spreadsheet_formulas(team_admin: Client, model_id: str) -> None:
    _entry(model_id=model_id, message="=cmd|' /C calc'!A0", outcome=Outcome.REFUSED)

    rows = _csv_rows(team_admin.get(reverse("audit-log"), {"format": "csv"}))

    assert rows[1][3] == "'" + model_id
    assert rows[1][7] == "'=cmd|' /C calc'!A0"


def test_audit_csv_neutralises_formulas_in_upstream_request_ids_and_usernames(
    team_admin: Client,
) -> None:
    _entry(
        username="-2+3",  # Django's username validator allows a leading -, + or @
        upstream_request_id='=HYPERLINK("https://evil.example/","req")',
        outcome=Outcome.FAILED,
    )

    rows = _csv_rows(team_admin.get(reverse("audit-log"), {"format": "csv"}))

    assert rows[1][1] == "'-2+3"
    assert rows[1][6] == '\'=HYPERLINK("https://evil.example/","req")'


def test_audit_page_escapes_model_ids_from_upstream(team_admin: Client) -> None:
    _entry(model_id="<script>alert(1)</script>", outcome=Outcome.FAILED)

    html = team_admin.get(reverse("audit-log")).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- Append-only in code ---------------------------------------------------------------------


def test_audit_rows_cannot_be_bulk_deleted(entries: list[AuditEntry]) -> None:
    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.filter(username="olivia").delete()
    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.all().delete()

    assert AuditEntry.objects.count() == 3


def test_audit_rows_cannot_be_bulk_updated(entries: list[AuditEntry]) -> None:
    with pytest.raises(PermissionError, match="append-only"):
        AuditEntry.objects.filter(model_id=ALPHA).update(outcome=Outcome.FAILED)

    assert AuditEntry.objects.get(model_id=ALPHA).outcome == Outcome.DELETED


def test_an_audit_row_cannot_be_deleted(entries: list[AuditEntry]) -> None:
    entry = AuditEntry.objects.get(model_id=ALPHA)

    with pytest.raises(PermissionError, match="append-only"):
        entry.delete()

    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_an_existing_audit_row_cannot_be_saved_again(entries: list[AuditEntry]) -> None:
    entry = AuditEntry.objects.get(model_id=ALPHA)
    entry.username = "mallory"
    entry.outcome = Outcome.FAILED

    with pytest.raises(PermissionError, match="append-only"):
        entry.save()

    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.username == "olivia"
    assert fresh.outcome == Outcome.DELETED


def test_record_outcome_fills_in_a_pending_row_only_once(db: None) -> None:
    entry = _entry(model_id=GAMMA)
    assert entry.outcome == Outcome.PENDING

    entry.record_outcome(Outcome.DELETED, status=200, request_id="req_first")
    entry.record_outcome(Outcome.FAILED, status=500, request_id="req_second", message="late")
    stale_copy = AuditEntry.objects.get(pk=entry.pk)
    stale_copy.outcome = Outcome.PENDING  # a copy that thinks it is still pending
    stale_copy.record_outcome(Outcome.REFUSED, status=403)

    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.outcome == Outcome.DELETED
    assert fresh.upstream_status == 200
    assert fresh.upstream_request_id == "req_first"
    assert fresh.message == ""
    assert entry.outcome == Outcome.DELETED
    assert entry.upstream_request_id == "req_first"


def test_record_outcome_cannot_change_a_finished_row(entries: list[AuditEntry]) -> None:
    denied = AuditEntry.objects.get(model_id=BETA)

    denied.record_outcome(Outcome.DELETED, status=200)

    assert AuditEntry.objects.get(pk=denied.pk).outcome == Outcome.DENIED


# --- Append-only in the Django admin ---------------------------------------------------------


def _superuser() -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw-root-123456")
    browser = Client()
    browser.force_login(user)
    return browser


def _staff_owner(owner: Client) -> Client:
    user = User.objects.get(username="olivia")
    user.is_staff = True
    user.save()
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture(params=["superuser", "staff-owner"])
def admin_site_user(request: pytest.FixtureRequest, db: None) -> Client:
    if request.param == "superuser":
        return _superuser()
    return _staff_owner(request.getfixturevalue("owner"))


def test_admin_lists_audit_entries_without_a_delete_action(
    admin_site_user: Client, entries: list[AuditEntry]
) -> None:
    response = admin_site_user.get("/admin/dashboard/auditentry/")

    assert response.status_code == 200
    html = response.content.decode()
    assert ALPHA in html
    assert 'name="action"' not in html
    assert "delete_selected" not in html
    assert "/admin/dashboard/auditentry/add/" not in html


def test_admin_cannot_add_an_audit_entry(
    admin_site_user: Client, entries: list[AuditEntry]
) -> None:
    page = admin_site_user.get("/admin/dashboard/auditentry/add/")
    posted = admin_site_user.post(
        "/admin/dashboard/auditentry/add/",
        {"username": "mallory", "model_id": "forged", "outcome": "deleted", "action": "delete"},
    )

    assert page.status_code == 403
    assert posted.status_code == 403
    assert not AuditEntry.objects.filter(model_id="forged").exists()


def test_admin_change_page_is_read_only(admin_site_user: Client, entries: list[AuditEntry]) -> None:
    entry = AuditEntry.objects.get(model_id=ALPHA)
    url = f"/admin/dashboard/auditentry/{entry.pk}/change/"

    page = admin_site_user.get(url)
    posted = admin_site_user.post(
        url, {"username": "mallory", "model_id": ALPHA, "outcome": "failed", "action": "delete"}
    )

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html
    assert 'name="_continue"' not in html
    assert f"/admin/dashboard/auditentry/{entry.pk}/delete/" not in html
    assert posted.status_code == 403
    fresh = AuditEntry.objects.get(pk=entry.pk)
    assert fresh.username == "olivia"
    assert fresh.outcome == Outcome.DELETED


def test_admin_cannot_delete_an_audit_entry(
    admin_site_user: Client, entries: list[AuditEntry]
) -> None:
    entry = AuditEntry.objects.get(model_id=ALPHA)
    url = f"/admin/dashboard/auditentry/{entry.pk}/delete/"

    page = admin_site_user.get(url)
    posted = admin_site_user.post(url, {"post": "yes"})

    assert page.status_code == 403
    assert posted.status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_admin_bulk_delete_action_is_refused(
    admin_site_user: Client, entries: list[AuditEntry]
) -> None:
    response = admin_site_user.post(
        "/admin/dashboard/auditentry/",
        {
            "action": "delete_selected",
            "_selected_action": [str(e.pk) for e in entries],
            "post": "yes",
        },
    )

    assert response.status_code in (200, 302, 403)
    assert AuditEntry.objects.count() == 3


def test_admin_site_is_closed_to_non_staff_roles(
    team_admin: Client, entries: list[AuditEntry]
) -> None:
    response = team_admin.get("/admin/dashboard/auditentry/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
