"""A downloader whose per-host limit holds: Scrapy's, with the transfer slot taken in time.

Scrapy 2.19's `Downloader._process_queue` starts queued requests with
`while slot.queue and slot.free_transfer_slots() > 0`, but a request joins
`slot.transferring` only inside `_download`, a coroutine that the asyncio
reactor runs later as a task. Without a download delay, one pass of that loop
therefore starts every request queued for the slot: a host allowed 2 requests
at a time was seen serving 15 at once (counted by the server). Any delay hides
it, since the loop then stops after one request. `PoliteDownloader` takes the
transfer slot before it hands the request to the event loop; `_download` adding
it again is harmless (a set).

It also decides what a slot is (LINKWATCH_POLITENESS_KEY):

    host    one slot per host name (Scrapy's default)
    domain  one per registered domain: www.x.com, blog.x.com and x.com share one
    ip      one per IP address the host name resolves to (many small sites share a
            server); resolved by `PolitenessKeyMiddleware`, before the request
            reaches its slot. A name that does not resolve (through a proxy that
            resolves names itself) keeps its host slot.

and keeps a floor under each slot's delay: robots.txt's Crawl-delay
(crawler/robots.py calls `set_crawl_delay`). AutoThrottle adjusts `slot.delay`
after every response, and the download delay's jitter may halve it; neither goes
below the floor, and such a slot downloads one request at a time. The floor
counts from the end of the previous download, as in Nutch: counted from its
start (Scrapy's way), a slow first connection made the server see two requests
a few tens of milliseconds closer than asked.

Settings: CONCURRENT_REQUESTS, CONCURRENT_REQUESTS_PER_DOMAIN (per slot, whatever
the key), DOWNLOAD_DELAY, LINKWATCH_POLITENESS_KEY.
"""

from __future__ import annotations

import ipaddress
import logging
from time import monotonic
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.core.downloader import Downloader, Slot
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro, maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from crawler.domains import registered_domain

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

POLITENESS_KEYS = ("host", "domain", "ip")


def politeness_key_setting(settings: BaseSettings) -> str:
    """LINKWATCH_POLITENESS_KEY, checked: one of POLITENESS_KEYS (ValueError)."""
    key = str(settings.get("LINKWATCH_POLITENESS_KEY") or "host").strip().lower()
    if key not in POLITENESS_KEYS:
        raise ValueError(
            f"LINKWATCH_POLITENESS_KEY must be one of {', '.join(POLITENESS_KEYS)}, not {key!r}"
        )
    return key


def slot_key(host: str, politeness_key: str) -> str:
    """The downloader slot of a host under a politeness key ("ip" keys are
    resolved by PolitenessKeyMiddleware; here they stay the host)."""
    if politeness_key == "domain" and host:
        return registered_domain(host)
    return host


class PoliteDownloader(Downloader):
    """Scrapy's downloader with a hard per-slot limit; see the module docstring."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.politeness_key = politeness_key_setting(crawler.settings)
        # Slot key -> the least delay robots.txt asks for (Crawl-delay), and the
        # same by slot object, which `_process_queue` sees.
        self.crawl_delays: dict[str, float] = {}
        self.slot_floors: dict[Slot, float] = {}
        crawler.signals.connect(self._download_over, signal=signals.response_downloaded)

    def get_slot_key(self, request: Request) -> str:
        meta_slot = request.meta.get(self.DOWNLOAD_SLOT)
        if meta_slot is not None:
            return meta_slot
        return slot_key(urlparse_cached(request).hostname or "", self.politeness_key)

    def set_crawl_delay(self, key: str, delay: float) -> None:
        """From now on, requests of slot `key` start at least `delay` seconds
        apart, one at a time (the largest delay asked for the slot wins)."""
        delay = max(delay, self.crawl_delays.get(key, 0.0))
        self.crawl_delays[key] = delay
        slot = self.slots.get(key)
        if slot is not None:
            self._hold(slot, delay)

    def _hold(self, slot: Slot, delay: float) -> None:
        slot.concurrency = 1
        slot.delay = max(slot.delay, delay)
        self.slot_floors[slot] = delay

    def _download_over(self, request: Request, **_: object) -> None:
        # Sent before Scrapy frees the transfer slot and looks at the queue again.
        slot = self.slots.get(request.meta.get(self.DOWNLOAD_SLOT, ""))
        if slot is not None and slot in self.slot_floors:
            slot.lastseen = monotonic()

    def _get_slot(self, request: Request, spider: object = None) -> tuple[str, Slot]:
        key, slot = super()._get_slot(request)
        delay = self.crawl_delays.get(key)
        if delay is not None and slot not in self.slot_floors:
            self._hold(slot, delay)  # a slot made again after Scrapy dropped an idle one
        return key, slot

    def _process_queue(self, slot: Slot) -> None:
        # Scrapy's method (2.19), but for the two lines marked: the transfer slot
        # is taken before the request is handed to the event loop, and the delay
        # never goes below the slot's Crawl-delay.
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        floor = self.slot_floors.get(slot)
        if floor:
            delay = max(delay, floor)  # marked: Crawl-delay
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)  # marked: the slot is taken now
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:
                self._process_queue(slot)
                break


class PolitenessKeyMiddleware:
    """With LINKWATCH_POLITENESS_KEY = ip: puts each request in the downloader
    slot of the address its host resolves to (Scrapy's caching resolver, so a
    host is looked up once). Off (NotConfigured) for the other keys."""

    def __init__(self, crawler: Crawler) -> None:
        if politeness_key_setting(crawler.settings) != "ip":
            raise NotConfigured
        self.crawler = crawler
        self.addresses: dict[str, str] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PolitenessKeyMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        if Downloader.DOWNLOAD_SLOT in request.meta:
            return
        host = urlparse_cached(request).hostname or ""
        request.meta[Downloader.DOWNLOAD_SLOT] = await self.address(host)

    async def address(self, host: str) -> str:
        if host in self.addresses:
            return self.addresses[host]
        try:
            address = str(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            from twisted.internet import reactor

            try:
                address = await maybe_deferred_to_future(reactor.resolve(host))
            except Exception as exc:  # a proxy resolves names we cannot: keep the host
                logger.debug("politeness key: %s does not resolve here (%s)", host, exc)
                address = host
        self.addresses[host] = address
        return address
