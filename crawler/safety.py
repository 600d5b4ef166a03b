"""The SSRF guard: a crawl fetches public addresses only, unless told otherwise.

A page can make a crawler request any URL it names, and a seed list or a
shared frontier can hold any host. Without a guard, `http://169.254.169.254/`
(cloud credentials), `http://127.0.0.1:6379/` or `http://10.0.0.5/admin` are
fetched from inside the operator's network. Three parts:

- ``address_reason(address)`` and ``host_reason(host)``: pure functions that
  say why an address or a URL host is not public (None if it is). IPv4 is
  read in every notation a resolver accepts (``2130706433``, ``0x7f.1``,
  ``0177.0.0.1``, ``127.1``), IPv6 with IPv4 inside (``::ffff:127.0.0.1``,
  NAT64, 6to4) is judged by the IPv4 address it carries, and ``localhost``
  names count as loopback. The reasons are stats keys: ``loopback``,
  ``private``, ``link_local``, ``multicast``, ``reserved``, ``unspecified``,
  ``cgnat``, ``metadata``.
- ``SSRFGuardMiddleware`` (downloader middleware, after HttpProxyMiddleware so
  it knows whether a request goes through a proxy): refuses a request whose
  host is a non-public IP literal; for a host name fetched directly (no
  proxy), resolves it first and refuses it if the answer is not public. A
  refusal is IgnoreRequest and the stat ``linkwatch/ssrf_blocked/<reason>``.
  Every redirect the spider follows is a new request, so every hop is checked.
- ``PublicOnlyResolver`` (TWISTED_DNS_RESOLVER): Scrapy's caching resolver
  that refuses non-public answers. The middleware's lookup and the
  connection's lookup are two lookups; this one is the one the connection
  uses, so a name that changes its answer in between (DNS rebinding) is
  still refused. Host names of the proxies in the environment (http_proxy,
  https_proxy) are exempt: the crawl is meant to reach them.

Through an HTTP proxy only IP literals and localhost names can be checked:
the proxy resolves the other names, on its own network.

Settings: LINKWATCH_ALLOW_PRIVATE_NETWORKS (off by default) turns all of it
off, for crawls of an intranet and for the tests' local web.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING
from urllib.request import getproxies

import scrapy.exceptions
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.datatypes import LocalCache
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.error import DNSLookupError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.internet.base import ReactorBase
    from twisted.internet.defer import Deferred

__all__ = [
    "BlockedAddress",
    "PublicOnlyResolver",
    "SSRFGuardMiddleware",
    "address_reason",
    "host_reason",
    "ip_literal",
]

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance-metadata services: credentials of the machine the crawler runs on.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public address, but the host's own)
    )
)
# Names that resolve to this machine or its metadata service by convention.
LOOPBACK_NAMES = ("localhost",)
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog"})

# What a failed lookup is by the time it reaches a downloader middleware
# (Scrapy 2.19 wraps Twisted's error; earlier versions pass it on).
_LOOKUP_ERRORS: tuple[type[Exception], ...] = (
    DNSLookupError,
    getattr(scrapy.exceptions, "CannotResolveHostError", DNSLookupError),
)
# Names PublicOnlyResolver refused lately, with the reason: Twisted reports a
# refused lookup as "no results", so the middleware looks the reason up here.
refused_names: LocalCache[str, str] = LocalCache(10_000)


def _networks(*pairs: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(net), reason) for net, reason in pairs)


# Checked in order; what no entry covers is public. Spelled out rather than
# left to ipaddress.is_global, whose lists change between Python versions and
# which calls multicast global.
_IPV4_RULES = _networks(
    ("0.0.0.0/8", "unspecified"),  # Linux connects 0.0.0.0 to itself
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "cgnat"),
    ("169.254.0.0/16", "link_local"),
    ("224.0.0.0/4", "multicast"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
    ("192.0.2.0/24", "reserved"),  # documentation
    ("198.51.100.0/24", "reserved"),
    ("203.0.113.0/24", "reserved"),
    ("198.18.0.0/15", "reserved"),  # benchmarking
    ("192.88.99.0/24", "reserved"),  # 6to4 relays (deprecated)
    ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255
)
_IPV6_RULES = _networks(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "private"),  # unique local
    ("fec0::/10", "private"),  # site local (deprecated)
    ("fe80::/10", "link_local"),
    ("ff00::/8", "multicast"),
    ("64:ff9b:1::/48", "private"),  # local-use NAT64
    ("100::/64", "reserved"),  # discard
    ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo
    ("2001:db8::/32", "reserved"),  # documentation
    ("3fff::/20", "reserved"),  # documentation
)
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def address_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not public (a stats key), or None if it is."""
    if address in METADATA_ADDRESSES:
        return "metadata"
    if address.version == 6:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_reason(embedded)
        rules = _IPV6_RULES
    else:
        rules = _IPV4_RULES
    for network, reason in rules:
        if address in network:
            return reason
    if address.version == 6 and address not in _GLOBAL_UNICAST:
        return "reserved"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for, where packets go to it."""
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return address.ipv4_mapped
    if address in _NAT64:  # 64:ff9b::a.b.c.d
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:  # 2002:aabb:ccdd::
        return address.sixtofour
    return None


def ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` spells, if it is an IP literal in any notation.

    IPv6 with or without brackets (a zone ``%eth0`` is ignored); IPv4 as
    ``inet_aton`` and the WHATWG URL standard read it: one to four parts,
    each decimal, octal (leading ``0``) or hex (``0x``), the last filling
    the remaining bytes (``127.1``, ``2130706433``), one trailing dot
    allowed. None for anything else (a name).
    """
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if ":" in text:
        try:
            return ipaddress.IPv6Address(text.partition("%")[0])
        except ValueError:
            return None
    return _ipv4_number(text)


