"""Verification of expected links (`linkwatch verify`): rows in, one status per row out.

A row says "this page should link to that target": a URL, or a domain (a
registered domain with all its hosts, or a host with its subdomains), with an
optional expected anchor and whether the link must be followed. Rows come from
a CSV file with the header ``source_url,target`` and the optional columns
``anchor`` and ``follow``, or from a Search Console links export (its linking
pages, each expected to link to one domain: crawler/gsc.py reads it).

The verify spider (crawler/spiders/verify.py) fetches each distinct source
page once and describes every URL it fetched as a `Fetched` record (one JSON
line each); `verify` joins rows and records. The status of a row, the first
that applies, in this order:

    unreachable          no answer: DNS, connection, timeout (or never fetched)
    robots_blocked       robots.txt does not let us fetch the page
    redirected           the page redirects off its site (on-site redirects
                         are followed, up to MAX_REDIRECTS, and the page they
                         land on is checked)
    page_gone            the page answers 4xx or 5xx
    link_not_found       the page has no link to the target
    noindex              the page says noindex (meta robots or X-Robots-Tag):
                         a search engine will not count its links
    canonical_elsewhere  the page's canonical URL is another page
    nofollow             the link is there, but nofollow, and `follow` was expected
    wrong_anchor         the link is there, but its anchor is not the expected one
    ok                   all of the above is fine

Matching: a URL target matches a link to the same canonical URL, http and
https alike; `<link rel=canonical>` is never the link a row asks for. Several
matching links: the one with the expected anchor speaks for the row (a
followed one first), else a followed one, else the first.
Anchors compare case-insensitively with whitespace collapsed; an image link
(no text) is compared by its image's alt.

Pure: text and records in, values out; no Scrapy, no I/O.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crawler.arguments import ArgumentError, clean_seed
from crawler.domains import clean_domain, registered_domain
from crawler.extraction import Link
from crawler.gsc import ExportError, looks_like_export, parse_link_export
from crawler.urls import RejectedURL, normalize_url, url_host

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "COLUMNS", "MAX_REDIRECTS", "STATUSES", "Fetched", "Result", "Row", "Rows", "RowsError",
    "read_rows", "same_site", "verify",
]  # fmt: skip

STATUSES = (
    "ok", "link_not_found", "page_gone", "unreachable", "robots_blocked", "redirected",
    "nofollow", "wrong_anchor", "noindex", "canonical_elsewhere",
)  # fmt: skip
# On-site redirects followed from a source page before it counts as redirected.
MAX_REDIRECTS = 5
REQUIRED = ("source_url", "target")
OPTIONAL = ("anchor", "follow")
_TRUE = frozenset(("true", "yes", "1", "follow", "dofollow"))
_FALSE = frozenset(("false", "no", "0", "nofollow"))


class RowsError(ValueError):
    """The file is not a links file or an export this module reads; one line."""


@dataclass(frozen=True, slots=True)
class Row:
    """One expected link."""

    line: int | None  # line of the file (None: a Search Console export's page)
    source_url: str  # canonical URL of the page that should link
    target: str  # canonical URL, or a domain (clean_domain's form)
    anchor: str | None = None  # expected anchor text; None: any
    follow: bool | None = None  # True: must be followed; None or False: either

    @property
    def target_is_url(self) -> bool:
        return "://" in self.target


@dataclass(slots=True)
class Rows:
    """What a file gave: the rows, and the rows it could not read (line, why)."""

    kind: str  # "links file" | "Search Console export"
    rows: list[Row]
    problems: list[tuple[int, str]]

    @property
    def source_pages(self) -> list[str]:
        """The distinct pages to fetch, in the order of the file."""
        return list(dict.fromkeys(row.source_url for row in self.rows))

    @property
    def watch(self) -> list[str]:
        """The registered domains of the targets: the crawl's watch list."""
        return sorted({registered_domain(_target_host(row.target)) for row in self.rows})


