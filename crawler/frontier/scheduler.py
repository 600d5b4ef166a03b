"""The scheduler of a shared crawl: scrapy-redis' Scheduler, leasing.

Requests to download come from `feed_engine()`, which the spider's `start()`
awaits: it leases requests from ready hosts as fast as the engine has room,
waits with backoff when nothing is ready (no busy loop against Redis), and
returns after LINKWATCH_CLOSE_WHEN_IDLE seconds of an empty frontier, if set.
It hands them to the engine (`engine.crawl`) instead of yielding them from
`start()`: Scrapy takes start requests one at a time, a turn of the event loop
each, which cost a worker ~10% more CPU per page. The engine then gets them
from a local deque: `next_request` never waits on Redis. Each turn of that
pump is one round trip (`HostQueue.sync`) that also carries what happened
since the last: new requests from the spider (Bloom-checked and queued on
their hosts), hosts whose download ended, and pages whose items are stored
(their leases acknowledged).

A maintenance call every LINKWATCH_FRONTIER_INTERVAL seconds extends this
worker's leases, requeues expired ones (dead workers), takes in new seeds,
re-reads the watch list and publishes a heartbeat for `linkwatch status`.

Redis down or restarted: what a failed round trip carried stays pending, in
order, and other calls that fail are kept and retried with backoff; the outage
is logged once, and its end once. Leases are acknowledged in the same round
trip as, and after, every request queued before them, so a page is never
marked done while links it found are still only in this process.

Settings: REDIS_URL, LINKWATCH_REDIS_PREFIX, LINKWATCH_HOST_CONCURRENCY,
LINKWATCH_HOST_DELAY, LINKWATCH_LEASE_SECONDS, LINKWATCH_MAX_ATTEMPTS,
LINKWATCH_BLOOM_CAPACITY, LINKWATCH_BLOOM_ERROR_RATE, LINKWATCH_CLOSE_WHEN_IDLE,
LINKWATCH_IDLE_POLL_MAX, LINKWATCH_FRONTIER_INTERVAL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import orjson
import redis
from scrapy import signals
from scrapy.utils.request import request_from_dict
from scrapy_redis.scheduler import Scheduler as ScrapyRedisScheduler
from twisted.internet import reactor, task

from crawler.domains import registered_domain
from crawler.downloader import politeness_key_setting
from crawler.frontier import serializer
from crawler.frontier.bloom import ScalableBloomFilter
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.queue import HostQueue, LeaseReply, Politeness, queue_key
from crawler.frontier.seeding import parse_seed_entry
from crawler.urls import RejectedURL, url_host

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

LEASE_META = "linkwatch_lease"
INTAKE_BATCH = 100
# Batches of seeds one maintenance round takes in at most.
INTAKE_ROUNDS = 20
# Seconds between polls while requests wait on hosts that other workers hold.
BUSY_POLL = 0.05
# Longest wait before links found and pages stored go to Redis while the
# downloader has no room (they go at once with the next lease or release).
SYNC_COALESCE = 0.02


def redis_client(url: str) -> redis.Redis:
    # Short timeouts: a worker notices an outage quickly and retries, instead of
    # hanging the reactor on a dead socket.
    return redis.Redis.from_url(
        url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
    )


def mask_url(url: str) -> str:
    """REDIS_URL / MONGO_URI without the password, for logs and status."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if not sep or "@" not in authority:
        return url
    # The last "@" ends the userinfo: a password may hold a raw "@" itself.
    userinfo, _, hostpart = authority.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user + ':' if user else ''}***@{hostpart}{slash}{path}"


