"""Running real `scrapy crawl backlinks` processes against the fixture web, and
reading back what they stored. Shared by the end-to-end tests of every profile."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import orjson

from crawler.items import EDGE_CRAWL_FIELDS, Edge, names
from crawler.urls import url_host

ROOT = Path(__file__).resolve().parents[2]

# The fields a crawl decides (the others are the store's: its clock, lost links).
# Placement and context are not in the fixture web's truth yet: tests/test_placement.py
# checks them on its own pages.
UNCOMPARED_FIELDS = ("placement", "context")
COMPARED_FIELDS = tuple(f for f in EDGE_CRAWL_FIELDS if f not in UNCOMPARED_FIELDS)

# Fast, quiet and allowed to reach the fixture web on 127.0.0.1.
TEST_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "0",
    "LINKWATCH_ALLOW_PRIVATE_NETWORKS": "1",
    "LOGSTATS_INTERVAL": "0",
    "LINKWATCH_STORE_FLUSH_INTERVAL": "0.2",
}


def crawl_env(proxy_url: str, **extra: str) -> dict[str, str]:
    drop = ("REDIS_URL", "MONGO_URI", "LINKWATCH_STORE")  # the test names its store
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(http_proxy=proxy_url, HTTP_PROXY=proxy_url, no_proxy="", NO_PROXY="")
    env["PYTHONWARNINGS"] = "default"
    env.update(extra)
    return env


def crawl_command(spider_args: dict[str, str], settings: dict[str, str] | None = None) -> list[str]:
    argv = [sys.executable, "-m", "scrapy", "crawl", "backlinks"]
    for name, value in spider_args.items():
        argv += ["-a", f"{name}={value}"]
    for name, value in {**TEST_SETTINGS, **(settings or {})}.items():
        argv += ["-s", f"{name}={value}"]
    return argv


def run_crawl(
    spider_args: dict[str, str],
    env: dict[str, str],
    settings: dict[str, str] | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        crawl_command(spider_args, settings),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def edge_key(edge: dict) -> tuple[str, str]:
    return (edge["source_url"], edge["target_url"])


def comparable(edges) -> dict[tuple[str, str], dict]:
    # The fixture web's truth has no target_host: it is the target URL's host.
    return {
        edge_key(e): {f: e[f] for f in COMPARED_FIELDS if f != "target_host"}
        | {"target_host": e.get("target_host", url_host(e["target_url"]))}
        for e in edges
    }


def sqlite_edges(path: str | Path) -> list[dict]:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in db.execute("SELECT * FROM edges")]
    finally:
        db.close()
    for row in rows:
        for name in names(Edge, kind="list"):
            row[name] = orjson.loads(row[name])
        for name in names(Edge, kind="bool"):
            row[name] = bool(row[name])
    return rows


def assert_edges_equal(stored: list[dict], truth: list[dict]) -> None:
    """Stored edges equal the ground truth: none missing, none extra, same fields."""
    got, expected = comparable(stored), comparable(truth)
    assert len(got) == len(stored), "the same (source, target) stored twice"
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    wrong = {k: (expected[k], got[k]) for k in set(expected) & set(got) if expected[k] != got[k]}
    assert not missing, f"{len(missing)} edges missing, e.g. {missing[:5]}"
    assert not extra, f"{len(extra)} edges not in the ground truth, e.g. {extra[:5]}"
    assert not wrong, f"{len(wrong)} edges differ, e.g. {list(wrong.items())[:3]}"


def assert_clean_log(log: str) -> None:
    """No traceback, error or deprecation warning in a crawl's log."""
    for marker in ("Traceback", "] ERROR:", "DeprecationWarning", "Unhandled error"):
        assert marker not in log, f"{marker!r} in the crawl log:\n{log[-3000:]}"
