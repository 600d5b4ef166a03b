"""Due pages back into a shared crawl: the workers keep the profile fresh on their own.

`RecrawlMover` is an extension of the cluster profile (CLUSTER_EXTENSIONS in
settings/cluster.py). Every LINKWATCH_RECRAWL_INTERVAL seconds, and once soon
after a worker starts, it reads from the store the pages linking to the shared
watch list's registered domains that are due by the recrawl schedule
(crawler/schedule.py), soonest due first, and pushes them into
``<prefix>:start_urls`` as recrawl seeds: conditional on their stored ETag and
Last-Modified (the spider applies LINKWATCH_CONDITIONAL_GET), at the worker's
max depth so no links are followed from them. So a cluster left running keeps
every known backlink fresh with nobody running `linkwatch recrawl`.

Why a lock: every worker runs this extension, and the store must be read and
the pages pushed once per interval, not once per worker. The worker holding
``recrawl_lock`` (SET NX with a time to live of two intervals; renewed by its
holder each round, given up token-checked when a round fails or the worker
closes) is the one that moves pages; the others' rounds do nothing. If it dies,
the lock expires and another worker's next round takes over.

Why the skip set: a page moved into the frontier stays due in the store until a
worker has fetched and stored it again, which can take longer than an interval
when the frontier is busy. ``recrawl_moved`` (URL -> when moved) keeps such a
page from being pushed twice: a row is skipped while its stored ``fetched_at``
is older than its move. Entries older than two intervals are dropped, so a
page whose seed was lost (a malformed entry, a dead request) comes back.

The store is read in a thread, never on the reactor; a store or Redis error
logs one warning and the next round tries again.

Settings: REDIS_URL, LINKWATCH_REDIS_PREFIX, LINKWATCH_RECRAWL_INTERVAL (0: off),
LINKWATCH_RECRAWL_BATCH (pages moved at most per round), the store's
(LINKWATCH_STORE, LINKWATCH_DB, MONGO_URI ...), LINKWATCH_DEPTH (through the
spider's max depth).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread

from crawler.domains import registered_domain
from crawler.frontier.connection import redis_client
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.seeding import read_watch, seed_entry_json

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.defer import Deferred
    from twisted.python.failure import Failure

    # (registered domains, due before (ISO 8601), limit) -> due pages, soonest first
    DueReader = Callable[[Sequence[str], str, int], list[dict[str, Any]]]

logger = logging.getLogger(__name__)

ISO = "%Y-%m-%dT%H:%M:%SZ"
# The lock outlives one missed round; a moved page is skipped for as long.
WINDOW_ROUNDS = 2
# Seed entries per RPUSH.
PUSH_CHUNK = 1000

# Take the lock, or keep it if this worker holds it. KEYS[1]=lock, ARGV[1]=token, ARGV[2]=ttl ms.
TAKE_LOCK_LUA = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# Give the lock up only if this worker still holds it (it may have expired and
# been taken by another).
RELEASE_LOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


# --- pure: which due pages to move, and as what ---------------------------------------


def iso_seconds(iso: str) -> int:
    """Seconds since the epoch of an ISO 8601 UTC time as records store it."""
    return int(datetime.strptime(iso, ISO).replace(tzinfo=UTC).timestamp())


def iso_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime(ISO)


def waiting(row: Mapping[str, Any], moved: Mapping[str, float]) -> bool:
    """The page was moved into the frontier and not stored again since.
    Compared in whole seconds, the precision of `fetched_at`: a due page was
    fetched at least a second before it was moved, so a `fetched_at` in the
    second of its move is the recrawl."""
    moved_at = moved.get(row["url"])
    if moved_at is None:
        return False
    fetched_at = row.get("fetched_at")
    return fetched_at is None or iso_seconds(fetched_at) < int(moved_at)


def pages_to_move(
    rows: Iterable[Mapping[str, Any]], moved: Mapping[str, float], limit: int
) -> list[Mapping[str, Any]]:
    """The first `limit` of the due `rows` (soonest due first) not waiting in
    the frontier already; `moved`: URL -> when it was moved (s), recent moves only."""
    chosen: list[Mapping[str, Any]] = []
    for row in rows:
        if len(chosen) >= limit:
            break
        if not waiting(row, moved):
            chosen.append(row)
    return chosen


def recrawl_entry(row: Mapping[str, Any], depth: int) -> bytes:
    """The seed entry of a due page: a recrawl, conditional on its stored
    validators, at `depth` (the crawl's max depth: no links followed)."""
    return seed_entry_json(
        row["url"],
        depth,
        recrawl=True,
        etag=row.get("etag"),
        last_modified=row.get("last_modified"),
    )


# --- I/O: the store, Redis ------------------------------------------------------------


def read_due_pages(
    settings: BaseSettings, domains: Sequence[str], due_before: str, limit: int
) -> list[dict[str, Any]]:
    """Due pages linking to `domains`, from the store the settings name
    (raises StoreError)."""
    from pipelines.stores import open_store

    if not domains:
        return []
    with open_store(settings, readonly=True, create=False) as store:
        return list(store.recrawl_pages(domains, due_before=due_before, limit=limit))


class RecrawlMover:
    """Moves due pages into the shared frontier, one worker at a time; see the
    module docstring. `move_due` is one round, synchronous (run in a thread)."""

    def __init__(
        self,
        server: redis.Redis,
        keys: FrontierKeys,
        *,
        interval: float,
        batch: int,
        due_pages: DueReader,
        depth: int = 0,
        stats: StatsCollector | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.server = server
        self.keys = keys
        self.interval = interval
        self.batch = batch
        self.due_pages = due_pages
        self.depth = depth  # the depth of the seeds: the spider's max depth (spider_opened)
        self.stats = stats
        self.clock = clock
        self.token = uuid.uuid4().hex
        self.holding = False
        self._take = server.register_script(TAKE_LOCK_LUA)
        self._release = server.register_script(RELEASE_LOCK_LUA)
        self.loop: LoopingCall | None = None
        self.round: Deferred | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecrawlMover:
        s = crawler.settings
        if not s.get("REDIS_URL"):
            raise NotConfigured("not a shared crawl (no REDIS_URL)")
        interval = s.getfloat("LINKWATCH_RECRAWL_INTERVAL")
        if interval <= 0:
            raise NotConfigured("LINKWATCH_RECRAWL_INTERVAL is 0")
        mover = cls(
            redis_client(s.get("REDIS_URL")),
            FrontierKeys.for_spider(s.get("LINKWATCH_REDIS_PREFIX"), crawler.spidercls.name),
            interval=interval,
            batch=s.getint("LINKWATCH_RECRAWL_BATCH"),
            due_pages=partial(read_due_pages, s),
            depth=s.getint("LINKWATCH_DEPTH"),
            stats=crawler.stats,
        )
        crawler.signals.connect(mover.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mover.spider_closed, signal=signals.spider_closed)
        return mover

    @property
    def window(self) -> float:
        return WINDOW_ROUNDS * self.interval

    # --- one round (any thread) ----------------------------------------------------

    def take_lock(self) -> bool:
        ttl = max(1, int(self.window * 1000))
        return bool(self._take(keys=[self.keys.recrawl_lock], args=[self.token, ttl]))

    def release_lock(self) -> None:
        """Give the lock up, if this worker still holds it; a Redis error leaves
        it to expire."""
        self.holding = False
        try:
            self._release(keys=[self.keys.recrawl_lock], args=[self.token])
        except redis.RedisError as exc:
            logger.debug("recrawl lock not released: %s", exc)

    def move_due(self) -> int | None:
        """One round: the number of pages moved, or None when another worker
        holds the lock. Raises StoreError or RedisError (the lock given up)."""
        if not self.take_lock():
            self.holding = False
            return None
        if not self.holding:
            logger.info("this worker moves due pages into the frontier, every %g s", self.interval)
            self.holding = True
        try:
            return self._move(self.clock())
        except Exception:
            self.release_lock()
            raise

    def _move(self, now: float) -> int:
        domains = sorted({registered_domain(d) for d in read_watch(self.server, self.keys)})
        moved = self.recent_moves(now)
        # Waiting pages come first (soonest due), so read past them.
        rows = self.due_pages(domains, iso_time(now), self.batch + len(moved))
        chosen = pages_to_move(rows, moved, self.batch)
        self.push(chosen, now)
        return len(chosen)

    def recent_moves(self, now: float) -> dict[str, float]:
        """URL -> when moved, of the moves inside the window (older ones dropped)."""
        with self.server.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(self.keys.recrawl_moved, "-inf", f"({now - self.window}")
            pipe.zrange(self.keys.recrawl_moved, 0, -1, withscores=True)
            _, members = pipe.execute()
        return {url.decode(): when for url, when in members}

    def push(self, rows: Sequence[Mapping[str, Any]], now: float) -> None:
        """Seed entries for `rows`, and their moves, in one transaction."""
        if not rows:
            return
        entries = [recrawl_entry(row, self.depth) for row in rows]
        with self.server.pipeline(transaction=True) as pipe:
            for start in range(0, len(rows), PUSH_CHUNK):
                chunk = rows[start : start + PUSH_CHUNK]
                pipe.zadd(self.keys.recrawl_moved, {row["url"]: now for row in chunk})
                pipe.rpush(self.keys.start_urls, *entries[start : start + PUSH_CHUNK])
            pipe.execute()

    # --- the reactor side ------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        self.depth = getattr(spider, "max_depth", self.depth)
        self.loop = LoopingCall(self.tick)
        self.loop.start(self.interval, now=True)

    def tick(self) -> Deferred:
        """A round in a thread; never fails (the loop would stop)."""
        self.round = deferToThread(self.move_due)
        self.round.addCallbacks(self.moved, self.failed)
        return self.round

    def moved(self, count: int | None) -> None:
        self.round = None
        if count is None:
            logger.debug("another worker moves due pages into the frontier")
            return
        logger.info("moved %d due pages into the frontier", count)
        if self.stats is not None:
            self.stats.inc_value("linkwatch/recrawl/moved", count)

    def failed(self, failure: Failure) -> None:
        from pipelines.stores import StoreError  # as the spider: the store loads when used

        self.round = None
        if failure.check(StoreError, redis.RedisError):
            logger.warning(
                "due pages not moved into the frontier: %s; next round in %g s",
                failure.value,
                self.interval,
            )
        else:
            logger.error(
                "moving due pages into the frontier failed",
                exc_info=(failure.type, failure.value, failure.getTracebackObject()),
            )

    async def spider_closed(self) -> None:
        """Stop; a round under way finishes first, then the lock is given up so
        another worker takes over at its next round."""
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.round is not None:
            await maybe_deferred_to_future(self.round)
        if self.holding:
            self.release_lock()
