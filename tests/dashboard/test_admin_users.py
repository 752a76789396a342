"""User management in the Django admin: Admins manage users but cannot climb to Owner."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard.roles import ADMIN, OWNER, SUPPORT, ensure_roles


def _staff(username: str, role: str) -> tuple[User, Client]:
    ensure_roles()
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    user.groups.set([Group.objects.get(name=role)])
    browser = Client()
    browser.force_login(user)
    return user, browser


def _change_form_data(user: User, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "groups": [str(g.pk) for g in user.groups.all()],
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return data


@pytest.fixture
def team_admin_staff(db: None) -> tuple[User, Client]:
    return _staff("adele", ADMIN)


def test_an_admin_can_open_the_user_list_and_edit_a_support_user(
    team_admin_staff: tuple[User, Client],
) -> None:
    _, browser = team_admin_staff
    support, _ = _staff("sid", SUPPORT)

    assert browser.get("/admin/auth/user/").status_code == 200
    page = browser.get(f"/admin/auth/user/{support.pk}/change/")

    assert page.status_code == 200
    assert b'name="is_superuser"' not in page.content
    assert b'name="user_permissions"' not in page.content


def test_an_admin_cannot_make_themselves_a_superuser(team_admin_staff: tuple[User, Client]) -> None:
    user, browser = team_admin_staff

    browser.post(f"/admin/auth/user/{user.pk}/change/", _change_form_data(user, is_superuser="on"))

    user.refresh_from_db()
    assert not user.is_superuser


def test_an_admin_cannot_give_anyone_the_owner_role(team_admin_staff: tuple[User, Client]) -> None:
    user, browser = team_admin_staff
    owner_group = Group.objects.get(name=OWNER)

    response = browser.post(
        f"/admin/auth/user/{user.pk}/change/",
        _change_form_data(user, groups=[str(owner_group.pk)]),
    )

    assert response.status_code == 200  # the form comes back with an error
    assert b"Select a valid choice" in response.content
    assert not user.groups.filter(name=OWNER).exists()


def test_an_admin_cannot_edit_an_owner_or_change_an_owners_password(
    team_admin_staff: tuple[User, Client],
) -> None:
    _, browser = team_admin_staff
    owner, _ = _staff("olga", OWNER)

    change = browser.get(f"/admin/auth/user/{owner.pk}/change/")
    password = browser.post(
        f"/admin/auth/user/{owner.pk}/password/",
        {"password1": "taken-over-123", "password2": "taken-over-123"},
    )

    assert b'name="username"' not in change.content  # view-only at most
    assert password.status_code == 403
    owner.refresh_from_db()
    assert owner.check_password("pw")


def test_an_owner_can_give_the_owner_role(db: None) -> None:
    _, browser = _staff("odin", OWNER)
    support, _ = _staff("sue", SUPPORT)
    owner_group = Group.objects.get(name=OWNER)

    response = browser.post(
        f"/admin/auth/user/{support.pk}/change/",
        _change_form_data(support, groups=[str(owner_group.pk)]),
    )

    assert response.status_code == 302
    assert support.groups.filter(name=OWNER).exists()
