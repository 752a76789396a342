"""Every URL × every role × every HTTP method, against ONE table of expected outcomes.

The URLs come from the URL configuration itself: a URL added without a row in `TABLE` fails
`test_every_url_has_a_row_in_the_table` (and its cells fail to look up their row). Includes
(other apps' URL trees) are listed in `LEFT_OUT` with the reason, or fail too.

The dashboard talks to a mocked "real" upstream. Refused cells (sign in, 401, 403, 405) make no
upstream call at all; no cell sends a DELETE upstream except the owner's confirmed delete.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import respx
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from dashboard.cleanup.models import DeletionJob, DeletionRequest, JobItem
from dashboard.models import AuditEntry

FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:matrix:Mx12Ab34"
JOB = 4242  # a deletion job ready to confirm, over FINE_TUNE (see `sample_job`)
SAMPLE_ARGS = {"alias": "default", "model_id": FINE_TUNE, "pk": JOB, "fmt": "csv"}
MODEL = {"id": FINE_TUNE, "object": "model", "created": 1_720_000_000, "owned_by": "acme"}

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CONFIRMED = "POST confirmed"  # a POST whose body confirms the delete (typed id = model id)
ROLES = ("anonymous", "support", "admin", "owner")


@dataclass(frozen=True)
class Redirect:
    to: str
    prefix: bool = False  # `to` is the start of the Location, not all of it
    status: int | None = None  # a 301/302 unless said


LOGIN = Redirect("/login/?next=", prefix=True)  # the sign-in page, then back (401 for htmx)
TO_LIST = Redirect("/u/default/models/")
MOVED = Redirect("/u/default/models/", prefix=True, status=307)  # the old URLs, method kept
TO_SIGN_IN = Redirect("/login/")
TO_SHUTDOWNS = Redirect("/u/default/shutdowns/")
TO_HOME = Redirect("/")
TO_JOB = Redirect(f"/u/default/jobs/{JOB}/")
NEW_JOB = Redirect("/u/default/jobs/", prefix=True)  # an approved request's new job
FAVICON = Redirect("/static/favicon", prefix=True)
Expected = int | Redirect
Row = dict[str, tuple[Expected, Expected, Expected, Expected]]  # method -> anonymous..owner


def _row(
    safe: tuple[Expected, Expected, Expected, Expected],
    other: tuple[Expected, Expected, Expected, Expected],
    **methods: tuple[Expected, Expected, Expected, Expected],
) -> Row:
    """GET and HEAD answer `safe`, every other method `other`, unless named in `methods`."""
    row: Row = dict.fromkeys(METHODS, other)
    row["GET"] = row["HEAD"] = safe
    row.update({name.replace("_", " "): cells for name, cells in methods.items()})
    return row


SIGNED_IN_ONLY_405 = (LOGIN, 405, 405, 405)
PUBLIC_405 = (405, 405, 405, 405)

#                     anonymous  support   admin     owner
TABLE: dict[str, Row] = {
    "": _row((LOGIN, TO_LIST, TO_LIST, TO_LIST), SIGNED_IN_ONLY_405),
    "models/": _row((LOGIN, MOVED, MOVED, MOVED), SIGNED_IN_ONLY_405, POST=(LOGIN, *[MOVED] * 3)),
    "models/<modelid:model_id>/": _row(
        (LOGIN, MOVED, MOVED, MOVED), SIGNED_IN_ONLY_405, POST=(LOGIN, *[MOVED] * 3)
    ),
    "models/<modelid:model_id>/delete/": _row(
        (LOGIN, MOVED, MOVED, MOVED),
        SIGNED_IN_ONLY_405,
        POST=(LOGIN, *[MOVED] * 3),
        POST_confirmed=(LOGIN, *[MOVED] * 3),  # moved, not acted on: nothing deleted
    ),
    "u/<upstream:alias>/models/": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    "u/<upstream:alias>/models/<modelid:model_id>/": _row(
        (LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405
    ),
    "u/<upstream:alias>/models/<modelid:model_id>/delete/": _row(
        (LOGIN, 403, 403, 200),
        SIGNED_IN_ONLY_405,
        POST=(LOGIN, 403, 403, 422),  # the typed id is not the model's: nothing deleted
        POST_confirmed=(LOGIN, 403, 403, TO_LIST),  # the one cell that deletes upstream
    ),
    "u/<upstream:alias>/models/export.csv": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    "u/<upstream:alias>/models/export.json": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    "u/<upstream:alias>/copy-status/": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    # Shutdowns: everyone who sees the upstream looks; owners select a day's fine-tunes (the
    # POST lacks the day: back to the page, nothing selected).
    "u/<upstream:alias>/shutdowns/": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    "u/<upstream:alias>/shutdowns/select/": _row(
        SIGNED_IN_ONLY_405,
        SIGNED_IN_ONLY_405,
        POST=(LOGIN, 403, 403, TO_SHUTDOWNS),
        POST_confirmed=(LOGIN, 403, 403, TO_SHUTDOWNS),
    ),
    # Deletion jobs: admins look, owners act; support has no access. No cell calls upstream
    # (creating and confirming only queue work; the owner's POSTs lack what they need).
    "u/<upstream:alias>/jobs/": _row((LOGIN, 403, 200, 200), SIGNED_IN_ONLY_405),
    "u/<upstream:alias>/jobs/new/": _row(
        SIGNED_IN_ONLY_405,
        SIGNED_IN_ONLY_405,
        POST=(LOGIN, 403, 403, TO_LIST),
        POST_confirmed=(LOGIN, 403, 403, TO_LIST),
    ),
    "u/<upstream:alias>/jobs/<int:pk>/": _row((LOGIN, 403, 200, 200), SIGNED_IN_ONLY_405),
    **{
        f"u/<upstream:alias>/jobs/<int:pk>/{action}/": _row(
            SIGNED_IN_ONLY_405,
            SIGNED_IN_ONLY_405,
            POST=(LOGIN, 403, 403, TO_JOB),
            POST_confirmed=(LOGIN, 403, 403, TO_JOB),
        )
        for action in ("check", "drop", "confirm", "cancel", "retry")
    },
    "u/<upstream:alias>/jobs/<int:pk>/ledger.<str:fmt>": _row(
        (LOGIN, 403, 200, 200), SIGNED_IN_ONLY_405
    ),
    # Selection: everyone who sees the upstream selects; without `return_to`, back to the list.
    "u/<upstream:alias>/selection/": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    **{
        f"u/<upstream:alias>/selection/{action}/": _row(
            SIGNED_IN_ONLY_405, SIGNED_IN_ONLY_405, POST=(LOGIN, TO_LIST, TO_LIST, TO_LIST)
        )
        for action in ("tick", "matching", "remove", "clear")
    },
    # Requests: asked by those who may not delete (POST: no reason, nothing selected), seen by
    # the requester (`rita`, no role here) and owners, decided by owners only.
    "u/<upstream:alias>/requests/new/": _row(
        (LOGIN, 200, 200, 403), SIGNED_IN_ONLY_405, POST=(LOGIN, 422, 422, 403)
    ),
    "u/<upstream:alias>/requests/<int:pk>/": _row((LOGIN, 403, 403, 200), SIGNED_IN_ONLY_405),
    "u/<upstream:alias>/requests/<int:pk>/approve/": _row(
        SIGNED_IN_ONLY_405, SIGNED_IN_ONLY_405, POST=(LOGIN, 403, 403, NEW_JOB)
    ),
    "u/<upstream:alias>/requests/<int:pk>/reject/": _row(
        SIGNED_IN_ONLY_405,
        SIGNED_IN_ONLY_405,
        POST=(LOGIN, 403, 403, 422),  # no comment
    ),
    "u/<upstream:alias>/requests/<int:pk>/withdraw/": _row(
        SIGNED_IN_ONLY_405,
        SIGNED_IN_ONLY_405,
        POST=(LOGIN, 403, 403, 403),  # not the requester
    ),
    "requests/": _row((LOGIN, 403, 403, 200), SIGNED_IN_ONLY_405),
    "requests/mine/": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    "changes/": _row((LOGIN, 200, 200, 200), SIGNED_IN_ONLY_405),
    "audit/": _row((LOGIN, 403, 200, 200), SIGNED_IN_ONLY_405),
    "login/": _row(
        (200, TO_HOME, TO_HOME, TO_HOME),  # signed in already: home, then their upstream
        PUBLIC_405,
        POST=(200, 200, 200, 200),  # no username or password: the form again, with errors
    ),
    "logout/": _row(SIGNED_IN_ONLY_405, SIGNED_IN_ONLY_405, POST=(LOGIN, *[TO_SIGN_IN] * 3)),
    "favicon.ico": _row((FAVICON,) * 4, PUBLIC_405),
    "healthz": _row((200,) * 4, PUBLIC_405),
    "readyz": _row((200,) * 4, PUBLIC_405),
}

LEFT_OUT = {
    "admin": "Django's admin: its own login and permission checks per view; the user admin's "
    "rules are tested in test_admin_users.py and test_admin_protections.py",
    "sandbox": "the embedded upstream API: an API key, not a session or a role, decides, and it "
    "answers with OpenAI's error shapes; tested in test_sandbox_api.py",
}


def _urlconf() -> tuple[dict[str, str], list[str]]:
    """Route -> sample URL for every URL pattern (those of the project's own includes too,
    e.g. the cleanup app's under `u/<upstream:alias>/`); the namespaces of other includes."""
    urls: dict[str, str] = {}
    includes: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                module = getattr(entry.urlconf_name, "__name__", str(entry.urlconf_name))
                if entry.namespace is None and module.startswith("dashboard."):
                    walk(entry.url_patterns, prefix + str(entry.pattern))
                else:
                    includes.append(entry.namespace or str(entry.pattern))
                continue
            route = prefix + str(entry.pattern)
            names = re.findall(r"<(?:\w+:)?(\w+)>", route)
            kwargs = {name: SAMPLE_ARGS[name] for name in names}
            urls[route] = reverse(entry.name, kwargs=kwargs) if entry.name else "/" + route

    walk(get_resolver().url_patterns, "")
    return urls, includes


URLS, INCLUDES = _urlconf()
CELLS = [
    (route, role, method)
    for route in URLS
    for role in (*ROLES, "anonymous htmx")
    for method in TABLE.get(route, dict.fromkeys(METHODS))
]


def test_every_url_has_a_row_in_the_table() -> None:
    assert sorted(URLS) == sorted(TABLE), "a URL without a row (or a row without a URL)"
    for route, row in TABLE.items():
        assert set(METHODS) <= set(row) <= {*METHODS, CONFIRMED}, route


def test_every_include_left_out_says_why() -> None:
    assert set(INCLUDES) <= set(LEFT_OUT), "an include that is neither in the table nor left out"


@pytest.fixture
def upstream(real_api: respx.MockRouter) -> dict[str, respx.Route]:
    """The mocked API: the list, the fine-tune, its delete; anything else is a 404 (counted)."""
    return {
        "list": real_api.get("/models").respond(json={"object": "list", "data": [MODEL]}),
        "retrieve": real_api.get(f"/models/{FINE_TUNE}").respond(json=MODEL),
        "delete": real_api.delete(f"/models/{FINE_TUNE}").respond(
            json={"id": FINE_TUNE, "object": "model", "deleted": True},
            headers={"x-request-id": "req_matrix"},
        ),
        "other": real_api.route().respond(404, json={"error": {"message": "no such thing"}}),
    }


@pytest.fixture
def sample_job(owner: Client) -> DeletionJob:
    """Job JOB, checked and ready: one model to delete (FINE_TUNE)."""
    olivia = User.objects.get(username="olivia")
    job = DeletionJob.objects.create(
        pk=JOB, upstream="default", created_by=olivia, created_by_name="olivia", status="ready"
    )
    JobItem.objects.create(
        job=job, upstream="default", model_id=FINE_TUNE, position=0, verdict="ready"
    )
    return job


@pytest.fixture
def sample_request(db: None) -> DeletionRequest:
    """Request JOB (SAMPLE_ARGS' pk), pending, asked by a user with no role on the upstream."""
    rita = User.objects.create_user("rita")
    return DeletionRequest.objects.create(
        pk=JOB,
        upstream="default",
        requested_by=rita,
        requested_by_name="rita",
        reason="matrix",
        model_ids=[FINE_TUNE],
    )


def _browser(role: str, request: pytest.FixtureRequest) -> Client:
    if role.startswith("anonymous"):
        return Client()
    fixture = {"support": "support", "admin": "team_admin", "owner": "owner"}[role]
    browser: Client = request.getfixturevalue(fixture)
    return browser


@pytest.mark.parametrize(("route", "role", "method"), CELLS)
def test_every_url_role_and_method_answers_as_the_table_says(
    route: str,
    role: str,
    method: str,
    request: pytest.FixtureRequest,
    upstream: dict[str, respx.Route],
    real_api: respx.MockRouter,
    db: None,
) -> None:
    if "<int:pk>" in route:  # the job and the request the URL names (only where one does)
        request.getfixturevalue("sample_job")
        request.getfixturevalue("sample_request")
    htmx = role == "anonymous htmx"
    expected = TABLE[route][method][ROLES.index(role.removesuffix(" htmx"))]
    browser = _browser(role, request)
    typed = FINE_TUNE if method == CONFIRMED else "not-this-model"
    verb = "POST" if method == CONFIRMED else method
    send = getattr(browser, verb.lower())
    headers = {"HX-Request": "true"} if htmx else {}
    if verb in {"GET", "HEAD", "OPTIONS"}:
        response = send(URLS[route], headers=headers)
    elif verb == "POST":
        response = send(URLS[route], {"confirm_id": typed}, headers=headers)
    else:  # the confirmation in the body too: the method alone must be refused
        response = send(
            URLS[route],
            f"confirm_id={FINE_TUNE}",
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )

    if expected == LOGIN and htmx:
        assert response.status_code == 401
        assert response["HX-Redirect"].startswith("/login/?next=")
    elif isinstance(expected, Redirect):
        assert response.status_code in ({expected.status} if expected.status else {301, 302})
        location = response["Location"]
        assert location.startswith(expected.to) if expected.prefix else location == expected.to
    else:
        assert response.status_code == expected
    allowed_delete = (
        role == "owner"
        and method == CONFIRMED
        and route.startswith("u/")
        and route.endswith("/delete/")
    )
    assert upstream["delete"].call_count == (1 if allowed_delete else 0)
    if expected in (LOGIN, 401, 403, 405):
        assert real_api.calls.call_count == 0, "a refused request reached the upstream"
    deleted = AuditEntry.objects.filter(action="delete").exclude(outcome=AuditEntry.Outcome.DENIED)
    assert deleted.count() == (1 if allowed_delete else 0)
