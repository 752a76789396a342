"""The one place that decides whether a failed attempt is retried, and after how long."""

from __future__ import annotations

import email.utils
import math
import random
import time

import httpx

__all__ = ["MAX_RETRY_AFTER", "retry_after", "retry_delay", "wanted_delay"]

MAX_RETRY_AFTER = 120.0
INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
_RETRIED_STATUSES = frozenset({408, 409, 429})


def retry_after(headers: httpx.Headers) -> float | None:
    """Seconds the server asks us to wait: `retry-after-ms`, then `retry-after` (secs or date)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            if name == "retry-after-ms":
                continue
            parsed = email.utils.parsedate_tz(value)
            if parsed is None:
                return None
            seconds = email.utils.mktime_tz(parsed) - time.time()
        return seconds if math.isfinite(seconds) else None
    return None


def wanted_delay(response: httpx.Response | None, retries_taken: int) -> float | None:
    """Seconds this failure asks to wait before trying again, however long; None: never retry.

    `response` is None when the attempt failed with a transport error (always retryable).
    Callers with their own time limit (the dashboard's pages) compare this with what is left.
    """
    hint = None
    if response is not None:
        hint = retry_after(response.headers)
        should_retry = response.headers.get("x-should-retry")
        if should_retry == "false":
            return None
        status = response.status_code
        if should_retry != "true" and status not in _RETRIED_STATUSES and status < 500:
            return None
    if hint is not None and hint > 0:
        return hint
    backoff = min(INITIAL_DELAY * 2.0 ** min(retries_taken, 100), MAX_DELAY)
    return backoff * (1 - 0.25 * random.random())


def retry_delay(
    response: httpx.Response | None, retries_taken: int, max_retries: int
) -> float | None:
    """Seconds to wait before the next attempt, or None to give up now.

    `response` is None when the attempt failed with a transport error (always retryable).
    A server that asks for more than `MAX_RETRY_AFTER` seconds is not waited for.
    """
    if retries_taken >= max_retries:
        return None
    delay = wanted_delay(response, retries_taken)
    if delay is None or delay > MAX_RETRY_AFTER:
        return None  # the server asks for longer than we are willing to block
    return delay
