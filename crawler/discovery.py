"""Discovery: which new sites a crawl expands into, and in which order.

A discovery crawl (``-a expand=N``) starts from the seeds as every crawl does;
the registered domains that crawled pages link to become *candidates*, and the
best candidate is *expanded* (crawled itself, ``depth`` hops and ``pages`` pages
from its entry) while the page budget lasts. A candidate's *hop* is one more
than the hop of the site that links to it (seeds: 0); nothing beyond
``hops`` is expanded, nor more than ``max_domains`` sites. Never expanded:
a seed's domain, a watched domain, a denied one (``DenyList``: a registered
domain or any domain under it).

The order (``Strategy``): ``bfs`` expands candidates in the order they were
found; ``focused`` expands the highest *score* first, ties in the order found,
and updates scores as pages arrive. The score is a weighted sum of the
candidate's signals (``Signals``, ``score``), each meant to predict that the
candidate links to a watched domain:

- ``referrers``: crawled *referring domains* (sites where the crawl found an
  edge, or given as referring, e.g. by a Search Console export) linking to it.
  Referring domains of a site form a niche and link to each other. Credited
  when a site turns out to be referring too, for the links seen before.
- ``cocitation``: crawled pages that link to it and to a watched domain: the
  page that cites you cites it next to you.
- ``in_degree``: crawled sites linking to it.
- ``authority``: OPIC cash (Abiteboul et al., 2003): each crawled page hands
  its site's cash (1 plus the cash the site had when it was expanded) in
  equal shares to the sites it links to.
- ``keywords``: crawled pages whose anchor text or URL for a link to it holds
  one of the crawl's keywords (``-a keywords=``).

``score = sum(weight * log2(1 + signal)) - hop_weight * hop``: the log makes
each doubling of a signal worth the same, so a platform linked from every
page does not outweigh a site linked from a few referring domains. The
default weights and what each signal is worth are measured in BENCHMARKS.md
(`bench/discovery_sim.py` replays the policy on the benchmark web's link graph).

Pure: evidence in (``PageEvidence``, built by the spider from a page's links),
the next site to expand out (``Expansion``), with its *provenance*: the page
that led there and its hop, kept so that ``linkwatch discovered`` can show the
path from a seed. The shared crawl keeps the same counters and score in Redis
(crawler/frontier/expansion.py). Search Console exports as seeds: crawler/gsc.py.

Over 400 lines on purpose: the signals, the score and the two queue orders are one
policy, read and tuned together (bench/discovery_sim.py runs this module as is).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum

from crawler.domains import registered_domain
from crawler.urls import RejectedURL, normalize_url, url_host

__all__ = [
    "SIGNALS",
    "CandidateQueue",
    "DenyList",
    "Discovery",
    "Expansion",
    "ExpansionLimits",
    "OutLink",
    "PageEvidence",
    "Provenance",
    "Signals",
    "Strategy",
    "Weights",
    "keyword_hit",
    "page_targets",
    "provenance_path",
    "score",
    "weights_from",
]


class Strategy(StrEnum):
    """The order in which candidates are expanded."""

    FOCUSED = "focused"
    BFS = "bfs"


@dataclass(frozen=True, slots=True)
class ExpansionLimits:
    """How far a discovery crawl goes (the spider's ``expand*`` arguments)."""

    hops: int = 0  # expand: hops from a seed's site (0: no expansion)
    max_domains: int = 1000  # new sites expanded into, in all
    depth: int = 1  # expand_depth: link hops from an expanded site's entry
    pages: int = 50  # expand_pages: pages fetched per expanded site


@dataclass(slots=True)
class Signals:
    """What the crawl has seen of a candidate so far: the terms of its score."""

    referrers: int = 0
    cocitation: int = 0
    in_degree: int = 0
    authority: float = 0.0
    keywords: int = 0


SIGNALS = tuple(f.name for f in fields(Signals))


@dataclass(frozen=True, slots=True)
class Weights:
    """The weight of each signal in the focused score, and the cost of a hop."""

    # Measured on the benchmark web (BENCHMARKS.md): co-citation carries most of
    # the gain, referrers add to it; in-degree and authority lead to platforms
    # (linked from everywhere, never referring), so they weigh nothing unless a
    # crawl asks; the hop cost keeps the crawl near the seeds' niche.
    referrers: float = 2.0
    cocitation: float = 4.0
    in_degree: float = 0.0
    authority: float = 0.0
    keywords: float = 0.5
    hop: float = 2.0

    def without(self, *signals: str) -> Weights:
        """These weights with the given signals (or ``hop``) turned off."""
        return replace(self, **dict.fromkeys(signals, 0.0))


def weights_from(overrides: Mapping[str, object]) -> Weights:
    """The default weights with ``overrides`` (LINKWATCH_EXPAND_WEIGHTS) applied;
    ValueError for an unknown name or a value that is not a number."""
    known = (*SIGNALS, "hop")
    values = {}
    for name, value in overrides.items():
        if name not in known:
            raise ValueError(f"unknown weight {name!r}; known: {', '.join(known)}")
        try:
            values[name] = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(f"weight {name}: not a number: {value!r}") from None
    return replace(Weights(), **values)


def score(signals: Signals, hop: int, weights: Weights) -> float:
    """The focused score of a candidate: higher is expanded first."""
    total = -weights.hop * hop
    for name in SIGNALS:
        weight = getattr(weights, name)
        if weight:
            total += weight * math.log2(1.0 + getattr(signals, name))
    return total


class DenyList:
    """Domains never expanded into: each entry and every domain under it.

    Entries are host names (``facebook.com``, ``blogspot.com``); a public
    suffix is allowed here, denying every site under it. ValueError for an
    entry that is not a host name.
    """

    def __init__(self, entries: Iterable[str] = ()) -> None:
        names = set()
        for entry in entries:
            text = entry.strip().lower().rstrip(".")
            if not text:
                continue
            try:
                names.add(url_host(normalize_url(f"http://{text}/")))
            except (RejectedURL, IndexError):
                raise ValueError(f"not a domain: {entry!r}") from None
        self.entries = frozenset(names)

    def __contains__(self, domain: object) -> bool:
        if not isinstance(domain, str):
            return False
        name = domain
        while name:
            if name in self.entries:
                return True
            name = name.partition(".")[2]
        return False


@dataclass(frozen=True, slots=True)
class OutLink:
    """A link from a crawled page to another registered domain."""

    url: str  # canonical target URL
    domain: str  # its registered domain
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class PageEvidence:
    """What one crawled page says about the candidates it links to."""

    url: str
    domain: str  # the page's registered domain
    links: tuple[OutLink, ...]  # to other registered domains, watched ones excluded
    cites_watched: bool = False  # the page links to a watched domain (has an edge)


@dataclass(frozen=True, slots=True)
class Provenance:
    """How the crawl came to a site: the page that led there, and its hop."""

    domain: str
    via: str  # URL of the first page found linking to it on the shortest path
    via_domain: str  # that page's registered domain
    hop: int
    order: int  # 0 for the first candidate found, 1 for the next...


@dataclass(frozen=True, slots=True)
class Expansion:
    """A site to crawl now: start at ``entries``, within the expansion limits."""

    domain: str
    entries: tuple[str, ...]  # the page linked to and its host's home page
    provenance: Provenance
    score: float


@dataclass(slots=True)
class _Candidate:
    provenance: Provenance
    entry: str
    signals: Signals = field(default_factory=Signals)
    linkers: set[str] = field(default_factory=set)


class CandidateQueue:
    """Candidates waiting to be expanded. ``bfs``: first found first out;
    ``focused``: highest score first (ties: first found), scores updatable.

    A heap with lazy deletion: a new score pushes a new entry and the old one
    is skipped when it surfaces; the heap is rebuilt when stale entries
    outnumber live ones three to one.
    """

    def __init__(self, strategy: Strategy | str = Strategy.FOCUSED) -> None:
        self.strategy = Strategy(strategy)
        self._heap: list[tuple[float, int, str]] = []
        self._live: dict[str, tuple[float, int]] = {}

    def __len__(self) -> int:
        return len(self._live)

    def __contains__(self, domain: object) -> bool:
        return domain in self._live

    def push(self, domain: str, order: int, score: float = 0.0) -> None:
        """Add ``domain`` or, in a focused queue, give it a new score."""
        key = (0.0 if self.strategy is Strategy.BFS else -score, order)
        if self._live.get(domain) == key or (
            self.strategy is Strategy.BFS and domain in self._live
        ):
            return
        self._live[domain] = key
        heapq.heappush(self._heap, (*key, domain))
        if len(self._heap) > 4 * len(self._live) + 64:
            self._heap = [(*k, d) for d, k in self._live.items()]
            heapq.heapify(self._heap)

    def pop(self) -> str | None:
        """The next domain to expand, removed from the queue; None when empty."""
        while self._heap:
            neg, order, domain = heapq.heappop(self._heap)
            if self._live.get(domain) == (neg, order):
                del self._live[domain]
                return domain
        return None

    def remove(self, domain: str) -> None:
        self._live.pop(domain, None)

    def score_of(self, domain: str) -> float | None:
        key = self._live.get(domain)
        return None if key is None else -key[0]

    def __iter__(self) -> Iterator[str]:
        """The domains in the order they would be popped (for reports and tests)."""
        return iter(sorted(self._live, key=self._live.__getitem__))


class Discovery:
    """The expansion policy of one crawl: evidence in, sites to expand out.

    ``seeds`` are the registered domains the crawl starts from (hop 0),
    ``watched`` the watch entries, ``referring`` domains already known to link
    to a watched domain (a Search Console export), ``keywords`` lower-case
    words for the keywords signal. Call ``observe`` for every crawled page of
    a seed's or an expanded site, ``next`` when the crawl can take a new site.
    """

    def __init__(
        self,
        seeds: Iterable[str],
        watched: Iterable[str],
        limits: ExpansionLimits,
        strategy: Strategy | str = Strategy.FOCUSED,
        weights: Weights | None = None,
        deny: DenyList | None = None,
        referring: Iterable[str] = (),
        keywords: Iterable[str] = (),
    ) -> None:
        self.limits = limits
        self.weights = weights or Weights()
        self.queue = CandidateQueue(strategy)
        self.deny = deny or DenyList()
        self.keywords = tuple(k.lower() for k in keywords if k.strip())
        self._watched = frozenset(registered_domain(w) for w in watched)
        self.hops: dict[str, int] = dict.fromkeys(seeds, 0)  # sites crawled, by hop
        self.seeds = frozenset(self.hops)
        self.referring: set[str] = set(referring)
        self.provenance: dict[str, Provenance] = {}  # expanded sites
        self._candidates: dict[str, _Candidate] = {}
        self._outs: dict[str, set[str]] = {}  # crawled site -> sites it links to
        self._cash: dict[str, float] = dict.fromkeys(self.hops, 1.0)
        self._found = 0  # candidates found so far: the next one's order

    def admissible(self, domain: str) -> bool:
        """Whether ``domain`` may ever be expanded into (not how soon)."""
        return domain not in self.hops and domain not in self._watched and domain not in self.deny

    def candidates(self) -> Mapping[str, Signals]:
        """The signals of every candidate still waiting."""
        return {d: self._candidates[d].signals for d in self.queue}

    def observe(self, page: PageEvidence) -> None:
        """Take in one crawled page of a seed's or an expanded site."""
        source = page.domain
        hop = self.hops.get(source)
        if hop is None:
            return
        if page.cites_watched and source not in self.referring:
            self._now_referring(source)
        outs = self._outs.setdefault(source, set())
        targets = page_targets(page, self._watched)
        cash = self._cash.get(source, 1.0) / max(1, len(targets))
        for domain, link in targets.items():
            outs.add(domain)
            if hop >= self.limits.hops or not self.admissible(domain):
                continue
            candidate = self._candidate(domain, link, page, hop + 1)
            signals = candidate.signals
            if source not in candidate.linkers:
                candidate.linkers.add(source)
                signals.in_degree += 1
                signals.referrers += source in self.referring
            signals.cocitation += page.cites_watched
            signals.authority += cash
            signals.keywords += keyword_hit(page, domain, self.keywords)
            self._requeue(domain, candidate)

    def next(self) -> Expansion | None:
        """The next site to expand, or None (no candidate, or max_domains reached)."""
        if len(self.provenance) >= self.limits.max_domains:
            return None
        domain = self.queue.pop()
        if domain is None:
            return None
        candidate = self._candidates.pop(domain)
        record = candidate.provenance
        self.provenance[domain] = record
        self.hops[domain] = record.hop
        self._cash[domain] = 1.0 + candidate.signals.authority
        home = candidate.entry[: candidate.entry.index("/", 8) + 1]
        entries = tuple(dict.fromkeys((home, candidate.entry)))
        value = score(candidate.signals, record.hop, self.weights)
        return Expansion(domain, entries, record, value)

    def discovered(self) -> list[Provenance]:
        """Expanded sites found referring, in the order they were found."""
        found = [p for d, p in self.provenance.items() if d in self.referring]
        return sorted(found, key=lambda p: p.order)

    def _candidate(self, domain: str, link: OutLink, page: PageEvidence, hop: int) -> _Candidate:
        candidate = self._candidates.get(domain)
        if candidate is None:
            record = Provenance(domain, page.url, page.domain, hop, self._found)
            self._found += 1
            candidate = self._candidates[domain] = _Candidate(record, link.url)
        elif hop < candidate.provenance.hop:
            old = candidate.provenance
            candidate.provenance = replace(old, via=page.url, via_domain=page.domain, hop=hop)
            candidate.entry = link.url
        return candidate

    def _requeue(self, domain: str, candidate: _Candidate) -> None:
        hop = candidate.provenance.hop
        value = score(candidate.signals, hop, self.weights)
        self.queue.push(domain, candidate.provenance.order, value)

    def _now_referring(self, source: str) -> None:
        self.referring.add(source)
        for domain in self._outs.get(source, ()):
            candidate = self._candidates.get(domain)
            if candidate is not None and source in candidate.linkers:
                candidate.signals.referrers += 1
                self._requeue(domain, candidate)


def page_targets(page: PageEvidence, watched: frozenset[str]) -> dict[str, OutLink]:
    """The sites a page links to (its first link to each), not its own nor a watched one."""
    targets: dict[str, OutLink] = {}
    for link in page.links:
        if link.domain != page.domain and link.domain not in watched:
            targets.setdefault(link.domain, link)
    return targets


def keyword_hit(page: PageEvidence, domain: str, keywords: tuple[str, ...]) -> bool:
    """Whether an anchor text or URL of the page's links to ``domain`` holds a keyword."""
    if keywords:
        for link in page.links:
            if link.domain == domain:
                text = f"{link.anchor} {link.url}".lower()
                if any(k in text for k in keywords):
                    return True
    return False


def provenance_path(records: Mapping[str, Provenance], domain: str) -> list[Provenance]:
    """How the crawl reached ``domain``: its record, then the one of the site
    that led there, and so on back to a seed's site (which has none)."""
    path: list[Provenance] = []
    seen: set[str] = set()
    while domain in records and domain not in seen:
        seen.add(domain)
        record = records[domain]
        path.append(record)
        domain = record.via_domain
    return path
