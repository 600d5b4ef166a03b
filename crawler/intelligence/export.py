"""Whole backlink profiles to files, streamed: CSV, JSON lines, Parquet, GraphML.

Each writer takes an iterator of edge rows (the store's order: referring
domain, page, target URL) and writes as it reads, so memory does not grow
with the profile: CSV and JSON lines a row at a time, Parquet a row group of
`batch_rows` at a time, GraphML an element at a time. GraphML declares each
node once; linking pages arrive grouped (the store's order), so only the
target site's own URLs are remembered, not the backlinks.

Columns (every format): EXPORT_FIELDS. `rel` is a list in JSON and Parquet,
space-separated in CSV and GraphML; dates are ISO 8601 UTC strings in text
formats and UTC timestamps in Parquet; a missing value is empty (CSV), null
(JSON, Parquet) or absent (GraphML).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping
from typing import IO, TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

import orjson

from crawler.items import Edge, names

if TYPE_CHECKING:
    import pyarrow as pa

FORMATS = ("csv", "jsonl", "parquet", "graphml")
# The edge record's exported fields (crawler/items.py), then what `linkwatch
# rank` adds to it.
EXPORT_FIELDS = (*names(Edge, exported=True), "authority", "harmonic")
DATE_FIELDS = names(Edge, kind="date", exported=True)
BOOL_FIELDS = names(Edge, kind="bool", exported=True)
INT_FIELDS = names(Edge, kind="int", exported=True)
LIST_FIELDS = names(Edge, kind="list", exported=True)
FLOAT_FIELDS = ("authority", "harmonic")
BATCH_ROWS = 50_000
# Characters XML 1.0 does not allow, even escaped.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Progress = Callable[[int], None]


def _count(rows: Iterable[Mapping[str, Any]], progress: Progress | None, every: int = 10_000):
    n = 0
    for n, row in enumerate(rows, 1):
        if progress is not None and n % every == 0:
            progress(n)
        yield row
    if progress is not None:
        progress(n)


def write_csv(
    rows: Iterable[Mapping[str, Any]], out: IO[str], progress: Progress | None = None
) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    count = 0
    for row in _count(rows, progress):
        writer.writerow([_text_cell(name, row.get(name)) for name in EXPORT_FIELDS])
        count += 1
    return count


def _text_cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in LIST_FIELDS:
        return " ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_jsonl(
    rows: Iterable[Mapping[str, Any]], out: IO[str], progress: Progress | None = None
) -> int:
    count = 0
    for row in _count(rows, progress):
        out.write(orjson.dumps({name: row.get(name) for name in EXPORT_FIELDS}).decode())
        out.write("\n")
        count += 1
    return count


def parquet_schema() -> pa.Schema:
    import pyarrow as pa

    types = {name: pa.string() for name in EXPORT_FIELDS}
    types.update({name: pa.list_(pa.string()) for name in LIST_FIELDS})
    types.update({name: pa.bool_() for name in BOOL_FIELDS})
    types.update({name: pa.int32() for name in INT_FIELDS})
    types.update({name: pa.float64() for name in FLOAT_FIELDS})
    types.update({name: pa.timestamp("s", tz="UTC") for name in DATE_FIELDS})
    return pa.schema([(name, types[name]) for name in EXPORT_FIELDS])


def write_parquet(
    rows: Iterable[Mapping[str, Any]],
    out: str | IO[bytes],
    progress: Progress | None = None,
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Parquet (zstd), one row group per `batch_rows` rows."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    schema = parquet_schema()
    count = 0

    def flush(columns: dict[str, list[Any]]) -> None:
        arrays = []
        for field in schema:
            values = columns[field.name]
            if field.name in DATE_FIELDS:
                text = pa.array(values, pa.string())
                parsed = pc.strptime(text, format="%Y-%m-%dT%H:%M:%SZ", unit="s")
                arrays.append(parsed.cast(field.type))
            else:
                arrays.append(pa.array(values, field.type))
        writer.write_table(pa.Table.from_arrays(arrays, schema=schema), row_group_size=batch_rows)

    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        columns: dict[str, list[Any]] = {name: [] for name in EXPORT_FIELDS}
        pending = 0
        for row in _count(rows, progress):
            for name in EXPORT_FIELDS:
                columns[name].append(row.get(name))
            pending += 1
            count += 1
            if pending >= batch_rows:
                flush(columns)
                columns = {name: [] for name in EXPORT_FIELDS}
                pending = 0
        if pending or count == 0:
            flush(columns)
    return count


# GraphML: nodes are URLs, edges the links; attribute keys declared up front.
_NODE_KEYS = (("kind", "string"), ("domain", "string"), ("authority", "double"))
_EDGE_TYPES = {
    **{name: "string" for name in EXPORT_FIELDS},
    **{name: "boolean" for name in BOOL_FIELDS},
    **{name: "int" for name in INT_FIELDS},
    **{name: "double" for name in FLOAT_FIELDS},
}
_EDGE_KEYS = tuple(
    (name, _EDGE_TYPES[name])
    for name in EXPORT_FIELDS
    if name not in ("source_url", "target_url", "source_domain", "target_domain")
)


def write_graphml(
    rows: Iterable[Mapping[str, Any]],
    out: IO[str],
    target_domain: str,
    progress: Progress | None = None,
) -> int:
    """The profile as a directed graph: pages (linking and linked) and links."""
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    )
    for name, kind in _NODE_KEYS:
        out.write(f'  <key id="n_{name}" for="node" attr.name="{name}" attr.type="{kind}"/>\n')
    for name, kind in _EDGE_KEYS:
        out.write(f'  <key id="e_{name}" for="edge" attr.name="{name}" attr.type="{kind}"/>\n')
    out.write(f'  <graph id={_attr(target_domain)} edgedefault="directed">\n')
    own: set[str] = set()  # URLs of the target's own domain, declared
    last_source = None
    count = 0

    def node(url: str, kind: str, domain: str, authority: Any) -> None:
        out.write(f"    <node id={_attr(url)}>")
        out.write(f'<data key="n_kind">{kind}</data><data key="n_domain">{_text(domain)}</data>')
        if authority is not None:
            out.write(f'<data key="n_authority">{float(authority)!r}</data>')
        out.write("</node>\n")

    for row in _count(rows, progress):
        source, target = row["source_url"], row["target_url"]
        if source != last_source:
            last_source = source
            if row["source_domain"] != target_domain:
                node(source, "linking", row["source_domain"], row.get("authority"))
            elif source not in own:
                own.add(source)
                node(source, "own", row["source_domain"], row.get("authority"))
        if target not in own:
            own.add(target)
            node(target, "own", row["target_domain"], None)
        out.write(f"    <edge source={_attr(source)} target={_attr(target)}>")
        for name, kind in _EDGE_KEYS:
            value = row.get(name)
            if value is None:
                continue
            if name in LIST_FIELDS:
                value = " ".join(value)
            elif kind == "boolean":
                value = "true" if value else "false"
            elif kind == "double":
                value = repr(float(value))
            out.write(f'<data key="e_{name}">{_text(str(value))}</data>')
        out.write("</edge>\n")
        count += 1
    out.write("  </graph>\n</graphml>\n")
    return count


def _text(value: str) -> str:
    return escape(_NOT_XML.sub(" ", value))


def _attr(value: str) -> str:
    return quoteattr(_NOT_XML.sub(" ", value))
