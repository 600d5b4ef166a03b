"""The embedded store: one SQLite file (stdlib sqlite3), no server.

WAL mode lets `linkwatch` queries read while a crawl writes. The parts:

    schema.py   tables, indexes (and which query each serves), migration, opening a file
    sql.py      the shared connection state, `IN (...)` chunks, errors -> StoreError
    writes.py   write_pages: a batch in one transaction, the domain graph by deltas
    queries.py  backlinks, refdomains, anchors, new, lost, pages, linking pages
    graph.py    the domain graph's reads, watched domains, authority
    store.py    SQLiteStore, the parts over one connection

Imports neither Scrapy nor pymongo: `linkwatch` queries load only this.
"""

from pipelines.stores.sqlite.schema import SCHEMA
from pipelines.stores.sqlite.store import SQLiteStore
from pipelines.stores.sqlite.writes import UPSERT_EDGE

__all__ = ["SCHEMA", "UPSERT_EDGE", "SQLiteStore"]
