"""The sandbox's Admin API project keys: names and owners of its three key ids, the admin key
only, `after`/`limit` pages."""

from __future__ import annotations

import pytest

import modelsclient
from dashboard.sandbox.usage import API_KEYS
from dashboard.upstreams import get_client, get_upstream

pytestmark = pytest.mark.django_db


def test_the_sandbox_names_every_key_its_usage_has_with_its_owner(sandbox: int) -> None:
    keys = get_client(get_upstream()).admin.organization.projects.api_keys

    found = {
        key.id: (key.name, key.owner.type if key.owner else None)
        for project in sorted({project for _, project in API_KEYS})
        for key in keys.list(project, limit=1)  # one a page: every page is followed
    }

    assert found == {
        "key_sbxSupportBot0001": ("Support bot", "service_account"),
        "key_sbxBackend000002": ("Backend (production)", "user"),
        "key_sbxNotebook00003": ("Notebook experiments", "user"),
    }


def test_the_sandbox_refuses_project_keys_and_unknown_projects(sandbox: int) -> None:
    project_key = modelsclient.Client(
        api_key="sk-sandbox-owner",
        admin_api_key="sk-sandbox-owner",
        base_url=get_upstream().base_url,
        http_client=get_client(get_upstream())._http,
        max_retries=0,
    )
    admin = get_client(get_upstream()).admin.organization.projects.api_keys

    with pytest.raises(modelsclient.AuthenticationError, match="api.management.read"):
        project_key.admin.organization.projects.api_keys.list("proj_sandbox_main")
    with pytest.raises(modelsclient.NotFoundError):
        admin.list("proj_nope")
