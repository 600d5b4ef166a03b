"""The SQLite schema: tables, indexes, the migration of older files, and
opening a database file (read-only, or read-write with the schema made).

Every index serves a query the CLI or the write path makes:

    edges(source_url, target_url)        unique: the edge identity, upserts
    edges(target_domain, lost_at, ...)   backlinks, refdomains, anchors, pages, lost,
                                         recrawl of a domain
    edges(target_domain, first_seen)     new edges of a domain
    edges(target_domain, placement)      backlinks --placement
    edges(target_domain, last_seen)      the dashboard's backlinks by last seen
    edges(target_domain, source_domain)  the dashboard's backlinks by domain, any state
    pages(url)                           primary key: last crawl of a linking page
    pages(domain)                        pages crawled per domain (toxic rules)
    pages(due_at)                        linking pages due for a recrawl
    domain_links(source, target)         primary key: the domain graph by linking domain
    domain_links(target, source)         who links to a domain (gap)
    domains(domain)                      primary key: authority of a domain
    domains(pagerank)                    the dashboard's backlinks by authority
    expansions(domain)                   primary key: how discovery reached a site
    alert_cursors(channel, domain)       primary key: an alert channel's delivery state
                                         and lease per domain (crawler/alerts)
    target_checks(url)                   primary key: the cached check of a target URL
                                         (linkwatch broken, the report)
    keywords(domain, keyword)            primary key: a watched domain's keywords
                                         (linkwatch keywords, linkwatch anchors)
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from crawler.items import EDGE_FIELDS, Edge, Page, spec
from pipelines.stores.base import StoreError
from pipelines.stores.sqlite.sql import store_error


def _columns(record: type) -> str:
    """A table's columns from the record's definition: what SQLite keeps of each field."""
    return ",\n".join(f"    {f.name} {f.sql}" for f in spec(record) if f.sql)


# The edges and pages columns are the fields of crawler/items.py's Edge and
# Page, in order (a database made before keeps its own: the same names).
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS edges (
    id INTEGER PRIMARY KEY,
{_columns(Edge)}
);
CREATE UNIQUE INDEX IF NOT EXISTS edges_identity ON edges (source_url, target_url);
CREATE INDEX IF NOT EXISTS edges_by_target
    ON edges (target_domain, lost_at, source_domain, first_seen);
CREATE INDEX IF NOT EXISTS edges_new_by_target ON edges (target_domain, first_seen);
CREATE TABLE IF NOT EXISTS pages (
{_columns(Page)},
    PRIMARY KEY (url)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS domain_links (
    source_domain TEXT NOT NULL,
    target_domain TEXT NOT NULL,
    links         INTEGER NOT NULL,       -- links from source's pages to target's
    pages         INTEGER NOT NULL,       -- source's pages with such a link
    PRIMARY KEY (source_domain, target_domain)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS domain_links_by_target ON domain_links (target_domain, source_domain);
CREATE TABLE IF NOT EXISTS expansions (
    domain        TEXT PRIMARY KEY,       -- a site a discovery crawl expanded into
    via           TEXT NOT NULL,          -- the page that led there
    via_domain    TEXT NOT NULL,
    hop           INTEGER NOT NULL,       -- hops from a seed's site
    found_order   INTEGER NOT NULL,       -- 0: the first candidate that crawl found
    found_at      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS domains (
    domain        TEXT PRIMARY KEY,
    pagerank      REAL NOT NULL,          -- 0-100, log-scaled (the authority)
    harmonic      REAL NOT NULL,          -- 0-100, share of the highest
    pagerank_raw  REAL NOT NULL,
    harmonic_raw  REAL NOT NULL,
    ranked_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alert_cursors (
    channel       TEXT NOT NULL,          -- an alert channel's id (no credentials)
    domain        TEXT NOT NULL,          -- the watched domain or host reported on
    reported_to   TEXT,                   -- changes up to here were delivered; NULL: never
    owner         TEXT,                   -- the sender holding the lease, or NULL
    lease_until   TEXT,                   -- when its lease runs out
    PRIMARY KEY (channel, domain)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS target_checks (
    url           TEXT PRIMARY KEY,       -- a target URL of backlinks (linkwatch broken)
    domain        TEXT NOT NULL,          -- its registered domain
    status        INTEGER,                -- the final answer, after redirects; NULL: none
    final_url     TEXT NOT NULL,          -- where the redirects ended
    redirects     INTEGER NOT NULL,
    method        TEXT NOT NULL,          -- of the final answer: HEAD, or GET
    error         TEXT,                   -- no answer: robots_blocked, unreachable, ...
    checked_at    TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keywords (
    domain        TEXT NOT NULL,          -- a watched domain or host (linkwatch keywords)
    keyword       TEXT NOT NULL,          -- its exact- and partial-match anchors' keyword
    PRIMARY KEY (domain, keyword)
) WITHOUT ROWID;
"""
# Created after the migration below (a pages table from before it lacks columns).
SCHEMA_INDEXES = """
CREATE INDEX IF NOT EXISTS pages_by_domain ON pages (domain);
CREATE INDEX IF NOT EXISTS pages_by_due ON pages (due_at);
CREATE INDEX IF NOT EXISTS edges_by_placement ON edges (target_domain, placement);
CREATE INDEX IF NOT EXISTS edges_by_last_seen ON edges (target_domain, last_seen);
CREATE INDEX IF NOT EXISTS edges_by_source_domain ON edges (target_domain, source_domain);
CREATE INDEX IF NOT EXISTS domains_by_pagerank ON domains (pagerank DESC);
"""

