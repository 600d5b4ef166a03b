"""Benchmark 6, memory: peak RSS of one worker over a 20,000-page crawl of the fixture
web (crawler/testing/fixtureweb, generated at that size; 2,000 with --quick), and whether
it grows with the pages crawled.

One `scrapy crawl backlinks` on the embedded default (the fixture web's seeds,
watch list and depth). Inside it, bench/statsdump.py samples every second the
RSS, the responses received so far, and what holds memory in a crawl: requests
waiting in the scheduler, in the downloader, responses in the scraper, items
in the pipelines. The baseline is the worker itself after warm-up: the largest
RSS (VmHWM) until a quarter (quick: half) of the pages were crawled; growth =
the largest RSS by the end ÷ that - 1. Peak RSS is VmHWM when the spider closed
(pipelines flushed). Measured once (a single long crawl; the repeat count does
not apply).

Target: flat, ≤ 10% growth after warm-up.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.crawl import ours_argv, run_crawl
from bench.measure import mib
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from bench.webserver import ProxyServer
from crawler.testing.fixtureweb import MAX_DEPTH, build_web

TITLE = "6. Memory - one worker over a generated 20,000-page web"
CHECKPOINTS = (0.1, 0.25, 0.5, 0.75, 1.0)


def checkpoints(series: list[dict[str, Any]]) -> dict[float, dict[str, Any]]:
    """Fraction of responses -> the last sample before it, with the largest RSS so far."""
    total = max((p["responses"] for p in series), default=0)
    out: dict[float, dict[str, Any]] = {}
    largest = 0
    fractions = list(CHECKPOINTS)
    for point in series:
        # VmHWM (the kernel's high-water mark) also catches peaks between samples.
        largest = max(largest, point["rss"], point.get("peak") or 0)
        while fractions and point["responses"] > fractions[0] * total:
            fractions.pop(0)
        if fractions:
            out[fractions[0]] = {**point, "largest": largest}
    for fraction in fractions:  # the crawl's last samples belong to 100%
        out[fraction] = {**series[-1], "largest": largest}
    previous = {**series[0], "largest": series[0]["rss"]}
    for fraction in CHECKPOINTS:  # none sampled before a checkpoint: the one before it
        previous = out.setdefault(fraction, previous)
    return out


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    pages = plan.memory_pages
    web = build_web(version=1, pages=pages, seed=0)
    section = Section(TITLE.replace("20,000", f"{pages:,}"))
    with ProxyServer("crawler.testing.fixtureweb", ["--pages", str(pages)], workdir) as server:
        tag = "memory"
        argv = ours_argv(
            list(web.seeds),
            workdir,
            tag,
            extra={"BENCH_SERIES_INTERVAL": "1"},
            watch=tuple(web.watch),
            depth=str(MAX_DEPTH),
        )
        crawl = run_crawl("ours", argv, server, workdir, tag)
    series = crawl.stats.get("bench/series") or []
    if len(series) < 4:
        section.not_measured("RSS growth after warm-up", "≤ 10%", "too few samples")
        return section
    points = checkpoints(series)
    warm = points[plan.memory_warm_up]["largest"]
    growth = points[1.0]["largest"] / warm - 1
    section.rows.append(
        Row(
            f"RSS growth after warm-up (largest RSS ÷ largest by {plan.memory_warm_up:.0%} "
            "of the pages - 1)",
            "≤ 10%",
            f"{growth:+.1%}",
            verdict(growth <= 0.10),
        )
    )
    section.rows.append(
        Row(
            "peak RSS of the worker (VmHWM when the spider closed)",
            "-",
            f"{mib(crawl.peak_rss):.0f} MiB",
            "info",
        )
    )

    def cell(fraction: float, key: str) -> str:
        value = points[fraction].get(key)
        return "-" if value is None else f"{value:,}"

    def mebibytes(fraction: float, key: str) -> str:
        return f"{mib(points[fraction][key]):.0f}"

    section.tables.append(
        Table(
            ["responses received", *(f"{f:.0%}" for f in CHECKPOINTS)],
            [
                ["responses", *(cell(f, "responses") for f in CHECKPOINTS)],
                ["largest RSS so far, MiB", *(mebibytes(f, "largest") for f in CHECKPOINTS)],
                ["RSS, MiB", *(mebibytes(f, "rss") for f in CHECKPOINTS)],
                ["requests in the scheduler", *(cell(f, "scheduled") for f in CHECKPOINTS)],
                ["requests downloading", *(cell(f, "downloading") for f in CHECKPOINTS)],
                ["responses in the scraper", *(cell(f, "scraping") for f in CHECKPOINTS)],
                ["items in the pipelines", *(cell(f, "items") for f in CHECKPOINTS)],
            ],
        )
    )
    responses = int(crawl.stats.get("response_received_count") or 0)
    section.notes.append(
        f"{responses:,} responses ({crawl.requests:,} requests served), {crawl.cpu:.0f} CPU-s "
        f"({1000 * crawl.cpu / max(1, responses):.2f} per 1,000 responses), "
        f"{responses / crawl.elapsed:.0f} responses/s; {len(series)} samples."
    )
    section.seconds = time.monotonic() - started
    return section
