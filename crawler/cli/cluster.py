"""`linkwatch seed | watch | status`: the commands of a shared crawl in Redis.

export REDIS_URL=redis://redis.internal:6379/0
linkwatch seed add https://blog.example.org/ news.example.net
linkwatch watch add mysite.com competitor.io
linkwatch status
"""

from __future__ import annotations

import argparse
import os
import time
from typing import TYPE_CHECKING, Any

import orjson
import redis

from crawler.arguments import ArgumentError, clean_seed, read_list
from crawler.cli.output import write_rows
from crawler.domains import clean_domain
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.scheduler import mask_url
from crawler.frontier.seeding import (
    DEFAULT_SPIDER,
    add_watch,
    client_for,
    read_watch,
    remove_watch,
    seed_entry_json,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

# A worker whose heartbeat is older than this is reported as gone.
LIVE_SECONDS = 15.0


def register(commands: argparse._SubParsersAction) -> None:
    from crawler.cli import ArgumentParser

    seed = commands.add_parser(
        "seed",
        help="add seeds to a shared crawl (REDIS_URL)",
        description=(
            "Queue seed URLs or domains for the workers of a shared crawl. A bare domain "
            "means its http:// home page. Workers take seeds in within a second."
        ),
        epilog="example: linkwatch seed add https://blog.example.org/ news.example.net",
    )
    seed_commands = seed.add_subparsers(
        dest="action", metavar="ACTION", parser_class=ArgumentParser
    )
    seed_commands.required = True
    seed_add = seed_commands.add_parser("add", help="queue seeds")
    seed_add.add_argument("seeds", nargs="+", metavar="SEED", help="URL, domain, or @file")
    seed_add.add_argument(
        "--depth", type=int, default=0, help="depth the seeds start at (default 0)"
    )
    seed_add.add_argument(
        "--recrawl",
        action="store_true",
        help="fetch again even if the crawl has seen the URL (for lost-link checks)",
    )
    seed_add.set_defaults(run=run_seed_add)

    watch = commands.add_parser(
        "watch",
        help="the watch list of a shared crawl (REDIS_URL)",
        description="Add, remove or list the watched domains every worker uses.",
        epilog="example: linkwatch watch add mysite.com competitor.io",
    )
    watch_commands = watch.add_subparsers(
        dest="action", metavar="ACTION", parser_class=ArgumentParser
    )
    watch_commands.required = True
    watch_add = watch_commands.add_parser("add", help="watch more domains")
    watch_add.add_argument("domains", nargs="+", metavar="DOMAIN", help="domain or @file")
    watch_add.set_defaults(run=run_watch_add)
    watch_remove = watch_commands.add_parser("remove", help="stop watching domains")
    watch_remove.add_argument("domains", nargs="+", metavar="DOMAIN")
    watch_remove.set_defaults(run=run_watch_remove)
    watch_list = watch_commands.add_parser("list", help="print the watch list")
    watch_list.set_defaults(run=run_watch_list)

    status = commands.add_parser(
        "status",
        help="live numbers of a shared crawl",
        description=(
            "Seeds waiting, requests queued and leased, URLs seen, pages and edges stored, "
            "and every worker with its pages/s. Workers silent for "
            f"{LIVE_SECONDS:.0f}s are shown as gone."
        ),
    )
    status.add_argument("--format", choices=("table", "json"), default="table")
    status.set_defaults(run=run_status)

    for parser in (seed_add, watch_add, watch_remove, watch_list, status):
        redis_options(parser)


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


def _connect(args: argparse.Namespace) -> tuple[redis.Redis, FrontierKeys]:
    from crawler.cli import UsageError

    if not args.redis_url:
        raise UsageError("no Redis: set REDIS_URL or pass --redis-url")
    try:
        client = client_for(args.redis_url)
        client.ping()
    except ValueError as exc:
        raise UsageError(f"--redis-url: {exc}") from None
    except redis.RedisError as exc:
        raise RedisUnavailable(f"Redis at {mask_url(args.redis_url)}: {exc}") from None
    return client, FrontierKeys.for_spider(args.prefix or None, DEFAULT_SPIDER)


class RedisUnavailable(Exception):
    """Redis did not answer: exit code 1."""


def _expand(values: Iterable[str], what: str) -> list[str]:
    from crawler.cli import UsageError

    out: list[str] = []
    try:
        for value in values:
            out.extend(read_list(value, what))
    except ArgumentError as exc:
        raise UsageError(str(exc)) from None
    return out


def run_seed_add(args: argparse.Namespace) -> int:
    from crawler.cli import UsageError

    if args.depth < 0:
        raise UsageError("--depth must be 0 or more")
    try:
        seeds = [clean_seed(s) for s in _expand(args.seeds, "seeds")]
    except ArgumentError as exc:
        raise UsageError(str(exc)) from None
    client, keys = _connect(args)
    entries = [seed_entry_json(url, args.depth, args.recrawl) for url in dict.fromkeys(seeds)]
    client.rpush(keys.start_urls, *entries)
    print(f"queued {len(entries)} seeds in {keys.prefix}")
    return 0


def _domains(args: argparse.Namespace) -> list[str]:
    from crawler.cli import UsageError

    try:
        return [clean_domain(d) for d in _expand(args.domains, "watch")]
    except ValueError as exc:
        raise UsageError(f"watch: {exc}") from None


def run_watch_add(args: argparse.Namespace) -> int:
    domains = _domains(args)
    client, keys = _connect(args)
    added = add_watch(client, keys, domains)
    print(f"watching {added} more domains ({client.scard(keys.watch)} in all)")
    return 0


def run_watch_remove(args: argparse.Namespace) -> int:
    domains = _domains(args)
    client, keys = _connect(args)
    removed = remove_watch(client, keys, domains)
    print(f"stopped watching {removed} domains ({client.scard(keys.watch)} left)")
    return 0


def run_watch_list(args: argparse.Namespace) -> int:
    client, keys = _connect(args)
    for domain in read_watch(client, keys):
        print(domain)
    return 0


def crawl_status(
    client: redis.Redis, keys: FrontierKeys, now: float | None = None
) -> dict[str, Any]:
    """Numbers of a shared crawl, read from Redis in one round trip."""
    now = time.time() if now is None else now
    with client.pipeline(transaction=False) as pipe:
        pipe.llen(keys.start_urls)
        pipe.get(keys.queued)
        pipe.zcard(keys.leases)
        pipe.llen(keys.dead)
        pipe.hget(f"{keys.bloom}:meta", "count")
        pipe.hgetall(keys.stats)
        pipe.hgetall(keys.workers)
        pipe.scard(keys.watch)
        pipe.scard(keys.domains)
        seeds, queued, leased, dead, seen, stats, workers, watch, domains = pipe.execute()
    rows = []
    for raw in workers.values():
        beat = orjson.loads(raw)
        age = now - beat["last_seen"]
        beat["state"] = (
            "stopped" if beat.get("stopped") else ("live" if age <= LIVE_SECONDS else "gone")
        )
        beat["seen_ago_s"] = round(age, 1)
        rows.append(beat)
    rows.sort(key=lambda b: (b["state"] != "live", b["worker"]))
    return {
        "seeds_waiting": seeds,
        "queued": max(0, int(queued or 0)),
        "leased": leased,
        "dead": dead,
        "urls_seen": int(seen or 0),
        "pages_stored": int(stats.get(b"pages_stored", 0)),
        "edges_stored": int(stats.get(b"edges_stored", 0)),
        "watched_domains": watch,
        "seed_domains": domains,
        "live_workers": sum(1 for r in rows if r["state"] == "live"),
        "workers": rows,
    }


def run_status(args: argparse.Namespace) -> int:
    client, keys = _connect(args)
    status = crawl_status(client, keys)
    if args.format == "json":
        print(
            orjson.dumps(
                {"redis": mask_url(args.redis_url), "prefix": keys.prefix, **status}
            ).decode()
        )
        return 0
    print(f"crawl {keys.prefix} on {mask_url(args.redis_url)}")
    for name in (
        "seeds_waiting",
        "queued",
        "leased",
        "dead",
        "urls_seen",
        "pages_stored",
        "edges_stored",
        "watched_domains",
        "seed_domains",
        "live_workers",
    ):
        print(f"  {name.replace('_', ' '):<16} {status[name]:>12,}")
    if status["workers"]:
        print()
        write_rows(
            status["workers"],
            ("worker", "state", "pages", "edges", "pages_per_s", "leases", "seen_ago_s"),
            "table",
        )
    return 0
