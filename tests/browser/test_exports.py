"""Exports in a real browser: the links follow the filters chosen on the page, the download is
named after them and holds every matching row; the links fit a phone and a desktop."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.catalogue.models import CatalogueModel
from dashboard.models import AuditEntry

from .conftest import login, screenshot

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(params=["phone-light", "phone-dark", "desktop-light", "desktop-dark"])
def screen(
    request: pytest.FixtureRequest, browser: Browser, live_server: Any, seeded: int
) -> Iterator[Page]:
    size, scheme = request.param.split("-")
    context = browser.new_context(
        base_url=str(live_server),
        viewport=PHONE if size == "phone" else DESKTOP,
        color_scheme=scheme,  # type: ignore[arg-type]
    )
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _shot(page: Page, name: str) -> None:
    width = (page.viewport_size or PHONE)["width"]
    dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    screenshot(page, f"{name}-{width}-{'dark' if dark else 'light'}")


def _download(page: Page, link_text: str) -> tuple[str, str]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_text).click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def test_an_owner_filters_the_list_and_downloads_every_matching_row(page: Page) -> None:
    login(page, "owner")
    page.select_option("#facet-kind", "fine-tuned")
    expect(page).to_have_url(re.compile(r"/models/\?kind=fine-tuned$"))
    page.get_by_role("link", name="ID", exact=True).click()
    expect(page).to_have_url(re.compile(r"/models/\?kind=fine-tuned&sort=id$"))
    fine_tunes = sorted(
        CatalogueModel.objects.filter(upstream="default", kind="fine-tuned").values_list(
            "model_id", flat=True
        ),
        key=str.casefold,
    )

    name, body = _download(page, "Export CSV")

    assert name == "models-default-kind-fine-tuned-sort-id.csv"
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert [row[0] for row in rows[1:]] == fine_tunes
    name, body = _download(page, "Export JSON")
    assert name == "models-default-kind-fine-tuned-sort-id.json"
    assert [item["id"] for item in json.loads(body)] == fine_tunes


def test_the_export_links_fit_the_list_page(screen: Page) -> None:
    login(screen, "owner")
    screen.select_option("#facet-kind", "fine-tuned")
    expect(screen).to_have_url(re.compile(r"/models/\?kind=fine-tuned$"))

    links = screen.locator(".summary__exports a")

    expect(links).to_have_text(["Export CSV", "Export JSON"])
    for index in range(2):
        expect(links.nth(index)).to_be_in_viewport()
    width = (screen.viewport_size or PHONE)["width"]
    assert screen.evaluate("document.documentElement.scrollWidth") <= width
    _shot(screen, "list-exports")


def test_the_audit_export_links_fit_the_audit_page(screen: Page) -> None:
    AuditEntry.objects.bulk_create(
        AuditEntry(username="owner", model_id=f"ft:gpt-4o:acme:x:{n}", outcome="deleted")
        for n in range(3)
    )
    login(screen, "owner")
    screen.goto("/audit/?outcome=deleted")

    links = screen.locator(".summary__exports a")

    expect(links).to_have_text(["Export CSV", "Export JSON"])
    assert links.nth(1).get_attribute("href") == "?outcome=deleted&format=json"
    width = (screen.viewport_size or PHONE)["width"]
    assert screen.evaluate("document.documentElement.scrollWidth") <= width
    _shot(screen, "audit-exports")
