"""The MongoDB write path: a batch of pages, from the store pipeline's
writer thread (never the reactor's).

A batch looks up which of its pages are stored and reads those pages' edges
(one find), then writes the pages, then the edges (upsert.py), and notes the
domains whose counters (counters.py) now need a recount. A page's document
carries `live_links` (its live edges per target domain) and `domain_links`
(its links per registered domain): the recounts sum these instead of reading
every edge. Each linking page's recrawl schedule moves on
(crawler/schedule.py); a page answered 304 (`not_modified`) only confirms its
stored edges: their last_seen moves.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pymongo import UpdateOne
from pymongo import errors as mongo_errors

from crawler.items import EDGE_CRAWL_FIELDS
from pipelines.stores.base import (
    StoreError,
    can_lose,
    lost_reason_for_status,
    lost_state_of_present_edge,
    next_schedule,
)
from pipelines.stores.mongo.connection import LOOKUP_CHUNK, chunks, store_error
from pipelines.stores.mongo.counters import MongoCounters
from pipelines.stores.mongo.schema import edge_id, to_datetime
from pipelines.stores.mongo.upsert import Write, write_chunks

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from crawler.items import EdgeItem, PageItem

# What a batch reads of a stored page's edges.
PREVIOUS_EDGE_FIELDS = {
    "target_url": 1,
    "source_url": 1,
    "target_domain": 1,
    "target_host": 1,
    "nofollow": 1,
    "lost_at": 1,
    "lost_reason": 1,
}


@dataclass
class BatchWrites:
    """What a batch writes, and the domains whose counters it changes."""

    edges: list[Write] = field(default_factory=list)
    pages: list[Write] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)  # target domains of changed edges
    linking: set[str] = field(default_factory=set)  # source domains whose domain links changed


class MongoWrites(MongoCounters):
    """`write_pages`: pages and their edges as upserts, counters recounted later."""

    def write_pages(self, pages: list[PageItem]) -> None:
        try:
            self._write_pages(pages)
        except mongo_errors.BulkWriteError as exc:
            raise StoreError(f"MongoDB bulk write failed: {exc.details}", transient=False) from exc
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc

    def _write_pages(self, pages: list[PageItem]) -> None:
        urls = [page["url"] for page in pages]
        # A page's document is written before its edges (below), so the edges
        # of a page without one were never written: no need to look them up
        # (on FerretDB, a scan of every edge).
        known_pages = self._stored_pages(urls)
        confirmed = [page for page in pages if page.get("not_modified")]
        if confirmed:
            self._confirm(confirmed, known_pages)
            pages = [page for page in pages if not page.get("not_modified")]
            if not pages:
                return
        previous = self._previous_edges([url for url in dict.fromkeys(urls) if url in known_pages])
        by_source: dict[str, list[dict[str, Any]]] = {}
        for doc in previous.values():
            by_source.setdefault(doc["source_url"], []).append(doc)
        batch = BatchWrites()
        schedule = self.schedule
        for page in pages:
            stored_edges = by_source.get(page["url"], ())
            live = self._edge_writes(page, previous, stored_edges, batch)
            linking = bool(page["edges"]) or bool(stored_edges)
            planned = next_schedule(schedule, page, linking, known_pages.get(page["url"]))
            batch.pages.append(_page_write(page, live, planned))
            if page.get("domain_links") is not None:
                batch.linking.add(page["domain"])
        # Pages first (see `known_pages`), counted at once: a retried batch finds
        # them written and does not count them again.
        created = self._upsert(self.page_collection, batch.pages, known_pages)
        self._count_pages([pages[index] for index in created])
        self._upsert(self.edge_collection, batch.edges, previous)
        self._write_expansions([page for page in pages if page.get("expansion")])
        self.to_recount[0].update(batch.touched)
        self.to_recount[1].update(batch.linking)
        if time.monotonic() - self.recounted >= self.recount_interval:
            self.recount()

    def _stored_pages(self, urls: list[str]) -> dict[str, tuple[str | None, int | None]]:
        """{url: (links_digest, recrawl_interval)} of the stored pages among `urls`."""
        found: dict[str, tuple[str | None, int | None]] = {}
        fields = {"links_digest": 1, "recrawl_interval": 1}
        for chunk in chunks(list(dict.fromkeys(urls)), LOOKUP_CHUNK):
            for doc in self.page_collection.find({"_id": {"$in": chunk}}, fields):
                found[doc["_id"]] = (doc.get("links_digest"), doc.get("recrawl_interval"))
        return found

    def _confirm(
        self, pages: list[PageItem], stored: dict[str, tuple[str | None, int | None]]
    ) -> None:
        """Pages answered 304: stored edges seen again (a link still nofollow
        stays lost so), schedules moved on, validators kept unless new ones came."""
        page_writes = []
        confirmed_at: dict[str, datetime | None] = {}
        for page in pages:
            known = stored.get(page["url"])
            if known is None:
                continue  # validators come from a stored page; it went since
            _, interval, due = next_schedule(self.schedule, page, known[1] is not None, known)
            seen_at = to_datetime(page["fetched_at"])
            fields: dict[str, Any] = {"recrawl_interval": interval, "due_at": to_datetime(due)}
            for name in ("etag", "last_modified"):
                if page.get(name):
                    fields[name] = page[name]
            page_writes.append(
                UpdateOne({"_id": page["url"]}, {"$set": fields, "$max": {"fetched_at": seen_at}})
            )
            confirmed_at[page["url"]] = seen_at
        # One update per edge, not an update_many per page, and in pieces on
        # FerretDB: its pool runs dry on a command that updates many documents
        # (upsert.write_chunks).
        edge_writes = [
            UpdateOne({"_id": doc["_id"]}, {"$max": {"last_seen": confirmed_at[doc["source_url"]]}})
            for chunk in chunks(list(confirmed_at), LOOKUP_CHUNK)
            for doc in self.edge_collection.find(
                {
                    "source_url": {"$in": chunk},
                    "$or": [{"lost_at": None}, {"lost_reason": "became_nofollow"}],
                },
                {"_id": 1, "source_url": 1},
            )
        ]
        for part in write_chunks(page_writes, self.write_chunk):
            self.page_collection.bulk_write(part, ordered=False)
        for part in write_chunks(edge_writes, self.write_chunk):
            self.edge_collection.bulk_write(part, ordered=False)

    def _write_expansions(self, pages: list[PageItem]) -> None:
        """How discovery reached each site: the first record is kept ($setOnInsert)."""
        if not pages:
            return
        writes = []
        for page in pages:
            x = page["expansion"]
            doc = {
                "via": x["via"],
                "via_domain": x["via_domain"],
                "hop": x["hop"],
                "order": x["order"],
                "found_at": to_datetime(page["fetched_at"]),
            }
            writes.append(UpdateOne({"_id": x["domain"]}, {"$setOnInsert": doc}, upsert=True))
        self.expansion_collection.bulk_write(writes, ordered=False)

    def _previous_edges(self, known: list[str]) -> dict[str, dict[str, Any]]:
        """The stored edges of these stored pages, by _id."""
        if not known:
            return {}
        return {
            doc["_id"]: doc
            for doc in self.edge_collection.find(
                {"source_url": {"$in": known}}, PREVIOUS_EDGE_FIELDS
            )
        }

    def _edge_writes(
        self,
        page: PageItem,
        previous: dict[str, dict[str, Any]],
        stored: Iterable[dict[str, Any]],
        batch: BatchWrites,
    ) -> dict[str, str]:
        """Add the page's edge writes to the batch: its edges, and its `stored`
        edges it no longer has, lost. Returns the page's live edges after this
        write, with their target domain: the domains recount sums these
        instead of reading every edge."""
        seen_at = to_datetime(page["fetched_at"])
        present = set()
        live: dict[str, str] = {}
        for edge in page["edges"]:
            key = edge_id(edge["source_url"], edge["target_url"])
            present.add(key)
            batch.touched.add(edge["target_domain"])
            update = self._edge_update(edge, previous.get(key), seen_at)
            batch.edges.append(Write(key, update))
            if update["$set"]["lost_at"] is None:
                live[key] = edge["target_domain"]
            else:
                live.pop(key, None)  # the last write of a key is the one that stays
        reason = lost_reason_for_status(page["status"])
        judged = can_lose(page)
        for doc in stored:
            if doc["_id"] in present or doc.get("lost_at") is not None:
                continue
            if not judged(doc.get("target_host", "")):
                live[doc["_id"]] = doc.get("target_domain", "")
            else:
                batch.touched.add(doc.get("target_domain", ""))
                lost = {"$set": {"lost_at": seen_at, "lost_reason": reason}}
                batch.edges.append(Write(doc["_id"], lost, upsert=False))
        return live

    @staticmethod
    def _upsert_edge(
        key: str, edge: EdgeItem, previous: dict[str, Any] | None, seen_at: datetime | None
    ) -> UpdateOne:
        """The edge's upsert, alone (bench/ingest.py's naive pipeline writes these)."""
        return UpdateOne(
            {"_id": key}, MongoWrites._edge_update(edge, previous, seen_at), upsert=True
        )

    @staticmethod
    def _edge_update(
        edge: EdgeItem, previous: dict[str, Any] | None, seen_at: datetime | None
    ) -> dict[str, dict[str, Any]]:
        lost_at, lost_reason = lost_state_of_present_edge(previous, edge["nofollow"], seen_at)
        # The crawl's fields as the page item has them (crawler/items.py), then the store's.
        fields = {name: edge[name] for name in EDGE_CRAWL_FIELDS}
        # 1 or 0, so one $group can count followed links: FerretDB has no $cond.
        fields["dofollow"] = 0 if edge["nofollow"] else 1
        fields["lost_at"] = lost_at
        fields["lost_reason"] = lost_reason
        return {
            "$set": fields,
            "$max": {"last_seen": seen_at},
            "$setOnInsert": {"first_seen": seen_at},
        }


def _page_write(
    page: PageItem, live: dict[str, str], planned: tuple[str | None, int | None, str | None]
) -> Write:
    """The page's upsert, with its live edges per target domain and its
    `planned` (links_digest, recrawl_interval, due_at)."""
    seen_at = to_datetime(page["fetched_at"])
    fields = {
        "etag": page.get("etag"),
        "last_modified": page.get("last_modified"),
        "lang": page.get("lang"),
        "ip": page.get("ip"),
        "links_digest": planned[0],
        "recrawl_interval": planned[1],
        "due_at": to_datetime(planned[2]),
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
    return Write(
        page["url"],
        {
            "$set": fields,
            "$max": {"fetched_at": seen_at},
            "$setOnInsert": {"first_fetched": seen_at},
        },
    )
