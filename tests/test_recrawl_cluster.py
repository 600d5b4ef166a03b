"""A shared crawl keeps its profile fresh on its own: the workers move due pages
into the Redis frontier (crawler/frontier/recrawl.py).

The choice of pages and their seed entries without servers; the lock and the
skip set against a real Redis (two movers, one moves); then end to end: a
cluster crawls the fixture web into a store, and workers started later, with no
command run, fetch the linking pages again and their edges' last_seen moves,
on SQLite and on MongoDB."""

from __future__ import annotations

import logging
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime

import pytest
import redis
from scrapy import Spider
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.utils.misc import load_object
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.frontier.keys import FrontierKeys
from crawler.frontier.recrawl import (
    RecrawlMover,
    iso_seconds,
    iso_time,
    pages_to_move,
    recrawl_entry,
    waiting,
)
from crawler.frontier.seeding import parse_seed_entry
from crawler.testing.fixtureweb import FixtureServer, build_web
from pipelines.stores import StoreError
from tests.support.crawling import (
    ROOT,
    assert_clean_log,
    assert_edges_equal,
    crawl_command,
    crawl_env,
    sqlite_edges,
)

MOVED_AT = iso_seconds("2025-01-01T12:00:00Z")


def row(url, fetched_at="2025-01-01T10:00:00Z", etag=None, last_modified=None):
    return {"url": url, "fetched_at": fetched_at, "etag": etag, "last_modified": last_modified}


# --- pure: which pages, as what -------------------------------------------------------


def test_a_page_moved_and_not_stored_again_since_is_waiting():
    moved = {"http://a.test/": MOVED_AT}
    assert waiting(row("http://a.test/"), moved)
    assert waiting(row("http://a.test/", fetched_at=None), moved)
    assert not waiting(row("http://a.test/", fetched_at="2025-01-01T12:00:07Z"), moved)
    # fetched in the second of its move: a due page was fetched earlier, so this is the recrawl
    assert not waiting(row("http://a.test/", fetched_at="2025-01-01T12:00:00Z"), moved)
    assert not waiting(
        row("http://a.test/", fetched_at="2025-01-01T12:00:00Z"), {"http://a.test/": MOVED_AT + 0.7}
    )
    assert not waiting(row("http://b.test/"), moved)


def test_pages_to_move_skips_waiting_pages_and_keeps_the_order_up_to_the_limit():
    rows = [
        row("http://waiting.test/"),
        row("http://new1.test/"),
        row("http://recrawled.test/", fetched_at="2025-01-01T12:00:05Z"),
        row("http://new2.test/"),
        row("http://new3.test/"),
    ]
    moved = {"http://waiting.test/": MOVED_AT, "http://recrawled.test/": MOVED_AT}
    chosen = [r["url"] for r in pages_to_move(rows, moved, limit=3)]
    assert chosen == ["http://new1.test/", "http://recrawled.test/", "http://new2.test/"]
    assert pages_to_move(rows, {}, limit=10) == rows
    assert pages_to_move(rows, moved, limit=0) == []


def test_a_due_page_becomes_a_conditional_recrawl_seed_at_the_given_depth():
    entry = parse_seed_entry(
        recrawl_entry(row("http://a.test/p", etag='"v1"', last_modified="Mon, 01 Jan"), 3)
    )
    assert (entry.url, entry.depth, entry.recrawl) == ("http://a.test/p", 3, True)
    assert (entry.etag, entry.last_modified) == ('"v1"', "Mon, 01 Jan")
    bare = parse_seed_entry(recrawl_entry(row("http://a.test/q"), 2))
    assert (bare.recrawl, bare.etag, bare.last_modified) == (True, None, None)


def test_iso_times_round_trip_in_whole_seconds():
    assert iso_time(MOVED_AT + 0.9) == "2025-01-01T12:00:00Z"
    assert iso_seconds(iso_time(MOVED_AT)) == MOVED_AT


# --- the extension's wiring --------------------------------------------------------------


class NamedSpider(Spider):
    name = "backlinks"


