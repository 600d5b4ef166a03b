"""The fixture web's vocabulary: pages, expected edges, sitemaps, and how pages are written.

Pure data and string helpers, no I/O. A page is written as HTML fragments, each
next to the edges it must produce (:class:`Link`, its canonical target spelled
out by hand); :class:`WebBuilder` collects the pages of one version. A
:class:`Sitemap` is a sitemap file, its entries' canonical URLs spelled out too.
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape

MAX_DEPTH = 3
HTML = "text/html; charset=utf-8"
# mysite.test's competitors in a gap analysis (profiles.py)
COMPETITORS = ("acme.test", "globex.test", "initech.test")
# The target of the link-quality sites (profiles.py: every placement, anchor
# class and language; a sitewide referrer).
QUALITY_TARGET = "lumen.test"
WATCH = (
    "mysite.test",
    "competitor.test",
    "xn--bcher-kva.test",
    "alice.pages.test",
    "gamma.test",
    *COMPETITORS,
    QUALITY_TARGET,
)
# The unrelated sites the link farm links to (profiles.py).
BRAND_DOMAINS = frozenset(f"brand{i:03d}.test" for i in range(120))
# Registered domains whose hosts get trap pages (never legitimately fetched).
TRAP_DOMAINS = frozenset(
    {
        "mysite.test",
        "competitor.test",
        "xn--bcher-kva.test",
        "pages.test",
        "other.test",
        "notmysite.test",
        "evil.test",
        "mysite.testing",
        *COMPETITORS,
        QUALITY_TARGET,
        *BRAND_DOMAINS,
    }
)


@dataclass(frozen=True, slots=True)
class Link:
    """An expected edge on a page: what the crawler must store for it."""

    target: str  # canonical target URL, written by hand
    anchor: str = ""
    link_type: str = "a"
    alt: str = ""
    rel: tuple[str, ...] = ()
    raw: str | None = None  # the URL as the page writes it; None: same as target

    @property
    def written(self) -> str:
        return self.target if self.raw is None else self.raw


@dataclass(slots=True)
class Page:
    """One URL of the web: its response, and what a crawl must learn from it."""

    url: str  # canonical URL
    title: str = ""  # expected source_title ("" for redirects)
    status: int = 200
    content_type: str = HTML
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    charset: str = "utf-8"  # how tests decode the body to look for links
    links: list[Link] = field(default_factory=list)  # expected edges, document order
    follows: list[str] = field(default_factory=list)  # canonical internal URLs followed
    external: list[str] = field(default_factory=list)  # non-seed URLs linked, not edges
    nofollow: bool = False  # page-level nofollow (meta robots or X-Robots-Tag)
    disallowed: bool = False  # robots.txt of its host forbids it

    @property
    def netloc(self) -> str:
        return netloc(self.url)

    @property
    def target(self) -> str:
        """Path and query: the request-target the server answers."""
        return request_target(self.url)


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP response as the server sends it (Content-Length added there)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """A `<url>` of a urlset or `<sitemap>` of an index."""

    target: str  # canonical URL, written by hand
    lastmod: str = ""
    raw: str | None = None  # the URL as the file writes it; None: same as target

    @property
    def written(self) -> str:
        return self.target if self.raw is None else self.raw


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A sitemap file: a urlset of pages, or an index of other sitemap files."""

    url: str  # canonical URL
    entries: tuple[SitemapEntry, ...]
    index: bool = False
    gzip: bool = False  # a .xml.gz file (gzip body, not Content-Encoding)

    def page(self) -> Page:
        """The file as the server answers it."""
        root, item = ("sitemapindex", "sitemap") if self.index else ("urlset", "url")
        lines = ['<?xml version="1.0" encoding="UTF-8"?>']
        lines.append(f'<{root} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">')
        for entry in self.entries:
            lastmod = f"<lastmod>{entry.lastmod}</lastmod>" if entry.lastmod else ""
            lines.append(f"  <{item}><loc>{escape(entry.written)}</loc>{lastmod}</{item}>")
        lines.append(f"</{root}>\n")
        body = "\n".join(lines).encode()
        if self.gzip:  # mtime 0: the same bytes every time
            return Page(
                self.url, content_type="application/x-gzip", body=gzip.compress(body, mtime=0)
            )
        return Page(self.url, content_type="application/xml; charset=utf-8", body=body)


# Last-Modified of version 1: this date, or up to a year before it (by URL);
# of a page version 2 changed: a later one.
V1_MODIFIED = datetime(2024, 1, 1, 12, tzinfo=UTC)
V2_MODIFIED = datetime(2024, 6, 1, 12, tzinfo=UTC)


def etag(body: bytes) -> str:
    """A strong validator: the quoted digest of a body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def http_date(when: datetime) -> str:
    return format_datetime(when, usegmt=True)


def first_modified(url: str) -> datetime:
    """A page's Last-Modified in version 1: fixed by its URL."""
    days = int.from_bytes(hashlib.sha256(url.encode()).digest()[:2], "big") % 365
    return V1_MODIFIED - timedelta(days=days)


