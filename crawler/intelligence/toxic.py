"""Toxic links: a transparent, rule-based score for each referring domain.

Every rule looks at what the crawl stored about one referring domain and,
when it fires, adds its weight to the domain's score (0-100, capped) and says
why, with the numbers that made it fire. No rule guesses: each is a threshold
on a count a user can check with `linkwatch backlinks` or in the store.

| rule | fires when (defaults) | weight |
|---|---|---|
| outlinks_per_page | its crawled pages average >= 50 links to other domains | 25 |
| many_watched_domains | it links to >= 5 of the watched domains (unrelated sites) | 20 |
| sitewide_links | >= 80 % of its crawled pages, and >= 5, link to the target | 15 |
| commercial_anchors | one anchor with a commercial term is used on >= 3 of its pages | 30 |
| spam_tld | its TLD is on the spam-heavy list | 20 |

A whitelisted domain is never flagged. Pure: the store's numbers in, flags out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# TLDs that abuse reports (Spamhaus, Interisle, SURBL) keep listing among the
# most abused per registered domain; a default, meant to be tuned.
DEFAULT_SPAM_TLDS = (
    "xyz",
    "top",
    "click",
    "loan",
    "work",
    "gq",
    "tk",
    "ml",
    "cf",
    "ga",
    "buzz",
    "icu",
    "cyou",
    "cfd",
    "sbs",
    "bond",
    "rest",
    "monster",
    "quest",
    "win",
    "bid",
    "date",
    "racing",
    "review",
    "stream",
    "download",
)
# Words of anchors bought to rank for money keywords.
DEFAULT_COMMERCIAL_TERMS = (
    "buy",
    "cheap",
    "discount",
    "casino",
    "poker",
    "betting",
    "viagra",
    "cialis",
    "pharmacy",
    "pills",
    "payday",
    "loan",
    "loans",
    "replica",
    "forex",
    "crypto",
    "bitcoin",
    "escort",
    "porn",
    "xxx",
    "essay",
)
WEIGHTS = {
    "outlinks_per_page": 25,
    "many_watched_domains": 20,
    "sitewide_links": 15,
    "commercial_anchors": 30,
    "spam_tld": 20,
}
RULES = tuple(WEIGHTS)
# Evidence text is cut here (anchors can be long).
MAX_EVIDENCE = 400


@dataclass(frozen=True, slots=True)
class ToxicRules:
    """Thresholds of the rules; every one can be changed from the command line."""

    outlinks_per_page: float = 50.0
    watched_domains: int = 5
    sitewide_share: float = 0.8
    sitewide_min_pages: int = 5
    anchor_min_pages: int = 3
    spam_tlds: tuple[str, ...] = DEFAULT_SPAM_TLDS
    commercial_terms: tuple[str, ...] = DEFAULT_COMMERCIAL_TERMS
    weights: Mapping[str, int] = field(default_factory=lambda: dict(WEIGHTS))

    def commercial_pattern(self) -> re.Pattern[str] | None:
        terms = sorted({t.strip().lower() for t in self.commercial_terms if t.strip()})
        if not terms:
            return None
        alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
        return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


@dataclass(slots=True)
class LinkEvidence:
    """A referring domain's live links into the target, as the rules need them."""

    pages: set[str] = field(default_factory=set)  # its pages linking to the target
    anchor_pages: dict[str, set[str]] = field(default_factory=dict)  # anchor -> pages
    edges: int = 0
    example: tuple[str, str] | None = None  # (source_url, target_url)


class LinkCollector:
    """Groups live edges into the target by referring domain, one `add` at a time
    (so a command reading the edges for other reasons too needs one pass)."""

    def __init__(self) -> None:
        self.found: dict[str, LinkEvidence] = {}

    def add(self, edge: Mapping[str, Any]) -> None:
        evidence = self.found.get(edge["source_domain"])
        if evidence is None:
            evidence = self.found[edge["source_domain"]] = LinkEvidence()
            evidence.example = (edge["source_url"], edge["target_url"])
        evidence.edges += 1
        evidence.pages.add(edge["source_url"])
        anchor = edge.get("anchor") or ""
        if anchor:
            evidence.anchor_pages.setdefault(anchor, set()).add(edge["source_url"])


def collect_links(edges: Iterable[Mapping[str, Any]]) -> dict[str, LinkEvidence]:
    """Live edges into the target, grouped by referring domain."""
    collector = LinkCollector()
    for edge in edges:
        collector.add(edge)
    return collector.found


@dataclass(frozen=True, slots=True)
class Flag:
    """A rule that fired: its name, the weight it adds, and why it fired."""

    rule: str
    weight: int
    evidence: str

    def text(self) -> str:
        return f"{self.rule} (+{self.weight}): {self.evidence}"


@dataclass(frozen=True, slots=True)
class ToxicDomain:
    """A referring domain, its score and the rules that fired."""

    domain: str
    score: int
    flags: tuple[Flag, ...]
    edges: int
    whitelisted: bool = False
    sitewide: bool = False  # is_sitewide, whitelisted or not

    @property
    def rules(self) -> list[str]:
        return [flag.rule for flag in self.flags]

    def row(self) -> dict[str, Any]:
        return {
            "source_domain": self.domain,
            "score": self.score,
            "rules": " ".join(self.rules),
            "edges": self.edges,
            "whitelisted": self.whitelisted,
            "evidence": "; ".join(flag.text() for flag in self.flags),
            "flags": [
                {"rule": f.rule, "weight": f.weight, "evidence": f.evidence} for f in self.flags
            ],
        }


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EVIDENCE else text[: MAX_EVIDENCE - 1] + "…"


