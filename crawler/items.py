"""The two records that flow from the spider to the store: pages and edges.

`Page` and `Edge` below are the one definition of each record: every field
once, in order, with its type and, in its metadata, what it means, who sets
it (`crawl`: the spider; `store`: the store, when it writes) and, where the
type alone does not say it, how SQLite keeps it. The SQLite columns, the
MongoDB edge documents, `--format json/csv`, `linkwatch export` and the tests
take their field lists from here (`names`, `spec`).

At run time a record is a plain dict, cheap to build and serialized with
orjson: `new_page(...)` and `new_edge(...)` build one with the crawl's fields,
in the definition's order (generated from it, as dataclasses generate
`__init__`). The dataclasses themselves are the schema; `Edge(**edge)` checks
a dict against it.

The spider yields one page item per crawled URL; it carries the edges found on
that page, i.e. the links whose target belongs to a watched domain. Keeping a
page's edges together lets the store apply them atomically, and lets a recrawl
tell which edges a page no longer has.
"""

# No `from __future__ import annotations`: the field types are read at import
# (`spec`), so they must be objects, not strings.

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import UnionType
from typing import Any, Literal, NewType, Union, get_args, get_origin

LINK_TYPES = ("a", "area", "canonical", "frame", "meta_refresh", "redirect")

# An ISO 8601 UTC time, e.g. "2026-11-24T02:05:03Z" (`utc_now`): a string in
# SQLite, JSON and CSV, a BSON date in MongoDB, a timestamp in Parquet.
ISODate = NewType("ISODate", str)

SetBy = Literal["crawl", "store"]


def crawl(
    doc: str, *, sql: str | None = None, exported: bool = True, optional: bool = False
) -> dict[str, Any]:
    """The metadata of a field the spider sets. `sql` overrides the SQLite
    column declaration the type implies ("" for a field SQLite does not keep);
    `exported`: a column of `linkwatch export`; `optional`: None unless given."""
    return {"doc": doc, "set_by": "crawl", "sql": sql, "exported": exported, "optional": optional}


