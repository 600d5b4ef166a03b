"""Benchmark 7, broad web: politeness and throughput on ~160 slow sites, the reference
for crawl speed and politeness on the real web's shape.

The web is bench/broadweb_web.py's (160 sites x 2 hosts, ~4,900 pages, a latency per
host, varied robots.txt, a few Crawl-delay hosts, one asking Crawl-delay: 120),
served as an HTTP proxy by its own process, which logs every request. Every
contender is a real `scrapy crawl` process (or N of them) through that proxy:
seeds the 160 www roots, watch mysite.test and competitor.test, depth 3.

- plain Scrapy, polite: bench/broadweb_baseline.py (bench/baseline_spider.py's
  CrawlSpider kept to the seeds' registered domains), CONCURRENT_REQUESTS=128,
  CONCURRENT_REQUESTS_PER_DOMAIN=2, DOWNLOAD_DELAY=0.001 (what keeps Scrapy 2.19's
  downloader within the per-domain limit), no AutoThrottle, robots.txt obeyed.
- linkwatch embedded, tuned: `scrapy crawl backlinks`, CONCURRENT_REQUESTS=128,
  CONCURRENT_REQUESTS_PER_DOMAIN=2, no AutoThrottle.
- linkwatch as shipped: no setting changed (but the proxy, private networks
  allowed, the store path, logging and the stats dump).
- cluster, N workers: N `scrapy crawl backlinks -s REDIS_URL=...` sharing one
  redis-server, each CONCURRENT_REQUESTS=64, LINKWATCH_HOST_CONCURRENCY=2, no
  AutoThrottle, LINKWATCH_CLOSE_WHEN_IDLE=2.

Figures per contender, from the server's access log unless said: pages/s (pages
stored, or fetched for the baseline, ÷ the time from the first request's start to
the last one's end), crawl CPU-ms per page (every worker's CPU between engine start
and spider close, from wait4 and bench/statsdump.py, plus redis-server's), the
most requests any host was serving at once, the smallest gap between two request
starts on a Crawl-delay host ÷ the delay asked (robots.txt excluded), robots.txt
fetches per host, the average requests in flight while 10% to 90% of the pages
were served (and ÷ CONCURRENT_REQUESTS x workers), edges stored vs the truth
(the generator's own, bench/broadweb_web.py: linkwatch's excludes the Crawl-delay:
120 host; the baseline, which ignores Crawl-delay, has its own).

Targets: at most 2 requests at once on any host (every contender); for linkwatch,
Crawl-delay gaps ≥ 0.95 x the delay, robots.txt fetched at most once per host, no
page robots.txt forbids fetched, edges exactly the truth; pages/s shipped ÷ tuned
≥ 0.8 and 2 workers ÷ 1 worker ≥ 1.7; ≥ 80% of the 64 allowed requests in flight
mid-crawl for one cluster worker.

A run that fails, stalls (no request for 30 s) or outlasts its timeout is killed
and reported as such, with whatever the server saw; the other runs go on. Repeats
past the second stop when a third would end beyond the plan's budget.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import sqlite3
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from bench.broadweb_web import WATCH, BroadWeb
from bench.broadweb_web import server_figures as compute_figures
from bench.measure import PYTHON, ROOT, Child, CPUDelta, Quiet, budgeted, fmt_range, rotated
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from bench.webserver import ProxyServer

STALL_SECONDS = 30.0
HOST_LIMIT = 2
# The shipped CONCURRENT_REQUESTS_PER_DOMAIN (settings/base.py): its limit per host.
SHIPPED_HOST_LIMIT = 4
DEPTH = "3"
LOG_SETTINGS = {"LOG_LEVEL": "INFO", "LOGSTATS_INTERVAL": "0"}
BASELINE_SETTINGS = {
    "CONCURRENT_REQUESTS": "128",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
    "DOWNLOAD_DELAY": "0.001",
    "AUTOTHROTTLE_ENABLED": "0",
    "ROBOTSTXT_OBEY": "1",
    "SPIDER_MODULES": "bench.broadweb_baseline",
}
TUNED_SETTINGS = {
    "CONCURRENT_REQUESTS": "128",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
    "AUTOTHROTTLE_ENABLED": "0",
}
CLUSTER_SETTINGS = {
    "CONCURRENT_REQUESTS": "64",
    "LINKWATCH_HOST_CONCURRENCY": "2",
    "AUTOTHROTTLE_ENABLED": "0",
    "LINKWATCH_CLOSE_WHEN_IDLE": "2",
}


def title(sites: int) -> str:
    return f"7. Broad web — politeness and throughput on {sites} slow sites"


@dataclass(frozen=True, slots=True)
class Contender:
    key: str
    label: str
    kind: str  # baseline | embedded | cluster
    settings: dict[str, str]
    workers: int = 1
    host_limit: int = HOST_LIMIT  # the per-host limit this contender is configured to hold

    @property
    def linkwatch(self) -> bool:
        return self.kind != "baseline"


def contenders(plan: Plan) -> list[Contender]:
    out = [
        Contender("baseline", "plain Scrapy, polite", "baseline", BASELINE_SETTINGS),
        Contender("tuned", "linkwatch embedded, tuned", "embedded", TUNED_SETTINGS),
        Contender("shipped", "linkwatch as shipped", "embedded", {}, host_limit=SHIPPED_HOST_LIMIT),
    ]
    for n in plan.broadweb_workers:
        label = f"cluster, {n} worker{'s' if n > 1 else ''}"
        out.append(Contender(f"cluster-{n}", label, "cluster", CLUSTER_SETTINGS, n))
    return out


@dataclass(slots=True)
class BroadRun:
    contender: Contender
    repeat: int
    figures: dict[str, Any]
    problem: str | None = None
    pages_stored: int = 0
    crawl_cpu: float = 0.0  # workers between engine start and spider close, + redis
    total_cpu: float = 0.0  # workers, whole processes
    redis_cpu: float = 0.0
    server_cpu: float = 0.0
    allowed: int | None = None  # CONCURRENT_REQUESTS x workers
    edges_exact: bool = False
    edges_text: str = ""
    process_wall: float = 0.0

    @property
    def wall(self) -> float:
        return float(self.figures.get("wall") or 0.0)

    @property
    def pages_per_s(self) -> float:
        return self.pages_stored / self.wall if self.wall else 0.0

    @property
    def steady_pages_per_s(self) -> float:
        """Pages/s between the 10% and 90% page marks (server-side)."""
        return float(self.figures.get("steady_pages_per_s") or 0.0)

    @property
    def cpu_ms_per_page(self) -> float:
        return 1000 * self.crawl_cpu / max(1, self.pages_stored)

    @property
    def host_max(self) -> int:
        return int(self.figures.get("host_concurrency") or 0)

    @property
    def gap_ratio(self) -> float | None:
        worst = self.figures.get("crawl_delay_worst")
        return worst["ratio"] if worst else None

    @property
    def robots_max(self) -> int:
        return int(self.figures.get("robots_max") or 0)

    @property
    def breaches(self) -> int:
        """Pages robots.txt forbids fetched: Disallow:ed ones, and for linkwatch (which
        skips a host asking a Crawl-delay above its cap) those of the 120 s host."""
        skipped = int(self.figures.get("skip_host_pages") or 0)
        disallowed = int(self.figures.get("disallowed_fetched") or 0)
        return disallowed + (skipped if self.contender.linkwatch else 0)

    @property
    def fill(self) -> float | None:
        return self.figures.get("fill")


@dataclass(slots=True)
class Context:
    web: BroadWeb
    server: ProxyServer
    workdir: Path
    seeds_file: Path
    timeout: float
    redis: Any = None  # a started bench redis-server, or None
    redis_problem: str | None = None
    shipped_concurrency: int | None = None
    truth_polite: set[tuple[str, str]] = field(default_factory=set)
    truth_plain: set[tuple[str, str]] = field(default_factory=set)


# --- argv ------------------------------------------------------------------------------


def _extensions(module: str) -> str:
    """The settings module's EXTENSIONS plus the stats dump (-s replaces the dict)."""
    try:
        base = dict(getattr(importlib.import_module(module), "EXTENSIONS", {}) or {})
    except Exception:
        base = {}
    base["bench.statsdump.StatsDump"] = 1000
    return json.dumps(base)


