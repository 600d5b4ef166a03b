"""The plain-Scrapy baseline of the broad-web benchmark (bench/broadweb.py).

    SCRAPY_SETTINGS_MODULE=bench.baseline_settings \\
    scrapy crawl broadweb_baseline -s SPIDER_MODULES=bench.broadweb_baseline \\
        -a seeds=URL,... -a watch=mysite.test,...

bench/baseline_spider.py's CrawlSpider, unchanged but for its allowed_domains:
the seeds' registered domains (`site001.test`, so `www.` and `blog.` hosts alike,
as linkwatch crawls them) instead of the seeds' hosts. Links that leave those
domains are items (the watched ones kept as edges), never followed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scrapy.linkextractors import LinkExtractor
from scrapy.spiders import Rule

from bench.baseline_spider import BaselineSpider


class BroadWebBaseline(BaselineSpider):
    name = "broadweb_baseline"

    def __init__(self, seeds: str = "", watch: str = "", **kwargs: Any) -> None:
        super().__init__(seeds=seeds, watch=watch, **kwargs)
        hosts = {urlsplit(u).hostname or "" for u in self.start_urls}
        # The generated web's domains are `name.test`: the last two labels.
        self.allowed_domains = sorted({".".join(h.split(".")[-2:]) for h in hosts if h})
        self.rules = (
            Rule(LinkExtractor(allow_domains=self.allowed_domains), "parse_page", follow=True),
        )
        self.outbound = LinkExtractor(deny_domains=self.allowed_domains, deny_extensions=[])
        self._compile_rules()
