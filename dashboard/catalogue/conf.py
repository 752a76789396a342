"""The catalogue's settings, each with its default (override any of them in Django settings).

| setting                              | default | meaning                                        |
| ------------------------------------ | ------- | ---------------------------------------------- |
| CATALOGUE_REFRESH_LEASE_SECONDS      | 300     | a refresh's claim expires after this (crashes) |
| CATALOGUE_BACKOFF_SECONDS            | 30      | wait after the first failed refresh            |
| CATALOGUE_BACKOFF_MAX_SECONDS        | 1800    | the wait doubles per failure up to this        |
| CATALOGUE_CHANGE_RETENTION_DAYS      | 180     | change records and sync runs older are pruned  |
| CATALOGUE_PRUNE_INTERVAL_SECONDS     | 86400   | how often the pruning task reschedules itself  |
"""

from __future__ import annotations

import datetime

from django.conf import settings

DEFAULT_UPSTREAM = "default"  # the alias of the upstream configured by OPENAI_* today


def _number(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=_number("CATALOGUE_REFRESH_LEASE_SECONDS", 300))


def backoff(consecutive_failures: int) -> datetime.timedelta:
    """How long to wait after this many failures in a row: base × 2^(n-1), capped."""
    base = _number("CATALOGUE_BACKOFF_SECONDS", 30)
    cap = _number("CATALOGUE_BACKOFF_MAX_SECONDS", 1800)
    exponent = min(max(consecutive_failures - 1, 0), 30)  # 2**30 × base is past any cap
    return datetime.timedelta(seconds=min(cap, base * 2**exponent))


def retention() -> datetime.timedelta:
    return datetime.timedelta(days=_number("CATALOGUE_CHANGE_RETENTION_DAYS", 180))


def prune_interval() -> datetime.timedelta:
    return datetime.timedelta(seconds=_number("CATALOGUE_PRUNE_INTERVAL_SECONDS", 86400))
