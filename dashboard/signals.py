"""Security events from Django's auth signals (UTC, structured, no secrets)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from .logging import security_event


def client_ip(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or the entry the nearest trusted proxy added."""
    if request is None:
        return ""
    hops: int = settings.TRUSTED_PROXY_HOPS
    forwarded: list[str] = [
        a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
    ]
    forwarded = [a for a in forwarded if a]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return str(request.META.get("REMOTE_ADDR", ""))


def _logged_in(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    security_event("login.success", user=user.get_username(), ip=client_ip(request))


def _logged_out(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    security_event("logout", user=user.get_username() if user else "", ip=client_ip(request))


def _login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    security_event("login.failure", user=credentials.get("username", ""), ip=client_ip(request))


def connect() -> None:
    user_logged_in.connect(_logged_in, dispatch_uid="dashboard-login")
    user_logged_out.connect(_logged_out, dispatch_uid="dashboard-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="dashboard-login-failed")
