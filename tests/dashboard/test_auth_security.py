"""Sign-in, throttling, public endpoints, security logging, CSP and the deploy checklist."""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import respx
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard.models import AuditEntry

from .conftest import REAL_API_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct-horse-battery-42"
WRONG_PASSWORD = "hunter2-but-wrong-17"
FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12Cd34"
MODELS = [
    {"id": FINE_TUNE, "object": "model", "created": 1_710_000_000, "owned_by": "acme"},
    {"id": "gpt-4o", "object": "model", "created": 1_690_000_000, "owned_by": "system"},
]


@pytest.fixture
def demo_user(db: None) -> User:
    """A user with a real password, like the sandbox's demo logins."""
    return User.objects.create_user(username="owner", password=PASSWORD)


def _login(browser: Client, username: str, password: str, **extra: str) -> object:
    data = {"username": username, "password": password}
    if "next" in extra:
        data["next"] = extra.pop("next")
    return browser.post(reverse("login"), data, **extra)


def _signed_in(browser: Client) -> bool:
    return "_auth_user_id" in browser.session


# --- Sign-in required, and the few public endpoints ------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/u/default/models/",
        "/u/default/models/x/",
        "/u/default/models/x/delete/",
        "/audit/",
        "/audit/?format=csv",
    ],
)
def test_every_page_requires_sign_in(path: str, db: None) -> None:
    response = Client().get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_signed_out_post_to_delete_goes_to_sign_in_without_calling_upstream(
    real_api: respx.MockRouter,
    db: None,
) -> None:
    route = real_api.delete(f"/models/{FINE_TUNE}").respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": True}
    )

    response = Client().post(
        reverse("model-delete", args=["default", FINE_TUNE]), {"confirm_id": FINE_TUNE}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    assert route.call_count == 0
    assert not AuditEntry.objects.exists()


def test_a_signed_out_htmx_request_is_sent_to_sign_in_with_hx_redirect(db: None) -> None:
    response = Client().get(
        "/u/default/models/",
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://testserver/u/default/models/?q=gpt",
        },
    )

    assert response.status_code == 401
    assert response["HX-Redirect"] == "/login/?next=%2Fu%2Fdefault%2Fmodels%2F%3Fq%3Dgpt&expired=1"


@pytest.mark.parametrize("path", ["/healthz", "/login/"])
def test_health_and_login_pages_are_public(path: str, db: None) -> None:
    assert Client().get(path).status_code == 200


def test_sandbox_api_is_public_with_an_api_key_not_a_session(sandbox: int) -> None:
    with_key = Client().get(
        "/sandbox/v1/models", headers={"Authorization": "Bearer sk-sandbox-reader"}
    )
    without_key = Client().get("/sandbox/v1/models")

    assert with_key.status_code == 200
    assert len(with_key.json()["data"]) == sandbox == 64
    assert without_key.status_code == 401
    assert without_key.json()["error"]["type"] == "invalid_request_error"


def test_readyz_reports_database_and_upstream_ok(sandbox: int) -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "upstream": "ok"}}


def test_readyz_is_503_when_upstream_is_unreachable(sandbox: int, settings: object) -> None:
    settings.SANDBOX_FAILURE = "unavailable"  # type: ignore[attr-defined]

    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["upstream"] == "error: The API cannot be reached"


# --- Signing in ------------------------------------------------------------------------------


def test_login_with_a_password_uses_django_login_and_a_new_session_key(
    demo_user: User,
) -> None:
    browser = Client()
    before = browser.session.session_key  # an anonymous session that already exists

    response = _login(browser, "owner", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == "/"  # home: the first upstream this user may see
    after = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert browser.session["_auth_user_id"] == str(demo_user.pk)
    assert browser.get("/u/default/models/").status_code != 302


def test_login_with_a_wrong_password_is_refused(demo_user: User) -> None:
    browser = Client()

    response = _login(browser, "owner", WRONG_PASSWORD)

    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()
    assert not _signed_in(browser)


def test_login_follows_a_local_next(demo_user: User) -> None:
    response = _login(Client(), "owner", PASSWORD, next="/audit/?outcome=failed")

    assert response["Location"] == "/audit/?outcome=failed"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "https:evil.example"]
)
def test_login_does_not_follow_next_to_another_host(next_url: str, demo_user: User) -> None:
    browser = Client()

    response = _login(browser, "owner", PASSWORD, next=next_url)

    assert response.status_code == 302
    assert response["Location"] == "/"  # home: the first upstream this user may see
    assert _signed_in(browser)


