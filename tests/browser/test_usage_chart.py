"""The usage chart renders in light and dark mode, and the list's Last used column; with
USAGE_SHOTS naming a folder, screenshots of both pages (desktop and phone, light and dark)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Page, expect

from dashboard.upstreams import get_upstream
from dashboard.usage.models import ModelDay
from dashboard.usage.reading import read_usage, utc_day

from .conftest import login

SHOTS = Path(os.environ["USAGE_SHOTS"]) if os.environ.get("USAGE_SHOTS") else None


def _shots(page: Page, name: str) -> None:
    """Desktop and phone, light and dark (when USAGE_SHOTS names a folder)."""
    if SHOTS is None:
        return
    SHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size or {"width": 1280, "height": 860}
    for width, label in ((1280, "desktop"), (390, "phone")):
        page.set_viewport_size({"width": width, "height": 860 if width > 400 else 844})
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
            page.screenshot(path=str(SHOTS / f"{name}-{label}-{scheme}.png"), full_page=True)
            page.screenshot(path=str(SHOTS / f"{name}-{label}-{scheme}-top.png"))
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(size)


def _bar_colour(page: Page) -> str:
    return str(page.eval_on_selector(".usage-chart__bar", "bar => getComputedStyle(bar).fill"))


def test_the_usage_chart_renders_in_light_and_dark_mode(page: Page) -> None:
    login(page, "owner")  # the first list load fills the catalogue
    state = read_usage(get_upstream())
    assert not isinstance(state, str) and not state.last_error
    today = utc_day(state.last_success_at or state.last_attempt_at)  # type: ignore[arg-type]
    busy = (
        ModelDay.objects.filter(day=today, model_id__startswith="ft:")
        .values_list("model_id", flat=True)
        .first()
    )
    assert busy

    page.goto("/u/default/models/?sort=-last_used")
    expect(page.locator("td.col-last_used").first).to_have_text("today")
    _shots(page, "usage-list")

    page.goto(f"/u/default/models/{busy}/")
    chart = page.locator("svg.usage-chart__svg")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] == 120  # type: ignore[index]
    assert page.locator(".usage-chart__bar").count() > 10
    expect(page.locator("#usage-summary")).to_contain_text("requests in 90 days; last used today")
    light = _bar_colour(page)
    page.emulate_media(color_scheme="dark")
    dark = _bar_colour(page)
    assert light != dark  # the bars follow the theme (currentColor from --accent)
    assert dark == "rgb(122, 162, 255)"
    page.emulate_media(color_scheme="light")
    page.locator("#usage").scroll_into_view_if_needed()
    _shots(page, "usage-detail")


def test_without_an_admin_key_the_list_says_so_once_across_the_column(
    page: Page, settings: object
) -> None:
    settings.UPSTREAMS = {  # type: ignore[attr-defined]
        "noadmin": {"SANDBOX": True, "ADMIN_API_KEY": "", "LABEL": "Sandbox without admin key"}
    }
    from django.contrib.auth.models import User

    from dashboard.models import UpstreamAccess

    owner = User.objects.get(username="owner")
    UpstreamAccess.objects.create(user=owner, upstream="noadmin", role="Owner")
    login(page, "owner")

    page.goto("/u/noadmin/models/")

    cell = page.locator("td.usage-missing")
    expect(cell).to_have_count(1)
    expect(cell).to_have_text("usage needs an admin key")
    _shots(page, "usage-list-no-admin-key")
    page.goto("/u/noadmin/models/gpt-4o/")
    expect(page.locator("#usage")).to_contain_text("Usage needs an admin key")
    _shots(page, "usage-detail-no-admin-key")
