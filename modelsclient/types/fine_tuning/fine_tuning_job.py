"""`FineTuningJob` and its parts, with the `openai` package's names and declared types."""

from __future__ import annotations

from typing import Any, Literal

from .. import BaseModel

__all__ = [
    "DpoHyperparameters",
    "DpoMethod",
    "Error",
    "FineTuningJob",
    "Hyperparameters",
    "Method",
    "ReinforcementHyperparameters",
    "ReinforcementMethod",
    "SupervisedHyperparameters",
    "SupervisedMethod",
]


class Error(BaseModel):
    """Why a `failed` job failed."""

    code: str
    message: str
    param: str | None = None


class Hyperparameters(BaseModel):
    """The hyperparameters of a `supervised` job ("auto" until the job has chosen them)."""

    batch_size: Literal["auto"] | int | None = None
    learning_rate_multiplier: Literal["auto"] | float | None = None
    n_epochs: Literal["auto"] | int | None = None


class SupervisedHyperparameters(Hyperparameters):
    """The hyperparameters of the supervised method."""


class SupervisedMethod(BaseModel):
    """Configuration of the supervised method."""

    hyperparameters: SupervisedHyperparameters | None = None


class DpoHyperparameters(Hyperparameters):
    """The hyperparameters of the DPO method."""

    beta: Literal["auto"] | float | None = None


class DpoMethod(BaseModel):
    """Configuration of the DPO method."""

    hyperparameters: DpoHyperparameters | None = None


class ReinforcementHyperparameters(Hyperparameters):
    """The hyperparameters of the reinforcement method."""

    compute_multiplier: Literal["auto"] | float | None = None
    eval_interval: Literal["auto"] | int | None = None
    eval_samples: Literal["auto"] | int | None = None
    reasoning_effort: Literal["default", "low", "medium", "high"] | None = None


class ReinforcementMethod(BaseModel):
    """Configuration of the reinforcement method (the grader is kept as sent)."""

    grader: dict[str, Any]
    hyperparameters: ReinforcementHyperparameters | None = None


class Method(BaseModel):
    """The method a job used."""

    type: Literal["supervised", "dpo", "reinforcement"]
    dpo: DpoMethod | None = None
    reinforcement: ReinforcementMethod | None = None
    supervised: SupervisedMethod | None = None


class FineTuningJob(BaseModel):
    """A fine-tuning job: what `client.fine_tuning.jobs.retrieve()` and `.list()` return.

    ```python
    job = client.fine_tuning.jobs.retrieve("ftjob-abc123")
    print(job.status, job.model, job.fine_tuned_model, job.trained_tokens)
    ```
    """

    id: str
    created_at: int
    error: Error | None = None
    fine_tuned_model: str | None = None
    finished_at: int | None = None
    hyperparameters: Hyperparameters
    model: str
    object: Literal["fine_tuning.job"]
    organization_id: str
    result_files: list[str]
    seed: int
    status: Literal["validating_files", "queued", "running", "succeeded", "failed", "cancelled"]
    trained_tokens: int | None = None
    training_file: str
    validation_file: str | None = None
    estimated_finish: int | None = None
    integrations: list[dict[str, Any]] | None = None
    metadata: dict[str, str] | None = None
    method: Method | None = None
