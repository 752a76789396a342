"""Security events from Django's auth signals (UTC, structured, no secrets)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.http import HttpRequest

from .logging import security_event


def client_ip(request: HttpRequest | None) -> str:
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


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
