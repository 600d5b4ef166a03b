"""The SQLite store's paged reads for the dashboard: one page of edges at a
time under filters and a sort, and the day-by-day counts its charts draw.

A page must cost its LIMIT (and OFFSET), not the profile's size, so the
sort's index drives every query and the filters are tested on the rows it
walks: a filter column is written `+column`, which keeps SQLite's planner
from trading the ordered walk for a range scan and a sort of every match.
Indexes (schema.py): `domain` walks edges_by_source_domain, `first_seen`
edges_new_by_target, `last_seen` edges_by_last_seen; `authority` walks
domains_by_pagerank and probes edges_by_source_domain per ranked domain,
then the unranked domains' edges. A filter on one source domain is an
equality on edges_by_source_domain whatever the sort.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.stores.base import BROWSE_SORTS
from pipelines.stores.sqlite.queries import SQLiteQueries
from pipelines.stores.sqlite.schema import EDGE_COLUMNS
from pipelines.stores.sqlite.sql import like_escape

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.items import EdgeItem
    from pipelines.stores.base import EdgeFilter, Target

_ORDER = {
    "domain": "e.source_domain, e.source_url, e.target_url",
    "first_seen": "e.first_seen DESC, e.source_url, e.target_url",
    "last_seen": "e.last_seen DESC, e.source_url, e.target_url",
}
_QUALIFIED = ", ".join(f"e.{name}" for name in EDGE_COLUMNS.split(", "))


class SQLiteBrowse(SQLiteQueries):
    """`Store.browse_edges`, `edge_days`, `domain_spans` and `edge_totals` in SQL."""

    def browse_edges(
        self, target: Target, where: EdgeFilter, *, sort: str, offset: int, limit: int
    ) -> list[EdgeItem]:
        if sort not in BROWSE_SORTS:
            raise ValueError(f"unknown sort {sort!r}")
        clause, params = _filter_clause(target, where, sort)
        if sort == "authority":
            return self._by_authority(clause, params, offset, limit)
        sql = (
            f"SELECT {_QUALIFIED} FROM edges AS e WHERE {clause} "
            f"ORDER BY {_ORDER[sort]} LIMIT {int(limit)} OFFSET {int(offset)}"
        )
        return list(self._edges(sql, params, None))

    def _by_authority(
        self, clause: str, params: list[Any], offset: int, limit: int
    ) -> list[EdgeItem]:
        """Ranked domains' edges (pagerank high to low), then the unranked ones'.
        `domains` is missing from a file no `linkwatch rank` ever wrote."""
        ranked: list[EdgeItem] = []
        if "domains" in self.tables:
            sql = (
                f"SELECT {_QUALIFIED}, d.pagerank AS authority "
                "FROM domains AS d CROSS JOIN edges AS e ON e.source_domain = d.domain "
                f"WHERE {clause} ORDER BY d.pagerank DESC, d.domain, e.source_url, e.target_url "
                f"LIMIT {int(limit)} OFFSET {int(offset)}"
            )
            ranked = list(self._edges(sql, params, None))
            if len(ranked) == limit:
                return ranked
            if not ranked:  # past the ranked edges: how many there are
                count = (
                    "SELECT COUNT(*) FROM domains AS d CROSS JOIN edges AS e "
                    f"ON e.source_domain = d.domain WHERE {clause}"
                )
                offset -= next(self._tuples().execute(count, params))[0]
            else:
                offset = 0
            unranked = "NOT EXISTS (SELECT 1 FROM domains WHERE domain = e.source_domain) AND "
        else:
            unranked = ""
        sql = (
            f"SELECT {_QUALIFIED}, NULL AS authority FROM edges AS e WHERE {unranked}{clause} "
            f"ORDER BY {_ORDER['domain']} LIMIT {int(limit - len(ranked))} OFFSET {max(0, offset)}"
        )
        return ranked + list(self._edges(sql, params, None))

    def edge_days(self, target: Target) -> list[dict[str, Any]]:
        clause, params = self._target_clause(target)
        days: dict[str, dict[str, Any]] = {}
        for column, name in (("first_seen", "new"), ("lost_at", "lost")):
            sql = (
                f"SELECT substr({column}, 1, 10) AS day, COUNT(*) FROM edges "
                f"WHERE {clause} AND {column} IS NOT NULL GROUP BY day"
            )
            for day, count in self._tuples().execute(sql, params):
                days.setdefault(day, {"day": day, "new": 0, "lost": 0})[name] = count
        return [days[day] for day in sorted(days)]

    def domain_spans(self, target: Target) -> Iterator[tuple[str, str, str | None]]:
        clause, params = self._target_clause(target)
        # MAX(lost_at IS NULL): 1 while any edge of the domain is live.
        sql = (
            "SELECT source_domain, MIN(first_seen), MAX(lost_at IS NULL), MAX(lost_at) "
            f"FROM edges WHERE {clause} GROUP BY source_domain"
        )
        for domain, first, live, gone in self._tuples().execute(sql, params):
            yield domain, first, None if live else gone

    def edge_totals(self, target: Target, lost_since: str) -> dict[str, int]:
        clause, params = self._target_clause(target)
        sql = (
            "SELECT COUNT(*), COALESCE(SUM(nofollow = 0), 0) FROM edges "
            f"WHERE {clause} AND lost_at IS NULL"
        )
        live, followed = self._tuples().execute(sql, params).fetchone()
        sql = f"SELECT COUNT(*) FROM edges WHERE {clause} AND lost_at >= ?"
        (lost,) = self._tuples().execute(sql, [*params, lost_since]).fetchone()
        return {"live": live, "followed": followed, "lost": lost}


def _filter_clause(target: Target, where: EdgeFilter, sort: str) -> tuple[str, list[Any]]:
    """The WHERE of the edges `where` selects (edges aliased `e`); values only
    ever as parameters. Only the target and the source domain may pick an
    index (see the module docstring)."""
    tests: list[tuple[str, list[Any]]] = [("e.target_domain = ?", [target.domain])]
    if target.host is not None:
        tests.append(
            (
                "(+e.target_host = ? OR +e.target_host LIKE ? ESCAPE '\\')",
                [target.host, "%." + like_escape(target.host)],
            )
        )
    if where.state == "live":
        tests.append(("+e.lost_at IS NULL", []))
    elif where.state == "lost":
        tests.append(("+e.lost_at IS NOT NULL", []))
    optional = [
        ("+e.first_seen >= ?", where.since),
        ("+e.nofollow = ?", None if where.follow is None else int(not where.follow)),
        ("+e.link_type = ?", where.link_type),
        ("+e.placement = ?", where.placement),
        ("e.source_domain = ?", where.source_domain),
    ]
    tests += [(test, [value]) for test, value in optional if value is not None]
    if where.text:
        pattern = f"%{like_escape(where.text)}%"
        tests.append(
            (
                "(e.anchor LIKE ? ESCAPE '\\' OR e.source_url LIKE ? ESCAPE '\\' "
                "OR e.target_url LIKE ? ESCAPE '\\')",
                [pattern] * 3,
            )
        )
    return " AND ".join(test for test, _ in tests), [v for _, values in tests for v in values]
