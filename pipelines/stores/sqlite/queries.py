"""The SQLite store's edge queries: backlinks, referring domains, anchors,
new and lost edges, target pages and the linking pages a recrawl fetches.
Each filters on `target_domain` first, the leading key of an edges index."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from crawler.items import Edge, names
from pipelines.stores.base import EXPANSION_FIELDS, RECRAWL_FIELDS, UNKNOWN_PLACEMENT
from pipelines.stores.sqlite.schema import EDGE_COLUMNS
from pipelines.stores.sqlite.sql import SQLiteConnected, chunks, like_escape, marks

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from crawler.items import EdgeItem
    from pipelines.stores.base import State, Target


# What SQLite keeps as JSON text and as 0 or 1, given back as lists and bools.
JSON_FIELDS = names(Edge, kind="list")
BOOL_FIELDS = names(Edge, kind="bool")


class SQLiteQueries(SQLiteConnected):
    """The `Store` queries over the edges and pages tables."""

    def expansions(self) -> dict[str, dict[str, Any]]:
        if "expansions" not in self.tables:  # a file from before discovery, read-only
            return {}
        sql = (
            "SELECT domain, via, via_domain, hop, found_order, found_at FROM expansions "
            "ORDER BY found_order, domain"
        )
        return {
            row[0]: dict(zip(EXPANSION_FIELDS, row, strict=True))
            for row in self._tuples().execute(sql)
        }

    def _target_clause(self, target: Target) -> tuple[str, list[Any]]:
        if target.host is None:
            return "target_domain = ?", [target.domain]
        return (
            "target_domain = ? AND (target_host = ? OR target_host LIKE ? ESCAPE '\\')",
            [target.domain, target.host, "%." + like_escape(target.host)],
        )

    def backlinks(
        self,
        target: Target,
        *,
        state: State = "live",
        since: str | None = None,
        dofollow: bool = False,
        limit: int | None = None,
        source_domains: Sequence[str] | None = None,
        placement: str | None = None,
    ) -> Iterator[EdgeItem]:
        where, params = self._backlinks_clause(target, state, since, dofollow)
        if source_domains is not None:
            where += f" AND source_domain IN ({marks(source_domains)})"
            params.extend(source_domains)
        if placement is not None:  # index edges_by_placement
            where += " AND placement = ?"
            params.append("" if placement == UNKNOWN_PLACEMENT else placement)
        sql = (
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE {where} "
            "ORDER BY source_domain, source_url, target_url"
        )
        return self._edges(sql, params, limit)

    def source_domains(
        self,
        target: Target,
        *,
        state: State = "live",
        since: str | None = None,
        dofollow: bool = False,
    ) -> list[str]:
        where, params = self._backlinks_clause(target, state, since, dofollow)
        sql = f"SELECT DISTINCT source_domain FROM edges WHERE {where} ORDER BY source_domain"
        return [row[0] for row in self._query(sql, params)]

    def _backlinks_clause(
        self, target: Target, state: State, since: str | None, dofollow: bool
    ) -> tuple[str, list[Any]]:
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
        return where, params

    def new(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[EdgeItem]:
        where, params = self._target_clause(target)
        sql = (
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE {where} AND first_seen >= ? "
            "ORDER BY first_seen DESC, source_url, target_url"
        )
        return self._edges(sql, [*params, since], limit)

    def lost(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[EdgeItem]:
        where, params = self._target_clause(target)
        sql = (
            f"SELECT {EDGE_COLUMNS} FROM edges WHERE {where} AND lost_at >= ? "
            "ORDER BY lost_at DESC, source_url, target_url"
        )
        return self._edges(sql, [*params, since], limit)

    def _edges(self, sql: str, params: list[Any], limit: int | None) -> Iterator[EdgeItem]:
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._query(sql, params):
            edge = dict(row)
            for name in JSON_FIELDS:
                edge[name] = orjson.loads(edge[name])
            for name in BOOL_FIELDS:
                edge[name] = bool(edge[name])
            yield edge

    def refdomains(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._grouped(
            target,
            "SELECT source_domain, COUNT(*) AS edges, SUM(nofollow = 0) AS dofollow, "
            "MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen",
            "GROUP BY source_domain ORDER BY edges DESC, source_domain",
            limit,
        )

    def anchors(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._grouped(
            target,
            "SELECT anchor, COUNT(*) AS edges, COUNT(DISTINCT source_domain) AS refdomains",
            "GROUP BY anchor ORDER BY edges DESC, anchor",
            limit,
        )

    def pages(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self._grouped(
            target,
            "SELECT target_url, COUNT(*) AS edges, SUM(nofollow = 0) AS dofollow, "
            "COUNT(DISTINCT source_domain) AS refdomains",
            "GROUP BY target_url ORDER BY edges DESC, refdomains DESC, target_url",
            limit,
        )

    def _grouped(
        self, target: Target, select: str, group: str, limit: int | None
    ) -> Iterator[dict[str, Any]]:
        """Rows of `select` over the live edges into `target`, grouped and ordered."""
        where, params = self._target_clause(target)
        sql = f"{select} FROM edges WHERE {where} AND lost_at IS NULL {group}"
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

    # --- the linking pages' language and address (link quality) ----------------

    def page_facts(self, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for chunk in chunks(list(urls), 500):
            sql = f"SELECT url, lang, ip FROM pages WHERE url IN ({marks(chunk)})"
            for url, lang, ip in self._query(sql, chunk):
                found[url] = {"lang": lang, "ip": ip}
        return found

    def domain_addresses(self, domains: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in chunks(list(domains), 500):
            # SQLite: the bare column comes from the row of MAX (the latest page).
            sql = (
                "SELECT domain, ip, MAX(fetched_at) FROM pages "
                f"WHERE domain IN ({marks(chunk)}) AND ip IS NOT NULL GROUP BY domain"
            )
            found.update((row[0], row[1]) for row in self._query(sql, chunk))
        return found

    # --- freshness ----------------------------------------------------------------

    def fetched_since(self, urls: Sequence[str], since: str) -> set[str]:
        found: set[str] = set()
        for chunk in chunks(list(urls), 500):
            sql = f"SELECT url FROM pages WHERE url IN ({marks(chunk)}) AND fetched_at >= ?"
            found.update(row[0] for row in self._query(sql, [*chunk, since]))
        return found

    def recrawl_pages(
        self,
        domains: Sequence[str] | None = None,
        *,
        due_before: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        if domains is None:
            domains = self.watched_domains()
        domains = list(domains)
        if not domains:
            return
        params: list[Any] = list(domains)
        where = ""
        if due_before is not None:
            # A page without a schedule (stored before there was one) is due.
            where = "AND (pages.due_at IS NULL OR pages.due_at <= ?)"
        # A file made before the schedule, opened read-only, lacks its columns:
        # every page is due.
        columns = {row[1] for row in self._query("PRAGMA table_info(pages)", [])}
        if "due_at" in columns and where:
            params.append(due_before)
        else:
            where = ""
        selected = ", ".join(_recrawl_column(name, columns) for name in RECRAWL_FIELDS)
        sql = (
            f"SELECT {selected} FROM pages "
            "WHERE pages.url IN (SELECT source_url FROM edges "
            f"WHERE target_domain IN ({marks(domains)})) {where} "
            "ORDER BY due_at IS NOT NULL, due_at, url"
        )
        if limit:
            sql += f" LIMIT {int(limit)}"
        for row in self._query(sql, params):
            yield dict(row)


# Validators sent back on a recrawl: none for a page stored before 0.4 (no
# address), so it is fetched whole once and its edges gain placement and context.
VALIDATORS = ("etag", "last_modified")


def _recrawl_column(name: str, columns: set[str]) -> str:
    if name not in columns:
        return f"NULL AS {name}"
    if name in VALIDATORS and "ip" in columns:
        return f"CASE WHEN pages.ip IS NULL THEN NULL ELSE pages.{name} END AS {name}"
    return f"pages.{name}"