def _settings_args(settings: dict[str, str]) -> list[str]:
    argv: list[str] = []
    for name, value in settings.items():
        argv += ["-s", f"{name}={value}"]
    return argv


def crawl_argv(c: Contender, ctx: Context, tag: str, db: Path) -> list[str]:
    stats = {"BENCH_STATS_FILE": str(ctx.workdir / f"{tag}.stats.json")}
    if c.kind == "baseline":
        settings = {
            **LOG_SETTINGS,
            **c.settings,
            **stats,
            "EXTENSIONS": _extensions("bench.baseline_settings"),
            "BENCH_EDGES_FILE": str(ctx.workdir / f"{tag}.edges.json"),
        }
        seeds = ",".join(ctx.web.seeds)
        return [PYTHON, "-m", "scrapy", "crawl", "broadweb_baseline", "-a", f"seeds={seeds}",
                "-a", "watch=" + ",".join(WATCH), *_settings_args(settings)]  # fmt: skip
    settings = {
        "LINKWATCH_ALLOW_PRIVATE_NETWORKS": "1",
        "LINKWATCH_DB": str(db),
        **LOG_SETTINGS,
        **stats,
        "EXTENSIONS": _extensions("settings.embedded"),
        **c.settings,
    }
    if c.kind == "cluster":
        settings["REDIS_URL"] = ctx.redis.url
    return [PYTHON, "-m", "scrapy", "crawl", "backlinks", "-a", f"seeds=@{ctx.seeds_file}",
            "-a", "watch=" + ",".join(WATCH), "-a", f"depth={DEPTH}",
            *_settings_args(settings)]  # fmt: skip


