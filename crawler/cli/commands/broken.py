"""`linkwatch broken DOMAIN`: your pages that other sites link to, but that are broken.

Reads the target URLs of DOMAIN's live backlinks, checks those not checked
within --max-age with the targets spider (crawler/spiders/targets.py, run by
crawler/cli/scrapy_run.py: HEAD, GET to confirm an error, politely), keeps
every check in the store's cache, and lists the targets that answer 4xx or
5xx (crawler/intelligence/broken.py), strongest referring domain first.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import (
    describe,
    domain_argument,
    open_for_reading,
    open_for_writing,
    output_options,
    parse_target,
    store_options,
    utc_now,
)
from crawler.cli.output import write_rows
from crawler.cli.scrapy_run import (
    parse_settings,
    read_outcomes,
    run_spider,
    settings_option,
    spider_env,
)
from crawler.intelligence.broken import (
    BROKEN_COLUMNS,
    TargetLinks,
    broken_targets,
    due,
    referring_domains,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

DEFAULT_MAX_AGE = "1d"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

DESCRIPTION = (
    "Check the pages of yours that DOMAIN's live backlinks point to, and list "
    "those that answer 4xx or 5xx, or redirect to a page that does: each with "
    "its status, how many pages and referring domains link to it, and its "
    "strongest referring domain by authority (`linkwatch rank`), strongest "
    "first. Redirect them to a live page and their links count again. Each "
    "target URL is asked with HEAD (GET confirms an error), through Scrapy as "
    "a crawl asks: robots.txt, the per-host limits, the proxy; -s sets crawl "
    "settings. Checks are kept in the store, with when they were made; a target "
    "checked within --max-age is not asked again (`linkwatch report` shows them)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        DESCRIPTION,
        (
            "linkwatch broken mysite.com",
            "linkwatch broken mysite.com --max-age 0          # check every target again now",
            "linkwatch broken mysite.com --max-age 7d --format csv > redirect-these.csv",
            "linkwatch rank && linkwatch broken mysite.com --limit 20",
        ),
    )
    domain_argument(parser)
    parser.add_argument(
        "--max-age",
        type=duration,
        default=duration(DEFAULT_MAX_AGE),
        metavar="AGE",
        help="check a target again once its last check is this old: seconds, or with "
        f"s, m, h or d (default {DEFAULT_MAX_AGE}; 0: every target now)",
    )
    output_options(parser)
    settings_option(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def duration(text: str) -> float:
    """An age: 90, 90s, 30m, 12h, 7d."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None:
        raise argparse.ArgumentTypeError(f"not an age: {text!r} (e.g. 3600, 30m, 12h, 7d)")
    return float(match[1]) * _UNITS[match[2]]


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    settings, env = parse_settings(args.settings), spider_env(args)
    now = utc_now()
    links = TargetLinks()
    with open_for_reading(args) as store:
        for edge in store.backlinks(target):
            links.add(edge)
        checks = store.target_checks(links.urls)
    name = target.host or target.domain
    if not links.targets:
        print(f"linkwatch broken: no live backlinks into {name}", file=sys.stderr)
        return 0
    stale = due(links.urls, checks, now, args.max_age)
    fresh = check_targets(stale, settings, env, len(links.targets)) if stale else []
    checks.update((check["url"], check) for check in fresh)
    with (open_for_writing if fresh else open_for_reading)(args) as store:
        if fresh:
            store.write_target_checks(fresh)
        authority = store.authority(referring_domains(links, checks))
    rows = broken_targets(links, checks, authority)
    write_rows(rows[: args.limit] if args.limit else rows, BROKEN_COLUMNS, args.format)
    unknown = sum(1 for url in links.targets if checks.get(url, {}).get("status") is None)
    print(
        f"linkwatch broken: {len(links.targets)} target URLs of {name}: {len(rows)} broken"
        + (f", {unknown} without an answer (robots.txt, unreachable)" if unknown else ""),
        file=sys.stderr,
    )
    return 0


def check_targets(
    urls: list[str], settings: dict[str, str], env: dict[str, str], total: int
) -> list[dict[str, Any]]:
    """Run the targets spider on `urls`; the checks it made, ready for the store."""
    recent = (
        f" (the other {total - len(urls)} were checked within --max-age)"
        if total > len(urls)
        else ""
    )
    print(
        f"linkwatch broken: checking {len(urls)} of {total} target URLs{recent}",
        file=sys.stderr,
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="linkwatch-broken-") as tmp:
        listed, out = Path(tmp, "targets.txt"), Path(tmp, "out.jsonl")
        listed.write_text("".join(f"{url}\n" for url in urls), encoding="utf-8")
        run_spider("targets", {"urls": f"@{listed}", "out": str(out)}, settings, env)
        return with_domains(read_outcomes(out))


def with_domains(outcomes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The spider's outcomes with each URL's registered domain (CHECK_FIELDS)."""
    from crawler.domains import registered_domain  # deferred: imports tldextract
    from crawler.urls import url_host

    return [
        {**outcome, "domain": registered_domain(url_host(outcome["url"]))} for outcome in outcomes
    ]
