"""Upstreams, configured like Django's `DATABASES`: an alias per OpenAI-compatible API.

```python
# settings (from the environment): the default upstream from OPENAI_API_KEY / OPENAI_BASE_URL /
# OPENAI_ORG_ID / OPENAI_PROJECT_ID (or the embedded sandbox), more from UPSTREAMS (JSON):
UPSTREAMS = {
    "local": {"BASE_URL": "http://llm.internal/v1", "API_KEY": "…", "LABEL": "Local vLLM"},
    "proj-b": {"API_KEY": "sk-…", "ORGANIZATION": "org-…", "PROJECT": "proj_…"},
}
```

Options per alias: BASE_URL (default https://api.openai.com/v1), API_KEY (or API_KEY_ENV: the
name of a variable holding it), ADMIN_API_KEY (or ADMIN_API_KEY_ENV: an organization Admin API
key, optional, for the Usage API; OPENAI_ADMIN_KEY for the default upstream), ORGANIZATION,
PROJECT, LABEL, TIMEOUT, MAX_RETRIES, PAGE_BUDGET, REFRESH_SECONDS (defaults: UPSTREAM_TIMEOUT,
UPSTREAM_MAX_RETRIES, UPSTREAM_PAGE_BUDGET, MODELS_CACHE_SECONDS), SANDBOX (true: the embedded
sandbox, in-process).
The configuration is read from settings on every call, so it follows settings changes.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT = "default"
SANDBOX = "sandbox"
SANDBOX_BASE_URL = "http://sandbox.internal/sandbox/v1"
OPENAI_BASE_URL = "https://api.openai.com/v1"
ALIAS_PATTERN = r"[a-z0-9][a-z0-9_-]{0,39}"
_ALIAS = re.compile(ALIAS_PATTERN)


@dataclass(frozen=True)
class Upstream:
    """One configured API: where it is, how to call it, and how patient pages are with it."""

    alias: str
    base_url: str
    api_key: str = field(repr=False)
    organization: str | None = None
    project: str | None = None
    name: str = ""
    timeout: float = 15.0
    max_retries: int = 2
    page_budget: float = 8.0
    refresh_seconds: int = 60
    is_sandbox: bool = False
    # The Usage API wants an organization Admin API key: a second, optional credential.
    admin_api_key: str = field(default="", repr=False)

    @property
    def label(self) -> str:
        """What the page header shows."""
        if self.name:
            return self.name
        if self.is_sandbox:
            return "Sandbox (in-process)"
        scope = " · ".join(part for part in (self.organization, self.project) if part)
        return f"{self.base_url} ({scope})" if scope else self.base_url

    @property
    def is_configured(self) -> bool:
        return bool(self.api_key)

    @property
    def has_admin_key(self) -> bool:
        return bool(self.admin_api_key)

    @property
    def cache_key(self) -> str:
        """A key prefix naming this upstream's data: alias, URL, organisation and project."""
        identity = "\n".join(
            (self.alias, self.base_url, self.organization or "", self.project or "")
        )
        return f"upstream:{hashlib.sha256(identity.encode()).hexdigest()[:24]}"


def _defaults() -> dict[str, Any]:
    return {
        "timeout": float(settings.UPSTREAM_TIMEOUT),
        "max_retries": int(settings.UPSTREAM_MAX_RETRIES),
        "page_budget": float(settings.UPSTREAM_PAGE_BUDGET),
        "refresh_seconds": int(settings.MODELS_CACHE_SECONDS),
    }


def _sandbox(alias: str, **options: Any) -> Upstream:
    return Upstream(
        alias=alias,
        base_url=SANDBOX_BASE_URL,
        api_key=settings.SANDBOX_API_KEY,
        organization=None,
        is_sandbox=True,
        **{"admin_api_key": settings.SANDBOX_ADMIN_KEY, **_defaults(), **options},
    )


