"""When the delete dialog closes without deleting, focus is back on the Delete button of the
row that opened it — whichever way it was closed — not on the search box."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from .conftest import login, screenshot

FINE_TUNE = "ft:gpt-4.1-mini-2025-04-14:acme:tone-polish:rdb5w2HY"
NEIGHBOUR = "acme/llama-3.1-8b-support"  # another row's Delete button, which must not get focus


def _open_dialog(page: Page) -> Locator:
    login(page, "owner")
    trigger = page.get_by_role("link", name=f"Delete {FINE_TUNE}", exact=True)
    trigger.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.locator("#confirm-id")).to_be_focused()
    return trigger


def _focused_delete_button(page: Page) -> str | None:
    """The aria-label of the focused element, compared in Python: no selector from an id."""
    return page.evaluate(
        "document.activeElement && document.activeElement.getAttribute('aria-label')"
    )


def test_cancel_returns_focus_to_the_rows_delete_button(page: Page) -> None:
    trigger = _open_dialog(page)

    page.get_by_role("link", name="Cancel").click()

    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(trigger).to_be_focused()
    assert _focused_delete_button(page) == f"Delete {FINE_TUNE}"


def test_escape_returns_focus_to_the_rows_delete_button(page: Page) -> None:
    trigger = _open_dialog(page)

    page.keyboard.press("Escape")

    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(trigger).to_be_focused()
    assert _focused_delete_button(page) == f"Delete {FINE_TUNE}"


def test_escape_after_a_wrong_id_returns_focus_to_the_rows_delete_button(page: Page) -> None:
    trigger = _open_dialog(page)
    page.fill("#confirm-id", NEIGHBOUR)
    page.get_by_role("button", name="Delete model").click()  # a 422: the dialog is re-rendered
    expect(page.get_by_role("dialog")).to_contain_text("That is not this model's id")
    screenshot(page, "dialog-wrong-id")

    page.keyboard.press("Escape")

    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(trigger).to_be_focused()
    assert _focused_delete_button(page) == f"Delete {FINE_TUNE}"
    expect(page.locator("#search")).not_to_be_focused()


def test_cancel_after_a_wrong_id_returns_focus_to_the_rows_delete_button(page: Page) -> None:
    trigger = _open_dialog(page)
    page.fill("#confirm-id", "not-the-id")
    page.keyboard.press("Enter")
    expect(page.get_by_role("dialog")).to_contain_text("That is not this model's id")

    page.get_by_role("link", name="Cancel").click()

    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(trigger).to_be_focused()
