"""The shared crawl's expansion (crawler/frontier/expansion.py), against the embedded one."""

from __future__ import annotations

import threading
import time

import pytest
import redis

from bench.discovery_sim import Simulator
from bench.discovery_web import DiscoveryWeb
from crawler.discovery import DenyList, ExpansionLimits, OutLink, PageEvidence, Provenance
from crawler.frontier.expansion import SharedDiscovery

pytestmark = pytest.mark.redis


# Keys of these tests only: the Redis may be a user's own (REDIS_URL), never flushed.
P = "linkwatch-test-discovery"


def _clear(c: redis.Redis) -> None:
    for key in c.scan_iter(f"{P}:*"):
        c.delete(key)


@pytest.fixture
def client(redis_url):
    c = redis.Redis.from_url(redis_url)
    _clear(c)
    yield c
    _clear(c)
    c.close()


def shared(client, seeds=("seed.org",), hops=2, **kwargs) -> SharedDiscovery:
    client.sadd(f"{P}:domains", *seeds)
    limits = ExpansionLimits(hops=hops, max_domains=kwargs.pop("max_domains", 1000))
    kwargs.setdefault("active", 10_000)
    return SharedDiscovery(client, P, f"{P}:domains", ["mysite.com"], limits, **kwargs)


def page(url: str, *targets: str, cites: bool = False) -> PageEvidence:
    domain = url.split("/")[2]
    return PageEvidence(url, domain, tuple(OutLink(t, t.split("/")[2]) for t in targets), cites)


def test_observe_and_claim_follow_the_embedded_rules(client):
    x = shared(client, deny=DenyList(["social.com"]))
    x.observe(
        page("http://seed.org/", "http://a.org/p", "http://mysite.com/", "http://social.com/")
    )
    x.observe(page("http://seed.org/links", "http://b.org/", cites=True))
    x.observe(page("http://stranger.org/", "http://c.org/"))  # not in the crawl: ignored
    first = x.next()
    assert first is not None and first.domain == "b.org"  # co-cited with the watched domain
    assert first.provenance == Provenance("b.org", "http://seed.org/links", "seed.org", 1, 1)
    x.observe(page("http://b.org/", "http://d.org/x", cites=True))
    second, third = x.next(), x.next()
    assert second is not None and third is not None
    # d.org: hop 2, linked from a referring site next to the watched domain;
    # a.org: hop 1, nothing else (seed.org was not given as referring).
    assert [second.domain, third.domain] == ["d.org", "a.org"]
    assert second.provenance.hop == 2
    assert third.entries == ("http://a.org/", "http://a.org/p")
    assert x.next() is None
    assert [p.domain for p in x.discovered()] == ["b.org"]
    assert set(x.provenance()) == {"a.org", "b.org", "d.org"}


def test_max_domains_and_hops_hold_for_the_whole_crawl(client):
    x = shared(client, hops=1, max_domains=2)
    x.observe(page("http://seed.org/", "http://a.org/", "http://b.org/", "http://c.org/"))
    assert x.next() is not None
    x.observe(page("http://a.org/", "http://z.org/"))  # hop 2: beyond expand=1
    assert x.next() is not None
    assert x.next() is None
    assert "z.org" not in {p.domain for p in x.provenance().values()}


def test_workers_never_claim_the_same_site(client, redis_url):
    x = shared(client)
    x.observe(page("http://seed.org/", *(f"http://s{k}.org/" for k in range(200))))
    claimed: list[str] = []

    def worker() -> None:
        server = redis.Redis.from_url(redis_url)
        mine = SharedDiscovery(server, P, f"{P}:domains", ["mysite.com"], x.limits, active=10_000)
        while (nxt := mine.next()) is not None:
            claimed.append(nxt.domain)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(f"s{k}.org" for k in range(200))


@pytest.mark.parametrize("strategy", ["focused", "bfs"])
def test_the_shared_expansion_crawls_like_the_embedded_one(client, strategy):
    web = DiscoveryWeb(domains=150, seed=5)
    sim = Simulator(web)
    limits = ExpansionLimits(hops=2, depth=1, pages=50)
    budget = web.fetchable_pages() // 4
    embedded = sim.run(strategy, budget=budget, limits=limits)
    client.sadd(f"{P}:domains", *web.seeds)
    # The simulator keeps its own 8 sites at once: no limit here.
    x = SharedDiscovery(client, P, f"{P}:domains", web.watch, limits, strategy, active=10_000)
    x.add_referring(web.seeds)
    in_redis = sim.run(strategy, budget=budget, limits=limits, policy=x)
    assert in_redis.curve == embedded.curve
    assert in_redis.expanded == embedded.expanded


def test_sites_expanded_at_once_hold_for_the_whole_crawl_until_they_go_quiet(client):
    x = shared(client, active=2, idle=0.3)
    client.set(f"{P}:queued", 7)  # requests wait in the frontier
    x.observe(page("http://seed.org/", *(f"http://s{k}.org/" for k in range(6))))
    assert [x.next(), x.next()] != [None, None]
    assert x.next() is None  # two sites being crawled
    time.sleep(0.2)
    x.observe(page("http://s0.org/"))  # s0.org is still busy, s1.org is not
    time.sleep(0.15)
    third = x.next()
    assert third is not None and third.domain == "s2.org"
    assert x.next() is None
    client.set(f"{P}:queued", 0)  # nothing waits: the crawl must not idle
    fourth = x.next()
    assert fourth is not None and fourth.domain == "s3.org"
