"""A shared crawl end to end: several real `scrapy crawl backlinks` workers share
one Redis frontier over the fixture web. Each test owns its Redis (started on a
free port) so that it can kill or restart it."""

from __future__ import annotations

import collections
import pickle
import signal
import subprocess
import sys
import time

import orjson
import pytest

from crawler.testing import servers
from crawler.testing.fixtureweb import FixtureServer, build_web, max_concurrency
from tests.support.crawling import (
    ROOT,
    assert_clean_log,
    assert_edges_equal,
    crawl_command,
    crawl_env,
    sqlite_edges,
)

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

PREFIX = "linkwatch:backlinks"


@pytest.fixture(scope="module")
def web():
    return build_web(version=1)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis only this test uses (AOF on), so it may be stopped and restarted."""
    try:
        server = servers.RedisServer().start()
    except servers.ServerUnavailable as exc:
        if servers.os.environ.get("CI"):
            pytest.fail(str(exc), pytrace=False)
        pytest.skip(str(exc))
    with server:
        yield server


def linkwatch(*argv, redis_url):
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv, "--redis-url", redis_url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout


class Cluster:
    """Worker processes of one shared crawl, and what they left behind."""

    def __init__(self, web, redis_url, proxy_url, tmp_path, settings=None):
        self.web, self.redis_url, self.tmp = web, redis_url, tmp_path
        self.db = tmp_path / "linkwatch.db"
        self.env = crawl_env(proxy_url, LINKWATCH_DB=str(self.db), REDIS_URL=redis_url)
        self.settings = {"LINKWATCH_CLOSE_WHEN_IDLE": "3", **(settings or {})}
        self.workers: list[subprocess.Popen] = []

    def seed(self):
        """What a user does: the watch list and the seeds, through `linkwatch`."""
        linkwatch("watch", "add", *self.web.watch, redis_url=self.redis_url)
        linkwatch("seed", "add", *self.web.seeds, redis_url=self.redis_url)

    def start(self, n):
        for i in range(len(self.workers), len(self.workers) + n):
            log = open(self.tmp / f"worker{i}.log", "w")  # noqa: SIM115 (closed by the process end)
            self.workers.append(
                subprocess.Popen(
                    crawl_command({}, self.settings), cwd=ROOT, env=self.env, stderr=log
                )
            )

    def status(self):
        return orjson.loads(linkwatch("status", "--format", "json", redis_url=self.redis_url))

    def wait_for_pages(self, pages, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status()["pages_stored"] >= pages:
                return
            time.sleep(0.2)
        raise AssertionError(f"fewer than {pages} pages stored after {timeout}s")

    def wait(self, timeout=150):
        for worker in self.workers:
            worker.wait(timeout=timeout)
        return [w.returncode for w in self.workers]

    def log(self, i):
        return (self.tmp / f"worker{i}.log").read_text()

    def kill_all(self):
        for worker in self.workers:
            if worker.poll() is None:
                worker.kill()


def kill_holding_leases(workers, client, timeout=30):
    """SIGKILL one of `workers` at a moment it holds leases; returns (its index,
    the URLs of the requests it held leased).

    The workers are frozen (SIGSTOP) while leases are read, so none can be
    acknowledged between the reading and the kill. Any worker will do: which one
    leases a host is a race (a worker that frees a host often takes it again)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for worker in workers:
            worker.send_signal(signal.SIGSTOP)
        held = collections.defaultdict(set)
        for key in client.scan_iter(match=f"{PREFIX}:lease:*"):
            owner, payload = client.hmget(key, "worker", "payload")
            if owner and payload:
                held[owner.rpartition(b":")[2]].add(orjson.loads(payload)["url"])
        holder = next((i for i, w in enumerate(workers) if held[str(w.pid).encode()]), None)
        if holder is not None:
            workers[holder].send_signal(signal.SIGKILL)
        for worker in workers:
            worker.send_signal(signal.SIGCONT)
        if holder is not None:
            return holder, held[str(workers[holder].pid).encode()]
        time.sleep(0.05)
    raise AssertionError("no worker ever held a lease")


def page_fetches(entries):
    """Canonical page URL -> times fetched (robots.txt excluded: each worker reads it)."""
    return collections.Counter(e["url"] for e in entries if not e["path"].endswith("/robots.txt"))


@pytest.fixture
def cluster_factory(web, tmp_path):
    made = []

    def make(redis_url, proxy_url, settings=None):
        cluster = Cluster(web, redis_url, proxy_url, tmp_path, settings)
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        cluster.kill_all()


def test_three_workers_store_the_ground_truth_and_fetch_no_page_twice(
    web, own_redis, cluster_factory
):
    with FixtureServer(web, delay=0.01) as fixture:
        cluster = cluster_factory(own_redis.url, fixture.proxy_url)
        cluster.seed()
        cluster.start(3)
        cluster.wait_for_pages(10)
        running = cluster.status()
        assert cluster.wait() == [0, 0, 0]
        fetched = fixture.access_log_entries()
    assert running["live_workers"] == 3
    assert running["watched_domains"] == len(web.watch)
    for i in range(3):
        assert_clean_log(cluster.log(i))
    assert_edges_equal(sqlite_edges(cluster.db), web.truth_edges)
    twice = [url for url, n in page_fetches(fetched).items() if n > 1]
    assert not twice, f"fetched more than once: {twice[:5]}"
    assert set(max_concurrency(fetched).values()) == {1}
    final = cluster.status()
    assert final["queued"] == 0 and final["leased"] == 0 and final["seeds_waiting"] == 0
    import sqlite3

    with sqlite3.connect(cluster.db) as db:
        (pages,) = db.execute("SELECT COUNT(*) FROM pages").fetchone()
    assert final["pages_stored"] == pages
    assert final["edges_stored"] == len(web.truth_edges)


