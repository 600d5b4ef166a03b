"""Second pipeline: an edge is (canonical source URL, canonical target URL).

Within a page the first occurrence of a target wins (document order), so one
page yields at most one edge per target. Across the crawl, a page URL already
passed on is dropped: two fetches that normalize to one URL are one page. Seen
again in a later crawl, an edge is not a new record: the store updates its
`last_seen` (see stores/).
"""

from __future__ import annotations

from hashlib import blake2b
from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.items import PageItem


def url_key(url: str) -> bytes:
    """A 12-byte digest: the crawl-wide page set costs a fraction of the URLs."""
    return blake2b(url.encode(), digest_size=12).digest()


class DedupePipeline:
    def __init__(self, stats: StatsCollector | None = None) -> None:
        self.stats = stats
        self.pages_seen: set[bytes] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler.stats)

    def process_item(self, item: PageItem) -> PageItem:
        key = url_key(item["url"])
        if key in self.pages_seen:
            if self.stats is not None:
                self.stats.inc_value("linkwatch/duplicate_pages")
            raise DropItem(f"page already stored in this crawl: {item['url']}", log_level="DEBUG")
        self.pages_seen.add(key)
        edges = item["edges"]
        if len(edges) > 1:
            unique: dict[str, dict] = {}
            for edge in edges:
                unique.setdefault(edge["target_url"], edge)
            if len(unique) != len(edges) and self.stats is not None:
                self.stats.inc_value("linkwatch/duplicate_edges", len(edges) - len(unique))
            item["edges"] = list(unique.values())
        return item
