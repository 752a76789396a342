"""The header's upstream switcher with two upstreams: closed and open, desktop and phone, light
and dark; it opens, lists both, stays inside the viewport and leads to the other upstream."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page

from dashboard.models import UpstreamAccess
from dashboard.roles import SUPPORT

from .conftest import login, screenshot

SHOTS = Path("/tmp/shots-ops")


@pytest.fixture(autouse=True)
def _two_upstreams(settings: pytest.FixtureRequest, seeded: int) -> None:
    settings.UPSTREAMS = {  # type: ignore[attr-defined]
        "second": {"SANDBOX": True, "LABEL": "Second sandbox (staging)"}
    }
    owner = User.objects.get(username="owner")
    UpstreamAccess.objects.create(user=owner, upstream="second", role=SUPPORT)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_the_upstream_switcher_opens_inside_the_viewport_and_switches(
    page: Page, width: int, scheme: str
) -> None:
    page.set_viewport_size({"width": width, "height": 800})
    page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    login(page, "owner")
    switcher = page.locator("details.upstream-switcher")
    links = page.get_by_role("navigation", name="Upstreams").get_by_role("link")

    closed = screenshot(page, f"switcher-closed-{width}-{scheme}")
    switcher.locator("summary").click()
    opened = screenshot(page, f"switcher-open-{width}-{scheme}")

    assert links.count() == 2
    box = page.locator(".upstream-switcher__list").bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    SHOTS.mkdir(exist_ok=True)
    for shot in (closed, opened):
        shutil.copy(shot, SHOTS / shot.name)
    links.nth(1).click()
    page.wait_for_url("**/u/second/models/**")
