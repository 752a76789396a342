"""The sync's two big writes as single-statement `executemany` calls.

`bulk_create` / `bulk_update` build a model instance and prepare every value through its field
for each row: at 100,000 rows that was nine tenths of a sync's time. Here each statement is
built once from the model's metadata and the few values that need the backend's adapters
(JSON, dates, times) go through `connection.ops`, so SQLite and PostgreSQL get what the ORM
would have sent them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connections, router
from django.db.models import Field

from .items import Item
from .models import CatalogueModel

_ITEM_COLUMNS = (
    *("object", "created", "owned_by", "shutdown_date", "data", "kind", "base_model"),
    *("is_deletable", "model_id_folded", "owned_by_folded", "fingerprint"),
)


def insert(upstream: str, items: Iterable[Item], now: datetime.datetime) -> int:
    """Insert new rows (first and last seen `now`); returns how many."""
    db = router.db_for_write(CatalogueModel)
    ops = connections[db].ops
    stamp = ops.adapt_datetimefield_value(now)
    # stops_because: NOT NULL without a database default (migration 0003); "" until set.
    names = (
        *("upstream", "model_id", *_ITEM_COLUMNS),
        *("first_seen", "last_seen", "gone_at", "stops_because"),
    )
    rows = [
        (upstream, item.model_id, *_values(item, ops), stamp, stamp, None, "") for item in items
    ]
    placeholders = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {_table(db)} ({_columns(db, names)}) VALUES ({placeholders})"
    return _executemany(db, sql, rows)


def update(rewritten: dict[int, Item], now: datetime.datetime) -> int:
    """Rewrite changed (or returning) rows by primary key: every item column, last_seen `now`,
    gone_at cleared. Returns how many."""
    db = router.db_for_write(CatalogueModel)
    ops = connections[db].ops
    stamp = ops.adapt_datetimefield_value(now)
    quote = connections[db].ops.quote_name
    names = (*_ITEM_COLUMNS, "last_seen", "gone_at")
    assignments = ", ".join(f"{quote(_column(name))} = %s" for name in names)
    pk = quote(_column("id"))
    sql = f"UPDATE {_table(db)} SET {assignments} WHERE {pk} = %s"
    rows = [(*_values(item, ops), stamp, None, key) for key, item in rewritten.items()]
    return _executemany(db, sql, rows)


@contextmanager
def roomy_cache(pages_kib: int = 64 * 1024) -> Iterator[None]:
    """On SQLite, a page cache large enough for a big sync's index pages while it runs.

    With the default 2 MiB, inserting 100,000 rows into eight indexes spills dirty pages to the
    write-ahead log mid-transaction and takes about three times as long.
    """
    db = router.db_for_write(CatalogueModel)
    if connections[db].vendor != "sqlite":
        yield
        return
    with connections[db].cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (previous,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = {-int(pages_kib)}")
    try:
        yield
    finally:
        with connections[db].cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")


def _values(item: Item, ops: Any) -> tuple[Any, ...]:
    columns = item.columns()
    columns["data"] = ops.adapt_json_value(columns["data"], None)
    columns["shutdown_date"] = ops.adapt_datefield_value(columns["shutdown_date"])
    return tuple(columns[name] for name in _ITEM_COLUMNS)


def _executemany(db: str, sql: str, rows: Sequence[tuple[Any, ...]]) -> int:
    if rows:
        with connections[db].cursor() as cursor:
            cursor.executemany(sql, rows)
    return len(rows)


def _column(name: str) -> str:
    field = CatalogueModel._meta.get_field(name)
    assert isinstance(field, Field) and field.column, name  # concrete fields only
    return field.column


def _columns(db: str, names: Iterable[str]) -> str:
    quote = connections[db].ops.quote_name
    return ", ".join(quote(_column(name)) for name in names)


def _table(db: str) -> str:
    return connections[db].ops.quote_name(CatalogueModel._meta.db_table)
