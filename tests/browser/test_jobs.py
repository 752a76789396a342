"""The owner's cleanup in a real Chromium: filter the list, select all matching across pages,
review the check, type the count, see the bar at 100 % and the ledger filled."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from dashboard.catalogue.models import CatalogueModel
from dashboard.cleanup.models import DeletionJob

from .conftest import login, screenshot

ROWS = ".models-table tbody tr"
LIST = "/u/default/models/?kind=fine-tuned&q=acme&per_page=25&sort=id"


def test_an_owner_selects_all_matching_checks_confirms_and_watches_the_job_finish(
    page: Page, tasks_run_at_once: None
) -> None:
    login(page, "owner")
    page.goto(LIST)
    expect(page.locator(f"{ROWS} input[data-select-row]")).to_have_count(25)
    page.locator("input[data-select-all]").check()
    offer = page.get_by_role("button", name=re.compile(r"^Select all \d+ matching$"))
    matching = int(re.findall(r"\d+", offer.inner_text())[0])
    assert matching > 25  # more than one page
    offer.click()
    expect(page.locator("#selection-count")).to_have_text(str(matching))

    page.get_by_role("button", name=re.compile(r"^Delete selected")).click()
    expect(page).to_have_url(re.compile(r"/u/default/jobs/\d+/$"))
    expect(page.locator("#confirm-count")).to_be_visible()  # the check ran
    expect(page.locator(".job__status")).to_contain_text(f"{matching} ready, 0 refused")
    screenshot(page, "job-ready")
    page.fill("#confirm-count", str(matching + 1))
    page.get_by_role("button", name=f"Delete {matching} models").click()
    expect(page.locator("#messages")).to_contain_text("Nothing was deleted")
    page.fill("#confirm-count", str(matching))
    page.get_by_role("button", name=f"Delete {matching} models").click()

    bar = page.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuemax", str(matching))
    expect(bar).to_have_attribute("aria-valuenow", str(matching))
    expect(page.locator(".job__percent")).to_have_text("100%")
    expect(page.locator(".ledger tbody tr .badge--deleted")).to_have_count(min(matching, 100))
    job = DeletionJob.objects.get()
    assert job.status == "done"
    assert not CatalogueModel.objects.filter(
        model_id__in=job.items.values("model_id"), gone_at__isnull=True
    ).exists()
    screenshot(page, "job-done")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "job-done-phone")
    page.emulate_media(color_scheme="dark")
    screenshot(page, "job-done-phone-dark")

    page.get_by_role("link", name="Back to the list").click()
    expect(page).to_have_url(
        re.compile(r"/u/default/models/\?q=acme&kind=fine-tuned&sort=id&per_page=25$")
    )
