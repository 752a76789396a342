"""axe-core (vendored from npm) on the four main pages, and the keyboard paths."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .conftest import axe_violations, login, screenshot

FINE_TUNE = "ft:gpt-4.1-mini-2025-04-14:acme:tone-polish:rdb5w2HY"


def test_the_list_page_has_no_serious_accessibility_violations(page: Page) -> None:
    login(page, "owner")
    assert axe_violations(page) == []


def test_the_detail_page_has_no_serious_accessibility_violations(page: Page) -> None:
    login(page, "owner")
    page.goto(f"/u/default/models/{FINE_TUNE}/")
    expect(page.locator("h1")).to_have_text(FINE_TUNE)
    assert axe_violations(page) == []


def test_the_delete_dialog_has_no_serious_accessibility_violations(page: Page) -> None:
    login(page, "owner")
    page.get_by_role("link", name=f"Delete {FINE_TUNE}").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert axe_violations(page) == []


def test_the_audit_page_has_no_serious_accessibility_violations(page: Page) -> None:
    login(page, "owner")
    page.get_by_role("link", name=f"Delete {FINE_TUNE}").click()
    page.fill("#confirm-id", FINE_TUNE)
    page.get_by_role("button", name="Delete model").click()
    expect(page.locator("#messages")).to_contain_text("Deleted")
    page.goto("/audit/")
    expect(page.locator(".audit-table tbody tr")).to_have_count(1)
    screenshot(page, "audit")
    assert axe_violations(page) == []


def test_slash_focuses_the_search_box(page: Page) -> None:
    login(page, "support")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()


def test_escape_closes_the_dialog_and_focus_returns_to_the_delete_button(page: Page) -> None:
    login(page, "owner")
    trigger = page.get_by_role("link", name=f"Delete {FINE_TUNE}")
    trigger.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#confirm-id")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(trigger).to_be_focused()


def test_every_control_on_the_list_is_reachable_by_tab(page: Page) -> None:
    login(page, "owner")
    page.select_option("#per-page", "25")
    expect(page.locator(".models-table tbody tr")).to_have_count(25)
    wanted = {"search", "facet-owner", "facet-kind", "facet-base", "facet-age", "per-page"}
    reached: set[str] = set()
    reached_delete = reached_next = False
    for _ in range(200):
        page.keyboard.press("Tab")
        info = page.evaluate(
            "() => { const e = document.activeElement;"
            " return {id: e.id, text: e.textContent.trim(), rel: e.getAttribute('rel')}; }"
        )
        reached.add(info["id"])
        reached_delete |= info["text"] == "Delete"
        reached_next |= info["rel"] == "next"
        if reached_next:
            break
    assert wanted <= reached
    assert reached_delete and reached_next


def test_the_list_works_at_phone_width_in_dark_mode(
    browser: object, live_server: object, seeded: int
) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=str(live_server), viewport={"width": 390, "height": 844}, color_scheme="dark"
    )
    page = context.new_page()
    login(page, "owner")
    first_row = page.locator(".models-table tbody tr").first
    expect(first_row).to_be_visible()
    box = first_row.bounding_box()
    assert box is not None and box["width"] <= 390  # rows collapse into cards, no side scroll
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 18, 22)"
    screenshot(page, "list-phone-dark")
    context.close()


def test_list_detail_dialog_and_audit_pass_axe_at_phone_width_in_dark_mode(
    browser: object, live_server: object, seeded: int
) -> None:
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=str(live_server), viewport={"width": 390, "height": 844}, color_scheme="dark"
    )
    page = context.new_page()
    login(page, "owner")
    found = {"list": axe_violations(page)}
    page.goto(f"/u/default/models/{FINE_TUNE}/")
    found["detail"] = axe_violations(page)
    screenshot(page, "detail-phone-dark")
    page.goto("/u/default/models/")
    page.get_by_role("link", name=f"Delete {FINE_TUNE}").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    found["dialog"] = axe_violations(page)
    screenshot(page, "delete-dialog-phone-dark")
    page.goto("/audit/")
    found["audit"] = axe_violations(page)
    context.close()
    assert found == {"list": [], "detail": [], "dialog": [], "audit": []}


def _delete_through_the_dashboard(page: Page) -> None:
    page.get_by_role("link", name=f"Delete {FINE_TUNE}").click()
    page.fill("#confirm-id", FINE_TUNE)
    page.get_by_role("button", name="Delete model").click()
    expect(page.locator("#messages")).to_contain_text("Deleted")


def test_the_tombstone_page_has_no_serious_accessibility_violations(page: Page) -> None:
    login(page, "owner")
    _delete_through_the_dashboard(page)
    page.goto(f"/u/default/models/{FINE_TUNE}/")
    expect(page.locator(".tombstone-banner")).to_contain_text("Deleted through this dashboard")
    screenshot(page, "tombstone")
    assert axe_violations(page) == []


def test_the_changes_page_has_no_serious_accessibility_violations(page: Page) -> None:
    login(page, "owner")
    _delete_through_the_dashboard(page)
    page.get_by_role("link", name="Changes").click()
    expect(page.locator(".changes-table tbody tr")).to_have_count(1)
    screenshot(page, "changes")
    assert axe_violations(page) == []
