"""Where the edges of a query are grouped: one strategy, chosen at connect time.

MongoDB groups on the server (`ServerGrouping`: aggregation pipelines).
FerretDB 1.x lacks $min/$max/$cond in $group and miscounts a second $group,
so there (`ClientGrouping`) the same indexed query streams the edges and they
are grouped here. Both answer the grouped queries (refdomains, anchors, pages)
and the recount of live backlinks from the edges, with the same results.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from pipelines.stores.mongo.connection import aggregate, find
from pipelines.stores.mongo.schema import to_iso

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pymongo.collection import Collection


def grouping_for(build_info: dict[str, Any], edges: Collection) -> Grouping:
    """The strategy the server answering `buildInfo` with this needs."""
    if "ferretdbVersion" in build_info:
        return ClientGrouping(edges)
    return ServerGrouping(edges)


class Grouping(ABC):
    """Grouped reads of the live edges a `match` (target and lost_at: None) selects."""

    on_server: bool

    def __init__(self, edges: Collection) -> None:
        self.edges = edges

    @abstractmethod
    def refdomains(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        """Per source domain: edges, dofollow, first_seen, last_seen; most edges first."""

    @abstractmethod
    def anchors(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        """Per anchor: edges, refdomains; most edges first."""

    @abstractmethod
    def pages(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        """Per target URL: edges, dofollow, refdomains; most edges, then refdomains first."""

    @abstractmethod
    def live_counts(self, domains: list[str], counts: dict[str, tuple[int, int]]) -> None:
        """Set (live edges, referring domains) in `counts` of each target domain
        of `domains` with live edges, in one aggregate; errors are pymongo's."""

    @staticmethod
    def _pairs(domains: list[str]) -> list[dict[str, Any]]:
        """Live edges into `domains`, grouped by (target, source domain)."""
        return [
            {"$match": {"target_domain": {"$in": domains}, "lost_at": None}},
            {
                "$group": {
                    "_id": {"target": "$target_domain", "source": "$source_domain"},
                    "edges": {"$sum": 1},
                }
            },
        ]


class ServerGrouping(Grouping):
    """MongoDB: aggregation pipelines group on the server."""

    on_server = True

    def _aggregate(
        self, pipeline: list[dict[str, Any]], limit: int | None
    ) -> Iterator[dict[str, Any]]:
        if limit:
            pipeline.append({"$limit": limit})
        return aggregate(self.edges, pipeline)

    def refdomains(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        group = {
            "_id": "$source_domain",
            "edges": {"$sum": 1},
            "dofollow": {"$sum": "$dofollow"},
            "first_seen": {"$min": "$first_seen"},
            "last_seen": {"$max": "$last_seen"},
        }
        pipeline = [{"$match": match}, {"$group": group}, {"$sort": {"edges": -1, "_id": 1}}]
        for doc in self._aggregate(pipeline, limit):
            yield {
                "source_domain": doc["_id"],
                "edges": doc["edges"],
                "dofollow": doc["dofollow"],
                "first_seen": to_iso(doc["first_seen"]),
                "last_seen": to_iso(doc["last_seen"]),
            }

    def anchors(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
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
        for doc in self._aggregate(pipeline, limit):
            yield {"anchor": doc["_id"], "edges": doc["edges"], "refdomains": doc["refdomains"]}

    def pages(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
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
        for doc in self._aggregate(pipeline, limit):
            yield {
                "target_url": doc["_id"],
                "edges": doc["edges"],
                "dofollow": doc["dofollow"],
                "refdomains": doc["refdomains"],
            }

    def live_counts(self, domains: list[str], counts: dict[str, tuple[int, int]]) -> None:
        pipeline = self._pairs(domains)
        pipeline.append(
            {"$group": {"_id": "$_id.target", "edges": {"$sum": "$edges"}, "sources": {"$sum": 1}}}
        )
        for doc in self.edges.aggregate(pipeline):
            counts[doc["_id"]] = (doc["edges"], doc["sources"])


class ClientGrouping(Grouping):
    """FerretDB: indexed finds stream the edges, grouped here."""

    on_server = False

    def refdomains(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        projection = {"_id": 0, "source_domain": 1, "dofollow": 1, "first_seen": 1, "last_seen": 1}
        rows: dict[str, dict[str, Any]] = {}
        for doc in find(self.edges, match, projection):
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

    def anchors(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        counts: dict[str, list[Any]] = {}
        for doc in find(self.edges, match, {"_id": 0, "anchor": 1, "source_domain": 1}):
            entry = counts.setdefault(doc["anchor"], [0, set()])
            entry[0] += 1
            entry[1].add(doc["source_domain"])
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1][0], kv[0]))
        for anchor, (edges, domains) in ordered[:limit] if limit else ordered:
            yield {"anchor": anchor, "edges": edges, "refdomains": len(domains)}

    def pages(self, match: dict[str, Any], limit: int | None) -> Iterator[dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        domains: dict[str, set[str]] = {}
        projection = {"_id": 0, "target_url": 1, "source_domain": 1, "dofollow": 1}
        for doc in find(self.edges, match, projection):
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

    def live_counts(self, domains: list[str], counts: dict[str, tuple[int, int]]) -> None:
        # The (target, source domain) pairs, summed here.
        for doc in self.edges.aggregate(self._pairs(domains)):
            backlinks, refdomains = counts[doc["_id"]["target"]]
            counts[doc["_id"]["target"]] = (backlinks + doc["edges"], refdomains + 1)
