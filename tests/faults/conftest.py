"""The dashboard talking to its sandbox over real HTTP through a fault-injecting proxy.

Django test Client -> dashboard view -> modelsclient -> FaultProxy -> live_server sandbox
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from pytest_django.live_server_helper import LiveServer

import modelsclient._retry
from dashboard.roles import OWNER, ensure_roles
from dashboard.sandbox.seed import reseed

from .proxy import FaultProxy

SANDBOX_OWNER_KEY = "sk-sandbox-owner"  # settings.SANDBOX_KEYS: the sandbox's owner key
PAGE_BUDGET = 2.0  # seconds a page may wait on the upstream in all (UPSTREAM_PAGE_BUDGET)
ATTEMPT_TIMEOUT = 1.0  # seconds one upstream attempt may take (UPSTREAM_TIMEOUT)
FIRST_BACKOFF = 0.1  # modelsclient's first retry delay, shortened: waits of 0.075 s, 0.15 s
# Why 2 s and 1 s: every retry decision of the matrix is then at least 0.4 s away from its
# threshold, or on the side that a slow machine only makes surer (less time left):
# - a retry is made when its wait and one more 0.5 s attempt (MIN_ATTEMPT_SECONDS) fit in what
#   is left. A hung GET: 1 s, a 0.075 s wait, then the ~0.9 s left; a third does not fit.
#   `Retry-After: 1`: the first wait fits (1.5 s of 2 s), a second cannot (1.5 s of < 1 s).
# - a delete keeps 30 % of its budget for the check after a lost answer (CHECK_SHARE): its
#   DELETE attempts get at most 0.7 × 2 s = 1.4 s, so `Retry-After: 1` (1.5 s) is never
#   waited for, and a hung DELETE's 1 s attempt leaves ~0.9 s: the check's GET fits (0.5 s).
#   With a budget under ~1.7 s the 30 % would be less than one attempt, and a hung DELETE
#   would end "unknown" without the check that production budgets (8 s) always make.
LONGEST_SLEEP = 5.0  # a page view that sleeps longer than this has stalled


class PageStalled(AssertionError):
    """A page view asked to sleep for longer than any page may wait."""


@pytest.fixture(autouse=True)
def _isolated(settings: Any) -> Iterator[None]:
    """Each test: an empty cache, the sandbox's own failure switch off."""
    settings.SANDBOX_FAILURE = ""
    settings.SANDBOX_LATENCY = 0.0
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def owner(transactional_db: None) -> Client:
    """A browser signed in as an Owner (may delete fine-tuned models)."""
    ensure_roles()
    user = User.objects.create_user(username="olivia", password="pw-olivia")
    user.groups.set([Group.objects.get(name=OWNER)])
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def proxy(live_server: LiveServer, transactional_db: None) -> Iterator[FaultProxy]:
    """A fault proxy in front of the live server, whose sandbox is freshly seeded."""
    assert reseed() == 64
    with FaultProxy(live_server.url) as started:
        yield started


class _NoJitter:
    """`random` for modelsclient's retry backoff: always the shortest delay (x 0.75), so the
    number of attempts that fit in a page's budget is the same on every run."""

    def random(self) -> float:
        return 1.0

    def __getattr__(self, name: str) -> Any:
        return getattr(random, name)


@pytest.fixture
def dashboard_via_proxy(
    proxy: FaultProxy, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> FaultProxy:
    """Point the dashboard at the proxy as a real upstream, with retries and a short budget."""
    settings.OPENAI_API_KEY = SANDBOX_OWNER_KEY
    settings.OPENAI_BASE_URL = proxy.url + "/sandbox/v1"
    settings.OPENAI_ORG_ID = None
    settings.OPENAI_PROJECT_ID = None
    settings.SANDBOX_ENABLED = True  # the live server must serve /sandbox/v1/
    settings.UPSTREAM_MAX_RETRIES = 2  # the default: retries are part of what is counted
    settings.UPSTREAM_TIMEOUT = ATTEMPT_TIMEOUT
    settings.UPSTREAM_PAGE_BUDGET = PAGE_BUDGET
    # Backoff between retries: exact and short, so that the matrix runs in seconds and every
    # retried fault fits its three attempts well inside the budget (0.225 s of waits in all).
    monkeypatch.setattr(modelsclient._retry, "random", _NoJitter())
    monkeypatch.setattr(modelsclient._retry, "INITIAL_DELAY", FIRST_BACKOFF)

    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if seconds > LONGEST_SLEEP:  # fail now rather than hold the test run for minutes
            raise PageStalled(f"a page view asked to sleep {seconds:g} s")
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return proxy
