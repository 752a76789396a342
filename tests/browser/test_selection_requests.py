"""Selecting across pages and four-eyes deletion requests, in a real Chromium: a support user
selects models (ticks, the whole page, all matching) and asks for their deletion; an owner
sees the count, opens the request, approves it and lands on the new job's page."""

from __future__ import annotations

import os
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from dashboard.cleanup.models import DeletionJob, DeletionRequest

from .conftest import login

ROWS = ".models-table tbody tr"
SHOTS = Path(os.environ.get("SELECT_SHOTS", "")) if os.environ.get("SELECT_SHOTS") else None


def _mark_document(page: Page) -> None:
    page.evaluate("window.__sameDocument = true")


def _same_document(page: Page) -> bool:
    return bool(page.evaluate("window.__sameDocument === true"))


def _shots(page: Page, name: str) -> None:
    """Desktop and phone, light and dark (when SELECT_SHOTS names a folder)."""
    if SHOTS is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 860}
    for width, label in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 860 if width > 400 else 844})
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            page.screenshot(path=str(SHOTS / f"{name}-{label}-{scheme}.png"), full_page=True)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(size)


def test_support_selects_across_pages_and_requests_and_an_owner_approves(
    page: Page, browser: Browser, live_server: object
) -> None:
    login(page, "support")
    page.goto("/u/default/models/?kind=fine-tuned&per_page=25&sort=id")
    _mark_document(page)
    boxes = page.locator(f"{ROWS} input[data-select-row]")
    expect(boxes).to_have_count(25)

    boxes.nth(0).check()
    expect(page.locator("#selection-count")).to_have_text("1")
    boxes.nth(3).check()
    expect(page.locator("#selection-count")).to_have_text("2")
    assert _same_document(page), "a tick reloaded the page"

    page.click("a[rel=next]")
    expect(page).to_have_url(re.compile(r"[?&]page=2"))
    expect(page.locator("#selection-count")).to_have_text("2")
    page.locator("input[data-select-all]").check()
    expect(page.locator("#selection-count")).to_have_text(re.compile(r"^\d+$"))
    offer = page.get_by_role("button", name=re.compile(r"^Select all \d+ matching$"))
    expect(offer).to_be_visible()
    matching = int(re.findall(r"\d+", offer.inner_text())[0])
    _shots(page, "list-selection-offer")
    offer.click()
    expect(page.locator("#selection-count")).to_have_text(str(matching))
    assert _same_document(page)
    expect(page).to_have_url(re.compile(r"kind=fine-tuned.*page=2"))
    _shots(page, "list-selection-bar")

    page.get_by_role("link", name="Review").click()
    expect(page.locator("h1")).to_have_text("Selection")
    expect(page.locator(".selection-table tbody tr")).to_have_count(min(matching, 100))
    _shots(page, "selection-review")
    page.get_by_role("link", name="← Back to the list").click()
    expect(page).to_have_url(re.compile(r"kind=fine-tuned.*page=2"))

    page.get_by_role("link", name="Request deletion…").click()
    dialog = page.locator("#dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("h2")).to_have_text("Request deletion")
    _shots(page, "request-dialog")
    dialog.locator("textarea[name=reason]").fill("Spring trial leftovers; nobody uses them.")
    dialog.get_by_role("button", name="Send request").click()
    expect(page.locator("#messages")).to_contain_text("Your selection was cleared.")
    expect(page).to_have_url(re.compile(r"kind=fine-tuned.*page=2"))
    expect(page.locator("#selection-count")).to_have_text("0")
    request = DeletionRequest.objects.get()
    assert len(request.model_ids) == matching

    owner_context = browser.new_context(
        viewport={"width": 1280, "height": 860}, base_url=str(live_server)
    )
    owner_context.set_default_timeout(10_000)
    owner = owner_context.new_page()
    login(owner, "owner")
    expect(owner.locator(".site-nav .count-badge")).to_have_text("1 pending")
    owner.locator(".site-nav").get_by_role("link", name=re.compile("^Requests")).click()
    expect(owner.locator("h1")).to_have_text("Deletion requests")
    _shots(owner, "requests-owner")
    owner.get_by_role("link", name=f"#{request.pk}").click()
    expect(owner.locator("h1")).to_have_text(f"Deletion request #{request.pk}")
    _shots(owner, "request-detail-owner")
    owner.get_by_role("button", name=re.compile(r"^Approve and check")).click()

    job = DeletionJob.objects.get()
    expect(owner).to_have_url(re.compile(rf"/u/default/jobs/{job.pk}/$"))
    assert job.status in {"validating", "ready", "running", "done"}
    request.refresh_from_db()
    assert (request.status, request.job_id) == ("approved", job.pk)
    owner_context.close()

    page.goto("/requests/mine/")
    expect(page.locator(".requests-table")).to_contain_text("Approved")
    _shots(page, "my-requests")
