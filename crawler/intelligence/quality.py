"""One explainable quality score per edge, 0 to 100.

Pure: an edge and what is known of its referring domain in, a score and its
terms out. The score is a sum of points, then scaled down by the referring
domain's toxic score; every term says what it read, so `linkwatch explain`
prints exactly how a figure came about.

- authority: the referring domain's authority (0-100, `linkwatch rank`):
  40 x authority / 100; unranked: 0.
- follow: nofollow (rel, or the page says so): 0; followed: 20; followed but
  rel sponsored or ugc: 10.
- placement (crawler/placement.py): content 20, sidebar 8, nav 6, header 6,
  footer 4, comment 2; unknown (stored before 0.4 recorded it): 10.
- anchor, its class for the target (crawler/intelligence/anchors.py): brand,
  exact, partial, other 10; url, image 8; generic 4; empty 2; a link with no
  anchor of its own (redirect, canonical, frame) 10.
- sitewide, the toxic rule `sitewide_links` (the domain links to the target
  from most of its crawled pages): no 10, yes 2.
- toxic: the sum x (1 - the referring domain's toxic score / 100), the
  score without the rule sitewide_links: the sitewide term counts it once.

The weights say what backlink tools agree on: who links matters most
(authority), then whether the link passes anything at all (follow), then
whether it is an editorial link in the text or template boilerplate
(placement). The anchor and sitewide terms are small: they separate links
that are otherwise alike. A toxic domain's links are worth less the more of
its rules fire; a whitelisted domain scores 0 there. Unknown inputs are never
guessed: an unranked domain gets no authority points and an edge stored
before placement existed gets the middle of that term, both shown as unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ANCHOR_POINTS",
    "PLACEMENT_POINTS",
    "Quality",
    "QualityModel",
    "Term",
]

AUTHORITY_POINTS = 40
FOLLOW_POINTS = 20
PLACEMENT_POINTS = {"content": 20, "sidebar": 8, "nav": 6, "header": 6, "footer": 4, "comment": 2}
UNKNOWN_PLACEMENT_POINTS = 10
ANCHOR_POINTS = {
    "brand": 10,
    "exact": 10,
    "partial": 10,
    "other": 10,
    "url": 8,
    "image": 8,
    "generic": 4,
    "empty": 2,
}
# Links without an anchor of their own: a redirect, a canonical, a frame.
NO_ANCHOR_POINTS = 10
ANCHORED = frozenset({"a", "area"})
SITEWIDE_POINTS = {False: 10, True: 2}
# rel tokens that hint a link is no endorsement, without nofollow: half the follow points.
HINT_REL = frozenset({"sponsored", "ugc"})


@dataclass(frozen=True, slots=True)
class Term:
    """One term of a score: its name, what it read, its points and their maximum."""

    name: str
    reads: str
    points: float
    maximum: int


@dataclass(frozen=True, slots=True)
class Quality:
    """An edge's score, the terms that add up to it and the toxic factor."""

    score: int
    terms: tuple[Term, ...]
    toxic: int  # the referring domain's toxic score without sitewide_links, 0-100

    @property
    def points(self) -> float:
        return sum(term.points for term in self.terms)

    def explain(self) -> list[dict[str, Any]]:
        """The terms as rows (term, reads, points, of), then the toxic factor and the score."""
        rows = [
            {"term": t.name, "reads": t.reads, "points": round(t.points, 1), "of": t.maximum}
            for t in self.terms
        ]
        rows.append(
            {
                "term": "sum",
                "reads": "",
                "points": round(self.points, 1),
                "of": sum(t.maximum for t in self.terms),
            }
        )
        factor = 1 - self.toxic / 100
        rows.append(
            {
                "term": "toxic",
                "reads": f"toxic score {self.toxic} (without sitewide_links)",
                "points": f"x {factor:.2f}",
                "of": "",
            }
        )
        rows.append({"term": "quality", "reads": "", "points": self.score, "of": 100})
        return rows


@dataclass(frozen=True, slots=True)
class DomainFacts:
    """What the score reads of a referring domain."""

    authority: float | None = None  # 0-100, None: unranked
    toxic: int = 0
    sitewide: bool = False


# Facts of the referring domains of a chunk of edges, read when first needed.
FactsReader = Callable[[list[str]], Mapping[str, DomainFacts]]
CHUNK = 500


