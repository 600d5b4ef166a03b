"""Google Search Console link exports, read as seeds (``-a seeds=@links.csv``).

Search Console's Links report exports CSV files (also inside its zip):

- *Latest links* / *More sample links*: ``Linking page,Last crawled`` (or
  ``Linking page`` alone), one page that links to you per row;
- *Top linking sites*: ``Site,Linking pages,Target pages``, one site per row
  (the counts may be quoted with a thousands separator, ``"1,240"``);
- *Top linked pages* (``Target page,Incoming links,Linking sites``) lists your
  own pages and *Top linking text* anchor texts: neither says who links to
  you, so both are refused with a one-line reason.

Headers are matched in English, case- and space-insensitively. A file in
another language, or a plain list with or without a header, is read from its
first column: a URL is a linking page, a bare name a linking site. The
delimiter is a comma, a semicolon or a tab, whichever the first line uses.

Pure: text in (decoded, a BOM is dropped), ``LinkExport`` out: the seeds (a
linking page is crawled from itself, a site from its home page), the
registered domains known to link to you, and the rows that could not be read,
by line number. ``ExportError`` (a ValueError) when the file is not a links
export at all.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from crawler.arguments import ArgumentError, clean_seed
from crawler.domains import registered_domain
from crawler.urls import url_host

__all__ = ["ExportError", "LinkExport", "looks_like_export", "parse_link_export"]

PAGE_HEADERS = frozenset(
    {"linking page", "top linking pages", "linking url", "source url", "referring page", "url"}
)
SITE_HEADERS = frozenset(
    {"site", "linking site", "top linking sites", "linking domain", "referring domain", "domain"}
)
_REFUSED = {
    "target page": "'Top linked pages' lists your own pages",
    "top linked pages": "'Top linked pages' lists your own pages",
    "linking text": "'Top linking text' lists anchor texts",
    "top linking text": "'Top linking text' lists anchor texts",
}
_DELIMITERS = (",", ";", "\t")
# A host name on the public web: dotted labels (IDNs in punycode by now) or an
# IPv4 address. WHATWG parsing lets "=hyperlink(x)" through; a spreadsheet may not.
_PUBLIC_HOST = re.compile(r"(?:[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?\.)+[a-z0-9-]+")


class ExportError(ValueError):
    """The file is not a links export this module can read; one line for the user."""


@dataclass(slots=True)
class LinkExport:
    """What a Search Console links export says: where to start, who links to you."""

    kind: str  # "linking pages" | "linking sites" (by the header; else the majority)
    seeds: list[str] = field(default_factory=list)  # canonical URLs, first seen first
    referring: list[str] = field(default_factory=list)  # registered domains, first seen first
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, why) rows skipped


def _header(cell: str) -> str:
    return " ".join(cell.replace("\ufeff", "").split()).casefold()


def _delimiter(first_line: str) -> str:
    return max(_DELIMITERS, key=first_line.count) if first_line else ","


def looks_like_export(text: str) -> bool:
    """Whether ``text`` starts with a header row of a links export (for a seeds file)."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    cells = {_header(c) for c in first.split(_delimiter(first))}
    return bool(cells & (PAGE_HEADERS | SITE_HEADERS | set(_REFUSED)))


def _column(header: list[str]) -> tuple[int, str] | None:
    """(column, kind) named by a known header, None if the row names none."""
    names = [_header(c) for c in header]
    for name in names:
        if name in _REFUSED:
            raise ExportError(
                f"not a list of links to you: {_REFUSED[name]}; "
                "export 'Latest links' or 'Top linking sites' instead"
            )
    for i, name in enumerate(names):
        if name in SITE_HEADERS:
            return i, "linking sites"
    for i, name in enumerate(names):
        if name in PAGE_HEADERS:
            return i, "linking pages"
    return None


def _seed(cell: str) -> str:
    """The seed URL of one cell; ArgumentError (one line) if it is not a URL or domain."""
    seed = clean_seed(cell)
    if not _PUBLIC_HOST.fullmatch(url_host(seed)):
        raise ArgumentError(f"seeds: not a URL or domain: {cell!r}")
    return seed


def _is_entry(cell: str) -> bool:
    try:
        _seed(cell)
    except ArgumentError:
        return False
    return True


def parse_link_export(text: str) -> LinkExport:
    """The seeds and referring domains of a Search Console links export (see above)."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    rows = csv.reader(io.StringIO(text), delimiter=_delimiter(first))
    column, kind, header_seen = 0, "", False
    export = LinkExport(kind="")
    pages = sites = 0
    seeds: dict[str, None] = {}
    referring: dict[str, None] = {}
    for row in rows:
        line = rows.line_num
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if not header_seen:
            header_seen = True
            found = _column(cells)
            if found is not None:
                column, kind = found
                continue
            if not _is_entry(cells[0]):
                continue  # a header in another language: read the first column
        cell = cells[column] if column < len(cells) else ""
        if not cell:
            export.problems.append((line, "empty cell"))
            continue
        try:
            seed = _seed(cell)
        except ArgumentError as exc:
            export.problems.append((line, str(exc).removeprefix("seeds: ")))
            continue
        is_page = "://" in cell
        pages += is_page
        sites += not is_page
        seeds.setdefault(seed, None)
        referring.setdefault(registered_domain(url_host(seed)), None)
    if not header_seen:
        raise ExportError("empty file: no rows")
    export.kind = kind or ("linking pages" if pages >= sites else "linking sites")
    export.seeds = list(seeds)
    export.referring = list(referring)
    return export
