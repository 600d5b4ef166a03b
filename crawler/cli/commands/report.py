"""`linkwatch report DOMAIN --out DIR`: an HTML report with charts.

This module reads the store in one pass over the edges; the charts and the
page are crawler/intelligence/report.py (matplotlib, imported only to draw).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import (
    UsageError,
    describe,
    domain_argument,
    open_for_reading,
    parse_target,
    progress_option,
    score,
    store_options,
    utc_now,
)
from crawler.cli.link_quality import quality_model, strongest_and_weakest
from crawler.cli.progress import Progress
from crawler.cli.toxic_rules import assess_collected, rule_options, rules_from
from crawler.intelligence.authority import strongest_first
from crawler.intelligence.broken import TargetLinks, broken_targets, referring_domains
from crawler.intelligence.network import diversity
from crawler.intelligence.report import ReportData, write_report
from crawler.intelligence.timeline import build_timeline
from crawler.intelligence.toxic import LinkCollector

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from crawler.intelligence.toxic import ToxicRules
    from pipelines.stores.base import Store, Target

# Rows of the "top" tables and charts.
TOP = 50


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Write a self-contained HTML report on DOMAIN's backlinks into DIR: "
        "index.html and its charts as PNG files (referring domains and new/lost "
        "links over time, top anchors, top referring domains by authority, "
        "followed and nofollow links, toxic domains), plus overview.png with all "
        "of them; and the broken target pages as `linkwatch broken` last checked "
        "them. No scripts and nothing fetched: open it, zip it, serve it.",
        (
            "linkwatch report mysite.com --out report/",
            "linkwatch rank && linkwatch report mysite.com --out report/ --whitelist trusted.txt",
        ),
    )
    domain_argument(parser)
    parser.add_argument("--out", metavar="DIR", required=True, help="directory to write into")
    parser.add_argument(
        "--min-score",
        type=score,
        default=50,
        metavar="N",
        help="toxic domains scoring at least N are highlighted (default 50)",
    )
    rule_options(parser)
    progress_option(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    rules = rules_from(args)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out: {out} exists and is not a directory")
    progress = Progress("linkwatch report", force=args.progress)
    try:
        with open_for_reading(args) as store:
            data = _gather(store, target, rules, args.min_score, progress)
        index = write_report(data, out, progress.stage_callback("charts"))
    except OSError as exc:
        raise UsageError(f"--out: cannot write {out}: {exc.strerror or exc}") from None
    finally:
        progress.close()
    print(f"linkwatch report: {index}", file=sys.stderr)
    return 0


def _gather(
    store: Store,
    target: Target,
    rules: tuple[ToxicRules, frozenset[str]],
    min_score: int,
    progress: Progress,
) -> ReportData:
    """Everything the report shows, read from the store; `rules`: the toxic
    rules and the whitelist."""
    now = utc_now()
    collector = LinkCollector()
    targets = TargetLinks()
    totals = {"live": 0, "dofollow": 0, "lost": 0}
    edges = _counted(store.backlinks(target, state="all"), (collector, targets), totals, progress)
    timeline = build_timeline(edges, now=now)
    progress.update("toxic rules", 0, 1)
    assessed = assess_collected(store, target, collector, *rules)
    toxic = [t for t in assessed if t.score > 0 and not t.whitelisted]
    domains = list(store.annotate_authority(store.refdomains(target)))
    domains.sort(key=strongest_first)
    ranked = store.authority([r["source_domain"] for r in domains[:1]])
    progress.update("link quality", 0, 1)
    model = quality_model(store, target, assessed)
    strongest, weakest = strongest_and_weakest(
        model, store.annotate_authority(store.backlinks(target)), TOP
    )
    addresses = store.domain_addresses([r["source_domain"] for r in domains])
    network = diversity({r["source_domain"]: addresses.get(r["source_domain"]) for r in domains})
    return ReportData(
        target=target.host or target.domain,
        generated_at=now,
        live_edges=totals["live"],
        dofollow=totals["dofollow"],
        lost_edges=totals["lost"],
        refdomains=len(domains),
        timeline=timeline,
        anchors=list(store.anchors(target, limit=TOP)),
        top_domains=domains[:TOP],
        toxic=toxic,
        ranked_at=next(iter(ranked.values()), {}).get("ranked_at"),
        min_score=min_score,
        broken=_broken(store, targets),
        network=network,
        strongest=strongest,
        weakest=weakest,
    )


def _broken(store: Store, targets: TargetLinks) -> list[dict[str, Any]] | None:
    """The broken targets as `linkwatch broken` last checked them; None when
    none of the targets was checked yet."""
    checks = store.target_checks(targets.urls)
    if not checks:
        return None
    return broken_targets(targets, checks, store.authority(referring_domains(targets, checks)))


def _counted(
    edges: Iterator[dict[str, Any]],
    collectors: tuple[LinkCollector, TargetLinks],
    totals: dict[str, int],
    progress: Progress,
) -> Iterator[dict[str, Any]]:
    """The edges, passed on to the timeline while counting them and collecting
    the live ones for the toxic rules and the broken targets: one pass over
    every edge."""
    for n, edge in enumerate(edges, 1):
        if edge["lost_at"] is None:
            totals["live"] += 1
            totals["dofollow"] += not edge["nofollow"]
            for collector in collectors:
                collector.add(edge)
        else:
            totals["lost"] += 1
        if n % 10_000 == 0:
            progress.update("reading backlinks", n)
        yield edge
