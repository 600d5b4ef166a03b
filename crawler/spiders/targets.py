"""The `targets` spider: what the pages other sites link to answer now.

    scrapy crawl targets -a urls=@targets.txt -a out=checked.jsonl

`linkwatch broken DOMAIN` (crawler/cli/commands/broken.py) runs it on the
target URLs of DOMAIN's live backlinks: pages of the watched site itself.
Each URL is asked with HEAD, which costs the site no body. An answer of 4xx
or 5xx, or a HEAD that got no answer, is asked again with GET: servers that
mishandle HEAD answer 405, 501 or worse, so a target is reported broken only
on a GET's word (and that GET is the second ask of a page: Scrapy's retry of
error answers is off here; failures without an answer are retried).
Redirects are followed wherever they lead (each hop is a new request:
robots.txt and the SSRF guard see it), up to MAX_HOPS, and the status at the
end is the target's.

Each URL is one JSON line in `out`: `url` (as given), `status` (the final
answer; null when there was none), `final_url`, `redirects` (hops), `method`
(of the final answer), `error` (`robots_blocked`, `unreachable`,
`redirect_limit` or null) and `checked_at`. No item is yielded: the command
writes the outcomes into the store's cache of checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import scrapy
from scrapy.exceptions import IgnoreRequest

from crawler.items import utc_now
from crawler.spiders.backlinks import REDIRECT_STATUSES
from crawler.spiders.fetching import FetchSpider, failure_outcome
from crawler.urls import RejectedURL

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from twisted.python.failure import Failure

# Redirects followed from a target before its check ends.
MAX_HOPS = 5
TARGET_META = "linkwatch_target"
HOPS_META = "linkwatch_hops"


class TargetsSpider(FetchSpider):
    """Asks each target URL with HEAD (GET to confirm an error), following redirects."""

    name = "targets"
    custom_settings: ClassVar[dict[str, Any]] = {
        **FetchSpider.custom_settings,
        # Outcomes go to `out`, not to the store pipeline.
        "ITEM_PIPELINES": {},
        # An error answer is asked once more anyway (the GET that confirms it):
        # Scrapy's retry of 5xx and 429 would ask a third and a fourth time.
        # Failures without an answer are still retried (RETRY_TIMES).
        "RETRY_HTTP_CODES": [],
    }

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.arguments.urls:
            yield self.check_request(url, url, "HEAD", hops=0)

    def check_request(self, target: str, url: str, method: str, hops: int) -> scrapy.Request:
        return scrapy.Request(
            url,
            method=method,
            callback=self.checked,
            errback=self.failed,
            meta={TARGET_META: target, HOPS_META: hops},
            dont_filter=True,
        )

    def checked(self, response: scrapy.http.Response) -> Iterator[scrapy.Request]:
        target = response.meta[TARGET_META]
        hops = response.meta[HOPS_META]
        method = response.request.method
        if response.status in REDIRECT_STATUSES and (location := self.location(response)):
            if hops < MAX_HOPS:
                yield self.check_request(target, location, method, hops + 1)
                return
            self.record(target, response, hops, error="redirect_limit")
            return
        if method == "HEAD" and response.status >= 400:
            self.crawler.stats.inc_value("linkwatch/targets/get_after_head")
            yield self.check_request(target, response.url, "GET", hops)
            return
        self.record(target, response, hops)

    def location(self, response: scrapy.http.Response) -> str | None:
        """A redirect's target, canonical; None when it has none we can follow."""
        location = response.headers.get(b"Location")
        if not location:
            return None
        try:
            return self.normalize(location.decode("latin-1").strip(), response.url)
        except RejectedURL:
            return None

    def record(
        self, target: str, response: scrapy.http.Response, hops: int, error: str | None = None
    ) -> None:
        self.crawler.stats.inc_value(f"linkwatch/targets/status/{response.status}")
        self.write(
            {
                "url": target,
                "status": response.status,
                "final_url": response.url,
                "redirects": hops,
                "method": response.request.method,
                "error": error,
                "checked_at": utc_now(),
            }
        )

    def failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        request = failure.request
        target = request.meta[TARGET_META]
        hops = request.meta[HOPS_META]
        if request.method == "HEAD" and not failure.check(IgnoreRequest):
            # No answer to HEAD (some servers drop it): GET may get one.
            yield self.check_request(target, request.url, "GET", hops)
            return
        kind, _ = failure_outcome(failure)
        self.crawler.stats.inc_value(f"linkwatch/targets/{kind}")
        self.write(
            {
                "url": target,
                "status": None,
                "final_url": request.url,
                "redirects": hops,
                "method": request.method,
                "error": kind,
                "checked_at": utc_now(),
            }
        )
