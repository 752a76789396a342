"""Log lines in UTC, as `key=value` pairs the security log can be grepped by."""

from __future__ import annotations

import enum
import logging
import time

security_log = logging.getLogger("dashboard.security")


class UTCFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created)) + "Z"


def security_event(event: str, **fields: object) -> None:
    """One structured line per security event; callers pass no secrets."""
    details = " ".join(f"{key}={_plain(value)!r}" for key, value in fields.items())
    security_log.info("event=%s %s", event, details)


def _plain(value: object) -> object:
    """Choices such as `AuditEntry.Outcome.DELETED` are logged by value: `'deleted'`."""
    return value.value if isinstance(value, enum.Enum) else value
