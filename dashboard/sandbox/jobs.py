"""The sandbox's fine-tuning jobs, derived from its seeded models: the same jobs for the same
models, every time.

- A `succeeded` job for every fine-tuned model: `model` is the base parsed from the `ft:` id,
  `fine_tuned_model` the model's id, created and finished before the model was.
- A seeded checkpoint model (`ft:…:ckpt-step-N`) gets the job of its final model (even when that
  model is not in the sandbox), with checkpoint N among the job's checkpoints; a quarter of the
  other jobs have checkpoints too (their checkpoint models are not listed by `/models`, as
  after a deletion).
- One job in six has no model: `failed` (with its error) or `cancelled`.

Each job's values come from a random generator seeded by its model's id, so the models' own
sequence (`seed.seed_rows`) is untouched.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from .models import SandboxFineTuningJob, SandboxModel

__all__ = ["CHECKPOINT", "base_of", "seed_jobs", "stable_random"]

CHECKPOINT = re.compile(r":ckpt-step-(\d+)$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_TEAMS = ["support", "growth", "legal", "data", "finance"]


def stable_random(*key: object) -> random.Random:
    """A generator that depends only on `key` (not on Python's per-process hash seed)."""
    digest = hashlib.sha256(":".join(map(str, key)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _token(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(size))


def base_of(model_id: str) -> str:
    """The base model of an `ft:<base>:<org>:<suffix>:<id>` id."""
    return model_id.split(":")[1]


def _checkpoint(
    job_id: str, model: str, step: int, finished_at: int, validated: bool
) -> dict[str, Any]:
    rng = stable_random(job_id, step)
    loss = round(2.2 / (1 + step / 150) + rng.uniform(0, 0.05), 4)
    metrics: dict[str, float] = {
        "step": float(step),
        "train_loss": loss,
        "train_mean_token_accuracy": round(min(0.99, 0.55 + step / 2500), 4),
    }
    if validated:
        metrics["valid_loss"] = round(loss * rng.uniform(1.02, 1.2), 4)
        metrics["valid_mean_token_accuracy"] = round(metrics["train_mean_token_accuracy"] - 0.03, 4)
        metrics["full_valid_loss"] = round(metrics["valid_loss"] * 0.98, 4)
        metrics["full_valid_mean_token_accuracy"] = metrics["valid_mean_token_accuracy"]
    return {
        "id": f"ftckpt_{_token(rng, 24)}",
        "object": "fine_tuning.job.checkpoint",
        "created_at": finished_at - 30 * max(0, 3000 - step) // 100,
        "fine_tuned_model_checkpoint": f"{model}:ckpt-step-{step}",
        "fine_tuning_job_id": job_id,
        "metrics": metrics,
        "step_number": step,
    }


def _job(model: str, model_created: int, steps: list[int], status: str) -> SandboxFineTuningJob:
    """One job for `model` (or, when `status` is not `succeeded`, one that never made it)."""
    rng = stable_random("job", model, status)
    job_id = f"ftjob-{_token(rng, 24)}"
    finished_at = model_created - rng.randrange(30, 600)
    created_at = finished_at - rng.randrange(900, 6 * 3600)
    n_epochs = rng.choice([2, 3, 3, 4, 5])
    hyperparameters = {
        "n_epochs": n_epochs,
        "batch_size": rng.choice([1, 2, 4, 8, 16]),
        "learning_rate_multiplier": rng.choice([0.5, 1.0, 1.8, 2.0]),
    }
    dpo = rng.random() < 0.15
    method: dict[str, Any] = {"type": "dpo" if dpo else "supervised"}
    method[method["type"]] = {
        "hyperparameters": {**hyperparameters, **({"beta": 0.1} if dpo else {})}
    }
    validated = rng.random() < 0.6
    succeeded = status == "succeeded"
    if succeeded and not steps and rng.random() < 0.25:
        per_epoch = rng.randrange(20, 400)
        steps = [per_epoch * epoch for epoch in range(max(1, n_epochs - 2), n_epochs + 1)]
    checkpoints = [
        _checkpoint(job_id, model, step, finished_at, validated)
        for step in sorted(set(steps), reverse=True)
    ]
    suffix = model.split(":")[3] if model.count(":") >= 4 else ""
    body: dict[str, Any] = {
        "id": job_id,
        "object": "fine_tuning.job",
        "created_at": created_at,
        "finished_at": finished_at,
        "error": None,
        "fine_tuned_model": model if succeeded else None,
        "hyperparameters": hyperparameters,
        "method": method,
        "model": base_of(model),
        "organization_id": settings.SANDBOX_ORGANIZATION,
        "result_files": [f"file-{_token(rng, 22)}"] if succeeded else [],
        "seed": rng.randrange(2**31),
        "status": status,
        "trained_tokens": rng.randrange(20_000, 5_000_000) if succeeded else None,
        "training_file": f"file-{_token(rng, 22)}",
        "validation_file": f"file-{_token(rng, 22)}" if validated else None,
        "estimated_finish": None,
        "integrations": [],
        "metadata": (
            {"team": rng.choice(_TEAMS), "ticket": f"ML-{rng.randrange(100, 999)}"}
            if rng.random() < 0.4
            else None
        ),
        "user_provided_suffix": suffix or None,
    }
    if status == "failed":
        body["error"] = {
            "code": "invalid_training_file",
            "message": "The training file has 3 examples; at least 10 are required.",
            "param": "training_file",
        }
    return SandboxFineTuningJob(
        id=job_id,
        created_at=created_at,
        fine_tuned_model=body["fine_tuned_model"],
        body=body,
        checkpoints=checkpoints,
    )


def seed_jobs(rows: Iterable[SandboxModel]) -> list[SandboxFineTuningJob]:
    """The jobs behind the fine-tuned models among `rows` (see the module docstring)."""
    finals: dict[str, int] = {}  # final model id -> when it was created
    steps: dict[str, list[int]] = {}
    for row in sorted(rows, key=lambda r: r.id):
        if not row.id.startswith("ft:"):
            continue
        found = CHECKPOINT.search(row.id)
        final = row.id[: found.start()] if found else row.id
        finals[final] = min(finals.get(final, row.created), row.created)
        if found:
            steps.setdefault(final, []).append(int(found.group(1)))
    jobs = []
    for index, (final, created) in enumerate(sorted(finals.items())):
        seeded = steps.get(final, [])
        if seeded:  # the seeded step and the two epochs around it
            spread = max(10, seeded[0] // 3)
            seeded = [*seeded, seeded[0] - spread, seeded[0] + spread]
        jobs.append(_job(final, created, [s for s in seeded if s > 0], "succeeded"))
        if index % 5 == 4:
            status = "failed" if index % 10 == 4 else "cancelled"
            jobs.append(_job(final, created - 86400 * (1 + index % 7), [], status))
    return jobs
