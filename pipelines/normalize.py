"""First pipeline: every URL of a page item in the canonical form (crawler/urls.py).

The spider already emits canonical URLs; this stage guarantees it for items from
any source (the normalizer is idempotent), and drops edges whose target cannot
be stored, counting why under `linkwatch/edges_rejected/<reason>`.

Settings: LINKWATCH_STRIP_PARAMS, LINKWATCH_MAX_URL_LENGTH.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

from crawler.urls import RejectedURL, URLNormalizer

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.items import PageItem


class NormalizePipeline:
    def __init__(self, normalize: URLNormalizer, stats: StatsCollector | None = None) -> None:
        self.normalize = normalize
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        settings = crawler.settings
        normalize = URLNormalizer(
            strip_params=settings.getlist("LINKWATCH_STRIP_PARAMS"),
            max_length=settings.getint("LINKWATCH_MAX_URL_LENGTH"),
        )
        return cls(normalize, crawler.stats)

    def process_item(self, item: PageItem) -> PageItem:
        try:
            item["url"] = self.normalize(item["url"])
        except RejectedURL as exc:
            self._count(f"linkwatch/pages_rejected/{exc.reason}")
            raise DropItem(f"page URL rejected ({exc.reason})", log_level="DEBUG") from None
        kept = []
        for edge in item["edges"]:
            try:
                edge["target_url"] = self.normalize(edge["target_url"])
            except RejectedURL as exc:
                self._count(f"linkwatch/edges_rejected/{exc.reason}")
                continue
            edge["source_url"] = item["url"]
            kept.append(edge)
        item["edges"] = kept
        return item

    def _count(self, key: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(key)
