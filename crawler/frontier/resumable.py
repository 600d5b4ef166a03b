"""A resumable embedded crawl: Scrapy's scheduler, journaled (journal.py).

`ResumableScheduler` is Scrapy's default scheduler (priority queues in
memory) that also writes every request it is given to the journal, a SQLite
file beside the store, under the crawl's key: a digest of the spider's parsed
arguments (all but `restart` and the seed file's warnings), its name and the
store. Interrupted (Ctrl-C, SIGTERM, SIGKILL, a power cut), the same command
resumes the crawl:

- `open` fills the spider's seen-set (`spider.requested`) with every URL of
  the crawl and restores its pages per registered domain
  (`spider.pages_per_domain`), so nothing is requested twice and the caps
  hold; then it queues again the requests not done, but those whose pages the
  store holds from this crawl (`Store.fetched_since`: stored, only the done
  mark was lost). One log line says what it resumes.
- `-a restart=true` discards an unfinished crawl. A crawl that ends with
  reason `finished` is deleted from the journal, so the next run is a new
  crawl; any other end (shutdown, store_failed, ...) keeps it.

Why a SIGKILL at any moment loses no link and fetches no stored page again:

1. A page's requests reach the scheduler before its item reaches the store
   (the spider yields the item last; Scrapy schedules a request at once).
2. The store pipeline calls `checkpoint` from its writer thread before it
   commits a batch, and it returns once every request enqueued so far is
   durable. So the links of a stored page are in the journal.
3. A page is marked done once its items are committed (JournalSpiderMiddleware),
   at once when it produced none, or when its download failed for good
   (JournalDownloaderMiddleware). Done marks are batched: one a crash loses is
   recovered at the next `open` from the store; a page without items is
   fetched again.

The journal is flushed by those checkpoints and every FLUSH_INTERVAL seconds
in Twisted's thread pool; never a commit per request. It has its own lock and
connection, so the writer thread flushes it directly rather than through the
reactor (blockingCallFromThread): a batch then never waits for a reactor busy
parsing (or stopped by a second Ctrl-C), and no fsync runs on the reactor
thread but at open and close.

Discovery (`-a expand=N`) is not resumed: the queued requests of expanded
sites are, but which sites to expand into next starts again from the pages
the resumed crawl sees.

Settings: LINKWATCH_RESUME (False: Scrapy's scheduler as it is),
LINKWATCH_FRONTIER_FILE (empty: beside a SQLite store, linkwatch.db ->
linkwatch.frontier.db; with MongoDB $XDG_STATE_HOME/linkwatch/frontier.db,
~/.local/state/linkwatch/frontier.db by default), and the store's
(LINKWATCH_STORE, MONGO_URI, LINKWATCH_DB, MONGO_DATABASE).
"""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import load_object
from scrapy.utils.request import request_from_dict
from twisted.internet import threads
from twisted.internet.task import LoopingCall

from crawler.domains import registered_domain
from crawler.frontier import serializer
from crawler.frontier.journal import Crawl, Journal, JournalError, crawl_key
from crawler.items import utc_now
from crawler.urls import url_host
from pipelines.stores import StoreError, mask_uri, open_store, store_uri
from pipelines.stores.uri import sqlite_path

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Mapping

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

# Seconds between two flushes of what no store batch has flushed (done marks
# of pages without items, links found while nothing is stored).
FLUSH_INTERVAL = 1.0
# The journal of a crawl whose store is not a SQLite file: in the user's state
# directory (XDG), not the working directory, which a service may not write
# (ProtectSystem=strict) and a user may change between two runs.
DEFAULT_FILE = "linkwatch/frontier.db"
# Spider arguments that do not make a crawl another one.
NOT_KEYED = frozenset(("restart", "warnings"))


