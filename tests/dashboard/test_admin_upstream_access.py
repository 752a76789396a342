"""Roles per upstream in the Django admin: Admins grant Support and Admin on the upstreams they
administer; only Owners of an upstream (and superusers) grant, change or remove Owner there."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from dashboard.models import UpstreamAccess
from dashboard.roles import ADMIN, OWNER, SUPPORT, ensure_roles, role_on
from tests.markup import find_all

ADD_URL = "/admin/dashboard/upstreamaccess/add/"
LIST_URL = "/admin/dashboard/upstreamaccess/"


@pytest.fixture(autouse=True)
def _two_upstreams(settings: Any) -> None:
    settings.UPSTREAMS = {"second": {"BASE_URL": "https://second.example.test/v1", "API_KEY": "k"}}


def _staff(username: str, role: str | None = None, **access: str) -> tuple[User, Client]:
    ensure_roles()
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    if role:
        user.groups.set([Group.objects.get(name=role)])
    for alias, upstream_role in access.items():
        UpstreamAccess.objects.create(user=user, upstream=alias, role=upstream_role)
    browser = Client()
    browser.force_login(user)
    return user, browser


def _grant(browser: Client, user: User, upstream: str, role: str) -> Any:
    return browser.post(ADD_URL, {"user": str(user.pk), "upstream": upstream, "role": role})


@pytest.fixture
def newcomer(db: None) -> User:
    return User.objects.create_user(username="nina", password="pw")


def test_an_admin_grants_support_on_the_default_upstream(db: None, newcomer: User) -> None:
    _, browser = _staff("adele", ADMIN)

    response = _grant(browser, newcomer, "default", SUPPORT)

    assert response.status_code == 302
    assert role_on(User.objects.get(pk=newcomer.pk), "default") == SUPPORT
    assert list(UpstreamAccess.objects.values_list("upstream", "role")) == [("default", SUPPORT)]


def test_an_admin_grants_admin_on_the_default_upstream(db: None, newcomer: User) -> None:
    _, browser = _staff("adele", ADMIN)

    response = _grant(browser, newcomer, "default", ADMIN)

    assert response.status_code == 302
    assert UpstreamAccess.objects.get(user=newcomer).role == ADMIN


def test_an_admin_cannot_grant_owner(db: None, newcomer: User) -> None:
    _, browser = _staff("adele", ADMIN)

    response = _grant(browser, newcomer, "default", OWNER)

    assert response.status_code == 200  # the form again, with the reason
    assert "Only owners of &#x27;default&#x27;" in response.content.decode()
    assert not UpstreamAccess.objects.filter(user=newcomer).exists()


def test_an_admin_cannot_make_themselves_owner(db: None) -> None:
    adele, browser = _staff("adele", ADMIN)

    _grant(browser, adele, "default", OWNER)

    assert not UpstreamAccess.objects.filter(user=adele).exists()
    assert role_on(User.objects.get(pk=adele.pk), "default") == ADMIN


def test_an_admin_of_default_grants_nothing_on_an_upstream_they_have_no_role_on(
    db: None, newcomer: User
) -> None:
    _, browser = _staff("adele", ADMIN)

    response = _grant(browser, newcomer, "second", SUPPORT)

    assert response.status_code == 200
    assert not UpstreamAccess.objects.exists()
    options = [
        o.attrs["value"] for o in find_all(response.content, "option") if o.attrs.get("value")
    ]
    assert "second" not in options
    assert "default" in options


def test_an_owner_grants_owner_on_their_upstream(db: None, newcomer: User) -> None:
    _, browser = _staff("olga", OWNER)

    response = _grant(browser, newcomer, "default", OWNER)

    assert response.status_code == 302
    assert role_on(User.objects.get(pk=newcomer.pk), "default") == OWNER


def test_an_owner_of_default_cannot_grant_owner_on_second_where_they_are_admin(
    db: None, newcomer: User
) -> None:
    _, browser = _staff("olga", OWNER, second=ADMIN)

    refused = _grant(browser, newcomer, "second", OWNER)
    granted = _grant(browser, newcomer, "second", ADMIN)

    assert refused.status_code == 200
    assert granted.status_code == 302
    assert UpstreamAccess.objects.get(user=newcomer).role == ADMIN


def test_a_superuser_grants_owner_anywhere(db: None, newcomer: User) -> None:
    User.objects.create_superuser("root", password="pw")
    browser = Client()
    browser.login(username="root", password="pw")

    response = _grant(browser, newcomer, "second", OWNER)

    assert response.status_code == 302
    assert role_on(User.objects.get(pk=newcomer.pk), "second") == OWNER


def test_an_admin_cannot_change_or_remove_an_owners_row(db: None, newcomer: User) -> None:
    _, browser = _staff("adele", ADMIN)
    row = UpstreamAccess.objects.create(user=newcomer, upstream="default", role=OWNER)

    changed = browser.post(
        f"{LIST_URL}{row.pk}/change/",
        {"user": str(newcomer.pk), "upstream": "default", "role": SUPPORT},
    )
    deleted = browser.post(f"{LIST_URL}{row.pk}/delete/", {"post": "yes"})
    bulk = browser.post(
        LIST_URL, {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"}
    )

    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert bulk.status_code == 403
    assert UpstreamAccess.objects.get(pk=row.pk).role == OWNER


def test_an_admin_changes_a_support_row_to_admin(db: None, newcomer: User) -> None:
    _, browser = _staff("adele", ADMIN)
    row = UpstreamAccess.objects.create(user=newcomer, upstream="default", role=SUPPORT)

    response = browser.post(
        f"{LIST_URL}{row.pk}/change/",
        {"user": str(newcomer.pk), "upstream": "default", "role": ADMIN},
    )

    assert response.status_code == 302
    assert UpstreamAccess.objects.get(pk=row.pk).role == ADMIN


def test_an_admin_lists_only_the_rows_of_upstreams_they_administer(
    db: None, newcomer: User
) -> None:
    _, browser = _staff("adele", ADMIN)
    UpstreamAccess.objects.create(user=newcomer, upstream="default", role=SUPPORT)
    hidden = UpstreamAccess.objects.create(user=newcomer, upstream="second", role=SUPPORT)

    listing = browser.get(LIST_URL)
    opened = browser.get(f"{LIST_URL}{hidden.pk}/change/")

    assert listing.status_code == 200
    links = [a.attrs.get("href", "") for a in find_all(listing.content, "a")]
    assert f"{LIST_URL}{hidden.pk}/change/" not in links
    assert opened.status_code == 302  # Django admin: "does not exist", back to the list


def test_support_staff_cannot_open_the_upstream_access_admin(db: None) -> None:
    _, browser = _staff("sid", SUPPORT)

    assert browser.get(LIST_URL).status_code == 403
