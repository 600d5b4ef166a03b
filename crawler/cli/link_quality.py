"""The quality score's inputs, read from the store: shared by `linkwatch
backlinks`, `explain`, `report` and the dashboard.

The score itself is pure (crawler/intelligence/quality.py); this module reads
what it needs about one target: its referring domains assessed by the toxic
rules (the score and the sitewide rule, with the defaults and LINKWATCH_*
environment `linkwatch toxic` uses), their authority, and the target's brand
names and stored keywords for the anchor classes.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

from crawler.cli.toxic_rules import environment_rules
from crawler.intelligence.anchors import classify
from crawler.intelligence.quality import DomainFacts, QualityModel
from crawler.intelligence.toxic import LinkCollector, assess
from pipelines.stores.base import DOMAIN_CHUNK

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from crawler.intelligence.toxic import ToxicDomain, ToxicRules
    from pipelines.stores.base import Store, Target


def target_quality(
    store: Store,
    target: Target,
    brands: Sequence[str] = (),
    rules: tuple[ToxicRules, frozenset[str]] | None = None,
    known: dict[str, DomainFacts] | None = None,
) -> QualityModel:
    """The quality model of `target`'s edges, reading its referring domains'
    facts a chunk at a time as rows need them: the toxic rules judge each
    domain on its own live links and profile, so a listing or `explain`
    reads the domains it shows, not the whole profile. `rules`: the toxic
    rules and whitelist (default: `environment_rules()`); `known`: facts
    already read, which the model adds to."""
    rules, whitelist = rules or environment_rules()
    watched: list[str] | None = None
    name = target.host or target.domain

    def read(domains: list[str]) -> dict[str, DomainFacts]:
        nonlocal watched
        if watched is None:
            watched = store.watched_domains()
        collector = LinkCollector()
        for edge in store.backlinks(target, source_domains=domains):
            collector.add(edge)
        profiles = store.domain_profiles(sorted(collector.found), watched)
        assessed = assess(name, collector.found, profiles, rules, whitelist)
        return domain_facts(store, domains, assessed)

    return QualityModel(
        {} if known is None else known, anchor_classifier(store, target, brands), read
    )


def quality_model(
    store: Store, target: Target, assessed: Sequence[ToxicDomain], brands: Sequence[str] = ()
) -> QualityModel:
    """The quality model of `target`'s edges, given its referring domains
    assessed by the toxic rules (whitelisted ones included); a domain with no
    live link left is judged on its authority alone."""
    facts = domain_facts(store, [domain.domain for domain in assessed], assessed)
    return QualityModel(
        facts,
        anchor_classifier(store, target, brands),
        lambda domains: domain_facts(store, domains, ()),
    )


def domain_facts(
    store: Store, domains: Sequence[str], assessed: Iterable[ToxicDomain]
) -> dict[str, DomainFacts]:
    """Authority of each of `domains`, and the toxic score (without
    sitewide_links: the sitewide term counts it) and sitewide flag of those
    the toxic rules `assessed` (domains with live links)."""
    ranked: dict[str, dict[str, Any]] = {}
    for start in range(0, len(domains), DOMAIN_CHUNK):
        ranked.update(store.authority(domains[start : start + DOMAIN_CHUNK]))
    facts = {
        domain: DomainFacts(authority=(ranked.get(domain) or {}).get("pagerank"))
        for domain in domains
    }
    for domain in assessed:
        facts[domain.domain] = DomainFacts(
            authority=(ranked.get(domain.domain) or {}).get("pagerank"),
            toxic=min(100, sum(f.weight for f in domain.flags if f.rule != "sitewide_links")),
            sitewide=domain.sitewide,
        )
    return facts


def anchor_classifier(
    store: Store, target: Target, brands: Sequence[str]
) -> Callable[[Mapping[str, Any]], str]:
    """An edge's anchor class for `target`, with its brands and stored keywords."""
    keywords = store.keywords(target.host or target.domain)
    name = target.domain

    def anchor_class(edge: Mapping[str, Any]) -> str:
        return classify(edge.get("anchor") or "", edge.get("alt") or "", name, brands, keywords)

    return anchor_class


def refdomain_rows(
    store: Store, target: Target, assessed: Iterable[ToxicDomain]
) -> list[dict[str, Any]]:
    """`target`'s referring domains (Store.refdomains) with their authority, the
    address of their latest page and its subnet, and the toxic rules' sitewide
    flag and score from `assessed`: the rows of `linkwatch refdomains` and of
    the dashboard's referring domains."""
    from crawler.intelligence.network import subnet

    rows = list(store.annotate_authority(store.refdomains(target)))
    addresses = store.domain_addresses([row["source_domain"] for row in rows])
    toxic = {domain.domain: domain for domain in assessed}
    for row in rows:
        judged = toxic.get(row["source_domain"])
        row["ip"] = addresses.get(row["source_domain"])
        row["subnet"] = subnet(row["ip"])
        row["sitewide"] = judged is not None and judged.sitewide
        row["toxic"] = 0 if judged is None else judged.score
    return rows


def strongest_and_weakest(
    model: QualityModel, edges: Iterable[dict[str, Any]], count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The `count` live edges of highest and of lowest quality, each with its
    `quality`; memory holds 2 x `count` edges, not the profile."""
    high: list[tuple[int, int, dict[str, Any]]] = []
    low: list[tuple[int, int, dict[str, Any]]] = []
    n = -1
    for n, edge in enumerate(model.annotate(edges)):
        quality = edge["quality"]
        heapq.heappush(high, (quality, -n, edge))
        heapq.heappush(low, (-quality, -n, edge))
        if len(high) > count:
            heapq.heappop(high)
            heapq.heappop(low)
    strongest = [edge for _, _, edge in sorted(high, key=lambda item: (-item[0], -item[1]))]
    weakest = [edge for _, _, edge in sorted(low, key=lambda item: (-item[0], -item[1]))]
    if n + 1 < 2 * count:  # a small profile: every link in one table, not both
        shown = {id(edge) for edge in strongest}
        ranked = strongest + [edge for edge in reversed(weakest) if id(edge) not in shown]
        half = (len(ranked) + 1) // 2
        strongest, weakest = ranked[:half], ranked[half:][::-1]
    return strongest, weakest
