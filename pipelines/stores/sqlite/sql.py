"""What every part of the SQLite store shares: the connection it reads
through (`SQLiteConnected`), `IN (...)` placeholders and chunks, LIKE
escaping, and how an sqlite3 error becomes a StoreError."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from pipelines.stores.base import Store, StoreError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence


class SQLiteConnected(Store):
    """The state the SQLite store's parts share, and its two ways to read."""

    path: str
    db: sqlite3.Connection
    tables: set[str]  # the tables the file had when opened

    def _query(self, sql: str, params: Sequence[Any]) -> Iterator[sqlite3.Row]:
        try:
            yield from self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    def _tuples(self) -> sqlite3.Cursor:
        # Plain tuples, not sqlite3.Row: cheaper for reads of many rows.
        cursor = self.db.cursor()
        cursor.row_factory = None
        return cursor


def marks(values: Sequence[Any]) -> str:
    """The placeholders of an `IN (...)` of these values."""
    return ", ".join("?" * len(values))


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to `size` items of an iterable, read as they are needed."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def store_error(exc: sqlite3.Error, path: str) -> StoreError:
    message = str(exc)
    # A lock held by another writer clears by itself; a read-only or full disk,
    # a missing directory or a corrupt file does not.
    transient = isinstance(exc, sqlite3.OperationalError) and "locked" in message.lower()
    return StoreError(f"SQLite store {path}: {message}", transient=transient)
