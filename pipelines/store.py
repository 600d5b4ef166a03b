"""Last pipeline: page items written to the store in batches, off the reactor.

A writer thread owns the store connection. `process_item` hands the item over
and returns a Deferred that fires once the batch holding the item is committed:
an item is "done" only when it is durable, which is what a crawl frontier may
acknowledge on (see crawler/frontier). Before each batch the writer calls the
scheduler's `checkpoint`, if it has one: the links of a page are durable in
the frontier before the page is (crawler/frontier/resumable.py).

While the writer is behind, pending items keep their responses in Scrapy's
scraper slot, and Scrapy stops downloading once that slot is full
(SCRAPER_SLOT_MAX_ACTIVE_SIZE); and once LINKWATCH_STORE_MAX_BUFFER pages
wait for the writer, the pipeline pauses the engine (no new downloads) until
half of them are written: the crawl slows down instead of memory growing,
however small the pages.

A batch that fails with a transient error (server down, database locked) is
retried with backoff until it succeeds or the crawl ends; a permanent error
(read-only or full disk) stops the crawl with reason `store_failed`, and what
was committed before stays intact.

At shutdown (the crawl's end, Ctrl-C, SIGTERM) every pending page is written
first, retrying while the store is down. A second Ctrl-C stops the process at
once: the writer is a daemon thread and a batch is one transaction, so the
store keeps exactly the batches committed before.

Settings: LINKWATCH_STORE_BATCH_SIZE, LINKWATCH_STORE_FLUSH_INTERVAL,
LINKWATCH_STORE_MAX_BUFFER, and the store's own: LINKWATCH_STORE (a URI whose
scheme chooses the store, see pipelines/stores/uri.py; a wrong one ends the
crawl at its start, like a store that cannot be opened), its aliases MONGO_URI
and LINKWATCH_DB, and MONGO_DATABASE.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet.defer import Deferred

from pipelines.stores import StoreError, mask_uri, open_store, store_uri

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler

    from crawler.items import PageItem
    from pipelines.stores.base import Store

logger = logging.getLogger(__name__)

MAX_BACKOFF = 30.0
# Seconds between two looks at whether the crawl is stopping, while a batch fills.
HURRY_CHECK = 0.25


class BatchWriter(threading.Thread):
    """Collects items and writes them in batches on its own thread."""

    def __init__(
        self,
        open_store: Callable[[], Store],
        batch_size: int,
        flush_interval: float,
        on_done: Callable[[list[Deferred]], None],
        on_fatal: Callable[[Exception, list[Deferred]], None],
        hurry: Callable[[], bool] | None = None,
        before_write: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(name="linkwatch-store-writer", daemon=True)
        self.open_store = open_store
        self.batch_size = max(1, batch_size)
        self.flush_interval = flush_interval
        self.on_done = on_done
        self.on_fatal = on_fatal
        # True once the crawl is stopping: write what is pending without waiting
        # for a full batch or the flush interval (Scrapy's shutdown waits for it).
        self.hurry = hurry
        # Called before each batch is written (on this thread); returns once the
        # crawl's frontier is durable up to now, so a stored page's links are
        # known to a resumed crawl. Raises StoreError like a write.
        self.before_write = before_write
        self.pending: deque[tuple[PageItem, Deferred]] = deque()
        self.wakeup = threading.Condition()
        self.closing = False
        self.failed: Exception | None = None
        self.written_pages = 0
        self.written_edges = 0
        self.ready = threading.Event()
        self.store: Store | None = None

    def put(self, item: PageItem, done: Deferred) -> None:
        with self.wakeup:
            self.pending.append((item, done))
            if len(self.pending) >= self.batch_size:
                self.wakeup.notify()

    def close(self) -> None:
        """Flush what is pending, then stop; returns at once (the thread ends when done)."""
        with self.wakeup:
            self.closing = True
            self.wakeup.notify()

    @property
    def backlog(self) -> int:
        with self.wakeup:
            return len(self.pending)

    def run(self) -> None:
        try:
            self.store = self.open_store()
        except StoreError as exc:
            self.failed = exc  # StorePipeline.open_spider reports it
            self.ready.set()
            return
        self.ready.set()
        try:
            while True:
                batch = self._next_batch()
                if batch is None:
                    break
                if not self._write(batch):
                    break
        finally:
            self.store.close()

    def _next_batch(self) -> list[tuple[PageItem, Deferred]] | None:
        with self.wakeup:
            deadline = time.monotonic() + self.flush_interval
            while not self.closing and len(self.pending) < self.batch_size:
                remaining = deadline - time.monotonic()
                if self.pending and (remaining <= 0 or (self.hurry is not None and self.hurry())):
                    break
                wait = remaining if remaining > 0 else self.flush_interval
                self.wakeup.wait(wait if self.hurry is None else min(wait, HURRY_CHECK))
                if not self.pending:
                    deadline = time.monotonic() + self.flush_interval
            if self.closing and not self.pending:
                return None
            count = min(self.batch_size, len(self.pending))
            return [self.pending.popleft() for _ in range(count)]

    def _write(self, batch: list[tuple[PageItem, Deferred]]) -> bool:
        assert self.store is not None
        items = [item for item, _ in batch]
        delay = 0.5
        announced = False
        while True:
            try:
                if self.before_write is not None:
                    self.before_write()
                self.store.write_pages(items)
            except StoreError as exc:
                if not exc.transient:
                    self.failed = exc
                    self._fail_rest(exc, batch)
                    return False
                if not announced:
                    logger.warning("store unavailable, retrying with backoff: %s", exc)
                    announced = True
                time.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
                continue
            break
        if announced:
            logger.warning("store available again; batch of %d pages written", len(items))
        self.written_pages += len(items)
        self.written_edges += sum(len(item["edges"]) for item in items)
        self.on_done([done for _, done in batch])
        return True

    def _fail_rest(self, exc: Exception, batch: list | None = None) -> None:
        with self.wakeup:
            rest = list(batch or []) + list(self.pending)
            self.pending.clear()
            self.closing = True
        self.on_fatal(exc, [done for _, done in rest])


class StorePipeline:
    """Writes page items and their edges to the store in batches."""

    def __init__(
        self,
        open_store: Callable[[], Store],
        batch_size: int = 500,
        flush_interval: float = 1.0,
        crawler: Crawler | None = None,
        max_buffer: int = 5_000,
    ) -> None:
        self.open_store = open_store
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.crawler = crawler
        self.max_buffer = max(1, max_buffer)
        self.writer: BatchWriter | None = None
        # Items handed to the writer and not yet committed (reactor thread only).
        self.buffered = 0
        self.paused = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        settings = crawler.settings
        logger.info("store: %s", mask_uri(store_uri(settings)))
        return cls(
            open_store=lambda: open_store(settings),
            batch_size=settings.getint("LINKWATCH_STORE_BATCH_SIZE"),
            flush_interval=settings.getfloat("LINKWATCH_STORE_FLUSH_INTERVAL"),
            crawler=crawler,
            max_buffer=settings.getint("LINKWATCH_STORE_MAX_BUFFER"),
        )

    def open_spider(self) -> None:
        self.writer = BatchWriter(
            self.open_store,
            self.batch_size,
            self.flush_interval,
            on_done=self._batch_done,
            on_fatal=self._store_failed,
            hurry=self._stopping,
            before_write=self._checkpoint(),
        )
        self.writer.start()
        self.writer.ready.wait()
        if self.writer.failed is not None:
            if self.crawler is None:
                raise self.writer.failed
            # One line, and a crawl that ends at once with reason store_failed,
            # rather than a traceback from deep inside Scrapy's start-up.
            logger.error("store unavailable, not crawling: %s", self.writer.failed)
            self.crawler.signals.connect(self._close_at_start, signal=signals.engine_started)

    async def process_item(self, item: PageItem) -> PageItem:
        """Completes once the item is committed (see the module docstring)."""
        assert self.writer is not None
        if self.writer.failed is not None:
            self._inc_stat("linkwatch/pages_not_stored")
            return item
        done: Deferred = Deferred()
        self.buffered += 1
        self.writer.put(item, done)
        if self.buffered >= self.max_buffer and not self.paused:
            self._pause()
        await maybe_deferred_to_future(done)
        return item

    async def close_spider(self) -> None:
        assert self.writer is not None
        self._resume()
        self.writer.close()
        # Polled rather than joined in a thread: a second Ctrl-C must be able
        # to stop the reactor while the store is still down.
        next_notice = time.monotonic() + 5
        while self.writer.is_alive():
            await asyncio.sleep(0.01)  # the last batch often takes only milliseconds
            if time.monotonic() >= next_notice:
                next_notice += 30
                logger.warning(
                    "waiting for the store to write %d pages (Ctrl-C again to stop at once)",
                    self.writer.backlog,
                )
        self._set_stat("linkwatch/edges_stored", self.writer.written_edges)
        self._set_stat("linkwatch/pages_stored", self.writer.written_pages)

    def _checkpoint(self) -> Callable[[], None] | None:
        # The scheduler's, if it journals the crawl (crawler/frontier/resumable.py):
        # found by name, so pipelines/ imports nothing of the crawl side.
        engine = self.crawler.engine if self.crawler is not None else None
        return getattr(engine.scheduler if engine is not None else None, "checkpoint", None)

    def _stopping(self) -> bool:
        # Asked from the writer thread: an attribute read, no reactor call. The
        # engine runs from start to Ctrl-C/SIGTERM (no items are pending before).
        engine = self.crawler.engine if self.crawler is not None else None
        return engine is not None and not engine.running

    def _close_at_start(self) -> None:
        from twisted.internet import reactor

        # Once the engine runs: closing it before would leave it waiting forever.
        reactor.callLater(0, self._stop_crawl, [])

    # --- back-pressure (reactor thread) ------------------------------------------

    def _pause(self) -> None:
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is None:
            return
        self.paused = True
        engine.pause()
        self._inc_stat("linkwatch/store_backpressure")
        logger.info("%d pages wait for the store: downloads paused", self.buffered)

    def _resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        engine = self.crawler.engine if self.crawler is not None else None
        if engine is not None:
            engine.unpause()
        logger.info("the store caught up (%d pages waiting): downloads resumed", self.buffered)

    def _written(self, deferreds: list[Deferred]) -> None:
        self.buffered -= len(deferreds)
        if self.paused and self.buffered <= self.max_buffer // 2:
            self._resume()
        _fire_all(deferreds)

    # --- called from the writer thread ------------------------------------------

    def _batch_done(self, deferreds: list[Deferred]) -> None:
        from twisted.internet import reactor

        reactor.callFromThread(self._written, deferreds)

    def _store_failed(self, exc: Exception, deferreds: list[Deferred]) -> None:
        logger.error(
            "store failed, stopping the crawl (%d pages not stored): %s", len(deferreds), exc
        )
        from twisted.internet import reactor

        reactor.callFromThread(self._stop_crawl, deferreds)

    def _stop_crawl(self, deferreds: list[Deferred]) -> None:
        self._inc_stat("linkwatch/pages_not_stored", len(deferreds))
        self.buffered = 0
        self._resume()
        _fire_all(deferreds)
        if self.crawler is not None and self.crawler.engine is not None:
            deferred_from_coro(self.crawler.engine.close_spider_async(reason="store_failed"))

    def _set_stat(self, key: str, value: int) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.set_value(key, value)

    def _inc_stat(self, key: str, count: int = 1) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)


def _fire_all(deferreds: list[Deferred]) -> None:
    for done in deferreds:
        if not done.called:
            done.callback(None)