def _ipv4_number(text: str) -> ipaddress.IPv4Address | None:
    if text.endswith("."):
        text = text[:-1]
    parts = text.split(".")
    if not text or len(parts) > 4:
        return None
    numbers = []
    for part in parts:
        number = _ipv4_part(part)
        if number is None:
            return None
        numbers.append(number)
    *head, last = numbers
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def _ipv4_part(part: str) -> int | None:
    if part[:2] in ("0x", "0X"):
        digits, base = part[2:], 16
        if not digits:
            return 0  # "0x" alone is zero, to WHATWG and inet_aton alike
    elif len(part) > 1 and part[0] == "0":
        digits, base = part[1:], 8
    else:
        digits, base = part, 10
    if not digits or not digits.isascii() or not digits.isalnum():
        return None
    try:
        return int(digits, base)
    except ValueError:
        return None


def host_reason(host: str) -> str | None:
    """Why a URL host must not be fetched, or None when it may be.

    Decides on what the host says by itself: IP literals (any notation) and
    the names that mean this machine (``localhost`` and its subdomains) or
    its metadata service. Other names need DNS: None here.
    """
    address = ip_literal(host)
    if address is not None:
        return address_reason(address)
    name = host.strip().lower().rstrip(".")
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return "loopback"
    if name in METADATA_NAMES:
        return "metadata"
    return None


class BlockedAddress(DNSLookupError):
    """A name resolved to an address the crawl must not connect to.

    A DNSLookupError, so Twisted treats it as a failed lookup (no traceback).
    """

    def __init__(self, name: str, address: str, reason: str) -> None:
        super().__init__(f"{name} resolves to {address} ({reason}): not fetched")
        self.name = name
        self.address = address
        self.reason = reason


def proxy_hosts() -> frozenset[str]:
    """Host names of the proxies configured in the environment (lower-case)."""
    hosts = set()
    for url in getproxies().values():
        host = url.partition("://")[2] if "://" in url else url
        host = host.rsplit("@", 1)[-1].split("/", 1)[0]
        if host.startswith("["):
            host = host[1 : host.find("]")]
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        if host:
            hosts.add(host.lower())
    return frozenset(hosts)


