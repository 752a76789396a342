"""Several upstreams side by side: each its own list, roles, cache keys, catalogue and audit.

"default" is the real API (organisation org-a, project proj_a), "second" a compatible server at
another base URL, "proj-b" the same base URL and organisation as default but another project.
All three are mocked at the transport with respx and told apart by URL and OpenAI-Project.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
import respx
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from dashboard.catalogue.models import CatalogueModel
from dashboard.catalogue.sync import refresh
from dashboard.catalogue.tasks import fetch_for
from dashboard.models import AuditEntry, UpstreamAccess
from dashboard.roles import ADMIN, OWNER, SUPPORT, ensure_roles
from dashboard.upstreams import get_upstream
from tests.markup import find_all

from .conftest import REAL_API_BASE, REAL_API_KEY

SECOND_BASE = "https://second.example.test/v1"
SECOND_KEY = "sk-second-SECRET-0123456789"
ORG, PROJECT_A, PROJECT_B = "org-a", "proj_a", "proj_b"


def _model(model_id: str, owned_by: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_700_000_000, "owned_by": owned_by}


MODELS = {
    "default": [_model("gpt-4o", "system"), _model("ft:gpt-4o:org-a:only-default:X1", "org-a")],
    "second": [_model("llama-3.1-8b", "vllm"), _model("qwen2.5-7b", "vllm")],
    "proj-b": [_model("ft:gpt-4o:org-a:only-proj-b:Y2", "org-a")],
}


LIST_URLS = {"default": REAL_API_BASE, "second": SECOND_BASE, "proj-b": REAL_API_BASE}
PROJECTS = {"default": PROJECT_A, "proj-b": PROJECT_B}


@pytest.fixture
def upstream_api(settings: Any, db: None) -> Iterator[respx.MockRouter]:
    """Three upstreams configured; their list routes answer their own models."""
    settings.OPENAI_API_KEY = REAL_API_KEY
    settings.OPENAI_BASE_URL = REAL_API_BASE
    settings.OPENAI_ORG_ID = ORG
    settings.OPENAI_PROJECT_ID = PROJECT_A
    settings.UPSTREAMS = {
        "second": {"BASE_URL": SECOND_BASE, "API_KEY": SECOND_KEY, "LABEL": "Second server"},
        "proj-b": {
            "BASE_URL": REAL_API_BASE, "API_KEY": REAL_API_KEY, "ORGANIZATION": ORG,
            "PROJECT": PROJECT_B,
        },
    }  # fmt: skip
    with respx.mock(assert_all_called=False) as router:
        for alias, base in LIST_URLS.items():
            headers = {"OpenAI-Project": PROJECTS[alias]} if alias in PROJECTS else {}
            router.get(f"{base}/models", headers=headers, name=f"list-{alias}").respond(
                json={"object": "list", "data": MODELS[alias]}
            )
        yield router


def _user(username: str, group: str | None, **access: str) -> Client:
    """A signed-in user in `group` (the default upstream's role) with UpstreamAccess rows."""
    ensure_roles()
    user = User.objects.create_user(username=username, password="pw-" + username)
    if group:
        user.groups.set([Group.objects.get(name=group)])
    for alias, role in access.items():
        UpstreamAccess.objects.create(user=user, upstream=alias.replace("_", "-"), role=role)
    browser = Client()
    browser.force_login(user)
    return browser


@pytest.fixture
def root(db: None) -> Client:
    User.objects.create_superuser("root", password="pw-root")
    browser = Client()
    browser.login(username="root", password="pw-root")
    return browser


def _listed_ids(html: bytes, alias: str) -> set[str]:
    """The model ids the list page links to on this upstream."""
    prefix = f"/u/{alias}/models/"
    return {
        link.attrs["href"].removeprefix(prefix).strip("/")
        for link in find_all(html, "a")
        if (link.attrs.get("href") or "").startswith(prefix)
        and link.attrs["href"].rstrip("/") != prefix.rstrip("/")
        and "?" not in link.attrs["href"]
        and link.attrs["href"].endswith("/")  # not the list's exports (export.csv, …)
        and not link.attrs["href"].endswith("/delete/")
    }


class _SwitcherLinks(HTMLParser):
    """The links inside the header's `<nav aria-label="Upstreams">`."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "nav" and (self.depth or found.get("aria-label") == "Upstreams"):
            self.depth += 1
        elif tag == "a" and self.depth:
            self.hrefs.append(found.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.depth:
            self.depth -= 1


def _switcher_aliases(html: bytes) -> list[str]:
    """The upstreams the header's switcher offers (empty when there is none)."""
    parser = _SwitcherLinks()
    parser.feed(html.decode())
    return [href.split("/")[2] for href in parser.hrefs]


# --- lists side by side ----------------------------------------------------------------------


def test_each_upstream_lists_its_own_models_side_by_side(
    upstream_api: respx.MockRouter, root: Client
) -> None:
    for alias, models in MODELS.items():
        response = root.get(reverse("model-list", args=[alias]))

        assert response.status_code == 200
        assert _listed_ids(response.content, alias) == {m["id"] for m in models}


def test_each_upstream_is_called_with_its_own_key_and_project(
    upstream_api: respx.MockRouter, root: Client
) -> None:
    for alias in MODELS:
        assert root.get(reverse("model-list", args=[alias])).status_code == 200

    sent = {
        alias: upstream_api.routes[f"list-{alias}"].calls.last.request.headers for alias in MODELS
    }
    assert sent["default"]["authorization"] == f"Bearer {REAL_API_KEY}"
    assert sent["default"]["openai-project"] == PROJECT_A
    assert sent["proj-b"]["openai-project"] == PROJECT_B
    assert sent["proj-b"]["openai-organization"] == ORG
    assert sent["second"]["authorization"] == f"Bearer {SECOND_KEY}"
    assert "openai-project" not in sent["second"]


def test_an_unknown_alias_is_not_found(upstream_api: respx.MockRouter, root: Client) -> None:
    response = root.get("/u/nowhere/models/")

    assert response.status_code == 404
    assert all(route.call_count == 0 for route in upstream_api.routes)


# --- permissions per upstream ----------------------------------------------------------------


def test_an_owner_of_second_who_is_support_on_default_cannot_delete_on_default(
    upstream_api: respx.MockRouter,
) -> None:
    browser = _user("mixed", SUPPORT, second=OWNER)
    delete = upstream_api.delete(f"{REAL_API_BASE}/models/gpt-4o")

    response = browser.post(
        reverse("model-delete", args=["default", "gpt-4o"]), {"confirm_id": "gpt-4o"}
    )

    assert response.status_code == 403
    assert delete.call_count == 0


def test_an_owner_of_second_who_is_support_on_default_deletes_on_second(
    upstream_api: respx.MockRouter,
) -> None:
    browser = _user("mixed", SUPPORT, second=OWNER)
    upstream_api.get(f"{SECOND_BASE}/models/llama-3.1-8b").respond(json=MODELS["second"][0])
    delete = upstream_api.delete(f"{SECOND_BASE}/models/llama-3.1-8b").mock(
        return_value=httpx.Response(
            200, json={"id": "llama-3.1-8b", "object": "model", "deleted": True}
        )
    )

    response = browser.post(
        reverse("model-delete", args=["second", "llama-3.1-8b"]), {"confirm_id": "llama-3.1-8b"}
    )

    assert response.status_code in (302, 303)
    assert delete.call_count == 1
    assert delete.calls.last.request.headers["authorization"] == f"Bearer {SECOND_KEY}"
    entry = AuditEntry.objects.get()
    assert (entry.upstream_alias, entry.username, entry.outcome) == (
        "second",
        "mixed",
        AuditEntry.Outcome.DELETED,
    )


def test_a_user_without_access_to_second_is_refused_there_without_an_upstream_call(
    upstream_api: respx.MockRouter,
) -> None:
    browser = _user("sam", OWNER)  # Owner of the default upstream only

    response = browser.get(reverse("model-list", args=["second"]))

    assert response.status_code == 403
    assert upstream_api.routes["list-second"].call_count == 0


def test_the_switcher_offers_only_the_upstreams_the_user_may_see(
    upstream_api: respx.MockRouter,
) -> None:
    browser = _user("pat", SUPPORT, proj_b=SUPPORT)

    response = browser.get(reverse("model-list", args=["default"]))

    assert response.status_code == 200
    assert _switcher_aliases(response.content) == ["default", "proj-b"]


def test_a_superuser_sees_every_upstream(upstream_api: respx.MockRouter, root: Client) -> None:
    response = root.get(reverse("model-list", args=["second"]))

    assert response.status_code == 200
    assert {"default", "second", "proj-b"} <= set(_switcher_aliases(response.content))


# --- cache keys and the catalogue ------------------------------------------------------------


def test_cache_keys_differ_for_the_same_base_url_with_another_project_or_organisation(
    upstream_api: respx.MockRouter,
) -> None:
    default, proj_b = get_upstream("default"), get_upstream("proj-b")

    assert default.base_url == proj_b.base_url
    assert default.cache_key != proj_b.cache_key
    assert default.cache_key != replace(default, organization="org-other").cache_key
    assert default.cache_key != replace(default, project=None).cache_key
    assert default.cache_key != replace(default, alias="copy").cache_key
    assert default.cache_key == replace(default, name="a new label").cache_key


def test_the_catalogue_keeps_each_upstreams_models_under_its_alias(
    upstream_api: respx.MockRouter,
) -> None:
    for alias in MODELS:
        refresh(alias, fetch_for(alias))

    stored = {
        alias: set(CatalogueModel.objects.filter(upstream=alias).values_list("model_id", flat=True))
        for alias in MODELS
    }
    assert stored == {alias: {m["id"] for m in models} for alias, models in MODELS.items()}


# --- the URLs from before several upstreams --------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("/models/?q=gpt", "/u/default/models/?q=gpt"),
        ("/models/gpt-4o/", "/u/default/models/gpt-4o/"),
        ("/models/gpt-4o/delete/", "/u/default/models/gpt-4o/delete/"),
    ],
)
def test_the_old_urls_lead_to_the_default_upstream_with_a_307(
    upstream_api: respx.MockRouter, root: Client, old: str, new: str
) -> None:
    response = root.get(old)

    assert response.status_code == 307
    assert response["Location"] == new


