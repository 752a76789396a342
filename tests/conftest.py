"""Settings every test shares: static files come from the finders, no collectstatic needed."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _static_without_manifest(settings: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2's deliberate slowness is for attackers, not for hundreds of test users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True, scope="session")
def _urlconf_loaded_with_default_settings() -> None:
    # The sandbox's routes exist only if SANDBOX_ENABLED when the URLconf is first imported;
    # import it before any test overrides that setting.
    from django.urls import get_resolver

    assert get_resolver().url_patterns