def frontier_file(settings: Mapping[str, Any]) -> str:
    """LINKWATCH_FRONTIER_FILE, or beside the SQLite store: linkwatch.db ->
    linkwatch.frontier.db (StoreError for a malformed store URI)."""
    if explicit := settings.get("LINKWATCH_FRONTIER_FILE"):
        return str(explicit)
    uri = store_uri(settings)
    if uri.partition("://")[0].lower() == "sqlite":
        return f"{os.path.splitext(sqlite_path(uri))[0]}.frontier.db"
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    path = os.path.join(state, DEFAULT_FILE)
    # Ours to make (never the directory of a store: a store in a missing one is an error).
    with contextlib.suppress(OSError):  # unwritable: the journal says so when it opens
        os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def store_identity(settings: Mapping[str, Any]) -> str:
    """The store, as part of a crawl key: a crawl into another store is
    another crawl, even when their journals share a file."""
    uri = store_uri(settings)
    if uri.partition("://")[0].lower() == "sqlite":
        return os.path.realpath(sqlite_path(uri))
    return f"{mask_uri(uri)}#{settings.get('MONGO_DATABASE') or 'linkwatch'}"


def spider_crawl_key(spider: Spider, settings: Mapping[str, Any]) -> str:
    arguments = getattr(spider, "arguments", None)
    values = asdict(arguments) if is_dataclass(arguments) else {}
    keyed = {name: value for name, value in values.items() if name not in NOT_KEYED}
    return crawl_key(spider.name, keyed, store_identity(settings))


