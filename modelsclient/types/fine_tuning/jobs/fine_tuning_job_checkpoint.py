"""`FineTuningJobCheckpoint`, with the `openai` package's names and declared types."""

from __future__ import annotations

from typing import Literal

from ... import BaseModel

__all__ = ["FineTuningJobCheckpoint", "Metrics"]


class Metrics(BaseModel):
    """A checkpoint's metrics at its step (the API leaves out what it did not measure)."""

    full_valid_loss: float | None = None
    full_valid_mean_token_accuracy: float | None = None
    step: float | None = None
    train_loss: float | None = None
    train_mean_token_accuracy: float | None = None
    valid_loss: float | None = None
    valid_mean_token_accuracy: float | None = None


class FineTuningJobCheckpoint(BaseModel):
    """A checkpoint of a job: a model (`ft:…:ckpt-step-N`) usable like the final one.

    ```python
    for checkpoint in client.fine_tuning.jobs.checkpoints.list("ftjob-abc123"):
        print(checkpoint.step_number, checkpoint.fine_tuned_model_checkpoint)
    ```
    """

    id: str
    created_at: int
    fine_tuned_model_checkpoint: str
    fine_tuning_job_id: str
    metrics: Metrics
    object: Literal["fine_tuning.job.checkpoint"]
    step_number: int
