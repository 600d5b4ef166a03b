"""The Redis frontier's parts against a real Redis: serializer, Bloom filter,
leased per-host queues, seed intake, outage backlog, heartbeats."""

from __future__ import annotations

import pickle
import time
import uuid

import pytest
import redis
import scrapy

from crawler.frontier import serializer
from crawler.frontier.bloom import ScalableBloomFilter, layer_size, url_hashes
from crawler.frontier.connection import mask_url
from crawler.frontier.heartbeat import LIVE_SECONDS, Heartbeat, worker_rows
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.outage import OutageBacklog
from crawler.frontier.queue import HostQueue, Politeness, queue_key
from crawler.frontier.seeding import parse_seed_entry

pytestmark = pytest.mark.redis


class FakeSpider(scrapy.Spider):
    name = "backlinks"

    def parse(self, response):
        pass

    def fetch_failed(self, failure):
        pass


@pytest.fixture
def client(redis_url):
    c = redis.Redis.from_url(redis_url)
    yield c
    c.close()


@pytest.fixture
def keys(client):
    keys = FrontierKeys(f"lwtest:{uuid.uuid4().hex[:10]}")
    yield keys
    for key in client.scan_iter(match=f"{keys.prefix}:*"):
        client.delete(key)


def make_queue(client, keys, **politeness):
    ScalableBloomFilter(client, keys.bloom, capacity=1000, error_rate=1e-6)
    return HostQueue(
        client,
        FakeSpider(),
        keys.prefix,
        serializer,
        keys=keys,
        politeness=Politeness(**politeness),
    )


def entry(queue, url, check=True):
    request = scrapy.Request(url, callback=FakeSpider().parse, meta={"depth": 1})
    return (check, queue_key(url, queue.politeness.key), queue._encode_request(request), url)


def robots_known(client, keys, *hosts):
    """What the robots middleware writes once it has a host's robots.txt."""
    for host in hosts:
        client.hset(keys.robots, host, b'{"status": 200}')


# --- serializer -------------------------------------------------------------------


def test_serializer_round_trips_a_request():
    spider = FakeSpider()
    request = scrapy.Request(
        "http://a.test/x?q=1",
        callback=spider.parse,
        errback=spider.fetch_failed,
        method="POST",
        body=b"\x00\xffbin",
        headers={"X-Test": "v"},
        meta={"depth": 2, "linkwatch_lease": None},
        priority=-2,
        dont_filter=True,
    )
    from scrapy.utils.request import request_from_dict

    back = request_from_dict(
        serializer.loads(serializer.dumps(request.to_dict(spider=spider))), spider=spider
    )
    assert (back.url, back.method, back.body, back.priority, back.dont_filter) == (
        request.url,
        "POST",
        b"\x00\xffbin",
        -2,
        True,
    )
    assert back.headers[b"X-Test"] == b"v"
    assert back.meta["depth"] == 2
    assert back.callback == spider.parse and back.errback == spider.fetch_failed


def test_queued_requests_are_encoded_as_scrapy_would_without_its_method_search(client, keys):
    spider = FakeSpider()
    queue = make_queue(client, keys)
    request = scrapy.Request(
        "http://a.test/x",
        callback=FakeSpider().parse,  # another instance's method, as Scrapy allows
        errback=spider.fetch_failed,
        headers={"X-Test": "v"},
        meta={"depth": 3},
        priority=-3,
    )
    assert queue._encode_request(request) == serializer.dumps(request.to_dict(spider=queue.spider))

    def elsewhere(response):
        pass

    with pytest.raises(ValueError, match="not a method of the spider"):
        queue._encode_request(scrapy.Request("http://a.test/y", callback=elsewhere))


@pytest.mark.parametrize(
    "payload",
    [
        pickle.dumps({"url": "http://a.test/", "callback": "parse"}),
        b"not json",
        b"[1, 2]",
        b'{"nourl": 1}',
        b'{"url": "http://a.test/", "meta": [1]}',
        b'{"url": "http://a.test/", "callback": 5}',
    ],
)
def test_serializer_refuses_anything_but_its_json(payload):
    with pytest.raises(ValueError):
        serializer.loads(payload)