# What a query reads of an edge: every field, in order.
EDGE_COLUMNS = ", ".join(EDGE_FIELDS)


# Opening read-write switches the file to WAL and makes the schema. SQLite answers
# "database is locked" at once to a second process doing the same (switching
# journal modes does not wait on the busy timeout): workers started together on
# one file would fail at start. They try again, for about OPEN_PATIENCE seconds.
OPEN_PATIENCE = 30.0


def connect(path: str, *, readonly: bool) -> tuple[sqlite3.Connection, set[str]]:
    """The database file opened (read-write: in WAL mode, schema made and
    migrated), and the tables it has; raises StoreError."""
    waited, pause = 0.0, 0.02
    while True:
        try:
            return _connect(path, readonly=readonly)
        except StoreError as exc:
            locked = isinstance(exc.__cause__, sqlite3.OperationalError) and (
                "locked" in str(exc.__cause__) or "busy" in str(exc.__cause__)
            )
            if not locked or waited >= OPEN_PATIENCE:
                raise
        time.sleep(pause)
        waited += pause
        pause = min(pause * 2, 1.0)


def _connect(path: str, *, readonly: bool) -> tuple[sqlite3.Connection, set[str]]:
    db: sqlite3.Connection | None = None
    try:
        if readonly:
            if not Path(path).exists():
                raise StoreError(f"no linkwatch database at {path}", transient=False)
            uri = f"{Path(path).resolve().as_uri()}?mode=ro"
            db = sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)
            _read_as_migrated(db)
        else:
            db = sqlite3.connect(path, timeout=30, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            migrate(db)
            db.executescript(SCHEMA_INDEXES)
        tables = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    except sqlite3.Error as exc:
        if db is not None:
            db.close()
        raise store_error(exc, path) from exc
    db.row_factory = sqlite3.Row
    return db, tables


# Pages columns added since the first release, in the order they came: a file
# made before one of them gains it, NULL in every stored page (a page without
# a schedule is due at once; without validators, fetched in full).
ADDED_PAGE_COLUMNS = (
    "domain_links",  # 0.1: the domain graph
    "etag",  # 0.3: conditional GET and the recrawl schedule
    "last_modified",
    "links_digest",
    "recrawl_interval",
    "due_at",
    "lang",  # 0.4: the page's language and the address that served it
    "ip",
)
# Edges columns added since, the same way: '' in every stored edge (their
# declarations carry the DEFAULT that ADD COLUMN needs for NOT NULL).
ADDED_EDGE_COLUMNS = (
    "placement",  # 0.4: where on the page, and the text around the link
    "context",
)


def _read_as_migrated(db: sqlite3.Connection) -> None:
    """A file opened read-only is not migrated: temporary views named edges
    and pages (temp objects come before the file's for unqualified names) give
    them the added columns, edges' empty and pages' null, so queries read
    every field."""
    for table, added_columns, empty in (
        ("edges", ADDED_EDGE_COLUMNS, "''"),
        ("pages", ADDED_PAGE_COLUMNS, "NULL"),
    ):
        columns = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        missing = [name for name in added_columns if name not in columns]
        if columns and missing:
            added = ", ".join(f"{empty} AS {name}" for name in missing)
            db.execute(f"CREATE TEMP VIEW {table} AS SELECT *, {added} FROM main.{table}")


def migrate(db: sqlite3.Connection) -> None:
    """Columns added since a database file was made, in place."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(pages)")}
    declared = {f.name: f.sql for f in spec(Page)}
    for name in ADDED_PAGE_COLUMNS:
        if name not in columns:
            db.execute(f"ALTER TABLE pages ADD COLUMN {name} {declared[name]}")
    columns = {row[1] for row in db.execute("PRAGMA table_info(edges)")}
    declared = {f.name: f.sql for f in spec(Edge)}
    for name in ADDED_EDGE_COLUMNS:
        if name not in columns:
            db.execute(f"ALTER TABLE edges ADD COLUMN {name} {declared[name]}")