def shipped_concurrency(server: ProxyServer) -> int | None:
    """CONCURRENT_REQUESTS of `scrapy crawl backlinks` as shipped (embedded profile)."""
    try:
        out = subprocess.run(
            [PYTHON, "-m", "scrapy", "settings", "--get", "CONCURRENT_REQUESTS"],
            cwd=ROOT,
            env=server.crawl_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
        return int(out.strip().splitlines()[-1])
    except (subprocess.SubprocessError, OSError, ValueError, IndexError):
        return None


# --- one run -----------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _stored(db: Path) -> tuple[int, set[tuple[str, str]]] | None:
    if not db.exists():
        return None
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            pages = con.execute("SELECT COUNT(*) FROM pages").fetchone()[0]
            edges = {(s, t) for s, t in con.execute("SELECT source_url, target_url FROM edges")}
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return pages, edges


def _baseline_edges(path: Path) -> set[tuple[str, str]] | None:
    items = _read_json(path)
    if items is None:
        return None
    edges = set()
    for item in items:
        host = (item["target_url"].split("://", 1)[-1].split("/", 1)[0]).lower()
        if any(host == w or host.endswith("." + w) for w in WATCH):
            edges.add((item["source_url"], item["target_url"]))
    return edges


def compare_edges(got: set | None, truth: set) -> tuple[bool, str]:
    if got is None:
        return False, "no store"
    if got == truth:
        return True, f"exact ({len(truth):,})"
    missing, extra = truth - got, got - truth
    return False, (
        f"{len(got):,} of {len(truth):,}: {len(missing):,} missing"
        + (f" (e.g. {sorted(missing)[0][0]})" if missing else "")
        + f", {len(extra):,} extra"
        + (f" (e.g. {sorted(extra)[0][0]})" if extra else "")
    )


def run_one(c: Contender, ctx: Context, i: int) -> BroadRun:
    tag = f"broadweb-{c.key}-{i}"
    db = ctx.workdir / f"{tag}.db"
    for stale in ctx.workdir.glob(f"{tag}*"):
        stale.unlink()
    env = ctx.server.crawl_env()
    if c.kind == "baseline":
        env["SCRAPY_SETTINGS_MODULE"] = "bench.baseline_settings"
    if c.kind == "cluster":
        client = ctx.redis.client()
        client.flushall()
        client.close()
    ctx.server.new_entries()  # skip whatever came before
    redis_cpu = CPUDelta(ctx.redis.pid if c.kind == "cluster" else None)
    server_cpu = CPUDelta(ctx.server.pid)
    with redis_cpu, server_cpu:
        children = []
        for w in range(c.workers):
            wtag = tag if c.workers == 1 else f"{tag}-w{w}"
            argv = crawl_argv(c, ctx, wtag, db)
            children.append(Child(argv, ctx.workdir / f"{wtag}.log", env=env))
        quiet = Quiet(ctx.server.access_log, STALL_SECONDS)
        processes = [child.finish(ctx.timeout, stalled=quiet) for child in children]
    entries = ctx.server.new_entries()

    if c.kind == "baseline":
        allowed = int(c.settings["CONCURRENT_REQUESTS"])
    elif c.key == "shipped":
        allowed = ctx.shipped_concurrency
    else:
        allowed = int(c.settings["CONCURRENT_REQUESTS"]) * c.workers
    run = BroadRun(c, i, compute_figures(entries, ctx.web, allowed), allowed=allowed)
    run.redis_cpu = redis_cpu.value
    run.server_cpu = server_cpu.value
    run.process_wall = max(p.started + p.wall for p in processes) - min(
        p.started for p in processes
    )
    problems = []
    crawl_cpu = 0.0
    for w, process in enumerate(processes):
        wtag = tag if c.workers == 1 else f"{tag}-w{w}"
        stats = _read_json(ctx.workdir / f"{wtag}.stats.json") or {}
        run.total_cpu += process.cpu
        cpu = process.cpu
        if stats.get("bench/cpu_at_close"):
            cpu = float(stats["bench/cpu_at_close"]) - float(
                stats.get("bench/cpu_at_engine_start") or 0.0
            )
        crawl_cpu += cpu
        who = f"worker {w + 1} of {c.workers}: " if c.workers > 1 else ""
        if process.timed_out:
            if process.wall >= ctx.timeout:
                problems.append(f"{who}killed at the {ctx.timeout:.0f} s timeout")
            else:
                problems.append(f"{who}killed: stalled, no request for {STALL_SECONDS:.0f} s")
        elif process.returncode != 0:
            last = (process.log_tail(3).splitlines() or ["no log"])[-1]
            problems.append(f"{who}exit {process.returncode}: {last[:160]}")
        elif stats.get("finish_reason") != "finished":
            problems.append(f"{who}finish_reason {stats.get('finish_reason')}")
    run.crawl_cpu = crawl_cpu + run.redis_cpu
    run.problem = "; ".join(problems) or None

    if c.kind == "baseline":
        run.pages_stored = int(run.figures.get("pages") or 0)
        got = _baseline_edges(ctx.workdir / f"{tag}.edges.json")
        run.edges_exact, run.edges_text = compare_edges(got, ctx.truth_plain)
    else:
        stored = _stored(db)
        run.pages_stored = stored[0] if stored else 0
        run.edges_exact, run.edges_text = compare_edges(
            stored[1] if stored else None, ctx.truth_polite
        )
    return run


def describe_run(r: BroadRun) -> str:
    f = r.figures
    gap = "—" if r.gap_ratio is None else f"{r.gap_ratio:.2f}"
    fill = "" if r.fill is None else f" ({r.fill:.0%})"
    return (
        f"{r.pages_stored:,} pages, {r.wall:.1f} s, {r.pages_per_s:.0f} pages/s, "
        f"{r.cpu_ms_per_page:.2f} CPU-ms/page, host max {r.host_max}, delay gap ratio {gap}, "
        f"robots max {r.robots_max}, in flight {f.get('in_flight', 0):.0f}{fill}, "
        f"edges {r.edges_text}" + (f"; PROBLEM: {r.problem}" if r.problem else "")
    )


# --- the benchmark -----------------------------------------------------------------------


def _cluster_missing() -> str | None:
    missing = [
        n for n in ("settings.cluster", "crawler.frontier") if importlib.util.find_spec(n) is None
    ]
    return f"{' and '.join(missing)} not written yet" if missing else None


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    sites = plan.broadweb_sites
    section = Section(title(sites))
    web = BroadWeb(sites)
    polite, plain = web.truth_for(), web.truth_for(None, None)
    seeds_file = workdir / "seeds.txt"
    seeds_file.write_text("\n".join(web.seeds) + "\n")
    runs: list[BroadRun] = []
    failures: dict[str, str] = {}
    every = contenders(plan)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(
            ProxyServer("bench.broadweb_web", ["--sites", str(sites)], workdir)
        )
        ctx = Context(web, server, workdir, seeds_file, plan.broadweb_timeout)
        ctx.truth_polite, ctx.truth_plain = polite.edges, plain.edges
        if any(c.kind == "cluster" for c in every):
            ctx.redis_problem = _cluster_missing()
            if ctx.redis_problem is None:
                try:
                    from bench.servers import bench_redis

                    ctx.redis = stack.enter_context(bench_redis(workdir))
                except Exception as exc:  # no redis-server: the cluster rows say so
                    ctx.redis_problem = f"no redis-server: {str(exc).splitlines()[0]}"
        ctx.shipped_concurrency = shipped_concurrency(server)
        for i in budgeted(plan.repeat, plan.broadweb_budget):
            for c in rotated(every, i):
                if c.kind == "cluster" and ctx.redis is None:
                    failures[c.key] = ctx.redis_problem or "no redis"
                    continue
                try:
                    result = run_one(c, ctx, i)
                except Exception as exc:  # one broken contender must not hide the others
                    failures[c.key] = f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0]}"
                    print(f"  broadweb {c.key:10} #{i}: failed: {failures[c.key]}", flush=True)
                    continue
                runs.append(result)
                print(f"  broadweb {c.key:10} #{i}: {describe_run(result)}", flush=True)
    summarize(section, every, runs, failures, ctx)
    section.notes.append(
        f"The web: {web.describe()}. Truth (linkwatch, depth 3, Crawl-delay cap 30 s): "
        f"{len(polite.pages):,} pages, {len(polite.edges):,} edges; plain Scrapy (Crawl-delay "
        f"ignored, no depth limit): {len(plain.pages):,} pages, {len(plain.edges):,} edges."
    )
    section.seconds = time.monotonic() - started
    return section


