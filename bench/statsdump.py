"""A Scrapy extension that saves a crawl's stats as JSON when the spider closes.

Enabled by the benchmarks on both sides of a comparison with
`-s EXTENSIONS={"bench.statsdump.StatsDump": 1000} -s BENCH_STATS_FILE=PATH`.
Besides Scrapy's stats it records the process's CPU seconds when the engine
started, so a report can tell start-up (imports, settings) from crawling, and
its peak RSS (VmHWM) when the spider closes, after the pipelines have flushed.

With `BENCH_SERIES_INTERVAL=S` it also samples, every S seconds, what holds
memory in a crawl: RSS, responses received, requests waiting in the scheduler,
requests in the downloader, responses in the scraper (and their bytes), items
in the pipelines. The memory benchmark prints these next to RSS growth.
"""

from __future__ import annotations

import json
import os
import resource
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


def _peak_rss() -> int:
    """VmHWM: peak RSS of this process image since exec. Not ru_maxrss, which also
    counts the parent's memory the child had between fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class StatsDump:
    def __init__(self, crawler: Crawler, path: Path, interval: float) -> None:
        self.crawler = crawler
        self.path = path
        self.interval = interval
        self.cpu_at_start = 0.0
        self.series: list[dict[str, Any]] = []
        self.sampler: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StatsDump:
        path = crawler.settings.get("BENCH_STATS_FILE")
        if not path:
            raise NotConfigured("BENCH_STATS_FILE not set")
        ext = cls(crawler, Path(path), crawler.settings.getfloat("BENCH_SERIES_INTERVAL"))
        crawler.signals.connect(ext.engine_started, signal=signals.engine_started)
        # Loaded last (order 1000), so CoreStats has set elapsed_time_seconds by now.
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def engine_started(self) -> None:
        self.cpu_at_start = _cpu()
        if self.interval > 0:
            self.sampler = task.LoopingCall(self.sample)
            self.sampler.start(self.interval)

    def sample(self) -> None:
        engine = self.crawler.engine
        point: dict[str, Any] = {
            "t": time.monotonic(),
            "rss": _rss(),
            "peak": _peak_rss(),
            "responses": self.crawler.stats.get_value("response_received_count", 0),
        }
        try:  # Scrapy internals: best effort, a missing one is just not sampled
            scheduler = engine.scheduler if engine else None
            point["scheduled"] = len(scheduler) if scheduler is not None else None  # type: ignore[arg-type]
            point["downloading"] = len(engine.downloader.active) if engine else None
            slot = engine.scraper.slot if engine else None
            if slot is not None:
                point["scraping"] = len(slot.active) + len(slot.queue)
                point["scraping_bytes"] = slot.active_size
                point["items"] = slot.itemproc_size
        except (AttributeError, TypeError):
            pass
        self.series.append(point)

    def spider_closed(self, reason: str) -> None:
        if self.sampler is not None and self.sampler.running:
            self.sampler.stop()
        stats = dict(self.crawler.stats.get_stats())
        stats["bench/cpu_at_engine_start"] = self.cpu_at_start
        stats["bench/cpu_at_close"] = _cpu()
        stats["bench/finish_reason"] = reason
        stats["bench/peak_rss"] = _peak_rss()
        stats["bench/series"] = self.series
        self.path.write_text(json.dumps(stats, default=str, sort_keys=True))
