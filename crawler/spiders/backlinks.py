"""The `backlinks` spider: crawl seed domains, report links to watched domains.

    scrapy crawl backlinks -a seeds=https://blog.example.org/,news.example.net \\
                           -a watch=mysite.com,competitor.io [-a depth=3]

Each fetched page becomes one page item (crawler/items.py) whose edges are the
page's links into watched domains. Links are followed only inside the seeds'
registered domains and only while the page's depth is below the limit; links
that leave the seed domains are recorded, never followed, unless the crawl
discovers (`-a expand=N`, crawler/discovery.py): then the sites they lead to
are candidates, and the best are crawled too, within their own limits
(`expand_depth`, `expand_pages`); the first page item of each carries how the
crawl got there. Redirects and meta
refreshes are links too (Scrapy's own redirect middlewares are off): an
internal target is followed, a watched one is an edge from the redirecting URL.

A recrawl (`-a recrawl=due|all`, README "Keeping the profile fresh") fetches
known linking pages instead of seeds, at depth 0, the pages due by the
schedule (crawler/schedule.py) or all of them; it sends each page's stored
ETag and Last-Modified back (If-None-Match, If-Modified-Since), and a 304
becomes a page item marked `not_modified`: the store confirms the page's edges
without anything being parsed. A traversal crawl (seeds and depth) fetches in
full: it needs every page's links to go on.

The spider does not know which scheduler feeds it or which store receives its
items: with REDIS_URL set, the cluster profile (settings/cluster.py) swaps the
frontier underneath it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest

from crawler.arguments import (
    ArgumentError,
    CrawlArguments,
    ExpansionDefaults,
    clean_seed,
    parse_crawl_arguments,
)
from crawler.discovery import DenyList, Discovery, ExpansionLimits, weights_from
from crawler.domains import WatchList, registered_domain
from crawler.downloader import politeness_key_setting
from crawler.expander import Expander
from crawler.extraction import extract_links
from crawler.spiders.records import (
    extraction_settings,
    header_charset,
    is_html,
    link_edge,
    page_record,
    redirect_edge,
    response_language,
    x_robots_nofollow,
)
from crawler.spiders.recrawl import RecrawlMixin
from crawler.spiders.sitemaps import SitemapMixin
from crawler.traps import markup_trap, trap_reason
from crawler.urls import RejectedURL, url_host

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

    from crawler.discovery import Expansion
    from crawler.extraction import Link
    from crawler.items import EdgeItem, PageItem

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset((301, 302, 303, 307, 308))
# The meta keys of a request for a site a discovery crawl expanded into, and of
# an entry page of one: how the crawl got there (its page item takes it to the
# store, whichever worker fetches it).
EXPANDED_META = "linkwatch_expanded"
PROVENANCE_META = "linkwatch_expansion"


class BacklinksSpider(SitemapMixin, RecrawlMixin, scrapy.Spider):
    """Crawls seed domains and yields a page item, with its edges, per page."""

    name = "backlinks"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        if settings.get("REDIS_URL"):
            # "spider" priority: above the project profile (which Scrapy applies
            # to the crawler again after this), below `-s` on the command line.
            settings.setmodule("settings.cluster", priority="spider")
            for name in ("DOWNLOADER_MIDDLEWARES", "SPIDER_MIDDLEWARES", "EXTENSIONS"):
                components = settings.getdict(name)
                components.update(settings.getdict(f"CLUSTER_{name}"))
                settings.set(name, components, priority="spider")

    @classmethod
    def check_arguments(cls, args: dict[str, str], settings: BaseSettings) -> CrawlArguments:
        """Validate `-a` arguments (and the politeness settings); raises
        ArgumentError with a one-line message."""
        try:
            politeness_key_setting(settings)
        except ValueError as exc:
            raise ArgumentError(str(exc)) from None
        if settings.getfloat("LINKWATCH_MAX_CRAWL_DELAY") < 0:
            raise ArgumentError("LINKWATCH_MAX_CRAWL_DELAY must be 0 or more seconds")
        try:
            DenyList(settings.getlist("LINKWATCH_EXPAND_DENY"))
            weights_from(settings.getdict("LINKWATCH_EXPAND_WEIGHTS"))
        except ValueError as exc:
            raise ArgumentError(f"LINKWATCH_EXPAND_*: {exc}") from None
        expansion = ExpansionDefaults(
            expand=settings.getint("LINKWATCH_EXPAND"),
            max_domains=settings.getint("LINKWATCH_EXPAND_MAX_DOMAINS"),
            depth=settings.getint("LINKWATCH_EXPAND_DEPTH"),
            pages=settings.getint("LINKWATCH_EXPAND_PAGES"),
            strategy=settings.get("LINKWATCH_EXPAND_STRATEGY"),
        )
        arguments = parse_crawl_arguments(
            args,
            default_depth=settings.getint("LINKWATCH_DEPTH"),
            default_max_pages=settings.getint("LINKWATCH_MAX_PAGES_PER_DOMAIN"),
            need_seeds=not settings.get("REDIS_URL"),
            expansion=expansion,
            sitemaps=settings.getbool("LINKWATCH_SITEMAPS"),
        )
        cls.check_freshness(arguments, settings)
        return arguments

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> BacklinksSpider:
        arguments = cls.check_arguments(kwargs, crawler.settings)
        spider = super().from_crawler(crawler, *args, arguments=arguments)
        return spider

    def __init__(self, *args: Any, arguments: CrawlArguments, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arguments = arguments
        self.watch = WatchList(arguments.watch)
        self.max_depth = arguments.depth
        self.max_pages_per_domain = arguments.max_pages_per_domain
        # Registered domains the crawl stays inside.
        self.crawl_domains: set[str] = {
            registered_domain(url_host(seed)) for seed in arguments.seeds
        }
        # URLs this process has already requested: internal links repeat on
        # every page, and skipping them here avoids building a Request each time.
        self.requested: set[str] = set()
        self.pages_per_domain: dict[str, int] = {}
        # Discovery (-a expand=N): the sites expanded into and when to take more.
        self.expander: Expander | None = None
        for warning in arguments.warnings:
            logger.warning("%s", warning)

    def _set_crawler(self, crawler: Crawler) -> None:
        super()._set_crawler(crawler)
        settings = crawler.settings
        self.normalize, self.placement_rules, self.detect_lang = extraction_settings(settings)
        self.max_path_repeats = settings.getint("LINKWATCH_MAX_PATH_REPEATS")
        self.max_path_segments = settings.getint("LINKWATCH_MAX_PATH_SEGMENTS")
        crawler.signals.connect(self._drop_unlogged_records, signal=signals.engine_started)
        if self.arguments.expand > 0:
            crawler.signals.connect(self._expand_when_idle, signal=signals.spider_idle)
            if not settings.get("REDIS_URL"):  # a shared crawl's is built with its frontier
                policy = Discovery(
                    self.crawl_domains,
                    self.watch.entries,
                    self.expansion_limits,
                    self.arguments.strategy,
                    weights_from(settings.getdict("LINKWATCH_EXPAND_WEIGHTS")),
                    DenyList(settings.getlist("LINKWATCH_EXPAND_DENY")),
                    referring=self.arguments.referring,
                    keywords=self.arguments.keywords,
                )
                active = settings.getint("LINKWATCH_EXPAND_ACTIVE")
                self.expander = Expander(policy, self.expansion_limits, active)

    @property
    def expansion_limits(self) -> ExpansionLimits:
        a = self.arguments
        return ExpansionLimits(a.expand, a.max_domains, a.expand_depth, a.expand_pages)

    def _drop_unlogged_records(self) -> None:
        """Scrapy leaves the root logger at NOTSET and filters in its handler, so
        each DEBUG message ("Crawled (200) ..." per response, "Scraped from ..."
        per item) is built into a LogRecord and thrown away at LOG_LEVEL=INFO
        (its cost: BENCHMARKS.md, crawl profiles). Once Scrapy's handler is in place (the engine has
        started), records below LOG_LEVEL are not built at all."""
        value = self.crawler.settings.get("LOG_LEVEL")
        level = value if isinstance(value, int) else logging.getLevelName(str(value).upper())
        if isinstance(level, int) and logging.root.level < level:
            logging.root.setLevel(level)

    @property
    def stats(self) -> StatsCollector:
        return self.crawler.stats

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # A shared frontier (settings/cluster.py) feeds the crawl from Redis;
        # otherwise the seeds given as arguments are the start.
        feed_engine = getattr(self.crawler.engine.scheduler, "feed_engine", None)
        if feed_engine is not None:
            await feed_engine()  # hands leased requests to the engine itself
            return
        if self.arguments.recrawl:
            for request in self.recrawl_requests():
                yield request
            return
        for seed in self.arguments.seeds:
            request = self.follow_request(seed, depth=0)
            if request is not None:
                yield request

    # --- scope: what a shared frontier tells the spider ---------------------------

    def seed_request(
        self,
        seed: str,
        depth: int = 0,
        recrawl: bool = False,
        validators: tuple[str | None, str | None] | None = None,
    ) -> scrapy.Request:
        """The request for a seed taken from a shared frontier (ValueError if
        bad); a recrawl's is conditional on the page's stored `validators`
        (etag, last_modified)."""
        try:
            url = clean_seed(seed)
        except ArgumentError as exc:
            raise ValueError(str(exc)) from None
        self.requested.add(url)
        if recrawl:
            return self.known_page_request(url, depth, validators)
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.fetch_failed,
            meta={"depth": depth},
            priority=-depth,
        )

    def publish_scope(self, frontier: Any) -> None:
        """Hand seeds and watched domains given as arguments to a shared frontier."""
        from crawler.frontier.seeding import add_watch, seed_entry_json

        if self.arguments.seeds:
            frontier.server.rpush(
                frontier.keys.start_urls, *(seed_entry_json(s) for s in self.arguments.seeds)
            )
        if self.arguments.watch:
            add_watch(frontier.server, frontier.keys, self.arguments.watch)
        if self.arguments.expand > 0:
            self.expander = self.shared_expander(frontier)

    def shared_expander(self, frontier: Any) -> Expander:
        """A shared crawl's expansion: its candidates and sites in the frontier's Redis."""
        from crawler.frontier.expansion import SharedDiscovery

        settings = self.crawler.settings
        policy = SharedDiscovery(
            frontier.server,
            frontier.keys.prefix,
            frontier.keys.domains,
            self.arguments.watch,
            self.expansion_limits,
            self.arguments.strategy,
            weights_from(settings.getdict("LINKWATCH_EXPAND_WEIGHTS")),
            DenyList(settings.getlist("LINKWATCH_EXPAND_DENY")),
            keywords=self.arguments.keywords,
            active=settings.getint("LINKWATCH_EXPAND_ACTIVE"),
            idle=settings.getfloat("LINKWATCH_EXPAND_IDLE"),
        )
        policy.add_referring(self.arguments.referring)
        return Expander(policy, self.expansion_limits, 1 << 30, counted=False)

    def update_scope(self, watch: list[str], domains: set[str]) -> None:
        """The shared watch list and seed domains, re-read by the frontier."""
        if tuple(watch) != self.watch.entries:
            self.watch = WatchList(watch)
            logger.info("watching %d domains", len(watch))
        self.crawl_domains |= domains

    # --- following ------------------------------------------------------------

    def is_internal(self, host: str) -> bool:
        return registered_domain(host) in self.crawl_domains

    def follow_request(
        self,
        url: str,
        depth: int,
        expanded: bool = False,
        provenance: dict[str, Any] | None = None,
    ) -> scrapy.Request | None:
        """A request for an internal URL not requested before, within the page cap.
        ``expanded``: the URL is on a site a discovery crawl expanded into (its
        limits apply; its entries, unlike seeds, obey the trap rules)."""
        if url in self.requested:
            return None
        if (depth or expanded) and (
            trap := trap_reason(url, self.max_path_repeats, self.max_path_segments)
        ):
            self.stats.inc_value(f"linkwatch/trap_skipped/{trap}")
            return None
        domain = registered_domain(url_host(url))
        fetched = self.pages_per_domain.get(domain, 0)
        cap = self.arguments.expand_pages if expanded else self.max_pages_per_domain
        if fetched >= cap:
            self.stats.inc_value("linkwatch/page_cap_reached")
            return None
        self.pages_per_domain[domain] = fetched + 1
        self.requested.add(url)
        meta: dict[str, Any] = {"depth": depth}
        if provenance is not None:
            meta[PROVENANCE_META] = provenance
        if expanded:
            meta[EXPANDED_META] = True
            if self.expander is not None:
                self.expander.started(domain)
        # Lower depth first, so pages are reached by their shortest path where
        # the crawl order allows it.
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.fetch_failed,
            meta=meta,
            priority=-depth,
        )

    # --- discovery ---------------------------------------------------------------

    def expand(self) -> Iterator[scrapy.Request]:
        """Requests for the entries of the sites to expand into now."""
        expander = self.expander
        if expander is None:
            return
        while taken := expander.take():
            for expansion in taken:
                yield from self.start_expansion(expansion)
                expander.settle([expansion.domain])
            if not expander.counted:
                return  # a shared crawl: one site a page (see crawler/expander.py)

    def start_expansion(self, expansion: Expansion) -> Iterator[scrapy.Request]:
        record = expansion.provenance
        self.crawl_domains.add(expansion.domain)
        provenance = {
            "domain": record.domain,
            "via": record.via,
            "via_domain": record.via_domain,
            "hop": record.hop,
            "order": record.order,
        }
        self.stats.inc_value("linkwatch/expand/sites")
        logger.debug("expanding into %s (hop %d, via %s)", record.domain, record.hop, record.via)
        for entry in expansion.entries:
            request = self.follow_request(entry, 0, expanded=True, provenance=provenance)
            if request is not None:
                yield request

    def expansion_done(self, url: str) -> Iterator[scrapy.Request]:
        """A request of the crawl ended: its site may be done, and new ones may start."""
        if self.expander is not None:
            self.expander.finished(registered_domain(url_host(url)))
            yield from self.expand()

    def _expand_when_idle(self) -> None:
        """Nothing left to fetch: expand into more sites if there are candidates."""
        requests = list(self.expand())
        for request in requests:
            self.crawler.engine.crawl(request)
        if requests:
            raise DontCloseSpider

    # --- parsing -----------------------------------------------------------------

    def parse(self, response: scrapy.http.Response) -> Iterator[Any]:
        yield from self.parse_page(response)
        yield from self.expansion_done(response.url)

    def parse_page(self, response: scrapy.http.Response) -> Iterator[Any]:
        depth = response.meta.get("depth", 0)
        if response.status == 304:
            yield from self.parse_not_modified(response)
            return
        if response.status in REDIRECT_STATUSES:
            yield from self.parse_redirect(response, depth)
            return
        if not is_html(response):
            self.stats.inc_value("linkwatch/non_html_skipped")
            return
        if (trap := markup_trap(response.body)) is not None:
            self.stats.inc_value(f"linkwatch/pages_skipped/{trap}")
            return
        page = extract_links(
            response.body,
            response.url,
            encoding=header_charset(response),
            nofollow=x_robots_nofollow(response),
            normalize=self.normalize,
            placement_rules=self.placement_rules,
        )
        for reason, count in page.skipped.items():
            self.stats.inc_value(f"linkwatch/links_skipped/{reason}", count)
        self.stats.inc_value("linkwatch/pages_parsed")
        yield from self.sitemap_requests(response, depth)

        lang = response_language(response, page, self.detect_lang)
        item = self.page_item(response, page.title, outlinks=len(page.links), lang=lang)
        # A fetched page is inside the crawl by construction (a seed or an
        # internal link), whatever this process has heard of its seeds so far.
        self.crawl_domains.add(item["domain"])
        edges = item["edges"]
        expanded = bool(response.meta.get(EXPANDED_META))
        follow = depth < (self.arguments.expand_depth if expanded else self.max_depth)
        source_domain = item["domain"]
        expander = self.expander
        outlinks: list[tuple[str, str, str]] = []  # discovery's evidence
        # The domain graph: links from this page to each other registered domain.
        domain_links: dict[str, int] = {}
        for index, link in enumerate(page.links):
            host = url_host(link.url)
            target_domain = registered_domain(host)
            if target_domain != source_domain:
                domain_links[target_domain] = domain_links.get(target_domain, 0) + 1
                if expander is not None:
                    outlinks.append((link.url, target_domain, link.anchor))
            if self.watch.match(host) is not None:
                # Placement and context: only for the links stored as edges.
                edges.append(self.edge(item, page.evidence(index), host))
            if follow and target_domain in self.crawl_domains and link.url not in self.requested:
                request = self.follow_request(
                    link.url, depth + 1, self._is_expanded(target_domain, source_domain, expanded)
                )
                if request is not None:
                    yield request
        item["domain_links"] = domain_links
        if expander is not None:
            evidence = expander.evidence(item["url"], source_domain, outlinks, bool(edges))
            expander.observe(evidence)
        item["expansion"] = response.meta.get(PROVENANCE_META)
        self.stats.inc_value("linkwatch/edges_found", len(edges))
        yield item

    def parse_redirect(self, response: scrapy.http.Response, depth: int) -> Iterator[Any]:
        item = self.page_item(response, title="", outlinks=0)
        item["expansion"] = response.meta.get(PROVENANCE_META)
        location = response.headers.get(b"Location")
        if not location:
            yield item
            return
        try:
            target = self.normalize(location.decode("latin-1").strip(), response.url)
        except RejectedURL as exc:
            self.stats.inc_value(f"linkwatch/links_skipped/{exc.reason}")
            yield item
            return
        item["outlinks"] = 1
        host = url_host(target)
        if self.watch.match(host) is not None:
            item["edges"].append(redirect_edge(item, target, host, response.status))
            self.stats.inc_value("linkwatch/edges_found")
        # A redirect is one more hop: the target keeps the depth budget of a link.
        expanded = bool(response.meta.get(EXPANDED_META))
        limit = self.arguments.expand_depth if expanded else self.max_depth
        if depth < limit and self.is_internal(host):
            target_domain = registered_domain(host)
            request = self.follow_request(
                target, depth + 1, self._is_expanded(target_domain, item["domain"], expanded)
            )
            if request is not None:
                yield request
        yield item

    def page_item(
        self, response: scrapy.http.Response, title: str, outlinks: int, lang: str | None = None
    ) -> PageItem:
        # What this crawl watched: a recrawl watching fewer domains must not
        # mark the page's edges into the others as lost.
        return page_record(response, title, outlinks, list(self.watch.entries), lang)

    @staticmethod
    def edge(page: PageItem, link: Link, host: str) -> EdgeItem:
        return link_edge(page, link, host)

    def _is_expanded(self, target_domain: str, source_domain: str, source_expanded: bool) -> bool:
        """Whether a link's target is on a site a discovery crawl expanded into."""
        if target_domain == source_domain:
            return source_expanded
        return self.expander is not None and target_domain in self.expander

    def fetch_failed(self, failure: Any) -> Iterator[scrapy.Request]:
        """Count a failed fetch; its site may be done (discovery: start the next)."""
        self.count_failure(failure)
        return self.expansion_done(failure.request.url)

    def count_failure(self, failure: Any) -> None:
        if failure.check(IgnoreRequest):
            # robots.txt and the SSRF guard count their refusals; Scrapy only logs
            # a body that outgrows DOWNLOAD_MAXSIZE while it is decompressed.
            if "DOWNLOAD_MAXSIZE" in failure.getErrorMessage():
                self.stats.inc_value("linkwatch/fetch_failed/too_large")
            return
        self.stats.inc_value(f"linkwatch/fetch_failed/{failure.type.__name__}")
        logger.info("fetch failed: %s (%s)", failure.request.url, failure.getErrorMessage())
