"""Seed hosts' sitemaps: the pages a site lists, linked or not, enter the crawl at depth 1.

`SitemapMixin` is part of the backlinks spider (crawler/spiders/backlinks.py):

- `sitemap_requests(response, depth)`, called by `parse_page` for each page
  it parses: for a seed page (depth 0, not on a site a discovery crawl
  expanded into, not a recrawl), once per host and only if the crawl follows
  links at all (depth >= 1), a request for each sitemap the host's robots.txt
  names in `Sitemap:` lines (the robots middleware puts them in the seed
  request's meta), else for `/sitemap.xml`. They are ordinary requests:
  robots.txt, the host's politeness limits, the proxy and the SSRF guard
  apply, and a shared crawl queues them in its frontier like any other.
- `parse_sitemap(response)`: a sitemap index yields requests for the sitemap
  files it lists (one level: an index listed in an index is not read); a
  urlset yields a page request at depth 1 for each URL inside the seed's
  registered domain (URLs elsewhere are counted and dropped), under the page
  cap and the trap rules of links. A URL whose `lastmod` is at most
  LINKWATCH_SITEMAP_RECENT_DAYS old gets priority 0 instead of -1: recently
  changed pages are fetched before the other depth-1 pages. A sitemap file is
  never a page item. Redirects are followed, inside the seed's domain.

The protocol's caps hold per file: LINKWATCH_SITEMAP_MAX_SIZE bytes (the
download's `download_maxsize`, and again once a `.gz` is decompressed) and
LINKWATCH_SITEMAP_MAX_URLS entries. Stats, under `linkwatch/sitemaps/`:
requested, read, urls, followed, recent, off_domain, too_large, url_cap,
invalid, nested_index, redirected, status/<code>, refused,
fetch_failed/<error>.

Settings: LINKWATCH_SITEMAPS (`-a sitemaps=false` for one crawl),
LINKWATCH_SITEMAP_MAX_SIZE, LINKWATCH_SITEMAP_MAX_URLS,
LINKWATCH_SITEMAP_RECENT_DAYS; with ROBOTSTXT_OBEY off, no robots.txt is
read and every seed host's `/sitemap.xml` is asked for.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest

from crawler.domains import registered_domain
from crawler.robots import SITEMAPS_META
from crawler.sitemaps import SitemapError, read_sitemap, recently_changed, sitemap_body
from crawler.urls import RejectedURL, url_host

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler

    from crawler.sitemaps import Sitemap

logger = logging.getLogger(__name__)

# The meta key of a sitemap request: the seed's registered domain, how deep
# in an index it is (0: named by robots.txt or /sitemap.xml; 1: listed in an
# index), and the redirects that led to it.
SITEMAP_META = "linkwatch_sitemap"
MAX_REDIRECTS = 5
REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))


class SitemapMixin:
    """Sitemaps for the backlinks spider; see the module docstring.

    Uses the spider's `arguments`, `max_depth`, `normalize`, `requested`,
    `pages_per_domain`, `max_pages_per_domain`, `follow_request` and `stats`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Hosts (with port) whose sitemaps this process has asked for.
        self.sitemap_hosts: set[str] = set()

    def _set_crawler(self, crawler: Crawler) -> None:
        super()._set_crawler(crawler)  # type: ignore[misc]
        settings = crawler.settings
        self.sitemap_max_size = settings.getint("LINKWATCH_SITEMAP_MAX_SIZE")
        self.sitemap_max_urls = settings.getint("LINKWATCH_SITEMAP_MAX_URLS")
        self.sitemap_recent_days = settings.getint("LINKWATCH_SITEMAP_RECENT_DAYS")
        self.robots_obeyed = settings.getbool("ROBOTSTXT_OBEY")

    # --- which sitemaps -------------------------------------------------------------

    def sitemap_requests(self, response: scrapy.http.Response, depth: int) -> Iterator[Any]:
        """Requests for a seed host's sitemaps, the first time one of its seed
        pages is parsed; nothing for any other page."""
        if depth != 0:  # most pages: nothing more to look at
            return
        from crawler.spiders.backlinks import EXPANDED_META  # imports this module
        from crawler.spiders.recrawl import RECRAWL_META

        meta = response.meta
        if meta.get(EXPANDED_META) or meta.get(RECRAWL_META):
            return
        if not self.arguments.sitemaps or self.max_depth < 1:
            return
        named = meta.get(SITEMAPS_META)
        if named is None and self.robots_obeyed:
            # The robots middleware did not see this request (a test's
            # hand-built response): the host's Sitemap: lines are unknown.
            return
        parts = urlsplit(response.url)
        if parts.netloc in self.sitemap_hosts:
            return
        self.sitemap_hosts.add(parts.netloc)
        domain = registered_domain(url_host(response.url))
        for url in named or (f"{parts.scheme}://{parts.netloc}/sitemap.xml",):
            request = self.sitemap_request(url, response.url, domain, level=0)
            if request is not None:
                yield request

    def sitemap_request(
        self, url: str, base: str, domain: str, level: int, redirects: int = 0
    ) -> scrapy.Request | None:
        """A request for a sitemap file inside the seed's registered domain,
        not requested before."""
        try:
            url = self.normalize(url, base)
        except RejectedURL as exc:
            self.stats.inc_value(f"linkwatch/sitemaps/rejected/{exc.reason}")
            return None
        if registered_domain(url_host(url)) != domain:
            self.stats.inc_value("linkwatch/sitemaps/off_domain")
            return None
        if url in self.requested:
            return None
        self.requested.add(url)
        self.stats.inc_value("linkwatch/sitemaps/requested")
        return scrapy.Request(
            url,
            callback=self.parse_sitemap,
            errback=self.sitemap_failed,
            meta={
                SITEMAP_META: {"domain": domain, "level": level, "redirects": redirects},
                "download_maxsize": self.sitemap_max_size,
                # A sitemap is expected to be big: no warning below the cap.
                "download_warnsize": self.sitemap_max_size,
            },
            # Before the seed's links (-1): its pages may jump that queue.
            priority=0,
        )

    # --- reading one ------------------------------------------------------------------

    def parse_sitemap(self, response: scrapy.http.Response) -> Iterator[Any]:
        """A sitemap file: more sitemap files (an index) or pages (a urlset)."""
        info = response.meta.get(SITEMAP_META) or {}
        domain = info.get("domain") or registered_domain(url_host(response.url))
        level = int(info.get("level", 0))
        if response.status in REDIRECT_STATUSES:
            yield from self.sitemap_redirect(response, domain, level, int(info.get("redirects", 0)))
            return
        if not 200 <= response.status < 300:
            self.stats.inc_value(f"linkwatch/sitemaps/status/{response.status}")
            return
        try:
            body = sitemap_body(response.body, self.sitemap_max_size)
            sitemap = read_sitemap(body, self.sitemap_max_urls)
        except SitemapError as exc:
            self.stats.inc_value(f"linkwatch/sitemaps/{exc.reason}")
            logger.info("sitemap %s not read: %s", response.url, exc)
            return
        self.stats.inc_value("linkwatch/sitemaps/read")
        if sitemap.truncated:
            self.stats.inc_value("linkwatch/sitemaps/url_cap")
            logger.info(
                "sitemap %s lists more than %d URLs: the rest are ignored",
                response.url,
                self.sitemap_max_urls,
            )
        if not sitemap.is_index:
            yield from self.sitemap_pages(sitemap, response.url, domain)
        elif level > 0:
            self.stats.inc_value("linkwatch/sitemaps/nested_index")
        else:
            for entry in sitemap.entries:
                request = self.sitemap_request(entry.loc, response.url, domain, level + 1)
                if request is not None:
                    yield request

    def sitemap_pages(self, sitemap: Sitemap, base: str, domain: str) -> Iterator[Any]:
        """Page requests at depth 1 for a urlset's URLs inside `domain`."""
        now = datetime.now(UTC)
        self.stats.inc_value("linkwatch/sitemaps/urls", len(sitemap.entries))
        for entry in sitemap.entries:
            try:
                url = self.normalize(entry.loc, base)
            except RejectedURL as exc:
                self.stats.inc_value(f"linkwatch/sitemaps/rejected/{exc.reason}")
                continue
            if registered_domain(url_host(url)) != domain:
                self.stats.inc_value("linkwatch/sitemaps/off_domain")
                continue
            if url in self.requested:
                continue
            if self.pages_per_domain.get(domain, 0) >= self.max_pages_per_domain:
                self.stats.inc_value("linkwatch/page_cap_reached")
                return  # the rest would meet the same cap
            request = self.follow_request(url, depth=1)
            if request is None:
                continue
            if recently_changed(entry.lastmod, now, self.sitemap_recent_days):
                request.priority += 1  # -1 -> 0: before the other depth-1 pages
                self.stats.inc_value("linkwatch/sitemaps/recent")
            self.stats.inc_value("linkwatch/sitemaps/followed")
            yield request

    def sitemap_redirect(
        self, response: scrapy.http.Response, domain: str, level: int, redirects: int
    ) -> Iterator[Any]:
        location = response.headers.get(b"Location")
        if not location or redirects >= MAX_REDIRECTS:
            self.stats.inc_value(f"linkwatch/sitemaps/status/{response.status}")
            return
        self.stats.inc_value("linkwatch/sitemaps/redirected")
        target = location.decode("latin-1").strip()
        request = self.sitemap_request(target, response.url, domain, level, redirects + 1)
        if request is not None:
            yield request

    def sitemap_failed(self, failure: Any) -> None:
        """Count a sitemap that could not be fetched; the crawl goes on without it."""
        message = failure.getErrorMessage()
        # Scrapy cancels a download past `download_maxsize` (or refuses a body
        # that outgrows it while decompressed): the protocol's size cap.
        if "max size" in message or "DOWNLOAD_MAXSIZE" in message:
            self.stats.inc_value("linkwatch/sitemaps/too_large")
            logger.info(
                "sitemap %s not read: larger than %d bytes",
                failure.request.url,
                self.sitemap_max_size,
            )
        elif failure.check(IgnoreRequest):
            self.stats.inc_value("linkwatch/sitemaps/refused")  # robots.txt or the SSRF guard
        else:
            self.stats.inc_value(f"linkwatch/sitemaps/fetch_failed/{failure.type.__name__}")
            logger.info("sitemap %s not fetched: %s", failure.request.url, message)
