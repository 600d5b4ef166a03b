"""The SQLite write path: a batch of pages in one transaction.

The transaction begins with the write lock (several crawl processes may write
to one file). The batch goes in runs of pages that share no URL; a run reads
its pages' stored edges and domain links in a few `IN (...)` queries, then
writes table by table (`executemany`), not page by page. The domain graph is
kept by deltas: a page's previous `domain_links` (JSON in its pages row) is
subtracted and the new one added, in the batch's transaction. Each linking
page's recrawl schedule moves on (crawler/schedule.py); a page answered 304
(`not_modified`) only confirms its stored edges: their last_seen moves.
"""

from __future__ import annotations

import sqlite3
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from crawler.items import EDGE_CRAWL_FIELDS, Edge, Page, names, spec
from pipelines.stores.base import (
    can_lose,
    domain_links_change,
    lost_reason_for_status,
    lost_state_of_present_edge,
    next_schedule,
)
from pipelines.stores.sqlite.sql import SQLiteConnected, chunks, marks, store_error

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from crawler.items import EdgeItem, PageItem


def _upsert(
    table: str, record: type, key: tuple[str, ...], updates: dict[str, str], nulls: int = 0
) -> str:
    """An upsert of the record's columns (crawler/items.py) into `table`, by
    `key`: on conflict, the crawl's fields are overwritten and the store's
    set as `updates` says (the others, like first_seen, are kept). The last
    `nulls` columns get NULL rather than a value."""
    columns = [f.name for f in spec(record) if f.sql]
    changed = {
        **{f.name: f"excluded.{f.name}" for f in spec(record) if f.sql and f.set_by == "crawl"},
        **updates,
    }
    assignments = ",\n    ".join(
        f"{name} = {changed[name]}" for name in columns if name in changed and name not in key
    )
    values = ["?"] * (len(columns) - nulls) + ["NULL"] * nulls
    return (
        f"INSERT INTO {table} ({', '.join(columns)})\n"
        f"VALUES ({', '.join(values)})\n"
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET\n    {assignments}\n"
    )


_EDGE_UPDATES = {
    "last_seen": "max(edges.last_seen, excluded.last_seen)",
    "lost_at": "excluded.lost_at",
    "lost_reason": "excluded.lost_reason",
}
UPSERT_EDGE = _upsert("edges", Edge, ("source_url", "target_url"), _EDGE_UPDATES)
# The same for a live edge, without its last two values (lost_at, lost_reason):
# the sqlite3 module binds None far slower than a string, and most edges written
# are live.
UPSERT_LIVE_EDGE = _upsert("edges", Edge, ("source_url", "target_url"), _EDGE_UPDATES, nulls=2)

UPSERT_PAGE = _upsert(
    "pages",
    Page,
    ("url",),
    {
        "fetched_at": "max(pages.fetched_at, excluded.fetched_at)",
        "domain_links": "coalesce(excluded.domain_links, pages.domain_links)",
        "links_digest": "excluded.links_digest",
        "recrawl_interval": "excluded.recrawl_interval",
        "due_at": "excluded.due_at",
    },
)
# A 304: the page is as it was; its schedule moves on, its validators stay
# unless the answer sent new ones.
CONFIRM_PAGE = """
UPDATE pages SET fetched_at = max(fetched_at, ?), recrawl_interval = ?, due_at = ?,
    etag = coalesce(?, etag), last_modified = coalesce(?, last_modified)
WHERE url = ?
"""
# ... and the edges it had are seen again (a link still nofollow stays lost so).
CONFIRM_EDGES = """
UPDATE edges SET last_seen = max(last_seen, ?)
WHERE source_url = ? AND (lost_at IS NULL OR lost_reason = 'became_nofollow')
"""
# The pages columns, in order: the page item's values, but these.
PAGE_COLUMNS = tuple(f.name for f in spec(Page) if f.sql)
# An edge's crawl fields, and which of them SQLite keeps as JSON text (lists).
_CRAWL_VALUES = itemgetter(*EDGE_CRAWL_FIELDS)
_JSON_VALUES = tuple(
    index for index, name in enumerate(EDGE_CRAWL_FIELDS) if name in names(Edge, kind="list")
)

