"""Benchmark 1, crawl: `scrapy crawl backlinks` (embedded default) vs the plain-Scrapy
baseline (bench/baseline_spider.py) over the real-page corpus.

Both crawl the same *.test sites through the same proxy server process, with the
same concurrency, alternating, N times. Per run: CPU seconds of the crawler
process (wait4), peak RSS, pages (distinct HTML pages the server answered 200
for) and pages/s over Scrapy's own elapsed time (start-up excluded). The edges
both sides found into the watched domains are compared: ours as stored in
SQLite (`a`/`area` links), the baseline's items normalized with our URL rules.

Target: ours ≤ 1/5 of the baseline's CPU seconds per 1,000 pages, same edges.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from bench.corpus import WATCH, corpus_description, ensure_corpus
from bench.measure import (
    PYTHON,
    Child,
    ProcessRun,
    budgeted,
    fmt_range,
    mib,
    paired_ratios,
    rotated,
)
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from bench.webserver import ProxyServer, html_pages

# Held equal on both sides; everything else is each side's default.
EQUAL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "32",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "INFO",
    "LOGSTATS_INTERVAL": "0",
    "TELNETCONSOLE_ENABLED": "0",
    "REMOTE_CONTROL_ENABLED": "0",
}
# Ours only: the fixture proxy is on 127.0.0.1; any depth (the baseline has no limit).
OURS_SETTINGS = {"LINKWATCH_ALLOW_PRIVATE_NETWORKS": "1"}
OURS_DEPTH = "1000"
CRAWL_TIMEOUT = 600.0
# The embedded crawls of this invocation, by seeds: the distributed benchmark
# reuses them when it crawls the same sites (a quick run) instead of crawling again.
EMBEDDED_RUNS: dict[tuple[str, ...], list[CrawlRun]] = {}
TITLE = "1. Crawl — `scrapy crawl backlinks` vs a plain Scrapy CrawlSpider"


class CrawlFailed(RuntimeError):
    pass


@dataclass(slots=True)
class CrawlRun:
    """One finished crawl process, measured."""

    side: str
    process: ProcessRun
    stats: dict[str, Any]
    pages: set[str] = field(default_factory=set)  # distinct HTML pages served 200
    requests: int = 0  # every request the server answered during the run
    workdir: Path | None = None

    @property
    def cpu(self) -> float:
        return self.process.cpu

    @property
    def elapsed(self) -> float:
        return float(self.stats.get("elapsed_time_seconds") or self.process.wall)

    @property
    def peak_rss(self) -> int:
        """Bytes: the crawler's own peak (VmHWM at close), else the kernel's ru_maxrss."""
        return int(self.stats.get("bench/peak_rss") or self.process.max_rss)

    @property
    def startup_cpu(self) -> float:
        return float(self.stats.get("bench/cpu_at_engine_start") or 0.0)

    @property
    def shutdown_cpu(self) -> float:
        """After the spider closed: stopping the reactor, interpreter teardown."""
        at_close = self.stats.get("bench/cpu_at_close")
        return max(0.0, self.cpu - float(at_close)) if at_close else 0.0

    def per_1000(self, cpu: float | None = None) -> float:
        return 1000 * (self.cpu if cpu is None else cpu) / max(1, len(self.pages))

    @property
    def pages_per_s(self) -> float:
        return len(self.pages) / self.elapsed if self.elapsed else 0.0


def settings_args(settings: dict[str, str]) -> list[str]:
    argv: list[str] = []
    for name, value in settings.items():
        argv += ["-s", f"{name}={value}"]
    return argv


def stats_settings(stats_file: Path) -> dict[str, str]:
    return {
        "EXTENSIONS": json.dumps({"bench.statsdump.StatsDump": 1000}),
        "BENCH_STATS_FILE": str(stats_file),
    }


def ours_argv(
    seeds: list[str],
    workdir: Path,
    tag: str,
    extra: dict[str, str] | None = None,
    watch: tuple[str, ...] = WATCH,
    depth: str = OURS_DEPTH,
    db: Path | None = None,
) -> list[str]:
    settings = {
        **EQUAL_SETTINGS,
        **OURS_SETTINGS,
        "LINKWATCH_DB": str(db or workdir / f"{tag}.db"),
        **stats_settings(workdir / f"{tag}.stats.json"),
        **(extra or {}),
    }
    return [
        PYTHON,
        "-m",
        "scrapy",
        "crawl",
        "backlinks",
        "-a",
        "seeds=" + ",".join(seeds),
        "-a",
        "watch=" + ",".join(watch),
        "-a",
        f"depth={depth}",
        *settings_args(settings),
    ]


def baseline_argv(
    seeds: list[str], workdir: Path, tag: str, extra: dict[str, str] | None = None
) -> list[str]:
    settings = {
        **EQUAL_SETTINGS,
        **stats_settings(workdir / f"{tag}.stats.json"),
        "BENCH_EDGES_FILE": str(workdir / f"{tag}.edges.json"),
        **(extra or {}),
    }
    return [
        PYTHON,
        "-m",
        "scrapy",
        "crawl",
        "baseline",
        "-a",
        "seeds=" + ",".join(seeds),
        "-a",
        "watch=" + ",".join(WATCH),
        *settings_args(settings),
    ]


def read_stats(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def run_crawl(
    side: str,
    argv: list[str],
    server: ProxyServer,
    workdir: Path,
    tag: str,
    env_extra: dict[str, str] | None = None,
    sample_rss: float = 0.0,
) -> CrawlRun:
    """Run one crawl process; one retry if it did not finish (a shared machine:
    someone else's `pkill` or a stray signal must not sink the whole benchmark)."""
    for attempt in range(2):
        server.new_entries()  # skip whatever came before
        stats_file = workdir / f"{tag}.stats.json"
        stats_file.unlink(missing_ok=True)
        for stale in workdir.glob(f"{tag}.db*"):
            stale.unlink()
        child = Child(
            argv,
            workdir / f"{tag}.log",
            env=server.crawl_env(**(env_extra or {})),
            sample_rss=sample_rss,
        )
        process = child.finish(CRAWL_TIMEOUT)
        stats = read_stats(stats_file)
        entries = server.new_entries()
        run = CrawlRun(side, process, stats, html_pages(entries), len(entries), workdir)
        reason = stats.get("finish_reason")
        if process.returncode == 0 and reason == "finished" and run.pages:
            return run
        problem = (
            f"{side} crawl {tag}: exit {process.returncode}, finish_reason {reason}, "
            f"{len(run.pages)} pages{' (timed out)' if process.timed_out else ''}"
        )
        if attempt == 0:
            print(f"  {problem}; retrying once", flush=True)
            time.sleep(1)
    raise CrawlFailed(f"{problem}\n{process.log_tail()}")


# --- edges ---------------------------------------------------------------------------


def ours_edges(db: Path) -> set[tuple[str, str]]:
    """(source, target) of the a/area edges our crawl stored (what LinkExtractor sees)."""
    con = sqlite3.connect(db)
    try:
        return {
            (s, t)
            for s, t in con.execute(
                "SELECT source_url, target_url FROM edges WHERE link_type IN ('a', 'area')"
            )
        }
    finally:
        con.close()


def baseline_edges(path: Path) -> set[tuple[str, str]]:
    """The baseline's watched items, in our canonical form."""
    from crawler.domains import WatchList
    from crawler.urls import RejectedURL, URLNormalizer, url_host
    from settings.base import LINKWATCH_MAX_URL_LENGTH, LINKWATCH_STRIP_PARAMS

    normalize = URLNormalizer(
        strip_params=LINKWATCH_STRIP_PARAMS, max_length=LINKWATCH_MAX_URL_LENGTH
    )
    watch = WatchList(WATCH)
    edges = set()
    for item in json.loads(path.read_text()):
        try:
            source, target = normalize(item["source_url"]), normalize(item["target_url"])
        except RejectedURL:
            continue
        if watch.match(url_host(target)) is not None:
            edges.add((source, target))
    return edges


def compare_edges(ours: set, baseline: set) -> tuple[bool, str]:
    same = ours == baseline
    text = (
        f"{len(ours):,} edges, identical to the baseline's"
        if same
        else f"ours {len(ours):,}, baseline {len(baseline):,}: {len(ours - baseline):,} only "
        f"ours (e.g. {sorted(ours - baseline)[:2]}), {len(baseline - ours):,} only baseline "
        f"(e.g. {sorted(baseline - ours)[:2]})"
    )
    return same, text


# --- the benchmark -------------------------------------------------------------------------


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    ensure_corpus()
    sites, repeat = plan.crawl_sites, plan.repeat
    section = Section(TITLE)
    section.notes.append(f"Corpus: {corpus_description(sites)}.")
    seeds = [site.seed for site in sites]
    ours_runs: list[CrawlRun] = []
    base_runs: list[CrawlRun] = []
    edge_check: tuple[bool, str] | None = None
    with ProxyServer("bench.corpus", ["--sites", ",".join(s.host for s in sites)], workdir) as srv:
        for i in budgeted(repeat, plan.crawl_budget):
            for side in rotated(["ours", "baseline"], i):
                tag = f"crawl-{side}-{i}"
                if side == "ours":
                    result = run_crawl(side, ours_argv(seeds, workdir, tag), srv, workdir, tag)
                    ours_runs.append(result)
                else:
                    result = run_crawl(
                        side,
                        baseline_argv(seeds, workdir, tag),
                        srv,
                        workdir,
                        tag,
                        env_extra={"SCRAPY_SETTINGS_MODULE": "bench.baseline_settings"},
                    )
                    base_runs.append(result)
                print(
                    f"  crawl {side:8} #{i}: {len(result.pages)} pages, {result.cpu:.1f} CPU-s, "
                    f"{result.pages_per_s:.0f} pages/s, {mib(result.peak_rss):.0f} MiB",
                    flush=True,
                )
            if edge_check is None:
                edge_check = compare_edges(
                    ours_edges(workdir / f"crawl-ours-{i}.db"),
                    baseline_edges(workdir / f"crawl-baseline-{i}.edges.json"),
                )
    EMBEDDED_RUNS[tuple(seeds)] = ours_runs
    return summarize(section, ours_runs, base_runs, edge_check, started)


def summarize(
    section: Section,
    ours: list[CrawlRun],
    base: list[CrawlRun],
    edge_check: tuple[bool, str] | None,
    started: float,
) -> Section:
    ours_cost = [r.per_1000() for r in ours]
    base_cost = [r.per_1000() for r in base]
    speedups = paired_ratios(base_cost, ours_cost)
    same_pages = all(r.pages == base[0].pages for r in ours + base)
    section.rows.append(
        Row(
            "CPU-s per 1,000 pages, baseline ÷ ours",
            "≥ 5x",
            fmt_range(speedups, "{:.2f}", "x"),
            verdict(bool(speedups) and median(speedups) >= 5),
        )
    )
    if edge_check is not None:
        section.rows.append(
            Row("edges into watched domains", "identical", edge_check[1], verdict(edge_check[0]))
        )
    section.rows.append(
        Row(
            "pages/s, ours ÷ baseline",
            "—",
            fmt_range(paired_ratios([r.pages_per_s for r in ours], [r.pages_per_s for r in base])),
            "info",
        )
    )
    section.tables.append(
        Table(
            ["", "ours (embedded default)", "plain Scrapy baseline"],
            [
                ["pages (HTML, 200)", _pages(ours), _pages(base)],
                [
                    "requests",
                    fmt_range([r.requests for r in ours], "{:,.0f}"),
                    fmt_range([r.requests for r in base], "{:,.0f}"),
                ],
                ["CPU-s per 1,000 pages", fmt_range(ours_cost), fmt_range(base_cost)],
                [
                    "… of which start-up (before the engine starts)",
                    fmt_range([r.per_1000(r.startup_cpu) for r in ours]),
                    fmt_range([r.per_1000(r.startup_cpu) for r in base]),
                ],
                [
                    "pages/s (Scrapy's elapsed time)",
                    fmt_range([r.pages_per_s for r in ours], "{:.0f}"),
                    fmt_range([r.pages_per_s for r in base], "{:.0f}"),
                ],
                [
                    "peak RSS, MiB",
                    fmt_range([mib(r.peak_rss) for r in ours], "{:.0f}"),
                    fmt_range([mib(r.peak_rss) for r in base], "{:.0f}"),
                ],
                [
                    "CPU utilisation (CPU-s ÷ wall-s)",
                    fmt_range([r.cpu / r.process.wall for r in ours], "{:.0%}"),
                    fmt_range([r.cpu / r.process.wall for r in base], "{:.0%}"),
                ],
            ],
        )
    )
    if not same_pages:
        section.notes.append(
            "The runs did not all fetch the same HTML pages: "
            + ", ".join(f"{r.side} {len(r.pages)}" for r in ours + base)
        )
    section.seconds = time.monotonic() - started
    return section


def _pages(runs: list[CrawlRun]) -> str:
    return fmt_range([len(r.pages) for r in runs], "{:,.0f}")
