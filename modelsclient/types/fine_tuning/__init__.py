"""Fine-tuning jobs, as `openai.types.fine_tuning` names them (only what reading needs)."""

from __future__ import annotations

from .fine_tuning_job import (
    DpoHyperparameters,
    DpoMethod,
    FineTuningJob,
    ReinforcementHyperparameters,
    ReinforcementMethod,
    SupervisedHyperparameters,
    SupervisedMethod,
)

__all__ = [
    "DpoHyperparameters",
    "DpoMethod",
    "FineTuningJob",
    "ReinforcementHyperparameters",
    "ReinforcementMethod",
    "SupervisedHyperparameters",
    "SupervisedMethod",
]
