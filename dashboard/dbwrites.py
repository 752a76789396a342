"""Writes that take turns within one process, for SQLite's single write lock.

SQLite lets one connection write at a time; a writer that finds the lock taken sleeps in
SQLite's busy handler (1, 2, 5, 10 … ms) before trying again. A deletion job's threads write
several times per model, so on SQLite they would spend much of a job asleep. A thread that
runs inside `taking_turns()` makes its `write()` blocks wait on one lock in this process
instead: the next writer starts as soon as the last one commits. Elsewhere (web requests, and
any thread on PostgreSQL, which locks rows), `write()` does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_turn = threading.RLock()
_local = threading.local()


@contextmanager
def taking_turns() -> Iterator[None]:
    """This thread's `write()` blocks take turns with those of other threads doing so."""
    _local.on = connection.vendor == "sqlite"
    try:
        yield
    finally:
        _local.on = False


@contextmanager
def write() -> Iterator[None]:
    """One write (a statement, or a short transaction) of a thread that takes turns."""
    if getattr(_local, "on", False):
        with _turn:
            yield
    else:
        yield