def test_serializer_never_names_a_class_to_load():
    # request_from_dict would import whatever "_class" names; ours never passes it on.
    data = serializer.loads(b'{"url": "http://a.test/", "_class": "os.system"}')
    assert "_class" not in data


# --- Bloom filter ---------------------------------------------------------------


def test_layer_size_matches_the_textbook_formula():
    bits, hashes = layer_size(1_000_000, 1e-6)
    assert 28.7 < bits / 1_000_000 < 28.9  # -ln(p)/ln(2)^2 bits per element
    assert hashes == 20


def test_hashes_are_stable_and_46_bit():
    h1, h2 = url_hashes("http://a.test/")
    assert (h1, h2) == url_hashes("http://a.test/")
    assert 0 <= h1 < 2**46 and 0 < h2 < 2**46 and h2 % 2 == 1


def test_bloom_remembers_and_grows_with_a_bounded_error_rate(client, keys):
    bloom = ScalableBloomFilter(client, keys.bloom, capacity=500, error_rate=1e-3)
    urls = [f"http://a.test/{i}" for i in range(3000)]
    added = bloom.add_many(urls)
    # A false positive is possible while adding (a new URL taken as seen), rarely.
    assert sum(added) >= 2990
    assert bloom.add_many(urls[:500]) == [False] * 500
    assert bloom.layers() >= 3  # outgrew 500, then 1000
    fresh = [f"http://b.test/{i}" for i in range(20000)]
    false_positives = sum(not new for new in bloom.add_many(fresh))
    assert false_positives <= 20000 * 1e-3 * 2  # bound p, with slack for chance


def test_bloom_keeps_the_sizes_it_started_with(client, keys):
    ScalableBloomFilter(client, keys.bloom, capacity=100, error_rate=1e-3)
    again = ScalableBloomFilter(client, keys.bloom, capacity=10**9, error_rate=0.5)
    assert client.hget(f"{keys.bloom}:meta", "capacity") == b"100"
    assert again.add("http://x.test/") is True


# --- leased host queues -----------------------------------------------------------------


def test_new_urls_are_queued_once(client, keys):
    queue = make_queue(client, keys)
    e = entry(queue, "http://a.test/1")
    assert queue.enqueue([e, e, entry(queue, "http://a.test/2")]) == [True, False, True]
    assert queue.enqueue([entry(queue, "http://a.test/1", check=False)]) == [True]  # dont_filter
    assert len(queue) == 3


def test_one_host_is_leased_to_one_worker_at_a_time(client, keys):
    queue = make_queue(client, keys)
    queue.enqueue(
        [entry(queue, f"http://a.test/{i}") for i in range(3)] + [entry(queue, "http://b.test/1")]
    )
    leases, *_ = queue.lease(10)
    assert sorted(lease.host for lease in leases) == ["a.test", "b.test"]
    assert queue.lease(10)[0] == []  # a.test is busy, b.test empty
    a = next(lease for lease in leases if lease.host == "a.test")
    assert queue.release(a.token) is True
    assert queue.release(a.token) is False  # released once only
    [again], *_ = queue.lease(10)
    assert again.host == "a.test"


def test_a_host_with_free_slots_fills_the_room_in_one_call_after_one_per_host(client, keys):
    queue = make_queue(client, keys, host_concurrency=3)
    robots_known(client, keys, "a.test", "b.test")
    queue.enqueue(
        [entry(queue, f"http://a.test/{i}") for i in range(5)] + [entry(queue, "http://b.test/1")]
    )
    leases, *_ = queue.lease(2)
    assert sorted(lease.host for lease in leases) == ["a.test", "b.test"]  # one per host first
    leases, *_ = queue.lease(10)
    assert [lease.host for lease in leases] == ["a.test", "a.test"]  # a.test's free slots
    assert queue.lease(10)[0] == []  # 3 of a.test downloading: its limit


