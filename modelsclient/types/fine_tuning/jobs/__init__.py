"""A job's checkpoints, as `openai.types.fine_tuning.jobs` names them."""

from __future__ import annotations

from .fine_tuning_job_checkpoint import FineTuningJobCheckpoint, Metrics

__all__ = ["FineTuningJobCheckpoint", "Metrics"]
