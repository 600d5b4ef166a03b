"""Crawl progress for the person watching: pages, edges and pages/s.

Every LINKWATCH_PROGRESS_INTERVAL seconds (0: off) one line goes to stderr,
whatever LOG_LEVEL says, so a quiet crawl (`-s LOG_LEVEL=WARNING`, as `make demo`
runs it) is not a silent one:

    crawl: 1,204 pages fetched, 1,150 stored, 3,310 edges, 96.3 pages/s (last 10 s), 412 queued

On a terminal the line is rewritten in place; elsewhere (a log file, cron) each
is a new line. The last line, at the end, gives the totals and the average rate.
Counts are this process's: in a shared crawl, `linkwatch status` sums the workers.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, TextIO

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class CrawlProgress:
    def __init__(self, crawler: Crawler, interval: float, out: TextIO = sys.stderr) -> None:
        self.crawler = crawler
        self.interval = interval
        self.out = out
        self.tty = out.isatty()
        self.loop: task.LoopingCall | None = None
        self.started = 0.0
        self.last = (0.0, 0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlProgress:
        interval = crawler.settings.getfloat("LINKWATCH_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.closed, signal=signals.spider_closed)
        return extension

    def opened(self) -> None:
        self.started = time.monotonic()
        self.last = (self.started, 0)
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def counts(self) -> tuple[int, int, int, int]:
        """Pages fetched, pages stored, edges found, requests queued here."""
        stats = self.crawler.stats
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None)
        return (
            stats.get_value("response_received_count", 0),
            stats.get_value("item_scraped_count", 0),
            stats.get_value("linkwatch/edges_found", 0),
            len(slot.scheduler) if slot is not None else 0,
        )

    def report(self) -> None:
        now = time.monotonic()
        fetched, stored, edges, queued = self.counts()
        since, before = self.last
        rate = (fetched - before) / max(now - since, 1e-9)
        self.last = (now, fetched)
        self.write(
            f"crawl: {fetched:,} pages fetched, {stored:,} stored, {edges:,} edges, "
            f"{rate:.1f} pages/s (last {now - since:.0f} s), {queued:,} queued"
        )

    def closed(self, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        fetched, stored, edges, _ = self.counts()
        seconds = time.monotonic() - self.started
        self.write(
            f"crawl {reason}: {fetched:,} pages fetched, {stored:,} stored, {edges:,} edges "
            f"in {seconds:.1f} s ({fetched / max(seconds, 1e-9):.1f} pages/s)",
            final=True,
        )

    def write(self, line: str, final: bool = False) -> None:
        if self.tty:
            self.out.write("\r\033[K" + line + ("\n" if final else ""))
        else:
            self.out.write(line + "\n")
        self.out.flush()
