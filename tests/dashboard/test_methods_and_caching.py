"""Views answer only the methods they serve; pages with upstream data or the audit log are
never stored by a browser or a proxy (`Cache-Control: no-store`)."""

from __future__ import annotations

from typing import Any

import pytest
import respx
from django.test import Client
from django.urls import reverse

from dashboard.models import AuditEntry
from dashboard.sandbox.models import SandboxModel

FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12Cd34"
HTMX = {"HX-Request": "true"}


def _cache_control(response: Any) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


@pytest.fixture
def fine_tune(sandbox: int) -> str:
    return SandboxModel.objects.filter(id__startswith="ft:").order_by("id")[0].id


@pytest.mark.parametrize(
    ("page", "headers"),
    [
        ("list", {}),
        ("list", HTMX),
        ("detail", {}),
        ("detail", HTMX),
        ("delete", {}),
        ("delete", HTMX),
        ("audit", {}),
        ("audit", HTMX),
        ("audit-csv", {}),
        ("audit-json", {}),
        ("export-csv", {}),
        ("export-json", {}),
    ],
)
def test_pages_with_upstream_data_or_the_audit_log_send_no_store(
    page: str, headers: dict[str, str], owner: Client, fine_tune: str
) -> None:
    AuditEntry.objects.create(username="olivia", model_id=fine_tune)
    url = {
        "list": reverse("model-list", args=["default"]),
        "detail": reverse("model-detail", args=["default", fine_tune]),
        "delete": reverse("model-delete", args=["default", fine_tune]),
        "audit": reverse("audit-log"),
        "audit-csv": reverse("audit-log") + "?format=csv",
        "audit-json": reverse("audit-log") + "?format=json",
        "export-csv": reverse("model-export-csv", args=["default"]),
        "export-json": reverse("model-export-json", args=["default"]),
    }[page]

    response = owner.get(url, headers=headers)

    assert response.status_code == 200
    assert "no-store" in _cache_control(response)
    assert "private" in _cache_control(response)


@pytest.mark.parametrize("page", ["model-list", "audit-log"])
def test_the_full_page_and_the_fragment_differ_by_hx_request_and_both_are_not_stored(
    page: str, owner: Client, sandbox: int
) -> None:
    url = reverse(page, args=["default"] if page == "model-list" else [])
    full, fragment = owner.get(url), owner.get(url, headers=HTMX)

    assert "HX-Request" in full["Vary"]
    assert "no-store" in _cache_control(full) & _cache_control(fragment)
    assert b"<html" in full.content and b"<html" not in fragment.content


def test_an_upstream_error_page_is_not_stored_either(
    owner: Client, sandbox: int, settings: Any
) -> None:
    settings.SANDBOX_FAILURE = "error-500"

    response = owner.get(reverse("model-list", args=["default"]))

    assert response.status_code >= 500
    assert "no-store" in _cache_control(response)


@pytest.mark.parametrize("method", ["put", "patch", "delete", "post", "options"])
def test_the_detail_page_refuses_other_methods_with_405_and_calls_no_upstream(
    method: str, owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.route().respond(json={"id": FINE_TUNE, "object": "model", "deleted": True})

    response = getattr(owner, method)(reverse("model-detail", args=["default", FINE_TUNE]))

    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD"}
    assert real_api.calls.call_count == 0
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_delete_url_refuses_http_delete_and_friends_without_calling_upstream(
    method: str, owner: Client, real_api: respx.MockRouter
) -> None:
    real_api.route().respond(json={"id": FINE_TUNE, "object": "model", "deleted": True})

    response = getattr(owner, method)(
        reverse("model-delete", args=["default", FINE_TUNE]), f"confirm_id={FINE_TUNE}"
    )

    assert response.status_code == 405
    assert real_api.calls.call_count == 0
    assert not AuditEntry.objects.exists()


def test_logging_out_takes_a_post_and_a_get_signs_nobody_out(owner: Client) -> None:
    refused = owner.get(reverse("logout"))
    still_in = "_auth_user_id" in owner.session
    done = owner.post(reverse("logout"))

    assert refused.status_code == 405
    assert still_in
    assert done.status_code == 302
    assert "_auth_user_id" not in owner.session


@pytest.mark.parametrize("method", ["put", "patch", "delete", "options"])
def test_the_login_page_takes_only_get_head_and_post(method: str, db: None) -> None:
    response = getattr(Client(), method)(reverse("login"), "username=a&password=b")

    assert response.status_code == 405
    assert set(response["Allow"].split(", ")) == {"GET", "HEAD", "POST"}


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/favicon.ico"])
def test_public_endpoints_answer_head_but_not_post(path: str, sandbox: int) -> None:
    assert Client().head(path).status_code in {200, 301}
    assert Client().post(path).status_code == 405
