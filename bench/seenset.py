"""Benchmark 4, seen-set memory: bytes per URL in Redis of our Bloom filter vs
scrapy-redis' fingerprint set, at 1,000,000 URLs (50,000 with --quick).

scrapy-redis' dupefilter SADDs the 40-hex-digit SHA1 of each request into one
set; here the same kind of strings (SHA1 of distinct URLs) go in pipelined
batches of 10,000. Ours is `crawler.frontier.bloom`'s BloomFilter (or
ScalableBloomFilter), found by introspection: constructed with (redis client,
key, capacity, error rate 1e-6), fed with `add_many()` (URLs if its parameter
says so, else SHA1 fingerprints). Memory is `MEMORY USAGE key SAMPLES 0`
(exact), summed over the filter's keys (`key*`). Where add_many() answers "was
it new?" per URL, 20,000 URLs never added measure the false-positive rate.
Adding stops after 240 s (40 s quick): a slower filter is then "not measured"
with how far it got, rather than taking the 15 minutes of `make bench`.

Deterministic, so measured once whatever the repeat count.
Target: the Bloom filter ≥ 20x smaller at error rate 1e-6.

On the same server, for the deploy guide's sizing table: bytes per queued
request, per host with requests, per leased request (bench/frontiersize.py).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import math
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import frontiersize
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from bench.servers import bench_redis

TITLE = "4. Seen-set memory — Bloom filter vs scrapy-redis fingerprint set"
ERROR_RATE = 1e-6
BATCH = 10_000


def urls(count: int, salt: str = "") -> Iterator[str]:
    """`count` distinct canonical URLs of a few hundred sites."""
    for i in range(count):
        yield f"http://site{i % 997}.test/{salt}path/{i}.html?id={i * 7919}"


def fingerprints(count: int, salt: str = "") -> Iterator[bytes]:
    """SHA1 digests of `count` distinct URLs, as Scrapy's fingerprint() returns them."""
    for url in urls(count, salt):
        yield hashlib.sha1(url.encode()).digest()


def batches(items: Iterator[Any], size: int = BATCH) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def memory_usage(client: Any, key: str) -> int:
    return int(client.execute_command("MEMORY", "USAGE", key, "SAMPLES", "0") or 0)


def fingerprint_set(client: Any, count: int) -> int:
    """MEMORY USAGE of scrapy-redis' dupefilter set holding `count` fingerprints."""
    key = "bench:dupefilter"
    client.delete(key)
    for batch in batches(fingerprints(count)):
        client.sadd(key, *(fp.hex() for fp in batch))
    assert client.scard(key) == count
    usage = memory_usage(client, key)
    client.delete(key)
    return usage


# --- our Bloom filter, found by introspection ----------------------------------------


class NotAvailable(Exception):
    """The code to measure does not exist (yet); the message says what is missing."""


def bloom_class() -> type:
    try:
        module = importlib.import_module("crawler.frontier.bloom")
    except ImportError as exc:
        raise NotAvailable(f"crawler.frontier.bloom does not import ({exc})") from None
    for name in ("BloomFilter", "ScalableBloomFilter"):
        cls = getattr(module, name, None)
        if cls is not None and hasattr(cls, "add_many"):
            return cls
    raise NotAvailable("crawler.frontier.bloom has no BloomFilter with add_many()")


_CAPACITY_NAMES = ("capacity", "expected", "expected_items", "n", "size", "items")
_ERROR_NAMES = ("error_rate", "fp_rate", "false_positive_rate", "error", "p", "rate")
_KEY_NAMES = ("key", "name", "prefix")
_CLIENT_NAMES = ("redis", "client", "server", "conn", "connection")


