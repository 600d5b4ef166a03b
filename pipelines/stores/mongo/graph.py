"""The MongoDB store's domain graph and authority: the `domain_links` pairs
(recounted by counters.py), who links to a domain, linking-site profiles,
the watched domains, and the authority `linkwatch rank` writes to `domains`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import UpdateOne
from pymongo import errors as mongo_errors

from pipelines.stores.base import AUTHORITY_FIELDS, DOMAIN_CHUNK, StoreError
from pipelines.stores.mongo.connection import MongoConnected, chunks, store_error
from pipelines.stores.mongo.schema import to_datetime, to_iso

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime

# Authority updates per bulk_write (on FerretDB, its write chunk).
AUTHORITY_CHUNK = 10_000


class MongoGraph(MongoConnected):
    """The `Store` methods of the domain graph and of authority."""

    def domain_graph(self) -> Iterator[tuple[str, str, int, int]]:
        # The whole collection, by design: ranking reads every pair once.
        projection = {"_id": 0, "source_domain": 1, "target_domain": 1, "links": 1, "pages": 1}
        try:
            for doc in self.domain_link_collection.find({}, projection, batch_size=10_000):
                yield doc["source_domain"], doc["target_domain"], doc["links"], doc["pages"]
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc

    def linking_domains(self, domains: Sequence[str]) -> dict[str, set[str]]:
        linking: dict[str, set[str]] = {domain: set() for domain in domains}
        try:
            for chunk in chunks(list(linking), DOMAIN_CHUNK):
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
            raise store_error(exc) from exc
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
            for chunk in chunks(list(profiles), DOMAIN_CHUNK):
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
            raise store_error(exc) from exc
        for profile in profiles.values():
            profile["watched"].sort()
        return profiles

    def watched_domains(self) -> list[str]:
        try:
            return sorted(self.edge_collection.distinct("target_domain"))
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc

    def write_authority(self, rows: Iterable[Mapping[str, Any]], ranked_at: str) -> int:
        moment = to_datetime(ranked_at)
        try:
            count = self._set_authority(rows, moment)
            self._unset_stale_authority(moment)
        except mongo_errors.BulkWriteError as exc:
            raise StoreError(f"MongoDB bulk write failed: {exc.details}", transient=False) from exc
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return count

    def _set_authority(self, rows: Iterable[Mapping[str, Any]], moment: datetime | None) -> int:
        size = self.write_chunk or AUTHORITY_CHUNK
        count = 0
        ops: list[UpdateOne] = []
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
        return count

    def _unset_stale_authority(self, moment: datetime | None) -> None:
        """Domains ranked before but not now (gone from the graph) lose their rank."""
        size = self.write_chunk or AUTHORITY_CHUNK
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

    def authority(self, domains: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        projection = {name: 1 for name in AUTHORITY_FIELDS}
        try:
            for chunk in chunks(sorted(set(domains)), DOMAIN_CHUNK):
                for doc in self.domain_collection.find({"_id": {"$in": chunk}}, projection):
                    if doc.get("pagerank") is None:
                        continue
                    found[doc["_id"]] = {
                        name: doc.get(name) for name in AUTHORITY_FIELDS if name != "ranked_at"
                    }
                    found[doc["_id"]]["ranked_at"] = to_iso(doc.get("ranked_at"))
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return found
