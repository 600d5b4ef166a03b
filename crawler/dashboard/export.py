"""The backlinks table's filtered view as a download: CSV or JSON lines, streamed.

Read a page of EXPORT_CHUNK edges at a time through `Store.browse_edges`
(the same filters and order as the table), so memory holds one chunk
whatever the profile's size, and the first bytes leave before the last
edge is read. The CSV columns are the edge's fields (crawler/items.py,
`names(Edge, exported=True)`: those of `linkwatch export`), authority and quality.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any

import orjson

from crawler.items import Edge, names

if TYPE_CHECKING:
    from collections.abc import Iterator

    from crawler.dashboard.pool import StorePool
    from pipelines.stores.base import EdgeFilter, Target

EXPORT_CHUNK = 2_000
COLUMNS = (*names(Edge, exported=True), "authority", "quality")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}


def edges(
    pool: StorePool, target: Target, where: EdgeFilter, sort: str
) -> Iterator[dict[str, Any]]:
    """Every edge the filters select, in the table's order, a chunk at a time."""
    offset = 0
    with pool.store() as store:
        while True:
            rows = store.browse_edges(target, where, sort=sort, offset=offset, limit=EXPORT_CHUNK)
            if sort != "authority":
                rows = list(store.annotate_authority(rows))
            yield from rows
            if len(rows) < EXPORT_CHUNK:
                return
            offset += EXPORT_CHUNK


def as_jsonl(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    for row in rows:
        row.pop("harmonic", None)
        yield orjson.dumps(row) + b"\n"


def as_csv(rows: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for n, row in enumerate(rows, 1):
        writer.writerow([_cell(row.get(name)) for name in COLUMNS])
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    # As `linkwatch backlinks --format csv` writes them.
    from crawler.cli.output import csv_cell

    return csv_cell(value)
