"""The `verify` spider: fetch the pages that should link to you, once each, and
say what each one is.

    scrapy crawl verify -a urls=@pages.txt -a watch=mysite.com -a out=fetched.jsonl

`linkwatch verify` (crawler/cli/commands/verify.py) runs it with the distinct
source pages of its rows and the rows' target domains as `watch`, then decides
each row's status from `out` (crawler/verification.py). Each URL fetched is one
`Fetched` record in `out`: its status, or why it got none; a redirect's
target; for an HTML page, whether it says noindex, its canonical URL and its
links into the watched domains.

A page is fetched as the backlinks spider fetches one, and yields the same
page item (crawler/items.py), so the store keeps the result as a normal
crawl's edges (and marks lost the edges a page no longer has). Redirects are
handled here, as Scrapy's redirect middleware is off: a redirect on the page's
site (one registered domain) is followed, up to MAX_REDIRECTS hops; one that
leaves it is where the check ends.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import scrapy

from crawler.domains import WatchList, registered_domain
from crawler.extraction import extract_links
from crawler.spiders.backlinks import REDIRECT_STATUSES, BacklinksSpider
from crawler.spiders.fetching import FetchSpider, failure_outcome
from crawler.spiders.records import (
    header_charset,
    is_html,
    page_record,
    redirect_edge,
    response_language,
    x_robots_says,
)
from crawler.traps import markup_trap
from crawler.urls import RejectedURL, url_host
from crawler.verification import MAX_REDIRECTS, Fetched, same_site

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

    from crawler.items import PageItem

logger = logging.getLogger(__name__)


class VerifySpider(FetchSpider):
    """Fetches each page once, records what it is, yields its page item."""

    name = "verify"
    extra_arguments = ("watch",)

    def _set_crawler(self, crawler: Crawler) -> None:
        super()._set_crawler(crawler)
        self.watch = WatchList(self.arguments.watch)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.arguments.urls:
            if url not in self.requested:
                yield self.page_request(url, hops=0)

    def page_request(self, url: str, hops: int) -> scrapy.Request:
        self.requested.add(url)
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.failed,
            meta={"linkwatch_hops": hops},
            dont_filter=True,
        )

    def parse(self, response: scrapy.http.Response) -> Iterator[Any]:
        if response.status in REDIRECT_STATUSES:
            yield from self.parse_redirect(response)
            return
        if not is_html(response):
            self.write(Fetched(response.url, response.status, html=False, detail="not HTML"))
            return
        if (trap := markup_trap(response.body)) is not None:
            detail = f"not read: built to stall a parser ({trap})"
            self.write(Fetched(response.url, response.status, html=False, detail=detail))
            return
        yield self.parse_page(response)

    def parse_page(self, response: scrapy.http.Response) -> PageItem:
        """Record the page and return its item: the edges into the watched domains."""
        page = extract_links(
            response.body,
            response.url,
            encoding=header_charset(response),
            nofollow=x_robots_says(response, ("nofollow", "none")),
            normalize=self.normalize,
            placement_rules=self.placement_rules,
        )
        lang = response_language(response, page, self.detect_lang)
        item = self.page_item(response, page.title, outlinks=len(page.links), lang=lang)
        source_domain = item["domain"]
        domain_links: dict[str, int] = {}
        watched = []
        for index, link in enumerate(page.links):
            host = url_host(link.url)
            target_domain = registered_domain(host)
            if target_domain != source_domain:
                domain_links[target_domain] = domain_links.get(target_domain, 0) + 1
            if self.watch.match(host) is not None:
                link = page.evidence(index)
                watched.append(link)
                item["edges"].append(BacklinksSpider.edge(item, link, host))
        item["domain_links"] = domain_links
        noindex = page.noindex or x_robots_says(response, ("noindex", "none"))
        self.write(
            Fetched(
                response.url,
                response.status,
                noindex=noindex,
                canonical=page.canonical,
                links=tuple(watched),
            )
        )
        self.crawler.stats.inc_value("linkwatch/edges_found", len(item["edges"]))
        return item

    def parse_redirect(self, response: scrapy.http.Response) -> Iterator[Any]:
        """Record where the page redirects; follow it on the page's site; yield
        the page item (with a redirect edge if the target is watched)."""
        item = self.page_item(response, title="", outlinks=0)
        location = response.headers.get(b"Location")
        target = None
        if location:
            try:
                target = self.normalize(location.decode("latin-1").strip(), response.url)
            except RejectedURL:
                target = None
        self.write(Fetched(response.url, response.status, location=target))
        if target is not None:
            item["outlinks"] = 1
            host = url_host(target)
            if self.watch.match(host) is not None:
                item["edges"].append(redirect_edge(item, target, host, response.status))
            hops = response.meta.get("linkwatch_hops", 0) + 1
            on_site = hops <= MAX_REDIRECTS and same_site(target, response.url)
            if on_site and target not in self.requested:
                yield self.page_request(target, hops)
        yield item

    def page_item(
        self, response: scrapy.http.Response, title: str, outlinks: int, lang: str | None = None
    ) -> PageItem:
        # Only edges into the rows' domains can be lost by this check.
        return page_record(response, title, outlinks, list(self.watch.entries), lang)

    def failed(self, failure: Failure) -> None:
        kind, detail = failure_outcome(failure)
        self.crawler.stats.inc_value(f"linkwatch/verify/{kind}")
        self.write(Fetched(failure.request.url, error=kind, detail=detail))
