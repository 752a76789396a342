"""The "sign in again" form in a real browser that still holds another user's session."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from .conftest import PASSWORD, login, screenshot


def _session_cookie(context: Any) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "sessionid")


def test_signing_in_again_as_someone_else_replaces_the_browsers_session(
    page: Page, context: Any
) -> None:
    login(page, "admin")
    admins_session = _session_cookie(context)
    page.goto("/login/?expired=1&next=/u/default/models/%3Fq%3Dtriage")

    page.fill("#id_username", "owner")
    page.fill("#id_password", PASSWORD)
    page.locator(".auth-card").get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(re.compile(r"/u/default/models/\?q=triage$"))
    expect(page.locator(".whoami")).to_contain_text("owner")
    expect(page.locator(".whoami .role")).to_have_text("Owner")
    assert _session_cookie(context) != admins_session
    screenshot(page, "journey7-signed-in-again-as-someone-else")
