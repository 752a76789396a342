"""`client.admin.organization.projects.api_keys.list`: the admin key, the path, paging by the
last key's id, names and owners, raw and streaming responses, errors, and the official wire."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest
import respx

import modelsclient
from modelsclient.types.admin.organization.projects import ProjectAPIKey

from .conftest import Twin, resolve


def key(key_id: str, name: str, owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "organization.project.api_key",
        "id": key_id,
        "name": name,
        "redacted_value": "sk-abc...def",
        "created_at": 1711471533,
        "last_used_at": 1711471534,
        "owner_project_access": "active",
        "owner": owner,
    }


USER = {
    "type": "user",
    "user": {
        "object": "organization.project.user",
        "id": "user_abc",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "role": "owner",
        "created_at": 1711471533,
    },
}
SERVICE = {
    "type": "service_account",
    "service_account": {"id": "svc_acct_1", "name": "support-bot", "role": "member"},
}
PAGES = [[key("key_1", "Backend", USER), key("key_2", "Bot", SERVICE)], [key("key_3", "NB", USER)]]


class KeyServer:
    """Two pages, the second after `after=key_2`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert len(self.requests) <= 5
        index = 1 if request.url.params.get("after") == "key_2" else 0
        data = PAGES[index]
        body = {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"],
            "last_id": data[-1]["id"],
            "has_more": index == 0,
        }
        return httpx.Response(200, json=body, headers={"x-request-id": "req_keys"})


async def collect(iterable: Any) -> list[Any]:
    if hasattr(iterable, "__aiter__"):
        return [item async for item in iterable]
    return list(iterable)


def admin_client(twin: Twin, handler: Any) -> Any:
    return twin.client(handler, admin_api_key="sk-admin-secret")


async def test_listing_keys_walks_every_page_by_the_last_key_id_with_the_admin_key(
    twin: Twin,
) -> None:
    server = KeyServer()
    api = admin_client(twin, server)

    found = await collect(api.admin.organization.projects.api_keys.list("proj_abc", limit=2))

    assert [k.id for k in found] == ["key_1", "key_2", "key_3"]
    assert [r.url.params.get("after") for r in server.requests] == [None, "key_2"]
    assert {r.url.path for r in server.requests} == {"/v1/organization/projects/proj_abc/api_keys"}
    assert {r.headers["authorization"] for r in server.requests} == {"Bearer sk-admin-secret"}


async def test_a_key_has_its_name_and_its_user_or_service_account_owner(twin: Twin) -> None:
    api = admin_client(twin, KeyServer())

    page = await resolve(api.admin.organization.projects.api_keys.list("proj_abc"))

    first, second = page.data
    assert isinstance(first, ProjectAPIKey)
    assert (first.name, first.owner.type, first.owner.user.name) == (
        "Backend",
        "user",
        "Ada Lovelace",
    )
    assert first.owner.user.email == "ada@example.com"
    assert (second.owner.type, second.owner.service_account.name) == (
        "service_account",
        "support-bot",
    )
    assert page.has_more is True


@pytest.mark.parametrize("project_id", ["", ".", ".."])
async def test_an_empty_or_dot_project_id_is_refused_before_any_request(
    twin: Twin, project_id: str
) -> None:
    server = KeyServer()
    api = admin_client(twin, server)

    with pytest.raises(ValueError, match="project_id"):
        await resolve(api.admin.organization.projects.api_keys.list(project_id))
    assert server.requests == []


async def test_a_project_id_stays_one_path_segment(twin: Twin) -> None:
    server = KeyServer()
    api = admin_client(twin, server)

    await resolve(api.admin.organization.projects.api_keys.list("proj/../x"))

    assert server.requests[0].url.raw_path == b"/v1/organization/projects/proj%2F..%2Fx/api_keys"


async def test_the_raw_and_streaming_responses_of_keys(twin: Twin) -> None:
    api = admin_client(twin, KeyServer())
    keys = api.admin.organization.projects.api_keys

    raw = await resolve(keys.with_raw_response.list("proj_abc"))
    stream = keys.with_streaming_response.list("proj_abc")
    if twin.is_async:
        async with stream as response:
            streamed = await response.parse()
    else:
        with stream as response:
            streamed = response.parse()

    assert isinstance(raw, modelsclient.APIResponse)
    assert (raw.status_code, raw.request_id) == (200, "req_keys")
    assert [k.name for k in raw.parse().data] == ["Backend", "Bot"]
    assert [k.id for k in streamed.data] == ["key_1", "key_2"]
    assert response.is_closed


async def test_a_project_key_gets_the_missing_scope_error_as_permission_denied(
    twin: Twin,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        error = {"message": "Missing scopes: api.management.read", "type": "invalid_request_error"}
        return httpx.Response(403, json={"error": error})

    api = admin_client(twin, handler)

    with pytest.raises(modelsclient.PermissionDeniedError):
        await resolve(api.admin.organization.projects.api_keys.list("proj_abc"))


@respx.mock(base_url="https://api.example.test/v1", assert_all_called=True)
def test_the_query_and_headers_match_the_official_package_on_the_wire(
    respx_mock: respx.MockRouter,
) -> None:
    body = {"object": "list", "data": [], "has_more": False}
    route = respx_mock.get("/organization/projects/proj_1/api_keys").respond(json=body)
    options: dict[str, Any] = {
        "api_key": "sk-project",
        "admin_api_key": "sk-admin",
        "base_url": "https://api.example.test/v1",
        "max_retries": 0,
    }

    for make in (openai.OpenAI, modelsclient.OpenAI):
        api: Any = make(**options)
        api.admin.organization.projects.api_keys.list(
            "proj_1", after="key_9", limit=50, owner_project_access="any"
        )

    official, ours = (call.request for call in route.calls)
    assert sorted(ours.url.params.multi_items()) == sorted(official.url.params.multi_items())
    assert ours.url.path == official.url.path
    assert ours.headers["authorization"] == official.headers["authorization"] == "Bearer sk-admin"