# --- the report -----------------------------------------------------------------------------


def _by(runs: list[BroadRun], key: str) -> list[BroadRun]:
    return [r for r in runs if r.contender.key == key]


def _paired(runs: list[BroadRun], num: str, den: str, rate: str = "pages_per_s") -> list[float]:
    a = {r.repeat: getattr(r, rate) for r in _by(runs, num) if not r.problem}
    b = {r.repeat: getattr(r, rate) for r in _by(runs, den) if not r.problem}
    return [a[i] / b[i] for i in sorted(a) if b.get(i)]


def _short(c: Contender) -> str:
    return {"baseline": "Scrapy", "tuned": "tuned", "shipped": "shipped"}.get(
        c.key, f"{c.workers}w"
    )


def summarize(
    section: Section,
    every: list[Contender],
    runs: list[BroadRun],
    failures: dict[str, str],
    ctx: Context,
) -> None:
    ran = [c for c in every if _by(runs, c.key)]
    ours = [c for c in ran if c.linkwatch]

    # Per-host concurrency: worst run of every contender.
    if ran:
        worst = {c.key: max(r.host_max for r in _by(runs, c.key)) for c in ran}
        text = ", ".join(f"{_short(c)} {worst[c.key]} (≤ {c.host_limit})" for c in ran)
        section.rows.append(
            Row(
                "most concurrent requests on one host (server-side), worst run",
                f"≤ its limit for every contender ({HOST_LIMIT}; shipped {SHIPPED_HOST_LIMIT})",
                text,
                verdict(all(worst[c.key] <= c.host_limit for c in ran)),
            )
        )
    else:
        section.not_measured("most concurrent requests on one host", f"≤ {HOST_LIMIT}", "no run")

    def ours_row(figure: str, target: str, value, fmt, ok) -> None:
        if not ours:
            section.not_measured(figure, target, "no linkwatch run")
            return
        values = {c.key: value(_by(runs, c.key)) for c in ours}
        text = ", ".join(f"{_short(c)} {fmt(values[c.key])}" for c in ours)
        section.rows.append(Row(figure, target, text, verdict(all(ok(v) for v in values.values()))))

    def worst_gap(rs: list[BroadRun]) -> float | None:
        gaps = [r.gap_ratio for r in rs if r.gap_ratio is not None]
        return min(gaps) if gaps else None

    ours_row(
        "Crawl-delay honoured: smallest gap between request starts ÷ delay asked, worst host",
        "≥ 0.95 (linkwatch)",
        worst_gap,
        lambda v: "—" if v is None else f"{v:.2f}",
        lambda v: v is not None and v >= 0.95,
    )
    ours_row(
        "robots.txt fetches per host, most",
        "≤ 1 (linkwatch)",
        lambda rs: max(r.robots_max for r in rs),
        str,
        lambda v: v <= 1,
    )
    ours_row(
        "pages robots.txt forbids fetched (Disallow:, the Crawl-delay: 120 host)",
        "0 (linkwatch)",
        lambda rs: max(r.breaches for r in rs),
        str,
        lambda v: v == 0,
    )
    ours_row(
        "edges stored vs the truth",
        "exact (linkwatch)",
        lambda rs: (sum(r.edges_exact for r in rs), len(rs)),
        lambda v: f"{v[0]}/{v[1]} exact",
        lambda v: v[0] == v[1],
    )
    for num, den, figure, target, bound, rate in (
        ("shipped", "tuned", "pages/s, shipped ÷ tuned", "≥ 0.8", 0.8, "pages_per_s"),
        (
            "cluster-2",
            "cluster-1",
            "steady pages/s (10%-90% of pages), 2 workers ÷ 1 worker",
            "≥ 1.7",
            1.7,
            "steady_pages_per_s",
        ),
        (
            "cluster-2",
            "cluster-1",
            "pages/s over the whole crawl, 2 workers ÷ 1 worker (start-up and the slow "
            "hosts' tail included: for scale)",
            "—",
            0.0,
            "pages_per_s",
        ),
    ):
        ratios = _paired(runs, num, den, rate)
        if ratios:
            section.rows.append(
                Row(
                    figure,
                    target,
                    fmt_range(ratios, "{:.2f}"),
                    verdict(median(ratios) >= bound) if bound else "—",
                )
            )
        else:
            why = failures.get(num) or failures.get(den) or "a side did not finish a run"
            section.not_measured(figure, target, why)
    one = [r for r in _by(runs, "cluster-1") if r.fill is not None]
    if any(not r.problem for r in one):
        one = [r for r in one if not r.problem]  # a killed run's window is not the crawl's
    figure = "requests in flight mid-crawl ÷ allowed (64), 1-worker cluster"
    if one:
        fills = [r.fill for r in one]
        section.rows.append(
            Row(figure, "≥ 80%", fmt_range(fills, "{:.0%}"), verdict(median(fills) >= 0.8))
        )
    else:
        section.not_measured(figure, "≥ 80%", failures.get("cluster-1", "no run"))

    _table(section, every, runs, failures)
    _notes(section, runs, ran, ctx)


