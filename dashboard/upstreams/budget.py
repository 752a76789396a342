"""Bounded calls: every page's upstream work, all attempts and waits, within one budget."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from django.conf import settings

import modelsclient

from .clients import get_client
from .config import DEFAULT, Upstream, get_upstream
from .trust import RedirectRefused

MIN_ATTEMPT_SECONDS = 0.5  # an attempt given less time than this would only time out
MAX_LIST_PAGES = 1000  # servers that page their list: a bound on the loop, not a real limit


class Budget:
    """How long a page may still wait on the upstream: every call, attempt and wait together.

    ```python
    budget = Budget()  # UPSTREAM_PAGE_BUDGET seconds from now
    call_within_budget(lambda c: c.models.retrieve(model_id), budget=budget)
    ```
    """

    def __init__(self, seconds: float | None = None) -> None:
        """`seconds` from now; default UPSTREAM_PAGE_BUDGET (an upstream's own: `for_upstream`)."""
        self.seconds = float(settings.UPSTREAM_PAGE_BUDGET if seconds is None else seconds)
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @classmethod
    def for_upstream(cls, upstream: Upstream) -> Budget:
        """A page's budget on this upstream (its PAGE_BUDGET)."""
        return cls(upstream.page_budget)

    def part(self, seconds: float) -> Budget:
        """A budget for one step: at most `seconds`, and never past this budget's end."""
        return Budget(min(seconds, self.left()))


class NoAnswer(modelsclient.APITimeoutError):
    """Every attempt a page could afford timed out; says how long it waited in all."""

    def __init__(self, last: modelsclient.APITimeoutError, *, attempts: int, waited: float) -> None:
        super().__init__(last.request)
        self.attempts = attempts
        self.waited = waited
        tries = f" in {attempts} attempts" if attempts > 1 else ""
        self.message = f"No answer within {seconds_words(waited)}{tries}."
        self.args = (self.message,)


def call_within_budget[T](
    operation: Callable[[modelsclient.Client], T],
    *,
    upstream: str | Upstream = DEFAULT,
    budget: Budget | None = None,
    failures: list[modelsclient.APIError] | None = None,
) -> T:
    """Run `operation` on the upstream's client within `budget` (default: a page's budget).

    Each attempt runs without the client's own retries and with a timeout of what is left (at
    most UPSTREAM_TIMEOUT); a failure is retried as the client would decide (`wanted_delay`),
    at most UPSTREAM_MAX_RETRIES times, and only while the wait and another attempt still fit.
    Every failed attempt's error is appended to `failures` (the delete routine reads it).
    The last error is raised as it came, except a timeout: `NoAnswer` with the total wait.
    """
    config = get_upstream(upstream) if isinstance(upstream, str) else upstream
    budget = budget if budget is not None else Budget.for_upstream(config)
    history = failures if failures is not None else []
    client = get_client(config)
    started = time.monotonic()
    retries_taken = 0
    while True:
        timeout = max(min(config.timeout, budget.left()), MIN_ATTEMPT_SECONDS)
        try:
            return operation(client.with_options(max_retries=0, timeout=timeout))
        except modelsclient.APIError as exc:
            history.append(exc)
            delay = _retry_wait(exc, retries_taken)
            fits = delay is not None and delay + MIN_ATTEMPT_SECONDS <= budget.left()
            if delay is None or not fits or retries_taken >= config.max_retries:
                if isinstance(exc, modelsclient.APITimeoutError):
                    waited = max(time.monotonic() - started, timeout)
                    raise NoAnswer(exc, attempts=retries_taken + 1, waited=round(waited, 1)) from (
                        exc.__cause__
                    )
                raise
        time.sleep(delay)
        retries_taken += 1


def _retry_wait(exc: modelsclient.APIError, retries_taken: int) -> float | None:
    """The client's one retry decision, for the errors it retries; None: do not retry."""
    if isinstance(exc, RedirectRefused):
        return None  # a redirect we refuse is refused again
    if isinstance(exc, modelsclient.APIStatusError):
        return modelsclient.wanted_delay(exc.response, retries_taken)
    if isinstance(exc, modelsclient.APIConnectionError) and isinstance(
        exc.__cause__, httpx.TransportError
    ):
        return modelsclient.wanted_delay(None, retries_taken)
    return None  # an unreadable or oversized body, a decoding error: the same again


def seconds_words(seconds: float) -> str:
    """A measured wait as it was: "1 second", "0.8 seconds", "2.1 seconds" (not rounded up)."""
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"