def read_rows(text: str, domain: str | None = None) -> Rows:
    """The rows of a links file, or with `domain` (clean_domain's form) of a
    Search Console links export; RowsError when the file is neither."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    header = {cell.strip().casefold() for cell in next(csv.reader([first]), [])}
    if set(REQUIRED) <= header:
        if domain is not None:
            raise RowsError("--domain is for a Search Console export; this file names its targets")
        return _read_links_file(text)
    if domain is None:
        if looks_like_export(text):
            raise RowsError(
                "a Search Console links export: give --domain DOMAIN, the domain its pages "
                "should link to"
            )
        raise RowsError("no header row 'source_url,target' (nor a Search Console links export)")
    return _read_export(text, domain)


def _read_links_file(text: str) -> Rows:
    reader = csv.reader(io.StringIO(text))
    names = [cell.strip().casefold() for cell in next(reader)]
    for name in names:
        if name not in REQUIRED + OPTIONAL:
            raise RowsError(
                f"unknown column {name!r}: the columns are {', '.join(REQUIRED + OPTIONAL)}"
            )
    if len(set(names)) != len(names):
        raise RowsError("a column appears twice in the header row")
    rows = Rows("links file", [], [])
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        line = reader.line_num
        if len(cells) > len(names):
            rows.problems.append((line, f"{len(cells)} cells, the header has {len(names)}"))
            continue
        values = dict(zip(names, (cell.strip() for cell in cells), strict=False))
        try:
            rows.rows.append(_row(line, values))
        except ArgumentError as exc:
            rows.problems.append((line, str(exc)))
    return rows


def _row(line: int, values: dict[str, str]) -> Row:
    """A row from its cells; ArgumentError (one line) for a cell that is wrong."""
    source = values.get("source_url", "")
    if not source:
        raise ArgumentError("source_url: empty")
    try:
        source_url = clean_seed(source)
    except ArgumentError as exc:
        raise ArgumentError("source_url: " + str(exc).removeprefix("seeds: ")) from None
    follow_text = values.get("follow", "").casefold()
    if follow_text and follow_text not in _TRUE | _FALSE:
        raise ArgumentError(f"follow: {values['follow']!r} is not true or false")
    return Row(
        line=line,
        source_url=source_url,
        target=_target(values.get("target", "")),
        anchor=values.get("anchor") or None,
        follow=True if follow_text in _TRUE else None,
    )


def _target(text: str) -> str:
    if not text:
        raise ArgumentError("target: empty")
    if "://" in text:
        try:
            return normalize_url(text)
        except RejectedURL as exc:
            raise ArgumentError(f"target: not an http(s) URL: {text!r} ({exc.reason})") from None
    try:
        return clean_domain(text)
    except ValueError as exc:
        raise ArgumentError(f"target: {exc}") from None


def _read_export(text: str, domain: str) -> Rows:
    try:
        export = parse_link_export(text)
    except ExportError as exc:
        raise RowsError(str(exc)) from None
    if export.kind != "linking pages":
        raise RowsError(
            "a 'Top linking sites' export names sites, not pages: export 'Latest links' instead"
        )
    rows = [Row(line=None, source_url=page, target=domain) for page in export.seeds]
    return Rows("Search Console export", rows, list(export.problems))


# --- what the spider saw ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetched:
    """One URL the verify spider fetched (a JSON line of its output)."""

    url: str  # canonical, as requested
    status: int | None = None  # HTTP status; None: no response
    error: str | None = None  # robots_blocked | unreachable, when there was no response
    detail: str = ""  # why there was no response, or the page was not read
    location: str | None = None  # a redirect's target, canonical (None: none usable)
    html: bool = True  # an HTML page that was read (detail says why not)
    noindex: bool = False  # meta robots or X-Robots-Tag: noindex or none
    canonical: str | None = None  # its <link rel=canonical>, canonical form
    links: tuple[Link, ...] = ()  # its links into the watched domains

    @classmethod
    def from_dict(cls, record: Mapping[str, Any]) -> Fetched:
        links = tuple(
            Link(
                url=link["url"],
                link_type=link["link_type"],
                rel=tuple(link.get("rel") or ()),
                anchor=link.get("anchor") or "",
                alt=link.get("alt") or "",
                nofollow=bool(link.get("nofollow")),
            )
            for link in record.get("links") or ()
        )
        fields = {name: record[name] for name in _FETCHED_FIELDS if name in record}
        return cls(**fields, links=links)


_FETCHED_FIELDS = ("url", "status", "error", "detail", "location", "html", "noindex", "canonical")


def same_site(url: str, other: str) -> bool:
    """Whether two canonical URLs are on one site: one registered domain."""
    return registered_domain(url_host(url)) == registered_domain(url_host(other))


def _same_url(url: str, other: str) -> bool:
    """Whether two canonical URLs name one page, http and https alike."""
    return url.partition("://")[2] == other.partition("://")[2]


def _target_host(target: str) -> str:
    return url_host(target) if "://" in target else target


# --- the decision -------------------------------------------------------------------------

# What the output shows of a result (json: every field).
COLUMNS = (
    "line", "status", "source_url", "target", "found_url", "anchor", "rel", "http_status",
    "detail",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Result:
    """The status of one row, with what was found."""

    line: int | None
    status: str  # one of STATUSES
    source_url: str
    target: str
    http_status: int | None = None  # of the page checked (after on-site redirects)
    page_url: str | None = None  # the page checked
    found_url: str | None = None  # the link's target, or where the page redirects
    anchor: str | None = None  # the link's anchor text
    rel: tuple[str, ...] = ()
    nofollow: bool | None = None
    link_type: str | None = None
    detail: str = ""
    expected_anchor: str | None = None
    expected_follow: bool | None = None

    def as_row(self) -> dict[str, Any]:
        """The result as an output row (dict, fields in order; rel a list)."""
        row = {name: getattr(self, name) for name in self.__slots__}
        row["rel"] = list(self.rel)
        return row


def verify(rows: Iterable[Row], fetched: Mapping[str, Fetched]) -> list[Result]:
    """One result per row, in order; `fetched`: the spider's records by URL."""
    return [check_row(row, fetched) for row in rows]


