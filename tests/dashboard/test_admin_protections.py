"""The Django admin never deletes the acting account or the last Owner / superuser, and its
403s are logged once, as security events, without a traceback."""

from __future__ import annotations

import logging

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory

from dashboard.logging import DropForbidden
from dashboard.roles import ADMIN, OWNER, SUPPORT, ensure_roles

USERS = "/admin/auth/user/"


def _staff(username: str, role: str | None, *, superuser: bool = False) -> User:
    ensure_roles()
    user = User.objects.create_user(
        username=username, password="pw", is_staff=True, is_superuser=superuser
    )
    if role:
        user.groups.set([Group.objects.get(name=role)])
    return user


def _browser(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _delete(browser: Client, user: User) -> int:
    return browser.post(f"{USERS}{user.pk}/delete/", {"post": "yes"}).status_code


def _bulk_delete(browser: Client, *users: User) -> object:
    return browser.post(
        USERS,
        {"action": "delete_selected", "_selected_action": [u.pk for u in users], "post": "yes"},
        follow=True,
    )


def _exists(*users: User) -> list[bool]:
    return [User.objects.filter(pk=u.pk).exists() for u in users]


@pytest.fixture
def two_owners(db: None) -> tuple[User, User]:
    return _staff("odin", OWNER), _staff("olga", OWNER)


# --- One's own account --------------------------------------------------------------------


def test_an_owner_cannot_delete_their_own_account(two_owners: tuple[User, User]) -> None:
    odin, _ = two_owners
    browser = _browser(odin)

    page = browser.get(f"{USERS}{odin.pk}/delete/")
    status = _delete(browser, odin)

    assert page.status_code == 403
    assert status == 403
    assert _exists(odin) == [True]


def test_ones_own_change_page_offers_no_delete_link(two_owners: tuple[User, User]) -> None:
    odin, olga = two_owners
    browser = _browser(odin)

    own = browser.get(f"{USERS}{odin.pk}/change/").content.decode()
    other = browser.get(f"{USERS}{olga.pk}/change/").content.decode()

    assert f'href="{USERS}{odin.pk}/delete/"' not in own
    assert f'href="{USERS}{olga.pk}/delete/"' in other


def test_a_superuser_cannot_delete_their_own_account_either(db: None) -> None:
    root = _staff("root", None, superuser=True)
    _staff("root2", None, superuser=True)

    assert _delete(_browser(root), root) == 403
    assert _exists(root) == [True]


# --- The last Owner and the last superuser -------------------------------------------------


def test_an_owner_can_delete_another_owner_while_one_remains(
    two_owners: tuple[User, User],
) -> None:
    odin, olga = two_owners

    assert _delete(_browser(odin), olga) == 302
    assert _exists(odin, olga) == [True, False]


def test_a_superuser_cannot_delete_the_last_active_owner(db: None) -> None:
    root = _staff("root", None, superuser=True)
    olga = _staff("olga", OWNER)
    retired = _staff("retired-owner", OWNER)
    retired.is_active = False  # an inactive owner does not count
    retired.save()

    assert _delete(_browser(root), olga) == 403
    assert _exists(olga) == [True]


def test_an_owner_cannot_delete_the_last_superuser(db: None) -> None:
    odin = _staff("odin", OWNER)
    root = _staff("root", None, superuser=True)

    assert _delete(_browser(odin), root) == 403
    assert _exists(root) == [True]


# --- Bulk "delete selected" ----------------------------------------------------------------


def test_bulk_delete_of_every_owner_is_refused_and_deletes_nothing(
    two_owners: tuple[User, User],
) -> None:
    odin, olga = two_owners
    sue = _staff("sue", SUPPORT)
    root = _staff("root", None, superuser=True)

    response = _bulk_delete(_browser(root), olga, odin, sue)

    assert response.status_code == 200  # type: ignore[attr-defined]
    text = response.content.decode()  # type: ignore[attr-defined]
    assert "Nothing was deleted: it would remove the last active Owner." in text
    assert _exists(odin, olga, sue) == [True, True, True]


def test_bulk_delete_that_includes_oneself_is_refused_and_deletes_nothing(
    two_owners: tuple[User, User],
) -> None:
    odin, olga = two_owners
    sue = _staff("sue", SUPPORT)

    response = _bulk_delete(_browser(odin), odin, sue)

    assert "Nothing was deleted: you cannot delete your own account." in response.content.decode()  # type: ignore[attr-defined]
    assert _exists(odin, sue) == [True, True]


def test_bulk_delete_of_others_while_an_owner_remains_works(
    two_owners: tuple[User, User],
) -> None:
    odin, olga = two_owners
    sue = _staff("sue", SUPPORT)

    response = _bulk_delete(_browser(odin), olga, sue)

    assert "Successfully deleted 2 users." in response.content.decode()  # type: ignore[attr-defined]
    assert _exists(odin, olga, sue) == [True, False, False]


def test_a_refused_bulk_delete_is_logged_as_a_security_event(
    two_owners: tuple[User, User], caplog: pytest.LogCaptureFixture
) -> None:
    odin, olga = two_owners
    caplog.set_level(logging.INFO, logger="dashboard.security")

    _bulk_delete(_browser(odin), odin, olga)

    refused = [r.getMessage() for r in caplog.records if "admin.delete_refused" in r.getMessage()]
    assert refused == [
        "event=admin.delete_refused user='odin' targets='odin,olga' reason='you cannot delete "
        "your own account; it would remove the last active Owner'"
    ]


@pytest.mark.parametrize("path", ["delete_model", "delete_queryset"])
def test_the_admins_delete_methods_refuse_on_their_own(
    path: str, two_owners: tuple[User, User]
) -> None:
    odin, olga = two_owners
    model_admin = admin.site._registry[User]
    request = RequestFactory().post("/")
    request.user = odin

    with pytest.raises(PermissionDenied):
        if path == "delete_model":
            model_admin.delete_model(request, odin)
        else:
            model_admin.delete_queryset(request, User.objects.filter(pk__in=[odin.pk, olga.pk]))
    assert _exists(odin, olga) == [True, True]


# --- 403s in the admin are logged once, without a traceback --------------------------------


def test_an_admin_site_403_is_one_security_event_without_a_traceback(
    db: None, caplog: pytest.LogCaptureFixture
) -> None:
    adele = _staff("adele", ADMIN)
    olga = _staff("olga", OWNER)
    caplog.set_level(logging.DEBUG)

    response = _browser(adele).get(f"{USERS}{olga.pk}/password/")  # raises PermissionDenied

    assert response.status_code == 403
    assert [r for r in caplog.records if r.exc_info] == []
    forbidden = [
        r for r in caplog.records if "403" in r.getMessage() or "Forbidden" in r.getMessage()
    ]
    assert [(r.name, r.getMessage()) for r in forbidden] == [
        (
            "dashboard.security",
            f"event=http.403 user='adele' method='GET' path='{USERS}{olga.pk}/password/' "
            "ip='127.0.0.1'",
        )
    ]


def test_a_refused_admin_delete_page_is_also_one_security_event(
    two_owners: tuple[User, User], caplog: pytest.LogCaptureFixture
) -> None:
    odin, _ = two_owners
    caplog.set_level(logging.DEBUG)

    _delete(_browser(odin), odin)

    assert [r for r in caplog.records if r.exc_info] == []
    events = [r.getMessage() for r in caplog.records if "event=http.403" in r.getMessage()]
    assert len(events) == 1 and f"path='{USERS}{odin.pk}/delete/'" in events[0]


def test_only_403s_are_dropped_from_djangos_request_log() -> None:
    server_error = logging.makeLogRecord({"status_code": 500})
    forbidden = logging.makeLogRecord({"status_code": 403})

    assert DropForbidden().filter(server_error) is True
    assert DropForbidden().filter(forbidden) is False


# --- The change form: the last Owner / superuser keeps the role -------------------------------


def _change(browser: Client, user: User, **fields: object) -> object:
    """Post the user's change form as it is, with `fields` changed."""
    data: dict[str, object] = {
        "username": user.username,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "groups": [g.pk for g in user.groups.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    data.update(fields)
    return browser.post(f"{USERS}{user.pk}/change/", {k: v for k, v in data.items() if v != ""})


@pytest.mark.parametrize("change", ["leaves the Owner group", "is deactivated"])
def test_the_last_active_owner_keeps_the_role_on_the_change_form(db: None, change: str) -> None:
    owner = _staff("odin", OWNER)
    fields: dict[str, object] = (
        {"groups": [Group.objects.get(name=SUPPORT).pk]}
        if change == "leaves the Owner group"
        else {"is_active": ""}
    )

    response = _change(_browser(owner), owner, **fields)

    assert getattr(response, "status_code", None) == 200  # the form again, with the reason
    assert b"is the last active Owner" in response.content  # type: ignore[attr-defined]
    owner.refresh_from_db()
    assert owner.is_active and owner.groups.filter(name=OWNER).exists()


def test_an_owner_may_step_down_while_another_active_owner_remains(
    two_owners: tuple[User, User],
) -> None:
    odin, _olga = two_owners

    response = _change(_browser(odin), odin, groups=[Group.objects.get(name=ADMIN).pk])

    assert getattr(response, "status_code", None) == 302
    assert not odin.groups.filter(name=OWNER).exists()


def test_the_last_active_superuser_keeps_the_status(db: None) -> None:
    root = _staff("root", None, superuser=True)

    response = _change(_browser(root), root, is_superuser="")

    assert b"is the last active superuser" in response.content  # type: ignore[attr-defined]
    root.refresh_from_db()
    assert root.is_superuser
