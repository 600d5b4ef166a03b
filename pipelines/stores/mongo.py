"""The MongoDB link graph (MONGO_URI, MONGO_DATABASE), through pymongo.

Collections:

    edges    one document per (source URL, target URL); _id is a digest of the pair,
             so a write is an idempotent upsert
    pages    one per crawled page; _id is its URL
    domains  one per registered domain: pages crawled; for a target domain, its
             live backlinks and referring domains, recounted from the edges;
             after `linkwatch rank`, its authority (pagerank, harmonic: 0-100;
             pagerank_raw, harmonic_raw; ranked_at)
    domain_links  the domain graph: one per (source domain, target domain), _id
             "source target", with links and pages; recounted from the pages'
             own `domain_links` (a recount, like the domains counters, is right
             whatever a failed and retried batch did before)

Counters are recounted for the domains the batches touched, at most every
`recount_interval` seconds (LINKWATCH_MONGO_RECOUNT_INTERVAL in a crawl; 0:
after every batch) and when the store closes: a recount reads the domains'
edges (on FerretDB, every edge), so after every batch it would cost more than
the batch as the graph grows.

Writes come from the store pipeline's writer thread (never the reactor's). A
batch looks up which of its pages are stored and reads those pages' edges (one
find each), writes the pages, then the edges; each collection is written as
upserts ($setOnInsert first_seen, $max last_seen, $set the rest) split in two
(`MongoStore._upsert`): documents known not to exist (an edge not among the
page's stored ones; a page, domain or domain pair an _id lookup did not find)
go in one unordered insert_many, as the very documents their upserts would
create, because FerretDB 1.24 inserts an upserted document one by one at
~40 ms each; the rest stay unordered bulk_writes of updates, in pieces of
FERRETDB_WRITE_CHUNK on FerretDB. A duplicate key on insert (another writer
got there first) falls back to that document's upsert. A recount takes one
aggregate per DOMAIN_CHUNK target domains. Uses only what
both MongoDB 7 and FerretDB 1.24 run; where FerretDB lacks an aggregation
operator, its queries stream indexed finds and group here (see
`server_grouping`).

Every query filters on the leading keys of an index (EDGE_INDEXES says which
query uses which). MongoDB uses them; FerretDB 1.24 on SQLite pushes no filter
but an `_id` equality down to SQLite and scans, whatever the indexes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime
from hashlib import blake2b
from typing import TYPE_CHECKING, Any, NamedTuple

import pymongo
from pymongo import ASCENDING, DESCENDING, DeleteOne, IndexModel, UpdateOne
from pymongo import errors as mongo_errors

from pipelines.stores.base import (
    AUTHORITY_FIELDS,
    DOMAIN_CHUNK,
    Store,
    StoreError,
    Target,
    can_lose,
    lost_reason_for_status,
    lost_state_of_present_edge,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

    from crawler.items import Edge, PageItem
    from pipelines.stores.base import State

logger = logging.getLogger(__name__)

EDGE_INDEXES = [
    # backlinks of a domain in the order the CLI prints them (live: lost_at null);
    # refdomains, anchors and pages (live); lost (lost_at range); recrawl (any
    # state); the domains recount (live)
    IndexModel(
        [
            ("target_domain", ASCENDING),
            ("lost_at", ASCENDING),
            ("source_domain", ASCENDING),
            ("source_url", ASCENDING),
            ("target_url", ASCENDING),
        ],
        name="by_target",
    ),
    # new edges of a domain, newest first: the order `linkwatch new` prints them
    IndexModel(
        [
            ("target_domain", ASCENDING),
            ("first_seen", DESCENDING),
            ("source_url", ASCENDING),
            ("target_url", ASCENDING),
        ],
        name="new_by_target",
    ),
    # a page's edges, when the page is crawled again
    IndexModel([("source_url", ASCENDING)], name="by_source"),
]
# pages of a seed domain, most recently crawled first (no CLI query yet; recrawl
# looks pages up by _id)
PAGE_INDEXES = [
    IndexModel([("domain", ASCENDING), ("fetched_at", DESCENDING)], name="by_domain"),
    # pages with live links into a domain: the domains recount
    IndexModel([("live_links.domain", ASCENDING)], name="by_live_target"),
]
DOMAIN_LINK_INDEXES = [
    # a linking domain's pairs: the recount after a batch, the toxic rules
    IndexModel([("source_domain", ASCENDING), ("target_domain", ASCENDING)], name="by_source"),
    # who links to a domain: gap
    IndexModel([("target_domain", ASCENDING), ("source_domain", ASCENDING)], name="by_target"),
]
# `$in` lists of _ids per query when pages are looked up by URL
LOOKUP_CHUNK = 1000
# Updates per command on FerretDB (see MongoStore._write_chunks); well below its
# pool of 100 SQLite connections, so a few writers at once stay below it too.
FERRETDB_WRITE_CHUNK = 25
DUPLICATE_KEY = 11000

TRANSIENT_ERRORS = (
    mongo_errors.AutoReconnect,
    mongo_errors.ConnectionFailure,
    mongo_errors.ServerSelectionTimeoutError,
    mongo_errors.NetworkTimeout,
    mongo_errors.WriteConcernError,
)


def edge_id(source_url: str, target_url: str) -> str:
    """The edge's _id: 32 hex digits of a digest of the pair."""
    return blake2b(f"{source_url}\n{target_url}".encode(), digest_size=16).hexdigest()


