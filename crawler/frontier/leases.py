"""When a leased request is done: two middlewares of the cluster profile.

`LeaseDownloaderMiddleware` (outermost) frees the host slot once a download is
over, so the next request to that host may start (after the host delay) while
this page is still being parsed and stored. If the download failed for good
(no middleware turned the failure into a retry), the lease is acknowledged:
there is nothing to store.

`LeaseSpiderMiddleware` counts the items a leased response produced and
acknowledges the lease when the last of them has passed every pipeline — that
is, once it is stored — or at once if it produced none. An item whose storing
failed leaves its lease to expire, so another worker crawls the page again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals

from crawler.frontier.pump import LEASE_META

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

    from crawler.frontier.pump import LeasePump

logger = logging.getLogger(__name__)


def _frontier(crawler: Crawler) -> LeasePump | None:
    """The lease pump of the frontier scheduler, once it is open."""
    scheduler = crawler.engine.scheduler if crawler.engine is not None else None
    return getattr(scheduler, "pump", None)


class LeaseDownloaderMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseDownloaderMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        frontier = _frontier(self.crawler)
        if frontier is not None and LEASE_META in request.meta:
            frontier.release(request)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        frontier = _frontier(self.crawler)
        if frontier is not None and LEASE_META in request.meta:
            frontier.release(request)
            frontier.ack(request)


class LeaseSpiderMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # lease token -> [items not yet through the pipelines, callback finished]
        self.pending: dict[str, list[Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> LeaseSpiderMiddleware:
        middleware = cls(crawler)
        crawler.signals.connect(middleware.item_done, signal=signals.item_scraped)
        crawler.signals.connect(middleware.item_done, signal=signals.item_dropped)
        crawler.signals.connect(middleware.item_failed, signal=signals.item_error)
        return middleware

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        token = response.meta.get(LEASE_META)
        if token is None:
            yield from result
            return
        state = self.pending.setdefault(token, [0, False])
        for output in result:
            if not _is_request(output):
                state[0] += 1
            yield output
        self._finished(token, response)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        token = response.meta.get(LEASE_META)
        if token is None:
            async for output in result:
                yield output
            return
        state = self.pending.setdefault(token, [0, False])
        async for output in result:
            if not _is_request(output):
                state[0] += 1
            yield output
        self._finished(token, response)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        # The callback failed: parsing the page again would fail again.
        if (frontier := _frontier(self.crawler)) is not None:
            self.pending.pop(response.meta.get(LEASE_META), None)
            frontier.ack(response)

    def _finished(self, token: str, response: Response) -> None:
        state = self.pending[token]
        state[1] = True
        if state[0] == 0:
            del self.pending[token]
            if (frontier := _frontier(self.crawler)) is not None:
                frontier.ack(response)

    def item_done(self, item: Any, response: Response | None = None, **_: Any) -> None:
        token = response.meta.get(LEASE_META) if response is not None else None
        state = self.pending.get(token)
        if state is None:
            return
        state[0] -= 1
        if state[0] == 0 and state[1]:
            del self.pending[token]
            if (frontier := _frontier(self.crawler)) is not None:
                frontier.ack(response)

    def item_failed(self, item: Any, response: Response | None = None, **_: Any) -> None:
        token = response.meta.get(LEASE_META) if response is not None else None
        if self.pending.pop(token, None) is not None:
            logger.warning("page not stored; its lease will expire and it is crawled again")
            if (frontier := _frontier(self.crawler)) is not None:
                frontier.abandon(response)


def _is_request(output: Any) -> bool:
    from scrapy import Request

    return isinstance(output, Request)