def check_row(row: Row, fetched: Mapping[str, Fetched]) -> Result:
    """The status of one row (see the module docstring for the order)."""
    page = _landing_page(row, fetched)
    if isinstance(page, Result):
        return page
    base = {"http_status": page.status, "page_url": page.url}
    if not page.html:
        return _result(row, "link_not_found", **base, detail=page.detail or "not HTML")
    matching = [link for link in page.links if _matches(row, link)]
    if not matching:
        return _result(row, "link_not_found", **base, detail=f"no link to {row.target}")
    # The expected anchor tells which link was placed; then a followed one.
    link = max(matching, key=lambda link: (_anchor_ok(row, link), _follow_ok(row, link)))
    found = {
        **base,
        "found_url": link.url,
        "anchor": link.anchor or link.alt,
        "rel": link.rel,
        "nofollow": link.nofollow,
        "link_type": link.link_type,
    }
    if page.noindex:
        return _result(row, "noindex", **found, detail="the page says noindex")
    if page.canonical is not None and not _same_url(page.canonical, page.url):
        return _result(row, "canonical_elsewhere", **found, detail=f"canonical: {page.canonical}")
    if not _follow_ok(row, link):
        why = "rel=nofollow" if "nofollow" in link.rel else "the page says nofollow"
        return _result(row, "nofollow", **found, detail=why)
    if not _anchor_ok(row, link):
        return _result(row, "wrong_anchor", **found, detail=f"expected {row.anchor!r}")
    return _result(row, "ok", **found)


def _landing_page(row: Row, fetched: Mapping[str, Fetched]) -> Fetched | Result:
    """The page a row's source URL lands on after on-site redirects, or the
    result that ends the row before any link is looked at."""
    page = fetched.get(row.source_url)
    hops = 0
    while page is not None and page.status is not None and 300 <= page.status < 400:
        base = {"http_status": page.status, "page_url": page.url, "found_url": page.location}
        if page.location is None:
            return _result(row, "redirected", **base, detail="a redirect without a usable Location")
        if not same_site(page.location, row.source_url):
            return _result(row, "redirected", **base, detail="redirects to another site")
        hops += 1
        page = fetched.get(page.location)
        if page is None or hops > MAX_REDIRECTS:
            detail = f"more than {MAX_REDIRECTS} redirects on its site"
            return _result(row, "redirected", **base, detail=detail)
    if page is None:
        return _result(row, "unreachable", detail="not fetched (the crawl stopped early)")
    if page.error is not None or page.status is None:
        return _result(row, page.error or "unreachable", page_url=page.url, detail=page.detail)
    if not 200 <= page.status < 300:
        base = {"http_status": page.status, "page_url": page.url}
        return _result(row, "page_gone", **base, detail=f"HTTP {page.status}")
    return page


def _matches(row: Row, link: Link) -> bool:
    if link.link_type == "canonical":
        return False
    if row.target_is_url:
        return _same_url(link.url, row.target)
    host = url_host(link.url)
    return registered_domain(host) == registered_domain(row.target) and (
        host == row.target or host.endswith("." + row.target)
    )


def _follow_ok(row: Row, link: Link) -> bool:
    return not (row.follow and link.nofollow)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _anchor_ok(row: Row, link: Link) -> bool:
    if row.anchor is None:
        return True
    return _fold(link.anchor or link.alt) == _fold(row.anchor)


def _result(row: Row, status: str, **found: Any) -> Result:
    return Result(
        line=row.line,
        status=status,
        source_url=row.source_url,
        target=row.target,
        expected_anchor=row.anchor,
        expected_follow=row.follow,
        **found,
    )
