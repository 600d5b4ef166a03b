"""Sitemaps (sitemaps.org): the files a seed host lists its pages in, read.

Pure: bytes in, values out; no Scrapy, no I/O, no clock (`now` is passed in).
The spider side (which files to fetch, what to follow) is
crawler/spiders/sitemaps.py.

- `robots_sitemaps(body)`: the `Sitemap:` lines of a robots.txt, as written.
- `sitemap_body(body, max_size)`: the XML of a fetched sitemap file. A body
  that starts with the gzip magic number is decompressed (a `.xml.gz` file;
  one sent with `Content-Encoding: gzip` is decompressed by Scrapy before),
  never to more than `max_size` bytes: the protocol's cap is 50 MB
  uncompressed. Raises SitemapError("too_large" or "invalid").
- `read_sitemap(xml, max_urls)`: a `urlset` (pages) or a `sitemapindex`
  (other sitemap files) and its entries, `loc` and `lastmod`, at most
  `max_urls` of them (the protocol's cap: 50,000 a file; `truncated` says it
  was reached). Entity expansion and network access are off: a sitemap is
  data from the web, not a document to trust.
- `recently_changed(lastmod, now, days)`: whether an entry's W3C Datetime
  `lastmod` is at most `days` days before `now`.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO

import lxml.etree

URLSET = "urlset"
INDEX = "sitemapindex"
# What scrapy.utils.gz.gzip_magic_number looks for: gzip, deflate method.
GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 64 * 1024
# A lastmod this far ahead of `now` is a wrong clock or a lie, not news.
_FUTURE = timedelta(days=1)
_SITEMAP_LINE = re.compile(rb"^[ \t]*sitemap[ \t]*:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


class SitemapError(ValueError):
    """A file that cannot be read as a sitemap; `reason` is a short stats key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Entry:
    """One `<url>` of a urlset or `<sitemap>` of an index."""

    loc: str  # as written (entities decoded, whitespace stripped)
    lastmod: str = ""


@dataclass(frozen=True, slots=True)
class Sitemap:
    """A sitemap file, read: its kind (URLSET or INDEX) and entries, in order."""

    kind: str
    entries: tuple[Entry, ...]
    truncated: bool = False  # more entries than max_urls: the rest are ignored

    @property
    def is_index(self) -> bool:
        return self.kind == INDEX


def robots_sitemaps(body: bytes) -> tuple[str, ...]:
    """The URLs of a robots.txt's `Sitemap:` lines, in order, each once.

    The directive is independent of user-agent groups (RFC 9309 section 2.2.4:
    other records); lines that do not decode as UTF-8 are skipped."""
    urls: dict[str, None] = {}
    for match in _SITEMAP_LINE.finditer(body):
        try:
            urls[match.group(1).decode("utf-8")] = None
        except UnicodeDecodeError:
            continue
    return tuple(urls)


def sitemap_body(body: bytes, max_size: int) -> bytes:
    """The XML of a sitemap file: gunzipped if it is gzip, at most `max_size`
    bytes either way (0: no limit)."""
    if body[:3] == GZIP_MAGIC:
        body = gunzip(body, max_size)
    elif max_size and len(body) > max_size:
        raise SitemapError("too_large", f"{len(body)} bytes, more than {max_size}")
    return body


def gunzip(data: bytes, max_size: int) -> bytes:
    """Decompress gzip `data`, stopping as soon as it grows past `max_size`
    (a small file can inflate a thousandfold). Trailing garbage and a bad
    checksum are forgiven once some data came out, as Scrapy's gunzip does."""
    out = BytesIO()
    size = 0
    pending = data
    try:
        while pending[:3] == GZIP_MAGIC:  # one member after the other, as gzip(1) reads them
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while not inflater.eof:
                # Bounded output per call: never more than a chunk beyond the cap.
                chunk = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                if not chunk and not pending:
                    break  # cut short: what came out is all there is
                size += len(chunk)
                if max_size and size > max_size:
                    raise SitemapError("too_large", f"more than {max_size} bytes decompressed")
                out.write(chunk)
            pending = inflater.unused_data
    except zlib.error as exc:
        if not size:
            raise SitemapError("invalid", f"not gzip: {exc}") from None
    return out.getvalue()


def read_sitemap(xml: bytes, max_urls: int) -> Sitemap:
    """The kind and entries of a sitemap file (SitemapError "invalid" if it is
    neither a urlset nor a sitemap index). Reads as it goes: memory stays
    bounded by one entry, not by the file."""
    events = lxml.etree.iterparse(
        BytesIO(xml),
        events=("start", "end"),
        recover=True,
        resolve_entities=False,
        no_network=True,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    try:
        _, root = next(events)
    except (StopIteration, lxml.etree.XMLSyntaxError) as exc:
        raise SitemapError("invalid", f"not XML ({str(exc) or 'nothing parsed'})") from None
    kind = _local_name(root)
    if kind not in (URLSET, INDEX):
        raise SitemapError("invalid", f"root element <{kind}> is not a urlset or sitemapindex")
    item = "url" if kind == URLSET else "sitemap"
    entries: list[Entry] = []
    try:
        for event, element in events:
            if event != "end" or _local_name(element) != item:
                continue
            entry = _entry(element)
            element.clear()
            if entry is None:
                continue
            if max_urls and len(entries) >= max_urls:
                return Sitemap(kind, tuple(entries), truncated=True)
            entries.append(entry)
    except lxml.etree.XMLSyntaxError:
        pass  # recovered as far as it goes: what came before counts
    return Sitemap(kind, tuple(entries))


def _entry(element: lxml.etree._Element) -> Entry | None:
    loc = lastmod = ""
    for child in element:
        name = _local_name(child)
        if name == "loc":
            loc = (child.text or "").strip()
        elif name == "lastmod":
            lastmod = (child.text or "").strip()
    return Entry(loc, lastmod) if loc else None


def _local_name(element: lxml.etree._Element) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def parse_lastmod(text: str) -> datetime | None:
    """A W3C Datetime (YYYY, YYYY-MM, YYYY-MM-DD, or with a time and zone) as
    an aware datetime; None if it is not one. No zone: UTC."""
    text = text.strip()
    if not text:
        return None
    if match := _YEAR_MONTH.fullmatch(text):
        try:
            return datetime(int(match.group(1)), int(match.group(2) or 1), 1, tzinfo=UTC)
        except ValueError:
            return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def recently_changed(lastmod: str, now: datetime, days: int) -> bool:
    """Whether `lastmod` is at most `days` days before `now` (`days` 0: never).
    A lastmod more than a day ahead of `now` is not believed."""
    if days <= 0:
        return False
    when = parse_lastmod(lastmod)
    if when is None:
        return False
    return now - timedelta(days=days) <= when <= now + _FUTURE
