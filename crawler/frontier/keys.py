"""Every Redis key of a shared crawl, derived from one prefix.

The prefix (LINKWATCH_REDIS_PREFIX, default ``linkwatch:%(spider)s``) lets
several crawls share one Redis. The seeds list keeps scrapy-redis' name
(``<prefix>:start_urls``), so ``LPUSH linkwatch:backlinks:start_urls URL`` works.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "linkwatch:%(spider)s"


@dataclass(frozen=True, slots=True)
class FrontierKeys:
    prefix: str

    @classmethod
    def for_spider(cls, pattern: str | None, spider_name: str) -> FrontierKeys:
        return cls((pattern or DEFAULT_PREFIX) % {"spider": spider_name})

    @property
    def start_urls(self) -> str:
        """LIST of seeds waiting to be taken in: JSON objects or bare URLs."""
        return f"{self.prefix}:start_urls"

    @property
    def watch(self) -> str:
        """SET of watched domains."""
        return f"{self.prefix}:watch"

    @property
    def domains(self) -> str:
        """SET of registered domains the crawl stays inside (from its seeds)."""
        return f"{self.prefix}:domains"

    @property
    def scope(self) -> str:
        """Counter bumped on every change of the watch list or the seed domains."""
        return f"{self.prefix}:scope"

    def host_queue(self, host: str) -> str:
        """LIST of serialized requests for one host."""
        return f"{self.prefix}:q:{host}"

    @property
    def ready(self) -> str:
        """ZSET host -> time (ms) from which the host may be fetched again."""
        return f"{self.prefix}:ready"

    @property
    def inflight(self) -> str:
        """HASH host -> requests of that host leased and still downloading."""
        return f"{self.prefix}:inflight"

    @property
    def queued(self) -> str:
        """Counter of requests waiting in host queues."""
        return f"{self.prefix}:queued"

    @property
    def leases(self) -> str:
        """ZSET lease token -> deadline (ms)."""
        return f"{self.prefix}:leases"

    @property
    def lease_seq(self) -> str:
        return f"{self.prefix}:lease_seq"

    def lease(self, token: str) -> str:
        """HASH of one lease: host, payload, attempts, held (host slot taken)."""
        return f"{self.prefix}:lease:{token}"

    @property
    def dead(self) -> str:
        """LIST of requests whose leases expired too often (poison pages)."""
        return f"{self.prefix}:dead"

    @property
    def robots(self) -> str:
        """HASH host -> JSON of its robots.txt as fetched once for the whole crawl
        (crawler/robots.py); a host is leased one request at a time until it is here."""
        return f"{self.prefix}:robots"

    def robots_lock(self, host: str) -> str:
        """STRING held (SET NX, with a TTL) by the worker fetching a host's robots.txt."""
        return f"{self.prefix}:robots_lock:{host}"

    @property
    def robots_known(self) -> str:
        """SET of queue keys (registered domains, with LINKWATCH_POLITENESS_KEY=domain)
        that `HostQueue.host_known` marked known without a `robots` field of their name."""
        return f"{self.prefix}:robots_known"

    @property
    def not_before(self) -> str:
        """HASH queue key -> time (ms) before which its next download may not start
        (the end of the previous one plus its delay)."""
        return f"{self.prefix}:not_before"

    @property
    def host_delays(self) -> str:
        """HASH host -> seconds between fetches its robots.txt asks for (Crawl-delay);
        such a host is leased one request at a time, cluster-wide."""
        return f"{self.prefix}:host_delays"

    @property
    def bloom(self) -> str:
        """Prefix of the seen-set: ``<bloom>:meta`` HASH and ``<bloom>:<i>`` layers."""
        return f"{self.prefix}:bloom"

    @property
    def workers(self) -> str:
        """HASH worker id -> JSON heartbeat (heartbeat.py: pages, pages/s, leases, time)."""
        return f"{self.prefix}:workers"

    @property
    def stats(self) -> str:
        """HASH of crawl-wide counters (pages_stored, edges_stored, ...)."""
        return f"{self.prefix}:stats"

    @property
    def recrawl_lock(self) -> str:
        """STRING held (SET NX, with a TTL) by the worker moving due pages into
        the frontier (recrawl.py): the token of that worker."""
        return f"{self.prefix}:recrawl_lock"

    @property
    def recrawl_moved(self) -> str:
        """ZSET URL -> time (s) a due page was moved into the frontier (recrawl.py);
        moves older than two recrawl intervals are dropped."""
        return f"{self.prefix}:recrawl_moved"

    def expansion(self, name: str) -> str:
        """A key of a shared discovery crawl (expansion.py lists them): ``cand``
        ZSET of candidates, ``c:<domain>`` HASH of one, ``hops``, ``prov``..."""
        return f"{self.prefix}:x:{name}"
