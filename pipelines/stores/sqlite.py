"""The embedded store: one SQLite file (stdlib sqlite3), no server.

WAL mode lets `linkwatch` queries read while a crawl writes. A batch of pages
is one transaction, begun with the write lock (several crawl processes may
write to one file): it reads its pages' stored edges and domain links in a few
`IN (...)` queries, then writes table by table (`executemany`). Indexes serve
every query the CLI makes:

    edges(source_url, target_url)        unique: the edge identity, upserts
    edges(target_domain, lost_at, ...)   backlinks, refdomains, anchors, pages, lost,
                                         recrawl of a domain
    edges(target_domain, first_seen)     new edges of a domain
    pages(url)                           primary key: last crawl of a linking page
    pages(domain)                        pages crawled per domain (toxic rules)
    domain_links(source, target)         primary key: the domain graph by linking domain
    domain_links(target, source)         who links to a domain (gap)
    domains(domain)                      primary key: authority of a domain

The domain graph is kept by deltas: a page's previous `domain_links` (JSON in
its pages row) is subtracted and the new one added, in the batch's transaction.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from pipelines.stores.base import (
    DOMAIN_CHUNK,
    Store,
    StoreError,
    Target,
    can_lose,
    domain_links_change,
    lost_reason_for_status,
    lost_state_of_present_edge,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

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
    fetched_at  TEXT NOT NULL,
    domain_links TEXT                     -- JSON {domain: links}; NULL: never given
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS domain_links (
    source_domain TEXT NOT NULL,
    target_domain TEXT NOT NULL,
    links         INTEGER NOT NULL,       -- links from source's pages to target's
    pages         INTEGER NOT NULL,       -- source's pages with such a link
    PRIMARY KEY (source_domain, target_domain)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS domain_links_by_target ON domain_links (target_domain, source_domain);
CREATE TABLE IF NOT EXISTS domains (
    domain        TEXT PRIMARY KEY,
    pagerank      REAL NOT NULL,          -- 0-100, log-scaled (the authority)
    harmonic      REAL NOT NULL,          -- 0-100, share of the highest
    pagerank_raw  REAL NOT NULL,
    harmonic_raw  REAL NOT NULL,
    ranked_at     TEXT NOT NULL
) WITHOUT ROWID;
"""
# Created after the migration below (a pages table from before it lacks columns).
SCHEMA_INDEXES = """
CREATE INDEX IF NOT EXISTS pages_by_domain ON pages (domain);
"""

_UPSERT_EDGE = """
INSERT INTO edges (source_url, target_url, source_domain, target_domain, target_host,
                   anchor, alt, rel, nofollow, link_type, source_title, source_status,
                   first_seen, last_seen, lost_at, lost_reason)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {lost})
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
UPSERT_EDGE = _UPSERT_EDGE.format(lost="?, ?")
# The same for a live edge, without its last two values: the sqlite3 module
# binds None far slower than a string, and most edges written are live.
UPSERT_LIVE_EDGE = _UPSERT_EDGE.format(lost="NULL, NULL")

UPSERT_PAGE = """
INSERT INTO pages (url, domain, status, title, outlinks, edges, first_fetched, fetched_at,
                   domain_links)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (url) DO UPDATE SET
    domain = excluded.domain, status = excluded.status, title = excluded.title,
    outlinks = excluded.outlinks, edges = excluded.edges,
    fetched_at = max(pages.fetched_at, excluded.fetched_at),
    domain_links = coalesce(excluded.domain_links, pages.domain_links)
"""

ADD_DOMAIN_LINKS = """
INSERT INTO domain_links (source_domain, target_domain, links, pages) VALUES (?, ?, ?, ?)
ON CONFLICT (source_domain, target_domain) DO UPDATE SET
    links = domain_links.links + excluded.links, pages = domain_links.pages + excluded.pages