def test_sync_queues_releases_and_acknowledges_before_it_leases(client, keys):
    queue = make_queue(client, keys)
    queue.enqueue([entry(queue, "http://a.test/1")])
    [first], *_ = queue.lease(5)
    found = [entry(queue, "http://a.test/2"), entry(queue, "http://a.test/1")]
    new, acked, (leases, *_) = queue.sync(found, [first.token], [first.token], 5)
    # /1 was seen already; a.test was freed in the same call, so /2 is leased at once
    assert (new, acked) == (1, 1)
    assert [serializer.loads(lease.payload)["url"] for lease in leases] == ["http://a.test/2"]
    assert client.zcard(keys.leases) == 1 and len(queue) == 0
    assert queue.sync([], [], [], 0) == (0, 0, None)


def test_host_delay_holds_a_host_back(client, keys):
    queue = make_queue(client, keys, host_delay=0.3)
    queue.enqueue([entry(queue, f"http://a.test/{i}") for i in range(2)])
    [first], *_ = queue.lease(5)
    queue.release(first.token)
    leases, next_ready, waiting, _ = queue.lease(5)
    assert leases == [] and waiting == 1
    assert next_ready is not None and next_ready > time.time()
    time.sleep(0.35)
    assert len(queue.lease(5)[0]) == 1


def test_a_host_whose_robots_txt_is_unknown_is_leased_one_at_a_time(client, keys):
    queue = make_queue(client, keys, host_concurrency=3)
    queue.enqueue([entry(queue, f"http://a.test/{i}") for i in range(5)])
    assert len(queue.lease(10)[0]) == 1  # the request that fetches robots.txt
    leases, _, waiting, _ = queue.lease(10)
    assert leases == [] and waiting == 4
    # The robots middleware has it: the host is ready at once, at its full limit.
    robots_known(client, keys, "a.test")
    assert queue.host_known("a.test") == 1
    leases, *_ = queue.lease(10)
    assert [lease.host for lease in leases] == ["a.test", "a.test"]  # 3 at once now
    assert queue.host_known("a.test") == 0  # already ready or full: nothing to do
    assert queue.lease(10)[0] == []


def test_host_known_alone_marks_a_queue_whose_robots_entry_is_keyed_otherwise(client, keys):
    # Politeness key "domain": the queue is the registered domain, while the
    # robots entries are per host; host_known(queue) is what lifts the limit.
    queue = make_queue(client, keys, host_concurrency=2, key="domain")
    queue.enqueue([entry(queue, "http://www.a.test/1"), entry(queue, "http://blog.a.test/2")])
    assert len(queue.lease(10)[0]) == 1
    robots_known(client, keys, "www.a.test")
    assert queue.lease(10)[0] == []
    assert queue.host_known("a.test") == 1
    [second], *_ = queue.lease(10)
    assert serializer.loads(second.payload)["url"] == "http://blog.a.test/2"


def test_a_crawl_delay_host_is_leased_one_at_a_time_d_seconds_after_each_release(client, keys):
    queue = make_queue(client, keys, host_concurrency=3)
    robots_known(client, keys, "a.test", "b.test")
    client.hset(keys.host_delays, "a.test", "0.4")
    queue.enqueue([entry(queue, f"http://a.test/{i}") for i in range(3)])
    queue.enqueue([entry(queue, f"http://b.test/{i}") for i in range(3)])
    leases, *_ = queue.lease(10)
    assert sorted(lease.host for lease in leases) == ["a.test", "b.test", "b.test", "b.test"]
    assert queue.host_known("a.test") == 0  # still one at a time
    time.sleep(0.45)  # the delay counts from the end of the download, not its start
    [a] = [lease for lease in leases if lease.host == "a.test"]
    released = time.time()
    queue.release(a.token)
    leases, next_ready, waiting, _ = queue.lease(10)
    assert leases == [] and waiting == 2
    assert next_ready == pytest.approx(released + 0.4, abs=0.05)
    time.sleep(max(0.0, next_ready - time.time()) + 0.02)
    assert [lease.host for lease in queue.lease(10)[0]] == ["a.test"]  # one, not the two left


