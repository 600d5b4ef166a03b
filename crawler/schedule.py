"""When to crawl a linking page again: an adaptive schedule, as Nutch's
AdaptiveFetchSchedule keeps one.

Every page that links (or linked) to a watched domain has an interval and a
due time (its last fetch plus the interval). A recrawl that finds the page's
edges changed (`links_digest` differs, see below) shrinks the interval by
`dec_rate`; one that finds them the same, or an answer 304 Not Modified,
grows it by `inc_rate`; it stays within [minimum, maximum]. Nutch's defaults
(0.2 and 0.4) are ours: an unchanged page drifts out towards the maximum in a
few quiet recrawls (1 week -> 30 days in 5), while one change pulls it back
quickly and two or three in a row bring it near daily. Growing faster than
shrinking is deliberate: most linking pages never change, and their
recrawls are the cost.

Pure: values in, values out; no settings, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import blake2b
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any

ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True, slots=True)
class Schedule:
    """The bounds and rates of the recrawl schedule (LINKWATCH_RECRAWL_*), in seconds."""

    minimum: int = 24 * 3600
    maximum: int = 30 * 24 * 3600
    initial: int = 7 * 24 * 3600
    inc_rate: float = 0.4
    dec_rate: float = 0.2

    def __post_init__(self) -> None:
        if not 0 < self.minimum <= self.maximum:
            raise ValueError(
                "LINKWATCH_RECRAWL_MIN must be above 0 and at most LINKWATCH_RECRAWL_MAX"
            )
        if not 0 <= self.dec_rate < 1 or self.inc_rate < 0:
            raise ValueError("LINKWATCH_RECRAWL_DEC_RATE must be in [0, 1), INC_RATE 0 or more")

    def first(self) -> int:
        """The interval of a linking page stored for the first time."""
        return self.clamp(self.initial)

    def next(self, interval: int | None, changed: bool) -> int:
        """The interval after a recrawl that found the page's links `changed` or not."""
        if interval is None:
            return self.first()
        factor = (1 - self.dec_rate) if changed else (1 + self.inc_rate)
        return self.clamp(round(interval * factor))

    def clamp(self, interval: float) -> int:
        return int(min(self.maximum, max(self.minimum, interval)))


def due_at(fetched_at: str, interval: int) -> str:
    """The ISO 8601 time a page fetched at `fetched_at` is due again."""
    moment = datetime.strptime(fetched_at, ISO).replace(tzinfo=UTC)
    return (moment + timedelta(seconds=interval)).strftime(ISO)


# The fields of an edge whose change is a change of the page's links.
_LINK_FIELDS = ("target_url", "anchor", "alt", "nofollow", "link_type")


def links_digest(edges: Iterable[Mapping[str, Any]]) -> str:
    """A digest of a page's edges (target, anchor, alt, rel, nofollow, type),
    independent of their order: equal digests, unchanged links."""
    parts = sorted(
        "\x1f".join([*(str(edge[name]) for name in _LINK_FIELDS), " ".join(edge.get("rel") or ())])
        for edge in edges
    )
    return blake2b("\x1e".join(parts).encode(), digest_size=12).hexdigest()