@pytest.mark.parametrize(
    "settings",
    [
        {"LINKWATCH_RECRAWL_INTERVAL": 3600},
        {"REDIS_URL": "redis://127.0.0.1:1/0", "LINKWATCH_RECRAWL_INTERVAL": 0},
    ],
    ids=["no REDIS_URL", "interval 0"],
)
def test_the_mover_is_off_outside_a_shared_crawl_or_with_interval_0(settings):
    with pytest.raises(NotConfigured):
        RecrawlMover.from_crawler(get_crawler(NamedSpider, settings))


def test_the_cluster_profile_runs_the_mover_in_every_worker():
    import settings.cluster
    import settings.embedded

    extension = "crawler.frontier.recrawl.RecrawlMover"
    assert load_object(extension) is RecrawlMover
    assert extension in settings.cluster.CLUSTER_EXTENSIONS
    profile = Settings()
    profile.setmodule(settings.embedded)
    # No reactor: nothing here waits on one.
    worker = {"REDIS_URL": "redis://127.0.0.1:1/0", "TWISTED_REACTOR_ENABLED": False}
    profile.setdict({**worker, "LINKWATCH_RECRAWL_BATCH": 7}, priority="cmdline")
    mover = RecrawlMover.from_crawler(get_crawler(NamedSpider, profile.copy_to_dict()))
    depth = profile.getint("LINKWATCH_DEPTH")
    assert (mover.interval, mover.batch, mover.depth) == (3600.0, 7, depth)
    assert mover.keys.recrawl_lock == "linkwatch:backlinks:recrawl_lock"


def test_a_failed_round_logs_one_warning_and_the_loop_goes_on(caplog):
    mover = RecrawlMover(
        redis.Redis.from_url("redis://127.0.0.1:1/0"),
        FrontierKeys("lwtest:x"),
        interval=60,
        batch=10,
        due_pages=lambda *_: [],
    )
    with caplog.at_level(logging.INFO, logger="crawler.frontier.recrawl"):
        for exc in (
            StoreError("cannot open the store", transient=True),
            redis.ConnectionError("refused"),
        ):
            assert mover.failed(Failure(exc)) is None  # handled: the LoopingCall goes on
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and "next round in 60 s" in warnings[0].getMessage()
    assert not [r for r in caplog.records if r.levelno > logging.WARNING]


# --- the lock and the skip set, against a real Redis ---------------------------------


class DuePages:
    """The due pages a store would return, and what movers asked of it."""

    def __init__(self, rows):
        self.rows = rows
        self.asked: list[tuple[list[str], str, int]] = []
        self.error: Exception | None = None

    def __call__(self, domains, due_before, limit):
        self.asked.append((list(domains), due_before, limit))
        if self.error is not None:
            raise self.error
        return self.rows[:limit]


class Clock:
    def __init__(self):
        self.now = float(MOVED_AT)

    def __call__(self):
        return self.now


@pytest.fixture
def client(redis_url):
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


@pytest.fixture
def keys(client):
    keys = FrontierKeys(f"lwtest:{uuid.uuid4().hex[:10]}")
    client.sadd(keys.watch, "blog.mysite.test", "other.test")
    yield keys
    for key in client.scan_iter(match=f"{keys.prefix}:*"):
        client.delete(key)


def mover(client, keys, store, clock, batch=10):
    return RecrawlMover(
        client, keys, interval=60, batch=batch, due_pages=store, depth=3, clock=clock
    )


def seeds(client, keys):
    return [parse_seed_entry(raw) for raw in client.lrange(keys.start_urls, 0, -1)]


@pytest.mark.redis
def test_of_two_movers_one_moves_until_it_closes(client, keys):
    store, clock = DuePages([row(f"http://p{i}.test/") for i in range(4)]), Clock()
    a, b = mover(client, keys, store, clock), mover(client, keys, store, clock)
    assert a.move_due() == 4
    assert b.move_due() is None, "the lock is a's"
    assert len(store.asked) == 1
    assert store.asked[0][:2] == (["mysite.test", "other.test"], "2025-01-01T12:00:00Z")
    assert [(s.url, s.depth, s.recrawl) for s in seeds(client, keys)] == [
        (f"http://p{i}.test/", 3, True) for i in range(4)
    ]
    assert 0 < client.pttl(keys.recrawl_lock) <= 120_000  # two intervals
    clock.now += 60
    assert a.move_due() == 0, "a keeps the lock; its pages are still waiting"
    assert b.move_due() is None
    a.release_lock()  # a's spider closes: the lock is given up for b's next round
    assert b.move_due() == 0
    assert a.move_due() is None
    assert len(seeds(client, keys)) == 4, "no page pushed twice"