def _table(
    section: Section, every: list[Contender], runs: list[BroadRun], failures: dict[str, str]
) -> None:
    """One row per contender."""
    rows = []
    for c in every:
        rs = _by(runs, c.key)
        if not rs:
            rows.append([c.label, f"not measured: {failures.get(c.key, 'no run')}"] + ["—"] * 11)
            continue
        done = [r for r in rs if not r.problem]
        # Throughput from the finished runs; from the killed ones only if none finished.
        speed, mark = (done, "") if done else (rs, " (killed)")
        gaps = [r.gap_ratio for r in rs if r.gap_ratio is not None]
        fills = [r.fill for r in speed if r.fill is not None]
        allowed = rs[0].allowed
        rows.append(
            [
                c.label,
                f"{len(done)}/{len(rs)}",
                fmt_range([r.pages_stored for r in speed], "{:,.0f}") + mark,
                fmt_range([r.wall for r in speed], "{:.1f}") + mark,
                fmt_range([r.pages_per_s for r in speed], "{:.0f}") + mark,
                fmt_range([r.steady_pages_per_s for r in speed], "{:.0f}") + mark,
                fmt_range([r.cpu_ms_per_page for r in speed], "{:.2f}") + mark,
                fmt_range([r.host_max for r in rs], "{:.0f}"),
                fmt_range(gaps, "{:.2f}") if gaps else "—",
                fmt_range([r.robots_max for r in rs], "{:.0f}"),
                fmt_range([r.figures.get("in_flight", 0.0) for r in speed], "{:.0f}")
                + (f" of {allowed}" if allowed else "")
                + (f" ({fmt_range(fills, '{:.0%}')})" if fills else ""),
                fmt_range([r.breaches for r in rs], "{:.0f}"),
                "; ".join(sorted({r.edges_text for r in rs})),
            ]
        )
    section.tables.append(
        Table(
            [
                "contender",
                "runs finished",
                "pages stored (Scrapy: fetched)",
                "wall, s (first request to last)",
                "pages/s",
                "steady pages/s (10%-90%)",
                "crawl CPU-ms / page (+ redis)",
                "most concurrent on a host",
                "worst Crawl-delay gap ÷ delay",
                "robots.txt fetches per host, most",
                "in flight mid-crawl (fill)",
                "pages robots.txt forbids, fetched",
                "edges vs truth",
            ],
            rows,
        )
    )


