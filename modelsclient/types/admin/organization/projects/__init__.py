"""A project's API keys, as `openai.types.admin.organization.projects` names them."""

from __future__ import annotations

from .project_api_key import Owner, OwnerServiceAccount, OwnerUser, ProjectAPIKey

__all__ = ["Owner", "OwnerServiceAccount", "OwnerUser", "ProjectAPIKey"]