class PublicOnlyResolver(CachingThreadedResolver):
    """Scrapy's caching threaded resolver, refusing non-public answers.

    Checked on every lookup, cached or not, so the address a connection uses
    is the address that was checked. Proxies from the environment are exempt;
    LINKWATCH_ALLOW_PRIVATE_NETWORKS turns the check off.
    """

    def __init__(
        self,
        reactor: ReactorBase,
        cache_size: int,
        timeout: float,
        *,
        allow_private: bool = False,
        exempt: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allow_private = allow_private
        self.exempt = exempt

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> PublicOnlyResolver:
        # Scrapy passes its CrawlerProcess here: settings only, no stats.
        settings = crawler.settings
        return cls(
            reactor,
            settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0,
            settings.getfloat("DNS_TIMEOUT"),
            allow_private=settings.getbool("LINKWATCH_ALLOW_PRIVATE_NETWORKS"),
            exempt=proxy_hosts(),
        )

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        lookup = super().getHostByName(name, timeout)
        if self.allow_private or name.lower() in self.exempt:
            return lookup
        return lookup.addCallback(self.check, name)

    @staticmethod
    def check(address: str, name: str) -> str:
        """``address`` if public; raises BlockedAddress otherwise."""
        reason = host_reason(name) or host_reason(address)
        if reason is not None:
            refused_names[name.lower()] = reason
            raise BlockedAddress(name, address, reason)
        return address


class SSRFGuardMiddleware:
    """Refuses requests to hosts that are not public (see the module docstring).

    Place it after HttpProxyMiddleware (750), so ``meta["proxy"]`` tells
    whether a request goes through a proxy; not configured at all when
    LINKWATCH_ALLOW_PRIVATE_NETWORKS is on.
    """

    def __init__(
        self, stats: StatsCollector, resolve: Callable[[str], Deferred[str]] | None = None
    ) -> None:
        self.stats = stats
        # A name's address, as a Deferred (reactor.resolve); None: names are not looked up.
        self.resolve = resolve

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SSRFGuardMiddleware:
        if crawler.settings.getbool("LINKWATCH_ALLOW_PRIVATE_NETWORKS"):
            raise NotConfigured("LINKWATCH_ALLOW_PRIVATE_NETWORKS is on")
        from twisted.internet import reactor

        return cls(crawler.stats, resolve=reactor.resolve)

    async def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname
        if not host:
            return  # Scrapy fails such a request by itself
        reason = host_reason(host)
        if reason is None and self.resolve is not None and not request.meta.get("proxy"):
            reason = await self._resolved_reason(host)
        if reason is not None:
            self.stats.inc_value(f"linkwatch/ssrf_blocked/{reason}")
            logger.debug("not fetched: %s (%s address)", request.url, reason)
            raise IgnoreRequest(f"{reason} address: {host}")

    async def _resolved_reason(self, host: str) -> str | None:
        try:
            address = await maybe_deferred_to_future(self.resolve(host))
        except BlockedAddress as exc:  # PublicOnlyResolver refused it
            return exc.reason
        except Exception:
            return None  # a failed lookup fails the download, as it would anyway
        return host_reason(address)

    def process_exception(self, request: Request, exception: Exception) -> None:
        # The connection's own lookup (PublicOnlyResolver) refused an answer the
        # check above accepted (DNS rebinding). Twisted reports it as a failed
        # lookup; count it under its reason, and do not retry: the answer is cached.
        host = urlparse_cached(request).hostname
        reason = refused_names.get(host) if host else None
        if reason is not None and isinstance(exception, _LOOKUP_ERRORS):
            self.stats.inc_value(f"linkwatch/ssrf_blocked/{reason}")
            request.meta["dont_retry"] = True
