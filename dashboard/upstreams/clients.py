"""The one place that builds a `modelsclient.Client` for an upstream alias (one per alias)."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

import modelsclient

from .config import DEFAULT, Upstream, get_upstream
from .trust import GuardedTransport

# alias -> (the configuration it was built from, the client). A client is rebuilt when its
# upstream's configuration changes; threaded servers build each one once, under the lock.
_clients: dict[str, tuple[tuple[Any, ...], modelsclient.Client]] = {}
_lock = threading.Lock()


class NotConfiguredError(modelsclient.APIConnectionError):
    """No key for this upstream (and the embedded sandbox is off): nothing to call."""


def get_client(upstream: str | Upstream = DEFAULT) -> modelsclient.Client:
    """The client for an upstream (an alias or an `Upstream`); `KeyError` for an unknown alias,
    `NotConfiguredError` when it has no key."""
    config = get_upstream(upstream) if isinstance(upstream, str) else upstream
    identity = (
        config,
        settings.UPSTREAM_MAX_RESPONSE_BYTES,
        settings.UPSTREAM_MAX_MODEL_BYTES,
    )
    with _lock:
        known = _clients.get(config.alias)
        if known is not None and known[0] == identity:
            return known[1]
        client = _build(config)
        _clients[config.alias] = (identity, client)
    if known is not None:
        known[1].close()
    return client


def _build(upstream: Upstream) -> modelsclient.Client:
    if not upstream.is_configured:
        raise NotConfiguredError(
            message="No API is configured.", request=httpx.Request("GET", upstream.base_url)
        )
    inner: httpx.BaseTransport
    if upstream.is_sandbox:
        from dashboard.sandbox.transport import InProcessSandbox, InProcessTransport

        inner = InProcessTransport(app=InProcessSandbox())
    else:
        inner = httpx.HTTPTransport(limits=httpx.Limits(max_connections=100))
    # The client package follows redirects like openai-python; the dashboard trusts less.
    transport = GuardedTransport(
        inner,
        base_url=httpx.URL(upstream.base_url),
        max_list_bytes=settings.UPSTREAM_MAX_RESPONSE_BYTES,
        max_model_bytes=settings.UPSTREAM_MAX_MODEL_BYTES,
    )
    return modelsclient.Client(
        api_key=upstream.api_key,
        # "" (not None): no admin key means none, never one read from OPENAI_ADMIN_KEY here.
        admin_api_key=upstream.admin_api_key,
        organization=upstream.organization,
        project=upstream.project,
        base_url=upstream.base_url,
        timeout=upstream.timeout,
        max_retries=upstream.max_retries,
        http_client=httpx.Client(
            transport=transport, timeout=upstream.timeout, follow_redirects=True, max_redirects=5
        ),
    )


@receiver(setting_changed)
def _close_clients(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith(("OPENAI_", "UPSTREAM", "SANDBOX_")):
        with _lock:
            stale = [client for _, client in _clients.values()]
            _clients.clear()
        for client in stale:
            client.close()
