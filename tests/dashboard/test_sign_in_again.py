"""The "sign in again" form (`/login/?expired=1`) while the browser still holds a session."""

from __future__ import annotations

import logging
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

PASSWORD = "correct-horse-battery-42"


class _Forms(HTMLParser):
    """The login form's action and its inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and found.get("method") == "post":
            self.action = found.get("action") or ""
        if tag == "input" and found.get("name"):
            self.inputs[str(found["name"])] = found.get("value") or ""


def _form(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


@pytest.fixture
def signed_in_as_olivia(db: None) -> tuple[Client, str]:
    """A browser (CSRF checks on, as in real life) holding Olivia's session."""
    olivia = User.objects.create_user(username="olivia", password="olivias-own-pass-1")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(olivia)
    return browser, browser.session.session_key or ""


def _sign_in_again(browser: Client, username: str, password: str) -> object:
    page = browser.get("/login/?expired=1&next=/u/default/models/%3Fq%3Dgpt")
    assert page.status_code == 200
    form = _form(page.content.decode())
    assert form.action is not None
    data = {**form.inputs, "username": username, "password": password}
    return browser.post(form.action, data)


def test_signing_in_again_as_someone_else_replaces_the_session(
    signed_in_as_olivia: tuple[Client, str],
) -> None:
    browser, olivias_session = signed_in_as_olivia
    owner = User.objects.create_user(username="owner", password=PASSWORD)

    response = _sign_in_again(browser, "owner", PASSWORD)

    assert response.status_code == 302  # type: ignore[attr-defined]
    assert response["Location"] == "/u/default/models/?q=gpt"  # type: ignore[index]
    assert browser.session["_auth_user_id"] == str(owner.pk)
    assert browser.session.session_key != olivias_session
    assert not SessionStore().exists(olivias_session)  # flushed, not handed over


def test_signing_in_as_someone_else_is_logged_as_a_security_event(
    signed_in_as_olivia: tuple[Client, str], caplog: pytest.LogCaptureFixture
) -> None:
    browser, _ = signed_in_as_olivia
    User.objects.create_user(username="owner", password=PASSWORD)
    caplog.set_level(logging.INFO, logger="dashboard.security")

    _sign_in_again(browser, "owner", PASSWORD)

    switches = [r.getMessage() for r in caplog.records if "login.switch_user" in r.getMessage()]
    assert switches == ["event=login.switch_user from='olivia' to='owner' ip='127.0.0.1'"]
    assert PASSWORD not in caplog.text


def test_signing_in_again_as_the_same_user_is_not_a_switch(
    signed_in_as_olivia: tuple[Client, str], caplog: pytest.LogCaptureFixture
) -> None:
    browser, olivias_session = signed_in_as_olivia
    caplog.set_level(logging.INFO, logger="dashboard.security")

    response = _sign_in_again(browser, "olivia", "olivias-own-pass-1")

    assert response.status_code == 302  # type: ignore[attr-defined]
    assert browser.session["_auth_user_id"] == str(User.objects.get(username="olivia").pk)
    assert browser.session.session_key != olivias_session  # a new key all the same
    assert not [r for r in caplog.records if "login.switch_user" in r.getMessage()]


def test_a_wrong_password_on_the_sign_in_again_form_keeps_nobody_signed_in_as_the_new_user(
    signed_in_as_olivia: tuple[Client, str],
) -> None:
    browser, _ = signed_in_as_olivia
    User.objects.create_user(username="owner", password=PASSWORD)

    response = _sign_in_again(browser, "owner", "not-the-password-9")

    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "Please enter a correct username" in response.content.decode()  # type: ignore[attr-defined]
    assert browser.session["_auth_user_id"] != str(User.objects.get(username="owner").pk)


def test_a_signed_in_user_opening_the_plain_login_page_is_sent_on(
    signed_in_as_olivia: tuple[Client, str],
) -> None:
    browser, _ = signed_in_as_olivia

    response = browser.get("/login/")

    assert response.status_code == 302
    assert response["Location"] == "/"  # home: the first upstream this user may see
