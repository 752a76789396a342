"""One upstream list item into catalogue columns, whatever a compatible server sent.

The official `openai` package accepts items with `created: null`, without `owned_by` or
`object`, with numbers as ids and with extra nesting; so does the catalogue. `data` keeps every
field as sent (made JSON-safe only where a database could not store it); the columns are derived
leniently from it. Only an item without a usable id is refused (`normalise` returns None).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.listing import Row, parse_fine_tune

MAX_ID_LENGTH = 512
_INTEGER = re.compile(r"-?\d{1,19}")
_BIGINT = 2**63


@dataclass(frozen=True, slots=True)
class Item:
    """A usable list item: its id, its JSON-safe `data` and the fingerprint of that data.

    The derived columns are computed by `columns()`, only for rows that will be written.
    """

    model_id: str
    data: dict[str, Any]
    fingerprint: str

    def columns(self) -> dict[str, Any]:
        """Every column of `CatalogueModel` that comes from the item (not the seen times)."""
        data = self.data
        owned_by = _text(data.get("owned_by"), 200)
        created = _created(data.get("created"))
        shutdown = parse_date(data.get("shutdown_date"))
        row = Row(self.model_id, owned_by, created or 0, None, parse_fine_tune(self.model_id), data)
        return {
            "model_id": self.model_id,
            "object": _text(data.get("object"), 64),
            "created": created,
            "owned_by": owned_by,
            "shutdown_date": shutdown,
            # Its own date; a fine-tune's base model's is joined after the sync (`stops`).
            "stops_on": shutdown,
            "stops_because": self.model_id if shutdown else "",
            "data": data,
            "kind": row.kind,
            "base_model": row.base_model[:MAX_ID_LENGTH],
            "is_deletable": row.is_deletable,
            "model_id_folded": self.model_id.casefold(),
            "owned_by_folded": owned_by.casefold()[:600],
            "fingerprint": self.fingerprint,
        }


def normalise(raw: object) -> Item | None:
    """The item with its fingerprint; None when it has no usable id (or is not an object).

    Accepts a mapping, or an object with `to_dict()` (a `modelsclient` or `openai` model).
    """
    as_dict = _as_dict(raw)
    if as_dict is None:
        return None
    encoded, data = canonical_json(as_dict)
    model_id = _model_id(data.get("id"))
    if model_id is None:
        return None
    return Item(model_id, data, hashlib.blake2b(encoded, digest_size=16).hexdigest())


def canonical_json(data: Mapping[str, Any]) -> tuple[bytes, dict[str, Any]]:
    """(sorted compact JSON as UTF-8, the dict it encodes): equal data gives equal bytes.

    Values no database stores (NaN, NUL characters, lone surrogates, non-JSON types, non-string
    keys) are replaced by storable ones; everything else is kept as it was.
    """
    try:
        text = _dumps(data)
        if "\\u0000" not in text:
            return text.encode(), dict(data)
    except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
        pass
    safe = _jsonable(data)
    assert isinstance(safe, dict)
    return _dumps(safe).encode(), safe


def parse_date(value: object) -> datetime.date | None:
    """An ISO date (or date-time) string as a date; None for anything else."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        pass
    try:
        return datetime.datetime.fromisoformat(value).date()
    except ValueError:
        return None


_ENCODER = json.JSONEncoder(  # built once: json.dumps builds one per call with these options
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _dumps(data: object) -> str:
    return _ENCODER.encode(data)


def _as_dict(raw: object) -> dict[str, Any] | None:
    if type(raw) is dict:  # the usual case, without the Mapping ABC's slower check
        return raw
    if isinstance(raw, Mapping):
        return dict(raw)
    to_dict = getattr(raw, "to_dict", None)
    if callable(to_dict):
        converted = to_dict()
        return dict(converted) if isinstance(converted, Mapping) else None
    return None


def _jsonable(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(_jsonable(str(k))): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return _jsonable(str(value))


def _model_id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH:
        return value
    return None


def _created(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = int(value) if math.isfinite(value) else None
    elif isinstance(value, str):
        value = int(value) if _INTEGER.fullmatch(value.strip()) else None
    return value if isinstance(value, int) and -_BIGINT < value < _BIGINT else None


def _text(value: object, limit: int) -> str:
    if isinstance(value, str):
        return value[:limit]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)[:limit]
    return ""