class FrontierScheduler(ScrapyRedisScheduler):
    """Schedules through the shared Redis frontier; see the module docstring."""

    def __init__(
        self,
        server: redis.Redis,
        *,
        crawler: Crawler,
        redis_url: str,
        prefix: str | None,
        politeness: Politeness,
        bloom_capacity: int,
        bloom_error_rate: float,
        close_when_idle: float | None,
        idle_poll_max: float,
        interval: float,
    ) -> None:
        super().__init__(
            server,
            persist=True,  # the queue belongs to the cluster, never to one worker
            serializer=serializer,
            dupefilter=object(),  # the seen-set lives in the queue's Lua scripts
        )
        self.crawler = crawler
        self.stats = crawler.stats
        self.redis_url = redis_url
        self.prefix = prefix
        self.politeness = politeness
        self.bloom_capacity = bloom_capacity
        self.bloom_error_rate = bloom_error_rate
        self.close_when_idle = close_when_idle
        self.idle_poll_max = idle_poll_max
        self.interval = interval
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.local: deque[Request] = deque()
        # Leases this worker holds, until acknowledged or given back.
        self.open_leases: set[str] = set()
        # Redis calls that failed, replayed in order once Redis is back.
        self.backlog: deque[tuple[str, Callable[[], Any]]] = deque()
        self.outage_since: float | None = None
        self.closing = False
        self.loop: task.LoopingCall | None = None
        self.pages_done = 0
        self.edges_done = 0
        self.reported = (0, 0)
        self.started = time.time()
        self.last_extend = 0.0
        self.wakeup = asyncio.Event()
        self.scope_version = -1
        # Waiting for the pump's next round trip (HostQueue.sync), in this order:
        # links found, downloads over (host slots to free), pages stored.
        self.to_push: list[tuple[bool, str, bytes, str]] = []
        self.to_release: list[str] = []
        self.to_ack: list[str] = []
        self.wake_scheduled = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        s = crawler.settings
        url = s.get("REDIS_URL")
        idle = s.getfloat("LINKWATCH_CLOSE_WHEN_IDLE")
        return cls(
            redis_client(url),
            crawler=crawler,
            redis_url=url,
            prefix=s.get("LINKWATCH_REDIS_PREFIX"),
            politeness=Politeness(
                host_concurrency=s.getint("LINKWATCH_HOST_CONCURRENCY"),
                host_delay=s.getfloat("LINKWATCH_HOST_DELAY"),
                lease_seconds=s.getfloat("LINKWATCH_LEASE_SECONDS"),
                max_attempts=s.getint("LINKWATCH_MAX_ATTEMPTS"),
                key=politeness_key_setting(s),
            ),
            bloom_capacity=s.getint("LINKWATCH_BLOOM_CAPACITY"),
            bloom_error_rate=s.getfloat("LINKWATCH_BLOOM_ERROR_RATE"),
            close_when_idle=idle if idle > 0 else None,
            idle_poll_max=s.getfloat("LINKWATCH_IDLE_POLL_MAX"),
            interval=s.getfloat("LINKWATCH_FRONTIER_INTERVAL"),
        )

    # --- lifecycle ---------------------------------------------------------------------

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.keys = FrontierKeys.for_spider(self.prefix, spider.name)
        self.queue = HostQueue(
            self.server,
            spider,
            self.keys.prefix,
            serializer,
            keys=self.keys,
            politeness=self.politeness,
            worker=self.worker_id,
        )
        logger.info(
            "shared crawl %s on %s (worker %s)",
            self.keys.prefix,
            mask_url(self.redis_url),
            self.worker_id,
        )
        self._redis("open", self._open_in_redis)
        self.crawler.signals.connect(self._item_stored, signal=signals.item_scraped)
        self.loop = task.LoopingCall(self.maintain)
        self.loop.start(self.interval, now=True)

    def _open_in_redis(self) -> None:
        self.bloom = ScalableBloomFilter(
            self.server, self.keys.bloom, self.bloom_capacity, self.bloom_error_rate
        )
        self.spider.publish_scope(self)  # seeds/watch given as spider arguments
        self.refresh_scope()

    def close(self, reason: str) -> None:
        self.closing = True
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        # Leases never finished here go back now, so nobody waits for them to expire.
        unfinished = [r.meta[LEASE_META] for r in self.local] + sorted(self.open_leases)
        self.local.clear()
        with contextlib.suppress(redis.RedisError):
            self._replay_backlog()
            self._sync(0)
        self._redis("give back", lambda: self.queue.give_back(unfinished))
        self._heartbeat(stopped=True)
        unsent = len(self.backlog) + len(self.to_push) + len(self.to_release) + len(self.to_ack)
        if unsent:
            logger.error(
                "Redis unreachable at shutdown: %d frontier updates not written; "
                "their leases will expire and be crawled again",
                unsent,
            )

    # --- the Scrapy scheduler interface ------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        if LEASE_META in request.meta:
            # Leased from Redis (or a retry of a leased request): served locally.
            self.local.append(request)
            return True
        url = request.url
        try:
            entry = (
                not request.dont_filter,
                queue_key(url, self.politeness.key),
                self.queue._encode_request(request),
                url,
            )
        except (RejectedURL, ValueError) as exc:
            logger.warning("not queued: %s (%s)", url, exc)
            return False
        # Links found by one callback go to Redis together: the pump is woken
        # once the callback's turn of the event loop is over.
        self.to_push.append(entry)
        if not self.wake_scheduled:
            self.wake_scheduled = True
            reactor.callLater(0, self._wake)
        return True

    def _wake(self) -> None:
        self.wake_scheduled = False
        self.wakeup.set()

    def _pending(self) -> bool:
        return bool(self.to_push or self.to_release or self.to_ack)

    def _sync(self, n: int) -> LeaseReply | None:
        """One round trip to Redis: everything pending, then up to `n` leases.

        Pending updates are dropped only once Redis has them; if it fails they
        stay, in order, for the next try (RedisError is raised)."""
        if not n and not self._pending():
            return None
        new, _, reply = self.queue.sync(self.to_push, self.to_release, self.to_ack, n)
        self.to_push, self.to_release, self.to_ack = [], [], []
        if new:
            self.stats.inc_value("scheduler/enqueued/redis", new)
        return reply

    def next_request(self) -> Request | None:
        if not self.local:
            return None
        self.stats.inc_value("scheduler/dequeued/redis")
        return self.local.popleft()

    def has_pending_requests(self) -> bool:
        return bool(self.local)

    def __len__(self) -> int:
        return len(self.local)

    # --- leases ---------------------------------------------------------------------

    async def feed_engine(self) -> None:
        """Lease requests from ready hosts and crawl them, as the engine has
        room; returns when the crawl closes, or idles (LINKWATCH_CLOSE_WHEN_IDLE).

        Each turn is one round trip (`_sync`): it also carries the links,
        released hosts and acknowledged pages gathered since the last one."""
        engine = self.crawler.engine
        capacity = self.crawler.settings.getint("CONCURRENT_REQUESTS")
        backoff = 0.02
        idle_since: float | None = None
        last_sync = 0.0
        while not self.closing:
            room = capacity - len(engine.downloader.active) - len(self.local)
            if room <= 0 or engine.needs_backout():
                room = 0
            if self.backlog:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.idle_poll_max)
                continue
            if not room and not self.to_release and self._pending():
                # Only links and stored pages to send, no room to lease into: send
                # them with the next lease, or after SYNC_COALESCE at the latest
                # (half the round trips of a busy worker; each blocks its loop).
                since = time.monotonic() - last_sync
                if since < SYNC_COALESCE:
                    self.wakeup.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wakeup.wait(), SYNC_COALESCE - since)
                    continue
            self.wakeup.clear()
            last_sync = time.monotonic()
            calling = bool(room) or self._pending()
            try:
                reply = self._sync(room)
            except redis.RedisError as exc:
                self._outage(exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.idle_poll_max)
                continue
            if calling:
                self._recovered()
            if reply is None:
                # No room: wait for a download to end (it wakes the pump).
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), 0.02)
                continue
            leases, next_ready, waiting, scope = reply
            if scope != self.scope_version:
                # The watch list or the seed domains changed: know them before
                # parsing anything leased under the new scope.
                try:
                    self.refresh_scope()
                except redis.RedisError as exc:
                    self._outage(exc)
                    continue  # the leases stay open here and expire if this worker dies
                self.scope_version = scope
            if leases:
                idle_since, backoff = None, 0.02
                for lease in leases:
                    request = self._decode(lease)
                    if request is not None:
                        engine.crawl(request)
                continue
            if self.close_when_idle is not None:
                if self._idle():
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since >= self.close_when_idle:
                        logger.info("frontier empty for %.0fs: closing", self.close_when_idle)
                        return
                else:
                    idle_since = None
            if waiting:
                # Requests wait on hosts busy elsewhere: poll briefly, they free up fast.
                wait = BUSY_POLL
            else:
                wait = backoff
                backoff = min(backoff * 2, self.idle_poll_max)
            if next_ready is not None:
                wait = min(wait, max(0.005, next_ready - time.time()))
            # A host this worker frees, or links it finds, wake the pump at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), wait)

    def _decode(self, lease: Any) -> Request | None:
        try:
            request = request_from_dict(serializer.loads(lease.payload), spider=self.spider)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.warning("dropped a malformed queue entry of %s: %s", lease.host, exc)
            self.stats.inc_value("linkwatch/frontier/malformed_entries")
            self.to_ack.append(lease.token)
            return None
        request.meta[LEASE_META] = lease.token
        self.open_leases.add(lease.token)
        return request

    def _idle(self) -> bool:
        """Nothing queued, leased or waiting anywhere, and nothing running here."""
        if (
            self.local
            or self.open_leases
            or self._pending()
            or self.crawler.engine.downloader.active
        ):
            return False
        try:
            with self.server.pipeline(transaction=False) as pipe:
                pipe.get(self.keys.queued)
                pipe.zcard(self.keys.leases)
                pipe.llen(self.keys.start_urls)
                queued, leased, seeds = pipe.execute()
        except redis.RedisError:
            return False
        return int(queued or 0) <= 0 and leased == 0 and seeds == 0

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

    def _item_stored(self, item: Any, response: Any, **_: Any) -> None:
        if isinstance(item, dict) and "edges" in item:
            self.pages_done += 1
            self.edges_done += len(item["edges"])

    # --- Redis calls that may fail ----------------------------------------------------

    def _redis(self, what: str, call: Callable[[], Any]) -> None:
        """Run `call` now, or after the calls already waiting for Redis."""
        if not self.backlog:
            try:
                call()
                return
            except redis.RedisError as exc:
                self._outage(exc)
        self.backlog.append((what, call))

    def _replay_backlog(self) -> None:
        while self.backlog:
            _, call = self.backlog[0]
            call()  # raises while Redis is still down: stays first in line
            self.backlog.popleft()

    def _outage(self, exc: Exception) -> None:
        if self.outage_since is None:
            self.outage_since = time.monotonic()
            logger.warning("Redis unavailable (%s); retrying with backoff", exc)

    def _recovered(self) -> None:
        if self.outage_since is not None:
            logger.warning(
                "Redis available again after %.1fs", time.monotonic() - self.outage_since
            )
            self.outage_since = None

    # --- maintenance ------------------------------------------------------------------

    def maintain(self) -> None:
        """Every LINKWATCH_FRONTIER_INTERVAL seconds; never raises."""
        try:
            self._replay_backlog()
            if not hasattr(self, "bloom"):
                self._open_in_redis()
            self._sync(0)  # whatever the pump has not sent yet (it may have stopped)
            now = time.monotonic()
            if now - self.last_extend >= self.politeness.lease_seconds / 4:
                self.queue.extend(sorted(self.open_leases))
                self.last_extend = now
            if reaped := self.queue.reap():
                logger.info("requeued %d expired leases", reaped)
                self.stats.inc_value("linkwatch/frontier/leases_reaped", reaped)
            self.take_in_seeds()
            self.refresh_scope()
            self._heartbeat()
        except redis.RedisError as exc:
            self._outage(exc)
            return
        except Exception:
            logger.exception("frontier maintenance failed")
            return
        self._recovered()

    def refresh_scope(self) -> None:
        with self.server.pipeline(transaction=False) as pipe:
            pipe.smembers(self.keys.watch)
            pipe.smembers(self.keys.domains)
            watch, domains = pipe.execute()
        self.spider.update_scope(
            watch=sorted(d.decode() for d in watch), domains={d.decode() for d in domains}
        )

    def take_in_seeds(self) -> None:
        """Move waiting seeds into the host queues, up to INTAKE_ROUNDS batches a
        call, and wake the pump at once: a new crawl starts on every seed host
        in its first second, not 100 hosts a maintenance round."""
        total = 0
        for _ in range(INTAKE_ROUNDS):
            raws = self.server.lrange(self.keys.start_urls, 0, INTAKE_BATCH - 1)
            if not raws:
                break
            total += self._take_in(raws)
            if len(raws) < INTAKE_BATCH:
                break
        if total:
            logger.info("took in %d seeds", total)
            self.refresh_scope()
            self.wakeup.set()

    def _take_in(self, raws: list[bytes]) -> int:
        entries = []
        for raw in raws:
            try:
                seed = parse_seed_entry(raw)
                request = self.spider.seed_request(seed.url, seed.depth, seed.recrawl)
                host = url_host(request.url)
                queue = queue_key(request.url, self.politeness.key)
                payload = self.queue._encode_request(request)
            except (ValueError, RejectedURL) as exc:
                logger.warning("dropped a malformed seed entry %r: %s", raw[:200], exc)
                self.stats.inc_value("linkwatch/frontier/malformed_seeds")
                entries.append((raw, "", False, "", b"", ""))
                continue
            entries.append(
                (raw, registered_domain(host), not seed.recrawl, queue, payload, request.url)
            )
        return self.queue.intake(entries)

    def _heartbeat(self, stopped: bool = False) -> None:
        now = time.time()
        pages, edges = self.pages_done, self.edges_done
        delta_pages, delta_edges = pages - self.reported[0], edges - self.reported[1]
        beat = {
            "worker": self.worker_id,
            "started": self.started,
            "last_seen": now,
            "pages": pages,
            "edges": edges,
            "pages_per_s": round(pages / max(now - self.started, 1e-9), 2),
            "leases": len(self.open_leases),
            "stopped": stopped,
        }
        try:
            with self.server.pipeline(transaction=False) as pipe:
                pipe.hset(self.keys.workers, self.worker_id, orjson.dumps(beat))
                if delta_pages:
                    pipe.hincrby(self.keys.stats, "pages_stored", delta_pages)
                if delta_edges:
                    pipe.hincrby(self.keys.stats, "edges_stored", delta_edges)
                pipe.execute()
            self.reported = (pages, edges)
        except redis.RedisError as exc:
            self._outage(exc)
