"""The embedded sandbox: on only when no real API is configured (never by default in
production), and as slow as a real API would be — UPSTREAM_TIMEOUT applies to it too."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from django.test import Client

from dashboard.sandbox.models import SandboxModel

SANDBOX_KEY = {"Authorization": "Bearer sk-sandbox-reader"}


def _settings_in_a_fresh_process(**env: str) -> list[str]:
    code = (
        "import django; django.setup(); from django.conf import settings; from django.urls "
        "import get_resolver; print(settings.SANDBOX_ENABLED); print(any("
        "str(p.pattern).startswith('sandbox/') for p in get_resolver().url_patterns)); "
        "from django.apps import apps; print(apps.is_installed('dashboard.sandbox'))"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OPENAI_"))}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "dashboard.settings",
            "DJANGO_SECRET_KEY": "x" * 60,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_without_an_api_key_the_sandbox_is_enabled_and_routed() -> None:
    assert _settings_in_a_fresh_process() == ["True", "True", "True"]


def test_with_a_real_api_key_the_sandbox_is_neither_enabled_nor_installed_nor_routed() -> None:
    assert _settings_in_a_fresh_process(OPENAI_API_KEY="sk-live-0123") == [
        "False",
        "False",
        "False",
    ]


def test_in_production_the_sandbox_is_off_unless_explicitly_enabled() -> None:
    assert _settings_in_a_fresh_process(DJANGO_PRODUCTION="1") == ["False", "False", "False"]
    enabled = _settings_in_a_fresh_process(DJANGO_PRODUCTION="1", SANDBOX_ENABLED="1")
    assert enabled == ["True", "True", "True"]


def test_a_real_api_key_with_sandbox_enabled_keeps_the_sandbox_reachable() -> None:
    both = _settings_in_a_fresh_process(OPENAI_API_KEY="sk-live-0123", SANDBOX_ENABLED="1")
    assert both == ["True", "True", "True"]


def test_a_disabled_sandbox_answers_404_even_where_its_routes_are_installed(
    client: Client, sandbox: int, settings: Any
) -> None:
    settings.SANDBOX_ENABLED = False

    listing = client.get("/sandbox/v1/models", headers=SANDBOX_KEY)
    item = client.get("/sandbox/v1/models/gpt-4o", headers=SANDBOX_KEY)

    assert listing.status_code == 404
    assert item.status_code == 404
    assert b"gpt-4o" not in listing.content


def test_without_a_key_and_with_the_sandbox_off_the_list_says_no_api_is_configured(
    support: Client, sandbox: int, settings: Any
) -> None:
    settings.SANDBOX_ENABLED = False

    response = support.get("/u/default/models/")

    assert response.status_code == 503
    assert "No API is configured" in response.content.decode()
    assert "OPENAI_API_KEY" in response.content.decode()


def test_a_sandbox_slower_than_upstream_timeout_times_out_like_a_real_api(
    support: Client, sandbox: int, settings: Any
) -> None:
    settings.SANDBOX_LATENCY = 5.0
    settings.UPSTREAM_TIMEOUT = 0.3

    started = time.monotonic()
    response = support.get("/u/default/models/")
    waited = time.monotonic() - started

    assert response.status_code == 504
    assert "did not answer in time" in response.content.decode()
    assert 0.3 <= waited < 2.0


def test_a_sandbox_faster_than_upstream_timeout_answers(
    support: Client, sandbox: int, settings: Any
) -> None:
    settings.SANDBOX_LATENCY = 0.05
    settings.UPSTREAM_TIMEOUT = 2.0

    response = support.get("/u/default/models/")

    assert response.status_code == 200, response.content.decode()[-1500:]
    assert SandboxModel.objects.count() == 64
