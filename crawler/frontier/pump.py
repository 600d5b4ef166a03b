"""The lease pump of a shared crawl: one Redis round trip a turn.

Requests to download come from `LeasePump.run()`, which the spider's `start()`
awaits (through the scheduler's `feed_engine`): it leases requests from ready
hosts as fast as the engine has room, waits with backoff when nothing is ready
(no busy loop against Redis), and returns after LINKWATCH_CLOSE_WHEN_IDLE
seconds of an empty frontier, if set. It hands them to the engine
(`engine.crawl`) instead of yielding them from `start()`: Scrapy takes start
requests one at a time, a turn of the event loop each, which cost a worker
~10% more CPU per page. The engine then gets them from the scheduler's local
deque: `next_request` never waits on Redis.

Each turn of the pump is one round trip (`HostQueue.sync`) that also carries
what happened since the last, in this order: new requests from the spider
(`push`: Bloom-checked and queued on their hosts), hosts whose download ended
(`release`), and pages whose items are stored (`ack`: their leases
acknowledged). So a lease is acknowledged in the same round trip as, and after,
every request queued before it: a page is never marked done while links it
found are still only in this process. A round trip that fails keeps all of it,
in order, for the next.

Settings (read by the scheduler): CONCURRENT_REQUESTS, LINKWATCH_CLOSE_WHEN_IDLE,
LINKWATCH_IDLE_POLL_MAX.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, Any

import redis
from scrapy.utils.request import request_from_dict

from crawler.frontier import serializer

if TYPE_CHECKING:
    from collections import deque
    from collections.abc import Callable

    from scrapy import Request
    from scrapy.core.engine import ExecutionEngine
    from scrapy.statscollectors import StatsCollector

    from crawler.frontier.outage import OutageBacklog
    from crawler.frontier.queue import HostQueue, Lease, LeaseReply

logger = logging.getLogger(__name__)

# The meta key of a leased request: its lease token.
LEASE_META = "linkwatch_lease"
# First wait of the backoff while the frontier is empty or Redis is down.
FIRST_BACKOFF = 0.02
# Seconds between polls while requests wait on hosts that other workers hold.
BUSY_POLL = 0.05
# Longest wait before links found and pages stored go to Redis while the
# downloader has no room (they go at once with the next lease or release).
SYNC_COALESCE = 0.02

# A new request for the next round trip: (check the seen-set, queue key, payload, URL).
PushEntry = tuple[bool, str, bytes, str]


class LeasePump:
    """Leases requests for this worker's engine and carries its frontier
    updates to Redis; see the module docstring."""

    def __init__(
        self,
        queue: HostQueue,
        *,
        local: deque[Request],
        outage: OutageBacklog,
        stats: StatsCollector,
        refresh_scope: Callable[[], None],
        capacity: int,
        idle_poll_max: float,
        close_when_idle: float | None,
    ) -> None:
        self.queue = queue
        self.local = local  # the scheduler's: leased requests the engine has not taken yet
        self.outage = outage
        self.stats = stats
        self.refresh_scope = refresh_scope
        self.capacity = capacity
        self.idle_poll_max = idle_poll_max
        self.close_when_idle = close_when_idle
        # Leases this worker holds, until acknowledged or given back.
        self.open_leases: set[str] = set()
        # Waiting for the next round trip, in this order: links found, downloads
        # over (host slots to free), pages stored.
        self.to_push: list[PushEntry] = []
        self.to_release: list[str] = []
        self.to_ack: list[str] = []
        self.wakeup = asyncio.Event()
        self.wake_scheduled = False
        self.closing = False
        self.scope_version = -1
        self.backoff = FIRST_BACKOFF
        self.idle_since: float | None = None
        self.last_sync = 0.0

    # --- what the next round trip carries -------------------------------------------

    def push(self, entry: PushEntry) -> None:
        """Queue a new request in Redis with the next round trip."""
        self.to_push.append(entry)
        # Links found by one callback go to Redis together: the pump is woken
        # once the callback's turn of the event loop is over.
        if not self.wake_scheduled:
            from twisted.internet import reactor

            self.wake_scheduled = True
            reactor.callLater(0, self._wake)

    def _wake(self) -> None:
        self.wake_scheduled = False
        self.wakeup.set()

    def release(self, request: Request) -> None:
        """The download of a leased request is over: free its host slot."""
        token = request.meta.get(LEASE_META)
        if token is not None:
            self.to_release.append(token)
            self.wakeup.set()

    def ack(self, request_or_response: Any) -> None:
        """The leased request is done (its items are stored, or it failed for good)."""
        token = request_or_response.meta.get(LEASE_META)
        if token is None or token not in self.open_leases:
            return
        self.open_leases.discard(token)
        self.to_ack.append(token)
        self.wakeup.set()

    def abandon(self, response: Any) -> None:
        """Stop extending a lease whose items failed to store: it expires, and
        the page is crawled again (by any worker)."""
        token = response.meta.get(LEASE_META)
        if token is not None:
            self.open_leases.discard(token)

    def pending(self) -> bool:
        return bool(self.to_push or self.to_release or self.to_ack)

    def unsent(self) -> int:
        return len(self.to_push) + len(self.to_release) + len(self.to_ack)

    def sync(self, n: int) -> LeaseReply | None:
        """One round trip to Redis: everything pending, then up to `n` leases.

        Pending updates are dropped only once Redis has them; if it fails they
        stay, in order, for the next try (RedisError is raised)."""
        if not n and not self.pending():
            return None
        new, _, reply = self.queue.sync(self.to_push, self.to_release, self.to_ack, n)
        self.to_push, self.to_release, self.to_ack = [], [], []
        if new:
            self.stats.inc_value("scheduler/enqueued/redis", new)
        return reply

    # --- the pump -------------------------------------------------------------------

    def stop(self) -> None:
        self.closing = True

    async def run(self, engine: ExecutionEngine) -> None:
        """Lease requests from ready hosts and crawl them, as the engine has
        room; returns when the crawl closes, or idles (LINKWATCH_CLOSE_WHEN_IDLE)."""
        self.backoff, self.idle_since, self.last_sync = FIRST_BACKOFF, None, 0.0
        while not self.closing:
            room = self._room(engine)
            if len(self.outage):
                await self._back_off()  # failed calls first (replayed by maintenance)
                continue
            if not room and not self.to_release and self.pending():
                # Only links and stored pages to send, no room to lease into: send
                # them with the next lease, or after SYNC_COALESCE at the latest
                # (half the round trips of a busy worker; each blocks its loop).
                since = time.monotonic() - self.last_sync
                if since < SYNC_COALESCE:
                    self.wakeup.clear()
                    await self._wait(SYNC_COALESCE - since)
                    continue
            self.wakeup.clear()
            self.last_sync = time.monotonic()
            calling = bool(room) or self.pending()
            try:
                reply = self.sync(room)
            except redis.RedisError as exc:
                self.outage.failed(exc)
                await self._back_off()
                continue
            if calling:
                self.outage.recovered()
            if reply is None:
                await self._wait(0.02)  # no room: a download that ends wakes the pump
                continue
            if await self._handle(engine, reply):
                return

    def _room(self, engine: ExecutionEngine) -> int:
        room = self.capacity - len(engine.downloader.active) - len(self.local)
        return 0 if room <= 0 or engine.needs_backout() else room

    async def _handle(self, engine: ExecutionEngine, reply: LeaseReply) -> bool:
        """Crawl what a round trip leased, or wait for more; True: idle long
        enough to close."""
        leases, next_ready, waiting, scope = reply
        if scope != self.scope_version:
            # The watch list or the seed domains changed: know them before
            # parsing anything leased under the new scope.
            try:
                self.refresh_scope()
            except redis.RedisError as exc:
                self.outage.failed(exc)
                return False  # the leases stay open here and expire if this worker dies
            self.scope_version = scope
        if leases:
            self.idle_since, self.backoff = None, FIRST_BACKOFF
            self._crawl(engine, leases)
            return False
        if self._idle_long_enough(engine):
            logger.info("frontier empty for %.0fs: closing", self.close_when_idle)
            return True
        if waiting:
            # Requests wait on hosts busy elsewhere: poll briefly, they free up fast.
            wait = BUSY_POLL
        else:
            wait = self.backoff
            self.backoff = min(self.backoff * 2, self.idle_poll_max)
        if next_ready is not None:
            wait = min(wait, max(0.005, next_ready - time.time()))
        # A host this worker frees, or links it finds, wake the pump at once.
        await self._wait(wait)
        return False

    def _crawl(self, engine: ExecutionEngine, leases: list[Lease]) -> None:
        for lease in leases:
            request = self._decode(lease)
            if request is not None:
                engine.crawl(request)

    def _decode(self, lease: Lease) -> Request | None:
        try:
            request = request_from_dict(serializer.loads(lease.payload), spider=self.queue.spider)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.warning("dropped a malformed queue entry of %s: %s", lease.host, exc)
            self.stats.inc_value("linkwatch/frontier/malformed_entries")
            self.to_ack.append(lease.token)
            return None
        request.meta[LEASE_META] = lease.token
        self.open_leases.add(lease.token)
        return request

    async def _wait(self, seconds: float) -> None:
        """Until something wakes the pump, or `seconds` at most."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wakeup.wait(), seconds)

    async def _back_off(self) -> None:
        await asyncio.sleep(self.backoff)
        self.backoff = min(self.backoff * 2, self.idle_poll_max)

    # --- closing when idle ----------------------------------------------------------

    def _idle_long_enough(self, engine: ExecutionEngine) -> bool:
        """LINKWATCH_CLOSE_WHEN_IDLE seconds with nothing to do, here or anywhere."""
        if self.close_when_idle is None:
            return False
        if not self._idle(engine):
            self.idle_since = None
            return False
        self.idle_since = self.idle_since or time.monotonic()
        return time.monotonic() - self.idle_since >= self.close_when_idle

    def _idle(self, engine: ExecutionEngine) -> bool:
        """Nothing queued, leased or waiting anywhere, and nothing running here."""
        if self.local or self.open_leases or self.pending() or engine.downloader.active:
            return False
        keys = self.queue.keys
        try:
            with self.queue.server.pipeline(transaction=False) as pipe:
                pipe.get(keys.queued)
                pipe.zcard(keys.leases)
                pipe.llen(keys.start_urls)
                queued, leased, seeds = pipe.execute()
        except redis.RedisError:
            return False
        return int(queued or 0) <= 0 and leased == 0 and seeds == 0
