"""The sandbox's completions usage: requests and tokens per model, API key and UTC day over the
last 120 days, the same for the same model and day every time.

Each fine-tuned model gets a profile from its id: busy (used most days up to today), idle for
months (last used 100–119 days ago), idle for weeks (last used 20–60 days ago) or never used.
Some base models are used too. Days are UTC days; "today" is the request's day.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .jobs import CHECKPOINT, stable_random

__all__ = [
    "API_KEYS",
    "API_KEY_DETAILS",
    "DAY",
    "WINDOW_DAYS",
    "Usage",
    "aggregate",
    "last_used_days_ago",
    "usage_for",
]

DAY = 86400
WINDOW_DAYS = 120
# The sandbox organization's project API keys: (key id, project id).
API_KEYS = [
    ("key_sbxSupportBot0001", "proj_sandbox_support"),
    ("key_sbxBackend000002", "proj_sandbox_main"),
    ("key_sbxNotebook00003", "proj_sandbox_main"),
]
# Their names and owners, as the Admin API's project API keys endpoint tells them:
# key id -> (name, owner type, owner id, owner name, owner email).
API_KEY_DETAILS = {
    "key_sbxSupportBot0001": (
        "Support bot",
        "service_account",
        "svc_acct_sbxSupportBot",
        "support-bot",
        None,
    ),
    "key_sbxBackend000002": (
        "Backend (production)",
        "user",
        "user_sbxAda",
        "Ada Lovelace",
        "ada@sandbox.example",
    ),
    "key_sbxNotebook00003": (
        "Notebook experiments",
        "user",
        "user_sbxGrace",
        "Grace Hopper",
        "grace@sandbox.example",
    ),
}
BASE_MODEL_PROFILES = {
    "gpt-4o-mini": ("busy", 0),
    "gpt-4o": ("busy", 0),
    "gpt-4.1-mini": ("busy", 0),
    "gpt-4.1": ("idle", 35),
    "o3-mini": ("idle", 104),
    "gpt-3.5-turbo": ("idle", 110),
}


@dataclass(frozen=True, slots=True)
class Usage:
    """One model's use through one API key on one UTC day."""

    day: int  # days since the epoch (UTC)
    model: str
    api_key_id: str
    project_id: str
    requests: int
    input_tokens: int
    output_tokens: int
    input_cached_tokens: int


def _profile(model: str) -> tuple[str, int]:
    """("busy" | "idle" | "never", days since last use)."""
    if model in BASE_MODEL_PROFILES:
        return BASE_MODEL_PROFILES[model]
    if not model.startswith("ft:") or CHECKPOINT.search(model):
        return ("never", 0)  # other base models, and checkpoints nobody switched to
    rng = stable_random("profile", model)
    kind = rng.choices(["busy", "months", "weeks", "never"], weights=[4, 3, 1, 2])[0]
    if kind == "months":
        return ("idle", rng.randrange(100, WINDOW_DAYS))
    if kind == "weeks":
        return ("idle", rng.randrange(20, 61))
    return (kind, rng.randrange(0, 2) if kind == "busy" else 0)


def last_used_days_ago(model: str) -> int | None:
    """How many days before today the model was last used (None: never in the window)."""
    kind, ago = _profile(model)
    return None if kind == "never" else ago


def _day_usage(
    model: str, profile: tuple[str, int], day: int, today: int, created_day: int
) -> Iterator[Usage]:
    kind, ago = profile
    if kind == "never" or day < created_day or not today - WINDOW_DAYS < day <= today - ago:
        return
    rng = stable_random("usage", model, day)
    # Busy models are used on most days; idle ones in the weeks before they went quiet.
    active = (
        rng.random() < 0.85 if kind == "busy" else today - ago - day < 25 and rng.random() < 0.6
    )
    if not active and day != today - ago:  # the last-use day is always a use
        return
    keys = stable_random("keys", model).sample(API_KEYS, k=1 + len(model) % 2)
    for key_id, project_id in keys:
        requests = rng.randrange(3, 400 if kind == "busy" else 40)
        input_tokens = requests * rng.randrange(150, 1500)
        yield Usage(
            day=day,
            model=model,
            api_key_id=key_id,
            project_id=project_id,
            requests=requests,
            input_tokens=input_tokens,
            output_tokens=requests * rng.randrange(30, 400),
            input_cached_tokens=input_tokens // rng.choice([2, 5, 10, 1000]),
        )


def usage_for(
    models: dict[str, int], days: Iterable[int], now: datetime.datetime
) -> Iterator[Usage]:
    """The usage of `models` (id -> created, unix seconds) on `days` (days since the epoch)."""
    today = int(now.timestamp()) // DAY
    profiles = {model: _profile(model) for model in models}
    for day in days:
        for model, created in models.items():
            yield from _day_usage(model, profiles[model], day, today, created // DAY)


_GROUPS = ("project_id", "user_id", "api_key_id", "model", "batch")


def aggregate(rows: Iterable[Usage], group_by: list[str]) -> list[dict[str, Any]]:
    """One bucket's results: the usage summed by the `group_by` fields, as the API sends them
    (fields not grouped by are null; without any grouping, one result if there was usage)."""
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        fields: dict[str, object] = {
            "project_id": row.project_id,
            "user_id": None,
            "api_key_id": row.api_key_id,
            "model": row.model,
            "batch": False,
        }
        group = {name: fields[name] if name in group_by else None for name in _GROUPS}
        result = totals.setdefault(
            tuple(group.values()),
            {
                "object": "organization.usage.completions.result",
                "input_tokens": 0,
                "output_tokens": 0,
                "input_cached_tokens": 0,
                "input_audio_tokens": 0,
                "output_audio_tokens": 0,
                "num_model_requests": 0,
                **group,
            },
        )
        result["input_tokens"] += row.input_tokens
        result["output_tokens"] += row.output_tokens
        result["input_cached_tokens"] += row.input_cached_tokens
        result["num_model_requests"] += row.requests
    return sorted(totals.values(), key=lambda r: [str(r[name]) for name in _GROUPS])
