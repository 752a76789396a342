"""/models/<id>/delete/: confirm, role check before upstream, audit intent then outcome."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dashboard.catalogue.models import CatalogueModel
from dashboard.models import AuditEntry

FINE_TUNE = "ft:gpt-4o-mini-2024-07-18:acme:triage:Ab12Cd34"
SLASHED = "acme/llama-3.1-8b-support"
MODELS = [
    {"id": SLASHED, "object": "model", "created": 1_700_000_000, "owned_by": "acme"},
    {"id": FINE_TUNE, "object": "model", "created": 1_710_000_000, "owned_by": "acme"},
    {"id": "gpt-4o", "object": "model", "created": 1_690_000_000, "owned_by": "system"},
    {"id": "gpt-4", "object": "model", "created": 1_680_000_000, "owned_by": "openai"},
]
DELETED_HEADERS = {"x-request-id": "req_delete_ok_42"}


def _url(model_id: str) -> str:
    return reverse("model-delete", args=["default", model_id])


def _list_route(real_api: respx.MockRouter) -> respx.Route:
    return real_api.get("/models").respond(
        json={"object": "list", "data": MODELS}, headers={"x-request-id": "req_list"}
    )


def _delete_route(real_api: respx.MockRouter, model_id: str) -> respx.Route:
    return real_api.delete(f"/models/{model_id}")


def _deleted(model_id: str) -> httpx.Response:
    body = {"id": model_id, "object": "model", "deleted": True}
    return httpx.Response(200, json=body, headers=DELETED_HEADERS)


def _cache_the_list(browser: Client) -> None:
    assert browser.get(reverse("model-list", args=["default"])).status_code == 200


def _confirm(model_id: str, **extra: str) -> dict[str, str]:
    return {"confirm_id": model_id, **extra}


# --- GET: the confirmation -------------------------------------------------------------------


def test_delete_page_explains_what_happens_and_asks_for_the_id(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)

    response = owner.get(_url(FINE_TUNE))

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "This cannot be undone." in html
    assert "deleted for the whole organisation" in html
    assert 'name="confirm_id"' in html
    assert f'Type <span class="mono">{FINE_TUNE}</span> to confirm' in html
    assert 'method="post"' in html


def test_delete_page_via_htmx_is_only_the_dialog_fragment(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)

    response = owner.get(_url(FINE_TUNE), headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "site-header" not in html
    assert html.strip().startswith('<section class="confirm card">')
    assert 'name="confirm_id"' in html
    assert "This cannot be undone." in html


def test_delete_page_of_an_uncached_model_fetches_it_once_to_show_it(
    owner: Client, real_api: respx.MockRouter
) -> None:
    retrieve = real_api.get(f"/models/{SLASHED}").respond(json=MODELS[0])
    delete = _delete_route(real_api, SLASHED)

    response = owner.get(_url(SLASHED))

    assert response.status_code == 200
    assert retrieve.call_count == 1
    assert retrieve.calls.last.request.url.raw_path == b"/v1/models/acme%2Fllama-3.1-8b-support"
    assert delete.call_count == 0
    assert 'Owned by <span class="mono">acme</span>' in response.content.decode()


# --- POST by the owner -----------------------------------------------------------------------


def test_delete_by_owner_calls_upstream_once_on_the_encoded_path(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    route = _delete_route(real_api, SLASHED).mock(return_value=_deleted(SLASHED))

    response = owner.post(_url(SLASHED), _confirm(SLASHED))

    assert response.status_code in (302, 303)
    assert route.call_count == 1
    request = route.calls.last.request
    assert request.method == "DELETE"
    assert request.url.host == "api.example.test"
    assert request.url.raw_path == b"/v1/models/acme%2Fllama-3.1-8b-support"


def test_delete_by_owner_writes_one_audit_row_with_intent_and_outcome(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE))

    entry = AuditEntry.objects.get()
    assert entry.username == "olivia"
    assert entry.user == User.objects.get(username="olivia")
    assert entry.action == "delete"
    assert entry.model_id == FINE_TUNE
    assert entry.model_snapshot["id"] == FINE_TUNE
    assert entry.model_snapshot["owned_by"] == "acme"
    assert entry.model_snapshot["created"] == 1_710_000_000
    assert entry.upstream == "https://api.example.test/v1"
    assert entry.outcome == AuditEntry.Outcome.DELETED
    assert entry.upstream_status == 200
    assert entry.upstream_request_id == "req_delete_ok_42"
    assert entry.finished_at is not None
    assert entry.finished_at >= entry.created_at


def test_delete_by_owner_redirects_to_next_and_says_it_worked(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))
    next_url = "/u/default/models/?q=triage&sort=id"

    response = owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE, next=next_url))

    assert response.status_code in (302, 303)
    assert response["Location"] == next_url
    followed = owner.get(response["Location"])
    assert followed.status_code == 200
    assert f'<div class="alert alert--success">Deleted {FINE_TUNE}.</div>' in (
        followed.content.decode()
    )


def test_deleted_model_leaves_the_cached_list_without_another_list_call(
    owner: Client, real_api: respx.MockRouter
) -> None:
    listing = _list_route(real_api)
    _cache_the_list(owner)
    assert FINE_TUNE in owner.get(reverse("model-list", args=["default"])).content.decode()
    _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE), follow=True)  # consumes the message
    html = owner.get(reverse("model-list", args=["default"])).content.decode()

    assert FINE_TUNE not in html
    assert SLASHED in html
    assert listing.call_count == 1


def test_audit_intent_is_written_before_upstream_is_called(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    seen_by_upstream: list[list[tuple[str, str]]] = []

    def upstream_delete(request: httpx.Request) -> httpx.Response:
        rows = AuditEntry.objects.filter(model_id=FINE_TUNE).values_list("username", "outcome")
        seen_by_upstream.append(list(rows))
        return _deleted(FINE_TUNE)

    _delete_route(real_api, FINE_TUNE).mock(side_effect=upstream_delete)

    owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE))

    assert seen_by_upstream == [[("olivia", AuditEntry.Outcome.PENDING)]]
    assert AuditEntry.objects.get().outcome == AuditEntry.Outcome.DELETED


def test_a_crash_between_intent_and_outcome_leaves_the_pending_intent(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    route = _delete_route(real_api, FINE_TUNE).mock(side_effect=RuntimeError("worker killed"))

    with pytest.raises(RuntimeError, match="worker killed"):
        owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE))

    assert route.call_count == 1
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.PENDING
    assert entry.username == "olivia"
    assert entry.model_id == FINE_TUNE
    assert entry.model_snapshot["owned_by"] == "acme"
    assert entry.finished_at is None


# --- Refused before any upstream call --------------------------------------------------------


@pytest.mark.parametrize(("role", "username"), [("team_admin", "adam"), ("support", "sam")])
def test_delete_by_admin_or_support_is_refused_without_calling_upstream(
    role: str, username: str, request: pytest.FixtureRequest, real_api: respx.MockRouter
) -> None:
    browser: Client = request.getfixturevalue(role)
    _list_route(real_api)
    _cache_the_list(browser)
    route = _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    response = browser.post(_url(FINE_TUNE), _confirm(FINE_TUNE))

    assert response.status_code == 403
    assert "Only owners may delete models." in response.content.decode()
    assert route.call_count == 0
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.DENIED
    assert entry.username == username
    assert entry.model_id == FINE_TUNE
    assert entry.upstream_status is None


@pytest.mark.parametrize("role", ["team_admin", "support"])
def test_delete_page_is_forbidden_to_admin_and_support(
    role: str, request: pytest.FixtureRequest, real_api: respx.MockRouter
) -> None:
    browser: Client = request.getfixturevalue(role)
    retrieve = real_api.get(f"/models/{FINE_TUNE}").respond(json=MODELS[1])

    response = browser.get(_url(FINE_TUNE))
    fragment = browser.get(_url(FINE_TUNE), headers={"HX-Request": "true"})

    assert response.status_code == 403
    assert 'name="confirm_id"' not in response.content.decode()
    assert fragment.status_code == 403
    assert "<html" not in fragment.content.decode()
    assert retrieve.call_count == 0
    assert not AuditEntry.objects.exists()


def test_delete_with_a_wrong_typed_id_is_refused_and_deletes_nothing(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    route = _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    response = owner.post(_url(FINE_TUNE), _confirm("ft:gpt-4o-mini-2024-07-18:acme:triage"))

    assert response.status_code == 422
    html = response.content.decode()
    assert "Nothing was deleted." in html
    assert 'aria-invalid="true"' in html
    assert route.call_count == 0
    assert not AuditEntry.objects.exists()
    assert FINE_TUNE in owner.get(reverse("model-list", args=["default"])).content.decode()


def test_delete_with_an_empty_typed_id_is_refused(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    route = _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    response = owner.post(_url(FINE_TUNE), {"confirm_id": ""})

    assert response.status_code == 422
    assert route.call_count == 0
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("model_id", ["gpt-4o", "gpt-4"])
def test_delete_of_a_cached_base_model_is_refused_without_calling_upstream(
    model_id: str, owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    route = _delete_route(real_api, model_id).mock(return_value=_deleted(model_id))

    response = owner.post(_url(model_id), _confirm(model_id))

    assert response.status_code == 403
    assert "base models cannot be deleted" in response.content.decode()
    assert route.call_count == 0
    assert AuditEntry.objects.get().outcome == AuditEntry.Outcome.DENIED


@pytest.mark.parametrize("model_id", ["gpt-4o", "gpt-4"])
def test_delete_page_of_a_cached_base_model_offers_no_form(
    model_id: str, owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)

    response = owner.get(_url(model_id))

    html = response.content.decode()
    assert "cannot be deleted" in html
    assert 'name="confirm_id"' not in html
    assert not AuditEntry.objects.exists()


def test_delete_of_an_uncached_base_model_is_refused_after_looking_it_up(
    owner: Client, real_api: respx.MockRouter
) -> None:
    lookup = real_api.get("/models/gpt-4o").respond(
        json={"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "system"}
    )
    route = _delete_route(real_api, "gpt-4o")

    response = owner.post(_url("gpt-4o"), _confirm("gpt-4o"))

    assert response.status_code == 403
    assert lookup.call_count == 1
    assert route.call_count == 0
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.DENIED
    assert "base model" in entry.message


def test_delete_whose_lookup_fails_records_the_upstream_refusal(
    owner: Client, real_api: respx.MockRouter
) -> None:
    error = {
        "error": {
            "message": "You cannot delete the base model 'gpt-4o'.",
            "type": "invalid_request_error",
            "param": "model",
            "code": None,
        }
    }
    listing = _list_route(real_api)  # for the page after the redirect, not before the POST
    real_api.get("/models/gpt-4o").respond(500)  # no snapshot: the delete itself decides
    route = _delete_route(real_api, "gpt-4o").respond(
        403, json=error, headers={"x-request-id": "req_base_403"}
    )

    response = owner.post(_url("gpt-4o"), _confirm("gpt-4o"), follow=True)

    assert response.status_code == 200
    assert route.call_count == 1
    assert listing.call_count == 1
    html = response.content.decode()
    assert "alert--error" in html
    assert (
        "gpt-4o was not deleted: The API refused. "
        "You cannot delete the base model &#x27;gpt-4o&#x27;." in html
    )
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.REFUSED
    assert entry.model_snapshot == {"id": "gpt-4o"}
    assert entry.upstream_status == 403
    assert entry.upstream_request_id == "req_base_403"
    assert (
        entry.message == "The API refused — not deleted. You cannot delete the base model 'gpt-4o'."
    )


# --- Upstream answers something other than "deleted" -----------------------------------------


def test_delete_of_an_already_deleted_model_is_a_warning(
    owner: Client, real_api: respx.MockRouter
) -> None:
    error = {
        "error": {
            "message": f"The model '{FINE_TUNE}' does not exist",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    _list_route(real_api)
    real_api.get(f"/models/{FINE_TUNE}").respond(404, json=error)
    _delete_route(real_api, FINE_TUNE).respond(
        404, json=error, headers={"x-request-id": "req_gone_404"}
    )

    response = owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE), follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<div class="alert alert--warning">{FINE_TUNE} was already gone upstream.</div>' in html
    assert "alert--error" not in html
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.ALREADY_GONE
    assert entry.upstream_status == 404
    assert entry.upstream_request_id == "req_gone_404"


def _api_error(status: int, message: str) -> httpx.Response:
    body = {"error": {"message": message, "type": "server_error", "param": None, "code": None}}
    return httpx.Response(status, json=body, headers={"x-request-id": f"req_err_{status}"})


@pytest.mark.parametrize(
    ("upstream", "outcome", "status", "request_id", "page_text", "checks"),
    [
        (
            _api_error(403, "Missing scopes: api.delete."),
            AuditEntry.Outcome.REFUSED,
            403,
            "req_err_403",
            "was not deleted: The API refused. Missing scopes: api.delete.",
            0,
        ),
        (
            _api_error(500, "The server had an error."),
            AuditEntry.Outcome.FAILED,
            500,
            "req_err_500",
            "was not deleted: The API answered with an error (500). The server had an error. "
            "A check found the model still there.",
            1,
        ),
        (
            httpx.ReadTimeout("read timed out"),
            AuditEntry.Outcome.FAILED,
            None,
            "",
            "was not deleted: The API did not answer in time. No answer within 2 seconds. "
            "A check found the model still there.",
            1,
        ),
        (
            httpx.ConnectError("connection refused"),
            AuditEntry.Outcome.FAILED,
            None,
            "",
            "was not deleted: The API cannot be reached.",
            0,
        ),
    ],
    ids=["403", "500", "timeout", "connection-error"],
)
def test_upstream_failure_is_audited_and_shown_without_a_500_page(
    upstream: httpx.Response | Exception,
    outcome: str,
    status: int | None,
    request_id: str,
    page_text: str,
    checks: int,
    owner: Client,
    real_api: respx.MockRouter,
    settings: Any,
) -> None:
    settings.UPSTREAM_TIMEOUT = 2
    _list_route(real_api)
    _cache_the_list(owner)
    route = _delete_route(real_api, FINE_TUNE).mock(side_effect=[upstream])
    check = real_api.get(f"/models/{FINE_TUNE}").respond(json=MODELS[1])

    response = owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE))
    followed = owner.get(response["Location"])

    assert response.status_code in (302, 303)
    assert route.call_count == 1
    assert check.call_count == checks  # only when the API may have acted on the delete
    assert followed.status_code == 200
    html = followed.content.decode()
    assert f'<div class="alert alert--error">{FINE_TUNE} {page_text}' in html
    assert _listed(FINE_TUNE)  # not deleted: still in the cached list
    entry = AuditEntry.objects.get()
    assert entry.outcome == outcome
    assert entry.upstream_status == status
    assert entry.upstream_request_id == request_id
    assert entry.message
    assert entry.finished_at is not None


def test_upstream_answering_deleted_false_is_recorded_as_refused(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    _delete_route(real_api, FINE_TUNE).respond(
        json={"id": FINE_TUNE, "object": "model", "deleted": False},
        headers={"x-request-id": "req_not_deleted"},
    )

    response = owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE), follow=True)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"{FINE_TUNE} was not deleted (deleted=false)." in html
    assert _listed(FINE_TUNE)  # still in the cached list
    entry = AuditEntry.objects.get()
    assert entry.outcome == AuditEntry.Outcome.REFUSED
    assert entry.upstream_status == 200
    assert entry.upstream_request_id == "req_not_deleted"


def test_double_submit_is_harmless_and_the_second_says_already_gone(
    owner: Client, sandbox: int
) -> None:
    model_id = "acme:100%-recall"

    first = owner.post(_url(model_id), _confirm(model_id), follow=True)
    second = owner.post(_url(model_id), _confirm(model_id), follow=True)

    assert first.status_code == 200
    assert f"Deleted {model_id}." in first.content.decode()
    assert second.status_code == 200
    assert f"{model_id} was already gone upstream." in second.content.decode()
    outcomes = list(AuditEntry.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [AuditEntry.Outcome.DELETED, AuditEntry.Outcome.ALREADY_GONE]


def test_delete_page_of_a_model_that_is_gone_says_so(owner: Client, sandbox: int) -> None:
    response = owner.get(_url("ft:gpt-4o-mini-2024-07-18:acme:nothing:here"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "no longer exists upstream" in html
    assert 'name="confirm_id"' not in html


# --- htmx, next, CSRF ------------------------------------------------------------------------


def test_htmx_delete_from_the_list_triggers_models_changed_with_oob_messages(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    response = owner.post(
        _url(FINE_TUNE),
        _confirm(FINE_TUNE, next="/u/default/models/"),
        headers={
            "HX-Request": "true",
            "HX-Current-URL": "http://testserver/u/default/models/?q=acme",
        },
    )

    assert response.status_code == 200
    assert "models-changed" in response["HX-Trigger"]
    assert "HX-Redirect" not in response
    html = response.content.decode()
    assert 'id="messages"' in html
    assert 'hx-swap-oob="true"' in html
    assert f"Deleted {FINE_TUNE}." in html
    assert AuditEntry.objects.get().outcome == AuditEntry.Outcome.DELETED


def test_htmx_delete_from_the_detail_page_redirects_to_next(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))
    detail = "http://testserver" + reverse("model-detail", args=["default", FINE_TUNE])

    response = owner.post(
        _url(FINE_TUNE),
        _confirm(FINE_TUNE, next="/u/default/models/?sort=id"),
        headers={"HX-Request": "true", "HX-Current-URL": detail},
    )

    assert response["HX-Redirect"] == "/u/default/models/?sort=id"
    assert "HX-Trigger" not in response
    assert AuditEntry.objects.get().outcome == AuditEntry.Outcome.DELETED


def test_next_pointing_to_another_host_is_ignored(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    page = owner.get(_url(FINE_TUNE) + "?next=https://evil.example/")
    response = owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE, next="https://evil.example/"))

    assert "evil.example" not in page.content.decode()
    assert response.status_code in (302, 303)
    assert response["Location"] == "/u/default/models/"


def _csrf_checked_owner(owner: Client) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(User.objects.get(username="olivia"))
    return browser


def test_post_with_the_csrf_token_from_the_page_is_accepted(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    route = _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))
    browser = _csrf_checked_owner(owner)
    browser.get(reverse("model-list", args=["default"]))
    token = browser.cookies["csrftoken"].value

    response = browser.post(_url(FINE_TUNE), _confirm(FINE_TUNE), headers={"X-CSRFToken": token})

    assert response.status_code in (302, 303)
    assert route.call_count == 1


def test_delete_is_not_possible_with_get_or_other_methods(
    owner: Client, real_api: respx.MockRouter
) -> None:
    _list_route(real_api)
    _cache_the_list(owner)
    route = _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    with_query = owner.get(_url(FINE_TUNE) + f"?confirm_id={FINE_TUNE}")
    put = owner.put(_url(FINE_TUNE))

    assert with_query.status_code == 200
    assert put.status_code == 405
    assert route.call_count == 0
    assert not AuditEntry.objects.exists()


def test_delete_with_a_cold_cache_looks_the_model_up_for_the_audit_snapshot(
    owner: Client, real_api: respx.MockRouter
) -> None:
    described = {"id": FINE_TUNE, "object": "model", "created": 1700000000, "owned_by": "acme"}
    lookup = real_api.get(f"/models/{FINE_TUNE}").respond(json=described)
    route = _delete_route(real_api, FINE_TUNE).mock(return_value=_deleted(FINE_TUNE))

    owner.post(_url(FINE_TUNE), _confirm(FINE_TUNE))

    assert lookup.call_count == 1
    assert route.call_count == 1
    entry = AuditEntry.objects.get()
    assert entry.model_snapshot == described
    assert entry.outcome == AuditEntry.Outcome.DELETED


def _listed(model_id: str, alias: str = "default") -> bool:
    """Whether the catalogue still lists the model (present, not gone)."""
    return CatalogueModel.objects.filter(
        upstream=alias, model_id=model_id, gone_at__isnull=True
    ).exists()
