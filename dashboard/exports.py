"""Downloads: CSV and JSON files streamed a row at a time, named after the filters behind them.

Every export (the model list, the audit log, a job's ledger) goes through here.
`csv_response` and `json_response` take an iterable of rows and never hold the whole file;
callers read querysets with `.iterator(chunk_size=CHUNK_SIZE)` so that memory stays flat at
10,000+ rows. `neutralise` keeps text that came from upstream or users from running as a
spreadsheet formula (OWASP "CSV injection"); numbers the dashboard produces itself (status
codes, Unix times) are written as numbers. `export_filename` puts the active filters in the
name, so that two downloads of one list with different filters do not look alike. Like every
page, a download never holds an API key: each line is `scrub`bed on its way out.
"""

from __future__ import annotations

import csv
import datetime
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.cache import add_never_cache_headers

from .upstreams import scrub

CHUNK_SIZE = 2000  # rows per database fetch
MAX_FILENAME = 150  # characters, extension included
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_DASHES = re.compile(r"-{2,}")


def neutralise(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading `'` before a formula start."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def utc(moment: datetime.datetime | int | None) -> str:
    """A stored time or Unix seconds as ISO 8601 in UTC (`2026-11-20T09:30:15Z`); empty when
    absent or out of range (an upstream's `created` may be any integer)."""
    if isinstance(moment, int):
        try:
            moment = datetime.datetime.fromtimestamp(moment, tz=datetime.UTC)
        except (OverflowError, OSError, ValueError):
            return ""
    if moment is None:
        return ""
    return moment.astimezone(datetime.UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def export_filename(stem: str, filters: Mapping[str, str], ext: str) -> str:
    """`stem` and each non-empty filter as `name-value`, in the mapping's order, then `.ext`
    (`csv`, `json`), e.g. `models-default-kind-fine-tuned-q-tone.csv`: only `[A-Za-z0-9._-]`
    are kept (anything else becomes `-`, runs of `-` become one), at most MAX_FILENAME
    characters."""
    ext = "".join(c for c in ext if c.isascii() and c.isalnum())[:10] or "txt"
    words = [stem, *(f"{name}-{value}" for name, value in filters.items() if value)]
    name = _DASHES.sub("-", _UNSAFE.sub("-", "-".join(words))).strip("-.")
    name = name[: MAX_FILENAME - len(ext) - 1].rstrip("-.")
    return f"{name or 'export'}.{ext}"


class _Echo:
    """A file-like for `csv.writer` that hands back each line instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A CSV download sent one line at a time. Text cells must be `neutralise`d by the caller
    (it knows which values are its own)."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield scrub(writer.writerow(row))

    return _attachment(
        StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8"), filename
    )


def json_response(filename: str, items: Iterable[Mapping[str, Any]]) -> StreamingHttpResponse:
    """A JSON array download sent one element at a time (`[]` when there are none); values
    are kept exactly as they are, since JSON readers do not evaluate formulas."""

    def parts() -> Iterator[str]:
        opening = "[\n"
        for item in items:
            yield scrub(opening + json.dumps(item, ensure_ascii=False))
            opening = ",\n"
        yield "[]\n" if opening == "[\n" else "\n]\n"

    return _attachment(StreamingHttpResponse(parts(), content_type="application/json"), filename)


def _attachment(response: StreamingHttpResponse, filename: str) -> StreamingHttpResponse:
    # The name is built by export_filename: nothing in it needs quoting or encoding.
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    add_never_cache_headers(response)  # what @never_cache sends: no-store, private
    return response