def test_a_crawl_delay_holds_for_a_request_queued_after_the_release(client, keys):
    queue = make_queue(client, keys, host_concurrency=2)
    robots_known(client, keys, "a.test")
    client.hset(keys.host_delays, "a.test", "0.3")
    queue.enqueue([entry(queue, "http://a.test/1")])
    [first], *_ = queue.lease(5)
    queue.release(first.token)  # the queue is empty: nothing is made ready
    queue.enqueue([entry(queue, "http://a.test/2")])  # a link found afterwards
    leases, next_ready, *_ = queue.lease(5)
    assert leases == [] and next_ready > time.time() + 0.2
    time.sleep(0.32)
    assert len(queue.lease(5)[0]) == 1


@pytest.mark.parametrize(("host_delay", "crawl_delay"), [(0.1, "0.4"), (0.4, "0.1")])
def test_the_longer_of_host_delay_and_crawl_delay_holds(client, keys, host_delay, crawl_delay):
    queue = make_queue(client, keys, host_concurrency=2, host_delay=host_delay)
    robots_known(client, keys, "a.test")
    client.hset(keys.host_delays, "a.test", crawl_delay)
    queue.enqueue([entry(queue, f"http://a.test/{i}") for i in range(2)])
    [first], *_ = queue.lease(5)
    released = time.time()
    queue.release(first.token)
    leases, next_ready, *_ = queue.lease(5)
    assert leases == [] and next_ready == pytest.approx(released + 0.4, abs=0.05)


def test_the_domain_politeness_key_queues_a_domains_hosts_together(client, keys):
    assert queue_key("http://blog.a.co.uk/x", "domain") == "a.co.uk"
    assert queue_key("http://blog.a.co.uk/x", "host") == "blog.a.co.uk"
    assert queue_key("http://blog.a.co.uk/x", "ip") == "blog.a.co.uk"
    queue = make_queue(client, keys, key="domain")
    queue.push(scrapy.Request("http://www.a.test/1", callback=FakeSpider().parse))
    queue.enqueue([entry(queue, "http://blog.a.test/2"), entry(queue, "http://b.test/")])
    assert client.llen(keys.host_queue("a.test")) == 2
    leases, *_ = queue.lease(10)
    assert sorted(lease.host for lease in leases) == ["a.test", "b.test"]  # one per domain
    assert queue.lease(10)[0] == []


def test_ack_ends_a_lease_and_expired_leases_come_back(client, keys):
    queue = make_queue(client, keys, lease_seconds=0.2)
    queue.enqueue([entry(queue, "http://a.test/1"), entry(queue, "http://b.test/1")])
    leases, *_ = queue.lease(5)
    done = next(lease for lease in leases if lease.host == "a.test")
    assert queue.ack([done.token]) == 1
    assert queue.ack([done.token]) == 0  # a late ack is harmless
    time.sleep(0.25)
    assert queue.reap() == 1  # b.test's worker "died"
    [back], *_ = queue.lease(5)
    assert (
        back.host == "b.test"
        and back.payload == next(x for x in leases if x.host == "b.test").payload
    )
    assert client.zcard(keys.leases) == 1


def test_extend_keeps_a_live_workers_lease(client, keys):
    queue = make_queue(client, keys, lease_seconds=0.3)
    queue.enqueue([entry(queue, "http://a.test/1")])
    [lease], *_ = queue.lease(1)
    time.sleep(0.2)
    assert queue.extend([lease.token]) == 1
    time.sleep(0.2)
    assert queue.reap() == 0


def test_a_page_that_kills_every_worker_ends_on_the_dead_list(client, keys):
    queue = make_queue(client, keys, lease_seconds=0.05, max_attempts=3)
    queue.enqueue([entry(queue, "http://a.test/poison")])
    for _ in range(3):
        assert len(queue.lease(1)[0]) == 1
        time.sleep(0.08)
        queue.reap()
    assert queue.lease(1)[0] == []
    assert client.llen(keys.dead) == 1 and len(queue) == 0


