"""`GET /organization/projects/{project_id}/api_keys`: one API key of a project, its name and
its owner (a user or a service account), as `openai.types.admin.organization.projects.
project_api_key` has them. Fields a server leaves out are None rather than an error."""

from __future__ import annotations

from typing import Literal

from .... import BaseModel

__all__ = ["Owner", "OwnerServiceAccount", "OwnerUser", "ProjectAPIKey"]


class OwnerServiceAccount(BaseModel):
    """The service account that owns a project API key."""

    id: str
    created_at: int | None = None
    name: str | None = None
    role: str | None = None


class OwnerUser(BaseModel):
    """The user that owns a project API key."""

    id: str
    created_at: int | None = None
    email: str | None = None
    name: str | None = None
    role: str | None = None


class Owner(BaseModel):
    """Who owns the key: `type` says which of `user` / `service_account` is set."""

    service_account: OwnerServiceAccount | None = None
    type: Literal["user", "service_account"] | None = None
    user: OwnerUser | None = None


class ProjectAPIKey(BaseModel):
    """An API key of a project (its value only redacted)."""

    id: str
    created_at: int | None = None
    last_used_at: int | None = None
    name: str | None = None
    object: Literal["organization.project.api_key"] = "organization.project.api_key"
    owner: Owner | None = None
    owner_project_access: Literal["active", "inactive"] | None = None
    redacted_value: str | None = None
