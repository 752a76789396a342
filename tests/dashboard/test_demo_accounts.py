"""Demo logins (password "demo") exist for the sandbox and never work against a real API."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client

from .conftest import REAL_API_KEY


def _sign_in(username: str, password: str) -> Any:
    return Client().post("/login/", {"username": username, "password": password})


@pytest.fixture
def demo_users(db: None, settings: Any) -> None:
    settings.OPENAI_API_KEY = None
    call_command("setup_demo", stdout=StringIO())


def test_demo_logins_work_in_sandbox_mode(demo_users: None) -> None:
    response = _sign_in("owner", "demo")

    assert response.status_code == 302
    assert response["Location"] == "/"  # home: the first upstream this user may see


def test_a_leftover_demo_login_is_refused_when_a_real_api_key_is_set(
    demo_users: None, settings: Any
) -> None:
    settings.OPENAI_API_KEY = REAL_API_KEY

    response = _sign_in("owner", "demo")

    assert response.status_code == 200
    assert b"Demo logins work only on the sandbox" in response.content
    assert "_auth_user_id" not in response.client.session


def test_a_real_account_named_like_a_demo_user_can_still_sign_in(db: None, settings: Any) -> None:
    settings.OPENAI_API_KEY = REAL_API_KEY
    User.objects.create_user(username="admin", password="a-real-long-password")

    assert _sign_in("admin", "a-real-long-password").status_code == 302


def test_setup_demo_with_a_real_api_disables_leftover_demo_logins(
    demo_users: None, settings: Any
) -> None:
    settings.OPENAI_API_KEY = REAL_API_KEY
    out = StringIO()

    call_command("setup_demo", stdout=out)

    assert "Disabled the demo logins left from sandbox mode: owner, admin, support." in (
        out.getvalue()
    )  # fmt: skip
    assert not any(u.has_usable_password() for u in User.objects.all())
    settings.OPENAI_API_KEY = None  # back on the sandbox, `make run` restores them
    call_command("setup_demo", stdout=StringIO())
    assert User.objects.get(username="owner").check_password("demo")