def _notes(section: Section, runs: list[BroadRun], ran: list[Contender], ctx: Context) -> None:
    """What went wrong, where a concurrency limit broke, CPU contention."""
    for r in runs:
        if r.problem:
            section.notes.append(f"{r.contender.label} #{r.repeat}: {r.problem}.")
    for c in ran:
        rs = _by(runs, c.key)
        r = max(rs, key=lambda x: x.host_max)
        hosts = r.figures.get("host_concurrency_hosts") or []
        hist = r.figures.get("host_concurrency_histogram") or {}
        if r.host_max > c.host_limit:
            section.notes.append(
                f"{c.label}: up to {r.host_max} concurrent requests on {len(hosts)} host(s) "
                f"(e.g. {', '.join(hosts[:3])}); hosts by their most concurrent requests: "
                + ", ".join(f"{k}: {v}" for k, v in hist.items())
                + "."
            )
        worst = min(
            (x.figures["crawl_delay_worst"] for x in rs if x.figures.get("crawl_delay_worst")),
            key=lambda w: w["ratio"],
            default=None,
        )
        skip = max(x.figures.get("skip_host_pages", 0) for x in rs)
        if not c.linkwatch:
            if worst or skip:
                section.notes.append(
                    f"{c.label} ignores Crawl-delay (its truth includes the Crawl-delay: 120 "
                    f"host): {skip} pages of that host fetched"
                    + (f"; worst gap ÷ delay {worst['ratio']:.2f}" if worst else "")
                    + "."
                )
        elif worst and worst["ratio"] < 0.95:
            section.notes.append(
                f"{c.label}: Crawl-delay {worst['delay']:g} s of {worst['host']} met with a "
                f"{worst['gap']:.2f} s gap."
            )
        over = max(x.figures.get("robots_hosts_over_1", 0) for x in rs)
        if over:
            section.notes.append(
                f"{c.label}: robots.txt fetched more than once on {over} hosts "
                f"(up to {max(x.robots_max for x in rs)} times)."
            )
        if skip and c.linkwatch:
            section.notes.append(f"{c.label}: fetched {skip} pages of the Crawl-delay: 120 host.")
        if c.kind == "cluster" and c.workers > 1:
            util = [
                (x.total_cpu + x.redis_cpu) / x.process_wall / (os.cpu_count() or 1)
                for x in rs
                if x.process_wall
            ]
            section.notes.append(
                f"{c.label}: workers + redis used {fmt_range(util, '{:.0%}')} of the "
                f"{os.cpu_count()} cores over the processes' wall time"
                + (
                    " (more workers than cores: they contend for CPU)"
                    if c.workers > (os.cpu_count() or 1)
                    else ""
                )
                + "."
            )
    server_cpu = [r.server_cpu / r.wall for r in runs if r.wall]
    if server_cpu:
        section.notes.append(
            f"The web server's own process (not counted) used {fmt_range(server_cpu, '{:.0%}')} "
            "of a core during the crawls. pages/s: pages stored (plain Scrapy: distinct pages "
            "fetched) ÷ the server-side wall time; CPU: each worker's between engine start and "
            "spider close, plus redis-server's; 'in flight mid-crawl': the average number of "
            "requests the server was answering while 10% to 90% of the pages were served."
        )
