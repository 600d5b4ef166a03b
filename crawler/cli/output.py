"""Rows to the terminal: an aligned table, JSON lines, or CSV."""

from __future__ import annotations

import csv
import sys
from typing import TYPE_CHECKING, Any, TextIO

import orjson

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

FORMATS = ("table", "json", "csv")
# Wider cells are cut in tables (json and csv are never cut).
MAX_CELL = 60


def write_rows(
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    out: TextIO | None = None,
    *,
    json_all_fields: bool = True,
) -> int:
    """Write rows in `fmt`; returns how many. JSON lines stream; tables buffer."""
    out = out or sys.stdout
    count = 0
    if fmt == "json":
        for row in rows:
            record = row if json_all_fields else {c: row.get(c) for c in columns}
            out.write(orjson.dumps(record).decode())
            out.write("\n")
            count += 1
        return count
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(c)) for c in columns])
            count += 1
        return count
    table = [[_table_cell(row.get(c)) for c in columns] for row in rows]
    if not table:
        return 0
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(columns)]
    out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    out.write("  ".join("-" * w for w in widths) + "\n")
    for r in table:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    return len(table)


# What spreadsheets read as a formula at the start of a cell: crawled text
# (an anchor "=HYPERLINK(...)") is quoted so it stays text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A value as CSV writes it: lists space-joined, true/false, empty for
    null, and text that a spreadsheet would run as a formula quoted with '."""
    if isinstance(value, list):
        return " ".join(map(str, value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _table_cell(value: Any) -> str:
    if isinstance(value, bool):
        text = "yes" if value else ""
    elif isinstance(value, list):
        text = " ".join(map(str, value))
    elif value is None:
        text = ""
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
