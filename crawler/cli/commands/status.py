"""`linkwatch status`: the live numbers of a shared crawl, read from Redis."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import orjson

from crawler.cli.output import write_rows
from crawler.cli.shared_crawl import connect, redis_options
from crawler.frontier.heartbeat import LIVE_SECONDS, worker_rows

if TYPE_CHECKING:
    import argparse

    import redis

    from crawler.frontier.keys import FrontierKeys

COUNTERS = (
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
)
WORKER_COLUMNS = ("worker", "state", "pages", "edges", "pages_per_s", "leases", "seen_ago_s")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Seeds waiting, requests queued and leased, URLs seen, pages and edges stored, "
        "and every worker with its pages/s. Workers silent for "
        f"{LIVE_SECONDS:.0f}s are shown as gone."
    )
    parser.add_argument("--format", choices=("table", "json"), default="table")
    redis_options(parser)
    parser.set_defaults(run=run)


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
    rows = worker_rows(workers, now)
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


def run(args: argparse.Namespace) -> int:
    from crawler.frontier.connection import mask_url  # deferred: imports redis

    client, keys = connect(args)
    status = crawl_status(client, keys)
    if args.format == "json":
        print(
            orjson.dumps(
                {"redis": mask_url(args.redis_url), "prefix": keys.prefix, **status}
            ).decode()
        )
        return 0
    print(f"crawl {keys.prefix} on {mask_url(args.redis_url)}")
    for name in COUNTERS:
        print(f"  {name.replace('_', ' '):<16} {status[name]:>12,}")
    if status["workers"]:
        print()
        write_rows(status["workers"], WORKER_COLUMNS, "table")
    return 0
