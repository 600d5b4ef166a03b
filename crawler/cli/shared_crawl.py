"""Reaching a shared crawl's Redis: the options and the connection that
`linkwatch seed`, `watch` and `status` share.

redis and the frontier modules are imported when a command runs, never for
--help: together they take longer than the whole help should.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from crawler.cli.common import Failure, UsageError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    import redis

    from crawler.frontier.keys import FrontierKeys


class RedisUnavailable(Failure):
    """Redis did not answer: exit code 1."""


def redis_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("shared crawl")
    group.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="Redis of the crawl (default: $REDIS_URL)",
    )
    group.add_argument(
        "--prefix",
        default=os.environ.get("LINKWATCH_REDIS_PREFIX", ""),
        help="key prefix of the crawl (default: $LINKWATCH_REDIS_PREFIX or linkwatch:backlinks)",
    )


def connect(args: argparse.Namespace) -> tuple[redis.Redis, FrontierKeys]:
    """A client that answered a PING, and the crawl's keys."""
    # Deferred (see the module docstring).
    import redis

    from crawler.frontier.connection import mask_url, redis_client
    from crawler.frontier.keys import FrontierKeys
    from crawler.frontier.seeding import DEFAULT_SPIDER

    if not args.redis_url:
        raise UsageError("no Redis: set REDIS_URL or pass --redis-url")
    try:
        client = redis_client(args.redis_url)
        client.ping()
    except ValueError as exc:
        raise UsageError(f"--redis-url: {exc}") from None
    except redis.RedisError as exc:
        raise RedisUnavailable(f"Redis at {mask_url(args.redis_url)}: {exc}") from None
    return client, FrontierKeys.for_spider(args.prefix or None, DEFAULT_SPIDER)


def expand(values: Iterable[str], what: str) -> list[str]:
    """Command-line values with every @file replaced by its entries."""
    # Deferred: crawler.arguments imports tldextract.
    from crawler.arguments import ArgumentError, read_list

    out: list[str] = []
    try:
        for value in values:
            out.extend(read_list(value, what))
    except ArgumentError as exc:
        raise UsageError(str(exc)) from None
    return out
