"""`Model` and `ModelDeleted`: fields, unknown fields kept, serialisation and printing."""

from __future__ import annotations

import json

import httpx
import pydantic
import pytest

import modelsclient
from modelsclient.types import Model, ModelDeleted

from .conftest import Twin, resolve

MODEL = {"id": "gpt-4o-mini", "created": 1721172741, "object": "model", "owned_by": "system"}
PERMISSION = [{"id": "modelperm-1", "object": "model_permission", "allow_sampling": True}]
COMPATIBLE = {**MODEL, "permission": PERMISSION, "context_window": 128000}


def test_unknown_fields_are_kept_in_model_extra() -> None:
    model = Model.model_validate(COMPATIBLE)

    assert model.model_extra == {"permission": PERMISSION, "context_window": 128000}
    assert model.context_window == 128000  # type: ignore[attr-defined]


def test_unknown_fields_survive_model_dump() -> None:
    dumped = Model.model_validate(COMPATIBLE).model_dump()

    assert dumped["permission"] == PERMISSION
    assert dumped["context_window"] == 128000
    assert dumped["id"] == "gpt-4o-mini"


def test_unknown_fields_survive_to_dict() -> None:
    assert Model.model_validate(COMPATIBLE).to_dict() == COMPATIBLE


def test_unknown_fields_survive_to_json() -> None:
    assert json.loads(Model.model_validate(COMPATIBLE).to_json()) == COMPATIBLE


def test_known_fields_are_typed() -> None:
    model = Model.model_validate(MODEL)

    assert model.id == "gpt-4o-mini"
    assert model.created == 1721172741
    assert model.object == "model"
    assert model.owned_by == "system"


def test_shutdown_date_defaults_to_none_when_absent() -> None:
    assert Model.model_validate(MODEL).shutdown_date is None


def test_shutdown_date_is_parsed_from_a_string() -> None:
    model = Model.model_validate({**MODEL, "shutdown_date": "2026-07-14"})

    assert model.shutdown_date == "2026-07-14"
    assert model.to_dict()["shutdown_date"] == "2026-07-14"


def test_shutdown_date_may_be_null() -> None:
    model = Model.model_validate({**MODEL, "shutdown_date": None})

    assert model.shutdown_date is None
    assert model.to_dict() == {**MODEL, "shutdown_date": None}


def test_shutdown_date_is_left_out_of_to_dict_when_not_sent() -> None:
    model = Model.model_validate(MODEL)

    assert "shutdown_date" not in model.to_dict()
    assert "shutdown_date" not in json.loads(model.to_json())
    assert model.to_dict() == MODEL


def test_object_must_be_model() -> None:
    with pytest.raises(pydantic.ValidationError, match="object"):
        Model.model_validate({**MODEL, "object": "list"})


@pytest.mark.parametrize("missing", ["id", "created", "object", "owned_by"])
def test_model_requires_its_core_fields(missing: str) -> None:
    body = {key: value for key, value in MODEL.items() if key != missing}

    with pytest.raises(pydantic.ValidationError, match=missing):
        Model.model_validate(body)


# What compatible servers send, and the official package returns as sent (it builds models
# without validation): each variant, through retrieve and through a list.
ODD_ITEMS = {
    "created null": {**MODEL, "created": None},
    "no owned_by": {k: v for k, v in MODEL.items() if k != "owned_by"},
    "no object": {k: v for k, v in MODEL.items() if k != "object"},
    "another object": {**MODEL, "object": "dataset"},
    "a number as id": {**MODEL, "id": 42},
    "extra nesting": {**MODEL, "meta": {"limits": {"context": [128000, {"tier": 2}]}}},
    "only an id": {"id": "bare"},
}


@pytest.mark.parametrize("variant", ODD_ITEMS)
async def test_a_retrieved_odd_model_is_returned_with_what_it_has(twin: Twin, variant: str) -> None:
    sent = ODD_ITEMS[variant]
    api = twin.client(lambda request: httpx.Response(200, json=sent))

    model = await resolve(api.models.retrieve("gpt-4o-mini"))

    assert isinstance(model, Model)
    assert model.to_dict() == sent
    assert model.id == sent["id"]


