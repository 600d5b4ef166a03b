"""What the shared frontier's queues and leases cost in Redis memory, for the
deploy guide's sizing table (deploy/README.md, "Sizing Redis memory").

Run by the seen-set benchmark (bench/seenset.py) on its redis-server: requests
built and encoded as a crawl builds them (crawler.frontier, a spider callback,
a depth in meta; URLs of ~60 characters) are queued, then leased, and
`used_memory` (INFO memory) is read before and after each step:

- per queued request: REQUESTS requests over HOSTS hosts, divided by REQUESTS;
- per host: one request on each of MANY_HOSTS hosts, less a queued request;
- per lease: every queued request leased (its payload moves from the host
  queue into the lease), the change divided by the leases, plus the request.
"""

from __future__ import annotations

import uuid
from typing import Any

import scrapy

from crawler.frontier import serializer
from crawler.frontier.bloom import ScalableBloomFilter
from crawler.frontier.keys import FrontierKeys
from crawler.frontier.queue import HostQueue, Politeness

REQUESTS = 20_000
HOSTS = 200
MANY_HOSTS = 10_000


class _Spider(scrapy.Spider):
    name = "backlinks"

    def parse(self, response: Any) -> None:  # the callback queued requests name
        pass

    def fetch_failed(self, failure: Any) -> None:
        pass


def _used(client: Any) -> int:
    return int(client.info("memory")["used_memory"])


def _queue(client: Any) -> HostQueue:
    keys = FrontierKeys(f"sizing:{uuid.uuid4().hex[:8]}")
    ScalableBloomFilter(client, keys.bloom, capacity=1000, error_rate=1e-6)
    return HostQueue(
        client,
        _Spider(),
        keys.prefix,
        serializer,
        keys=keys,
        # every request of a host may be leased at once, so one call leases all
        politeness=Politeness(host_concurrency=REQUESTS),
    )


def _fill(queue: HostQueue, count: int, hosts: int) -> None:
    spider = queue.spider
    entries = []
    for i in range(count):
        host = f"docs{i % hosts}.example.test"
        url = f"https://{host}/docs/15/section-{i}/page-{i}.html"
        request = scrapy.Request(
            url, callback=spider.parse, errback=spider.fetch_failed, meta={"depth": 2}
        )
        entries.append((False, host, queue._encode_request(request), url))
    for start in range(0, len(entries), 1000):
        queue.enqueue(entries[start : start + 1000])


def measure(client: Any) -> dict[str, float]:
    """Bytes per queued request, per host with requests, per leased request."""
    client.flushall()
    queue = _queue(client)
    before = _used(client)
    _fill(queue, REQUESTS, HOSTS)
    per_request = (_used(client) - before) / REQUESTS
    # Hosts whose robots.txt is known, as in a running crawl: an unknown host is
    # leased one request at a time, and this measurement leases every request.
    queue.host_known(*(f"docs{i}.example.test" for i in range(HOSTS)))
    before = _used(client)
    leased = 0
    while leases := queue.lease(REQUESTS)[0]:
        leased += len(leases)
    per_lease = (_used(client) - before) / leased + per_request
    client.flushall()
    queue = _queue(client)
    before = _used(client)
    _fill(queue, MANY_HOSTS, MANY_HOSTS)
    per_host = (_used(client) - before) / MANY_HOSTS - per_request
    client.flushall()
    return {"request": per_request, "host": per_host, "lease": per_lease}