def netloc(url: str) -> str:
    """Host[:port] of a canonical URL (``:443`` of https dropped)."""
    rest = url.split("://", 1)[1]
    netloc = rest.split("/", 1)[0]
    if url.startswith("https://") and netloc.endswith(":443"):
        netloc = netloc[:-4]
    return netloc


def request_target(url: str) -> str:
    """Path and query of a canonical URL."""
    rest = url.split("://", 1)[1]
    slash = rest.find("/")
    return "/" if slash < 0 else rest[slash:]


def registered_domain(netloc: str) -> str:
    """Registered domain of a fixture host: the implicit ``*`` rule of the PSL
    applies to ``.test``, so it is the last two labels."""
    host = netloc.split(":", 1)[0]
    assert host.endswith((".test", ".testing")), host
    return ".".join(host.split(".")[-2:])


def seed_url(seed: str) -> str:
    return seed if "://" in seed else f"http://{seed}/"


def html_doc(title: str | None, head: list[str], body: list[str], lang: str | None = "en") -> str:
    """A whole page; ``lang=None``: an ``<html>`` without a lang attribute."""
    title_el = "" if title is None else f"<title>{title}</title>\n"
    html_el = "<html>" if lang is None else f'<html lang="{lang}">'
    return (
        f'<!DOCTYPE html>\n{html_el}\n<head>\n<meta charset="utf-8">\n{title_el}'
        + "".join(h + "\n" for h in head)
        + "</head>\n<body>\n"
        + "".join(b + "\n" for b in body)
        + "</body>\n</html>\n"
    )


class PageBuilder:
    """Collects a page's HTML fragments next to the edges they must produce."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.head_parts: list[str] = []
        self.body_parts: list[str] = []
        self.raw_body: bytes | None = None
        self.lang: str | None = "en"  # the <html lang> finish() writes; None: none

    def _expect(self, fragment: str, links: tuple[Link, ...]) -> None:
        for link in links:
            assert link.written in fragment, (self.page.url, link)
        self.page.links.extend(links)

    def head(self, fragment: str, *links: Link, follow: tuple[str, ...] = ()) -> PageBuilder:
        self.head_parts.append(fragment)
        self._expect(fragment, links)
        self.page.follows.extend(follow)
        return self

    def add(
        self,
        fragment: str,
        *links: Link,
        follow: tuple[str, ...] | list[str] = (),
        ext: tuple[str, ...] = (),
    ) -> PageBuilder:
        self.body_parts.append(fragment)
        self._expect(fragment, links)
        self.page.follows.extend(follow)
        self.page.external.extend(ext)
        return self

    def expect(self, *links: Link, follow: tuple[str, ...] = (), ext: tuple[str, ...] = ()):
        """Edges of a page whose body is written whole (``raw_body``)."""
        self.page.links.extend(links)
        self.page.follows.extend(follow)
        self.page.external.extend(ext)
        return self

    def finish(self) -> Page:
        page = self.page
        if self.raw_body is not None:
            page.body = self.raw_body
        elif not page.body:
            title = page.title or None
            page.body = html_doc(title, self.head_parts, self.body_parts, self.lang).encode("utf-8")
        return page


class WebBuilder:
    """Accumulates the hand-written pages of one version."""

    def __init__(self, version: int) -> None:
        self.v2 = version >= 2
        self.builders: list[PageBuilder] = []

    def page(self, url: str, title: str = "", **kwargs) -> PageBuilder:
        b = PageBuilder(Page(url=url, title=title, **kwargs))
        self.builders.append(b)
        return b

    def redirect(self, url: str, status: int, location: str, canonical: str, internal: bool):
        """A 3xx response: a ``redirect`` edge if the target is watched, a follow if internal."""
        b = self.page(url, "", status=status, headers=(("Location", location),))
        # A body with a link: redirect bodies are not parsed, so it must yield nothing.
        b.raw_body = (
            "<!DOCTYPE html>\n<html><head><title>Moved</title></head><body>"
            f'<p>Moved to <a href="{location}">here</a>; see also '
            '<a href="http://mysite.test/in-redirect-body">this</a>.</p></body></html>\n'
        ).encode()
        if internal:
            b.expect(follow=(canonical,))
        elif is_watched(canonical):
            b.expect(Link(canonical, link_type="redirect", raw=location))
        else:
            b.expect(ext=(canonical,))
        return b

    def pages(self) -> dict[str, Page]:
        out: dict[str, Page] = {}
        for b in self.builders:
            page = b.finish()
            assert page.url not in out, page.url
            out[page.url] = page
        return out


def is_watched(url: str) -> bool:
    """Watch-list match, by construction for the fixture's own names."""
    host = netloc(url).split(":", 1)[0]
    for entry in WATCH:
        if entry == "alice.pages.test":
            if host == entry or host.endswith("." + entry):
                return True
        elif registered_domain(host) == entry:
            return True
    return False
