"""Real Chromium (Debian's) driven by Playwright against a live server on the sandbox."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from dashboard.roles import ADMIN, OWNER, SUPPORT, ensure_roles
from dashboard.sandbox.seed import reseed

# Playwright's sync API keeps an event loop on the main thread; the ORM calls made by
# fixtures between browser steps are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "test-output" / "screenshots"
# `make screenshots` sets this: the README's pictures are written there too.
README_SHOTS = os.environ.get("SCREENSHOT_DIR")
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
PASSWORD = "browser-pass-1"


@pytest.fixture(scope="package")  # its event loop must be gone before async tests run
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: `make test` installs it (apt chromium).")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def _browser_settings(settings: pytest.FixtureRequest) -> Iterator[None]:
    settings.OPENAI_API_KEY = None  # type: ignore[attr-defined]
    settings.UPSTREAM_MAX_RETRIES = 0  # type: ignore[attr-defined]
    settings.SANDBOX_FAILURE = ""  # type: ignore[attr-defined]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def seeded(transactional_db: None) -> int:
    ensure_roles()
    for username, role in (("owner", OWNER), ("admin", ADMIN), ("support", SUPPORT)):
        user = User.objects.create_user(username=username, password=PASSWORD)
        user.is_staff = role != SUPPORT
        user.save()
        user.groups.set([Group.objects.get(name=role)])
    return reseed()


@pytest.fixture
def context(browser: Browser, live_server: object, seeded: int) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=str(live_server))
    made.set_default_timeout(10_000)
    yield made
    made.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def login(page: Page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/models/**")


def screenshot(page: Page, name: str, *, readme: bool = False) -> Path:
    """Save under test-output/screenshots (and docs/screenshots for `make screenshots`)."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / f"{name}.png"
    page.screenshot(path=str(path))
    if readme and README_SHOTS:
        Path(README_SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(README_SHOTS) / f"{name}.png"))
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # evaluate is not subject to the CSP
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.fixture
def tasks_run_at_once(settings: Any) -> None:
    """Queued tasks (a job's check and run) run as they are queued, in the request.

    A worker thread would share the live server's one database connection (the test database
    is SQLite in memory) and interleave transactions with its requests; the real worker is
    tested in its own processes (tests/dashboard/cleanup/test_job_survives_kill.py), polling with
    Django's test client (tests/dashboard/cleanup/test_job_pages.py).
    """
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    settings.CLEANUP_CONCURRENCY = 1
