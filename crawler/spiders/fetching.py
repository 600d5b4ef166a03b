"""What the one-off fetch spiders share (`verify`, `targets`): a list of URLs in,
one JSON line per outcome out.

    scrapy crawl verify -a urls=@pages.txt -a watch=mysite.com -a out=fetched.jsonl
    scrapy crawl targets -a urls=@targets.txt -a out=checked.jsonl

The `linkwatch verify` and `linkwatch broken` commands run them
(crawler/cli/scrapy_run.py) and read `out` when they end. They run under the
project's settings like any crawl: robots.txt (crawler/robots.py), the SSRF
guard (crawler/safety.py), the per-host limits (crawler/downloader.py),
AutoThrottle, the proxy from the environment. Not journaled
(LINKWATCH_RESUME off): a check asks the web now, so an interrupted one starts
over.

`FetchSpider` checks the arguments before anything starts (crawler/commands/
crawl.py calls `check_arguments`: one line and exit 2 for a mistake), opens
`out`, and tells why a request got no response (`failure_outcome`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
import scrapy
from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from twisted.internet.error import (
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)

from crawler.arguments import ArgumentError, clean_seed, parse_watch, read_list
from crawler.spiders.records import extraction_settings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FetchArguments:
    """What `scrapy crawl verify|targets -a ...` asked for, validated."""

    urls: list[str]  # canonical, in order, no repeats
    out: str  # the JSON lines file to write
    watch: list[str]  # verify: the domains whose edges are stored (targets: none)


class FetchSpider(scrapy.Spider):
    """Fetches `-a urls=` and writes what each gave as a JSON line into `-a out=`."""

    # A check asks the web now: an interrupted one starts over, not resumed.
    custom_settings: ClassVar[dict[str, Any]] = {"LINKWATCH_RESUME": False}
    # Spider arguments besides urls and out (verify: watch).
    extra_arguments: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def check_arguments(cls, args: dict[str, str], settings: BaseSettings) -> FetchArguments:
        """Validate `-a` arguments; raises ArgumentError with a one-line message."""
        known = ("urls", "out", *cls.extra_arguments)
        unknown = sorted(set(args) - set(known) - {"_job"})
        if unknown:
            raise ArgumentError(
                f"unknown spider argument {unknown[0]!r}; known: {', '.join(known)}"
            )
        urls = []
        for entry in read_list(args.get("urls"), "urls"):
            try:
                urls.append(clean_seed(entry))
            except ArgumentError as exc:
                raise ArgumentError("urls: " + str(exc).removeprefix("seeds: ")) from None
        out = (args.get("out") or "").strip()
        if not out:
            raise ArgumentError("out: give the file to write the outcomes into (-a out=FILE)")
        if not Path(out).expanduser().parent.is_dir():
            raise ArgumentError(f"out: no directory for {out}")
        watch = parse_watch(args.get("watch")) if "watch" in cls.extra_arguments else []
        return FetchArguments(list(dict.fromkeys(urls)), str(Path(out).expanduser()), watch)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> FetchSpider:
        arguments = cls.check_arguments(kwargs, crawler.settings)
        return super().from_crawler(crawler, *args, arguments=arguments)

    def __init__(self, *args: Any, arguments: FetchArguments, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arguments = arguments
        self.out: Any = None
        # URLs requested, so that a page two rows or two redirects lead to is fetched once.
        self.requested: set[str] = set()

    def _set_crawler(self, crawler: Crawler) -> None:
        super()._set_crawler(crawler)
        settings = crawler.settings
        self.normalize, self.placement_rules, self.detect_lang = extraction_settings(settings)
        crawler.signals.connect(self._open_out, signal=signals.spider_opened)
        crawler.signals.connect(self._close_out, signal=signals.spider_closed)

    def _open_out(self) -> None:
        self.out = open(self.arguments.out, "wb")  # noqa: SIM115 - closed with the spider

    def _close_out(self) -> None:
        if self.out is not None:
            self.out.close()
            self.out = None

    def write(self, record: Any) -> None:
        """One outcome (a dict or a dataclass) as a JSON line of `out`."""
        self.out.write(orjson.dumps(record) + b"\n")
        self.crawler.stats.inc_value(f"linkwatch/{self.name}/recorded")


def failure_outcome(failure: Failure) -> tuple[str, str]:
    """(kind, why) of a request that got no response: kind `robots_blocked`
    (robots.txt said no, or answers 5xx: RFC 9309's "disallow all") or
    `unreachable` (DNS, connection, timeout, the SSRF guard, too large)."""
    message = failure.getErrorMessage()
    if failure.check(IgnoreRequest):
        # The refusals of crawler/robots.py and crawler/safety.py, by their messages.
        if message == "Forbidden by robots.txt":
            return "robots_blocked", "robots.txt disallows it"
        if message == "robots.txt: robots unreachable":
            return "unreachable", "no answer from the host (its robots.txt got none)"
        if message.startswith("robots.txt: "):
            return "robots_blocked", message
        if " address: " in message:
            return "unreachable", f"not fetched by the SSRF guard: {message}"
        if "DOWNLOAD_MAXSIZE" in message:
            return "unreachable", "larger than DOWNLOAD_MAXSIZE"
        return "unreachable", message or "not fetched"
    if failure.check(DNSLookupError):
        return "unreachable", "DNS lookup failed"
    if failure.check(ConnectionRefusedError):
        return "unreachable", "connection refused"
    if failure.check(TimeoutError, TCPTimedOutError):
        return "unreachable", "timed out"
    name = failure.type.__name__ if failure.type is not None else "error"
    return "unreachable", f"{name}: {message}" if message else name
