"""The typed confirmation is compared exactly: an id with leading or trailing spaces can be
deleted, and only by typing it as it is."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from dashboard.models import AuditEntry
from dashboard.sandbox.models import SandboxModel

SPACED = " ft:gpt-4o-mini-2024-07-18:acme:spaced:Zz99 "


@pytest.fixture
def spaced_model(sandbox: int) -> str:
    SandboxModel.objects.create(id=SPACED, created=1_720_000_000, owned_by="acme")
    return SPACED


def test_a_model_id_with_leading_and_trailing_spaces_is_deleted_when_typed_exactly(
    owner: Client, spaced_model: str
) -> None:
    response = owner.post(
        reverse("model-delete", args=["default", spaced_model]),
        {"confirm_id": spaced_model, "next": "/u/default/models/"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/u/default/models/"
    assert not SandboxModel.objects.filter(id=spaced_model).exists()
    entry = AuditEntry.objects.get()
    assert entry.model_id == spaced_model
    assert entry.outcome == AuditEntry.Outcome.DELETED


@pytest.mark.parametrize("typed", [SPACED.strip(), SPACED.lstrip(), SPACED.rstrip()])
def test_the_same_id_without_its_spaces_is_not_a_confirmation(
    typed: str, owner: Client, spaced_model: str
) -> None:
    response = owner.post(
        reverse("model-delete", args=["default", spaced_model]), {"confirm_id": typed}
    )

    assert response.status_code == 422
    assert (
        f"The spaces at the start or end do not match: the id is “{SPACED}”, between the quotes."
        in response.content.decode()
    )
    assert SandboxModel.objects.filter(id=spaced_model).exists()
    assert not AuditEntry.objects.exists()


def test_spaces_typed_around_an_ordinary_id_are_not_a_confirmation(
    owner: Client, sandbox: int
) -> None:
    model_id = SandboxModel.objects.filter(id__startswith="ft:").order_by("id")[0].id

    response = owner.post(
        reverse("model-delete", args=["default", model_id]), {"confirm_id": f" {model_id}"}
    )

    assert response.status_code == 422
    assert f"the id is “{model_id}”" in response.content.decode()
    assert SandboxModel.objects.filter(id=model_id).exists()
