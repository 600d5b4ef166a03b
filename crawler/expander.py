"""The spider's side of a discovery crawl: sites expanded, their limits, when to take more.

The policy (crawler/discovery.py, or crawler/frontier/expansion.py in a shared
crawl) says *which* site comes next; ``Expander`` says *when*: a new site is
taken while fewer than ``active`` expanded sites are still being crawled. A
site is being crawled from the moment it is taken until no request for it is
outstanding (each request the spider issues for it is ``started``; each
response or failure ``finished``), so the crawl's parallelism across sites
stays what the benchmark measured, and a site whose every request fails
(robots.txt, the SSRF guard, DNS) frees its place at once.

It also knows each expanded site's limits (``expand_depth`` link hops from
its entries, ``expand_pages`` pages) and turns a page's links into the
evidence the policy reads. Pure: no Scrapy, no I/O; the spider calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from crawler.discovery import ExpansionLimits, OutLink, PageEvidence

if TYPE_CHECKING:
    from collections.abc import Iterable

    from crawler.discovery import Expansion

__all__ = ["Expander", "Policy"]


class Policy(Protocol):
    """What ``Expander`` needs of an expansion policy (embedded or shared)."""

    def observe(self, page: PageEvidence) -> object: ...

    def next(self) -> Expansion | None: ...


class Expander:
    """Sites expanded by this crawl process, and the next ones to take."""

    def __init__(
        self, policy: Policy, limits: ExpansionLimits, active: int, *, counted: bool = True
    ) -> None:
        self.policy = policy
        self.limits = limits
        self.active = max(1, active)
        # False in a shared crawl: any worker may fetch a site's pages, so the
        # policy itself (in Redis) holds the number of sites at once.
        self.counted = counted
        self.hops: dict[str, int] = {}  # expanded site -> hop
        self._outstanding: dict[str, int] = {}  # site being crawled -> requests in flight

    def __contains__(self, domain: object) -> bool:
        return domain in self.hops

    @property
    def crawling(self) -> int:
        """Expanded sites with requests still outstanding."""
        return len(self._outstanding)

    def max_depth(self, domain: str, default: int) -> int:
        """Link hops followed on ``domain``'s pages: expand_depth for an expanded site."""
        return self.limits.depth if domain in self.hops else default

    def max_pages(self, domain: str, default: int) -> int:
        """Pages fetched on ``domain``: expand_pages for an expanded site."""
        return self.limits.pages if domain in self.hops else default

    def evidence(
        self, url: str, domain: str, links: Iterable[tuple[str, str, str]], cites_watched: bool
    ) -> PageEvidence:
        """A page's evidence from its links as (target URL, target's registered domain, anchor)."""
        out = tuple(OutLink(u, d, a) for u, d, a in links if d != domain)
        return PageEvidence(url, domain, out, cites_watched)

    def observe(self, page: PageEvidence) -> None:
        self.policy.observe(page)

    def take(self) -> list[Expansion]:
        """The sites to start now (their entries are to be requested at depth 0)."""
        taken = []
        while len(self._outstanding) < self.active:
            expansion = self.policy.next()
            if expansion is None:
                break
            self.hops[expansion.domain] = expansion.provenance.hop
            taken.append(expansion)
            if not self.counted:
                break  # one a call: the shared policy's count moves with every claim
            # Held until its entry requests are started; if none can be (all
            # requested already, or refused), `settle` frees the place.
            self._outstanding[expansion.domain] = 0
        return taken

    def started(self, domain: str) -> None:
        """A request for ``domain`` was issued (counted only for expanded sites)."""
        if domain in self._outstanding:
            self._outstanding[domain] += 1

    def finished(self, domain: str) -> None:
        """A request for ``domain`` ended: its response was parsed, or it failed."""
        count = self._outstanding.get(domain)
        if count is not None:
            if count <= 1:
                del self._outstanding[domain]
            else:
                self._outstanding[domain] = count - 1

    def settle(self, domains: Iterable[str]) -> None:
        """Free the places of sites just taken for which no request was started."""
        for domain in domains:
            if self._outstanding.get(domain) == 0:
                del self._outstanding[domain]
