"""Registered domains and the watch list: which site a host belongs to.

A host's *registered domain* is the public suffix under which it sits plus
one label (``blog.mysite.co.uk`` -> ``mysite.co.uk``), computed with the
Public Suffix List as tldextract bundles it, never fetched:

- the PRIVATE section counts (``alice.github.io`` and ``bob.github.io`` are
  two sites, not one ``github.io``);
- a TLD missing from the list (``.test``, ``.internal``, ``.localhost``)
  follows the PSL's implicit ``*`` rule: its last label is the suffix
  (``blog.mysite.test`` -> ``mysite.test``), where tldextract alone would
  give no suffix at all;
- a host that is itself a public suffix (``github.io``, ``co.uk``) is its
  own registered domain; an IP address (v4, or v6 in brackets) too.

Hosts are read as the canonical URL form reads them (crawler/urls.py):
lower-case, punycode for IDNs, IPv4 in dotted decimal, port and one trailing
dot dropped; a host with an empty label (``a..b``, ``.a.com``) is invalid.

A *watch entry* is a registered domain (``mysite.com``: every host of that
site) or a deeper host (``blog.mysite.com``: that host and its subdomains).
``WatchList.match`` names the most specific entry covering a host.

Everything here is pure and memoized per host: it runs for every link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import tldextract

from crawler.urls import RejectedURL, normalize_url, url_host

__all__ = ["WatchList", "clean_domain", "listed_suffix", "public_suffix", "registered_domain"]

# suffix_list_urls=() never fetches, so the snapshot bundled with tldextract
# is used; cache_dir=None keeps it from writing a copy under ~/.cache.
_EXTRACT = tldextract.TLDExtract(
    cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True
)
_CACHE_SIZE = 200_000
# Characters that end or split a host in a URL, which a lone host must not
# hold (so "a.com/x" is refused rather than read as "a.com").
_NOT_IN_HOST = re.compile(r"[\x00-\x20/?#@\\\x7f]")
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
# A name WHATWG host parsing leaves as it is: lower-case ASCII labels, no
# punycode to check, and a last label that cannot be read as a number. Hosts
# taken from canonical URLs (the spider's) look like this.
_PLAIN_NAME = re.compile(r"(?:[a-z0-9_-]+\.)*[a-z_-][a-z0-9_-]*")


def _host_name(host: str) -> str:
    """``host`` in canonical form, port dropped; ValueError if it is not a host."""
    if _PLAIN_NAME.fullmatch(host) and "xn--" not in host:
        return host
    text = host.strip()
    if not text or _NOT_IN_HOST.search(text):
        raise ValueError(f"not a host name: {host!r}")
    if text[0] != "[" and text.count(":") > 1:
        text = f"[{text}]"  # a bare IPv6 address
    try:
        return url_host(normalize_url(f"http://{text}/"))
    except RejectedURL as exc:
        raise ValueError(f"not a host name: {host!r} ({exc.reason})") from None


def _is_ip(name: str) -> bool:
    # WHATWG turned every host ending in a number into dotted-decimal IPv4.
    return name[0] == "[" or _IPV4.fullmatch(name) is not None


def _split(name: str) -> tuple[str, str]:
    """(public suffix, registered domain or "") of a canonical, non-IP host name."""
    parts = _EXTRACT.extract_str(name)
    if not parts.suffix:
        # Not in the list: the implicit "*" rule makes the last label the suffix.
        labels = name.rsplit(".", 2)
        suffix = labels[-1]
        return suffix, ".".join(labels[-2:]) if len(labels) > 1 else ""
    if not parts.domain:
        return parts.suffix, ""
    return parts.suffix, f"{parts.domain}.{parts.suffix}"


@lru_cache(maxsize=_CACHE_SIZE)
def registered_domain(host: str) -> str:
    """The registered domain of ``host`` (which may carry a port or be Unicode).

    ``Blog.MySite.co.uk.:8080`` -> ``mysite.co.uk``; ``alice.github.io`` ->
    ``alice.github.io``; ``github.io`` -> ``github.io``; ``[::1]`` -> ``[::1]``.
    Raises ValueError for a string that is not a host.
    """
    name = _host_name(host)
    if _is_ip(name):
        return name
    return _split(name)[1] or name


@lru_cache(maxsize=4096)
def public_suffix(host: str) -> str:
    """The public suffix of ``host`` ("" for an IP address); ValueError if not a host."""
    name = _host_name(host)
    return "" if _is_ip(name) else _split(name)[0]


def listed_suffix(name: str) -> bool:
    """Whether a dotted name (lower-case, no port) ends in a suffix of the
    Public Suffix List: "mysite.com" does, "node.js" does not."""
    return bool(_EXTRACT.extract_str(name).suffix)


def clean_domain(entry: str) -> str:
    """A watch or seed domain as a user wrote it, in normal form.

    ``https://Blog.MySite.com:8443/path`` -> ``blog.mysite.com``;
    ``Bücher.de`` -> ``xn--bcher-kva.de``. Raises ValueError, with a one-line
    message, for an empty entry, spaces inside, an invalid name or IDN, and a
    bare public suffix (``com``, ``co.uk``, ``github.io``), which would watch
    thousands of unrelated sites.
    """
    text = entry.strip()
    if not text:
        raise ValueError("empty domain")
    if re.search(r"\s", text):
        raise ValueError(f"space inside domain {entry!r}")
    _scheme, sep, rest = text.partition("://")
    if sep:
        text = rest
    elif text.startswith("//"):
        text = text[2:]
    text = re.split(r"[/?#]", text, maxsplit=1)[0]
    if "*" in text:
        raise ValueError(
            f"no wildcards in {entry!r}: a domain covers its subdomains"
            f" (write {text.lstrip('*.') or 'mysite.com'})"
        )
    if "@" in text:
        raise ValueError(f"not a domain: {entry!r}")
    try:
        name = _host_name(text)
    except ValueError:
        raise ValueError(f"not a valid domain name: {entry!r}") from None
    if not _is_ip(name) and not _split(name)[1]:
        raise ValueError(
            f"{name!r} is a public suffix, shared by unrelated sites; "
            f"give a domain under it (e.g. example.{name})"
        )
    return name


class WatchList:
    """The watched domains; ``match(host)`` says which entry covers a host.

    Entries are registered domains (``mysite.com``, ``alice.github.io``),
    covering every host of that site, or deeper hosts (``blog.mysite.com``),
    covering that host and its subdomains only. They are cleaned with
    ``clean_domain`` (ValueError for junk). ``in`` tests a host.
    """

    def __init__(self, entries: Iterable[str] = ()) -> None:
        cleaned = {clean_domain(entry) for entry in entries}
        self.entries: tuple[str, ...] = tuple(sorted(cleaned))
        self._entries = frozenset(cleaned)
        self._match = lru_cache(maxsize=_CACHE_SIZE)(self._find)

    def __repr__(self) -> str:
        return f"WatchList({list(self.entries)!r})"

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __contains__(self, host: object) -> bool:
        return isinstance(host, str) and self.match(host) is not None

    def match(self, host: str) -> str | None:
        """The most specific entry covering ``host``, else None (also for a non-host).

        ``host`` may be in Unicode, carry a port or a trailing dot.
        """
        return self._match(host)

    def _find(self, host: str) -> str | None:
        if not self._entries:
            return None
        try:
            name = _host_name(host)
            domain = registered_domain(name)
        except ValueError:
            return None
        # From the host up to its registered domain, most specific first, and
        # no further: an entry covers the hosts whose registered domain it is,
        # so amazonaws.com does not cover bucket.s3.amazonaws.com (s3.amazonaws.com
        # is a public suffix: the bucket is its owner's site).
        while True:
            if name in self._entries:
                return name
            if len(name) <= len(domain):
                return None
            name = name.partition(".")[2]
