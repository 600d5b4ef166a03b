"""The overview's chart series, from what the store counts: pure.

uPlot (static/uPlot.iife.min.js) draws columns of numbers against an x axis
of Unix seconds, so every series here is such a column: one point per UTC
day from the first change to the last.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

# Authority buckets of the referring domains histogram (0-100, then unranked).
AUTHORITY_BUCKETS = tuple(range(0, 100, 10))


def _day(iso: str) -> date:
    return date.fromisoformat(iso[:10])


def _seconds(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def daily_series(
    days: list[dict[str, Any]], spans: Iterable[tuple[str, str, str | None]]
) -> dict[str, list[Any]]:
    """Per day: new and lost edges (`days`: Store.edge_days) and referring
    domains at the day's end (`spans`: Store.domain_spans)."""
    change: dict[date, int] = {}
    for _, first, gone in spans:
        change[_day(first)] = change.get(_day(first), 0) + 1
        if gone is not None:
            change[_day(gone)] = change.get(_day(gone), 0) - 1
    counted = {_day(d["day"]): d for d in days}
    every = set(change) | set(counted)
    if not every:
        return {"x": [], "new": [], "lost": [], "refdomains": []}
    x, new, lost, refdomains = [], [], [], []
    day, last, live = min(every), max(every), 0
    while day <= last:
        live += change.get(day, 0)
        x.append(_seconds(day))
        new.append(counted.get(day, {}).get("new", 0))
        lost.append(counted.get(day, {}).get("lost", 0))
        refdomains.append(live)
        day += timedelta(days=1)
    return {"x": x, "new": new, "lost": lost, "refdomains": refdomains}


def authority_histogram(rows: Iterable[dict[str, Any]]) -> dict[str, list[Any]]:
    """Referring domains per authority bucket (0-9, 10-19, ... 90-100) and unranked."""
    counts = [0] * len(AUTHORITY_BUCKETS)
    unranked = 0
    for row in rows:
        value = row.get("authority")
        if value is None:
            unranked += 1
        else:
            counts[min(int(value // 10), len(counts) - 1)] += 1
    labels = [f"{low}-{low + 9 if low < 90 else 100}" for low in AUTHORITY_BUCKETS]
    return {"labels": labels, "domains": counts, "unranked": unranked}
