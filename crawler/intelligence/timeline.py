"""A backlink profile over time: new and lost links, referring domains.

From every edge into the target, live or lost: an edge is *new* in the bin of
its first_seen and *lost* in the bin of its lost_at. A referring domain counts
from its first edge's first_seen until its last edge was lost (if all are);
a domain that left and came back counts throughout, which is what a crawl
that saw it at both ends can say.

Bins are a minute, an hour, a day, a week or 30 days: the smallest that keeps
the span within MAX_BINS bins. Memory: two integers per edge and per domain.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

MAX_BINS = 60
BIN_SECONDS = (
    ("minute", 60),
    ("hour", 3600),
    ("day", 86400),
    ("week", 7 * 86400),
    ("30 days", 30 * 86400),
)


@dataclass(frozen=True, slots=True)
class Timeline:
    """Counts per bin: new links, lost links, referring domains at the bin's end."""

    unit: str
    starts: list[datetime]  # start of each bin, UTC
    new: list[int]
    lost: list[int]
    refdomains: list[int]  # referring domains at the end of each bin

    @property
    def empty(self) -> bool:
        return not self.starts


def _seconds(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def build_timeline(edges: Iterable[Mapping[str, Any]], now: str | None = None) -> Timeline:
    """Bin the edges' first_seen and lost_at; `now` closes the span (default:
    the latest date seen)."""
    new, lost = array("q"), array("q")
    domains: dict[str, list[int | None]] = {}  # domain -> [start, end or None while live]
    for edge in edges:
        first = _seconds(edge["first_seen"])
        new.append(first)
        gone = _seconds(edge["lost_at"]) if edge.get("lost_at") else None
        if gone is not None:
            lost.append(gone)
        span = domains.get(edge["source_domain"])
        if span is None:
            domains[edge["source_domain"]] = [first, gone]
        else:
            span[0] = min(span[0], first)  # type: ignore[type-var]
            if span[1] is not None:
                span[1] = None if gone is None else max(span[1], gone)
    if not new:
        return Timeline("day", [], [], [], [])
    low = min(new)
    high = max(max(new), max(lost, default=low))
    if now is not None:
        high = max(high, _seconds(now))
    unit, width = BIN_SECONDS[-1]
    for name, seconds in BIN_SECONDS:
        if (high // seconds - low // seconds) + 1 <= MAX_BINS:
            unit, width = name, seconds
            break
    first_bin = low // width
    count = high // width - first_bin + 1
    new_counts, lost_counts, change = [0] * count, [0] * count, [0] * (count + 1)
    for moment in new:
        new_counts[moment // width - first_bin] += 1
    for moment in lost:
        lost_counts[moment // width - first_bin] += 1
    for start, end in domains.values():
        change[start // width - first_bin] += 1  # type: ignore[operator]
        if end is not None:
            change[end // width - first_bin] -= 1
    live, refdomains = 0, []
    for i in range(count):
        live += change[i]
        refdomains.append(live)
    starts = [datetime.fromtimestamp((first_bin + i) * width, UTC) for i in range(count)]
    return Timeline(unit, starts, new_counts, lost_counts, refdomains)