@pytest.mark.parametrize("variant", ODD_ITEMS)
async def test_one_odd_item_never_breaks_a_list(twin: Twin, variant: str) -> None:
    items = [MODEL, ODD_ITEMS[variant], {**MODEL, "id": "last"}]
    api = twin.client(lambda request: httpx.Response(200, json={"object": "list", "data": items}))

    page = await resolve(api.models.list())

    assert [m.to_dict() for m in page.data] == items
    assert page.data[0].owned_by == "system"  # items that fit are validated as usual
    assert page.data[2].id == "last"


async def test_a_field_an_odd_item_did_not_send_raises_attribute_error_like_the_official_package(
    twin: Twin,
) -> None:
    api = twin.client(lambda request: httpx.Response(200, json=ODD_ITEMS["no owned_by"]))

    model = await resolve(api.models.retrieve("gpt-4o-mini"))

    with pytest.raises(AttributeError):
        _ = model.owned_by
    assert model.shutdown_date is None  # a field with a default has it


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "object"],
        {"object": "list"},  # no data array
        {"object": "list", "data": "gpt-4o"},
        {"object": "list", "data": [MODEL, "gpt-4o"]},  # an item that is not an object
    ],
    ids=["array", "no data", "data not an array", "item not an object"],
)
async def test_a_list_whose_outer_shape_is_wrong_raises_a_validation_error(
    twin: Twin, body: object
) -> None:
    api = twin.client(lambda request: httpx.Response(200, json=body))

    with pytest.raises(modelsclient.APIResponseValidationError) as caught:
        await resolve(api.models.list())

    assert caught.value.status_code == 200
    assert caught.value.body == body


async def test_a_retrieved_body_that_is_not_an_object_raises_a_validation_error(
    twin: Twin,
) -> None:
    api = twin.client(lambda request: httpx.Response(200, json=[MODEL]))

    with pytest.raises(modelsclient.APIResponseValidationError):
        await resolve(api.models.retrieve("gpt-4o-mini"))


async def test_a_delete_answer_without_a_boolean_deleted_is_not_believed(twin: Twin) -> None:
    body = {"id": "ft:x", "object": "model", "deleted": "perhaps"}
    api = twin.client(lambda request: httpx.Response(200, json=body))

    with pytest.raises(modelsclient.APIResponseValidationError):
        await resolve(api.models.delete("ft:x"))


async def test_a_retrieved_model_keeps_the_servers_extra_fields(twin: Twin) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=COMPATIBLE)

    api = twin.client(handler)

    model = await resolve(api.models.retrieve("gpt-4o-mini"))

    assert model.model_extra == {"permission": PERMISSION, "context_window": 128000}
    assert model.to_dict() == COMPATIBLE


def test_model_deleted_has_id_deleted_and_object() -> None:
    deleted = ModelDeleted.model_validate({"id": "ft:abc", "deleted": True, "object": "model"})

    assert deleted.id == "ft:abc"
    assert deleted.deleted is True
    assert deleted.object == "model"
    assert deleted.to_dict() == {"id": "ft:abc", "deleted": True, "object": "model"}


def test_model_deleted_deleted_is_a_bool() -> None:
    with pytest.raises(pydantic.ValidationError, match="deleted"):
        ModelDeleted.model_validate({"id": "ft:abc", "deleted": "perhaps", "object": "model"})


def test_printing_a_model_shows_its_class_and_fields(capsys: pytest.CaptureFixture[str]) -> None:
    print(Model.model_validate(MODEL))

    assert capsys.readouterr().out == (
        "Model(id='gpt-4o-mini', created=1721172741, object='model', owned_by='system', "
        "shutdown_date=None)\n"
    )


def test_str_of_a_model_deleted_shows_its_class_and_fields() -> None:
    deleted = ModelDeleted(id="ft:abc", deleted=True, object="model")

    assert str(deleted) == "ModelDeleted(id='ft:abc', deleted=True, object='model')"
