"""The MongoDB link graph (MONGO_URI, MONGO_DATABASE), through pymongo.

Collections:

    edges    one document per (source URL, target URL); _id is a digest of the pair,
             so a write is an idempotent upsert
    pages    one per crawled page; _id is its URL
    domains  one per registered domain: pages crawled; for a target domain, its
             live backlinks and referring domains, recounted from the pages;
             after `linkwatch rank`, its authority (pagerank, harmonic: 0-100;
             pagerank_raw, harmonic_raw; ranked_at)
    domain_links  the domain graph: one per (source domain, target domain), _id
             "source target", with links and pages; recounted from the pages'
             own `domain_links` (a recount, like the domains counters, is right
             whatever a failed and retried batch did before)

Uses only what both MongoDB 7 and FerretDB 1.24 run. The parts:

    schema.py      indexes (and which query uses which), _ids, dates
    connection.py  the shared state, reads with errors as StoreErrors, chunks
    upsert.py      upserts as inserts where possible; FerretDB's write chunks
    writes.py      write_pages: a batch's pages, then its edges
    counters.py    recounts of pages crawled, live backlinks, the domain graph
    grouping.py    where grouped queries group: server (MongoDB) or here (FerretDB)
    queries.py     backlinks, refdomains, anchors, new, lost, pages, linking pages
    graph.py       the domain graph's reads, watched domains, authority
    store.py       MongoStore, the parts over one client
"""

from pipelines.stores.mongo.schema import edge_id, pair_id, to_datetime, to_iso
from pipelines.stores.mongo.store import MongoStore
from pipelines.stores.mongo.upsert import Write, inserted_document

__all__ = [
    "MongoStore",
    "Write",
    "edge_id",
    "inserted_document",
    "pair_id",
    "to_datetime",
    "to_iso",
]