def test_a_killed_worker_loses_nothing(web, own_redis, cluster_factory):
    # Slow pages, so the crawl is surely mid-way when a worker is killed.
    with FixtureServer(web, delay=0.25) as fixture:
        cluster = cluster_factory(
            own_redis.url, fixture.proxy_url, {"LINKWATCH_LEASE_SECONDS": "3"}
        )
        cluster.seed()
        cluster.start(3)
        cluster.wait_for_pages(10)
        killed, held = kill_holding_leases(cluster.workers, own_redis.client())
        codes = cluster.wait()
        fetched = fixture.access_log_entries()
    assert codes == [-signal.SIGKILL if i == killed else 0 for i in range(3)]
    assert_edges_equal(sqlite_edges(cluster.db), web.truth_edges)
    # Only pages whose leases the dead worker held are fetched again. That is
    # not only its downloads in flight: a page downloaded and waiting for the
    # store's next batch keeps its lease too (a lease is acknowledged only once
    # the page is stored), so it comes back as well. Nothing else may.
    twice = {url for url, n in page_fetches(fetched).items() if n > 1}
    assert held
    assert twice <= held, sorted(twice - held)
    assert "requeued" in "".join(cluster.log(i) for i in range(3) if i != killed)


def test_a_redis_restart_mid_crawl_loses_nothing(web, own_redis, cluster_factory):
    with FixtureServer(web, delay=0.05) as fixture:
        cluster = cluster_factory(own_redis.url, fixture.proxy_url)
        cluster.seed()
        cluster.start(2)
        cluster.wait_for_pages(25)
        own_redis.stop()
        time.sleep(3)
        own_redis.start()
        assert cluster.wait() == [0, 0]
    logs = cluster.log(0) + cluster.log(1)
    assert "Redis unavailable" in logs and "Redis available again" in logs
    assert_edges_equal(sqlite_edges(cluster.db), web.truth_edges)


def test_per_host_politeness_holds_across_workers(web, own_redis, cluster_factory):
    with FixtureServer(web, delay=0.03) as fixture:
        cluster = cluster_factory(
            own_redis.url,
            fixture.proxy_url,
            {"LINKWATCH_HOST_CONCURRENCY": "1", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"},
        )
        cluster.seed()
        cluster.start(3)
        assert cluster.wait() == [0, 0, 0]
        fetched = fixture.access_log_entries()
    per_host = max_concurrency(fetched)
    assert max(per_host.values()) == 1, per_host


def test_malformed_and_pickled_entries_are_skipped_not_loaded(
    web, own_redis, cluster_factory, tmp_path
):
    canary = tmp_path / "pickle-ran"

    class Exploit:
        def __reduce__(self):
            return (open, (str(canary), "w"))

    client = own_redis.client()
    host = "www.alpha.test"
    client.rpush(f"{PREFIX}:q:{host}", pickle.dumps(Exploit()), b"{not json", b'{"url": 7}')
    client.incrby(f"{PREFIX}:queued", 3)
    client.zadd(f"{PREFIX}:ready", {host: 0})
    client.rpush(f"{PREFIX}:start_urls", b"two words", b"{broken", b'{"url": "ftp://x.test/"}')
    with FixtureServer(web) as fixture:
        cluster = cluster_factory(own_redis.url, fixture.proxy_url)
        cluster.seed()
        cluster.start(1)
        assert cluster.wait() == [0]
    log = cluster.log(0)
    assert not canary.exists(), "a pickle payload from Redis was unpickled"
    assert log.count("dropped a malformed queue entry") == 3
    assert log.count("dropped a malformed seed entry") == 3
    assert "Traceback" not in log
    assert_edges_equal(sqlite_edges(cluster.db), web.truth_edges)


def test_the_domain_politeness_key_holds_a_domains_hosts_together_across_workers(
    web, own_redis, cluster_factory
):
    from crawler.domains import registered_domain

    with FixtureServer(web, delay=0.03) as fixture:
        cluster = cluster_factory(
            own_redis.url,
            fixture.proxy_url,
            {
                "LINKWATCH_POLITENESS_KEY": "domain",
                "LINKWATCH_HOST_CONCURRENCY": "1",
                "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
            },
        )
        cluster.seed()
        cluster.start(3)
        assert cluster.wait() == [0, 0, 0]
        fetched = fixture.access_log_entries()
    assert_edges_equal(sqlite_edges(cluster.db), web.truth_edges)
    # www., blog. and shop.alpha.test share one queue: one download at a time in
    # the whole cluster (robots.txt fetches are not leased: left out).
    pages = [
        {**e, "host": registered_domain(e["host"])}
        for e in fetched
        if not e["path"].endswith("/robots.txt")
    ]
    per_domain = max_concurrency(pages)
    assert per_domain["alpha.test"] == 1 and max(per_domain.values()) == 1, per_domain
