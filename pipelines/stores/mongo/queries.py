"""The MongoDB store's edge queries: backlinks, referring domains, anchors,
new and lost edges, target pages and the linking pages a recrawl fetches.

Every query filters on the leading keys of an index (schema.EDGE_INDEXES says
which query uses which). MongoDB uses them; FerretDB 1.24 on SQLite pushes no
filter but an `_id` equality down to SQLite and scans, whatever the indexes.
Grouped queries go to the grouping strategy chosen at connect (grouping.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING
from pymongo import errors as mongo_errors

from crawler.items import Edge, names
from pipelines.stores.base import RECRAWL_FIELDS, UNKNOWN_PLACEMENT
from pipelines.stores.mongo.connection import LOOKUP_CHUNK, MongoConnected, chunks, store_error
from pipelines.stores.mongo.schema import EPOCH, to_datetime, to_iso

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import datetime

    from crawler.items import EdgeItem
    from pipelines.stores.base import State, Target

DATE_FIELDS = names(Edge, kind="date")
BACKLINKS_ORDER = [
    ("source_domain", ASCENDING),
    ("source_url", ASCENDING),
    ("target_url", ASCENDING),
]


class MongoQueries(MongoConnected):
    """The `Store` queries over the edges and pages collections."""

    def expansions(self) -> dict[str, dict[str, Any]]:
        try:
            docs = list(self.expansion_collection.find().sort([("order", 1), ("_id", 1)]))
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return {
            doc["_id"]: {
                "domain": doc["_id"],
                "via": doc["via"],
                "via_domain": doc["via_domain"],
                "hop": doc["hop"],
                "order": doc["order"],
                "found_at": to_iso(doc["found_at"]),
            }
            for doc in docs
        }

    @staticmethod
    def _target_filter(target: Target) -> dict[str, Any]:
        query: dict[str, Any] = {"target_domain": target.domain}
        if target.host is not None:
            query["$or"] = [
                {"target_host": target.host},
                {"target_host": {"$regex": f"\\.{re.escape(target.host)}$"}},
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
        placement: str | None = None,
    ) -> Iterator[EdgeItem]:
        query = self._backlinks_filter(target, state, since, dofollow)
        if source_domains is not None:
            query["source_domain"] = {"$in": list(source_domains)}
        if placement == UNKNOWN_PLACEMENT:  # index by_placement; absent: stored before 0.4
            query["placement"] = {"$in": ["", None]}
        elif placement is not None:
            query["placement"] = placement
        return self._edges(query, BACKLINKS_ORDER, limit)

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
            raise store_error(exc) from exc

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

    def new(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[EdgeItem]:
        query = {**self._target_filter(target), "first_seen": {"$gte": to_datetime(since)}}
        return self._edges(
            query,
            [("first_seen", DESCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)],
            limit,
        )

    def lost(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[EdgeItem]:
        query = {**self._target_filter(target), "lost_at": {"$gte": to_datetime(since)}}
        return self._edges(
            query,
            [("lost_at", DESCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)],
            limit,
        )

    def _edges(
        self, query: dict[str, Any], sort: list[tuple[str, int]], limit: int | None
    ) -> Iterator[EdgeItem]:
        cursor = self.edge_collection.find(query, {"_id": 0, "dofollow": 0}).sort(sort)
        if limit:
            cursor = cursor.limit(limit)
        try:
            for doc in cursor:
                for name in DATE_FIELDS:  # BSON dates
                    doc[name] = to_iso(doc.get(name))
                doc.setdefault("lost_reason", None)
                doc.setdefault("placement", "")  # an edge stored before they existed
                doc.setdefault("context", "")
                yield doc
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc

    def _live(self, target: Target) -> dict[str, Any]:
        return {**self._target_filter(target), "lost_at": None}

    def refdomains(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self.grouping.refdomains(self._live(target), limit)

    def anchors(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self.grouping.anchors(self._live(target), limit)

    def pages(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        return self.grouping.pages(self._live(target), limit)

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
        for chunk in chunks(urls, LOOKUP_CHUNK):
            try:
                for doc in self.page_collection.find({"_id": {"$in": chunk}}, {"fetched_at": 1}):
                    crawled[doc["_id"]] = doc["fetched_at"]
            except mongo_errors.PyMongoError as exc:
                raise store_error(exc) from exc
        # A page never stored (its edges written, the batch's pages not) first.
        urls.sort(key=lambda url: (url in crawled, crawled.get(url, EPOCH), url))
        for url in urls[:limit] if limit else urls:
            yield {"url": url, "last_crawled": to_iso(crawled.get(url))}

    # --- the linking pages' language and address (link quality) ----------------

    def page_facts(self, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        try:
            for chunk in chunks(list(urls), LOOKUP_CHUNK):
                query = {"_id": {"$in": chunk}}
                for doc in self.page_collection.find(query, {"lang": 1, "ip": 1}):
                    found[doc["_id"]] = {"lang": doc.get("lang"), "ip": doc.get("ip")}
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return found

    def domain_addresses(self, domains: Sequence[str]) -> dict[str, str]:
        latest: dict[str, tuple[datetime, str]] = {}
        try:
            for chunk in chunks(list(domains), LOOKUP_CHUNK):
                # The pages of a domain (index by_domain), the latest with an address.
                query = {"domain": {"$in": chunk}, "ip": {"$type": "string"}}
                fields = {"domain": 1, "ip": 1, "fetched_at": 1}
                for doc in self.page_collection.find(query, fields):
                    seen = latest.get(doc["domain"])
                    if seen is None or doc["fetched_at"] > seen[0]:
                        latest[doc["domain"]] = (doc["fetched_at"], doc["ip"])
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return {domain: ip for domain, (_, ip) in latest.items()}

    # --- freshness ----------------------------------------------------------------

    def fetched_since(self, urls: Sequence[str], since: str) -> set[str]:
        found: set[str] = set()
        moment = to_datetime(since)
        try:
            for chunk in chunks(list(urls), LOOKUP_CHUNK):
                query = {"_id": {"$in": chunk}, "fetched_at": {"$gte": moment}}
                found.update(doc["_id"] for doc in self.page_collection.find(query, {"_id": 1}))
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
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
        if not domains:
            return
        # Two indexed queries instead of a $lookup (FerretDB has none): the
        # linking URLs from the edges, then their schedule from the pages.
        urls = list(
            dict.fromkeys(
                doc["source_url"]
                for doc in self._find(
                    {"target_domain": {"$in": list(domains)}}, {"_id": 0, "source_url": 1}
                )
            )
        )
        due = to_datetime(due_before) if due_before is not None else None
        fields = dict.fromkeys([*RECRAWL_FIELDS[1:], "ip"], 1)
        rows = []
        try:
            for chunk in chunks(urls, LOOKUP_CHUNK):
                for doc in self.page_collection.find({"_id": {"$in": chunk}}, fields):
                    when = doc.get("due_at")
                    if due is not None and when is not None and when > due:
                        continue
                    rows.append(doc)
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        rows.sort(
            key=lambda doc: (doc.get("due_at") is not None, doc.get("due_at") or EPOCH, doc["_id"])
        )
        for doc in rows[:limit] if limit else rows:
            # No validators for a page stored before 0.4 (no address): fetched
            # whole once, its edges gain placement and context.
            stored_by_0_4 = doc.get("ip") is not None
            yield {
                "url": doc["_id"],
                "etag": doc.get("etag") if stored_by_0_4 else None,
                "last_modified": doc.get("last_modified") if stored_by_0_4 else None,
                "fetched_at": to_iso(doc.get("fetched_at")),
                "recrawl_interval": doc.get("recrawl_interval"),
                "due_at": to_iso(doc.get("due_at")),
            }
