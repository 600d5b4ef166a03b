"""The embedded store: one SQLite file (stdlib sqlite3), no server.

WAL mode lets `linkwatch` queries read while a crawl writes. A batch of pages
is one transaction. Indexes serve every query the CLI makes:

    edges(source_url, target_url)        unique: the edge identity, upserts
    edges(target_domain, lost_at, ...)   backlinks, refdomains, anchors, pages, lost,
                                         recrawl of a domain
    edges(target_domain, first_seen)     new edges of a domain
    pages(url)                           primary key: last crawl of a linking page
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from pipelines.stores.base import (
    Store,
    StoreError,
    Target,
    can_lose,
    lost_reason_for_status,
    lost_state_of_present_edge,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.items import Edge, PageItem
    from pipelines.stores.base import State

SCHEMA = """
CREATE TABLE IF NOT EXISTS edges (
    id            INTEGER PRIMARY KEY,
    source_url    TEXT NOT NULL,
    target_url    TEXT NOT NULL,
    source_domain TEXT NOT NULL,
    target_domain TEXT NOT NULL,
    target_host   TEXT NOT NULL,
    anchor        TEXT NOT NULL,
    alt           TEXT NOT NULL,
    rel           TEXT NOT NULL,          -- JSON list
    nofollow      INTEGER NOT NULL,
    link_type     TEXT NOT NULL,
    source_title  TEXT NOT NULL,
    source_status INTEGER NOT NULL,
    first_seen    TEXT NOT NULL,          -- ISO 8601 UTC
    last_seen     TEXT NOT NULL,
    lost_at       TEXT,                   -- NULL while the edge is live
    lost_reason   TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS edges_identity ON edges (source_url, target_url);
CREATE INDEX IF NOT EXISTS edges_by_target
    ON edges (target_domain, lost_at, source_domain, first_seen);
CREATE INDEX IF NOT EXISTS edges_new_by_target ON edges (target_domain, first_seen);
CREATE TABLE IF NOT EXISTS pages (
    url         TEXT PRIMARY KEY,
    domain      TEXT NOT NULL,
    status      INTEGER NOT NULL,
    title       TEXT NOT NULL,
    outlinks    INTEGER NOT NULL,
    edges       INTEGER NOT NULL,
    first_fetched TEXT NOT NULL,
    fetched_at  TEXT NOT NULL
) WITHOUT ROWID;
"""

UPSERT_EDGE = """
INSERT INTO edges (source_url, target_url, source_domain, target_domain, target_host,
                   anchor, alt, rel, nofollow, link_type, source_title, source_status,
                   first_seen, last_seen, lost_at, lost_reason)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source_url, target_url) DO UPDATE SET
    source_domain = excluded.source_domain,
    target_domain = excluded.target_domain,
    target_host = excluded.target_host,
    anchor = excluded.anchor,
    alt = excluded.alt,
    rel = excluded.rel,
    nofollow = excluded.nofollow,
    link_type = excluded.link_type,
    source_title = excluded.source_title,
    source_status = excluded.source_status,
    last_seen = max(edges.last_seen, excluded.last_seen),
    lost_at = excluded.lost_at,
    lost_reason = excluded.lost_reason
