"""The scheduler of a shared crawl: scrapy-redis' Scheduler, leasing.

Scrapy's scheduler interface over the shared frontier. `enqueue_request` hands
new links to the lease pump (pump.py), which sends them to Redis with its next
round trip, and keeps leased requests in a local deque; `next_request` serves
from that deque and never waits on Redis. The pump itself runs in the spider's
`start()`, through `feed_engine`.

A maintenance call every LINKWATCH_FRONTIER_INTERVAL seconds replays the Redis
calls an outage held back (outage.py), sends what the pump has not, extends
this worker's leases, requeues expired ones (dead workers), takes in new seeds
and re-reads the watch list. The heartbeat `linkwatch status` shows is an
extension (heartbeat.py). On close, the leases this worker still holds go back
to their queues at once.

Settings: REDIS_URL, LINKWATCH_REDIS_PREFIX, LINKWATCH_HOST_CONCURRENCY,
LINKWATCH_HOST_DELAY, LINKWATCH_LEASE_SECONDS, LINKWATCH_MAX_ATTEMPTS,
LINKWATCH_POLITENESS_KEY, LINKWATCH_BLOOM_CAPACITY, LINKWATCH_BLOOM_ERROR_RATE,
LINKWATCH_CLOSE_WHEN_IDLE, LINKWATCH_IDLE_POLL_MAX, LINKWATCH_FRONTIER_INTERVAL,
CONCURRENT_REQUESTS.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from typing import TYPE_CHECKING

import redis
from scrapy_redis.scheduler import Scheduler as ScrapyRedisScheduler
from twisted.internet.task import LoopingCall

from crawler.domains import registered_domain
from crawler.downloader import politeness_key_setting
from crawler.frontier import serializer
from crawler.frontier.bloom import ScalableBloomFilter
from crawler.frontier.connection import mask_url, redis_client
from crawler.frontier.heartbeat import worker_id
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.outage import OutageBacklog
from crawler.frontier.pump import LEASE_META, LeasePump
from crawler.frontier.queue import HostQueue, Politeness, queue_key
from crawler.frontier.seeding import parse_seed_entry
from crawler.urls import RejectedURL, url_host

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

INTAKE_BATCH = 100
# Batches of seeds one maintenance round takes in at most.
INTAKE_ROUNDS = 20


class FrontierScheduler(ScrapyRedisScheduler):
    """Schedules through the shared Redis frontier; see the module docstring."""

    pump: LeasePump  # from `open`

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
        self.worker_id = worker_id()
        # Leased requests the engine has not taken yet.
        self.local: deque[Request] = deque()
        self.outage = OutageBacklog()
        self.loop: LoopingCall | None = None
        self.last_extend = 0.0

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
        self.pump = LeasePump(
            self.queue,
            local=self.local,
            outage=self.outage,
            stats=self.stats,
            refresh_scope=self.refresh_scope,
            capacity=self.crawler.settings.getint("CONCURRENT_REQUESTS"),
            idle_poll_max=self.idle_poll_max,
            close_when_idle=self.close_when_idle,
        )
        logger.info(
            "shared crawl %s on %s (worker %s)",
            self.keys.prefix,
            mask_url(self.redis_url),
            self.worker_id,
        )
        self.outage.run("open", self._open_in_redis)
        self.loop = LoopingCall(self.maintain)
        self.loop.start(self.interval, now=True)

    def _open_in_redis(self) -> None:
        self.bloom = ScalableBloomFilter(
            self.server, self.keys.bloom, self.bloom_capacity, self.bloom_error_rate
        )
        self.spider.publish_scope(self)  # seeds/watch given as spider arguments
        self.refresh_scope()

    def close(self, reason: str) -> None:
        self.pump.stop()
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        # Leases never finished here go back now, so nobody waits for them to expire.
        unfinished = [r.meta[LEASE_META] for r in self.local] + sorted(self.pump.open_leases)
        self.local.clear()
        with contextlib.suppress(redis.RedisError):
            self.outage.replay()
            self.pump.sync(0)
        self.outage.run("give back", lambda: self.queue.give_back(unfinished))
        if unsent := len(self.outage) + self.pump.unsent():
            logger.error(
                "Redis unreachable at shutdown: %d frontier updates not written; "
                "their leases will expire and be crawled again",
                unsent,
            )

    async def feed_engine(self) -> None:
        """Lease requests and crawl them until the crawl closes or idles
        (awaited by the spider's `start()`; see pump.py)."""
        await self.pump.run(self.crawler.engine)

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
        self.pump.push(entry)
        return True

    def next_request(self) -> Request | None:
        if not self.local:
            return None
        self.stats.inc_value("scheduler/dequeued/redis")
        return self.local.popleft()

    def has_pending_requests(self) -> bool:
        return bool(self.local)

    def __len__(self) -> int:
        return len(self.local)

    # --- maintenance ------------------------------------------------------------------

    def maintain(self) -> None:
        """Every LINKWATCH_FRONTIER_INTERVAL seconds; never raises."""
        try:
            self.outage.replay()
            if not hasattr(self, "bloom"):
                self._open_in_redis()
            self.pump.sync(0)  # whatever the pump has not sent yet (it may have stopped)
            now = time.monotonic()
            if now - self.last_extend >= self.politeness.lease_seconds / 4:
                self.queue.extend(sorted(self.pump.open_leases))
                self.last_extend = now
            if reaped := self.queue.reap():
                logger.info("requeued %d expired leases", reaped)
                self.stats.inc_value("linkwatch/frontier/leases_reaped", reaped)
            self.take_in_seeds()
            self.refresh_scope()
        except redis.RedisError as exc:
            self.outage.failed(exc)
            return
        except Exception:
            logger.exception("frontier maintenance failed")
            return
        self.outage.recovered()

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
            self.pump.wakeup.set()

    def _take_in(self, raws: list[bytes]) -> int:
        entries = []
        for raw in raws:
            try:
                seed = parse_seed_entry(raw)
                request = self.spider.seed_request(
                    seed.url, seed.depth, seed.recrawl, (seed.etag, seed.last_modified)
                )
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
