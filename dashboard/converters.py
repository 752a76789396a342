"""Model ids in dashboard URLs: one path segment, whatever characters the id contains."""

from __future__ import annotations

from urllib.parse import quote, unquote


class ModelIdConverter:
    """`/models/<id>/` for any id: `/`, `%`, `?`, unicode and dot segments stay in one segment.

    Servers decode the path once before routing, so `/` in an id must reach Django still
    encoded: `to_url` encodes once and Django's `reverse()` encodes the `%` again.
    """

    regex = r"[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        encoded = quote(value, safe=":@")
        if value in {".", ".."}:
            encoded = "%2E" * len(value)  # never a dot segment the browser would resolve
        return encoded
