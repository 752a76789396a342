"""The API's objects (pydantic v2, unknown fields kept): `Model` and `ModelDeleted` here;
fine-tuning jobs in `types.fine_tuning`, their checkpoints in `types.fine_tuning.jobs`, Usage API
pages in `types.admin.organization` — the module paths of the `openai` package."""

from __future__ import annotations

from typing import Any, Literal

import pydantic

__all__ = ["BaseModel", "Model", "ModelDeleted"]


class BaseModel(pydantic.BaseModel):
    """Fields the API adds later, or that a compatible server sends, are kept in `model_extra`."""

    model_config = pydantic.ConfigDict(extra="allow")

    def to_dict(self, *, exclude_unset: bool = True) -> dict[str, Any]:
        """The object as the API sent it (fields it did not send are left out; a field an odd
        server sent with another type, such as a number as `id`, is kept as sent)."""
        return self.model_dump(mode="json", exclude_unset=exclude_unset, warnings=False)

    def to_json(self, *, indent: int | None = 2, exclude_unset: bool = True) -> str:
        """The object as a JSON string."""
        return self.model_dump_json(indent=indent, exclude_unset=exclude_unset, warnings=False)

    def __str__(self) -> str:
        # Like the openai package: `print(model)` shows `Model(id='…', …)`.
        return repr(self)


class Model(BaseModel):
    """A model offered by the API.

    The declared types are what OpenAI sends. An item from a compatible server that does not
    fit them (`created: null`, no `owned_by`, no `object`, a number as `id`) is returned as sent,
    as the official package does: a missing field raises `AttributeError` when read.

    ```python
    model = client.models.retrieve("gpt-4o-mini")
    print(model.id, model.owned_by, model.shutdown_date)
    ```
    """

    id: str
    created: int
    object: Literal["model"]
    owned_by: str
    shutdown_date: str | None = None


class ModelDeleted(BaseModel):
    """What `models.delete()` returns.

    ```python
    result = client.models.delete("ft:gpt-4o-mini:acme:suffix:abc123")
    assert result.deleted
    ```
    """

    id: str
    deleted: bool
    object: str
