"""Deletion jobs in the browser: the check's report, the typed count, the bar reaching 100 %."""

from __future__ import annotations

from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from dashboard.catalogue.models import CatalogueModel
from dashboard.catalogue.tasks import refresh_catalogue
from dashboard.cleanup import jobs
from dashboard.upstreams import get_upstream

from .conftest import login, screenshot


def test_an_owner_reviews_the_check_confirms_and_watches_the_job_finish(
    page: Page, worker: None
) -> None:
    refresh_catalogue.call("default")
    ids = list(
        CatalogueModel.objects.filter(kind="fine-tuned")
        .order_by("model_id")
        .values_list("model_id", flat=True)[:6]
    )
    job = jobs.create_job(
        User.objects.get(username="owner"), get_upstream("default"), [*ids, "gpt-4o"]
    )
    login(page, "owner")

    page.goto(f"/u/default/jobs/{job.pk}/")
    expect(page.locator("#confirm-count")).to_be_visible(timeout=15_000)  # the check ran
    expect(page.locator(".job__status")).to_contain_text("6 ready, 1 refused")
    screenshot(page, "job-ready")
    page.fill("#confirm-count", "6")
    page.get_by_role("button", name="Delete 6 models").click()

    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "6", timeout=20_000)
    expect(page.locator(".job__percent")).to_have_text("100%")
    expect(page.locator(".ledger tbody tr")).to_have_count(7)
    screenshot(page, "job-done")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "job-done-phone")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "job-done-phone-dark")
