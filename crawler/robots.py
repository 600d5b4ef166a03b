"""robots.txt as mature crawlers honour it (replaces Scrapy's RobotsTxtMiddleware).

Per host, once per crawl, before its first page is fetched:

- 2xx: its rules apply, and so does its `Crawl-delay` for our user agent: the
  host's requests start at least that many seconds apart, one at a time
  (`PoliteDownloader.set_crawl_delay`; in a shared crawl also cluster-wide, in
  the frontier's Lua). A host asking more than LINKWATCH_MAX_CRAWL_DELAY
  (30 s, as Nutch's and StormCrawler's `fetcher.max.crawl.delay`) is skipped:
  none of its pages is fetched, each counted as
  `linkwatch/robots/skipped/crawl_delay_too_long`.
- 3xx: followed, up to 5 hops (RFC 9309); our redirect middleware is off.
- 4xx other than 429: there is no robots.txt; everything is allowed.
- 5xx or 429: the server is up but cannot say now. Its host is *deferred*: its
  requests wait, and robots.txt is asked again after LINKWATCH_ROBOTS_RETRY_DELAY
  seconds, doubling (or the Retry-After the server gives, up to 10 minutes), up
  to LINKWATCH_ROBOTS_RETRIES times. Still failing, the host counts as
  disallowed (RFC 9309: "unreachable" means complete disallow), never as
  "allow all", and its pages are skipped (`.../robots_unavailable`).
- No answer at all (DNS, refused, timeout, after Scrapy's retries): the host's
  pages could not be fetched either; they are skipped (`.../robots_unreachable`)
  rather than tried one by one.

In a shared crawl (REDIS_URL) the workers share the result through Redis
(`robots` hash, keyed by host): the worker that first needs a host's robots.txt
takes a short lock and fetches it, the others wait for its entry instead of
fetching it again. Entries older than LINKWATCH_ROBOTS_MAX_AGE are fetched again
(a long-running cluster follows a site's changes).

A 2xx robots.txt's `Sitemap:` lines ride on the host's allowed depth-0 requests
(meta `linkwatch_sitemaps`): a seed page's response tells the spider where its
host's sitemaps are (crawler/spiders/sitemaps.py), with no second fetch.

Rules are parsed by ROBOTSTXT_PARSER (Protego) for ROBOTSTXT_USER_AGENT, else
USER_AGENT. Settings: ROBOTSTXT_OBEY, LINKWATCH_MAX_CRAWL_DELAY,
LINKWATCH_ROBOTS_RETRIES, LINKWATCH_ROBOTS_RETRY_DELAY, LINKWATCH_ROBOTS_MAX_AGE.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import orjson
import redis
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object

from crawler.sitemaps import robots_sitemaps

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
MAX_RETRY_AFTER = 600.0
# robots.txt bodies kept for the other workers; RFC 9309 asks parsers to read 500 KiB.
MAX_BODY = 500 * 1024
# The lock on a host's robots.txt outlives one fetch; a deferred host's retries extend it
# (SharedRobots.lock_seconds), so no second worker fetches while the first still waits.
LOCK_SECONDS = 60
WAIT_POLL = 0.2

ALLOW = "allow"  # rules apply (or there are none)
SKIP = "skip"  # no page of the host is fetched


@dataclass(frozen=True, slots=True)
class RobotsFile:
    """What a host's robots.txt said: the outcome of fetching it, shareable as JSON."""

    status: int  # HTTP status of the last answer; 0: no answer
    body: bytes = b""
    fetched_at: float = 0.0
    retry_after: float | None = None  # seconds, from a 429/503's Retry-After

    def to_json(self) -> bytes:
        return orjson.dumps(
            {"status": self.status, "body": self.body.decode("latin-1"), "at": self.fetched_at}
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> RobotsFile:
        data = orjson.loads(raw)
        return cls(int(data["status"]), str(data["body"]).encode("latin-1"), float(data["at"]))


# The meta key of an allowed seed request (depth 0): its host's Sitemap: lines,
# for the spider (crawler/spiders/sitemaps.py).
SITEMAPS_META = "linkwatch_sitemaps"


@dataclass(frozen=True, slots=True)
class HostRules:
    """How a crawl treats one host, decided once from its RobotsFile."""

    verdict: str  # ALLOW or SKIP
    reason: str = ""  # why SKIP
    parser: RobotParser | None = None  # None: everything allowed
    crawl_delay: float = 0.0
    sitemaps: tuple[str, ...] = ()  # its Sitemap: lines, as written

    def allowed(self, url: str, user_agent: str) -> bool:
        return self.parser is None or self.parser.allowed(url, user_agent)


def decide(robots: RobotsFile, parse: Any, user_agent: str, max_crawl_delay: float) -> HostRules:
    """The rules a crawl applies to a host, from what its robots.txt said.
    `parse(body)` builds a RobotParser. Pure: no I/O, no clock."""
    if robots.status == 0:
        return HostRules(SKIP, "robots_unreachable")
    if robots.status == 429 or robots.status >= 500:
        return HostRules(SKIP, "robots_unavailable")
    if not 200 <= robots.status < 300:
        return HostRules(ALLOW)
    parser = parse(robots.body)
    delay = parser.crawl_delay(user_agent) or 0.0
    if delay > max_crawl_delay:
        return HostRules(SKIP, "crawl_delay_too_long", crawl_delay=delay)
    return HostRules(
        ALLOW,
        parser=parser,
        crawl_delay=max(0.0, float(delay)),
        sitemaps=robots_sitemaps(robots.body),
    )


def netloc_of(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def must_retry(status: int) -> bool:
    """A robots.txt answer that defers the host (asked again later)."""
    return status == 429 or status >= 500


def retry_after(response: Response) -> float | None:
    """Seconds the server asks us to wait (Retry-After in seconds), if it says."""
    value = response.headers.get(b"Retry-After")
    if value:
        try:
            return max(0.0, float(value.decode("latin-1").strip()))
        except ValueError:
            pass  # an HTTP date: our own backoff is close enough
    return None


class RobotsMiddleware:
    """Downloader middleware: robots.txt fetched once per host, Crawl-delay
    honoured and capped, 5xx/429 deferred; see the module docstring."""

    def __init__(
        self,
        crawler: Crawler,
        *,
        user_agent: str,
        max_crawl_delay: float,
        retries: int,
        retry_delay: float,
        max_age: float,
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.user_agent = user_agent
        self.max_crawl_delay = max_crawl_delay
        self.retries = retries
        self.retry_delay = retry_delay
        self.max_age = max_age
        self.parser_class = load_object(crawler.settings.get("ROBOTSTXT_PARSER"))
        # origin -> (rules, when decided): a long-running worker reads a host's
        # robots.txt again once it is LINKWATCH_ROBOTS_MAX_AGE old.
        self.rules: dict[str, tuple[HostRules, float]] = {}
        self.pending: dict[str, asyncio.Future[HostRules]] = {}
        self.shared: SharedRobots | None = None
        self.skipped_hosts: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsMiddleware:
        s = crawler.settings
        if not s.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        middleware = cls(
            crawler,
            user_agent=s.get("ROBOTSTXT_USER_AGENT") or s.get("USER_AGENT"),
            max_crawl_delay=s.getfloat("LINKWATCH_MAX_CRAWL_DELAY"),
            retries=s.getint("LINKWATCH_ROBOTS_RETRIES"),
            retry_delay=s.getfloat("LINKWATCH_ROBOTS_RETRY_DELAY"),
            max_age=s.getfloat("LINKWATCH_ROBOTS_MAX_AGE"),
        )
        if s.get("REDIS_URL"):
            middleware.shared = SharedRobots.from_crawler(crawler)
        return middleware

    def parse(self, body: bytes) -> RobotParser:
        return build_from_crawler(self.parser_class, self.crawler, body)

    # --- the middleware -----------------------------------------------------------

    async def process_request(self, request: Request) -> None:
        if request.meta.get("dont_obey_robotstxt"):
            return
        parsed = urlparse_cached(request)
        if parsed.scheme not in ("http", "https"):
            return
        origin = f"{parsed.scheme}://{parsed.netloc}"
        known = self.rules.get(origin)
        if known is not None and (not self.max_age or time.monotonic() - known[1] < self.max_age):
            rules = known[0]
        else:
            rules = await self.rules_for(origin, parsed.hostname or "")
        if rules.verdict == SKIP:
            self.stats.inc_value(f"linkwatch/robots/skipped/{rules.reason}")
            raise IgnoreRequest(f"robots.txt: {rules.reason.replace('_', ' ')}")
        if rules.crawl_delay:
            self.hold(request, rules.crawl_delay)
        if not rules.allowed(request.url, self.user_agent):
            self.stats.inc_value("robotstxt/forbidden")
            raise IgnoreRequest("Forbidden by robots.txt")
        if request.meta.get("depth") == 0:  # a seed: the spider may read its sitemaps
            request.meta[SITEMAPS_META] = rules.sitemaps

    def hold(self, request: Request, delay: float) -> None:
        downloader = self.crawler.engine.downloader
        setter = getattr(downloader, "set_crawl_delay", None)
        if setter is not None:
            setter(downloader.get_slot_key(request), delay)

    async def rules_for(self, origin: str, host: str) -> HostRules:
        """The host's rules; the first caller fetches, the others wait for it."""
        waiting = self.pending.get(origin)
        if waiting is not None:
            return await asyncio.shield(waiting)
        future: asyncio.Future[HostRules] = asyncio.get_running_loop().create_future()
        self.pending[origin] = future
        try:
            robots = await self.robots_file(origin, host)
            rules = decide(robots, self.parse, self.user_agent, self.max_crawl_delay)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it themselves
            raise
        finally:
            self.pending.pop(origin, None)
        self.rules[origin] = (rules, time.monotonic())
        self.announce(host, rules)
        future.set_result(rules)
        return rules

    def announce(self, host: str, rules: HostRules) -> None:
        if rules.verdict == SKIP and host not in self.skipped_hosts:
            self.skipped_hosts.add(host)
            self.stats.inc_value(f"linkwatch/robots/hosts_skipped/{rules.reason}")
            detail = f" (Crawl-delay {rules.crawl_delay:g} s)" if rules.crawl_delay else ""
            logger.info("skipping %s: %s%s", host, rules.reason.replace("_", " "), detail)
        elif rules.crawl_delay:
            self.stats.inc_value("linkwatch/robots/crawl_delay_hosts")
            logger.info("%s asks for a Crawl-delay of %g s", host, rules.crawl_delay)

    async def robots_file(self, origin: str, host: str) -> RobotsFile:
        if self.shared is None:
            return await self.fetch(origin)

        def crawl_delay(robots: RobotsFile) -> float:
            rules = decide(robots, self.parse, self.user_agent, self.max_crawl_delay)
            return rules.crawl_delay if rules.verdict == ALLOW else 0.0

        return await self.shared.get_or_fetch(
            host, lambda: self.fetch(origin), self.max_age, crawl_delay
        )

    # --- fetching -------------------------------------------------------------------

    async def fetch(self, origin: str) -> RobotsFile:
        """robots.txt of `origin`, redirects followed, 5xx/429 retried with backoff."""
        url = f"{origin}/robots.txt"
        delay = self.retry_delay
        for attempt in range(self.retries + 1):
            answer = await self.download(url)
            if not must_retry(answer.status) or attempt == self.retries:
                return answer
            wait = min(MAX_RETRY_AFTER, answer.retry_after or delay)
            self.stats.inc_value("linkwatch/robots/deferred")
            logger.info(
                "%s answered %d: its pages wait %.0f s for another try", url, answer.status, wait
            )
            await asyncio.sleep(wait)
            delay *= 2
        raise AssertionError("unreachable")  # the loop returns on its last attempt

    async def download(self, url: str) -> RobotsFile:
        """The answer for `url`, redirects followed; status 0 when nothing answered."""
        engine = self.crawler.engine
        for _ in range(MAX_REDIRECTS + 1):
            request = Request(
                url,
                priority=1000,
                # Deferred hosts are asked again on our schedule, not RetryMiddleware's.
                # Its own downloader slot: the host's first page then follows the
                # answer at once, not after AutoThrottle's start delay.
                meta={
                    "dont_obey_robotstxt": True,
                    "dont_retry": True,
                    "download_slot": f"robots.txt {netloc_of(url)}",
                },
                callback=NO_CALLBACK,
                dont_filter=True,
            )
            try:
                response = await engine.download_async(request)
            except IgnoreRequest:
                # Refused on our side (the SSRF guard): its pages are refused as well.
                return RobotsFile(404, fetched_at=time.time())
            except Exception as exc:
                self.stats.inc_value(f"linkwatch/robots/fetch_failed/{type(exc).__name__}")
                return RobotsFile(0, fetched_at=time.time())
            self.stats.inc_value("linkwatch/robots/fetched")
            location = response.headers.get(b"Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location.decode("latin-1").strip())
                continue
            return RobotsFile(
                response.status,
                response.body[:MAX_BODY],
                time.time(),
                retry_after=retry_after(response),
            )
        return RobotsFile(404, fetched_at=time.time())  # a redirect loop: as if none


class SharedRobots:
    """robots.txt entries shared by the workers of a crawl, in Redis.

    The worker that first needs a host's entry takes `robots_lock(host)` and
    fetches it; the others poll for the entry. Publishing writes the entry and
    the host's Crawl-delay (`host_delays`, keyed like the frontier's queues) in
    one transaction, then tells the frontier the host is known, so it leases
    the host at its full politeness limit. Redis unreachable: robots.txt is
    fetched by this worker alone, as in an embedded crawl (nothing waits).
    """

    def __init__(
        self,
        server: Any,
        keys: Any,
        queue_key: Any,
        frontier: Any,
        lock_seconds: float = LOCK_SECONDS,
    ) -> None:
        self.server = server
        self.keys = keys
        self.queue_key = queue_key  # host -> the frontier queue it belongs to
        self.frontier = frontier  # () -> the frontier scheduler, or None
        self.lock_seconds = lock_seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SharedRobots:
        from crawler.downloader import politeness_key_setting, slot_key
        from crawler.frontier.connection import redis_client
        from crawler.frontier.keys import FrontierKeys

        s = crawler.settings
        keys = FrontierKeys.for_spider(s.get("LINKWATCH_REDIS_PREFIX"), crawler.spidercls.name)
        key = politeness_key_setting(s)
        # Long enough for every try of a deferred host: the waits between them, a
        # download timeout for each, and a minute to spare.
        retries = s.getint("LINKWATCH_ROBOTS_RETRIES")
        waits = s.getfloat("LINKWATCH_ROBOTS_RETRY_DELAY") * (2**retries - 1)
        lock = waits + (retries + 1) * s.getfloat("DOWNLOAD_TIMEOUT") + LOCK_SECONDS
        return cls(
            redis_client(s.get("REDIS_URL")),
            keys,
            lambda host: slot_key(host, key),  # a frontier queue's key ("ip": the host)
            lambda: getattr(crawler.engine, "scheduler", None),
            lock_seconds=lock,
        )

    async def get_or_fetch(
        self, host: str, fetch: Any, max_age: float, crawl_delay: Any
    ) -> RobotsFile:
        """The host's entry; fetched (by this worker, under a lock) if missing or old.
        `crawl_delay(robots)` is the delay to publish with a fetched entry."""
        try:
            while True:
                raw = self.server.hget(self.keys.robots, host)
                if raw is not None:
                    robots = RobotsFile.from_json(raw)
                    if not max_age or time.time() - robots.fetched_at < max_age:
                        return robots
                lock = self.keys.robots_lock(host)
                if self.server.set(lock, b"1", nx=True, ex=int(self.lock_seconds)):
                    break
                await asyncio.sleep(WAIT_POLL)  # another worker is fetching it
        except redis.RedisError as exc:
            logger.warning("robots.txt of %s fetched without sharing: %s", host, exc)
            return await fetch()
        robots = await fetch()
        try:
            self.publish(host, robots, crawl_delay(robots))
        except redis.RedisError as exc:
            logger.warning("robots.txt of %s not shared: %s", host, exc)
        return robots

    def publish(self, host: str, robots: RobotsFile, crawl_delay: float) -> None:
        queue = self.queue_key(host)
        with self.server.pipeline(transaction=True) as pipe:
            pipe.hset(self.keys.robots, host, robots.to_json())
            if crawl_delay:
                pipe.hset(self.keys.host_delays, queue, repr(crawl_delay))
            elif queue == host:  # a robots.txt fetched again may have dropped it
                pipe.hdel(self.keys.host_delays, queue)
            pipe.delete(self.keys.robots_lock(host))
            pipe.execute()
        scheduler = self.frontier()
        known = getattr(getattr(scheduler, "queue", None), "host_known", None)
        if known is not None:
            known(queue)
