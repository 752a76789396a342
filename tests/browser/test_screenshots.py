"""The README's screenshots, taken from the running dashboard (`make screenshots`)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import login, screenshot


def test_list_page_shows_the_seeded_models_to_a_signed_in_user(page: Page) -> None:
    login(page, "owner")
    expect(page.locator("#summary-count")).to_contain_text("1–50 of 64")
    expect(page.locator(".models-table tbody tr")).to_have_count(50)
    assert screenshot(page, "list", readme=True).stat().st_size > 10_000
