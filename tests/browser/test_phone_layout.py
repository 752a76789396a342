"""Phone widths (390 px) and the desktop: nothing scrolls sideways, long lists become cards,
filters show their counts, and long lists have numbered pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import respx
from playwright.sync_api import Browser, Page, expect

from dashboard.models import AuditEntry
from dashboard.sandbox.seed import reseed

from .conftest import login, screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
REAL_API = "https://api.example.test/v1"
LONG_REQUEST_ID = "req_" + "0123456789abcdef" * 8
LONG_MODEL_ID = "ft:gpt-4.1-mini-2025-04-14:acme:" + "very-long-suffix-" * 6 + ":AbCd1234"


def _open(browser: Browser, live_server: Any, viewport: dict[str, int], scheme: str) -> Page:
    context = browser.new_context(
        base_url=str(live_server),
        viewport=viewport,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    context.set_default_timeout(10_000)
    return context.new_page()


@pytest.fixture
def phone(browser: Browser, live_server: Any, seeded: int) -> Iterator[Page]:
    page = _open(browser, live_server, PHONE, "light")
    yield page
    page.context.close()


@pytest.fixture(params=["phone-light", "phone-dark", "desktop-light", "desktop-dark"])
def screen(
    request: pytest.FixtureRequest, browser: Browser, live_server: Any, seeded: int
) -> Iterator[Page]:
    """Every page here at both widths, light and dark (screenshots are named after it)."""
    size, scheme = request.param.split("-")
    page = _open(browser, live_server, PHONE if size == "phone" else DESKTOP, scheme)
    yield page
    page.context.close()


def _shot(page: Page, name: str) -> None:
    viewport = page.viewport_size or PHONE
    scheme = (
        "dark" if page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") else "light"
    )
    screenshot(page, f"{name}-{viewport['width']}-{scheme}")


def _scroll_width(page: Page) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth"))


def _real_api(settings: Any) -> None:
    settings.OPENAI_API_KEY = "sk-test-not-a-real-key"
    settings.OPENAI_BASE_URL = REAL_API


# --- Error pages do not scroll sideways ---------------------------------------------------------


def test_an_upstream_error_with_a_long_request_id_does_not_scroll_sideways(
    screen: Page, settings: Any
) -> None:
    login(screen, "support")
    _real_api(settings)
    with respx.mock(base_url=REAL_API) as api:
        api.get("/models").respond(
            500,
            json={"error": {"message": "The server had an error: " + "x" * 120}},
            headers={"x-request-id": LONG_REQUEST_ID},
        )
        screen.goto("/u/default/models/")
        expect(screen.locator(".problem")).to_contain_text(LONG_REQUEST_ID)
    width = (screen.viewport_size or PHONE)["width"]
    assert _scroll_width(screen) <= width
    _shot(screen, "error-long-request-id")


def test_a_missing_model_with_a_long_id_does_not_scroll_sideways_on_a_phone(phone: Page) -> None:
    login(phone, "support")

    phone.goto(f"/u/default/models/{LONG_MODEL_ID}/")

    expect(phone.locator(".problem")).to_be_visible()
    assert _scroll_width(phone) <= PHONE["width"]
    _shot(phone, "error-long-model-id")


def test_a_forbidden_page_with_a_long_model_id_does_not_scroll_sideways_on_a_phone(
    phone: Page,
) -> None:
    login(phone, "support")

    phone.goto(f"/u/default/models/{LONG_MODEL_ID}/delete/")

    expect(phone.locator(".problem__title")).to_have_text("Not allowed")
    assert _scroll_width(phone) <= PHONE["width"]
    _shot(phone, "forbidden")


# --- The audit log as cards --------------------------------------------------------------------


def _audit_entries(count: int) -> None:
    AuditEntry.objects.bulk_create(
        AuditEntry(
            username="owner",
            model_id=f"{LONG_MODEL_ID}-{number}",
            model_snapshot={"id": LONG_MODEL_ID},
            outcome=AuditEntry.Outcome.FAILED if number % 3 else AuditEntry.Outcome.DELETED,
            upstream_status=500 if number % 3 else 200,
            upstream_request_id=LONG_REQUEST_ID,
            message="The server had an error while processing your request." if number % 3 else "",
            upstream=REAL_API,
        )
        for number in range(count)
    )


def test_the_audit_log_is_one_card_per_entry_on_a_phone(phone: Page) -> None:
    _audit_entries(3)
    login(phone, "owner")

    phone.goto("/audit/")

    rows = phone.locator(".audit-table tbody tr")
    expect(rows).to_have_count(3)
    expect(phone.locator(".audit-table thead")).to_have_css("position", "absolute")
    for index in range(3):
        box = rows.nth(index).bounding_box()
        assert box is not None and box["width"] <= PHONE["width"]
        expect(rows.nth(index).locator("td").first).to_have_css("display", "block")
    model = rows.first.locator("td[data-label=Model]")
    assert model.evaluate("e => getComputedStyle(e, '::before').content") == '"Model"'
    assert _scroll_width(phone) <= PHONE["width"]


def test_the_audit_log_is_a_table_on_a_desktop_and_cards_on_a_phone(screen: Page) -> None:
    _audit_entries(60)
    login(screen, "owner")

    screen.goto("/audit/")

    expect(screen.locator(".audit-table tbody tr")).to_have_count(50)
    phone = (screen.viewport_size or PHONE)["width"] <= PHONE["width"]
    display = "block" if phone else "table-row"
    expect(screen.locator(".audit-table tbody tr").first).to_have_css("display", display)
    assert _scroll_width(screen) <= (screen.viewport_size or PHONE)["width"]
    _shot(screen, "audit")


# --- Filters show their counts -----------------------------------------------------------------

TEXT_ROOM = """select => {
  const style = getComputedStyle(select);
  const pen = document.createElement("canvas").getContext("2d");
  pen.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const text = select.options[select.selectedIndex].text;
  const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {text, width: pen.measureText(text).width, room};
}"""

LONGEST = """select => {
  let longest = 0;
  for (const option of select.options) {
    if (option.text.length > select.options[longest].text.length) longest = option.index;
  }
  select.selectedIndex = longest;  // shown as if chosen; no change event, no request
}"""


def test_filters_show_their_counts_whole_even_for_their_longest_option(screen: Page) -> None:
    login(screen, "owner")
    expect(screen.locator("#facet-kind option").first).to_have_text("Any (64)")

    for name in ("owner", "kind", "base", "age"):
        select = screen.locator(f"#facet-{name}")
        select.evaluate(LONGEST)
        shown = select.evaluate(TEXT_ROOM)
        assert re.search(r"\(\d+\)$", shown["text"]), shown
        assert shown["width"] <= shown["room"], shown
    _shot(screen, "list-filters")


# --- Numbered pages -----------------------------------------------------------------------------


def test_numbered_pages_go_straight_to_a_page_and_mark_it_current(page: Page) -> None:
    reseed(500)
    login(page, "support")
    page.select_option("#per-page", "25")
    expect(page.locator(".pagination__page[aria-current=page]")).to_have_text("1")
    page.evaluate("window.__sameDocument = true")

    for number in (3, 5, 7):  # each click moves the window of numbers along
        page.get_by_role("link", name=f"Page {number}", exact=True).click()
        expect(page).to_have_url(re.compile(rf"[?&]page={number}(&|$)"))

    expect(page.locator("#summary-count")).to_contain_text("151–175 of 500")
    expect(page.locator(".pagination__page[aria-current=page]")).to_have_text("7")
    numbers = page.locator(".pagination__pages li").all_inner_texts()
    assert [n.strip() for n in numbers] == ["1", "…", "5", "6", "7", "8", "9", "…", "20"]
    assert page.evaluate("window.__sameDocument === true")  # htmx swapped the results
    screenshot(page, "list-numbered-pages")


def test_the_audit_logs_numbered_pages_swap_the_entries_in_place(page: Page) -> None:
    _audit_entries(120)
    login(page, "owner")
    page.goto("/audit/")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Page 3", exact=True).click()

    expect(page).to_have_url(re.compile(r"/audit/\?page=3$"))
    expect(page.locator(".summary__count")).to_contain_text("101–120 of 120")
    expect(page.locator(".pagination__page[aria-current=page]")).to_have_text("3")
    assert page.evaluate("window.__sameDocument === true")


def test_numbered_pages_fit_every_width(screen: Page) -> None:
    reseed(500)
    login(screen, "owner")

    screen.goto("/u/default/models/?per_page=25&page=7")

    pages = screen.locator(".pagination")
    expect(pages.locator("[aria-current=page]")).to_have_text("7")
    pages.scroll_into_view_if_needed()
    assert _scroll_width(screen) <= (screen.viewport_size or PHONE)["width"]
    _shot(screen, "list-pages")
