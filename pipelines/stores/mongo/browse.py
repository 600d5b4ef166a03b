"""The MongoDB store's paged reads for the dashboard: one page of edges at a
time under filters and a sort, and the day-by-day counts its charts draw.

Filters are built here from typed values (EdgeFilter), never from a
document a user sent: a value like {"$gt": ""} cannot become an operator,
and the text search is an escaped regex. Sorts follow indexes of
schema.EDGE_INDEXES (by_target, new_by_target, by_last_seen); `authority`
walks the domains collection by pagerank (by_pagerank) a chunk of domains at
a time, then the unranked domains' edges in domain order. FerretDB 1.24
scans whatever the indexes (queries.py); MongoDB uses them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING
from pymongo import errors as mongo_errors

from pipelines.stores.base import BROWSE_SORTS, DOMAIN_CHUNK
from pipelines.stores.mongo.connection import find, store_error
from pipelines.stores.mongo.queries import BACKLINKS_ORDER, MongoQueries
from pipelines.stores.mongo.schema import to_datetime, to_iso

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.items import EdgeItem
    from pipelines.stores.base import EdgeFilter, Target

_ORDER = {
    "domain": BACKLINKS_ORDER,
    "first_seen": [
        ("first_seen", DESCENDING),
        ("source_url", ASCENDING),
        ("target_url", ASCENDING),
    ],
    "last_seen": [("last_seen", DESCENDING), ("source_url", ASCENDING), ("target_url", ASCENDING)],
}


class MongoBrowse(MongoQueries):
    """`Store.browse_edges`, `edge_days`, `domain_spans` and `edge_totals` in MongoDB."""

    def browse_edges(
        self, target: Target, where: EdgeFilter, *, sort: str, offset: int, limit: int
    ) -> list[EdgeItem]:
        if sort not in BROWSE_SORTS:
            raise ValueError(f"unknown sort {sort!r}")
        query = self._browse_filter(target, where)
        if sort == "authority":
            return self._by_authority(query, offset, limit)
        return list(self._edges_page(query, _ORDER[sort], offset, limit))

    def _edges_page(
        self, query: dict[str, Any], sort: list[tuple[str, int]], offset: int, limit: int
    ) -> Iterator[EdgeItem]:
        cursor = self.edge_collection.find(query, {"_id": 0, "dofollow": 0}).sort(sort)
        return self._documents(cursor.skip(offset).limit(limit))

    def _documents(self, cursor: Any) -> Iterator[EdgeItem]:
        try:
            for doc in cursor:
                for name in ("first_seen", "last_seen", "lost_at"):
                    doc[name] = to_iso(doc.get(name))
                doc.setdefault("lost_reason", None)
                doc.setdefault("placement", "")
                doc.setdefault("context", "")
                yield doc
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc

    def _by_authority(self, query: dict[str, Any], offset: int, limit: int) -> list[EdgeItem]:
        """Ranked referring domains first, highest pagerank first; `offset`
        edges skipped as they come (a deep page reads the pages before it)."""
        page: list[EdgeItem] = []
        skip = offset
        ranked: set[str] = set()
        domains = self.domain_collection.find(
            {"pagerank": {"$ne": None}}, {"_id": 1, "pagerank": 1}
        ).sort([("pagerank", DESCENDING), ("_id", ASCENDING)])
        chunk: list[tuple[str, float]] = []
        try:
            for doc in domains:
                ranked.add(doc["_id"])
                chunk.append((doc["_id"], doc["pagerank"]))
                if len(chunk) >= DOMAIN_CHUNK:
                    skip = self._ranked_chunk(query, chunk, skip, limit, page)
                    chunk = []
                    if len(page) >= limit:
                        return page
            skip = self._ranked_chunk(query, chunk, skip, limit, page)
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        for edge in self._documents(
            self.edge_collection.find(query, {"_id": 0}).sort(BACKLINKS_ORDER)
        ):
            if len(page) >= limit:
                break
            if edge["source_domain"] in ranked:
                continue
            if skip:
                skip -= 1
                continue
            edge.pop("dofollow", None)
            edge["authority"] = None
            page.append(edge)
        return page

    def _ranked_chunk(
        self,
        query: dict[str, Any],
        chunk: list[tuple[str, float]],
        skip: int,
        limit: int,
        page: list[EdgeItem],
    ) -> int:
        if not chunk or len(page) >= limit:
            return skip
        rank = {domain: position for position, (domain, _) in enumerate(chunk)}
        pagerank = dict(chunk)
        edges = list(
            self._documents(
                self.edge_collection.find(
                    {**query, "source_domain": {"$in": list(rank)}}, {"_id": 0, "dofollow": 0}
                ).sort(BACKLINKS_ORDER)
            )
        )
        edges.sort(key=lambda edge: rank[edge["source_domain"]])  # stable: page order kept
        if skip >= len(edges):
            return skip - len(edges)
        for edge in edges[skip:]:
            if len(page) >= limit:
                break
            edge["authority"] = pagerank[edge["source_domain"]]
            page.append(edge)
        return 0

    def _browse_filter(self, target: Target, where: EdgeFilter) -> dict[str, Any]:
        query = self._backlinks_filter(target, where.state, where.since, False)
        if where.follow is not None:
            query["nofollow"] = not where.follow
        for name in ("link_type", "placement", "source_domain"):
            value = getattr(where, name)
            if value is not None:
                query[name] = str(value)
        if where.text:
            pattern = {"$regex": re.escape(where.text), "$options": "i"}
            text = [{"anchor": pattern}, {"source_url": pattern}, {"target_url": pattern}]
            if "$or" in query:  # the target host's $or
                query = {"$and": [query, {"$or": text}]}
            else:
                query["$or"] = text
        return query

    def edge_days(self, target: Target) -> list[dict[str, Any]]:
        # Grouped here: FerretDB 1.x has no $dateToString in $group.
        days: dict[str, dict[str, Any]] = {}
        projection = {"_id": 0, "first_seen": 1, "lost_at": 1}
        for doc in find(self.edge_collection, self._target_filter(target), projection):
            for field, name in (("first_seen", "new"), ("lost_at", "lost")):
                moment = doc.get(field)
                if moment is not None:
                    day = moment.strftime("%Y-%m-%d")
                    days.setdefault(day, {"day": day, "new": 0, "lost": 0})[name] += 1
        return [days[day] for day in sorted(days)]

    def domain_spans(self, target: Target) -> Iterator[tuple[str, str, str | None]]:
        spans: dict[str, list[Any]] = {}
        projection = {"_id": 0, "source_domain": 1, "first_seen": 1, "lost_at": 1}
        for doc in find(self.edge_collection, self._target_filter(target), projection):
            span = spans.get(doc["source_domain"])
            gone = doc.get("lost_at")
            if span is None:
                spans[doc["source_domain"]] = [doc["first_seen"], gone]
                continue
            span[0] = min(span[0], doc["first_seen"])
            if span[1] is not None:
                span[1] = None if gone is None else max(span[1], gone)
        for domain, (first, gone) in spans.items():
            yield domain, to_iso(first), to_iso(gone)

    def edge_totals(self, target: Target, lost_since: str) -> dict[str, int]:
        live = {**self._target_filter(target), "lost_at": None}
        since = to_datetime(lost_since) or datetime.now(UTC)
        try:
            return {
                "live": self.edge_collection.count_documents(live),
                "followed": self.edge_collection.count_documents({**live, "nofollow": False}),
                "lost": self.edge_collection.count_documents(
                    {**self._target_filter(target), "lost_at": {"$gte": since}}
                ),
            }
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
