"""What a domain's *authority* is, without the maths (rank.py does that).

Authority is the domain's PageRank on the domain graph, scaled 0-100 on a log
scale; harmonic centrality (0-100) is shown next to it. The defaults of the
ranking live here so that commands can show them without loading numpy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

DAMPING = 0.85
# L1 change per domain below which power iteration stops.
TOLERANCE = 1e-15
MAX_ITERATIONS = 1000
# Exact harmonic centrality up to this many domains (a breadth-first search
# from each); above, an estimate from SAMPLES source domains.
EXACT_LIMIT = 10_000
SAMPLES = 256


def authority_key(authority: float | None) -> float:
    """Sort key of an authority, highest first, unranked (None) last."""
    return math.inf if authority is None else -authority


def strongest_first(row: Mapping[str, Any]) -> tuple[float, int, str]:
    """Sort key of a referring-domain row (source_domain, edges, authority):
    highest authority first, then most edges, then by name."""
    return authority_key(row["authority"]), -row["edges"], row["source_domain"]
