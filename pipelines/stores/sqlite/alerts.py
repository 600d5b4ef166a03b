"""The SQLite store's alert delivery state: one `alert_cursors` row per
(channel, domain), read and leased by `linkwatch alerts send`.

The lease is a compare-and-set in one transaction that starts with the write
lock (BEGIN IMMEDIATE), so two senders on one file, in two processes, cannot
both take it; the other waits at most the busy timeout for the lock, then finds
the lease held. Times are ISO 8601 UTC strings, which compare as text.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from pipelines.stores.sqlite.sql import SQLiteConnected, store_error

CURSOR_FIELDS = ("reported_to", "owner", "lease_until")

SELECT = f"SELECT {', '.join(CURSOR_FIELDS)} FROM alert_cursors WHERE channel = ? AND domain = ?"

CLAIM = """
UPDATE alert_cursors SET owner = ?, lease_until = ?
WHERE channel = ? AND domain = ? AND (owner IS NULL OR lease_until <= ?)
"""
# The cursor never moves back (SQLite's max() of a NULL is NULL: coalesce).
RELEASE = """
UPDATE alert_cursors
SET owner = NULL, lease_until = NULL, reported_to = coalesce(max(reported_to, ?1), reported_to, ?1)
WHERE channel = ?2 AND domain = ?3 AND owner = ?4
"""


class SQLiteAlerts(SQLiteConnected):
    """The `Store` methods of the alert delivery state."""

    def alert_cursor(self, channel: str, domain: str) -> dict[str, Any] | None:
        if "alert_cursors" not in self.tables:  # a file from before alerts, read-only
            return None
        rows = list(self._query(SELECT, (channel, domain)))
        return _state(rows[0]) if rows else None

    def claim_alert_cursor(
        self, channel: str, domain: str, owner: str, now: str, lease_until: str
    ) -> dict[str, Any] | None:
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "INSERT INTO alert_cursors (channel, domain) VALUES (?, ?) "
                    "ON CONFLICT (channel, domain) DO NOTHING",
                    (channel, domain),
                )
                taken = self.db.execute(CLAIM, (owner, lease_until, channel, domain, now))
                if taken.rowcount == 0:
                    return None
                row = self.db.execute(SELECT, (channel, domain)).fetchone()
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        return _state(row)

    def release_alert_cursor(
        self, channel: str, domain: str, owner: str, reported_to: str | None = None
    ) -> bool:
        try:
            with self.db:
                released = self.db.execute(RELEASE, (reported_to, channel, domain, owner))
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc
        return released.rowcount == 1


def _state(row: sqlite3.Row) -> dict[str, Any]:
    return dict(zip(CURSOR_FIELDS, row, strict=True))
