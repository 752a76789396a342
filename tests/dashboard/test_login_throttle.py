"""Sign-in throttling: per (username, address) and per address, a growing wait, atomic counts.

A stranger who knows an owner's username must not be able to lock the owner out; the windows
are the configured ones whatever the cache backend; concurrent guesses (threads in several
processes) get at most `limit` passwords checked.
"""

from __future__ import annotations

import datetime
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse

from dashboard import login_throttle
from dashboard.models import LoginFailure

from .login_race import clean_env, race
from .processes import manage
from .test_redis_cache import redis_url  # noqa: F401  (a fixture, asked for by name below)

PASSWORD = "correct-horse-battery-42"
WRONG = "hunter2-but-wrong-17"
STRANGER, OWNER_DESK = "198.51.100.66", "192.0.2.10"


@pytest.fixture
def owner_account(db: None) -> User:
    return User.objects.create_user(username="owner", password=PASSWORD)


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 10
    settings.LOGIN_LOCKOUT_SECONDS = 900
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 24 * 3600
    return settings


class Clock:
    def __init__(self) -> None:
        self.at = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(login_throttle, "now", fake)
    return fake


CACHE_BACKENDS = {
    "locmem": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "database": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "throttle_test_cache",
    },
    "file": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache"},
}


@pytest.fixture(params=sorted(CACHE_BACKENDS))
def cache_backend(request: pytest.FixtureRequest, db: None, tmp_path: Path) -> Iterator[str]:
    """The site's cache is each of Django's backends in turn (the count must not care)."""
    config = dict(CACHE_BACKENDS[request.param])
    if request.param == "file":
        config["LOCATION"] = str(tmp_path / "cache")
    with override_settings(CACHES={"default": config}):
        if request.param == "database":
            call_command("createcachetable", verbosity=0)
        yield request.param


def _login(password: str, *, username: str = "owner", ip: str = STRANGER) -> Any:
    browser = Client()
    response = browser.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )
    response.signed_in = "_auth_user_id" in browser.session
    return response


def _throttled(response: Any) -> bool:
    return "Too many failed attempts." in response.content.decode()


# --- Who is locked out, and where ------------------------------------------------------------


def test_a_strangers_failures_do_not_lock_the_owner_out_at_the_owners_address(
    owner_account: User, limits: Any
) -> None:
    for _ in range(10):
        _login(WRONG, ip=STRANGER)

    at_the_owners_desk = _login(PASSWORD, ip=OWNER_DESK)

    assert at_the_owners_desk.status_code == 302
    assert at_the_owners_desk.signed_in


def test_after_the_limit_the_username_is_refused_at_the_strangers_address_only(
    owner_account: User, limits: Any
) -> None:
    for _ in range(limits.LOGIN_FAILURE_LIMIT):
        _login(WRONG, ip=STRANGER)

    there = _login(PASSWORD, ip=STRANGER)
    elsewhere = _login(PASSWORD, ip=OWNER_DESK)

    assert _throttled(there) and not there.signed_in
    assert elsewhere.signed_in


def test_the_address_limit_counts_every_username_tried_from_that_address(
    owner_account: User, limits: Any
) -> None:
    for number in range(limits.LOGIN_FAILURE_LIMIT_PER_ADDRESS):
        _login(WRONG, username=f"guess-{number}", ip=STRANGER)

    refused = _login(PASSWORD, ip=STRANGER)

    assert _throttled(refused) and not refused.signed_in
    assert _login(PASSWORD, ip=OWNER_DESK).signed_in


def test_a_correct_password_does_not_count_against_the_address(
    owner_account: User, limits: Any, settings: Any
) -> None:
    settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS = 3
    _login(WRONG, username="guess-1")
    _login(WRONG, username="guess-2")
    assert _login(PASSWORD).signed_in  # the address's third attempt, and not a failure

    still_checked = _login(WRONG, username="guess-3")
    then_refused = _login(PASSWORD)

    assert "Please enter a correct username" in still_checked.content.decode()
    assert _throttled(then_refused)