"""

# Pages per `IN (...)` of a batch's reads.
READ_CHUNK = 500

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
                self._migrate()
                self.db.executescript(SCHEMA_INDEXES)
            self.tables = {
                row[0]
                for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc
        self.db.row_factory = sqlite3.Row

    def _migrate(self) -> None:
        """Columns added since a database file was made."""
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(pages)")}
        if "domain_links" not in columns:
            self.db.execute("ALTER TABLE pages ADD COLUMN domain_links TEXT")

    def close(self) -> None:
        self.db.close()

    # --- writing -----------------------------------------------------------------

    def write_pages(self, pages: list[PageItem]) -> None:
        try:
            with self.db:
                # The write lock before the first read: what a batch reads (its pages'
                # previous edges and domain links) cannot change under it before it
                # writes, when other crawl processes write to the same file.
                self.db.execute("BEGIN IMMEDIATE")
                graph: dict[tuple[str, str], list[int]] = {}
                for run in _runs(pages):
                    self._write_run(run, graph)
                self._write_graph(graph)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc

    def _write_run(self, pages: list[PageItem], graph: dict[tuple[str, str], list[int]]) -> None:
        """Pages that share no URL: read what they had in a few queries, then write
        them table by table (executemany), not page by page."""
        stored_links = self._stored_domain_links(
            [page["url"] for page in pages if page.get("domain_links") is not None]
        )
        previous_edges = self._previous_edges([page["url"] for page in pages])
        page_rows = []
        gone = []
        live_rows = []  # UPSERT_LIVE_EDGE
        edge_rows = []  # UPSERT_EDGE
        edge_row = self._edge_row
        for page in pages:
            url = page["url"]
            seen_at = page["fetched_at"]
            edges = page["edges"]
            domain_links = page.get("domain_links")
            if domain_links is not None:
                stored = stored_links.get(url)
                before = orjson.loads(stored) if stored else None
                for target, (links, count) in domain_links_change(before, domain_links).items():
                    pair = graph.setdefault((page["domain"], target), [0, 0])
                    pair[0] += links
                    pair[1] += count
            page_rows.append(
                (
                    url,
                    page["domain"],
                    page["status"],
                    page["title"],
                    page["outlinks"],
                    len(edges),
                    seen_at,
                    seen_at,
                    None if domain_links is None else orjson.dumps(domain_links).decode(),
                )
            )
            previous = previous_edges.get(url)
            if previous is None:  # nothing stored: every edge is new, so live
                live_rows.extend([_live_edge_row(e, seen_at) for e in edges])
                continue
            present = {edge["target_url"] for edge in edges}
            reason = lost_reason_for_status(page["status"])
            judged = can_lose(page)
            gone.extend(
                (seen_at, reason, row["id"])
                for target, row in previous.items()
                if target not in present and row["lost_at"] is None and judged(row["target_host"])
            )
            rows = [edge_row(e, previous, seen_at) for e in edges]
            # A page's edges go all one way: an edge twice in a page keeps its order.
            if any(row[-2:] != (None, None) for row in rows):
                edge_rows.extend(rows)
            else:
                live_rows.extend([row[:-2] for row in rows])
        self.db.executemany(UPSERT_PAGE, page_rows)
        if gone:
            self.db.executemany("UPDATE edges SET lost_at = ?, lost_reason = ? WHERE id = ?", gone)
        # No edge is in both: pages of a run have different source URLs.
        if live_rows:
            self.db.executemany(UPSERT_LIVE_EDGE, live_rows)
        if edge_rows:
            self.db.executemany(UPSERT_EDGE, edge_rows)

    def _stored_domain_links(self, urls: list[str]) -> dict[str, str | None]:
        stored: dict[str, str | None] = {}
        cursor = self._tuples()
        for chunk in _chunks(urls, READ_CHUNK):
            sql = f"SELECT url, domain_links FROM pages WHERE url IN ({_marks(chunk)})"
            stored.update(cursor.execute(sql, chunk))
        return stored

    def _previous_edges(self, urls: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """{source_url: {target_url: the stored edge's state}} of pages' stored edges."""
        previous: dict[str, dict[str, dict[str, Any]]] = {}
        cursor = self._tuples()
        for chunk in _chunks(urls, READ_CHUNK):
            sql = (
                "SELECT source_url, id, target_url, target_host, nofollow, lost_at, lost_reason "
                f"FROM edges WHERE source_url IN ({_marks(chunk)})"
            )
            for source, id_, target, host, nofollow, lost_at, reason in cursor.execute(sql, chunk):
                previous.setdefault(source, {})[target] = {
                    "id": id_,
                    "target_url": target,
                    "target_host": host,
                    "nofollow": nofollow,
                    "lost_at": lost_at,
                    "lost_reason": reason,
                }
        return previous

    def _tuples(self) -> sqlite3.Cursor:
        # Plain tuples, not sqlite3.Row: cheaper for reads of many rows.
        cursor = self.db.cursor()
        cursor.row_factory = None
        return cursor

    def _write_graph(self, graph: dict[tuple[str, str], list[int]]) -> None:
        """Add a batch's changes to the domain graph; drop pairs no page has left."""
        changed = [
            (source, target, links, pages)
            for (source, target), (links, pages) in graph.items()
            if links or pages
        ]
        if not changed:
            return
        self.db.executemany(ADD_DOMAIN_LINKS, changed)
        gone = [(s, t) for s, t, _, pages in changed if pages < 0]
        if gone:
            self.db.executemany(
                "DELETE FROM domain_links WHERE source_domain = ? AND target_domain = ? "
                "AND pages <= 0",
                gone,
            )

    @staticmethod
    def _edge_row(e: Edge, previous: Mapping[str, Mapping[str, Any]], seen_at: str) -> tuple:
        """An edge's UPSERT_EDGE values, given its page's stored edges."""
        stored = previous.get(e["target_url"])
        return (
            *_live_edge_row(e, seen_at),
            # Nothing stored, nothing to be lost (most edges are new).
            *(
                (None, None)
                if stored is None
                else lost_state_of_present_edge(stored, e["nofollow"], seen_at)
            ),
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
        source_domains: Sequence[str] | None = None,
    ) -> Iterator[Edge]:
        where, params = self._backlinks_clause(target, state, since, dofollow)
        if source_domains is not None:
            where += f" AND source_domain IN ({_marks(source_domains)})"
            params.extend(source_domains)
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

    # --- the domain graph and authority ---------------------------------------------

    def domain_graph(self) -> Iterator[tuple[str, str, int, int]]:
        if "domain_links" not in self.tables:
            return
        # Plain tuples, not sqlite3.Row: this reads every pair of the graph.
        cursor = self.db.cursor()
        cursor.row_factory = None
        try:
            yield from cursor.execute(
                "SELECT source_domain, target_domain, links, pages FROM domain_links"
            )
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc

    def linking_domains(self, domains: Sequence[str]) -> dict[str, set[str]]:
        linking: dict[str, set[str]] = {domain: set() for domain in domains}
        for chunk in _chunks(list(linking), DOMAIN_CHUNK):
            if "domain_links" in self.tables:
                sql = (
                    "SELECT target_domain, source_domain FROM domain_links "
                    f"WHERE target_domain IN ({_marks(chunk)})"
                )
                for target, source in self._query(sql, chunk):
                    linking[target].add(source)
            sql = (
                "SELECT DISTINCT target_domain, source_domain FROM edges "
                f"WHERE target_domain IN ({_marks(chunk)}) AND lost_at IS NULL"
            )
            for target, source in self._query(sql, chunk):
                if source != target:
                    linking[target].add(source)
        return linking

    def domain_profiles(
        self, domains: Sequence[str], watched: Collection[str]
    ) -> dict[str, dict[str, Any]]:
        profiles = {
            domain: {"pages": 0, "external_links": 0, "linked_domains": 0, "watched": []}
            for domain in domains
        }
        watched = set(watched)
        for chunk in _chunks(list(profiles), DOMAIN_CHUNK):
            sql = (
                "SELECT domain, COUNT(*) FROM pages "
                f"WHERE domain IN ({_marks(chunk)}) GROUP BY domain"
            )
            for domain, count in self._query(sql, chunk):
                profiles[domain]["pages"] = count
            if "domain_links" not in self.tables:
                continue
            sql = (
                "SELECT source_domain, target_domain, links FROM domain_links "
                f"WHERE source_domain IN ({_marks(chunk)})"
            )
            for source, target, links in self._query(sql, chunk):
                profile = profiles[source]
                profile["external_links"] += links
                profile["linked_domains"] += 1
                if target in watched:
                    profile["watched"].append(target)
        for profile in profiles.values():
            profile["watched"].sort()
        return profiles

    def watched_domains(self) -> list[str]:
        # One index probe per domain, not a scan of every edge.
        found: list[str] = []
        try:
            row = self.db.execute("SELECT MIN(target_domain) FROM edges").fetchone()
            while row is not None and row[0] is not None:
                found.append(row[0])
                row = self.db.execute(
                    "SELECT MIN(target_domain) FROM edges WHERE target_domain > ?", (row[0],)
                ).fetchone()
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc
        return found

    def write_authority(self, rows: Iterable[Mapping[str, Any]], ranked_at: str) -> int:
        count = 0
        try:
            with self.db:
                self.db.execute("DELETE FROM domains")
                for chunk in _batches(rows, 10_000):
                    self.db.executemany(
                        "INSERT INTO domains (domain, pagerank, harmonic, pagerank_raw, "
                        "harmonic_raw, ranked_at) VALUES (?, ?, ?, ?, ?, ?)",
                        [
                            (
                                r["domain"],
                                r["pagerank"],
                                r["harmonic"],
                                r["pagerank_raw"],
                                r["harmonic_raw"],
                                ranked_at,
                            )
                            for r in chunk
                        ],
                    )
                    count += len(chunk)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc
        return count

    def authority(self, domains: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        if "domains" not in self.tables:
            return found
        for chunk in _chunks(sorted(set(domains)), DOMAIN_CHUNK):
            sql = (
                "SELECT domain, pagerank, harmonic, pagerank_raw, harmonic_raw, ranked_at "
                f"FROM domains WHERE domain IN ({_marks(chunk)})"
            )
            for row in self._query(sql, chunk):
                record = dict(row)
                found[record.pop("domain")] = record
        return found

    def _query(self, sql: str, params: list[Any]) -> Iterator[sqlite3.Row]:
        try:
            yield from self.db.execute(sql, params)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc


def _live_edge_row(e: Edge, seen_at: str) -> tuple:
    """An edge's UPSERT_LIVE_EDGE values."""
    rel = e["rel"]
    return (
        e["source_url"],
        e["target_url"],
        e["source_domain"],
        e["target_domain"],
        e["target_host"],
        e["anchor"],
        e["alt"],
        "[]" if rel == [] else orjson.dumps(rel).decode(),  # most links have no rel
        int(e["nofollow"]),
        e["link_type"],
        e["source_title"],
        e["source_status"],
        seen_at,
        seen_at,
    )


def _runs(pages: list[PageItem]) -> Iterator[list[PageItem]]:
    """A batch in runs of pages that share no source URL, in order: a run reads
    before it writes, so a page twice in a batch must see its first write."""
    run: list[PageItem] = []
    urls: set[str] = set()
    for page in pages:
        sources = {edge["source_url"] for edge in page["edges"]}
        sources.add(page["url"])
        if not urls.isdisjoint(sources):
            yield run
            run, urls = [], set()
        run.append(page)
        urls |= sources
    if run:
        yield run


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Lists of up to `size` items of an iterable, read as they are needed."""
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _store_error(exc: sqlite3.Error, path: str) -> StoreError:
    message = str(exc)
    # A lock held by another writer clears by itself; a read-only or full disk,
    # a missing directory or a corrupt file does not.
    transient = isinstance(exc, sqlite3.OperationalError) and "locked" in message.lower()
    return StoreError(f"SQLite store {path}: {message}", transient=transient)
