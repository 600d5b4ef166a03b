"""Worker heartbeats of a shared crawl: written by each worker, read by `linkwatch status`.

`Heartbeat` is an extension of the cluster profile (CLUSTER_EXTENSIONS in
settings/cluster.py). Every LINKWATCH_FRONTIER_INTERVAL seconds it writes this
worker's heartbeat to the `workers` hash (worker id -> JSON: pages and edges
stored, pages/s, leases held, last seen) and adds the pages and edges stored
since the last beat to the crawl's `stats` hash; a last beat, marked stopped,
when the spider closes. `worker_rows` reads them back for `linkwatch status`.

Imports neither Scrapy, Twisted nor redis at module level: `linkwatch status`
reads heartbeats through this module without loading them for --help.

Settings: REDIS_URL, LINKWATCH_REDIS_PREFIX, LINKWATCH_FRONTIER_INTERVAL.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Any

import orjson

from crawler.frontier.keys import FrontierKeys

if TYPE_CHECKING:
    from collections.abc import Callable

    import redis
    from scrapy.crawler import Crawler
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

# A worker whose heartbeat is older than this is reported as gone.
LIVE_SECONDS = 15.0


def worker_id() -> str:
    """This process's name in its leases and heartbeats: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_rows(beats: dict[bytes, bytes], now: float) -> list[dict[str, Any]]:
    """The `workers` hash as rows, each heartbeat with its state (live, gone or
    stopped) and how long ago it was seen; live workers first."""
    rows = [_with_state(orjson.loads(raw), now) for raw in beats.values()]
    rows.sort(key=lambda b: (b["state"] != "live", b["worker"]))
    return rows


def _with_state(beat: dict[str, Any], now: float) -> dict[str, Any]:
    age = now - beat["last_seen"]
    beat["state"] = (
        "stopped" if beat.get("stopped") else ("live" if age <= LIVE_SECONDS else "gone")
    )
    beat["seen_ago_s"] = round(age, 1)
    return beat


class Heartbeat:
    """Publishes this worker's heartbeat and stored counts; see the module docstring."""

    def __init__(
        self,
        server: redis.Redis,
        keys: FrontierKeys,
        *,
        worker: str,
        interval: float,
        leases: Callable[[], int],
    ) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker
        self.interval = interval
        self.leases = leases  # () -> leases this worker holds
        self.started = time.time()
        self.pages = 0
        self.edges = 0
        self.reported = (0, 0)  # pages and edges already added to `stats`
        self.loop: LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Heartbeat:
        # Deferred: `linkwatch status` imports this module without Scrapy.
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        from crawler.frontier.connection import redis_client

        s = crawler.settings
        if not s.get("REDIS_URL"):
            raise NotConfigured("not a shared crawl (no REDIS_URL)")
        heartbeat = cls(
            redis_client(s.get("REDIS_URL")),
            FrontierKeys.for_spider(s.get("LINKWATCH_REDIS_PREFIX"), crawler.spidercls.name),
            worker=worker_id(),
            interval=s.getfloat("LINKWATCH_FRONTIER_INTERVAL"),
            leases=lambda: _leases_held(crawler),
        )
        crawler.signals.connect(heartbeat.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(heartbeat.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(heartbeat.item_scraped, signal=signals.item_scraped)
        return heartbeat

    def spider_opened(self) -> None:
        from twisted.internet.task import LoopingCall

        self.loop = LoopingCall(self.beat)
        self.loop.start(self.interval, now=True)

    def spider_closed(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.beat(stopped=True)

    def item_scraped(self, item: Any, **_: Any) -> None:
        if isinstance(item, dict) and "edges" in item:
            self.pages += 1
            self.edges += len(item["edges"])

    def beat(self, stopped: bool = False) -> None:
        """Publish now; never raises (the frontier logs a Redis outage)."""
        import redis  # deferred: see the module docstring (redis takes ~0.2 s to load)

        now = time.time()
        pages, edges = self.pages, self.edges
        beat = {
            "worker": self.worker,
            "started": self.started,
            "last_seen": now,
            "pages": pages,
            "edges": edges,
            "pages_per_s": round(pages / max(now - self.started, 1e-9), 2),
            "leases": self.leases(),
            "stopped": stopped,
        }
        try:
            with self.server.pipeline(transaction=False) as pipe:
                pipe.hset(self.keys.workers, self.worker, orjson.dumps(beat))
                if pages > self.reported[0]:
                    pipe.hincrby(self.keys.stats, "pages_stored", pages - self.reported[0])
                if edges > self.reported[1]:
                    pipe.hincrby(self.keys.stats, "edges_stored", edges - self.reported[1])
                pipe.execute()
        except redis.RedisError as exc:
            logger.debug("heartbeat not published: %s", exc)
            return
        self.reported = (pages, edges)


def _leases_held(crawler: Crawler) -> int:
    scheduler = crawler.engine.scheduler if crawler.engine is not None else None
    pump = getattr(scheduler, "pump", None)
    return len(pump.open_leases) if pump is not None else 0