def test_give_back_requeues_at_once_without_counting_an_attempt(client, keys):
    queue = make_queue(client, keys, max_attempts=1)
    queue.enqueue([entry(queue, "http://a.test/1")])
    [lease], *_ = queue.lease(1)
    assert queue.give_back([lease.token]) == 1
    [again], *_ = queue.lease(1)
    assert again.payload == lease.payload and client.llen(keys.dead) == 0


def test_intake_takes_valid_seeds_and_drops_malformed_ones(client, keys):
    queue = make_queue(client, keys)
    client.rpush(keys.start_urls, b"good", b"bad")
    good = entry(queue, "http://a.test/")
    taken = queue.intake(
        [
            (b"good", "a.test", True, good[1], good[2], good[3]),
            (b"bad", "", False, "", b"", ""),
        ]
    )
    assert taken == 1
    assert client.llen(keys.start_urls) == 0
    assert client.smembers(keys.domains) == {b"a.test"}
    # Taking the same raw entry again (another worker read it too) queues nothing.
    assert queue.intake([(b"good", "a.test", True, good[1], good[2], good[3])]) == 0
    assert len(queue) == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"http://a.test/", ("http://a.test/", 0, False)),
        (b'{"url": "b.test", "depth": 2, "recrawl": true}', ("b.test", 2, True)),
    ],
)
def test_seed_entries(raw, expected):
    seed = parse_seed_entry(raw)
    assert (seed.url, seed.depth, seed.recrawl) == expected


@pytest.mark.parametrize(
    "raw", [b"", b"two words", b"{bad json", b'{"url": 5}', b'{"url": "a.test", "depth": -1}']
)
def test_malformed_seed_entries(raw):
    with pytest.raises(ValueError):
        parse_seed_entry(raw)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("redis://:s3cret@host:6379/0", "redis://***@host:6379/0"),
        ("rediss://user:s3cret@host:6380/0", "rediss://user:***@host:6380/0"),
        ("mongodb://u:p@h1,h2/?tls=true", "mongodb://u:***@h1,h2/?tls=true"),
        ("redis://host:6379/0", "redis://host:6379/0"),
        ("redis://:pw@host:6379/0?password=qpw&db=1", "redis://***@host:6379/0?password=***&db=1"),
    ],
)
def test_credentials_are_masked(url, masked):
    assert mask_url(url) == masked


# --- outages and heartbeats -------------------------------------------------------


def test_calls_that_fail_in_an_outage_are_replayed_in_order(caplog):
    down = True
    done = []

    def call(name):
        def run():
            if down:
                raise redis.ConnectionError("refused")
            done.append(name)

        return run

    backlog = OutageBacklog()
    backlog.run("first", call("first"))
    backlog.run("second", call("second"))  # waits behind the first even if it could run
    assert len(backlog) == 2
    with pytest.raises(redis.ConnectionError):
        backlog.replay()
    assert len(backlog) == 2
    down = False
    backlog.replay()
    backlog.recovered()
    assert done == ["first", "second"] and len(backlog) == 0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis unavailable" in m for m in messages) == 1
    assert sum("Redis available again" in m for m in messages) == 1


def test_a_heartbeat_is_what_status_reads(client, keys):
    heartbeat = Heartbeat(client, keys, worker="w:1", interval=1.0, leases=lambda: 3)
    heartbeat.item_scraped({"url": "http://a.test/", "edges": [{}, {}]})
    heartbeat.beat()
    heartbeat.beat()  # counts are added to the crawl's stats once
    [row] = worker_rows(client.hgetall(keys.workers), time.time())
    assert (row["worker"], row["state"], row["pages"], row["edges"], row["leases"]) == (
        "w:1",
        "live",
        1,
        2,
        3,
    )
    assert client.hgetall(keys.stats) == {b"pages_stored": b"1", b"edges_stored": b"2"}
    heartbeat.beat(stopped=True)
    [row] = worker_rows(client.hgetall(keys.workers), time.time() + LIVE_SECONDS + 1)
    assert row["state"] == "stopped"
