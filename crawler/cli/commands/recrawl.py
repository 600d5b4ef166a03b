"""`linkwatch recrawl DOMAIN`: the pages to fetch again to see which backlinks still stand.

A backlink is only as fresh as the last crawl of the page that carries it.
This command lists the pages with an edge into DOMAIN, live or lost (a lost
link may be back), least recently crawled first (with --due: only those the
recrawl schedule says are due, soonest due first), and hands them to the next
crawl: as a seed file, or straight into a shared crawl's Redis frontier, with
each page's stored validators for a conditional GET.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from crawler.cli.common import (
    UsageError,
    open_for_reading,
    parse_target,
    positive_int,
    store_options,
)
from crawler.items import utc_now
from settings.base import LINKWATCH_DEPTH

if TYPE_CHECKING:
    from collections.abc import Sequence

DESCRIPTION = (
    "List the pages that link to DOMAIN (live or lost links), least recently "
    "crawled first, one canonical URL per line: the seeds of a recrawl that "
    "updates DOMAIN's backlinks. Without Redis they go to stdout or --out FILE; "
    "crawl them with depth 0, which fetches exactly those pages and follows "
    "nothing. With REDIS_URL (or --redis-url) they are pushed into the shared "
    "crawl's frontier instead, marked as a recrawl so pages it has seen before "
    "are fetched again, at a depth (--depth) from which workers follow no links. "
    "--due keeps the pages the adaptive recrawl schedule says are due now."
)

EPILOG = """\
examples:
  linkwatch recrawl mysite.com --out recrawl.txt
  scrapy crawl backlinks -a seeds=@recrawl.txt -a watch=mysite.com -a depth=0
  linkwatch recrawl mysite.com --limit 1000 --redis-url redis://127.0.0.1:6379/0
  linkwatch recrawl mysite.com --due            # the pages due now
  scrapy crawl backlinks -a recrawl=due -a watch=mysite.com   # fetch them, conditionally

Only edges into the recrawl's watched domains can be marked lost: a page's
edges into other domains are left as they were.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = textwrap.fill(DESCRIPTION, width=79)
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "domain",
        metavar="DOMAIN",
        help="watched domain (registered domain or host) whose linking pages to recrawl",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--out",
        metavar="FILE",
        help="write the seed file here (default: stdout); wins over $REDIS_URL",
    )
    where.add_argument(
        "--redis-url",
        default=None,
        help="push the pages into this shared crawl's frontier (default: $REDIS_URL)",
    )
    parser.add_argument(
        "--redis-prefix",
        metavar="PREFIX",
        default=os.environ.get("LINKWATCH_REDIS_PREFIX") or None,
        help="key prefix of the shared crawl (default: $LINKWATCH_REDIS_PREFIX or the crawl's)",
    )
    parser.add_argument(
        "--depth",
        type=int,
        default=LINKWATCH_DEPTH,
        help=(
            "with Redis: the depth the pages enter the shared crawl at; workers follow "
            "links only below their max depth, so the default (LINKWATCH_DEPTH, "
            f"{LINKWATCH_DEPTH}) fetches just the pages"
        ),
    )
    parser.add_argument(
        "--limit", type=positive_int, default=None, help="the N least recently crawled pages"
    )
    parser.add_argument(
        "--due",
        action="store_true",
        help="only the pages due now by the recrawl schedule (LINKWATCH_RECRAWL_*)",
    )
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    if args.depth < 0:
        raise UsageError(f"--depth: must be 0 or more, got {args.depth}")
    redis_url = args.redis_url
    if redis_url is None and args.out is None:
        redis_url = os.environ.get("REDIS_URL") or None
    validators: dict[str, tuple[str | None, str | None]] = {}
    with open_for_reading(args) as store:
        if args.due or (redis_url and target.host is None):
            due_before = utc_now() if args.due else None
            rows = list(store.recrawl_pages([target.domain], due_before=due_before))
            if not args.due:  # least recently crawled first, as without --due
                rows.sort(key=lambda row: (row["fetched_at"] or "", row["url"]))
            rows = rows[: args.limit] if args.limit else rows
            urls = [row["url"] for row in rows]
            validators = {row["url"]: (row["etag"], row["last_modified"]) for row in rows}
        else:
            urls = [page["url"] for page in store.linking_pages(target, limit=args.limit)]
    if redis_url:
        return push_to_frontier(redis_url, args.redis_prefix, urls, args, validators)
    if args.out is None:
        write_seeds(urls, sys.stdout)
        return 0
    path = Path(args.out)
    try:
        with path.open("w", encoding="utf-8") as out:
            write_seeds(urls, out)
    except OSError as exc:
        raise UsageError(f"--out: cannot write {path}: {exc.strerror or exc}") from None
    print(
        f"{len(urls)} pages linking to {args.domain} written to {path}; crawl them with: "
        f"scrapy crawl backlinks -a seeds=@{path} -a watch={args.domain} -a depth=0",
        file=sys.stderr,
    )
    return 0


def write_seeds(urls: Sequence[str], out: TextIO) -> None:
    for url in urls:
        out.write(url + "\n")


def push_to_frontier(
    redis_url: str,
    prefix: str | None,
    urls: list[str],
    args: argparse.Namespace,
    validators: dict[str, tuple[str | None, str | None]],
) -> int:
    """Queue the pages in the shared crawl; 1 with a one-line error if that fails."""
    # Deferred: redis and the frontier are needed only with a shared crawl.
    import redis

    from crawler.frontier.seeding import push_seeds

    try:
        pushed = push_seeds(
            redis_url, prefix, urls, depth=args.depth, recrawl=True, validators=validators
        )
    except redis.RedisError as exc:
        print(f"linkwatch recrawl: error: Redis: {exc}", file=sys.stderr)
        return 1
    print(f"{pushed} of {len(urls)} pages linking to {args.domain} queued for a recrawl")
    return 0
