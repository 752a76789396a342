"""The sandbox's deterministic models: the same ids, owners and ages for a size, every time."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from .jobs import seed_jobs
from .models import SandboxFineTuningJob, SandboxModel

BASE_MODELS: list[tuple[str, str, int, str | None]] = [
    # id, owned_by, days before the seed anchor, shutdown date (ISO) or None
    ("gpt-4o", "system", 700, None),
    ("gpt-4o-2024-08-06", "system", 690, None),
    ("gpt-4o-mini", "system", 620, None),
    ("gpt-4o-mini-2024-07-18", "system", 615, None),
    ("gpt-4.1", "system", 560, None),
    ("gpt-4.1-mini", "system", 560, None),
    ("gpt-4.1-nano", "system", 555, None),
    ("o3", "system", 500, None),
    ("o3-mini", "system", 640, "2026-07-14"),
    ("o4-mini", "system", 480, None),
    ("gpt-4-turbo", "system", 720, "2026-10-23"),
    ("gpt-4", "openai", 730, "2027-06-06"),
    ("gpt-3.5-turbo", "openai", 729, "2026-09-28"),
    ("gpt-3.5-turbo-0125", "system", 725, "2026-09-28"),
    ("chatgpt-4o-latest", "system", 600, "2026-02-17"),
    ("babbage-002", "system", 728, "2026-10-23"),
    ("davinci-002", "system", 728, "2026-10-23"),
    ("text-embedding-3-small", "system", 700, None),
    ("text-embedding-3-large", "system", 700, None),
    ("text-embedding-ada-002", "openai-internal", 730, None),
    ("whisper-1", "openai-internal", 730, None),
    ("tts-1", "openai-internal", 726, None),
    ("tts-1-hd", "system", 726, None),
    ("dall-e-3", "system", 710, None),
    ("omni-moderation-latest", "system", 540, None),
    ("gpt-image-1", "system", 420, None),
]
FINE_TUNE_BASES = [
    "gpt-4o-mini-2024-07-18",
    "gpt-4o-2024-08-06",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-2025-04-14",
    "gpt-3.5-turbo-0125",
    "babbage-002",
]
SUFFIXES = [
    "support-bot",
    "triage",
    "summarizer",
    "ticket-router",
    "sql-helper",
    "tone-polish",
    "invoice-extract",
    "faq",
    "legal-review",
    "",
    "churn-notes",
    "intent",
    "translator-de",
]
ORGANIZATION = "acme"
# Ids a compatible server might use that need careful encoding end to end.
UNUSUAL_IDS = ["acme/llama-3.1-8b-support", "acme:100%-recall", "acme/модель-ru"]
DEFAULT_SIZE = 64
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def seed_rows(
    size: int = DEFAULT_SIZE, *, anchor: datetime.datetime | None = None
) -> list[SandboxModel]:
    """Deterministic models: the same ids, owners and ages for the same size, every time."""
    rng = random.Random(20261126)
    anchor = anchor or timezone.now()
    day = 86400
    now = int(anchor.timestamp())
    rows = [
        SandboxModel(
            id=model_id,
            created=now - days * day - rng.randrange(day),
            owned_by=owner,
            shutdown_date=datetime.date.fromisoformat(shutdown) if shutdown else None,
            extra={"context_window": 128000} if model_id.startswith("gpt-4") else {},
        )
        for model_id, owner, days, shutdown in BASE_MODELS
    ]
    rows += [
        SandboxModel(id=model_id, created=now - (5 + i * 37) * day, owned_by=ORGANIZATION)
        for i, model_id in enumerate(UNUSUAL_IDS)
    ]
    seen = {row.id for row in rows}
    while len(rows) < size:
        base = rng.choice(FINE_TUNE_BASES)
        suffix = rng.choice(SUFFIXES)
        job = "".join(rng.choice(_ALPHABET) for _ in range(8))
        model_id = f"ft:{base}:{ORGANIZATION}:{suffix}:{job}"
        if rng.random() < 0.12:
            model_id += f":ckpt-step-{rng.randrange(50, 2000)}"
        if model_id in seen:
            continue
        seen.add(model_id)
        rows.append(
            SandboxModel(
                id=model_id,
                created=now - rng.randrange(730 * day),
                owned_by=ORGANIZATION,
                shutdown_date=datetime.date(2027, 1, 15) if rng.random() < 0.06 else None,
            )
        )
    return rows[:size]


@transaction.atomic
def reseed(size: int = DEFAULT_SIZE) -> int:
    """Replace the sandbox's models, and the fine-tuning jobs behind them, with a fresh
    deterministic set; returns the count of models."""
    rows = seed_rows(size)
    SandboxModel.objects.all().delete()
    SandboxFineTuningJob.objects.all().delete()
    SandboxModel.objects.bulk_create(rows, batch_size=1000)
    SandboxFineTuningJob.objects.bulk_create(seed_jobs(rows), batch_size=1000)
    return SandboxModel.objects.count()
