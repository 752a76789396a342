"""The six journeys of the dashboard's users, in a real Chromium against a live server."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from dashboard.models import AuditEntry
from dashboard.sandbox.models import SandboxModel

from .conftest import login, screenshot

ROWS = ".models-table tbody tr"


def _mark_document(page: Page) -> None:
    """A marker that survives htmx swaps but not a full page load."""
    page.evaluate("window.__sameDocument = true")


def _same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def test_support_searches_filters_sorts_and_pages_with_the_state_in_the_url(page: Page) -> None:
    login(page, "support")
    expect(page.locator("#summary-count")).to_contain_text("1–50 of 64")
    _mark_document(page)

    page.fill("#search", "acme")
    expect(page).to_have_url(re.compile(r"[?&]q=acme"))
    expect(page.locator("#summary-count")).to_contain_text("of 38")
    assert _same_document(page), "the search reloaded the page instead of swapping the table"

    page.select_option("#facet-kind", "fine-tuned")
    expect(page).to_have_url(re.compile(r"kind=fine-tuned"))
    expect(page.locator("#summary-count")).to_contain_text("of 35")

    page.click("th.col-created a")  # newest first is the default; this sorts oldest first
    expect(page).to_have_url(re.compile(r"sort=created"))
    expect(page.locator("th.col-created")).to_have_attribute("aria-sort", "ascending")

    page.select_option("#per-page", "25")
    expect(page).to_have_url(re.compile(r"per_page=25"))
    expect(page.locator(ROWS)).to_have_count(25)
    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page.locator("#summary-count")).to_contain_text("26–35 of 35")
    assert _same_document(page)
    page_two_ids = page.locator(f"{ROWS} .model-id").all_inner_texts()
    screenshot(page, "journey1-filtered-page-2")

    page.reload()
    expect(page.locator("#summary-count")).to_contain_text("26–35 of 35")
    expect(page.locator("#search")).to_have_value("acme")
    expect(page.locator("#facet-kind")).to_have_value("fine-tuned")
    expect(page.locator("th.col-created")).to_have_attribute("aria-sort", "ascending")
    assert page.locator(f"{ROWS} .model-id").all_inner_texts() == page_two_ids

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"[?&]page=2"))
    expect(page.locator("#summary-count")).to_contain_text("1–25 of 35")
    expect(page.locator("header.site-header")).to_have_count(1)  # a whole page, not a fragment


def test_support_inspects_raw_headers_and_copies_the_curl_command(page: Page, context: Any) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    login(page, "support")
    page.fill("#search", "tone-polish")
    first = page.locator(f"{ROWS} .model-id").first
    model_id = first.inner_text()
    first.click()

    expect(page.locator("h1")).to_have_text(model_id)
    request_id_row = page.locator(
        ".headers-table tr", has=page.locator("th", has_text="x-request-id")
    )
    expect(request_id_row.locator("td")).to_have_text(re.compile(r"^req_[0-9a-f]{32}$"))
    # Every header is shown now except credentials, and the sandbox sends none of those.
    expect(page.locator(".headers-table")).to_contain_text("x-ratelimit-remaining-tokens")
    expect(page.locator(".headers-table")).not_to_contain_text("sk-sandbox")
    expect(page.get_by_role("link", name=re.compile("Delete"))).to_have_count(0)

    page.get_by_role("button", name="Copy as curl").click()
    expect(page.locator("#messages")).to_contain_text("Copied")
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard.startswith("curl ")
    assert '"Authorization: Bearer $OPENAI_API_KEY"' in clipboard
    assert "sk-sandbox" not in clipboard
    screenshot(page, "detail", readme=True)


def test_owner_deletes_a_fine_tune_through_the_dialog(page: Page, settings: Any) -> None:
    model_id = "ft:gpt-4.1-mini-2025-04-14:acme:tone-polish:rdb5w2HY"
    assert SandboxModel.objects.filter(pk=model_id).exists()
    login(page, "owner")
    page.fill("#search", "tone-polish rdb5w2HY")
    expect(page.locator(ROWS)).to_have_count(1)
    _mark_document(page)

    trigger = page.get_by_role("link", name=f"Delete {model_id}")
    trigger.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-labelledby", "dialog-title")
    expect(page.locator("#confirm-id")).to_be_focused()

    page.fill("#confirm-id", "not-the-id")  # a 422: htmx shows the error in the dialog
    page.get_by_role("button", name="Delete model").click()
    expect(dialog).to_contain_text("That is not this model's id")
    assert SandboxModel.objects.filter(pk=model_id).exists()
    screenshot(page, "delete-dialog", readme=True)

    settings.SANDBOX_LATENCY = 0.8  # long enough to see the button disabled
    page.fill("#confirm-id", model_id)
    button = page.get_by_role("button", name="Delete model")
    button.click()
    expect(button).to_be_disabled()
    expect(dialog).to_be_hidden()
    expect(page.locator(ROWS)).to_have_count(0)
    expect(page.locator("#messages")).to_contain_text(f"Deleted {model_id}")
    assert _same_document(page)
    assert not SandboxModel.objects.filter(pk=model_id).exists()
    assert AuditEntry.objects.filter(model_id=model_id).count() == 1  # no double delete

    settings.SANDBOX_LATENCY = 0
    page.goto("/audit/")
    row = page.locator(".audit-table tbody tr").first
    expect(row).to_contain_text(model_id)
    expect(row).to_contain_text("owner")
    expect(row).to_contain_text("Deleted")
    expect(row).to_contain_text("200")


def test_owner_deletes_without_javascript_through_the_confirmation_page(
    browser: Any, live_server: Any, seeded: int
) -> None:
    context = browser.new_context(base_url=str(live_server), java_script_enabled=False)
    page = context.new_page()
    model_id = "acme/llama-3.1-8b-support"
    login(page, "owner")
    page.fill("#search", "llama")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(ROWS)).to_have_count(1)

    page.get_by_role("link", name=f"Delete {model_id}").click()
    expect(page.locator("h2")).to_have_text("Delete model?")
    expect(page.locator("body")).to_contain_text("cannot be undone")
    page.fill("#confirm-id", model_id)
    page.get_by_role("button", name="Delete model").click()

    expect(page).to_have_url(re.compile(r"/u/default/models/\?q=llama"))
    expect(page.locator("#messages")).to_contain_text(f"Deleted {model_id}")
    expect(page.locator(ROWS)).to_have_count(0)
    assert not SandboxModel.objects.filter(pk=model_id).exists()
    screenshot(page, "journey4-no-js-deleted")
    context.close()


def test_an_upstream_failure_shows_a_message_and_a_retry(page: Page, settings: Any) -> None:
    settings.SANDBOX_FAILURE = "error-500"
    login(page, "support")
    expect(page.locator(".problem")).to_contain_text("The API answered with an error (500)")
    expect(page.locator(".problem")).to_contain_text("The server had an error")
    expect(page.get_by_role("link", name="Try again")).to_be_visible()
    screenshot(page, "journey5-error-page")

    settings.SANDBOX_FAILURE = ""
    page.get_by_role("link", name="Try again").click()
    expect(page.locator(ROWS)).to_have_count(50)

    # With a copy in the catalogue, an API that stops answering no longer stops the list:
    # the search is answered from the copy at once, and the page says how old it is.
    settings.SANDBOX_FAILURE = "timeout"
    page.fill("#search", "triage")
    expect(page).to_have_url(re.compile(r"q=triage"))
    expect(page.locator(ROWS).first).to_contain_text("triage")
    expect(page.locator("#results")).to_contain_text("Updated")
    screenshot(page, "journey5-served-from-the-copy")


def test_an_expired_session_during_htmx_sends_the_user_to_sign_in(page: Page, context: Any) -> None:
    login(page, "support")
    context.clear_cookies()
    page.fill("#search", "triage")
    expect(page).to_have_url(re.compile(r"/login/\?next=.*expired=1"))
    expect(page.locator(".alert")).to_contain_text("Your session expired")
    screenshot(page, "journey6-session-expired")


def test_a_stale_token_keeps_the_typed_id_and_the_second_click_deletes(
    page: Page, context: Any
) -> None:
    model_id = "ft:gpt-4.1-mini-2025-04-14:acme:tone-polish:rdb5w2HY"
    login(page, "owner")
    page.fill("#search", "tone-polish rdb5w2HY")
    expect(page.locator(ROWS)).to_have_count(1)
    page.get_by_role("link", name=f"Delete {model_id}").click()
    page.fill("#confirm-id", model_id)
    # The token the page holds no longer matches the cookie (rotated by another tab's login).
    cookies = [c for c in context.cookies() if c["name"] == "csrftoken"]
    context.add_cookies([{**cookies[0], "value": "x" * 32}])
    page.get_by_role("button", name="Delete model").click()

    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("This page was out of date")
    expect(dialog).to_contain_text("Nothing was done. Try again.")
    expect(page.locator("#confirm-id")).to_have_value(model_id)
    expect(page).to_have_url(re.compile(r"/u/default/models/\?q="))  # not sent away to sign in
    assert SandboxModel.objects.filter(pk=model_id).exists()
    assert not AuditEntry.objects.exists()
    screenshot(page, "journey6-stale-token")

    page.get_by_role("button", name="Delete model").click()

    expect(dialog).to_be_hidden()
    expect(page.locator("#messages")).to_contain_text(f"Deleted {model_id}")
    assert not SandboxModel.objects.filter(pk=model_id).exists()
    entry = AuditEntry.objects.get()
    assert (entry.username, entry.model_id, entry.outcome) == ("owner", model_id, "deleted")
    page.get_by_role("button", name="Sign out").click()  # its form got the new token as well
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.locator("body")).not_to_contain_text("out of date")


def test_a_stale_token_without_javascript_shows_the_confirmation_page_again(
    browser: Any, live_server: Any, seeded: int
) -> None:
    context = browser.new_context(
        base_url=str(live_server), java_script_enabled=False, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    model_id = "acme/llama-3.1-8b-support"
    login(page, "owner")
    page.get_by_role("link", name=f"Delete {model_id}").click()
    page.fill("#confirm-id", model_id)
    cookies = [c for c in context.cookies() if c["name"] == "csrftoken"]
    context.add_cookies([{**cookies[0], "value": "x" * 32}])
    page.get_by_role("button", name="Delete model").click()

    expect(page.locator("h2")).to_have_text("Delete model?")
    expect(page.locator(".alert--warning")).to_contain_text("This page was out of date")
    expect(page.locator("#confirm-id")).to_have_value(model_id)
    assert SandboxModel.objects.filter(pk=model_id).exists()
    screenshot(page, "journey6-stale-token-no-js-phone")
    page.get_by_role("button", name="Delete model").click()

    expect(page.locator("#messages")).to_contain_text(f"Deleted {model_id}")
    assert not SandboxModel.objects.filter(pk=model_id).exists()
    assert AuditEntry.objects.get().outcome == "deleted"

    cookies = [c for c in context.cookies() if c["name"] == "csrftoken"]
    context.add_cookies([{**cookies[0], "value": "y" * 32}])
    page.get_by_role("button", name="Sign out").click()  # any other form: said, not acted on
    expect(page.locator("h1")).to_have_text("This page was out of date")
    screenshot(page, "journey6-stale-token-other-form-phone")
    page.get_by_role("link", name="Back to the page").click()
    expect(page.locator(".whoami")).to_contain_text("owner")  # still signed in
    context.close()


def test_a_stale_token_without_a_session_sends_the_user_to_sign_in(
    page: Page, context: Any
) -> None:
    login(page, "owner")
    page.locator(".models-table a.btn--danger-quiet").first.click()
    page.fill("#confirm-id", "anything")
    kept = [c for c in context.cookies() if c["name"] == "csrftoken"]
    context.clear_cookies()  # the session is gone as well as the token
    context.add_cookies([{**kept[0], "value": "x" * 32}])
    page.get_by_role("button", name="Delete model").click()

    expect(page).to_have_url(re.compile(r"/login/\?next=.*expired=1"))
    expect(page.locator(".alert")).to_contain_text("Your session expired")
    expect(page.locator("#id_username")).to_be_visible()
    screenshot(page, "journey6-csrf-failure")


def test_a_slow_older_search_never_overwrites_a_newer_one(page: Page) -> None:
    login(page, "support")
    released: list[str] = []

    def slow_first_query(route: Any) -> None:
        page.wait_for_timeout(4000)  # the older answer would arrive long after the newer one
        released.append(route.request.url)
        route.continue_()

    page.route(re.compile(r"/models/\?q=acme&"), slow_first_query)
    page.fill("#search", "acme")
    page.wait_for_timeout(450)  # past the 300 ms debounce: the slow request is in flight
    expect(page.locator("html")).to_have_class(re.compile("is-loading"))
    page.fill("#search", "tone-polish")
    newer = f"of {SandboxModel.objects.filter(id__contains='tone-polish').count()}"
    # The newer answer is shown at once, not queued behind the slow one...
    expect(page.locator("#summary-count")).to_contain_text(newer, timeout=2500)
    page.wait_for_timeout(4000)  # ...and the older request was cancelled: it never lands
    expect(page.locator("#summary-count")).to_contain_text(newer)
    expect(page.locator("#search")).to_have_value("tone-polish")
    screenshot(page, "journey1-newest-search-wins")
