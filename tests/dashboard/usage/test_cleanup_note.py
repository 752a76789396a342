"""The deletion check notes a recent use of a ready model (from the usage read)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import respx
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from dashboard.catalogue.models import CatalogueModel
from dashboard.catalogue.sync import sync_models
from dashboard.cleanup import jobs
from dashboard.cleanup.models import JobItem
from dashboard.upstreams import get_upstream
from dashboard.usage.models import ModelDay

pytestmark = pytest.mark.django_db

USED, IDLE = "ft:gpt-4o-mini:acme:used:A1", "ft:gpt-4o-mini:acme:idle:B2"
DAY = datetime.timedelta(days=1)


def _model(model_id: str) -> dict[str, Any]:
    return {"id": model_id, "object": "model", "created": 1_720_000_000, "owned_by": "acme"}


def test_a_model_used_lately_is_noted_with_its_requests_of_the_last_30_days(
    real_api: respx.MockRouter, owner: Client, settings: Any
) -> None:
    settings.OPENAI_ADMIN_KEY = "sk-admin-notes"
    real_api.get("/models").respond(json={"object": "list", "data": [_model(USED), _model(IDLE)]})
    today = timezone.now().astimezone(datetime.UTC).date()
    olivia = User.objects.get(username="olivia")
    job = jobs.create_job(olivia, get_upstream("default"), [USED, IDLE])
    for day, requests in ((today - 3 * DAY, 1200), (today - 20 * DAY, 34), (today - 40 * DAY, 5)):
        ModelDay.objects.create(upstream="default", model_id=USED, day=day, requests=requests)
    ModelDay.objects.create(upstream="default", model_id=IDLE, day=today - 45 * DAY, requests=9)
    sync_models("default", [_model(USED), _model(IDLE)])
    CatalogueModel.objects.filter(model_id=USED).update(last_used=today - 3 * DAY)
    CatalogueModel.objects.filter(model_id=IDLE).update(last_used=today - 45 * DAY)

    assert jobs.validate(job.pk) == "ready"

    notes = {item.model_id: item.notes for item in JobItem.objects.filter(job=job)}
    assert "Used 3 days ago (1,234 requests in the last 30 days)." in notes[USED]
    assert not [note for note in notes[IDLE] if note.startswith("Used")]