def test_a_post_without_a_password_is_neither_counted_nor_a_reset(
    owner_account: User, limits: Any
) -> None:
    for _ in range(limits.LOGIN_FAILURE_LIMIT):
        _login(WRONG)

    _login("")  # would have "succeeded" past the password check if it reset the pair

    assert _throttled(_login(PASSWORD))


def test_the_typed_username_is_not_stored(owner_account: User, limits: Any) -> None:
    _login(WRONG, username="Owner-Typed-My-Password-Here")

    stored = list(LoginFailure.objects.values_list("username_digest", "address", "count"))

    assert ("", STRANGER, 1) in stored
    digests = [digest for digest, _, _ in stored if digest]
    assert len(digests) == 1 and "Owner" not in digests[0] and len(digests[0]) == 32


def test_the_throttled_message_says_how_long_to_wait(owner_account: User, limits: Any) -> None:
    for _ in range(limits.LOGIN_FAILURE_LIMIT):
        _login(WRONG)

    message = _login(PASSWORD).content.decode()

    assert "Too many failed attempts. Try again in 15 minutes." in message


def test_throttled_attempts_are_logged_with_the_counter_that_refused(
    owner_account: User, limits: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dashboard.security")
    for _ in range(limits.LOGIN_FAILURE_LIMIT):
        _login(WRONG)

    _login(PASSWORD)

    lines = [r.getMessage() for r in caplog.records if "event=login.throttled" in r.getMessage()]
    assert lines == [f"event=login.throttled user='owner' ip='{STRANGER}' scope='user+address'"]
    assert PASSWORD not in caplog.text and WRONG not in caplog.text


# --- Windows and the growing wait (the same on every cache backend) --------------------------


@pytest.mark.parametrize(("later", "refused"), [(899, True), (900, False)])
def test_the_wait_after_the_limit_is_the_configured_one_whatever_the_cache(
    later: int, refused: bool, cache_backend: str, owner_account: User, limits: Any, clock: Clock
) -> None:
    for _ in range(limits.LOGIN_FAILURE_LIMIT):
        _login(WRONG)

    clock.advance(later)
    response = _login(PASSWORD)

    assert _throttled(response) is refused
    assert response.signed_in is not refused


@pytest.mark.parametrize(("later", "refused"), [(899, True), (900, False)])
def test_failures_count_over_the_configured_window_whatever_the_cache(
    later: int, refused: bool, cache_backend: str, owner_account: User, limits: Any, clock: Clock
) -> None:
    for _ in range(limits.LOGIN_FAILURE_LIMIT - 1):
        _login(WRONG)
        clock.advance(1)  # each failure a second later: an `incr` would push a cache's expiry

    clock.advance(later - (limits.LOGIN_FAILURE_LIMIT - 1))
    _login(WRONG)  # the limit-th failure, if the first ones still count
    response = _login(PASSWORD)

    assert _throttled(response) is refused


def test_each_failure_after_a_wait_doubles_the_next_wait_up_to_the_cap(
    owner_account: User, limits: Any, clock: Clock
) -> None:
    limits.LOGIN_LOCKOUT_SECONDS = 60
    limits.LOGIN_LOCKOUT_MAX_SECONDS = 300
    start = clock.at
    for _ in range(limits.LOGIN_FAILURE_LIMIT):
        _login(WRONG)
    waits = []
    for _ in range(4):
        row = LoginFailure.objects.exclude(username_digest="").get()
        assert row.locked_until is not None
        waits.append(round((row.locked_until - clock.at).total_seconds()))
        clock.at = row.locked_until - datetime.timedelta(seconds=1)
        assert _throttled(_login(PASSWORD))  # one second early: refused, nothing checked
        clock.advance(1)
        assert "Please enter a correct username" in _login(WRONG).content.decode()

    assert waits == [60, 120, 240, 300]
    assert clock.at - start == datetime.timedelta(seconds=60 + 120 + 240 + 300)


def test_a_counter_quiet_for_a_window_after_its_wait_starts_again(
    owner_account: User, limits: Any, clock: Clock
) -> None:
    for _ in range(limits.LOGIN_FAILURE_LIMIT):
        _login(WRONG)
    clock.advance(900 + 900)  # the wait, then a quiet window

    for _ in range(limits.LOGIN_FAILURE_LIMIT - 1):
        assert "Please enter a correct username" in _login(WRONG).content.decode()
    assert _login(PASSWORD).signed_in


def test_a_success_forgets_the_pair_and_counters_that_went_quiet(
    owner_account: User, limits: Any, clock: Clock
) -> None:
    _login(WRONG, username="someone-else", ip="203.0.113.50")
    _login(WRONG)
    clock.advance(900)

    assert _login(PASSWORD).signed_in

    # Only this address's own counter is left: its window restarted, and the success's slot
    # was given back.
    assert list(LoginFailure.objects.values_list("address", "count")) == [(STRANGER, 0)]


def test_waits_grow_from_the_configured_seconds_and_stop_at_the_cap(settings: Any) -> None:
    settings.LOGIN_LOCKOUT_SECONDS = 900
    settings.LOGIN_LOCKOUT_MAX_SECONDS = 86400

    waits = [login_throttle.wait_seconds(count, 5) for count in range(1, 14)]

    assert waits == [0, 0, 0, 0, 900, 1800, 3600, 7200, 14400, 28800, 57600, 86400, 86400]
    assert login_throttle.wait_seconds(10**6, 5) == 86400


# --- Concurrency: threads in several processes against one database --------------------------


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the database cache's table and the account "owner"."""
    path = tmp_path_factory.mktemp("race") / "template.sqlite3"
    env = clean_env(DATABASE_URL=f"sqlite:///{path}")
    manage(env, "migrate", "--noinput", "-v0")
    manage({**env, "CACHE_URL": "dbcache://django_cache"}, "createcachetable")
    create_owner = "from django.contrib.auth.models import User; User.objects.create_user('owner')"
    manage(env, "shell", "--no-imports", "-c", create_owner)
    return path


def _sqlite_env(template: Path, tmp_path: Path, cache_url: str, **limits: str) -> dict[str, str]:
    database = tmp_path / "race.sqlite3"
    shutil.copy(template, database)
    return clean_env(DATABASE_URL=f"sqlite:///{database}", CACHE_URL=cache_url, **limits)


@pytest.mark.parametrize("cache", ["locmem", "database", "redis"])
def test_forty_concurrent_wrong_guesses_check_at_most_the_limit_of_passwords(
    cache: str, migrated_sqlite: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if cache == "redis":
        cache_url: str = request.getfixturevalue("redis_url")
    else:
        cache_url = {"locmem": "locmemcache://race", "database": "dbcache://django_cache"}[cache]
    env = _sqlite_env(
        migrated_sqlite, tmp_path, cache_url,
        LOGIN_FAILURE_LIMIT="5", LOGIN_FAILURE_LIMIT_PER_ADDRESS="1000",
    )  # fmt: skip

    tally = race(env, tmp_path / "sync", username="owner", address="203.0.113.9")

    assert tally == {"invalid_login": 5, "throttled": 35, "checked": 5}
    show = "from dashboard.models import LoginFailure as F; print(sorted(F.objects.values_list("
    counted = manage(env, "shell", "--no-imports", "-c", show + "'username_digest', 'count')))")
    pair = login_throttle.username_digest("owner")
    assert counted.strip() == str([("", 5), (pair, 5)])  # both counters: exactly the 5 checked


def test_forty_concurrent_guesses_at_forty_usernames_check_at_most_the_address_limit(
    migrated_sqlite: Path, tmp_path: Path
) -> None:
    env = _sqlite_env(
        migrated_sqlite, tmp_path, "locmemcache://race",
        LOGIN_FAILURE_LIMIT="5", LOGIN_FAILURE_LIMIT_PER_ADDRESS="7",
    )  # fmt: skip

    tally = race(env, tmp_path / "sync", username="guess-{process}-{thread}", address="203.0.113.7")

    assert tally == {"invalid_login": 7, "throttled": 33, "checked": 7}