def test_login_page_does_not_echo_a_foreign_next(db: None) -> None:
    html = Client().get("/login/?next=https://evil.example/").content.decode()

    assert 'name="next" value=""' in html


def test_login_page_says_the_session_expired_when_sent_back(db: None) -> None:
    html = Client().get("/login/?expired=1").content.decode()

    assert "Your session expired." in html


# --- Throttling ------------------------------------------------------------------------------


@pytest.fixture
def limit_of_three(settings: object) -> int:
    settings.LOGIN_FAILURE_LIMIT = 3  # type: ignore[attr-defined]
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3  # type: ignore[attr-defined]
    return 3


def test_failures_below_the_limit_do_not_lock_the_user_out(
    demo_user: User, limit_of_three: int
) -> None:
    browser = Client()
    for _ in range(limit_of_three - 1):
        _login(browser, "owner", WRONG_PASSWORD)

    response = _login(browser, "owner", PASSWORD)

    assert response.status_code == 302
    assert _signed_in(browser)


def test_after_the_limit_even_the_right_password_is_refused(
    demo_user: User, limit_of_three: int
) -> None:
    browser = Client()
    for _ in range(limit_of_three):
        _login(browser, "owner", WRONG_PASSWORD)

    response = _login(browser, "owner", PASSWORD)

    assert response.status_code == 200
    assert "Too many failed attempts." in response.content.decode()
    assert not _signed_in(browser)


def test_failures_for_a_username_at_other_addresses_do_not_lock_it_out_here(
    demo_user: User, limit_of_three: int
) -> None:
    for number in range(limit_of_three):
        _login(Client(), "owner", WRONG_PASSWORD, REMOTE_ADDR=f"10.0.1.{number}")
    browser = Client()

    accepted = _login(browser, "owner", PASSWORD, REMOTE_ADDR="10.0.1.200")

    assert accepted.status_code == 302
    assert _signed_in(browser)


def test_failures_are_counted_per_address_across_usernames(
    demo_user: User, limit_of_three: int
) -> None:
    for number in range(limit_of_three):
        _login(Client(), f"guess-{number}", WRONG_PASSWORD, REMOTE_ADDR="10.0.2.9")
    same_address, other_address = Client(), Client()

    refused = _login(same_address, "owner", PASSWORD, REMOTE_ADDR="10.0.2.9")
    accepted = _login(other_address, "owner", PASSWORD, REMOTE_ADDR="10.0.2.10")

    assert "Too many failed attempts." in refused.content.decode()
    assert not _signed_in(same_address)
    assert accepted.status_code == 302
    assert _signed_in(other_address)


