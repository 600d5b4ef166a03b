"""The SQLite store's keywords: one `keywords` row per (watched domain,
keyword), written by `linkwatch keywords` and read by `linkwatch anchors`.
Looked up by domain, the leading column of the table's primary key."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from pipelines.stores.sqlite.sql import SQLiteConnected, store_error

if TYPE_CHECKING:
    from collections.abc import Iterable

ADD = "INSERT OR IGNORE INTO keywords (domain, keyword) VALUES (?, ?)"
REMOVE = "DELETE FROM keywords WHERE domain = ? AND keyword = ?"


class SQLiteKeywords(SQLiteConnected):
    """The `Store` methods of the keywords of watched domains."""

    def keywords(self, domain: str) -> list[str]:
        if "keywords" not in self.tables:  # a file from before keywords, read-only
            return []
        sql = "SELECT keyword FROM keywords WHERE domain = ? ORDER BY keyword"
        return [row[0] for row in self._query(sql, (domain,))]

    def add_keywords(self, domain: str, keywords: Iterable[str]) -> int:
        return self._change(ADD, domain, keywords)

    def remove_keywords(self, domain: str, keywords: Iterable[str]) -> int:
        return self._change(REMOVE, domain, keywords)

    def _change(self, sql: str, domain: str, keywords: Iterable[str]) -> int:
        """Run `sql` once per keyword, in one transaction; rows changed."""
        changed = 0
        try:
            with self.db:
                for keyword in dict.fromkeys(keywords):
                    changed += self.db.execute(sql, (domain, keyword)).rowcount
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        return changed