def test_an_old_delete_form_is_posted_again_to_the_default_upstream(
    upstream_api: respx.MockRouter, root: Client
) -> None:
    response = root.post("/models/gpt-4o/delete/", {"confirm_id": "gpt-4o"})

    assert response.status_code == 307  # the browser repeats the POST at the new address
    assert response["Location"] == "/u/default/models/gpt-4o/delete/"
    assert AuditEntry.objects.count() == 0


# --- the audit log per upstream --------------------------------------------------------------


@pytest.fixture
def audit_entries(db: None) -> None:
    for alias in ("default", "second", "proj-b"):
        AuditEntry.objects.create(
            username="olivia",
            model_id=f"ft:model-on-{alias}",
            upstream=alias,
            upstream_alias=alias,
            outcome=AuditEntry.Outcome.DELETED,
        )


def _audited_models(response: Any) -> set[str]:
    return {
        cell.text.strip()
        for cell in find_all(response.content, "td")
        if cell.text.strip().startswith("ft:model-on-")
    }


def test_the_audit_log_shows_only_the_upstreams_the_reader_is_admin_or_owner_of(
    upstream_api: respx.MockRouter, audit_entries: None
) -> None:
    browser = _user("adam", SUPPORT, second=ADMIN, proj_b=OWNER)

    response = browser.get(reverse("audit-log"))

    assert response.status_code == 200
    assert _audited_models(response) == {"ft:model-on-second", "ft:model-on-proj-b"}


def test_the_audit_log_filters_by_upstream(
    upstream_api: respx.MockRouter, audit_entries: None, root: Client
) -> None:
    response = root.get(reverse("audit-log"), {"upstream": "second"})

    assert _audited_models(response) == {"ft:model-on-second"}


def test_the_audit_log_ignores_a_filter_on_an_upstream_the_reader_may_not_read(
    upstream_api: respx.MockRouter, audit_entries: None
) -> None:
    browser = _user("adam", SUPPORT, second=ADMIN)

    response = browser.get(reverse("audit-log"), {"upstream": "default"})

    assert _audited_models(response) == {"ft:model-on-second"}


def test_the_audit_log_is_refused_to_a_reader_who_is_admin_nowhere(
    upstream_api: respx.MockRouter, audit_entries: None
) -> None:
    browser = _user("sam", SUPPORT, second=SUPPORT)

    assert browser.get(reverse("audit-log")).status_code == 403
