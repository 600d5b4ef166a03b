"""`linkwatch seed add SEED…`: queue seeds for the workers of a shared crawl."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.cli.common import ArgumentParser, UsageError
from crawler.cli.shared_crawl import connect, expand, redis_options

if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Queue seed URLs or domains for the workers of a shared crawl. A bare domain "
        "means its http:// home page. Workers take seeds in within a second."
    )
    parser.epilog = "example: linkwatch seed add https://blog.example.org/ news.example.net"
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=ArgumentParser)
    actions.required = True
    add = actions.add_parser("add", help="queue seeds")
    add.add_argument("seeds", nargs="+", metavar="SEED", help="URL, domain, or @file")
    add.add_argument("--depth", type=int, default=0, help="depth the seeds start at (default 0)")
    add.add_argument(
        "--recrawl",
        action="store_true",
        help="fetch again even if the crawl has seen the URL (for lost-link checks)",
    )
    redis_options(add)
    add.set_defaults(run=run_add)


def run_add(args: argparse.Namespace) -> int:
    # Deferred: crawler.arguments imports tldextract, the frontier redis.
    from crawler.arguments import ArgumentError, clean_seed
    from crawler.frontier.seeding import seed_entry_json

    if args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    try:
        seeds = [clean_seed(s) for s in expand(args.seeds, "seeds")]
    except ArgumentError as exc:
        raise UsageError(str(exc)) from None
    client, keys = connect(args)
    entries = [seed_entry_json(url, args.depth, args.recrawl) for url in dict.fromkeys(seeds)]
    client.rpush(keys.start_urls, *entries)
    print(f"queued {len(entries)} seeds in {keys.prefix}")
    return 0