class QualityModel:
    """Scores the edges into one target, given its referring domains' facts
    (known, or read a chunk of domains at a time by `read`) and a function
    giving an edge's anchor class."""

    def __init__(
        self,
        domains: Mapping[str, DomainFacts],
        anchor_class: Callable[[Mapping[str, Any]], str],
        read: FactsReader | None = None,
    ) -> None:
        # Kept as given when a dict: a caller may keep the facts learnt
        # between models (the dashboard, for as long as it caches views).
        self.domains = domains if isinstance(domains, dict) else dict(domains)
        self.anchor_class = anchor_class
        self.read = read

    def _learn(self, domains: Iterable[str]) -> None:
        missing = sorted({d for d in domains if d not in self.domains})
        if missing and self.read is not None:
            self.domains.update(self.read(missing))

    def score(self, edge: Mapping[str, Any]) -> Quality:
        self._learn([edge["source_domain"]])
        facts = self.domains.get(edge["source_domain"], DomainFacts())
        terms = (
            _authority(facts.authority),
            _follow(edge),
            _placement(edge.get("placement") or ""),
            _anchor(edge, self.anchor_class),
            Term(
                "sitewide",
                "links from most of its pages" if facts.sitewide else "not sitewide",
                SITEWIDE_POINTS[facts.sitewide],
                SITEWIDE_POINTS[False],
            ),
        )
        total = sum(term.points for term in terms) * (1 - facts.toxic / 100)
        return Quality(round(total), terms, facts.toxic)

    def annotate(self, edges: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """Each edge with its `quality` (the score), its domains' facts read a
        chunk of edges at a time: a listing reads only the domains it shows."""
        chunk: list[dict[str, Any]] = []
        for edge in edges:
            chunk.append(edge)
            if len(chunk) >= CHUNK:
                yield from self._scored(chunk)
                chunk = []
        yield from self._scored(chunk)

    def _scored(self, chunk: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        self._learn(edge["source_domain"] for edge in chunk)
        for edge in chunk:
            edge["quality"] = self.score(edge).score
            yield edge


def _authority(authority: float | None) -> Term:
    if authority is None:
        return Term("authority", "unranked (run linkwatch rank)", 0, AUTHORITY_POINTS)
    points = AUTHORITY_POINTS * max(0.0, min(100.0, authority)) / 100
    return Term("authority", f"authority {authority:g}", points, AUTHORITY_POINTS)


def _follow(edge: Mapping[str, Any]) -> Term:
    """Followed is what the edge's `nofollow` says (as `--follow` and the
    dofollow counts read it); `sponsored` or `ugc` without nofollow are hints
    that the link is not an endorsement: half the points."""
    if edge.get("nofollow"):
        rel = edge.get("rel") or ()
        why = "rel nofollow" if "nofollow" in rel else "the page says nofollow"
        return Term("follow", why, 0, FOLLOW_POINTS)
    hints = sorted(set(edge.get("rel") or ()) & HINT_REL)
    if hints:
        return Term("follow", f"followed, rel {' '.join(hints)}", FOLLOW_POINTS / 2, FOLLOW_POINTS)
    return Term("follow", "followed", FOLLOW_POINTS, FOLLOW_POINTS)


def _placement(placement: str) -> Term:
    maximum = PLACEMENT_POINTS["content"]
    if placement not in PLACEMENT_POINTS:
        reads = "unknown (crawled before placement was recorded)"
        return Term("placement", reads, UNKNOWN_PLACEMENT_POINTS, maximum)
    return Term("placement", placement, PLACEMENT_POINTS[placement], maximum)


def _anchor(edge: Mapping[str, Any], anchor_class: Callable[[Mapping[str, Any]], str]) -> Term:
    maximum = max(ANCHOR_POINTS.values())
    if edge.get("link_type", "a") not in ANCHORED:
        return Term("anchor", f"none ({edge.get('link_type')})", NO_ANCHOR_POINTS, maximum)
    kind = anchor_class(edge)
    text = " ".join((edge.get("anchor") or edge.get("alt") or "").split())
    shown = text if len(text) <= 60 else text[:59] + "…"
    return Term("anchor", f"{kind}: '{shown}'", ANCHOR_POINTS[kind], maximum)
