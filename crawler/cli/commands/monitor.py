"""`linkwatch monitor [DOMAIN ...] --to URI`: the one command a timer or cron
runs to keep watch: recrawl the linking pages that are due, then send alerts.

The recrawl is `scrapy crawl backlinks -a recrawl=due [-a watch=DOMAIN,...]`,
run as a child process (`python -m scrapy`, with SCRAPY_SETTINGS_MODULE set, so
it runs from any directory) on the store the options name (LINKWATCH_STORE);
its warnings and progress lines go to stderr as it runs, its exit status is
reported. With REDIS_URL set the workers of the shared crawl keep the profile
fresh themselves, so monitor only sends. Then it sends as `linkwatch alerts
send` does, whatever the crawl's status (what it stored is sound).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from crawler.cli.commands.alerts import parse_channels, parse_competitors, send, send_options
from crawler.cli.common import (
    Failure,
    describe,
    open_for_reading,
    parse_target,
    store_options,
)
from crawler.cli.scrapy_run import parse_settings, run_spider, settings_option, spider_env

if TYPE_CHECKING:
    import argparse

    from pipelines.stores import Target

# Crawl settings monitor sets unless -s does: quiet logs, a progress line a minute.
CRAWL_SETTINGS = {"LOG_LEVEL": "WARNING", "LINKWATCH_PROGRESS_INTERVAL": "60"}

DESCRIPTION = (
    "Keep watch in one command, for a systemd timer or a cron line: recrawl the "
    "pages linking to the watched domains that the adaptive schedule says are due "
    "(scrapy crawl backlinks -a recrawl=due, conditional GETs: an unchanged page "
    "costs a 304), then send each channel (--to) what changed, as `linkwatch alerts "
    "send` does. With REDIS_URL set, the shared crawl's workers recrawl by "
    "themselves and monitor only sends. Exit status: 0 done, 1 the crawl or a "
    "channel failed (the channel's alerts wait for the next run), 2 a usage mistake."
)


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        DESCRIPTION,
        (
            "linkwatch monitor --to https://hooks.slack.com/services/T0/B0/XXXX",
            "linkwatch monitor mysite.com --competitors rival.com --to file:alerts.jsonl",
            "LINKWATCH_DB=/var/lib/linkwatch/linkwatch.db LINKWATCH_ALERTS='smtp://...' "
            "linkwatch monitor",
        ),
    )
    parser.add_argument(
        "domain",
        nargs="*",
        metavar="DOMAIN",
        help="watched domains to recrawl and report on (default: every one in the store)",
    )
    send_options(parser)
    settings_option(parser, CRAWL_SETTINGS)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    channels = parse_channels(args.to, os.environ.get("LINKWATCH_ALERTS", ""))
    targets = [parse_target(name) for name in args.domain]
    competitors = parse_competitors(args.competitors)
    settings = parse_settings(args.settings, CRAWL_SETTINGS)
    with open_for_reading(args):
        pass  # a store that is missing or wrong ends monitor before a crawl starts
    crawl_failed = False
    if os.environ.get("REDIS_URL"):
        print(
            "monitor: REDIS_URL is set: the shared crawl keeps the profile fresh; "
            "sending alerts only",
            file=sys.stderr,
        )
    else:
        crawl_failed = recrawl(args, targets, settings)
    failed = send(args, channels, targets, competitors)
    return 1 if crawl_failed or failed else 0


def recrawl(args: argparse.Namespace, targets: list[Target], settings: dict[str, str]) -> bool:
    """Run the recrawl, its output passed through; whether it failed (a crawl
    that refused its settings is a UsageError: it said why)."""
    names = ", ".join(t.host or t.domain for t in targets) or "every watched domain"
    print(f"monitor: recrawling the due pages linking to {names}", file=sys.stderr, flush=True)
    arguments = {"recrawl": "due"}
    if targets:
        arguments["watch"] = ",".join(t.host or t.domain for t in targets)
    try:
        run_spider("backlinks", arguments, settings, spider_env(args))
    except Failure as exc:
        print(f"monitor: {exc}", file=sys.stderr, flush=True)
        return True
    print("monitor: recrawl finished (exit status 0)", file=sys.stderr, flush=True)
    return False