def _from_options(alias: str, options: dict[str, Any]) -> Upstream:
    if not isinstance(options, dict):
        raise ImproperlyConfigured(f"UPSTREAMS[{alias!r}] must be an object of options.")
    opts = {str(k).upper(): v for k, v in options.items()}
    tuning = {
        name: kind(opts[key])
        for key, name, kind in (
            ("TIMEOUT", "timeout", float),
            ("MAX_RETRIES", "max_retries", int),
            ("PAGE_BUDGET", "page_budget", float),
            ("REFRESH_SECONDS", "refresh_seconds", int),
        )
        if opts.get(key) is not None
    }
    name = str(opts.get("LABEL") or "")
    if opts.get("SANDBOX"):
        admin: dict[str, str] = {}
        if "ADMIN_API_KEY" in opts:  # "" shows the sandbox without its Usage API
            admin["admin_api_key"] = str(opts["ADMIN_API_KEY"] or "")
        return _sandbox(alias, name=name, **tuning, **admin)
    key = opts.get("API_KEY") or os.environ.get(str(opts.get("API_KEY_ENV") or ""), "")
    admin_env = str(opts.get("ADMIN_API_KEY_ENV") or "")
    admin_key = opts.get("ADMIN_API_KEY") or os.environ.get(admin_env, "")
    return Upstream(
        alias=alias,
        base_url=str(opts.get("BASE_URL") or OPENAI_BASE_URL).rstrip("/"),
        api_key=str(key or ""),
        organization=opts.get("ORGANIZATION") or None,
        project=opts.get("PROJECT") or None,
        name=name,
        admin_api_key=str(admin_key or ""),
        **{**_defaults(), **tuning},
    )


def upstreams() -> dict[str, Upstream]:
    """Every configured upstream by alias, the default first.

    The default is the real API when OPENAI_API_KEY is set, else the sandbox when it is enabled,
    else an unconfigured upstream (its client raises `NotConfiguredError`). With both a key and
    SANDBOX_ENABLED, the sandbox is also there as "sandbox". UPSTREAMS adds (or replaces) more.
    """
    found: dict[str, Upstream] = {}
    if settings.OPENAI_API_KEY or not settings.SANDBOX_ENABLED:
        found[DEFAULT] = Upstream(
            alias=DEFAULT,
            base_url=(settings.OPENAI_BASE_URL or OPENAI_BASE_URL).rstrip("/"),
            api_key=settings.OPENAI_API_KEY or "",
            organization=settings.OPENAI_ORG_ID,
            project=settings.OPENAI_PROJECT_ID,
            admin_api_key=settings.OPENAI_ADMIN_KEY or "",
            **_defaults(),
        )
        if settings.SANDBOX_ENABLED:
            found[SANDBOX] = _sandbox(SANDBOX)
    else:
        found[DEFAULT] = _sandbox(DEFAULT)
    configured: dict[str, Any] = settings.UPSTREAMS or {}
    if not isinstance(configured, dict):
        raise ImproperlyConfigured("UPSTREAMS must be a JSON object: alias -> options.")
    for alias, options in configured.items():
        if not _ALIAS.fullmatch(str(alias)):
            raise ImproperlyConfigured(
                f"UPSTREAMS alias {alias!r}: lowercase letters, digits, '-' and '_' only."
            )
        found[str(alias)] = _from_options(str(alias), options)
    return found


def get_upstream(alias: str = DEFAULT) -> Upstream:
    """The upstream with this alias; `KeyError` when none is configured."""
    return upstreams()[alias]


def api_keys() -> list[str]:
    """Every key the dashboard is configured with (to scrub them from what it shows)."""
    keys = {upstream.api_key for upstream in upstreams().values()}
    keys |= {upstream.admin_api_key for upstream in upstreams().values()}
    keys |= set(settings.SANDBOX_KEYS) | {settings.SANDBOX_API_KEY, settings.OPENAI_API_KEY or ""}
    keys |= {settings.SANDBOX_ADMIN_KEY, settings.OPENAI_ADMIN_KEY or ""}
    return sorted((key for key in keys if key), key=len, reverse=True)
