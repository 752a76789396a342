"""Model ids in dashboard URLs: one path segment, whatever characters the id contains."""

from __future__ import annotations

from urllib.parse import quote, unquote

from .upstreams.config import ALIAS_PATTERN

MAX_MODEL_ID = 512  # the audit log and the sandbox store ids up to this length


def is_valid_model_id(model_id: str) -> bool:
    """Printable and not absurdly long: control characters (NUL above all) have no place in an
    id and some databases refuse to store them."""
    return 0 < len(model_id) <= MAX_MODEL_ID and model_id.isprintable()


class ModelIdConverter:
    """`/models/<id>/` for any id: `/`, `%`, `?`, unicode and dot segments stay in one segment.

    Servers decode the path once before routing, so `/` in an id must reach Django still
    encoded: `to_url` encodes once and Django's `reverse()` encodes the `%` again.
    """

    regex = r"[^/]+"

    def to_python(self, value: str) -> str:
        model_id = unquote(value)
        if not is_valid_model_id(model_id):
            raise ValueError("not a model id")  # Django answers 404
        return model_id

    def to_url(self, value: str) -> str:
        encoded = quote(value, safe=":@")
        if value in {".", ".."}:
            encoded = "%2E" * len(value)  # never a dot segment the browser would resolve
        return encoded


class UpstreamAliasConverter:
    """An upstream's alias in a URL (`/u/<alias>/…`): the pattern aliases are configured with."""

    regex = ALIAS_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
