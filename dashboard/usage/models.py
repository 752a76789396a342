"""What the Usage API said, per upstream: requests and tokens per model and UTC day, requests
per model, API key and day, and how far the reading has got.

```
UsageState (1 per alias) ── first day kept, last complete day read, lease, backoff, last error
ModelDay (alias + model + day) ── requests, input/output tokens
KeyDay (alias + model + api key id + day) ── requests
KeyName (alias + api key id) ── name and owner, from the Admin API's project API keys
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


class KeyName(models.Model):
    """An API key's name and owner as the Admin API said (`GET /organization/projects/{id}/
    api_keys`), for the projects the usage came from; a deleted key has none."""

    upstream = models.CharField(max_length=64)
    api_key_id = models.CharField(max_length=200)
    project_id = models.CharField(max_length=200, blank=True)
    name = models.CharField(max_length=300, blank=True)
    owner_type = models.CharField(max_length=32, blank=True)  # "user" / "service_account"
    owner_name = models.CharField(max_length=300, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["upstream", "api_key_id"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["upstream", "api_key_id"], name="usage_unique_key_name")
        ]

    def __str__(self) -> str:
        return f"{self.upstream}: {self.api_key_id} ({self.name})"


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
    # Which API the days are of (`Upstream.cache_key`); when the alias is pointed elsewhere,
    # they are dropped and read again.
    identity = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering: ClassVar = ["upstream"]

    def __str__(self) -> str:
        return self.upstream
