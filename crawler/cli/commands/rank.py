"""`linkwatch rank`: every domain's authority, PageRank and harmonic centrality
of the domain graph, computed and stored; the only command that writes.

The ranking itself is crawler/intelligence/rank.py (numpy and scipy, imported
when the command runs).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from crawler.cli.common import (
    count,
    damping,
    describe,
    format_option,
    open_for_writing,
    positive_int,
    progress_option,
    store_options,
    utc_now,
)
from crawler.cli.output import write_rows
from crawler.cli.progress import Progress
from crawler.intelligence import authority

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from crawler.intelligence.rank import Ranking

COLUMNS = ("domain", "pagerank", "harmonic", "pagerank_raw", "harmonic_raw")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Compute PageRank and harmonic centrality on the domain graph (which "
        "registered domain links to which, from every crawled page), scale both "
        "to 0-100 and store them per domain: the authority that backlinks, "
        "refdomains, gap, report and export show. PageRank: damping 0.85, "
        "dangling domains spread their rank evenly, unweighted (many links from "
        "one domain count once); shown on a log scale, 0 = nobody links to it, "
        "100 = the highest. Harmonic centrality: the sum of 1/distance over the "
        "domains that reach a domain; exact up to --exact-limit domains, above "
        "that estimated from --samples random domains. Prints the top domains.",
        (
            "linkwatch rank",
            "linkwatch rank --top 50 --format csv > authority.csv",
            "linkwatch rank --exact-limit 0 --samples 512   # estimate harmonic centrality",
        ),
    )
    parser.add_argument(
        "--damping",
        type=damping,
        default=authority.DAMPING,
        help="PageRank damping factor, between 0 and 1 (default 0.85)",
    )
    parser.add_argument(
        "--exact-limit",
        type=count,
        default=authority.EXACT_LIMIT,
        metavar="N",
        help=f"exact harmonic centrality up to N domains (default {authority.EXACT_LIMIT:,})",
    )
    parser.add_argument(
        "--samples",
        type=positive_int,
        default=authority.SAMPLES,
        metavar="K",
        help=f"source domains sampled above --exact-limit (default {authority.SAMPLES})",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    parser.add_argument(
        "--top", type=count, default=20, metavar="N", help="domains to print (default 20)"
    )
    format_option(parser)
    progress_option(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: numpy and scipy, too slow to import for --help.
    from crawler.intelligence.rank import DomainGraph, rank_domains

    progress = Progress("linkwatch rank", force=args.progress)
    try:
        with open_for_writing(args) as store:
            graph = DomainGraph.from_pairs(_pairs(store.domain_graph(), progress))
            if graph.size == 0:
                print("linkwatch rank: the domain graph is empty: crawl first", file=sys.stderr)
                return 1
            result = rank_domains(
                graph,
                damping=args.damping,
                exact_limit=args.exact_limit,
                samples=args.samples,
                seed=args.seed,
                progress=progress.update,
            )
            ranked_at = utc_now()
            progress.update("storing", 0, graph.size)
            store.write_authority(result.rows(), ranked_at)
    finally:
        progress.close()
    print(_summary(graph.size, graph.edges, result), file=sys.stderr)
    if args.top:
        write_rows(result.top(args.top), COLUMNS, args.format)
    return 0


def _summary(domains: int, links: int, result: Ranking) -> str:
    harmonic = (
        f"exact ({result.harmonic_sources:,} searches)"
        if result.harmonic_exact
        else f"estimated from {result.harmonic_sources:,} sampled domains"
    )
    converged = "" if result.converged else " (stopped before converging)"
    return (
        f"linkwatch rank: {domains:,} domains, {links:,} links between them; "
        f"PageRank in {result.iterations} iterations{converged}; harmonic centrality "
        f"{harmonic}"
    )


def _pairs(rows: Iterator[tuple[str, str, int, int]], progress: Progress):
    for n, (source, target, _links, _pages) in enumerate(rows, 1):
        if n % 100_000 == 0:
            progress.update("reading the domain graph", n)
        yield source, target