@pytest.mark.redis
def test_a_lock_expired_and_taken_by_another_is_not_released_by_its_old_holder(client, keys):
    store, clock = DuePages([]), Clock()
    a, b = mover(client, keys, store, clock), mover(client, keys, store, clock)
    assert a.move_due() == 0
    client.delete(keys.recrawl_lock)  # as if it expired
    assert b.move_due() == 0
    a.release_lock()
    assert client.get(keys.recrawl_lock) == b.token.encode()


@pytest.mark.redis
def test_waiting_pages_are_read_past_and_come_back_when_stored_again_or_after_two_rounds(
    client, keys
):
    rows = [row(f"http://p{i}.test/") for i in range(5)]
    store, clock = DuePages(rows), Clock()
    m = mover(client, keys, store, clock, batch=2)
    assert m.move_due() == 2  # p0, p1
    clock.now += 60
    assert m.move_due() == 2  # p2, p3: the store was asked for 2 + the 2 waiting
    assert store.asked[-1][2] == 4
    # p0 was fetched and stored again (and is due again); p1 still waits
    rows[0] = row("http://p0.test/", fetched_at=iso_time(clock.now))
    clock.now += 60
    assert m.move_due() == 2
    assert [s.url for s in seeds(client, keys)][4:] == ["http://p0.test/", "http://p4.test/"]
    # two intervals after its move p1 is pushed again (its seed may have been lost)
    clock.now += 60.5
    assert m.move_due() == 2
    assert [s.url for s in seeds(client, keys)][6:] == ["http://p1.test/", "http://p2.test/"]


@pytest.mark.redis
def test_a_store_error_gives_the_lock_up_and_moves_nothing(client, keys):
    store, clock = DuePages([row("http://p.test/")]), Clock()
    a, b = mover(client, keys, store, clock), mover(client, keys, store, clock)
    store.error = StoreError("cannot open the store", transient=True)
    with pytest.raises(StoreError):
        a.move_due()
    assert client.get(keys.recrawl_lock) is None
    assert seeds(client, keys) == []
    store.error = None
    assert b.move_due() == 1, "the next round, whichever worker's, tries again"


# --- end to end: workers refetch due pages with nobody running anything --------------

# Everything stored is due a second or two after it is fetched.
DUE_FAST = {
    "LINKWATCH_RECRAWL_MIN": "1",
    "LINKWATCH_RECRAWL_INITIAL": "1",
    "LINKWATCH_RECRAWL_MAX": "2",
}


class Where:
    """The store of a cluster: a SQLite file or a MongoDB database."""

    def __init__(self, kind, tmp_path, mongo_uri=None):
        self.kind, self.mongo_uri = kind, mongo_uri
        self.db = tmp_path / "linkwatch.db"
        self.database = f"lwrecrawl_{uuid.uuid4().hex[:12]}"

    def env(self):
        if self.kind == "mongo":
            return {"MONGO_URI": self.mongo_uri, "MONGO_DATABASE": self.database}
        return {"LINKWATCH_DB": str(self.db)}

    def client(self):
        import pymongo

        # Timeouts: a server that stops answering fails the test instead of hanging it.
        return pymongo.MongoClient(
            self.mongo_uri, tz_aware=True, serverSelectionTimeoutMS=5000, socketTimeoutMS=30000
        )

    def edges(self):
        if self.kind == "sqlite":
            return sqlite_edges(self.db)
        with self.client() as mongo:
            rows = list(mongo[self.database].edges.find({}, {"_id": 0}))
        for edge in rows:
            for name in ("first_seen", "last_seen", "lost_at"):
                if isinstance(edge.get(name), datetime):
                    edge[name] = edge[name].strftime("%Y-%m-%dT%H:%M:%SZ")
        return rows

    def drop(self):
        if self.kind == "mongo":
            with self.client() as mongo:
                mongo.drop_database(self.database)


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def where(request, tmp_path):
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    made = Where(request.param, tmp_path, mongo_uri)
    yield made
    made.drop()


def linkwatch(*argv, redis_url, env):
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv, "--redis-url", redis_url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