def store(doc: str, *, sql: str | None = None, exported: bool = True) -> dict[str, Any]:
    """The metadata of a field the store sets when it writes the record (see `crawl`)."""
    return {"doc": doc, "set_by": "store", "sql": sql, "exported": exported}


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    """A link from a crawled page into a watched domain (what
    `linkwatch backlinks --format json` prints, one per line).

    (source_url, target_url) is its identity: the same link twice on a page
    is one edge, and a later crawl updates it rather than adding another.
    """

    source_url: str = field(metadata=crawl("canonical URL of the linking page (crawler/urls.py)"))
    target_url: str = field(metadata=crawl("canonical URL linked to, in a watched domain"))
    source_domain: str = field(metadata=crawl("registered domain of source_url's host"))
    target_domain: str = field(metadata=crawl("registered domain of target_url's host"))
    target_host: str = field(
        metadata=crawl("host of target_url (a watch entry may be a deeper host)", exported=False)
    )
    anchor: str = field(metadata=crawl("link text, whitespace collapsed, at most 300 characters"))
    alt: str = field(
        metadata=crawl(
            "alt text of the first image inside the link with one (`<area>`: its own alt), or empty"
        )
    )
    rel: list[str] = field(metadata=crawl("rel tokens, lower-case, document order, no repeats"))
    nofollow: bool = field(
        metadata=crawl(
            "rel has nofollow, or the page says nofollow (meta robots or X-Robots-Tag: "
            "nofollow/none)"
        )
    )
    link_type: str = field(metadata=crawl("one of LINK_TYPES"))
    # NOT NULL DEFAULT '': an edges table from before these two gains them in
    # place (pipelines/stores/sqlite/schema.py), empty in every stored edge.
    placement: str = field(
        metadata=crawl(
            "where on the page the link sits: content, nav, header, footer, sidebar or "
            "comment (crawler/placement.py); a redirect: content; empty: stored before it existed",
            sql="TEXT NOT NULL DEFAULT ''",
        )
    )
    context: str = field(
        metadata=crawl(
            "up to 150 characters of the text around the link (its block's text, "
            "whitespace collapsed), or empty",
            sql="TEXT NOT NULL DEFAULT ''",
        )
    )
    source_title: str = field(metadata=crawl("the linking page's `<title>` (error pages count)"))
    source_status: int = field(metadata=crawl("the linking page's HTTP status"))
    first_seen: ISODate = field(metadata=store("the first crawl that saw the edge; set once"))
    last_seen: ISODate = field(metadata=store("the latest crawl that saw the edge"))
    lost_at: ISODate | None = field(
        metadata=store("when a recrawl no longer found the edge; null while it is live")
    )
    lost_reason: str | None = field(
        metadata=store(
            "why: link_removed, page_gone, redirected or became_nofollow (pipelines/stores/base.py)"
        )
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Page:
    """A crawled URL and the edges found on it (the page item the spider yields).

    In the order of the SQLite `pages` columns; `watch` is not stored.
    """

    url: str = field(metadata=crawl("the crawled URL, canonical form"))
    domain: str = field(metadata=crawl("registered domain of the page's host"))
    status: int = field(metadata=crawl("HTTP status of the response"))
    title: str = field(metadata=crawl("`<title>` text, whitespace collapsed, or empty"))
    outlinks: int = field(metadata=crawl("number of distinct link targets on the page"))
    edges: list[Edge] = field(
        metadata=crawl(
            "the page's edges (stored: how many it had on its last crawl)",
            sql="INTEGER NOT NULL",
        )
    )
    first_fetched: ISODate = field(metadata=store("the first crawl of the page"))
    fetched_at: ISODate = field(metadata=crawl("when it was fetched; stored: the latest crawl"))
    domain_links: dict[str, int] | None = field(
        metadata=crawl(
            "registered domain -> links from this page to it (other domains only): the "
            "domain graph, for authority ranking; null or absent: keep the stored one"
        )
    )
    etag: str | None = field(
        metadata=crawl(
            "the response's ETag: sent as If-None-Match when the page is recrawled",
            exported=False,
            optional=True,
        )
    )
    last_modified: str | None = field(
        metadata=crawl(
            "the response's Last-Modified: sent as If-Modified-Since when the page is recrawled",
            exported=False,
            optional=True,
        )
    )
    links_digest: str | None = field(
        metadata=store(
            "digest of the page's edges (crawler/schedule.py): a recrawl compares it",
            exported=False,
        )
    )
    recrawl_interval: int | None = field(
        metadata=store(
            "seconds between recrawls of a linking page, adapted to how often its links "
            "change (crawler/schedule.py); null: the page never linked to a watched domain"
        )
    )
    due_at: ISODate | None = field(
        metadata=store("when the page is due for a recrawl: its last crawl plus the interval")
    )
    lang: str | None = field(
        metadata=crawl(
            "the page's language as a lower-case BCP 47 tag: its `<html lang>`, else "
            "Content-Language, else detected if LINKWATCH_DETECT_LANG (crawler/language.py); "
            "null: unknown",
            optional=True,
        )
    )
    ip: str | None = field(
        metadata=crawl(
            "the address that served the page (through a proxy: the proxy's); null: unknown",
            optional=True,
        )
    )
    watch: list[str] | None = field(
        metadata=crawl(
            "the watch list of the crawl that fetched the page: only edges into it "
            "can be lost (null: any edge)",
            sql="",
        )
    )
    expansion: dict[str, Any] | None = field(
        metadata=crawl(
            "on the first page of a site a discovery crawl expanded into: how it got there "
            "(domain, via: the page that led there, via_domain, hop, order); stored in "
            "the expansions table/collection, not with the page",
            sql="",
            exported=False,
            optional=True,
        )
    )
    not_modified: bool | None = field(
        metadata=crawl(
            "true when a recrawl's conditional GET was answered 304: the page's stored "
            "edges are confirmed (last_seen moves), nothing is parsed or lost",
            sql="",
            exported=False,
            optional=True,
        )
    )


PageItem = dict[str, Any]  # a Page at run time
EdgeItem = dict[str, Any]  # an Edge at run time


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a record, as the stores and outputs use it."""

    name: str
    kind: str  # text, date, int, bool, list, map
    nullable: bool
    set_by: SetBy
    doc: str
    sql: str  # SQLite column declaration ("" when SQLite does not keep it)
    exported: bool


_KINDS = {str: "text", ISODate: "date", int: "int", bool: "bool", list: "list", dict: "map"}
_SQL_TYPES = {"int": "INTEGER", "bool": "INTEGER"}  # the others: TEXT (lists, maps: JSON)


def _field_spec(definition: dataclasses.Field) -> FieldSpec:
    kind_of = definition.type
    nullable = get_origin(kind_of) in (Union, UnionType)
    if nullable:
        kind_of = next(arg for arg in get_args(kind_of) if arg is not type(None))
    kind = _KINDS[get_origin(kind_of) or kind_of]
    sql = definition.metadata["sql"]
    if sql is None:
        sql = _SQL_TYPES.get(kind, "TEXT") + ("" if nullable else " NOT NULL")
    return FieldSpec(
        name=definition.name,
        kind=kind,
        nullable=nullable,
        set_by=definition.metadata["set_by"],
        doc=definition.metadata["doc"],
        sql=sql,
        exported=definition.metadata["exported"],
    )


_SPECS = {
    record: tuple(_field_spec(f) for f in dataclasses.fields(record)) for record in (Edge, Page)
}


def spec(record: type) -> tuple[FieldSpec, ...]:
    """The fields of `Edge` or `Page`, in order."""
    return _SPECS[record]


def names(
    record: type,
    *,
    set_by: SetBy | None = None,
    kind: str | None = None,
    exported: bool | None = None,
) -> tuple[str, ...]:
    """Names of the record's fields, in order; only those that match the filters."""
    return tuple(
        f.name
        for f in _SPECS[record]
        if (set_by is None or f.set_by == set_by)
        and (kind is None or f.kind == kind)
        and (exported is None or f.exported == exported)
    )


def pick(record: type, *wanted: str) -> tuple[str, ...]:
    """`wanted`, checked to be fields of the record (a column list of an output)."""
    unknown = set(wanted) - set(names(record))
    if unknown:
        raise ValueError(f"not fields of {record.__name__}: {sorted(unknown)}")
    return wanted


# Every field of an edge, in order: the SQLite columns and what a query returns.
EDGE_FIELDS = names(Edge)
# What the crawl decides: the spider's edge dict, and what a recrawl overwrites.
EDGE_CRAWL_FIELDS = names(Edge, set_by="crawl")


def _builder(record: type) -> Any:
    """A function taking the record's crawl fields as keywords and returning
    the dict, keys in the definition's order: a dict display, generated once,
    costs what a hand-written one does."""
    fields = names(record, set_by="crawl")
    optional = {f.name for f in dataclasses.fields(record) if f.metadata.get("optional")}
    params = ", ".join(f"{name}=None" if name in optional else name for name in fields)
    source = (
        f"def new_{record.__name__.lower()}(*, {params}):\n"
        f"    return {{{', '.join(f'{name!r}: {name}' for name in fields)}}}\n"
    )
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # our own field names only, as dataclasses do
    built = namespace[f"new_{record.__name__.lower()}"]
    built.__doc__ = f"The {record.__name__} record (a dict) from its crawl fields, in order."
    return built


new_edge = _builder(Edge)
new_page = _builder(Page)


def utc_now() -> str:
    """The current time as the ISO 8601 UTC string every record uses."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def markdown_table(record: type) -> str:
    """The record's fields as a Markdown table (README's data model):
    `python -m crawler.items` prints both."""
    kinds = {"text": "string", "date": "ISO 8601 UTC", "int": "int", "bool": "bool"}
    kinds |= {"list": "list", "map": "object"}
    lines = ["| field | type | set by | |", "|---|---|---|---|"]
    for f in spec(record):
        kind = kinds[f.kind] + (" or null" if f.nullable else "")
        lines.append(f"| `{f.name}` | {kind} | {f.set_by} | {f.doc} |")
    return "\n".join(lines)


if __name__ == "__main__":
    for record in (Edge, Page):
        print(f"{record.__name__}:\n\n{markdown_table(record)}\n")
