"""Discovery, simulated: the expansion policy replayed on the benchmark web's link graph.

    python -m bench.discovery_sim [--domains 400] [--seeds 17,18,19,20,21] [--expand 2] [--active 8]
                                  [--budgets 10,20,40] [--json]

No HTTP and no Scrapy: `crawler.discovery.Discovery` is fed the pages of
bench.discovery_web as a crawl would fetch them, and the referring domains of
the watched domain found (not among the seeds) are counted at page budgets
given in percent of the web's fetchable pages (CLOSESPIDER_PAGECOUNT in the
real crawl). Seeds are crawled whole (depth 3, no page limit); an expanded
site from its entries, `expand_depth` 1, `expand_pages` 50. `--active` sites
are expanded at once (the crawl's parallelism across sites); each turn every
crawling site fetches one page, in turn, and a site that is done frees its
slot for the next candidate. robots.txt is obeyed.

Contenders: bfs, focused (default weights), focused with each signal off,
and each signal alone. Seconds per contender; the whole run well under a minute.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any

from bench.discovery_web import DEFAULT_DOMAINS, DEFAULT_SEED, TOPICS, DiscoveryWeb
from crawler.discovery import (
    SIGNALS,
    Discovery,
    ExpansionLimits,
    OutLink,
    PageEvidence,
    Strategy,
    Weights,
)

BUDGETS = (10, 20, 40)


@dataclass(slots=True)
class _SiteCrawl:
    """One site being crawled: breadth-first from its entries, within its limits."""

    depth: int
    pages: int
    todo: deque[tuple[str, int]] = field(default_factory=deque)
    seen: set[str] = field(default_factory=set)
    fetched: int = 0

    def add(self, url: str, depth: int) -> None:
        if url not in self.seen and depth <= self.depth:
            self.seen.add(url)
            self.todo.append((url, depth))


@dataclass(slots=True)
class Run:
    """What one simulated crawl found: the found count after every page."""

    curve: list[int]  # non-seed referring domains found after page i+1
    expanded: int
    pages: int

    def at(self, pages: int) -> int:
        if not self.curve:
            return 0
        return self.curve[min(pages, len(self.curve)) - 1]


class Simulator:
    """Replays discovery crawls of one generated web."""

    def __init__(self, web: DiscoveryWeb) -> None:
        self.web = web
        self.truth = set(web.referring()) - set(web.seeds)
        self.evidence = {
            url: PageEvidence(
                url,
                page.site,
                tuple(OutLink(u, web.pages[u].site, a) for u, a in page.external),
                bool(page.watched),
            )
            for url, page in web.pages.items()
        }

    def run(
        self,
        strategy: Strategy | str,
        weights: Weights | None = None,
        *,
        budget: int,
        limits: ExpansionLimits,
        active: int = 8,
        keywords: tuple[str, ...] = (),
        policy: Any = None,
    ) -> Run:
        """One crawl to ``budget`` pages; ``policy`` replaces the embedded one
        (built from the same arguments; e.g. the shared crawl's, in Redis)."""
        web = self.web
        if policy is None:
            policy = Discovery(
                web.seeds, web.watch, limits, strategy, weights, referring=web.seeds,
                keywords=keywords,
            )  # fmt: skip
        crawls: dict[str, _SiteCrawl] = {}
        for domain in web.seeds:
            crawls[domain] = crawl = _SiteCrawl(3, 10_000)
            crawl.add(web.sites[domain].pages[0], 0)
        expanding: set[str] = set()
        found: set[str] = set()
        curve: list[int] = []
        while len(curve) < budget:
            while len(expanding) < active and (nxt := policy.next()) is not None:
                expanding.add(nxt.domain)
                crawls[nxt.domain] = crawl = _SiteCrawl(limits.depth, limits.pages)
                for entry in nxt.entries:
                    crawl.add(entry, 0)
            if not crawls:
                break
            for domain in list(crawls):
                url = self._fetch(crawls[domain])
                if url is None:
                    del crawls[domain]
                    expanding.discard(domain)
                    continue
                page = web.pages[url]
                policy.observe(self.evidence[url])
                if page.watched and domain in self.truth:
                    found.add(domain)
                curve.append(len(found))
                if len(curve) >= budget:
                    break
        provenance = policy.provenance
        return Run(curve, len(provenance() if callable(provenance) else provenance), len(curve))

    def _fetch(self, crawl: _SiteCrawl) -> str | None:
        while crawl.todo and crawl.fetched < crawl.pages:
            url, depth = crawl.todo.popleft()
            if url not in self.web.pages or not self.web.allows(url):
                continue
            crawl.fetched += 1
            for link in self.web.pages[url].internal:
                crawl.add(link, depth + 1)
            return url
        return None


def contenders(keywords: tuple[str, ...]) -> list[tuple[str, str, Weights, tuple[str, ...]]]:
    """(label, strategy, weights, keywords): bfs, focused, each signal off and alone."""
    base = Weights()
    out = [("bfs", "bfs", base, ()), ("focused (default weights)", "focused", base, ())]
    for name in (*SIGNALS, "hop"):
        if getattr(base, name) and name != "keywords":
            out.append((f"focused, {name} off", "focused", base.without(name), ()))
    for name in ("in_degree", "authority"):
        out.append((f"focused + {name} (weight 1)", "focused", replace(base, **{name: 1.0}), ()))
    out.append(("focused + keywords", "focused", base, keywords))
    nothing = base.without(*SIGNALS, "hop")
    for name in SIGNALS:
        alone = replace(nothing, **{name: 1.0})
        out.append((f"{name} alone", "focused", alone, keywords if name == "keywords" else ()))
    return out


def simulate(
    seeds: list[int], *, domains: int, hops: int, active: int, budgets: list[int]
) -> dict[str, Any]:
    """Found referring domains (mean over the webs) per contender and budget."""
    sims = [Simulator(DiscoveryWeb(domains, seed)) for seed in seeds]
    limits = ExpansionLimits(hops=hops, max_domains=1000, depth=1, pages=50)
    keywords = tuple(TOPICS["cycling"][:4])
    rows: dict[str, dict[int, float]] = {}
    for label, strategy, weights, kw in contenders(keywords):
        found: dict[int, list[int]] = {b: [] for b in budgets}
        for sim in sims:
            total = sim.web.fetchable_pages()
            run = sim.run(strategy, weights, budget=max(budgets) * total // 100, limits=limits,
                          active=active, keywords=kw)  # fmt: skip
            for b in budgets:
                found[b].append(run.at(b * total // 100))
        rows[label] = {b: statistics.mean(v) for b, v in found.items()}
    return {
        "webs": [sim.web.describe() for sim in sims],
        "truth": statistics.mean(len(sim.truth) for sim in sims),
        "fetchable_pages": statistics.mean(sim.web.fetchable_pages() for sim in sims),
        "budgets": budgets,
        "settings": {"expand": hops, "active": active, "expand_depth": 1, "expand_pages": 50},
        "rows": rows,
    }


def render(result: dict[str, Any]) -> str:
    """A Markdown table: found (share of the truth, ratio to bfs) at each budget."""
    budgets, truth, rows = result["budgets"], result["truth"], result["rows"]
    lines = [
        f"{len(result['webs'])} webs like: {result['webs'][0]}; "
        f"{truth:.1f} referring domains to find (not seeds), "
        f"{result['fetchable_pages']:,.0f} fetchable pages; {result['settings']}",
        "",
        "| contender | " + " | ".join(f"{b} % of pages" for b in budgets) + " |",
        "|---|" + "---|" * len(budgets),
    ]
    bfs = rows["bfs"]
    for label, found in rows.items():
        cells = []
        for b in budgets:
            ratio = f"{found[b] / bfs[b]:.2f}x bfs" if bfs[b] else "-"
            cells.append(f"{found[b]:.1f} ({100 * found[b] / truth:.0f} %, {ratio})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery_sim", description=__doc__)
    parser.add_argument("--domains", type=int, default=DEFAULT_DOMAINS)
    parser.add_argument(
        "--seeds", default=",".join(str(DEFAULT_SEED + k) for k in range(5)),
        help="generator seeds of the webs averaged over (default: 5 webs)",
    )  # fmt: skip
    parser.add_argument("--expand", type=int, default=2)
    parser.add_argument("--active", type=int, default=8)
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = simulate(
        [int(x) for x in args.seeds.split(",")],
        domains=args.domains,
        hops=args.expand,
        active=args.active,
        budgets=[int(b) for b in args.budgets.split(",")],
    )
    print(json.dumps(result, indent=1) if args.json else render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
