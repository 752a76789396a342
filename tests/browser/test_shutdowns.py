"""The Shutdowns page in a real browser: the timeline, light and dark, desktop and phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from .conftest import axe_violations, login, screenshot


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_shutdowns_timeline_reads_on_desktop_and_phone(page: Page, scheme: str) -> None:
    page.emulate_media(color_scheme=scheme)
    login(page, "owner")  # the first list load fills the catalogue from the sandbox

    page.locator("nav.site-nav").get_by_role("link", name="Shutdowns").click()
    page.wait_for_url("**/u/default/shutdowns/")

    days = page.locator(".timeline__day")
    expect(days.first).to_be_visible()
    assert days.count() >= 2
    past = page.locator(".timeline__day--past")
    expect(past.first.locator(".timeline__left")).to_contain_text("Already stopped")
    first_ids = [days.nth(i).get_attribute("id") or "" for i in range(days.count())]
    assert first_ids == sorted(first_ids)  # past days first, then the coming ones, by date
    expect(page.locator('nav.site-nav a[aria-current="page"]')).to_have_text("Shutdowns")
    assert axe_violations(page) == []
    screenshot(page, f"shutdowns-desktop-{scheme}")

    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"shutdowns-phone-{scheme}")


def test_an_owner_selects_one_days_fine_tunes_from_the_timeline(page: Page) -> None:
    login(page, "owner")
    page.goto("/u/default/shutdowns/")
    first = page.locator(".timeline__day").first
    count = first.locator(".timeline__what strong").inner_text()

    first.get_by_role("button", name=f"Select these {count}").click()

    expect(page.locator("#messages")).to_contain_text(f"Added {count} fine-tune")
    assert page.url.endswith(f"/u/default/shutdowns/#{first.get_attribute('id')}")
