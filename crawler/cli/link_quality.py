"""The quality score's inputs, read from the store: shared by `linkwatch
backlinks`, `explain`, `refdomains`, `report` and the dashboard.

The score itself is pure (crawler/intelligence/quality.py); this module reads
what it needs about one target: its referring domains assessed by the toxic
rules (the score and the sitewide rule, with the defaults and LINKWATCH_*
environment `linkwatch toxic` uses), their authority, and the target's brand
names and stored keywords for the anchor classes.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from crawler.cli.toxic_rules import assess_target, environment_rules
from crawler.intelligence.anchors import classify
from crawler.intelligence.quality import DomainFacts, QualityModel

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from crawler.cli.progress import Progress
    from crawler.intelligence.toxic import ToxicDomain
    from pipelines.stores.base import Store, Target


def target_quality(
    store: Store,
    target: Target,
    brands: Sequence[str] = (),
    progress: Progress | None = None,
) -> tuple[QualityModel, list[ToxicDomain]]:
    """The quality model of `target`'s edges, and its referring domains as
    the toxic rules assessed them (one pass over its live backlinks)."""
    rules, whitelist = environment_rules()
    assessed = assess_target(store, target, rules, whitelist, progress)
    return quality_model(store, target, assessed, brands), assessed


def quality_model(
    store: Store, target: Target, assessed: Sequence[ToxicDomain], brands: Sequence[str] = ()
) -> QualityModel:
    """The quality model of `target`'s edges, given its referring domains
    assessed by the toxic rules (whitelisted ones included)."""
    ranked = store.authority([domain.domain for domain in assessed])
    facts = {
        domain.domain: DomainFacts(
            authority=(ranked.get(domain.domain) or {}).get("pagerank"),
            # The sitewide term counts sitewide_links: not twice.
            toxic=min(100, sum(f.weight for f in domain.flags if f.rule != "sitewide_links")),
            sitewide=domain.sitewide,
        )
        for domain in assessed
    }
    keywords = store.keywords(target.host or target.domain)
    name = target.domain

    def anchor_class(edge: Mapping[str, Any]) -> str:
        return classify(edge.get("anchor") or "", edge.get("alt") or "", name, brands, keywords)

    return QualityModel(facts, anchor_class)


def strongest_and_weakest(
    model: QualityModel, edges: Iterable[dict[str, Any]], count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `count` live edges of highest and of lowest quality, each with its
    `quality`; memory holds 2 x `count` edges, not the profile."""
    high: list[tuple[int, int, dict[str, Any]]] = []
    low: list[tuple[int, int, dict[str, Any]]] = []
    for n, edge in enumerate(model.annotate(edges)):
        quality = edge["quality"]
        heapq.heappush(high, (quality, -n, edge))
        heapq.heappush(low, (-quality, -n, edge))
        if len(high) > count:
            heapq.heappop(high)
            heapq.heappop(low)
    strongest = [edge for _, _, edge in sorted(high, key=lambda item: (-item[0], -item[1]))]
    weakest = [edge for _, _, edge in sorted(low, key=lambda item: (-item[0], -item[1]))]
    return strongest, weakest
