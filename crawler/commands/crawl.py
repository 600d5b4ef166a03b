"""`scrapy crawl`, with spider arguments checked before anything starts.

Scrapy builds the spider inside the running reactor, where a bad argument ends
in a traceback. Spiders that define `check_arguments(args, settings)` get it
called while the command line is parsed, before Scrapy logs or starts
anything: an ArgumentError becomes one line on stderr and exit code 2. So
does a store URI (LINKWATCH_STORE) whose scheme no store implements.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader

from crawler.arguments import ArgumentError

if TYPE_CHECKING:
    import argparse


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            return  # Scrapy's own usage error follows in run()
        try:
            spidercls = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            self._fail(f"no spider named {args[0]!r}")
        check = getattr(spidercls, "check_arguments", None)
        if check is not None:
            try:
                check(opts.spargs, self.settings)
            except ArgumentError as exc:
                self._fail(f"{args[0]}: {exc}")
        # The store is named by a URI whose scheme must be known before anything runs.
        from pipelines.stores import StoreURIError, store_class, store_uri

        try:
            store_class(store_uri(self.settings))
        except StoreURIError as exc:
            self._fail(str(exc))

    @staticmethod
    def _fail(message: str) -> None:
        print(f"scrapy crawl: error: {message}", file=sys.stderr)
        sys.exit(2)