"""

UPSERT_PAGE = """
INSERT INTO pages (url, domain, status, title, outlinks, edges, first_fetched, fetched_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (url) DO UPDATE SET
    domain = excluded.domain, status = excluded.status, title = excluded.title,
    outlinks = excluded.outlinks, edges = excluded.edges,
    fetched_at = max(pages.fetched_at, excluded.fetched_at)
"""

EDGE_COLUMNS = (
    "source_url, target_url, source_domain, target_domain, target_host, anchor, alt, rel, "
    "nofollow, link_type, source_title, source_status, first_seen, last_seen, lost_at, "
    "lost_reason"
)


class SQLiteStore(Store):
    """Pages and edges in one SQLite database file."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = str(path)
        try:
            if readonly:
                if not Path(self.path).exists():
                    raise StoreError(f"no linkwatch database at {self.path}", transient=False)
                uri = f"{Path(self.path).resolve().as_uri()}?mode=ro"
                self.db = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            else:
                self.db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc
        self.db.row_factory = sqlite3.Row

    def close(self) -> None:
        self.db.close()

    # --- writing -----------------------------------------------------------------

    def write_pages(self, pages: list[PageItem]) -> None:
        try:
            with self.db:
                for page in pages:
                    self._write_page(page)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc

    def _write_page(self, page: PageItem) -> None:
        seen_at = page["fetched_at"]
        edges = page["edges"]
        self.db.execute(
            UPSERT_PAGE,
            (
                page["url"],
                page["domain"],
                page["status"],
                page["title"],
                page["outlinks"],
                len(edges),
                seen_at,
                seen_at,
            ),
        )
        previous = {
            row["target_url"]: dict(row)
            for row in self.db.execute(
                "SELECT id, target_url, target_host, nofollow, lost_at, lost_reason FROM edges "
                "WHERE source_url = ?",
                (page["url"],),
            )
        }
        present = {edge["target_url"] for edge in edges}
        reason = lost_reason_for_status(page["status"])
        judged = can_lose(page)
        gone = [
            (seen_at, reason, row["id"])
            for target, row in previous.items()
            if target not in present and row["lost_at"] is None and judged(row["target_host"])
        ]
        if gone:
            self.db.executemany("UPDATE edges SET lost_at = ?, lost_reason = ? WHERE id = ?", gone)
        if edges:
            self.db.executemany(UPSERT_EDGE, [self._edge_row(e, previous, seen_at) for e in edges])

    @staticmethod
    def _edge_row(e: Edge, previous: dict[str, dict[str, Any]], seen_at: str) -> tuple:
        lost_at, lost_reason = lost_state_of_present_edge(
            previous.get(e["target_url"]), e["nofollow"], seen_at
        )
        return (
            e["source_url"],
            e["target_url"],
            e["source_domain"],
            e["target_domain"],
            e["target_host"],
            e["anchor"],
            e["alt"],
            orjson.dumps(e["rel"]).decode(),
            int(e["nofollow"]),
            e["link_type"],
            e["source_title"],
            e["source_status"],
            seen_at,
            seen_at,
            lost_at,
            lost_reason,
        )

    # --- queries -------------------------------------------------------------------

    def _target_clause(self, target: Target) -> tuple[str, list[Any]]:
        if target.host is None:
            return "target_domain = ?", [target.domain]
        return (
            "target_domain = ? AND (target_host = ? OR target_host LIKE ? ESCAPE '\\')",
            [target.domain, target.host, "%." + _like_escape(target.host)],
        )

    def backlinks(
        self,
        target: Target,
        *,
        state: State = "live",
        since: str | None = None,
        dofollow: bool = False,
        limit: int | None = None,
    ) -> Iterator[Edge]:
        where, params = self._target_clause(target)
        if state == "live":
            where += " AND lost_at IS NULL"
        elif state == "lost":
            where += " AND lost_at IS NOT NULL"
        if since:
            where += " AND first_seen >= ?"
            params.append(since)
        if dofollow:
            where += " AND nofollow = 0"
        sql = (
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE {where} "
            "ORDER BY source_domain, source_url, target_url"
        )
        return self._edges(sql, params, limit)

    def new(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[Edge]:
        where, params = self._target_clause(target)
        sql = (
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE {where} AND first_seen >= ? "
            "ORDER BY first_seen DESC, source_url, target_url"
        )
        return self._edges(sql, [*params, since], limit)

    def lost(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[Edge]:
        where, params = self._target_clause(target)
        sql = (
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE {where} AND lost_at >= ? "
            "ORDER BY lost_at DESC, source_url, target_url"
        )
        return self._edges(sql, [*params, since], limit)

    def _edges(self, sql: str, params: list[Any], limit: int | None) -> Iterator[Edge]:
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._query(sql, params):
            edge = dict(row)
            edge["rel"] = orjson.loads(edge["rel"])
            edge["nofollow"] = bool(edge["nofollow"])
            yield edge

    def refdomains(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        where, params = self._target_clause(target)
        sql = (
            "SELECT source_domain, COUNT(*) AS edges, SUM(nofollow = 0) AS dofollow, "
            "MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen "
            f"FROM edges WHERE {where} AND lost_at IS NULL "
            "GROUP BY source_domain ORDER BY edges DESC, source_domain"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._query(sql, params):
            yield dict(row)

    def anchors(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        where, params = self._target_clause(target)
        sql = (
            "SELECT anchor, COUNT(*) AS edges, COUNT(DISTINCT source_domain) AS refdomains "
            f"FROM edges WHERE {where} AND lost_at IS NULL "
            "GROUP BY anchor ORDER BY edges DESC, anchor"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._query(sql, params):
            yield dict(row)

    def pages(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        where, params = self._target_clause(target)
        sql = (
            "SELECT target_url, COUNT(*) AS edges, SUM(nofollow = 0) AS dofollow, "
            "COUNT(DISTINCT source_domain) AS refdomains "
            f"FROM edges WHERE {where} AND lost_at IS NULL "
            "GROUP BY target_url ORDER BY edges DESC, refdomains DESC, target_url"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._query(sql, params):
            yield dict(row)

    def linking_pages(
        self, target: Target, *, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        where, params = self._target_clause(target)
        # NULL (a page never stored) sorts first: it is the most overdue.
        sql = (
            "SELECT linking.url, pages.fetched_at AS last_crawled "
            f"FROM (SELECT DISTINCT source_url AS url FROM edges WHERE {where}) AS linking "
            "LEFT JOIN pages ON pages.url = linking.url "
            "ORDER BY last_crawled, linking.url"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._query(sql, params):
            yield dict(row)

    def _query(self, sql: str, params: list[Any]) -> Iterator[sqlite3.Row]:
        try:
            yield from self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _store_error(exc: sqlite3.Error, path: str) -> StoreError:
    message = str(exc)
    # A lock held by another writer clears by itself; a read-only or full disk,
    # a missing directory or a corrupt file does not.
    transient = isinstance(exc, sqlite3.OperationalError) and "locked" in message.lower()
    return StoreError(f"SQLite store {path}: {message}", transient=transient)