def assess_domain(
    domain: str,
    target: str,
    links: LinkEvidence,
    profile: Mapping[str, Any],
    rules: ToxicRules,
    commercial: re.Pattern[str] | None = None,
) -> tuple[Flag, ...]:
    """The flags of one referring domain of `target`.

    `profile` is the store's view of the domain (Store.domain_profiles): pages
    crawled, links to other domains, linked domains, watched domains it links to.
    """
    flags: list[Flag] = []
    weight = rules.weights
    pages = max(profile.get("pages", 0), len(links.pages))

    external = profile.get("external_links", 0)
    if pages and external / pages >= rules.outlinks_per_page:
        flags.append(
            Flag(
                "outlinks_per_page",
                weight["outlinks_per_page"],
                f"{external / pages:.1f} links to other domains per crawled page "
                f"({external} links, {pages} pages, {profile.get('linked_domains', 0)} "
                f"domains linked; threshold {rules.outlinks_per_page:g})",
            )
        )

    watched = [d for d in profile.get("watched", ()) if d != domain]
    if len(watched) >= rules.watched_domains:
        flags.append(
            Flag(
                "many_watched_domains",
                weight["many_watched_domains"],
                _clip(
                    f"links to {len(watched)} watched domains (threshold "
                    f"{rules.watched_domains}): {', '.join(watched)}"
                ),
            )
        )

    linking = len(links.pages)
    if is_sitewide(links, profile, rules):
        source, target_url = links.example or ("", "")
        flags.append(
            Flag(
                "sitewide_links",
                weight["sitewide_links"],
                _clip(
                    f"{linking} of {pages} crawled pages link to {target} "
                    f"(threshold {rules.sitewide_share:.0%}, at least "
                    f"{rules.sitewide_min_pages} pages); e.g. {source} -> {target_url}"
                ),
            )
        )

    if commercial is not None:
        repeated = sorted(
            (
                (len(urls), anchor)
                for anchor, urls in links.anchor_pages.items()
                if len(urls) >= rules.anchor_min_pages and commercial.search(anchor)
            ),
            key=lambda item: (-item[0], item[1]),
        )
        if repeated:
            listed = ", ".join(f"{anchor!r} on {count} pages" for count, anchor in repeated[:5])
            more = f" and {len(repeated) - 5} more" if len(repeated) > 5 else ""
            flags.append(
                Flag(
                    "commercial_anchors",
                    weight["commercial_anchors"],
                    _clip(
                        f"commercial anchors repeated across pages: {listed}{more} "
                        f"(threshold {rules.anchor_min_pages} pages)"
                    ),
                )
            )

    tld = spam_tld(domain, rules.spam_tlds)
    if tld is not None:
        flags.append(Flag("spam_tld", weight["spam_tld"], f".{tld} is on the spam-heavy TLD list"))
    return tuple(flags)


def is_sitewide(links: LinkEvidence, profile: Mapping[str, Any], rules: ToxicRules) -> bool:
    """Whether a referring domain links to the target from at least
    `sitewide_share` of its crawled pages, and from at least
    `sitewide_min_pages` (the rule sitewide_links, and the quality score's
    sitewide term: crawler/intelligence/quality.py)."""
    pages = max(profile.get("pages", 0), len(links.pages))
    linking = len(links.pages)
    return linking >= rules.sitewide_min_pages and linking >= rules.sitewide_share * pages


def spam_tld(domain: str, tlds: Iterable[str]) -> str | None:
    """The entry of `tlds` that `domain` ends with, on a label boundary."""
    for tld in tlds:
        entry = tld.strip().strip(".").lower()
        if entry and (domain == entry or domain.endswith("." + entry)):
            return entry
    return None


def assess(
    target: str,
    links: Mapping[str, LinkEvidence],
    profiles: Mapping[str, Mapping[str, Any]],
    rules: ToxicRules | None = None,
    whitelist: frozenset[str] | set[str] = frozenset(),
) -> list[ToxicDomain]:
    """Every referring domain of `target`, most toxic first (then by domain)."""
    rules = rules or ToxicRules()
    commercial = rules.commercial_pattern()
    assessed = []
    for domain, evidence in links.items():
        profile = profiles.get(domain, {})
        sitewide = is_sitewide(evidence, profile, rules)
        if domain in whitelist:
            assessed.append(
                ToxicDomain(domain, 0, (), evidence.edges, whitelisted=True, sitewide=sitewide)
            )
            continue
        flags = assess_domain(domain, target, evidence, profile, rules, commercial)
        score = min(100, sum(flag.weight for flag in flags))
        assessed.append(ToxicDomain(domain, score, flags, evidence.edges, sitewide=sitewide))
    assessed.sort(key=lambda t: (-t.score, t.domain))
    return assessed
