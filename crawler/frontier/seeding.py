"""Seeds and the watch list of a shared crawl, as `linkwatch` and workers see them.

Seeds wait in ``<prefix>:start_urls`` (scrapy-redis' list) until a worker takes
them in: each entry is a JSON object ``{"url": ..., "depth": 0, "recrawl":
false}`` (a recrawl may carry the page's stored ``etag`` and ``last_modified``,
for a conditional GET) or a bare URL. A worker validates entries in Python, then removes and
queues the valid ones in one Lua call, so a worker dying halfway loses none; a
malformed entry is logged, counted and dropped. The watch list is a SET every
worker re-reads every few seconds.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from crawler.frontier.connection import redis_client
from crawler.frontier.keys import FrontierKeys

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import redis

logger = logging.getLogger(__name__)

DEFAULT_SPIDER = "backlinks"


@dataclass(frozen=True, slots=True)
class SeedEntry:
    url: str
    depth: int = 0
    recrawl: bool = False
    etag: str | None = None
    last_modified: str | None = None


def parse_seed_entry(raw: bytes | str) -> SeedEntry:
    """A start_urls entry; raises ValueError with the reason if malformed."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    if not text:
        raise ValueError("empty entry")
    if text.startswith("{"):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ValueError("not valid JSON") from None
        url = data.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ValueError("JSON entry without a url")
        depth = data.get("depth", 0)
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
            raise ValueError("depth must be a whole number >= 0")
        validators = [data.get(name) for name in ("etag", "last_modified")]
        if any(value is not None and not isinstance(value, str) for value in validators):
            raise ValueError("etag and last_modified must be strings")
        return SeedEntry(url.strip(), depth, bool(data.get("recrawl", False)), *validators)
    if any(ch.isspace() for ch in text):
        raise ValueError("a bare seed is one URL or domain")
    return SeedEntry(text)


def seed_entry_json(
    url: str,
    depth: int = 0,
    recrawl: bool = False,
    etag: str | None = None,
    last_modified: str | None = None,
) -> bytes:
    entry: dict[str, object] = {"url": url}
    if depth:
        entry["depth"] = depth
    if recrawl:
        entry["recrawl"] = True
        if etag:
            entry["etag"] = etag
        if last_modified:
            entry["last_modified"] = last_modified
    return orjson.dumps(entry)


def keys_for(prefix: str | None, spider: str = DEFAULT_SPIDER) -> FrontierKeys:
    return FrontierKeys.for_spider(prefix or os.environ.get("LINKWATCH_REDIS_PREFIX"), spider)


def push_seeds(
    redis_url: str,
    prefix: str | None,
    urls: Iterable[str],
    *,
    depth: int = 0,
    recrawl: bool = False,
    validators: Mapping[str, tuple[str | None, str | None]] | None = None,
) -> int:
    """Queue seeds for the workers of a shared crawl; returns how many. A
    recrawl's pages may come with their stored (etag, last_modified)."""
    known = validators or {}
    entries = [seed_entry_json(url, depth, recrawl, *known.get(url, (None, None))) for url in urls]
    if not entries:
        return 0
    client = redis_client(redis_url)
    try:
        client.rpush(keys_for(prefix).start_urls, *entries)
    finally:
        client.close()
    return len(entries)


def add_watch(client: redis.Redis, keys: FrontierKeys, domains: Iterable[str]) -> int:
    """Watch more domains; workers pick the change up before their next lease."""
    domains = list(domains)
    if not domains:
        return 0
    with client.pipeline() as pipe:
        pipe.sadd(keys.watch, *domains)
        pipe.incr(keys.scope)
        added, _ = pipe.execute()
    return int(added)


def remove_watch(client: redis.Redis, keys: FrontierKeys, domains: Iterable[str]) -> int:
    domains = list(domains)
    if not domains:
        return 0
    with client.pipeline() as pipe:
        pipe.srem(keys.watch, *domains)
        pipe.incr(keys.scope)
        removed, _ = pipe.execute()
    return int(removed)


def read_watch(client: redis.Redis, keys: FrontierKeys) -> list[str]:
    return sorted(d.decode() for d in client.smembers(keys.watch))