def to_datetime(iso: str | None) -> datetime | None:
    if iso is None:
        return None
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def to_iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class MongoStore(Store):
    """Pages, edges and domains in a MongoDB database.

    `event_listeners` go to pymongo (tests record the commands a query sends).
    """

    def __init__(
        self,
        uri: str,
        database: str = "linkwatch",
        *,
        readonly: bool = False,
        timeout_ms: int = 10_000,
        event_listeners: Sequence[Any] = (),
        recount_interval: float = 0.0,
    ) -> None:
        # Domains whose counters (domains, domain_links) wait for a recount.
        self.recount_interval = recount_interval
        self.to_recount: tuple[set[str], set[str]] = (set(), set())
        self.recounted = time.monotonic()
        try:
            self.client: pymongo.MongoClient = pymongo.MongoClient(
                uri,
                tz_aware=True,
                serverSelectionTimeoutMS=timeout_ms,
                appname="linkwatch",
                event_listeners=list(event_listeners),
            )
            self.db = self.client[database]
            self.edge_collection = self.db["edges"]
            self.page_collection = self.db["pages"]
            self.domain_collection = self.db["domains"]
            self.domain_link_collection = self.db["domain_links"]
            build = self.client.admin.command("buildInfo")
            self.ferretdb = "ferretdbVersion" in build
            self.server_grouping = not self.ferretdb
            # Pages written before `live_links` existed: recount from the edges.
            self.legacy_pages = not readonly and (
                self.page_collection.find_one({"live_links": {"$exists": False}}, {"_id": 1})
                is not None
            )
            if not readonly:
                self.create_indexes()
        except mongo_errors.ConfigurationError as exc:
            raise StoreError(f"MONGO_URI: {exc}", transient=False) from exc
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def create_indexes(self) -> None:
        """Create the indexes a collection lacks; idempotent, so every start runs it.

        One index per createIndexes command, and only missing ones: FerretDB
        1.24 drops the connection when one command lists several indexes with
        different numbers of keys that exist already.
        """
        for collection, models in (
            (self.edge_collection, EDGE_INDEXES),
            (self.page_collection, PAGE_INDEXES),
            (self.domain_link_collection, DOMAIN_LINK_INDEXES),
        ):
            existing = {
                index["name"]: _key_spec(index["key"]) for index in collection.list_indexes()
            }
            for model in models:
                name, keys = model.document["name"], _key_spec(model.document["key"])
                if name not in existing:
                    collection.create_indexes([model])
                elif existing[name] != keys:
                    raise StoreError(
                        f"MongoDB: index {collection.name}.{name} has keys {existing[name]}, "
                        f"this linkwatch needs {keys}: drop the index and start again",
                        transient=False,
                    )

    def close(self) -> None:
        try:
            self.recount()
        except mongo_errors.PyMongoError as exc:
            logger.warning(
                "MongoDB: domain counters not recounted at close (%s); the next "
                "batch that touches those domains recounts them",
                exc,
            )
        finally:
            self.client.close()

    def recount(self) -> None:
        """Recount the counters of the domains touched since the last recount."""
        targets, sources = self.to_recount
        self._count_links(targets - {""})
        self._count_domain_links(sources)
        self.to_recount = (set(), set())
        self.recounted = time.monotonic()

    # --- writing -----------------------------------------------------------------

    def write_pages(self, pages: list[PageItem]) -> None:
        try:
            self._write_pages(pages)
        except mongo_errors.BulkWriteError as exc:
            raise StoreError(f"MongoDB bulk write failed: {exc.details}", transient=False) from exc
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def _write_pages(self, pages: list[PageItem]) -> None:
        urls = [page["url"] for page in pages]
        # A page's document is written before its edges (below), so the edges
        # of a page without one were never written: no need to look them up
        # (on FerretDB, a scan of every edge).
        known_pages = self._existing(self.page_collection, urls)
        known = [url for url in dict.fromkeys(urls) if url in known_pages]
        previous: dict[str, dict[str, Any]] = (
            {
                doc["_id"]: doc
                for doc in self.edge_collection.find(
                    {"source_url": {"$in": known}},
                    {
                        "target_url": 1,
                        "source_url": 1,
                        "target_domain": 1,
                        "target_host": 1,
                        "nofollow": 1,
                        "lost_at": 1,
                        "lost_reason": 1,
                    },
                )
            }
            if known
            else {}
        )
        by_source: dict[str, list[dict[str, Any]]] = {}
        for doc in previous.values():
            by_source.setdefault(doc["source_url"], []).append(doc)

        edge_writes: list[Write] = []
        page_writes: list[Write] = []
        touched: set[str] = set()
        linking: set[str] = set()  # source domains whose domain links changed
        for page in pages:
            seen_at = to_datetime(page["fetched_at"])
            present = set()
            # The page's live edges after this write, and their target domain:
            # the domains recount sums these instead of reading every edge.
            live: dict[str, str] = {}
            for edge in page["edges"]:
                key = edge_id(edge["source_url"], edge["target_url"])
                present.add(key)
                touched.add(edge["target_domain"])
                update = self._edge_update(edge, previous.get(key), seen_at)
                edge_writes.append(Write(key, update))
                if update["$set"]["lost_at"] is None:
                    live[key] = edge["target_domain"]
                else:
                    live.pop(key, None)  # the last write of a key is the one that stays
            reason = lost_reason_for_status(page["status"])
            judged = can_lose(page)
            for doc in by_source.get(page["url"], ()):
                if doc["_id"] in present or doc.get("lost_at") is not None:
                    continue
                if not judged(doc.get("target_host", "")):
                    live[doc["_id"]] = doc.get("target_domain", "")
                else:
                    touched.add(doc.get("target_domain", ""))
                    edge_writes.append(
                        Write(
                            doc["_id"],
                            {"$set": {"lost_at": seen_at, "lost_reason": reason}},
                            upsert=False,
                        )
                    )
            fields = {
                "domain": page["domain"],
                "status": page["status"],
                "title": page["title"],
                "outlinks": page["outlinks"],
                "edges": len(page["edges"]),
                "live_links": [
                    {"domain": domain, "edges": edges}
                    for domain, edges in sorted(Counter(live.values()).items())
                ],
            }
            if page.get("domain_links") is not None:
                # Subdocuments, not {domain: links}: field names cannot hold dots.
                fields["domain_links"] = [
                    {"domain": domain, "links": links}
                    for domain, links in sorted(page["domain_links"].items())
                ]
                linking.add(page["domain"])
            page_writes.append(
                Write(
                    page["url"],
                    {
                        "$set": fields,
                        "$max": {"fetched_at": seen_at},
                        "$setOnInsert": {"first_fetched": seen_at},
                    },
                )
            )
        # Pages first (see `known`), counted at once: a retried batch finds
        # them written and does not count them again.
        created = self._upsert(self.page_collection, page_writes, known_pages)
        self._count_pages([pages[index] for index in created])
        self._upsert(self.edge_collection, edge_writes, previous)
        self.to_recount[0].update(touched)
        self.to_recount[1].update(linking)
        if time.monotonic() - self.recounted >= self.recount_interval:
            self.recount()

    def _existing(self, collection: pymongo.collection.Collection, keys: list[Any]) -> set[Any]:
        """Which of these _ids have a document (one find per LOOKUP_CHUNK)."""
        found: set[Any] = set()
        for chunk in _chunks(list(dict.fromkeys(keys)), LOOKUP_CHUNK):
            found.update(doc["_id"] for doc in collection.find({"_id": {"$in": chunk}}, {"_id": 1}))
        return found

    def _upsert(
        self,
        collection: pymongo.collection.Collection,
        writes: list[Write],
        existing: Collection[Any],
    ) -> list[int]:
        """Apply the writes as one unordered bulk_write of them would, upserts
        inserting what is missing; the indexes of the writes that created their
        document.

        FerretDB 1.24 takes ~40 ms for each upsert that inserts (one by one,
        even inside a bulk_write), against a fraction of a millisecond a
        document for insert_many.
        So an upsert whose _id is not in `existing` (read by the caller), and
        not written earlier in the same list, inserts the document it would
        create instead (`inserted_document`); the other writes stay updates,
        in their order, after the inserts. A duplicate key on insert (another
        writer inserted it since `existing` was read) falls back to the upsert.
        """
        inserts: list[int] = []
        updates: list[int] = []
        fresh: set[Any] = set()
        for index, write in enumerate(writes):
            if write.upsert and write.key not in existing and write.key not in fresh:
                fresh.add(write.key)
                inserts.append(index)
            else:
                updates.append(index)
        created = list(inserts)
        if inserts:
            try:
                # Unchunked, on FerretDB too: the pool exhaustion of _write_chunks
                # is an update's (10,000 edges in one insert_many write fine, no
                # slower than in pieces); pymongo splits by message size.
                collection.insert_many(
                    [inserted_document(writes[i].key, writes[i].update) for i in inserts],
                    ordered=False,
                )
            except mongo_errors.BulkWriteError as exc:
                duplicates = {inserts[error["index"]] for error in _duplicate_keys(exc)}
                created = [index for index in inserts if index not in duplicates]
                updates = sorted(updates + list(duplicates))
        for _, chunk in self._write_chunks(updates):
            result = collection.bulk_write(
                [
                    UpdateOne({"_id": writes[i].key}, writes[i].update, upsert=writes[i].upsert)
                    for i in chunk
                ],
                ordered=False,
            )
            # By _id: FerretDB 1.24 numbers `upserted` among the upserts, not
            # among the ops as MongoDB does. A key's first write in the chunk
            # is the one that can have inserted it.
            upserted = set(result.upserted_ids.values())
            for index in chunk:
                if writes[index].key in upserted:
                    upserted.discard(writes[index].key)
                    created.append(index)
        return sorted(created)

    def _write_chunks(self, ops: list[Any]) -> list[tuple[int, list[Any]]]:
        """The ops of a bulk write, in one piece or, on FerretDB, in small ones.

        FerretDB 1.24 on SQLite holds one pooled SQLite connection per document
        an update command matches until the command ends: an update of 100
        existing documents exhausts its pool and hangs the server.
        """
        size = FERRETDB_WRITE_CHUNK if self.ferretdb else max(1, len(ops))
        return [(start, ops[start : start + size]) for start in range(0, len(ops), size)]

    @staticmethod
    def _upsert_edge(
        key: str, edge: Edge, previous: dict[str, Any] | None, seen_at: datetime | None
    ) -> UpdateOne:
        """The edge's upsert, alone (bench/ingest.py's naive pipeline writes these)."""
        return UpdateOne(
            {"_id": key}, MongoStore._edge_update(edge, previous, seen_at), upsert=True
        )

    @staticmethod
    def _edge_update(
        edge: Edge, previous: dict[str, Any] | None, seen_at: datetime | None
    ) -> dict[str, dict[str, Any]]:
        lost_at, lost_reason = lost_state_of_present_edge(previous, edge["nofollow"], seen_at)
        fields = {
            name: edge[name]
            for name in (
                "source_url",
                "target_url",
                "source_domain",
                "target_domain",
                "target_host",
                "anchor",
                "alt",
                "rel",
                "nofollow",
                "link_type",
                "source_title",
                "source_status",
            )
        }
        # 1 or 0, so one $group can count followed links: FerretDB has no $cond.
        fields["dofollow"] = 0 if edge["nofollow"] else 1
        fields["lost_at"] = lost_at
        fields["lost_reason"] = lost_reason
        return {
            "$set": fields,
            "$max": {"last_seen": seen_at},
            "$setOnInsert": {"first_seen": seen_at},
        }

    def _count_pages(self, created: list[PageItem]) -> None:
        """domains.pages_crawled counts distinct pages: only newly inserted ones add."""
        new_per_domain: dict[str, int] = {}
        for page in created:
            new_per_domain[page["domain"]] = new_per_domain.get(page["domain"], 0) + 1
        self._upsert(
            self.domain_collection,
            [
                Write(domain, {"$inc": {"pages_crawled": count}})
                for domain, count in new_per_domain.items()
            ],
            self._existing(self.domain_collection, list(new_per_domain)),
        )

    def _count_links(self, domains: set[str]) -> None:
        """domains.backlinks (live edges) and .refdomains (their distinct source
        domains) of each target domain, counted again.

        A recount rather than $inc deltas: deltas would need the before and after
        state of every (target, source domain) pair and race with other writers;
        a recount is right whatever ran before it. It sums the pages' own
        `live_links` (each page's live edges per target domain, written with the
        page): on FerretDB 1.24, which reads and decodes every document a query
        scans (~0.25 ms each), that reads ~1/20 of what the edges would cost.
        A database with pages from before `live_links` counts from the edges.
        """
        if self.legacy_pages:
            counts = self._live_counts_from_edges(domains)
        else:
            counts = self._live_counts_from_pages(domains)
        counted_at = datetime.now(UTC)
        writes = [
            Write(
                domain,
                {
                    "$set": {
                        "backlinks": backlinks,
                        "refdomains": refdomains,
                        "counted_at": counted_at,
                    }
                },
            )
            for domain, (backlinks, refdomains) in sorted(counts.items())
        ]
        self._upsert(
            self.domain_collection, writes, self._existing(self.domain_collection, list(counts))
        )

    def _live_counts_from_pages(self, domains: set[str]) -> dict[str, tuple[int, int]]:
        edges: dict[str, int] = dict.fromkeys(domains, 0)
        sources: dict[str, set[str]] = {domain: set() for domain in domains}
        for chunk in _chunks(sorted(domains), DOMAIN_CHUNK):
            for doc in self.page_collection.find(
                {"live_links.domain": {"$in": chunk}}, {"_id": 0, "domain": 1, "live_links": 1}
            ):
                for entry in doc["live_links"]:
                    if entry["domain"] in edges:
                        edges[entry["domain"]] += entry["edges"]
                        sources[entry["domain"]].add(doc["domain"])
        return {domain: (edges[domain], len(sources[domain])) for domain in domains}

    def _live_counts_from_edges(self, domains: set[str]) -> dict[str, tuple[int, int]]:
        """One aggregate per DOMAIN_CHUNK target domains: it groups the live edges
        by (target, source domain); MongoDB sums the pairs per target in a
        second $group, FerretDB (which miscounts a second $group) returns the
        pairs and they are summed here."""
        counts = dict.fromkeys(domains, (0, 0))
        for chunk in _chunks(sorted(domains), DOMAIN_CHUNK):
            pipeline: list[dict[str, Any]] = [
                {"$match": {"target_domain": {"$in": chunk}, "lost_at": None}},
                {
                    "$group": {
                        "_id": {"target": "$target_domain", "source": "$source_domain"},
                        "edges": {"$sum": 1},
                    }
                },
            ]
            if self.server_grouping:
                pipeline.append(
                    {
                        "$group": {
                            "_id": "$_id.target",
                            "edges": {"$sum": "$edges"},
                            "sources": {"$sum": 1},
                        }
                    }
                )
                for doc in self.edge_collection.aggregate(pipeline):
                    counts[doc["_id"]] = (doc["edges"], doc["sources"])
            else:
                for doc in self.edge_collection.aggregate(pipeline):
                    backlinks, refdomains = counts[doc["_id"]["target"]]
                    counts[doc["_id"]["target"]] = (backlinks + doc["edges"], refdomains + 1)
        return counts

    def _count_domain_links(self, sources: set[str]) -> None:
        """The domain graph pairs of each source domain, summed again from its
        pages' `domain_links`; only changed pairs are written. Two reads per
        batch, whatever the number of domains it touched."""
        if not sources:
            return
        chunk = sorted(sources)
        pairs: dict[tuple[str, str], tuple[int, int]] = {}
        for doc in self.page_collection.find(
            {"domain": {"$in": chunk}}, {"_id": 0, "domain": 1, "domain_links": 1}
        ):
            for entry in doc.get("domain_links") or ():
                key = (doc["domain"], entry["domain"])
                links, pages = pairs.get(key, (0, 0))
                pairs[key] = (links + entry["links"], pages + 1)
        stored = {
            (doc["source_domain"], doc["target_domain"]): (doc["links"], doc["pages"])
            for doc in self.domain_link_collection.find(
                {"source_domain": {"$in": chunk}},
                {"_id": 0, "source_domain": 1, "target_domain": 1, "links": 1, "pages": 1},
            )
        }
        writes = [
            Write(
                pair_id(source, target),
                {
                    "$set": {
                        "source_domain": source,
                        "target_domain": target,
                        "links": links,
                        "pages": pages,
                    }
                },
            )
            for (source, target), (links, pages) in sorted(pairs.items())
            if stored.get((source, target)) != (links, pages)
        ]
        deletes = [DeleteOne({"_id": pair_id(*pair)}) for pair in sorted(stored.keys() - pairs)]
        self._upsert(self.domain_link_collection, writes, {pair_id(*pair) for pair in stored})
        for _, part in self._write_chunks(deletes):
            self.domain_link_collection.bulk_write(part, ordered=False)

    # --- queries -------------------------------------------------------------------

    @staticmethod
    def _target_filter(target: Target) -> dict[str, Any]:
        query: dict[str, Any] = {"target_domain": target.domain}
        if target.host is not None:
            query["$or"] = [
                {"target_host": target.host},
                {"target_host": {"$regex": f"\\.{_regex_escape(target.host)}$"}},
            ]
        return query

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
        query = self._backlinks_filter(target, state, since, dofollow)
        if source_domains is not None:
            query["source_domain"] = {"$in": list(source_domains)}
        return self._edges(
            query,
            [("source_domain", ASCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)],
            limit,
        )

    def source_domains(
        self,
        target: Target,
        *,
        state: State = "live",
        since: str | None = None,
        dofollow: bool = False,
    ) -> list[str]:
        query = self._backlinks_filter(target, state, since, dofollow)
        try:
            return sorted(self.edge_collection.distinct("source_domain", query))
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def _backlinks_filter(
        self, target: Target, state: State, since: str | None, dofollow: bool
    ) -> dict[str, Any]:
        query = self._target_filter(target)
        if state == "live":
            query["lost_at"] = None
        elif state == "lost":
            query["lost_at"] = {"$ne": None}
        if since:
            query["first_seen"] = {"$gte": to_datetime(since)}
        if dofollow:
            query["nofollow"] = False
        return query

    def new(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[Edge]:
        query = {**self._target_filter(target), "first_seen": {"$gte": to_datetime(since)}}
        return self._edges(
            query,
            [("first_seen", DESCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)],
            limit,
        )

    def lost(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[Edge]:
        query = {**self._target_filter(target), "lost_at": {"$gte": to_datetime(since)}}
        return self._edges(
            query,
            [("lost_at", DESCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)],
            limit,
        )

    def _edges(
        self, query: dict[str, Any], sort: list[tuple[str, int]], limit: int | None
    ) -> Iterator[Edge]:
        cursor = self.edge_collection.find(query, {"_id": 0, "dofollow": 0}).sort(sort)
        if limit:
            cursor = cursor.limit(limit)
        try:
            for doc in cursor:
                for name in ("first_seen", "last_seen", "lost_at"):
                    doc[name] = to_iso(doc.get(name))
                doc.setdefault("lost_reason", None)
                yield doc
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    # Grouping: MongoDB runs it on the server. FerretDB 1.x lacks $min/$max in
    # $group and miscounts a second $group, so there the same indexed query
    # streams the edges and they are grouped here.

    def refdomains(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        match = {**self._target_filter(target), "lost_at": None}
        if self.server_grouping:
            yield from self._refdomains_on_server(match, limit)
        else:
            yield from self._refdomains_on_client(match, limit)

    def _refdomains_on_server(self, match: dict[str, Any], limit: int | None) -> Iterator[dict]:
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {
                "$group": {
                    "_id": "$source_domain",
                    "edges": {"$sum": 1},
                    "dofollow": {"$sum": "$dofollow"},
                    "first_seen": {"$min": "$first_seen"},
                    "last_seen": {"$max": "$last_seen"},
                }
            },
            {"$sort": {"edges": -1, "_id": 1}},
        ]
        if limit:
            pipeline.append({"$limit": limit})
        for doc in self._aggregate(pipeline):
            yield {
                "source_domain": doc["_id"],
                "edges": doc["edges"],
                "dofollow": doc["dofollow"],
                "first_seen": to_iso(doc["first_seen"]),
                "last_seen": to_iso(doc["last_seen"]),
            }

    def _refdomains_on_client(self, match: dict[str, Any], limit: int | None) -> Iterator[dict]:
        projection = {"_id": 0, "source_domain": 1, "dofollow": 1, "first_seen": 1, "last_seen": 1}
        rows: dict[str, dict[str, Any]] = {}
        for doc in self._find(match, projection):
            row = rows.get(doc["source_domain"])
            if row is None:
                row = rows[doc["source_domain"]] = {
                    "source_domain": doc["source_domain"],
                    "edges": 0,
                    "dofollow": 0,
                    "first_seen": doc["first_seen"],
                    "last_seen": doc["last_seen"],
                }
            row["edges"] += 1
            row["dofollow"] += doc.get("dofollow", 0)
            row["first_seen"] = min(row["first_seen"], doc["first_seen"])
            row["last_seen"] = max(row["last_seen"], doc["last_seen"])
        ordered = sorted(rows.values(), key=lambda r: (-r["edges"], r["source_domain"]))
        for row in ordered[:limit] if limit else ordered:
            row["first_seen"], row["last_seen"] = (
                to_iso(row["first_seen"]),
                to_iso(row["last_seen"]),
            )
            yield row

    def anchors(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        match = {**self._target_filter(target), "lost_at": None}
        if self.server_grouping:
            pipeline: list[dict[str, Any]] = [
                {"$match": match},
                {
                    "$group": {
                        "_id": {"anchor": "$anchor", "domain": "$source_domain"},
                        "edges": {"$sum": 1},
                    }
                },
                {
                    "$group": {
                        "_id": "$_id.anchor",
                        "edges": {"$sum": "$edges"},
                        "refdomains": {"$sum": 1},
                    }
                },
                {"$sort": {"edges": -1, "_id": 1}},
            ]
            if limit:
                pipeline.append({"$limit": limit})
            for doc in self._aggregate(pipeline):
                yield {"anchor": doc["_id"], "edges": doc["edges"], "refdomains": doc["refdomains"]}
            return
        counts: dict[str, list[Any]] = {}
        for doc in self._find(match, {"_id": 0, "anchor": 1, "source_domain": 1}):
            entry = counts.setdefault(doc["anchor"], [0, set()])
            entry[0] += 1
            entry[1].add(doc["source_domain"])
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
        for anchor, (edges, domains) in ordered[:limit] if limit else ordered:
            yield {"anchor": anchor, "edges": edges, "refdomains": len(domains)}

    def pages(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        match = {**self._target_filter(target), "lost_at": None}
        if self.server_grouping:
            pipeline: list[dict[str, Any]] = [
                {"$match": match},
                {
                    "$group": {
                        "_id": {"url": "$target_url", "domain": "$source_domain"},
                        "edges": {"$sum": 1},
                        "dofollow": {"$sum": "$dofollow"},
                    }
                },
                {
                    "$group": {
                        "_id": "$_id.url",
                        "edges": {"$sum": "$edges"},
                        "dofollow": {"$sum": "$dofollow"},
                        "refdomains": {"$sum": 1},
                    }
                },
                {"$sort": {"edges": -1, "refdomains": -1, "_id": 1}},
            ]
            if limit:
                pipeline.append({"$limit": limit})
            for doc in self._aggregate(pipeline):
                yield {
                    "target_url": doc["_id"],
                    "edges": doc["edges"],
                    "dofollow": doc["dofollow"],
                    "refdomains": doc["refdomains"],
                }
            return
        rows: dict[str, dict[str, Any]] = {}
        domains: dict[str, set[str]] = {}
        projection = {"_id": 0, "target_url": 1, "source_domain": 1, "dofollow": 1}
        for doc in self._find(match, projection):
            url = doc["target_url"]
            row = rows.get(url)
            if row is None:
                row = rows[url] = {"target_url": url, "edges": 0, "dofollow": 0, "refdomains": 0}
                domains[url] = set()
            row["edges"] += 1
            row["dofollow"] += doc.get("dofollow", 0)
            domains[url].add(doc["source_domain"])
        for url, row in rows.items():
            row["refdomains"] = len(domains[url])
        ordered = sorted(
            rows.values(), key=lambda r: (-r["edges"], -r["refdomains"], r["target_url"])
        )
        yield from ordered[:limit] if limit else ordered

    def linking_pages(
        self, target: Target, *, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        # Two indexed queries instead of a $lookup (FerretDB has none): the
        # linking URLs from the edges, then their last crawl from the pages.
        urls = list(
            dict.fromkeys(
                doc["source_url"]
                for doc in self._find(self._target_filter(target), {"_id": 0, "source_url": 1})
            )
        )
        crawled: dict[str, datetime] = {}
        for chunk in _chunks(urls, LOOKUP_CHUNK):
            try:
                for doc in self.page_collection.find({"_id": {"$in": chunk}}, {"fetched_at": 1}):
                    crawled[doc["_id"]] = doc["fetched_at"]
            except mongo_errors.PyMongoError as exc:
                raise _store_error(exc) from exc
        # A page never stored (its edges written, the batch's pages not) first.
        urls.sort(key=lambda url: (url in crawled, crawled.get(url, EPOCH), url))
        for url in urls[:limit] if limit else urls:
            yield {"url": url, "last_crawled": to_iso(crawled.get(url))}

    # --- the domain graph and authority ---------------------------------------------

    def domain_graph(self) -> Iterator[tuple[str, str, int, int]]:
        # The whole collection, by design: ranking reads every pair once.
        projection = {"_id": 0, "source_domain": 1, "target_domain": 1, "links": 1, "pages": 1}
        try:
            for doc in self.domain_link_collection.find({}, projection, batch_size=10_000):
                yield doc["source_domain"], doc["target_domain"], doc["links"], doc["pages"]
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def linking_domains(self, domains: Sequence[str]) -> dict[str, set[str]]:
        linking: dict[str, set[str]] = {domain: set() for domain in domains}
        try:
            for chunk in _chunks(list(linking), DOMAIN_CHUNK):
                for doc in self.domain_link_collection.find(
                    {"target_domain": {"$in": chunk}},
                    {"_id": 0, "source_domain": 1, "target_domain": 1},
                ):
                    linking[doc["target_domain"]].add(doc["source_domain"])
            for domain, sources in linking.items():
                live = {"target_domain": domain, "lost_at": None}
                sources.update(self.edge_collection.distinct("source_domain", live))
                sources.discard(domain)
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc
        return linking

    def domain_profiles(
        self, domains: Sequence[str], watched: Collection[str]
    ) -> dict[str, dict[str, Any]]:
        profiles = {
            domain: {"pages": 0, "external_links": 0, "linked_domains": 0, "watched": []}
            for domain in domains
        }
        watched = set(watched)
        try:
            for chunk in _chunks(list(profiles), DOMAIN_CHUNK):
                for doc in self.domain_collection.find(
                    {"_id": {"$in": chunk}}, {"pages_crawled": 1}
                ):
                    profiles[doc["_id"]]["pages"] = doc.get("pages_crawled", 0)
                for doc in self.domain_link_collection.find(
                    {"source_domain": {"$in": chunk}},
                    {"_id": 0, "source_domain": 1, "target_domain": 1, "links": 1},
                ):
                    profile = profiles[doc["source_domain"]]
                    profile["external_links"] += doc["links"]
                    profile["linked_domains"] += 1
                    if doc["target_domain"] in watched:
                        profile["watched"].append(doc["target_domain"])
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc
        for profile in profiles.values():
            profile["watched"].sort()
        return profiles

    def watched_domains(self) -> list[str]:
        try:
            return sorted(self.edge_collection.distinct("target_domain"))
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def write_authority(self, rows: Iterable[Mapping[str, Any]], ranked_at: str) -> int:
        moment = to_datetime(ranked_at)
        size = FERRETDB_WRITE_CHUNK if self.ferretdb else 10_000
        count = 0
        ops: list[UpdateOne] = []
        try:
            for row in rows:
                fields = {name: row[name] for name in AUTHORITY_FIELDS if name != "ranked_at"}
                fields["ranked_at"] = moment
                ops.append(UpdateOne({"_id": row["domain"]}, {"$set": fields}, upsert=True))
                if len(ops) >= size:
                    self.domain_collection.bulk_write(ops, ordered=False)
                    count, ops = count + len(ops), []
            if ops:
                self.domain_collection.bulk_write(ops, ordered=False)
                count += len(ops)
            # Domains ranked before but not now (gone from the graph) lose their rank.
            stale = [
                doc["_id"]
                for doc in self.domain_collection.find({"ranked_at": {"$lt": moment}}, {"_id": 1})
            ]
            unset = {"$unset": {name: "" for name in AUTHORITY_FIELDS}}
            for start in range(0, len(stale), size):
                self.domain_collection.bulk_write(
                    [UpdateOne({"_id": domain}, unset) for domain in stale[start : start + size]],
                    ordered=False,
                )
        except mongo_errors.BulkWriteError as exc:
            raise StoreError(f"MongoDB bulk write failed: {exc.details}", transient=False) from exc
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc
        return count

    def authority(self, domains: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        projection = {name: 1 for name in AUTHORITY_FIELDS}
        try:
            for chunk in _chunks(sorted(set(domains)), DOMAIN_CHUNK):
                for doc in self.domain_collection.find({"_id": {"$in": chunk}}, projection):
                    if doc.get("pagerank") is None:
                        continue
                    found[doc["_id"]] = {
                        name: doc.get(name) for name in AUTHORITY_FIELDS if name != "ranked_at"
                    }
                    found[doc["_id"]]["ranked_at"] = to_iso(doc.get("ranked_at"))
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc
        return found

    def _find(self, match: dict[str, Any], projection: dict[str, int]) -> Iterator[dict]:
        try:
            yield from self.edge_collection.find(match, projection)
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def _aggregate(self, pipeline: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        try:
            yield from self.edge_collection.aggregate(pipeline)
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Write(NamedTuple):
    """One document's update, by _id: what MongoStore._upsert applies."""

    key: Any
    update: dict[str, dict[str, Any]]
    upsert: bool = True


def inserted_document(key: Any, update: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The document an upsert of `update` creates when no document has _id `key`.

    Every operator we upsert with ($set, $setOnInsert, $max, $inc) gives a
    missing field its operand. Fields in name order after _id: the order in
    which MongoDB (5.0 and later) and FerretDB apply an update's fields, so an
    inserted document is the upserted one, field order included.
    """
    fields = {name: value for operand in update.values() for name, value in operand.items()}
    return {"_id": key, **dict(sorted(fields.items()))}


def _duplicate_keys(exc: mongo_errors.BulkWriteError) -> list[dict[str, Any]]:
    """The write errors of an unordered insert_many, all duplicate keys; raises
    the error itself when any is something else."""
    errors = exc.details.get("writeErrors", [])
    if exc.details.get("writeConcernErrors") or any(
        error.get("code") != DUPLICATE_KEY for error in errors
    ):
        raise exc
    return errors


def pair_id(source_domain: str, target_domain: str) -> str:
    """A domain_links _id: the two domains, space-separated (no domain has a space)."""
    return f"{source_domain} {target_domain}"


def _key_spec(key: Mapping[str, Any]) -> list[tuple[str, int]]:
    """An index key as comparable pairs (servers answer 1, 1.0 or Int64(1))."""
    return [(field, int(direction)) for field, direction in key.items()]


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _regex_escape(text: str) -> str:
    import re

    return re.escape(text)


def _store_error(exc: Exception) -> StoreError:
    transient = isinstance(exc, TRANSIENT_ERRORS)
    return StoreError(f"MongoDB: {exc}", transient=transient)
