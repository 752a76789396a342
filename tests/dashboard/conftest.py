"""Fixtures for the dashboard: signed-in users per role, a seeded sandbox, a mocked real API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client

from dashboard.roles import ADMIN, OWNER, SUPPORT, ensure_roles
from dashboard.sandbox.seed import reseed

REAL_API_BASE = "https://api.example.test/v1"
REAL_API_KEY = "sk-live-SECRET-do-not-show-0123456789"


@pytest.fixture(autouse=True)
def _isolated(settings: pytest.FixtureRequest) -> Iterator[None]:
    """Each test: empty cache, sandbox mode, no retries (failures are asserted, not waited)."""
    settings.OPENAI_API_KEY = None  # type: ignore[attr-defined]
    settings.UPSTREAM_MAX_RETRIES = 0  # type: ignore[attr-defined]
    settings.SANDBOX_FAILURE = ""  # type: ignore[attr-defined]
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]  # type: ignore[attr-defined]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sandbox(db: None) -> int:
    """The sandbox seeded with its default 64 models; returns the count."""
    return reseed()


def _user_client(username: str, role: str) -> Client:
    ensure_roles()
    user = User.objects.create_user(username=username, password="pw-" + username)
    user.groups.set([Group.objects.get(name=role)])
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def owner(db: None) -> Client:
    return _user_client("olivia", OWNER)


@pytest.fixture
def team_admin(db: None) -> Client:
    return _user_client("adam", ADMIN)


@pytest.fixture
def support(db: None) -> Client:
    return _user_client("sam", SUPPORT)


@pytest.fixture
def real_api(settings: pytest.FixtureRequest) -> Iterator[respx.MockRouter]:
    """Point the dashboard at a "real" API (OPENAI_API_KEY set) mocked with respx."""
    settings.OPENAI_API_KEY = REAL_API_KEY  # type: ignore[attr-defined]
    settings.OPENAI_BASE_URL = REAL_API_BASE  # type: ignore[attr-defined]
    with respx.mock(base_url=REAL_API_BASE, assert_all_called=False) as router:
        yield router
