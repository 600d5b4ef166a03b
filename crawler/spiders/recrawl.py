"""Recrawls of known pages, for the backlinks spider (a mixin).

`-a recrawl=due|all` fetches, instead of seeds, the stored pages that link to
the watched domains (every watched domain stored, without `-a watch`): those
the adaptive schedule says are due (crawler/schedule.py), or all of them, at
depth 0. A known page's request is conditional on its stored ETag and
Last-Modified (LINKWATCH_CONDITIONAL_GET): a 304 becomes a page item marked
`not_modified`, and the store confirms the page's edges (last_seen moves)
with nothing parsed. A shared crawl's recrawl seeds come the same way
(`seed_request`, crawler/frontier/recrawl.py moves them). A traversal crawl
fetches every page in full: it needs the page's links to go on.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

import scrapy

from crawler.arguments import ArgumentError
from crawler.domains import registered_domain
from crawler.items import utc_now
from crawler.urls import url_host

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.settings import BaseSettings

    from crawler.arguments import CrawlArguments

logger = logging.getLogger(__name__)

# The meta key of a request for a known page fetched again (a recrawl): a 304
# to it confirms the page's stored edges.
RECRAWL_META = "linkwatch_recrawl"


class RecrawlMixin:
    """`recrawl_requests`, `known_page_request` and the 304 callback of the
    backlinks spider (which provides arguments, crawler, stats, requested,
    crawl_domains, update_scope, page_item, parse and fetch_failed)."""

    @staticmethod
    def check_freshness(arguments: CrawlArguments, settings: BaseSettings) -> None:
        """The recrawl schedule's settings agree, and a recrawl has a store to read."""
        from pipelines.stores import StoreError, schedule_from, store_uri
        from pipelines.stores.uri import sqlite_path

        try:
            schedule_from(settings)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
        mode = arguments.recrawl
        if mode is None:
            return
        if settings.get("REDIS_URL"):
            raise ArgumentError(
                f"recrawl={mode}: in a shared crawl the workers move due pages into the "
                "frontier themselves (LINKWATCH_RECRAWL_INTERVAL); `linkwatch recrawl "
                "DOMAIN --redis-url` queues pages at once"
            )
        uri = store_uri(settings)
        if not uri.startswith("sqlite:"):
            return  # MongoDB: the crawl reports a store it cannot read
        try:
            path = sqlite_path(uri)
        except StoreError:
            return  # the crawl command reports a malformed URI
        if not os.path.exists(path):
            raise ArgumentError(
                f"recrawl={mode}: no linkwatch database at {path}; crawl seeds into it first"
            )

    def recrawl_requests(self) -> Iterator[scrapy.Request]:
        """`-a recrawl=due|all`: the store's linking pages into the watched
        domains (every watched domain stored, without `-a watch`), due ones
        first."""
        from pipelines.stores import StoreError, open_store

        mode = self.arguments.recrawl
        try:
            with open_store(self.crawler.settings, readonly=True, create=False) as store:
                watch = self.arguments.watch or store.watched_domains()
                self.update_scope(watch, set())
                domains = sorted({registered_domain(entry) for entry in watch})
                due_before = utc_now() if mode == "due" else None
                rows = list(store.recrawl_pages(domains, due_before=due_before))
        except StoreError as exc:
            logger.error("recrawl=%s: cannot read the store: %s", mode, exc)
            return
        logger.info(
            "recrawl=%s: %d pages linking to %s", mode, len(rows), ", ".join(domains) or "nothing"
        )
        self.stats.set_value("linkwatch/recrawl_pages", len(rows))
        for row in rows:
            url = row["url"]
            if url in self.requested:
                continue
            self.requested.add(url)
            self.crawl_domains.add(registered_domain(url_host(url)))
            yield self.known_page_request(url, 0, (row["etag"], row["last_modified"]))

    def known_page_request(
        self, url: str, depth: int, validators: tuple[str | None, str | None] | None
    ) -> scrapy.Request:
        """A request for a stored page fetched again: conditional on its stored
        validators (LINKWATCH_CONDITIONAL_GET), past the seen-sets."""
        headers = {}
        if validators and self.crawler.settings.getbool("LINKWATCH_CONDITIONAL_GET"):
            etag, last_modified = validators
            if etag:
                headers["If-None-Match"] = etag
            if last_modified:
                headers["If-Modified-Since"] = last_modified
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.fetch_failed,
            headers=headers,
            meta={"depth": depth, RECRAWL_META: True},
            priority=-depth,
            dont_filter=True,
        )

    def parse_not_modified(self, response: scrapy.http.Response) -> Iterator[Any]:
        """A 304 to a conditional recrawl: the page is as stored; nothing to parse."""
        if not (
            response.request.headers.get(b"If-None-Match")
            or response.request.headers.get(b"If-Modified-Since")
        ):
            self.stats.inc_value("linkwatch/not_modified_unasked")
            return  # a 304 we did not ask for says nothing about the page
        self.stats.inc_value("linkwatch/not_modified")
        item = self.page_item(response, title="", outlinks=0)
        item["not_modified"] = True
        item["domain_links"] = None  # keep the stored ones
        yield item
