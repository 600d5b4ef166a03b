"""Per-host request queues with leases: the shared frontier in Redis.

Every request waits in the queue of its host. A host is *ready* (ZSET, scored by
the time it may be fetched next) while it has requests and fewer than
LINKWATCH_HOST_CONCURRENCY of them are downloading anywhere in the cluster. A
worker *leases* a request from a ready host; the lease records the host, the
request and a deadline. Then:

    release  the download is over: the host slot is free again, after the
             host delay (LINKWATCH_HOST_DELAY); the lease stays open
    ack      the page's items are stored: the lease is closed
    reap     a lease past its deadline (its worker died) goes back to the front
             of its host queue; after LINKWATCH_MAX_ATTEMPTS it goes to the dead
             list instead, so one poison page cannot loop forever
    extend   a live worker pushes its leases' deadlines forward

A host's limit and delay come from robots.txt as well (crawler/robots.py writes
the `robots` and `host_delays` hashes, then calls `HostQueue.host_known`): until
its robots.txt is known, a host is leased one request at a time cluster-wide;
with a Crawl-delay of d seconds, one at a time and ready again no earlier than
max(LINKWATCH_HOST_DELAY, d) after the end of its previous download (kept in
`not_before`, so it holds for requests queued after that download ended too).
With LINKWATCH_POLITENESS_KEY = domain a queue is a registered domain, and all
of the above applies to the domain; with "ip" queues stay per host.

Each step is one Lua call (lua.py), so a step is all or nothing even if the
worker dies in the middle; a worker's usual round trip (`sync`) carries the
links its pages found, the hosts it freed and the pages it stored, then takes
new leases, in one call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy_redis.queue import Base as ScrapyRedisQueue

from crawler.downloader import slot_key
from crawler.frontier import serializer
from crawler.frontier.bloom import url_hashes
from crawler.frontier.lua import (
    END_LUA,
    ENQUEUE_LUA,
    EXTEND_LUA,
    INTAKE_LUA,
    KNOWN_LUA,
    LEASE_LUA,
    RELEASE_LUA,
    SYNC_LUA,
)
from crawler.urls import url_host

if TYPE_CHECKING:
    import redis

    from crawler.frontier.keys import FrontierKeys


@dataclass(frozen=True, slots=True)
class Lease:
    token: str
    host: str
    payload: bytes


# (leases, next ready time, requests waiting on busy hosts, scope version)
LeaseReply = tuple[list[Lease], float | None, int, int]


def _lease_reply(reply: list[Any]) -> LeaseReply:
    scope = int(reply[-1])
    if reply[0] == b"":
        next_ready = float(reply[1]) / 1000 if reply[1] else None
        return [], next_ready, int(reply[2]), scope
    leases = [
        Lease(reply[i].decode(), reply[i + 1].decode(), reply[i + 2])
        for i in range(0, len(reply) - 1, 3)
    ]
    return leases, None, 0, scope


def _push_args(entries: list[tuple[bool, str, bytes, str]]) -> list[object]:
    """The (check, h1, h2, host, payload) groups of the enqueue step, from
    (check_seen, host, payload, url) entries."""
    args: list[object] = []
    for check, host, payload, url in entries:
        h1, h2 = url_hashes(url) if check else (0, 0)
        args += ["1" if check else "0", h1, h2, host, payload]
    return args


@dataclass(frozen=True, slots=True)
class Politeness:
    host_concurrency: int = 1
    host_delay: float = 0.0  # seconds between two fetches of one host
    lease_seconds: float = 120.0
    max_attempts: int = 5
    # LINKWATCH_POLITENESS_KEY: what one queue (and its limits) covers. "domain":
    # a registered domain with all its hosts; "host" and "ip": a host name (with
    # "ip", each worker's downloader also holds the per-address limit, locally).
    key: str = "host"


def queue_key(url: str, politeness_key: str = "host") -> str:
    """The queue a canonical URL waits in: its host, or its registered domain
    (LINKWATCH_POLITENESS_KEY = domain). Raises ValueError if it has no host."""
    # The downloader's slot rule, so a queue and a slot always cover the same hosts
    # ("ip" keeps per-host queues: the address is known only when downloading).
    return slot_key(url_host(url), politeness_key)


def now_ms() -> int:
    return int(time.time() * 1000)


class HostQueue(ScrapyRedisQueue):
    """The shared frontier: per-host queues, leases, and the seen-set check.

    A scrapy-redis queue class (push/pop/len/clear) whose pop leases; the
    scheduler uses the richer methods below.
    """

    def __init__(
        self,
        server: redis.Redis,
        spider: object,
        key: str,
        serializer: object = None,
        *,
        keys: FrontierKeys,
        politeness: Politeness,
        worker: str = "",
    ) -> None:
        super().__init__(server, spider, key, serializer)
        self.keys = keys
        self.politeness = politeness
        self.worker = worker
        self._enqueue = server.register_script(ENQUEUE_LUA)
        self._lease = server.register_script(LEASE_LUA)
        self._release = server.register_script(RELEASE_LUA)
        self._end = server.register_script(END_LUA)
        self._extend = server.register_script(EXTEND_LUA)
        self._intake = server.register_script(INTAKE_LUA)
        self._sync = server.register_script(SYNC_LUA)
        self._known = server.register_script(KNOWN_LUA)

    def _argv(self, *extra: object) -> list[object]:
        p = self.politeness
        return [self.keys.prefix, now_ms(), p.host_concurrency, int(p.host_delay * 1000), *extra]

    # --- scrapy-redis queue interface --------------------------------------------

    def __len__(self) -> int:
        return int(self.server.get(self.keys.queued) or 0)

    def push(self, request: object) -> None:
        """Queue a request without the seen-set check (scrapy-redis interface)."""
        self.enqueue([(False, self._host_of(request), self._encode_request(request), "")])

    def pop(self, timeout: int = 0) -> object | None:
        leases, *_ = self.lease(1)
        return self._decode_request(leases[0].payload) if leases else None

    def clear(self) -> None:
        """Delete every key of this crawl (used by `linkwatch` only, never by workers)."""
        for key in self.server.scan_iter(match=f"{self.keys.prefix}:*", count=1000):
            self.server.delete(key)

    # --- the frontier --------------------------------------------------------------

    def enqueue(self, entries: list[tuple[bool, str, bytes, str]]) -> list[bool]:
        """Queue (check_seen, host, payload, url) entries; False where already seen."""
        return [bool(x) for x in self._enqueue(args=self._argv(*_push_args(entries)))]

    def intake(self, entries: list[tuple[bytes, str, bool, str, bytes, str]]) -> int:
        """Move seeds from start_urls into the queues: (raw, domain, check, host,
        payload, url) each; payload b"" drops a malformed entry."""
        argv = self._argv()
        for raw, domain, check, host, payload, url in entries:
            h1, h2 = url_hashes(url) if check and payload else (0, 0)
            argv += [raw, domain, "1" if check else "0", h1, h2, host, payload]
        return int(self._intake(args=argv))

    def lease(self, n: int) -> LeaseReply:
        """Up to `n` leases (one per ready host first, then more from hosts with
        free slots), and the scope version (bumped whenever the watch list or the
        seed domains change). With no lease: when the next host is ready (epoch
        seconds, or None) and how many requests wait on busy hosts."""
        ttl_ms = int(self.politeness.lease_seconds * 1000)
        return _lease_reply(self._lease(args=self._argv(n, ttl_ms, self.worker)))

    def sync(
        self,
        pushes: list[tuple[bool, str, bytes, str]],
        releases: list[str],
        acks: list[str],
        n: int,
    ) -> tuple[int, int, LeaseReply | None]:
        """One round trip: queue `pushes` (as `enqueue`), release `releases`,
        acknowledge `acks`, then lease up to `n` (no lease when 0). Returns (new
        requests queued, leases acknowledged, the lease reply or None)."""
        argv = self._argv(len(pushes), *_push_args(pushes))
        argv += [len(releases), *releases, len(acks), *acks, n]
        if n:
            argv += [int(self.politeness.lease_seconds * 1000), self.worker]
        reply = self._sync(args=argv)
        return int(reply[0]), int(reply[1]), _lease_reply(reply[2:]) if n else None

    def host_known(self, *queues: str) -> int:
        """robots.txt of these queues' hosts is now in the `robots` hash (and any
        Crawl-delay in `host_delays`): lease them at their full politeness limit
        from now on, and make each ready at once if it has queued requests and a
        free slot. `queues` are queue keys (`queue_key`: the host, or the
        registered domain). One Lua call; returns how many became ready."""
        if not queues:
            return 0
        return int(self._known(args=self._argv(*queues)))

    def release(self, token: str) -> bool:
        return bool(self._release(args=self._argv(token)))

    def ack(self, tokens: list[str]) -> int:
        return self._end_leases("ack", tokens)

    def give_back(self, tokens: list[str]) -> int:
        """Requeue open leases at once (graceful stop), without counting an attempt."""
        return self._end_leases("giveback", tokens)

    def reap(self, batch: int = 100) -> int:
        """Requeue expired leases (dead workers); any worker may run this."""
        return int(self._end(args=self._argv("reap", self.politeness.max_attempts, batch)))

    def extend(self, tokens: list[str]) -> int:
        if not tokens:
            return 0
        return int(
            self._extend(args=self._argv(int(self.politeness.lease_seconds * 1000), *tokens))
        )

    def _end_leases(self, mode: str, tokens: list[str]) -> int:
        if not tokens:
            return 0
        return int(self._end(args=self._argv(mode, self.politeness.max_attempts, *tokens)))

    def _encode_request(self, request: Any) -> bytes:
        if type(request) is Request:
            return serializer.dumps(serializer.request_fields(request, self.spider))
        return super()._encode_request(request)  # a subclass: Scrapy's to_dict

    def _host_of(self, request: object) -> str:
        return queue_key(request.url, self.politeness.key)  # type: ignore[attr-defined]
