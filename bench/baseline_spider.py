"""The plain-Scrapy baseline: a CrawlSpider with LinkExtractor, as the issue measured it.

    SCRAPY_SETTINGS_MODULE=bench.baseline_settings \\
    scrapy crawl baseline -a seeds=URL,... -a watch=python.org,...

One Rule follows the links inside the seeds' hosts (LinkExtractor with its
defaults), and every page, seeds included, yields one item per outbound link
(a second LinkExtractor, all links leaving those hosts). `deny_extensions=[]`
on that second one only: a link to a .pdf or .zip is a backlink too, and with
Scrapy's default list the edge comparison would differ by design.

WatchedEdges, the one pipeline, keeps the items whose target host is in a
watched domain and writes them as JSON when the spider closes
(BENCH_EDGES_FILE), so the benchmark can check both crawlers stored the same
edges. It is a set lookup per item; everything else is Scrapy's default.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import CrawlSpider, Rule

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response


class BaselineSpider(CrawlSpider):
    name = "baseline"

    def __init__(self, seeds: str = "", watch: str = "", **kwargs: Any) -> None:
        self.start_urls = [s for s in seeds.split(",") if s]
        self.allowed_domains = sorted({urlsplit(u).hostname or "" for u in self.start_urls})
        self.watch = [w for w in watch.split(",") if w]
        self.rules = (
            Rule(LinkExtractor(allow_domains=self.allowed_domains), "parse_page", follow=True),
        )
        self.outbound = LinkExtractor(deny_domains=self.allowed_domains, deny_extensions=[])
        super().__init__(**kwargs)

    def parse_start_url(self, response: Response, **kwargs: Any) -> Iterator[dict[str, Any]]:
        return self.parse_page(response)

    def parse_page(self, response: Response) -> Iterator[dict[str, Any]]:
        for link in self.outbound.extract_links(response):
            yield {
                "source_url": response.url,
                "target_url": link.url,
                "anchor": link.text,
                "nofollow": link.nofollow,
            }


class WatchedEdges:
    """Keeps the items that link into a watched domain; writes them at close."""

    def __init__(self, crawler: Crawler, path: Path | None) -> None:
        self.crawler = crawler
        self.watch: tuple[str, ...] = ()
        self.dotted: tuple[str, ...] = ()
        self.path = path
        self.edges: list[dict[str, Any]] = []
        self.hosts: dict[str, bool] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WatchedEdges:
        path = crawler.settings.get("BENCH_EDGES_FILE")
        return cls(crawler, Path(path) if path else None)

    def open_spider(self) -> None:
        spider = self.crawler.spider
        self.watch = tuple(spider.watch)
        self.dotted = tuple("." + w for w in spider.watch)

    def process_item(self, item: dict[str, Any]) -> dict[str, Any]:
        host = urlsplit(item["target_url"]).hostname or ""
        watched = self.hosts.get(host)
        if watched is None:
            watched = self.hosts[host] = host in self.watch or host.endswith(self.dotted)
        if watched:
            self.edges.append(item)
        return item

    def close_spider(self) -> None:
        if self.path is not None:
            self.path.write_text(json.dumps(self.edges))
