"""What the Usage API said, per upstream: requests and tokens per model and UTC day, requests
per model, API key and day, and how far the reading has got.

```
UsageState (1 per alias) ── first day kept, last complete day read, lease, backoff, last error
ModelDay (alias + model + day) ── requests, input/output tokens
KeyDay (alias + model + api key id + day) ── requests
```
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models


class ModelDay(models.Model):
    """One model's completions usage on one UTC day (all API keys)."""

    upstream = models.CharField(max_length=64)
    model_id = models.CharField(max_length=512)
    day = models.DateField()
    requests = models.PositiveBigIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["upstream", "model_id", "day"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["upstream", "model_id", "day"], name="usage_unique_model_day"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["upstream", "day"], name="usage_by_day")]

    def __str__(self) -> str:
        return f"{self.upstream}: {self.model_id} on {self.day}: {self.requests}"


class KeyDay(models.Model):
    """One model's requests through one API key (its id: the Usage API gives no name) on a day."""

    upstream = models.CharField(max_length=64)
    model_id = models.CharField(max_length=512)
    api_key_id = models.CharField(max_length=200)  # "" when the API sent none
    day = models.DateField()
    requests = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["upstream", "model_id", "api_key_id", "day"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["upstream", "model_id", "api_key_id", "day"], name="usage_unique_key_day"
            )
        ]
        indexes: ClassVar = [models.Index(fields=["upstream", "day"], name="usage_key_by_day")]

    def __str__(self) -> str:
        return f"{self.upstream}: {self.model_id} via {self.api_key_id} on {self.day}"


class UsageState(models.Model):
    """Per upstream alias: which days are read, one reading at a time, and the backoff."""

    upstream = models.CharField(max_length=64, unique=True)
    first_day = models.DateField(null=True, blank=True)  # the oldest day kept (the window)
    complete_through = models.DateField(null=True, blank=True)  # the last day read complete
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)  # scrubbed

    class Meta:
        ordering: ClassVar = ["upstream"]

    def __str__(self) -> str:
        return self.upstream