class ResumableScheduler(Scheduler):
    """Scrapy's scheduler with a journal, for the embedded profile; see the
    module docstring."""

    resume = False  # LINKWATCH_RESUME, from `from_crawler`
    journal: Journal | None = None  # from `open`, when resuming is on and the file opens
    loop: LoopingCall | None = None
    flushing = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResumableScheduler:
        scheduler = super().from_crawler(crawler)
        scheduler.resume = crawler.settings.getbool("LINKWATCH_RESUME")
        return scheduler

    # --- lifecycle ---------------------------------------------------------------------

    def open(self, spider: Spider) -> Any:
        opened = super().open(spider)
        if self.resume and self.crawler is not None:
            self.journal = self._open_journal(spider, self.crawler.settings)
        if self.journal is not None:
            self._resume(spider, self.journal)
            self.loop = LoopingCall(self._flush_in_thread)
            self.loop.start(FLUSH_INTERVAL, now=False)
        return opened

    def _open_journal(self, spider: Spider, settings: BaseSettings) -> Journal | None:
        path = ""
        try:
            path = frontier_file(settings)
            key = spider_crawl_key(spider, settings)
            restart = bool(getattr(getattr(spider, "arguments", None), "restart", False))
            return Journal(path, key, started_at=utc_now(), restart=restart)
        except (StoreError, JournalError) as exc:
            logger.warning(
                "frontier journal %s unavailable, the crawl cannot resume: %s", path, exc
            )
            return None

    def close(self, reason: str) -> Any:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.journal is not None:
            journal, self.journal = self.journal, None
            self._close_journal(journal, reason)
        return super().close(reason)

    def _close_journal(self, journal: Journal, reason: str) -> None:
        key = journal.crawl.key[:8]
        try:
            if reason == "finished" and not self.has_pending_requests():
                journal.forget()
                logger.info("crawl %s finished: the next run is a new crawl", key)
            else:
                journal.flush()
                queued, done = journal.counts()
                logger.info(
                    "crawl %s kept in %s for the same command to resume: "
                    "%d pages queued, %d pages done",
                    key,
                    journal.path,
                    queued,
                    done,
                )
        except JournalError as exc:
            logger.warning("frontier journal %s not written at close: %s", journal.path, exc)
        finally:
            with contextlib.suppress(JournalError):  # as above: said once
                journal.close()

    # --- resuming ----------------------------------------------------------------------

    def _resume(self, spider: Spider, journal: Journal) -> None:
        crawl = journal.crawl
        if not crawl.resumed:
            discarded = ", an unfinished one discarded (restart)" if crawl.discarded else ""
            logger.info("new crawl %s (journal %s%s)", crawl.key[:8], journal.path, discarded)
            return
        done = restore_seen(spider, journal)
        queued = journal.queued()
        stored = self._stored(crawl, [url for url, _ in queued])
        for url in stored:
            journal.done(url)
        requeued = 0
        for url, payload in queued:
            if url in stored:
                continue
            request = self._decode(url, payload, spider)
            if request is None:
                journal.done(url)
                continue
            super().enqueue_request(request)  # journaled already
            requeued += 1
        try:
            journal.flush()
        except JournalError as exc:
            logger.warning("frontier journal %s: %s", journal.path, exc)  # flushed later
        if self.stats is not None:
            self.stats.set_value("linkwatch/resume/queued", requeued)
            self.stats.set_value("linkwatch/resume/done", done + len(stored))
        logger.info(
            "resuming crawl %s started %s: %d pages queued, %d pages done (%d found in the store)",
            crawl.key[:8],
            crawl.started_at,
            requeued,
            done + len(stored),
            len(stored),
        )

    def _stored(self, crawl: Crawl, urls: list[str]) -> set[str]:
        """Those of `urls` the store holds from this crawl (fetched since it started)."""
        if not urls or self.crawler is None:
            return set()
        try:
            with open_store(self.crawler.settings, readonly=True, create=False) as store:
                return store.fetched_since(urls, since=crawl.started_at)
        except StoreError as exc:
            logger.warning(
                "cannot ask the store which queued pages it holds, so all are fetched: %s", exc
            )
            return set()

    def _decode(self, url: str, payload: bytes, spider: Spider) -> Request | None:
        try:
            return request_from_dict(serializer.loads(payload), spider=spider)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.warning("dropped a malformed journal entry for %s: %s", url, exc)
            if self.stats is not None:
                self.stats.inc_value("linkwatch/resume/malformed_entries")
            return None

    # --- the Scrapy scheduler interface ------------------------------------------------

    def enqueue_request(self, request: Request) -> bool:
        if not super().enqueue_request(request):
            return False
        if self.journal is not None:
            try:
                payload = serializer.dumps(serializer.request_fields(request, self.spider))
            except ValueError as exc:
                logger.warning("not journaled, a resume would not know it: %s", exc)
            else:
                self.journal.enqueue(request.url, payload)
        return True

    # --- what the pipeline and the middlewares call ------------------------------------

    def checkpoint(self) -> None:
        """Return once every request enqueued so far is durable in the journal.

        The store pipeline calls it from its writer thread before it commits a
        batch; a journal that cannot be written is a StoreError (transient
        when another process holds the file), so the batch waits or the crawl
        stops, rather than store pages whose links a resume would not know."""
        journal = self.journal
        if journal is None:
            return
        try:
            journal.flush()
        except JournalError as exc:
            raise StoreError(
                f"frontier journal {journal.path}: {exc}", transient=exc.transient
            ) from None

    def page_done(self, url: str) -> None:
        """The page of `url` is done: its items are stored, it had none, or its
        download failed for good."""
        if self.journal is not None:
            self.journal.done(url)

    # --- flushing ----------------------------------------------------------------------

    def _flush_in_thread(self) -> None:
        journal = self.journal
        if self.flushing or journal is None or not journal.pending:
            return
        self.flushing = True
        flushed = threads.deferToThread(journal.flush)
        flushed.addErrback(self._flush_failed, journal)
        flushed.addBoth(self._flushed)

    def _flush_failed(self, failure: Failure, journal: Journal) -> None:
        if failure.check(JournalError):
            logger.warning("frontier journal %s: %s (tried again)", journal.path, failure.value)
        else:
            logger.error(
                "frontier journal %s: flush failed",
                journal.path,
                exc_info=(failure.type, failure.value, failure.getTracebackObject()),
            )

    def _flushed(self, result: Any) -> Any:
        self.flushing = False
        return result