def test_a_successful_login_resets_the_usernames_failure_count(
    demo_user: User, limit_of_three: int, settings: Any
) -> None:
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 100
    browser = Client()
    for _ in range(limit_of_three - 1):
        _login(browser, "owner", WRONG_PASSWORD)
    _login(browser, "owner", PASSWORD)
    browser.logout()
    for _ in range(limit_of_three - 1):
        _login(browser, "owner", WRONG_PASSWORD)

    assert _login(browser, "owner", PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_addresses_come_from_x_forwarded_for(
    demo_user: User, limit_of_three: int, settings: Any
) -> None:
    settings.TRUSTED_PROXY_HOPS = 1
    settings.LOGIN_FAILURE_LIMIT = 100
    proxy = {"REMOTE_ADDR": "10.9.9.9"}  # every request arrives from the load balancer
    for number in range(limit_of_three):
        _login(Client(), f"guess-{number}", WRONG_PASSWORD,
               HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.5", **proxy)  # fmt: skip

    attacker = _login(Client(), "owner", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy)
    someone_else = _login(Client(), "owner", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.44", **proxy)

    assert "Too many failed attempts." in attacker.content.decode()
    assert someone_else.status_code == 302


# --- Security log ----------------------------------------------------------------------------


def _events(caplog: pytest.LogCaptureFixture, event: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "dashboard.security" and f"event={event} " in record.getMessage() + " "
    ]


def _assert_no_secrets(caplog: pytest.LogCaptureFixture, *secrets_: str) -> None:
    everything = caplog.text + "\n".join(
        f"{record.getMessage()} {record.__dict__!r}" for record in caplog.records
    )
    for secret in secrets_:
        assert secret not in everything


def test_login_success_and_failure_are_logged_without_passwords(
    demo_user: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    _login(Client(), "owner", WRONG_PASSWORD, REMOTE_ADDR="10.0.3.4")
    _login(Client(), "owner", PASSWORD, REMOTE_ADDR="10.0.3.5")

    assert _events(caplog, "login.failure") == ["event=login.failure user='owner' ip='10.0.3.4'"]
    assert _events(caplog, "login.success") == ["event=login.success user='owner' ip='10.0.3.5'"]
    _assert_no_secrets(caplog, PASSWORD, WRONG_PASSWORD)


def test_throttled_logins_are_logged(
    demo_user: User, limit_of_three: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dashboard.security")
    for _ in range(limit_of_three):
        _login(Client(), "owner", WRONG_PASSWORD)

    _login(Client(), "owner", PASSWORD)

    assert _events(caplog, "login.throttled") == [
        "event=login.throttled user='owner' ip='127.0.0.1' scope='user+address'"
    ]
    _assert_no_secrets(caplog, PASSWORD, WRONG_PASSWORD)


def test_forbidden_requests_are_logged(
    support: Client, real_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dashboard.security")

    support.post(reverse("model-delete", args=["default", FINE_TUNE]), {"confirm_id": FINE_TUNE})
    support.get(reverse("audit-log"))

    forbidden = _events(caplog, "forbidden")
    assert len(forbidden) == 2
    assert "user='sam'" in forbidden[0]
    assert "method='POST'" in forbidden[0]
    assert f"model='{FINE_TUNE}'" in forbidden[0]
    assert "user='sam'" in forbidden[1]
    assert "path='/audit/'" in forbidden[1]


def test_csrf_failures_are_logged(
    owner: Client, real_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dashboard.security")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(username="olivia"))

    browser.post(reverse("model-delete", args=["default", FINE_TUNE]), {"confirm_id": FINE_TUNE})

    failures = _events(caplog, "csrf.failure")
    assert len(failures) == 1
    assert "user='olivia'" in failures[0]


def test_delete_is_logged_with_outcome_and_request_id_but_never_the_api_key(
    owner: Client, real_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    real_api.get("/models").respond(json={"object": "list", "data": MODELS})
    real_api.get(f"/models/{FINE_TUNE}").respond(
        json={"id": FINE_TUNE, "object": "model", "created": 1, "owned_by": "acme"}
    )
    real_api.delete(f"/models/{FINE_TUNE}").respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": True},
        headers={"x-request-id": "req_log_deleted_1"},
    )

    owner.post(reverse("model-delete", args=["default", FINE_TUNE]), {"confirm_id": FINE_TUNE})

    deletes = _events(caplog, "delete")
    assert deletes == [
        f"event=delete user='olivia' upstream='default' model='{FINE_TUNE}' "
        "outcome='deleted' status=200 request_id='req_log_deleted_1'"
    ]
    _assert_no_secrets(caplog, REAL_API_KEY)


def test_an_upstream_error_that_echoes_the_api_key_is_scrubbed_everywhere(
    owner: Client, real_api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    real_api.get("/models").respond(json={"object": "list", "data": MODELS})
    leaky = {"error": {"message": f"Bad key {REAL_API_KEY} for this org", "type": "server_error"}}
    real_api.get(f"/models/{FINE_TUNE}").respond(
        json={"id": FINE_TUNE, "object": "model", "created": 1, "owned_by": "acme"}
    )
    real_api.delete(f"/models/{FINE_TUNE}").respond(
        500, json=leaky, headers={"x-request-id": "req_leaky_500"}
    )

    response = owner.post(
        reverse("model-delete", args=["default", FINE_TUNE]), {"confirm_id": FINE_TUNE}, follow=True
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "Bad key [redacted] for this org" in html
    assert REAL_API_KEY not in html
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.FAILED
    assert REAL_API_KEY not in entry.message
    assert "outcome='failed' status=500" in _events(caplog, "delete")[0]
    _assert_no_secrets(caplog, REAL_API_KEY)
    audit_csv = b"".join(owner.get("/audit/?format=csv").streaming_content).decode()
    assert REAL_API_KEY not in audit_csv


# --- Headers: CSP, framing -------------------------------------------------------------------


def _policy(response: object) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    directives = [part.split() for part in header.split(";") if part.strip()]
    return {name: values for name, *values in directives}


@pytest.mark.parametrize("who", ["owner", "anonymous"])
def test_pages_send_a_strict_content_security_policy(
    who: str, request: pytest.FixtureRequest, sandbox: int
) -> None:
    browser: Client = request.getfixturevalue("owner") if who == "owner" else Client()
    response = browser.get("/u/default/models/" if who == "owner" else "/login/")

    assert response.status_code == 200
    policy = _policy(response)
    assert re.fullmatch(r"'nonce-[A-Za-z0-9+/_=-]{16,}'", policy["script-src"][-1])
    assert "'self'" in policy["script-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    header = response["Content-Security-Policy"]
    assert "unsafe-eval" not in header
    assert "unsafe-inline" not in header
    assert "*" not in header
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_every_script_tag_carries_this_responses_nonce(owner: Client, sandbox: int) -> None:
    response = owner.get("/u/default/models/")

    nonce = _policy(response)["script-src"][-1].removeprefix("'nonce-").removesuffix("'")
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    sources = [re.search(r'src="([^"]+)"', tag) for tag in scripts]
    assert any(match and "htmx" in match.group(1) for match in sources)
    assert any(match and "js/dashboard" in match.group(1) for match in sources)
    for tag in scripts:
        assert f'nonce="{nonce}"' in tag


def test_the_nonce_is_new_for_every_response(owner: Client, sandbox: int) -> None:
    first = _policy(owner.get("/u/default/models/"))["script-src"][-1]
    second = _policy(owner.get("/u/default/models/"))["script-src"][-1]

    assert first != second


def test_htmx_is_configured_without_eval(owner: Client, sandbox: int) -> None:
    html = owner.get("/u/default/models/").content.decode()

    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html)
    assert config is not None
    assert json.loads(config.group(1))["allowEval"] is False


def test_pages_send_the_csrf_token_to_htmx_in_body_headers(owner: Client, sandbox: int) -> None:
    browser = owner
    html = browser.get("/u/default/models/").content.decode()

    match = re.search(r"<body hx-headers='(\{[^']+\})'>", html)
    assert match is not None
    assert json.loads(match.group(1))["x-csrftoken"]


# --- manage.py check --deploy ----------------------------------------------------------------


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    clean.pop("OPENAI_API_KEY", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


PRODUCTION_ENV = {
    "DJANGO_PRODUCTION": "1",
    "DJANGO_ALLOWED_HOSTS": "dashboard.example.com",
}


def test_deploy_check_passes_with_production_settings() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        **PRODUCTION_ENV,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_with_a_weak_secret_key() -> None:
    result = _manage(
        "check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY="short", **PRODUCTION_ENV
    )

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_deploy_check_fails_when_debug_is_on_in_production() -> None:
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_DEBUG="1",
        **PRODUCTION_ENV,
    )

    assert result.returncode != 0
    assert "security.W018" in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = _manage("check", **PRODUCTION_ENV)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_favicon_ico_redirects_to_the_static_icon_without_login(client: Client) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"].startswith("/static/favicon")


def test_every_403_is_logged_as_a_security_event_even_from_the_django_admin(
    support: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dashboard.security")

    support.get("/audit/")
    strict = Client(enforce_csrf_checks=True)
    strict.post("/admin/login/", {"username": "x", "password": "y"})  # no CSRF token: 403

    lines = [r.getMessage() for r in caplog.records if "event=http.403" in r.getMessage()]
    assert len(lines) == 2
    assert "path='/audit/'" in lines[0] and "user='sam'" in lines[0]
    assert "path='/admin/login/'" in lines[1]


def test_readyz_checks_upstream_at_most_every_ten_seconds(
    db: None, client: Client, real_api: Any
) -> None:
    route = real_api.get("/models").respond(json={"object": "list", "data": []})

    statuses = [client.get("/readyz").status_code for _ in range(3)]

    assert statuses == [200, 200, 200]
    assert route.call_count == 1
