"""The MongoDB store's counters, recounted rather than kept by deltas:
`domains.pages_crawled`, each target domain's live `backlinks` and
`refdomains`, and the domain graph (`domain_links`).

Counters are recounted for the domains the batches touched, at most every
`recount_interval` seconds (LINKWATCH_MONGO_RECOUNT_INTERVAL in a crawl; 0:
after every batch) and when the store closes: a recount reads the pages (in an
older database, the edges) linking into the domains, on FerretDB every one, so
after every batch it would cost more than
the batch as the graph grows. A recount, unlike $inc deltas, is right whatever
a failed and retried batch did before; it takes one read per DOMAIN_CHUNK
target domains.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pymongo import DeleteOne

from pipelines.stores.base import DOMAIN_CHUNK
from pipelines.stores.mongo.connection import MongoConnected, chunks
from pipelines.stores.mongo.schema import pair_id
from pipelines.stores.mongo.upsert import Write, existing, upsert, write_chunks

if TYPE_CHECKING:
    from crawler.items import PageItem


class MongoCounters(MongoConnected):
    """Recounts of the domains and domain_links collections."""

    recount_interval: float
    # Domains whose counters wait for a recount: (target domains, source domains).
    to_recount: tuple[set[str], set[str]]
    recounted: float  # time.monotonic() of the last recount
    # Pages written before `live_links` existed: recount from the edges.
    legacy_pages: bool

    def recount(self) -> None:
        """Recount the counters of the domains touched since the last recount."""
        targets, sources = self.to_recount
        self._count_links(targets - {""})
        self._count_domain_links(sources)
        self.to_recount = (set(), set())
        self.recounted = time.monotonic()

    def _upsert(self, collection: Any, writes: list[Write], stored: Any) -> list[int]:
        """`upsert` in pieces as this server needs them."""
        return upsert(collection, writes, stored, self.write_chunk)

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
            existing(self.domain_collection, list(new_per_domain)),
        )

    def _count_links(self, domains: set[str]) -> None:
        """domains.backlinks (live edges) and .refdomains (their distinct source
        domains) of each target domain, counted again.

        A recount rather than $inc deltas: deltas would need the before and after
        state of every (target, source domain) pair and race with other writers;
        a recount is right whatever ran before it. It sums the pages' own
        `live_links` (each page's live edges per target domain, written with the
        page): on FerretDB 1.24, which reads and decodes every document a query
        scans, that reads a small fraction of what the edges would cost.
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
        self._upsert(self.domain_collection, writes, existing(self.domain_collection, list(counts)))

    def _live_counts_from_pages(self, domains: set[str]) -> dict[str, tuple[int, int]]:
        edges: dict[str, int] = dict.fromkeys(domains, 0)
        sources: dict[str, set[str]] = {domain: set() for domain in domains}
        for chunk in chunks(sorted(domains), DOMAIN_CHUNK):
            for doc in self.page_collection.find(
                {"live_links.domain": {"$in": chunk}}, {"_id": 0, "domain": 1, "live_links": 1}
            ):
                for entry in doc["live_links"]:
                    if entry["domain"] in edges:
                        edges[entry["domain"]] += entry["edges"]
                        sources[entry["domain"]].add(doc["domain"])
        return {domain: (edges[domain], len(sources[domain])) for domain in domains}

    def _live_counts_from_edges(self, domains: set[str]) -> dict[str, tuple[int, int]]:
        """One aggregate per DOMAIN_CHUNK target domains, grouped as the
        server can (see grouping.py)."""
        counts = dict.fromkeys(domains, (0, 0))
        for chunk in chunks(sorted(domains), DOMAIN_CHUNK):
            self.grouping.live_counts(chunk, counts)
        return counts

    def _count_domain_links(self, sources: set[str]) -> None:
        """The domain graph pairs of each source domain, summed again from its
        pages' `domain_links`; only changed pairs are written. Two reads per
        batch, whatever the number of domains it touched."""
        if not sources:
            return
        chunk = sorted(sources)
        pairs = self._summed_domain_links(chunk)
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
        for part in write_chunks(deletes, self.write_chunk):
            self.domain_link_collection.bulk_write(part, ordered=False)

    def _summed_domain_links(self, sources: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
        """(links, pages) of each (source, target domain) pair, from the pages
        of the source domains."""
        pairs: dict[tuple[str, str], tuple[int, int]] = {}
        for doc in self.page_collection.find(
            {"domain": {"$in": sources}}, {"_id": 0, "domain": 1, "domain_links": 1}
        ):
            for entry in doc.get("domain_links") or ():
                key = (doc["domain"], entry["domain"])
                links, pages = pairs.get(key, (0, 0))
                pairs[key] = (links + entry["links"], pages + 1)
        return pairs