def restore_seen(spider: Spider, journal: Journal) -> int:
    """Put every URL of the crawl in the spider's seen-set and count it in its
    pages per registered domain; returns how many pages are done.

    Every URL counts, a sitemap file too (the spider does not count those):
    after a resume a cap may hold a page or two early, never late."""
    requested: set[str] | None = getattr(spider, "requested", None)
    per_domain: dict[str, int] | None = getattr(spider, "pages_per_domain", None)
    done = 0
    for url, is_done in journal.urls():
        done += is_done
        if requested is not None:
            requested.add(url)
        if per_domain is not None:
            try:
                domain = registered_domain(url_host(url))
            except (ValueError, IndexError):
                continue
            per_domain[domain] = per_domain.get(domain, 0) + 1
    return done


# --- acknowledging pages ------------------------------------------------------------------


def _journaling(crawler: Crawler) -> ResumableScheduler | None:
    """The scheduler, if it journals this crawl."""
    engine = crawler.engine
    scheduler = engine.scheduler if engine is not None else None
    return scheduler if getattr(scheduler, "journal", None) is not None else None  # type: ignore[return-value]


def _check_configured(crawler: Crawler) -> None:
    """NotConfigured unless the crawl's scheduler may journal it."""
    settings = crawler.settings
    scheduler = load_object(settings.get("SCHEDULER"))
    if not settings.getbool("LINKWATCH_RESUME") or not (
        isinstance(scheduler, type) and issubclass(scheduler, ResumableScheduler)
    ):
        raise NotConfigured


def _page_url(response: Any) -> str | None:
    """The journal's URL of a response: its request's."""
    request = getattr(response, "request", None)
    return request.url if request is not None else getattr(response, "url", None)


class JournalDownloaderMiddleware:
    """Outermost: a download that failed for good (no middleware turned it
    into a retry) marks its page done; there is nothing to store."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JournalDownloaderMiddleware:
        _check_configured(crawler)
        return cls(crawler)

    def process_exception(self, request: Request, exception: Exception) -> None:
        if (scheduler := _journaling(self.crawler)) is not None:
            scheduler.page_done(request.url)


class JournalSpiderMiddleware:
    """Marks a page done in the journal once every item it produced has
    passed the pipelines (item_scraped, item_dropped), or at once if it
    produced none. A page whose item failed to store stays queued: a resume
    fetches it again."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # page URL -> [items not through the pipelines yet, callback finished]
        self.pending: dict[str, list[Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JournalSpiderMiddleware:
        _check_configured(crawler)
        middleware = cls(crawler)
        crawler.signals.connect(middleware.item_done, signal=signals.item_scraped)
        crawler.signals.connect(middleware.item_done, signal=signals.item_dropped)
        crawler.signals.connect(middleware.item_failed, signal=signals.item_error)
        return middleware

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        url = _page_url(response)
        if url is None or _journaling(self.crawler) is None:
            yield from result
            return
        state = self.pending.setdefault(url, [0, False])
        for output in result:
            if output is not None and not isinstance(output, Request):
                state[0] += 1
            yield output
        self._finished(url)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        url = _page_url(response)
        if url is None or _journaling(self.crawler) is None:
            async for output in result:
                yield output
            return
        state = self.pending.setdefault(url, [0, False])
        async for output in result:
            if output is not None and not isinstance(output, Request):
                state[0] += 1
            yield output
        self._finished(url)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        # The callback failed: parsing the page again would fail again. Done
        # once the items it yielded before are stored.
        if (url := _page_url(response)) is not None:
            self.pending.setdefault(url, [0, False])
            self._finished(url)

    def _finished(self, url: str) -> None:
        state = self.pending[url]
        state[1] = True
        if state[0] == 0:
            self._done(url)

    def item_done(self, item: Any, response: Any = None, **_: Any) -> None:
        url = _page_url(response)
        state = self.pending.get(url) if url is not None else None
        if state is None:
            return
        state[0] -= 1
        if state[0] == 0 and state[1]:
            self._done(url)  # type: ignore[arg-type]

    def item_failed(self, item: Any, response: Any = None, **_: Any) -> None:
        url = _page_url(response)
        if url is not None and self.pending.pop(url, None) is not None:
            logger.warning("page not stored; it stays queued for a resume: %s", url)

    def _done(self, url: str) -> None:
        del self.pending[url]
        if (scheduler := _journaling(self.crawler)) is not None:
            scheduler.page_done(url)
