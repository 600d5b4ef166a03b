"""A test-only DNS resolver: fixed host names to loopback addresses, nothing else.

Lets a test serve several sites from different addresses (127.0.5.1,
127.0.5.2, 127.0.9.1...) and crawl them directly, no proxy, so each page's
stored address is its own server's:

    scrapy crawl backlinks ... \\
        -s TWISTED_DNS_RESOLVER=crawler.testing.resolver.LoopbackResolver \\
        -s LINKWATCH_TEST_HOSTS=a.test=127.0.5.1,b.test=127.0.9.1 \\
        -s LINKWATCH_ALLOW_PRIVATE_NETWORKS=1

A name not in LINKWATCH_TEST_HOSTS fails to resolve (a DNS lookup error, never
a real lookup), and an address outside 127.0.0.0/8 is refused when the
setting is read: a crawl with this resolver never leaves the machine.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer
from twisted.internet.error import DNSLookupError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from scrapy.crawler import Crawler
    from twisted.internet.base import ReactorBase

__all__ = ["LoopbackResolver", "parse_hosts"]

LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def parse_hosts(text: str) -> dict[str, str]:
    """``name=address,name=address`` as a mapping; every address must be loopback."""
    hosts: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        name, sep, address = item.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"LINKWATCH_TEST_HOSTS: not name=address: {item!r}")
        if ipaddress.ip_address(address.strip()) not in LOOPBACK:
            raise ValueError(f"LINKWATCH_TEST_HOSTS: {address.strip()} is not a loopback address")
        hosts[name.strip().lower().rstrip(".")] = address.strip()
    return hosts


class LoopbackResolver(CachingThreadedResolver):
    """Answers the names of LINKWATCH_TEST_HOSTS with their loopback
    addresses (and a dotted-quad loopback address with itself); fails every
    other lookup."""

    def __init__(
        self,
        reactor: ReactorBase,
        cache_size: int,
        timeout: float,
        hosts: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.hosts = dict(hosts or {})

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> LoopbackResolver:
        settings = crawler.settings
        return cls(
            reactor,
            settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0,
            settings.getfloat("DNS_TIMEOUT"),
            parse_hosts(settings.get("LINKWATCH_TEST_HOSTS") or ""),
        )

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> defer.Deferred[str]:
        key = name.lower().rstrip(".")
        address = self.hosts.get(key)
        if address is None:
            try:
                if ipaddress.ip_address(key) in LOOPBACK:
                    address = key
            except ValueError:
                pass
        if address is None:
            return defer.fail(DNSLookupError(f"{name}: not a test host (LINKWATCH_TEST_HOSTS)"))
        return defer.succeed(address)