ADD_DOMAIN_LINKS = """
INSERT INTO domain_links (source_domain, target_domain, links, pages) VALUES (?, ?, ?, ?)
ON CONFLICT (source_domain, target_domain) DO UPDATE SET
    links = domain_links.links + excluded.links, pages = domain_links.pages + excluded.pages
"""

# The first provenance recorded for a site is kept.
INSERT_EXPANSION = """
INSERT INTO expansions (domain, via, via_domain, hop, found_order, found_at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (domain) DO NOTHING
"""

# Pages per `IN (...)` of a batch's reads.
READ_CHUNK = 500

# Changes to the domain graph: (source, target domain) -> [links, pages] to add.
GraphChange = dict[tuple[str, str], list[int]]


class SQLiteWrites(SQLiteConnected):
    """`write_pages`: pages, their edges and the domain graph, one transaction a batch."""

    def write_pages(self, pages: list[PageItem]) -> None:
        try:
            with self.db:
                # The write lock before the first read: what a batch reads (its pages'
                # previous edges and domain links) cannot change under it before it
                # writes, when other crawl processes write to the same file.
                self.db.execute("BEGIN IMMEDIATE")
                graph: GraphChange = {}
                confirmed = [page for page in pages if page.get("not_modified")]
                if confirmed:
                    self._confirm(confirmed)
                    pages = [page for page in pages if not page.get("not_modified")]
                for run in _runs(pages):
                    self._write_run(run, graph)
                self._write_graph(graph)
                expansions = [_expansion_row(p) for p in pages if p.get("expansion")]
                if expansions:
                    self.db.executemany(INSERT_EXPANSION, expansions)
        except sqlite3.Error as exc:
            raise store_error(exc, self.path) from exc

    def _write_run(self, pages: list[PageItem], graph: GraphChange) -> None:
        """Pages that share no URL: read what they had in a few queries, then write
        them table by table (executemany), not page by page."""
        stored_pages = self._stored_pages([page["url"] for page in pages])
        previous_edges = self._previous_edges([page["url"] for page in pages])
        schedule = self.schedule
        page_rows = []
        gone: list[tuple[str, str, int]] = []
        live_rows = []  # UPSERT_LIVE_EDGE
        edge_rows = []  # UPSERT_EDGE
        edge_row = self._edge_row
        for page in pages:
            url = page["url"]
            seen_at = page["fetched_at"]
            stored = stored_pages.get(url)
            if page.get("domain_links") is not None:
                links = stored[0] if stored else None
                _add_graph_change(graph, page, orjson.loads(links) if links else None)
            previous = previous_edges.get(url)
            linking = bool(page["edges"]) or previous is not None
            planned = next_schedule(schedule, page, linking, stored[1:] if stored else None)
            page_rows.append(_page_row(page, planned))
            if previous is None:  # nothing stored: every edge is new, so live
                live_rows.extend([_live_edge_row(e, seen_at) for e in page["edges"]])
                continue
            gone.extend(_gone_edges(page, previous))
            rows = [edge_row(e, previous, seen_at) for e in page["edges"]]
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

    def _stored_pages(self, urls: list[str]) -> dict[str, tuple[Any, ...]]:
        """{url: (domain_links JSON, links_digest, recrawl_interval)} of stored pages."""
        stored: dict[str, tuple[Any, ...]] = {}
        cursor = self._tuples()
        for chunk in chunks(urls, READ_CHUNK):
            sql = (
                "SELECT url, domain_links, links_digest, recrawl_interval "
                f"FROM pages WHERE url IN ({marks(chunk)})"
            )
            stored.update((row[0], row[1:]) for row in cursor.execute(sql, chunk))
        return stored

    def _confirm(self, pages: list[PageItem]) -> None:
        """Pages answered 304: stored edges seen again, schedules moved on."""
        stored = self._stored_pages([page["url"] for page in pages])
        page_rows, edge_rows = [], []
        for page in pages:
            known = stored.get(page["url"])
            if known is None:
                continue  # validators come from a stored page; it went since
            _, interval, due = next_schedule(self.schedule, page, known[2] is not None, known[1:])
            seen_at = page["fetched_at"]
            page_rows.append(
                (seen_at, interval, due, page.get("etag"), page.get("last_modified"), page["url"])
            )
            edge_rows.append((seen_at, page["url"]))
        self.db.executemany(CONFIRM_PAGE, page_rows)
        self.db.executemany(CONFIRM_EDGES, edge_rows)

    def _previous_edges(self, urls: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """{source_url: {target_url: the stored edge's state}} of pages' stored edges."""
        previous: dict[str, dict[str, dict[str, Any]]] = {}
        cursor = self._tuples()
        for chunk in chunks(urls, READ_CHUNK):
            sql = (
                "SELECT source_url, id, target_url, target_host, nofollow, lost_at, lost_reason "
                f"FROM edges WHERE source_url IN ({marks(chunk)})"
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

    def _write_graph(self, graph: GraphChange) -> None:
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
    def _edge_row(e: EdgeItem, previous: Mapping[str, Mapping[str, Any]], seen_at: str) -> tuple:
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


def _add_graph_change(graph: GraphChange, page: PageItem, before: Mapping[str, int] | None) -> None:
    """Add what the page's new `domain_links` change in the domain graph."""
    for target, (links, count) in domain_links_change(before, page["domain_links"]).items():
        pair = graph.setdefault((page["domain"], target), [0, 0])
        pair[0] += links
        pair[1] += count


def _page_row(page: PageItem, planned: tuple[str | None, int | None, str | None]) -> tuple:
    """A page's UPSERT_PAGE values; `planned`: its (links_digest,
    recrawl_interval, due_at)."""
    domain_links = page.get("domain_links")
    values = {
        **page,
        "edges": len(page["edges"]),
        "first_fetched": page["fetched_at"],
        "domain_links": None if domain_links is None else orjson.dumps(domain_links).decode(),
        "etag": page.get("etag"),
        "last_modified": page.get("last_modified"),
        "lang": page.get("lang"),
        "ip": page.get("ip"),
        "links_digest": planned[0],
        "recrawl_interval": planned[1],
        "due_at": planned[2],
    }
    return tuple(values[name] for name in PAGE_COLUMNS)


def _gone_edges(
    page: PageItem, previous: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str, str, int]]:
    """(lost_at, lost_reason, id) of the page's live stored edges this crawl
    no longer finds, among those it decides about."""
    present = {edge["target_url"] for edge in page["edges"]}
    reason = lost_reason_for_status(page["status"])
    judged = can_lose(page)
    return [
        (page["fetched_at"], reason, row["id"])
        for target, row in previous.items()
        if target not in present and row["lost_at"] is None and judged(row["target_host"])
    ]


def _live_edge_row(e: EdgeItem, seen_at: str) -> tuple:
    """An edge's UPSERT_LIVE_EDGE values: its crawl fields (lists as JSON,
    bools as 0 or 1: sqlite3 binds a bool as an int), then first and last seen."""
    values = list(_CRAWL_VALUES(e))
    for index in _JSON_VALUES:
        value = values[index]
        values[index] = "[]" if value == [] else orjson.dumps(value).decode()  # most: no rel
    return (*values, seen_at, seen_at)


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


def _expansion_row(page: PageItem) -> tuple[Any, ...]:
    x = page["expansion"]
    return (x["domain"], x["via"], x["via_domain"], x["hop"], x["order"], page["fetched_at"])
