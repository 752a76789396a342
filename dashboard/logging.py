"""Log lines in UTC, as `key=value` pairs the security log can be grepped by."""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

security_log = logging.getLogger("dashboard.security")


class UTCFormatter(logging.Formatter):
    converter = staticmethod(time.gmtime)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + "Z"


def security_event(event: str, **fields: object) -> None:
    """One structured line per security event; callers pass no secrets."""
    details = " ".join(f"{key}={_plain(value)!r}" for key, value in fields.items())
    security_log.info("event=%s %s", event, details)


def _plain(value: object) -> object:
    """Choices such as `AuditEntry.Outcome.DELETED` are logged by value: `'deleted'`."""
    return value.value if isinstance(value, enum.Enum) else value


class DropForbidden(logging.Filter):
    """For `django.request`: it logs a 403 from a raised PermissionDenied (the admin's) with the
    exception's traceback. ForbiddenLogMiddleware logs every 403 once, as a security event."""

    def filter(self, record: logging.LogRecord) -> bool:
        return getattr(record, "status_code", None) != 403


class ForbiddenLogMiddleware:
    """Every 403 the site answers is a security event, whichever view (or the admin) said no."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            security_event(
                "http.403",
                user=user.get_username() if user is not None else "",
                method=request.method,
                path=request.path,
                ip=request.META.get("REMOTE_ADDR", ""),
            )
        return response