def make_bloom(cls: type, client: Any, key: str, capacity: int) -> Any:
    """An instance for (client, key, capacity, 1e-6), by parameter names if they
    are recognisable, else positionally."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        params = []
    kwargs: dict[str, Any] = {}
    for param in params:
        if param.name in _CLIENT_NAMES:
            kwargs[param.name] = client
        elif param.name in _KEY_NAMES:
            kwargs[param.name] = key
        elif param.name in _CAPACITY_NAMES:
            kwargs[param.name] = capacity
        elif param.name in _ERROR_NAMES:
            kwargs[param.name] = ERROR_RATE
    if len(kwargs) == 4:
        return cls(**kwargs)
    return cls(client, key, capacity, ERROR_RATE)


def items_for(add_many: Callable[[list[Any]], Any], count: int, salt: str = "") -> Iterator[Any]:
    """What add_many() takes: URLs if its parameter says so, else SHA1 fingerprints."""
    try:
        first = next(iter(inspect.signature(add_many).parameters))
    except (StopIteration, TypeError, ValueError):
        first = ""
    return urls(count, salt) if "url" in first else fingerprints(count, salt)


def feed(
    add_many: Callable[[list[Any]], Any],
    count: int,
    salt: str = "",
    deadline: float | None = None,
) -> tuple[list[Any], int]:
    """add_many() over `count` items (bytes, or hex if it refuses bytes), in batches,
    until done or past `deadline` (time.monotonic()); (its answers, items fed)."""
    answers: list[Any] = []
    as_hex = False
    fed = 0
    for batch in batches(items_for(add_many, count, salt)):
        if deadline is not None and time.monotonic() > deadline:
            break
        if as_hex:
            batch = [fp.hex() for fp in batch]
        try:
            result = add_many(batch)
        except TypeError:
            if as_hex or not isinstance(batch[0], bytes):
                raise
            as_hex = True
            result = add_many([fp.hex() for fp in batch])
        fed += len(batch)
        if isinstance(result, list):
            answers.extend(result)
    return answers, fed


def bloom_keys(client: Any, key: str) -> list[str]:
    keys = {k.decode() if isinstance(k, bytes) else k for k in client.scan_iter(match=f"{key}*")}
    return sorted(keys)


def bloom_usage(client: Any, count: int, probes: int, budget: float) -> tuple[int, int, str]:
    """(bytes used by the filter's keys, URLs added, a note on its keys and error
    rate); adding stops after `budget` seconds (a slow add_many must not take the
    whole benchmark's 15 minutes)."""
    cls = bloom_class()
    key = "bench:bloom"
    for stale in bloom_keys(client, key):
        client.delete(stale)
    bloom = make_bloom(cls, client, key, count)
    began = time.monotonic()
    _, fed = feed(bloom.add_many, count, deadline=began + budget)
    seconds = time.monotonic() - began
    keys = bloom_keys(client, key)
    if not keys:
        raise NotAvailable(f"{cls.__name__}.add_many wrote no key named {key}*")
    usage = sum(memory_usage(client, k) for k in keys)
    note = f"{cls.__name__}, keys {', '.join(keys)}; add_many {fed / seconds:,.0f} URLs/s"
    # add_many answers "was it new?" per item: for items never added, every
    # False is a false positive.
    answers, _ = feed(bloom.add_many, probes, salt="fresh/")
    if len(answers) == probes:
        hits = sum(1 for a in answers if not a)
        note += (
            f"; {hits} false positives in {probes:,} URLs never added "
            f"(expected {probes * ERROR_RATE:.2g} at 1e-6)"
        )
    for k in bloom_keys(client, key):
        client.delete(k)
    return usage, fed, note


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    count = plan.seenset_urls
    section = Section(TITLE)
    with bench_redis(workdir, appendonly=False) as redis_server:
        client = redis_server.client()
        set_bytes = fingerprint_set(client, count)
        print(f"  seenset scrapy-redis set: {set_bytes / count:.1f} bytes/URL", flush=True)
        fed = count
        try:
            bloom_bytes, fed, note = bloom_usage(
                client, count, plan.seenset_probes, plan.seenset_budget
            )
        except NotAvailable as exc:
            bloom_bytes, note = None, str(exc)
        if bloom_bytes is not None and fed < count:
            note = (
                f"add_many filled {fed:,} of {count:,} URLs in {plan.seenset_budget:.0f} s "
                f"(then stopped); by then {bloom_bytes:,} bytes, "
                f"{bloom_bytes / count:.2f} per planned URL; {note}"
            )
            bloom_bytes = None
        sizes = frontiersize.measure(client)
        client.close()
    rows = [["scrapy-redis fingerprint set", f"{set_bytes:,}", f"{set_bytes / count:.1f}", ""]]
    if bloom_bytes is None:
        section.not_measured(f"bytes per URL at {count:,} URLs, set ÷ Bloom", "≥ 20x", note)
        rows.append(["our Bloom filter", "—", "—", f"not measured: {note}"])
    else:
        ratio = set_bytes / bloom_bytes if bloom_bytes else float("inf")
        section.rows.append(
            Row(
                f"bytes per URL at {count:,} URLs, set ÷ Bloom",
                "≥ 20x (error rate 1e-6)",
                f"{ratio:.1f}x",
                verdict(ratio >= 20),
            )
        )
        rows.append(["our Bloom filter", f"{bloom_bytes:,}", f"{bloom_bytes / count:.2f}", note])
        print(f"  seenset Bloom filter: {bloom_bytes / count:.2f} bytes/URL", flush=True)
    section.rows += [
        Row(f"Redis bytes per {what} (deploy guide sizing)", "—", f"{sizes[key]:,.0f}", "info")
        for key, what in (
            ("request", "queued request"),
            ("host", "host with queued requests"),
            ("lease", "leased request"),
        )
    ]
    section.tables.append(Table(["seen-set", "MEMORY USAGE, bytes", "bytes/URL", "notes"], rows))
    section.notes.append(
        f"{count:,} SHA1 fingerprints of distinct URLs; redis-server without persistence. "
        f"A Bloom filter at 1e-6 needs ≥ {-math.log(ERROR_RATE) / math.log(2) ** 2 / 8:.2f} "
        "bytes/URL (the optimum, ln(1/p)/ln²2 bits)."
    )
    section.seconds = time.monotonic() - started
    return section
