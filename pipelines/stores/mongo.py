"""The MongoDB link graph (MONGO_URI, MONGO_DATABASE), through pymongo.

Collections:

    edges    one document per (source URL, target URL); _id is a digest of the pair,
             so a write is an idempotent upsert
    pages    one per crawled page; _id is its URL
    domains  one per registered domain: pages crawled; for a watched domain,
             its live backlinks and referring domains

Writes come from the store pipeline's writer thread (never the reactor's): one
unordered bulk_write of upserts per batch ($setOnInsert first_seen, $max
last_seen, $set the rest). Uses only what both MongoDB 7 and FerretDB 1.24 run.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from hashlib import blake2b
from typing import TYPE_CHECKING, Any

import pymongo
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo import errors as mongo_errors

from pipelines.stores.base import (
    Store,
    StoreError,
    Target,
    lost_reason_for_status,
    lost_state_of_present_edge,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.items import Edge, PageItem
    from pipelines.stores.base import State

logger = logging.getLogger(__name__)

EDGE_INDEXES = [
    # backlinks of a domain, live or lost, in the order the CLI prints them
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
    # a page's edges, when the page is crawled again
    IndexModel([("source_url", ASCENDING)], name="by_source"),
]
PAGE_INDEXES = [IndexModel([("domain", ASCENDING), ("fetched_at", DESCENDING)], name="by_domain")]

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
    """Pages, edges and domains in a MongoDB database."""

    def __init__(
        self,
        uri: str,
        database: str = "linkwatch",
        *,
        readonly: bool = False,
        timeout_ms: int = 10_000,
    ) -> None:
        try:
            self.client: pymongo.MongoClient = pymongo.MongoClient(
                uri, tz_aware=True, serverSelectionTimeoutMS=timeout_ms, appname="linkwatch"
            )
            self.db = self.client[database]
            self.edges = self.db["edges"]
            self.pages = self.db["pages"]
            self.domains = self.db["domains"]
            build = self.client.admin.command("buildInfo")
            self.server_grouping = "ferretdbVersion" not in build
            if not readonly:
                self.create_indexes()
        except mongo_errors.ConfigurationError as exc:
            raise StoreError(f"MONGO_URI: {exc}", transient=False) from exc
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def create_indexes(self) -> None:
        """Idempotent: an existing index with the same definition is kept."""
        self.edges.create_indexes(EDGE_INDEXES)
        self.pages.create_indexes(PAGE_INDEXES)

    def close(self) -> None:
        self.client.close()

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
        previous: dict[str, dict[str, Any]] = {
            doc["_id"]: doc
            for doc in self.edges.find(
                {"source_url": {"$in": urls}},
                {
                    "target_url": 1,
                    "source_url": 1,
                    "target_domain": 1,
                    "nofollow": 1,
                    "lost_at": 1,
                    "lost_reason": 1,
                },
            )
        }
        by_source: dict[str, list[dict[str, Any]]] = {}
        for doc in previous.values():
            by_source.setdefault(doc["source_url"], []).append(doc)

        edge_ops: list[UpdateOne] = []
        page_ops: list[UpdateOne] = []
        touched: set[str] = set()
        for page in pages:
            seen_at = to_datetime(page["fetched_at"])
            present = set()
            for edge in page["edges"]:
                key = edge_id(edge["source_url"], edge["target_url"])
                present.add(key)
                touched.add(edge["target_domain"])
                edge_ops.append(self._upsert_edge(key, edge, previous.get(key), seen_at))
            reason = lost_reason_for_status(page["status"])
            for doc in by_source.get(page["url"], ()):
                if doc["_id"] not in present and doc.get("lost_at") is None:
                    touched.add(doc.get("target_domain", ""))
                    edge_ops.append(
                        UpdateOne(
                            {"_id": doc["_id"]},
                            {"$set": {"lost_at": seen_at, "lost_reason": reason}},
                        )
                    )
            page_ops.append(
                UpdateOne(
                    {"_id": page["url"]},
                    {
                        "$set": {
                            "domain": page["domain"],
                            "status": page["status"],
                            "title": page["title"],
                            "outlinks": page["outlinks"],
                            "edges": len(page["edges"]),
                        },
                        "$max": {"fetched_at": seen_at},
                        "$setOnInsert": {"first_fetched": seen_at},
                    },
                    upsert=True,
                )
            )
        if edge_ops:
            self.edges.bulk_write(edge_ops, ordered=False)
        result = self.pages.bulk_write(page_ops, ordered=False)
        self._count_pages(pages, result.upserted_ids)

    @staticmethod
    def _upsert_edge(
        key: str, edge: Edge, previous: dict[str, Any] | None, seen_at: datetime | None
    ) -> UpdateOne:
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
        return UpdateOne(
            {"_id": key},
            {
                "$set": fields,
                "$max": {"last_seen": seen_at},
                "$setOnInsert": {"first_seen": seen_at},
            },
            upsert=True,
        )

    def _count_pages(self, pages: list[PageItem], upserted: dict[int, Any]) -> None:
        """domains.pages_crawled counts distinct pages: only newly inserted ones add."""
        new_per_domain: dict[str, int] = {}
        for index in upserted:
            domain = pages[index]["domain"]
            new_per_domain[domain] = new_per_domain.get(domain, 0) + 1
        if new_per_domain:
            self.domains.bulk_write(
                [
                    UpdateOne({"_id": domain}, {"$inc": {"pages_crawled": count}}, upsert=True)
                    for domain, count in new_per_domain.items()
                ],
                ordered=False,
            )

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
    ) -> Iterator[Edge]:
        query = self._target_filter(target)
        if state == "live":
            query["lost_at"] = None
        elif state == "lost":
            query["lost_at"] = {"$ne": None}
        if since:
            query["first_seen"] = {"$gte": to_datetime(since)}
        if dofollow:
            query["nofollow"] = False
        cursor = self.edges.find(query, {"_id": 0, "dofollow": 0}).sort(
            [("source_domain", ASCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)]
        )
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

    def _find(self, match: dict[str, Any], projection: dict[str, int]) -> Iterator[dict]:
        try:
            yield from self.edges.find(match, projection)
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc

    def _aggregate(self, pipeline: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        try:
            yield from self.edges.aggregate(pipeline)
        except mongo_errors.PyMongoError as exc:
            raise _store_error(exc) from exc


def _regex_escape(text: str) -> str:
    import re

    return re.escape(text)


def _store_error(exc: Exception) -> StoreError:
    transient = isinstance(exc, TRANSIENT_ERRORS)
    return StoreError(f"MongoDB: {exc}", transient=transient)
