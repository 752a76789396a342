"""Compatible servers send odd items; the dashboard shows each with what it has, never a 500."""

from __future__ import annotations

import pytest
import respx
from django.test import Client
from django.urls import reverse

from tests.markup import find

GOOD = {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"}
ODD_ITEMS = {
    "created null": {"id": "odd-created-null", "object": "model", "created": None, "owned_by": "x"},
    "no owned_by": {"id": "odd-no-owner", "object": "model", "created": 1700000000},
    "no object": {"id": "odd-no-object", "created": 1700000000, "owned_by": "acme"},
    "a number as id": {"id": 4242, "object": "model", "created": 1700000000, "owned_by": "acme"},
    "extra nesting": {
        "id": "odd-nested",
        "object": "model",
        "created": 1700000000,
        "owned_by": "acme",
        "meta": {"limits": {"context": [128000, {"tier": 2}]}},
    },
}


@pytest.mark.parametrize("variant", ODD_ITEMS)
def test_the_list_shows_an_odd_item_next_to_good_ones(
    support: Client, real_api: respx.MockRouter, variant: str
) -> None:
    odd = ODD_ITEMS[variant]
    real_api.get("/models").respond(200, json={"object": "list", "data": [GOOD, odd]})

    response = support.get(reverse("model-list", args=["default"]))

    assert response.status_code == 200
    text = find(response.content, "main").text
    assert str(odd["id"]) in text
    assert "gpt-4o-mini" in text


@pytest.mark.parametrize("variant", ODD_ITEMS)
def test_the_detail_page_shows_an_odd_item_with_what_it_has(
    support: Client, real_api: respx.MockRouter, variant: str
) -> None:
    odd = ODD_ITEMS[variant]
    real_api.get(path__startswith="/models/").respond(200, json=odd)

    response = support.get(reverse("model-detail", args=["default", str(odd["id"])]))

    assert response.status_code == 200
    assert str(odd["id"]) in find(response.content, "main").text
