"""The SQLite store's cache of target checks: one `target_checks` row per
target URL, written and read by `linkwatch broken` and read by the report.
Looked up by URL, the table's primary key."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from pipelines.stores.base import CHECK_FIELDS, DOMAIN_CHUNK
from pipelines.stores.sqlite.sql import SQLiteConnected, chunks, marks, store_error

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

COLUMNS = ", ".join(CHECK_FIELDS)
REPLACE = f"INSERT OR REPLACE INTO target_checks ({COLUMNS}) VALUES ({marks(CHECK_FIELDS)})"


class SQLiteChecks(SQLiteConnected):
    """The `Store` methods of the target checks cache."""

    def target_checks(self, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
        if "target_checks" not in self.tables:  # a file from before the cache, read-only
            return {}
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunks(list(dict.fromkeys(urls)), DOMAIN_CHUNK):
            sql = f"SELECT {COLUMNS} FROM target_checks WHERE url IN ({marks(chunk)})"
            for row in self._query(sql, chunk):
                found[row[0]] = dict(zip(CHECK_FIELDS, row, strict=True))
        return found

    def write_target_checks(self, checks: Iterable[Mapping[str, Any]]) -> int:
        rows = [tuple(check.get(name) for name in CHECK_FIELDS) for check in checks]
        try:
            with self.db:
                self.db.executemany(REPLACE, rows)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        return len(rows)
