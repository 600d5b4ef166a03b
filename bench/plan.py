"""How big each benchmark runs: the full plan (`make bench`, < 15 min on 2 cores)
and the quick one (`--quick`, < 2 min).

The sizes are what fits the time budget on this machine kind: the plain-Scrapy
baseline alone needs ~100 CPU-s (~105 s) per run over the full corpus,
scrapy-redis ~20 CPU-s for the PostgreSQL site, so the distributed comparison
crawls that site only. The crawl benchmark stops after two repeats when a third
would pass its 300 s budget (today it does: ~105 s a pair; `--repeat 3` forces
three, ~11 minutes in all); the distributed one fits its three in 300 s. The broad-web
one (160 generated sites, 6 contenders, ~150 s a repeat) stops after two within 420 s.
The seen-set and memory benchmarks measure sizes, not speed: __main__ runs them side
by side. Freshness (~2.5 min): the corpus crawled with and without the resume journal
(~17 s a crawl, three pairs within 110 s), its linking pages recrawled with and
without conditional GET (~4 and ~10 s), then the same over a 1,200-page generated web
(~4 s a recrawl); two recrawl pairs per web, whose ratios vary by a few percent.

Quick: the PostgreSQL site, 1 repeat, 1 and 2 workers without the scrapy-redis
baseline (a full run has both), 50,000 URLs in the seen-set, a 1,500-page web
whose first half is warm-up, a 60-site broad web, freshness over the PostgreSQL site
and an 800-page web. Quick figures point the way; full ones count.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.corpus import SITES, Site, site_by_host

PG = (site_by_host("pgdocs.test"),)


@dataclass(frozen=True, slots=True)
class Plan:
    repeat: int
    crawl_sites: tuple[Site, ...]  # benchmark 1
    crawl_budget: float | None  # seconds; repeats past the second stop beyond it
    extract_sites: tuple[Site, ...]  # benchmark 2
    distributed_sites: tuple[Site, ...]  # benchmark 3
    distributed_workers: tuple[int, ...]
    distributed_scrapy_redis: bool
    distributed_budget: float | None
    seenset_urls: int  # benchmark 4
    seenset_probes: int  # URLs never added, to count false positives
    seenset_budget: float  # seconds of add_many before the Bloom side gives up
    ingest_pages: int  # benchmark 5: pages offered to our pipeline (edges_per_page each)
    ingest_edges_per_page: int
    ingest_naive_seconds: float  # the naive pipeline runs until this or all edges
    memory_pages: int  # benchmark 6
    memory_warm_up: float  # fraction of the pages after which RSS must stay flat
    quick: bool = False
    broadweb_sites: int = 160  # benchmark 7: generated sites (2 hosts, ~30 pages each)
    broadweb_workers: tuple[int, ...] = (1, 2, 4)  # cluster contenders
    broadweb_budget: float | None = None  # seconds; repeats past the first stop beyond it
    broadweb_timeout: float = 240.0  # seconds per crawl before it is killed
    freshness_sites: tuple[Site, ...] = SITES  # benchmark 9: the resume overhead's crawl
    freshness_pages: int = 1_200  # the generated web a conditional recrawl goes over
    freshness_recrawl_repeat: int = 2  # recrawl pairs per web (their spread is small)
    freshness_budget: float | None = None  # seconds: resume pairs past the second stop beyond

    def with_repeat(self, repeat: int) -> Plan:
        """An explicit --repeat is honoured whatever the time budgets say."""
        return replace(
            self,
            repeat=repeat,
            crawl_budget=None,
            distributed_budget=None,
            broadweb_budget=None,
            freshness_recrawl_repeat=repeat,
            freshness_budget=None,
        )

    def with_sites(self, sites: tuple[Site, ...]) -> Plan:
        return replace(self, crawl_sites=sites, extract_sites=sites)


FULL = Plan(
    repeat=3,
    crawl_sites=SITES,
    crawl_budget=300,
    extract_sites=SITES,
    distributed_sites=PG,
    distributed_workers=(1, 2, 4),
    distributed_scrapy_redis=True,
    # three repeats (~55 s each): with two, one noisy pair decided the medians
    distributed_budget=300,
    seenset_urls=1_000_000,
    seenset_probes=20_000,
    seenset_budget=240,
    ingest_pages=2_000,
    ingest_edges_per_page=20,
    ingest_naive_seconds=3.0,
    memory_pages=20_000,
    memory_warm_up=0.25,
    broadweb_sites=160,
    broadweb_workers=(1, 2, 4),
    broadweb_budget=420,
    broadweb_timeout=240.0,
    freshness_sites=SITES,
    freshness_pages=1_200,
    freshness_recrawl_repeat=2,
    freshness_budget=110,
)

QUICK = Plan(
    repeat=1,
    crawl_sites=PG,
    crawl_budget=None,
    extract_sites=PG,
    distributed_sites=PG,
    distributed_workers=(1, 2),
    distributed_scrapy_redis=False,
    distributed_budget=None,
    seenset_urls=50_000,
    seenset_probes=10_000,
    seenset_budget=40,
    ingest_pages=500,
    ingest_edges_per_page=20,
    ingest_naive_seconds=0.75,
    memory_pages=1_500,
    memory_warm_up=0.5,
    quick=True,
    broadweb_sites=60,
    broadweb_workers=(1, 2, 4),
    broadweb_budget=None,
    broadweb_timeout=150.0,
    freshness_sites=PG,
    freshness_pages=800,
    freshness_recrawl_repeat=1,
    freshness_budget=None,
)
