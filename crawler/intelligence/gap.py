"""Competitor gap: the domains that link to your competitors but not to you.

A domain *links to* another when a crawled page of it has a link there (the
domain graph) or a live edge into it (a redirect counts too); nofollow links
count, as in every backlink tool's link intersect. The candidates are the
domains linking to at least `min_competitors` of the competitors and not to
your domain, neither yours nor a competitor; ranked by authority (highest
first, unranked last), then by how many competitors they link to, then by name.

Pure: the store's answer (who links to each domain) and authority in, rows out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crawler.intelligence.authority import authority_key


def competitor_gap(
    linking: Mapping[str, set[str]],
    mine: str,
    competitors: Sequence[str],
    min_competitors: int,
) -> dict[str, list[str]]:
    """Domain -> the competitors it links to, for every gap domain."""
    if not 1 <= min_competitors <= len(competitors):
        raise ValueError(f"--min must be between 1 and {len(competitors)} (the competitors)")
    excluded = {mine, *competitors} | linking.get(mine, set())
    reach: dict[str, list[str]] = {}
    for competitor in competitors:
        for domain in linking.get(competitor, ()):
            if domain not in excluded:
                reach.setdefault(domain, []).append(competitor)
    return {
        domain: sorted(linked) for domain, linked in reach.items() if len(linked) >= min_competitors
    }


def rank_gap(
    gap: Mapping[str, list[str]], authority: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Gap rows, best prospects first."""
    rows = []
    for domain, linked in gap.items():
        ranked = authority.get(domain)
        rows.append(
            {
                "source_domain": domain,
                "authority": None if ranked is None else ranked["pagerank"],
                "harmonic": None if ranked is None else ranked["harmonic"],
                "competitors": len(linked),
                "links_to": " ".join(linked),
            }
        )
    rows.sort(key=lambda r: (authority_key(r["authority"]), -r["competitors"], r["source_domain"]))
    return rows