class Workers:
    """`scrapy crawl backlinks` worker processes of one shared crawl."""

    def __init__(self, env, settings, tmp_path, name):
        self.procs, self.logs = [], []
        for i in range(2):
            path = tmp_path / f"{name}{i}.log"
            self.logs.append(path)
            with path.open("w") as log:
                self.procs.append(
                    subprocess.Popen(crawl_command({}, settings), cwd=ROOT, env=env, stderr=log)
                )

    def wait(self, timeout=150):
        for proc in self.procs:
            proc.wait(timeout=timeout)
        return [proc.returncode for proc in self.procs]

    def stop(self):
        """What an operator's Ctrl-C or `systemctl stop` does: a graceful shutdown."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        return self.wait(timeout=60)

    def kill(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()

    def log(self):
        return "".join(path.read_text() for path in self.logs)


def wait_until(check, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"not within {timeout}s: {what}")


@pytest.mark.e2e
@pytest.mark.redis
def test_cluster_due_pages_re_enter_the_frontier_without_any_command(where, redis_url, tmp_path):
    web = build_web(version=1)
    prefix = f"lwtest:{uuid.uuid4().hex[:8]}"
    linking = {e["source_url"] for e in web.truth_edges}
    client = redis.Redis.from_url(redis_url)
    running: list[Workers] = []
    try:
        with FixtureServer(web, delay=0.01) as fixture:
            env = crawl_env(
                fixture.proxy_url,
                REDIS_URL=redis_url,
                LINKWATCH_REDIS_PREFIX=prefix,
                **where.env(),
            )
            # The crawl: a user seeds it, workers crawl it into the store and stop when idle.
            for argv in (["watch", "add", *web.watch], ["seed", "add", *web.seeds]):
                linkwatch(*argv, redis_url=redis_url, env=env)
            crawl = Workers(env, {**DUE_FAST, "LINKWATCH_CLOSE_WHEN_IDLE": "3"}, tmp_path, "crawl")
            running.append(crawl)
            assert crawl.wait() == [0, 0]
            assert_clean_log(crawl.log())
            assert client.get(f"{prefix}:recrawl_lock") is None, "given up on close"
            stored = where.edges()
            assert_edges_equal(stored, web.truth_edges)
            seen_before = {(e["source_url"], e["target_url"]): e["last_seen"] for e in stored}
            crawled = len(fixture.access_log_entries())
            time.sleep(1.1)  # last_seen is in whole seconds

            # Later: workers run, nobody runs anything; every stored page is due.
            fresh = Workers(env, {**DUE_FAST, "LINKWATCH_RECRAWL_INTERVAL": "1"}, tmp_path, "fresh")
            running.append(fresh)

            def refetched():
                return {
                    e["url"]: e
                    for e in fixture.access_log_entries()[crawled:]
                    if not e["path"].endswith("/robots.txt")
                }

            wait_until(lambda: linking <= set(refetched()), 90, "every linking page refetched")

            def last_seen_moved():
                edges = {(e["source_url"], e["target_url"]): e for e in where.edges()}
                return all(edges[k]["last_seen"] > seen for k, seen in seen_before.items())

            wait_until(last_seen_moved, 60, "the last_seen of every edge moved")
            assert fresh.stop() == [0, 0]
            entries = fixture.access_log_entries()
    finally:
        for workers in running:
            workers.kill()
        for key in client.scan_iter(match=f"{prefix}:*"):
            client.delete(key)
        client.close()
    log = fresh.log()
    assert_clean_log(log)
    moved = [int(n) for n in re.findall(r"moved (\d+) due pages into the frontier", log)]
    assert max(moved, default=0) > 0 and "'linkwatch/recrawl/moved'" in log
    assert "due pages not moved" not in crawl.log() + log
    again = [e for e in entries[crawled:] if not e["path"].endswith("/robots.txt")]
    assert {e["url"] for e in again} <= linking, "a recrawl follows no links"
    assert_edges_equal(where.edges(), web.truth_edges)
    if again and "conditional" in again[0]:
        # The fixture web answers conditional GETs: the recrawls asked with the
        # validators the first crawl stored, and were told 304 Not Modified.
        validated = {e["url"] for e in entries[:crawled] if e["status"] == 200}
        asked = [e for e in again if e["url"] in validated]
        assert asked and all(e["conditional"] for e in asked)
        assert any(e["status"] == 304 for e in asked)
