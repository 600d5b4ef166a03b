"""Benchmark 3, distributed: CPU seconds per 1,000 pages (workers + redis-server) of
our crawl through Redis with 1, 2 and 4 workers, vs our embedded default, vs the
scrapy-redis baseline.

Same corpus server and settings as the crawl benchmark (bench/crawl.py), on the
PostgreSQL site (the scrapy-redis baseline costs ~20 CPU-s per 1,000 pages; the
whole corpus would not fit the time budget). One redis-server for the whole
benchmark, append-only file fsynced every second, FLUSHALL before each run; its
CPU is counted as the difference of its CPU times around a run.

- embedded: `scrapy crawl backlinks`, no Redis (settings/embedded.py).
- ours through Redis: N processes of `scrapy crawl backlinks -s REDIS_URL=...`
  (settings/cluster.py, crawler/frontier), same arguments, one SQLite store file,
  LINKWATCH_CLOSE_WHEN_IDLE=2 so they stop 2 s after the frontier drains, and
  LINKWATCH_HOST_CONCURRENCY=16 (see CLUSTER_SETTINGS); CPU of
  all N plus redis-server. Measured once settings/cluster.py and crawler/frontier
  exist; workers still running 20 s after the last request are killed and the
  row says so.
- scrapy-redis: the plain-Scrapy baseline spider on scrapy-redis' Scheduler and
  dupefilter (bench/scrapy_redis_settings.py), one worker, plus redis-server.

Every side's figure is the CPU of its processes between engine start and spider
close (start-up and teardown are constants per process, shown apart), plus
redis-server's.

Targets: through Redis ≤ 1.15x embedded, flat from 1 to 4 workers (4 ÷ 1 ≤ 1.15),
≥ 6x cheaper than scrapy-redis.
"""

from __future__ import annotations

import importlib.util
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

from bench.corpus import corpus_description, ensure_corpus
from bench.crawl import (
    CRAWL_TIMEOUT,
    EMBEDDED_RUNS,
    EQUAL_SETTINGS,
    CrawlFailed,
    CrawlRun,
    baseline_argv,
    ours_argv,
    read_stats,
    run_crawl,
)
from bench.measure import (
    Child,
    CPUDelta,
    Quiet,
    budgeted,
    fmt_range,
    mib,
    paired_ratios,
    rotated,
)
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from bench.servers import bench_redis
from bench.webserver import ProxyServer, html_pages

# Workers of a shared crawl wait for more work unless told to stop once the
# frontier has been empty this long. The cluster's politeness limit per host
# (default 1 request at a time, across workers) is set to what every side of
# the comparison gets per domain (CONCURRENT_REQUESTS_PER_DOMAIN=16): with 1,
# a one-host crawl through Redis would download one page at a time while the
# embedded one downloads 16, and the figure would compare concurrency instead
# of cost.
CLUSTER_SETTINGS = {
    "LINKWATCH_CLOSE_WHEN_IDLE": "2",
    "LINKWATCH_HOST_CONCURRENCY": EQUAL_SETTINGS["CONCURRENT_REQUESTS_PER_DOMAIN"],
}
STALL_SECONDS = 20.0
TITLE = "3. Distributed — through Redis (1, 2, 4 workers) vs embedded vs scrapy-redis"


@dataclass(slots=True)
class ClusterRun:
    """A crawl by one or more processes sharing a Redis, measured together."""

    label: str
    workers_cpu: float  # all of each worker process
    startup_cpu: float  # the part before each worker's engine started (imports, settings)
    shutdown_cpu: float  # the part after each worker's spider closed (teardown)
    redis_cpu: float
    pages: set[str]
    requests: int
    elapsed: float
    max_rss: int  # the largest peak RSS among the workers

    @property
    def cpu(self) -> float:
        """What the figures compare: crawling CPU of the workers, plus Redis."""
        return self.workers_cpu - self.startup_cpu - self.shutdown_cpu + self.redis_cpu

    def per_1000(self, cpu: float | None = None) -> float:
        return 1000 * (self.cpu if cpu is None else cpu) / max(1, len(self.pages))


def frontier_missing() -> str | None:
    """Why the Redis frontier cannot be measured yet, or None if it looks present."""
    missing = [
        name
        for name in ("settings.cluster", "crawler.frontier")
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        return f"{' and '.join(missing)} not written yet"
    return None


def from_crawl(label: str, run: CrawlRun, redis_cpu: float = 0.0) -> ClusterRun:
    return ClusterRun(
        label,
        run.cpu,
        run.startup_cpu,
        run.shutdown_cpu,
        redis_cpu,
        run.pages,
        run.requests,
        run.elapsed,
        run.peak_rss,
    )


def run_workers(
    workers: int, seeds: list[str], server: ProxyServer, redis_url: str, workdir: Path, i: int
) -> ClusterRun:
    """N workers of ours through Redis, started together, measured together."""
    tag = f"redis{workers}-{i}"
    db = workdir / f"{tag}.db"
    server.new_entries()
    children = []
    extra = {"REDIS_URL": redis_url, **CLUSTER_SETTINGS}
    for w in range(workers):
        argv = ours_argv(seeds, workdir, f"{tag}-w{w}", extra=extra, db=db)
        children.append(Child(argv, workdir / f"{tag}-w{w}.log", env=server.crawl_env()))
    quiet = Quiet(server.access_log, STALL_SECONDS)
    processes = [child.finish(CRAWL_TIMEOUT, stalled=quiet) for child in children]
    entries = server.new_entries()
    startup = shutdown = 0.0
    peak = 0
    for w, process in enumerate(processes):
        stats = read_stats(workdir / f"{tag}-w{w}.stats.json")
        reason = stats.get("finish_reason")
        startup += float(stats.get("bench/cpu_at_engine_start") or 0.0)
        if stats.get("bench/cpu_at_close"):
            shutdown += max(0.0, process.cpu - float(stats["bench/cpu_at_close"]))
        peak = max(peak, int(stats.get("bench/peak_rss") or process.max_rss))
        if process.timed_out or process.returncode != 0 or reason != "finished":
            what = (
                f"was still running {STALL_SECONDS:.0f} s after the last request"
                if process.timed_out
                else f"exit {process.returncode}"
            )
            raise CrawlFailed(
                f"worker {w + 1} of {workers} {what} (finish_reason {reason}): "
                + (process.log_tail(3).splitlines() or ["no log"])[-1]
            )
    starts = [p.started for p in processes]
    ends = [p.started + p.wall for p in processes]
    return ClusterRun(
        f"ours through Redis, {workers} worker{'s' if workers > 1 else ''}",
        sum(p.cpu for p in processes),
        startup,
        shutdown,
        0.0,
        html_pages(entries),
        len(entries),
        max(ends) - min(starts),
        peak,
    )


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    ensure_corpus()
    sites = plan.distributed_sites
    seeds = [site.seed for site in sites]
    section = Section(TITLE)
    missing = frontier_missing()
    results: dict[str, list[ClusterRun]] = {}
    failures: dict[str, str] = {}

    with (
        ProxyServer("bench.corpus", ["--sites", ",".join(s.host for s in sites)], workdir) as srv,
        bench_redis(workdir) as redis_server,
    ):
        client = redis_server.client()

        reused = EMBEDDED_RUNS.get(tuple(seeds), [])

        def embedded(i: int) -> ClusterRun:
            if i < len(reused):  # the crawl benchmark's own run of these sites
                return from_crawl("ours embedded", reused[i])
            tag = f"embedded-{i}"
            return from_crawl(
                "ours embedded",
                run_crawl("ours", ours_argv(seeds, workdir, tag), srv, workdir, tag),
            )

        def scrapy_redis(i: int) -> ClusterRun:
            tag = f"scrapy-redis-{i}"
            client.flushall()
            with CPUDelta(redis_server.pid) as redis_cpu:
                crawl = run_crawl(
                    "scrapy-redis",
                    baseline_argv(seeds, workdir, tag),
                    srv,
                    workdir,
                    tag,
                    env_extra={
                        "SCRAPY_SETTINGS_MODULE": "bench.scrapy_redis_settings",
                        "REDIS_URL": redis_server.url,
                    },
                )
            return from_crawl("scrapy-redis baseline", crawl, redis_cpu.value)

        def through_redis(workers: int):
            def go(i: int) -> ClusterRun:
                client.flushall()
                with CPUDelta(redis_server.pid) as redis_cpu:
                    result = run_workers(workers, seeds, srv, redis_server.url, workdir, i)
                result.redis_cpu = redis_cpu.value
                return result

            return go

        sides = {"embedded": embedded}
        if plan.distributed_scrapy_redis:
            sides["scrapy-redis"] = scrapy_redis
        if missing is None:
            for n in plan.distributed_workers:
                sides[f"redis-{n}"] = through_redis(n)
        for i in budgeted(plan.repeat, plan.distributed_budget):
            for name in rotated(list(sides), i):
                if name in failures:
                    continue
                result = None
                for attempt in (1, 2):  # a shared machine, code in flux: one more try
                    try:
                        result = sides[name](i)
                        break
                    except CrawlFailed as exc:
                        reason = str(exc).splitlines()[0]
                        print(f"  distributed {name} #{i} failed ({attempt}): {reason}", flush=True)
                if result is None:
                    failures[name] = reason
                    continue
                results.setdefault(name, []).append(result)
                print(
                    f"  distributed {name:12} #{i}: {len(result.pages)} pages, "
                    f"{result.workers_cpu:.1f} (of which start-up {result.startup_cpu:.1f}, "
                    f"after close {result.shutdown_cpu:.1f}) "
                    f"+ {result.redis_cpu:.1f} (redis) CPU-s",
                    flush=True,
                )
        client.close()

    summarize(section, plan, results, failures, missing)
    section.notes.append(f"Corpus: {corpus_description(sites)}.")
    section.seconds = time.monotonic() - started
    return section


def _cost(runs: list[ClusterRun]) -> list[float]:
    return [r.per_1000() for r in runs]


def summarize(
    section: Section,
    plan: Plan,
    results: dict[str, list[ClusterRun]],
    failures: dict[str, str],
    missing: str | None,
) -> None:
    embedded = results.get("embedded", [])
    scrapy_redis = results.get("scrapy-redis", [])
    workers = plan.distributed_workers
    reason = missing or ""
    for n in workers:
        name = f"redis-{n}"
        runs = results.get(name, [])
        figure = f"CPU/1,000 pages, {n} worker{'s' if n > 1 else ''} through Redis ÷ embedded"
        if runs and embedded:
            ratios = paired_ratios(_cost(runs), _cost(embedded))
            section.rows.append(
                Row(
                    figure,
                    "≤ 1.15x",
                    fmt_range(ratios, "{:.2f}", "x"),
                    verdict(median(ratios) <= 1.15),
                )
            )
        else:
            section.not_measured(figure, "≤ 1.15x", failures.get(name, reason or "no run"))
    # Flatness and the scrapy-redis comparison use the fewest and the most workers
    # that ran (1 and 4 unless one of them failed).
    ran = [n for n in workers if results.get(f"redis-{n}")]
    few, many = (ran[0], ran[-1]) if ran else (workers[0], workers[-1])
    one, most = results.get(f"redis-{few}", []), results.get(f"redis-{many}", [])
    figure = f"flat: {many} workers ÷ {few} worker{'s' if few > 1 else ''}"
    if one and most and few != many:
        ratios = paired_ratios(_cost(most), _cost(one))
        section.rows.append(
            Row(
                figure, "≤ 1.15x", fmt_range(ratios, "{:.2f}", "x"), verdict(median(ratios) <= 1.15)
            )
        )
    else:
        redis_failures = [f for name, f in failures.items() if name.startswith("redis-")]
        section.not_measured(
            figure, "≤ 1.15x", reason or next(iter(redis_failures), "a worker count did not run")
        )
    figure = (
        f"CPU/1,000 pages, scrapy-redis ÷ ours through Redis ({few} worker{'s' if few > 1 else ''})"
    )
    if one and scrapy_redis:
        ratios = paired_ratios(_cost(scrapy_redis), _cost(one))
        section.rows.append(
            Row(figure, "≥ 6x", fmt_range(ratios, "{:.2f}", "x"), verdict(median(ratios) >= 6))
        )
    else:
        why = failures.get("scrapy-redis") or reason or "a side did not run"
        if not plan.distributed_scrapy_redis:
            why = "the scrapy-redis baseline runs in full runs only"
        section.not_measured(figure, "≥ 6x", why)
    if embedded and scrapy_redis:
        ratios = paired_ratios(_cost(scrapy_redis), _cost(embedded))
        section.rows.append(
            Row(
                "CPU/1,000 pages, scrapy-redis ÷ ours embedded",
                "—",
                fmt_range(ratios, "{:.2f}", "x"),
                "info",
            )
        )
    rows = []
    for runs in results.values():
        rows.append(
            [
                runs[0].label,
                fmt_range([len(r.pages) for r in runs], "{:,.0f}"),
                fmt_range([r.per_1000(r.workers_cpu) for r in runs]),
                fmt_range([r.per_1000(r.startup_cpu) for r in runs]),
                fmt_range([r.per_1000(r.shutdown_cpu) for r in runs]),
                fmt_range([r.per_1000(r.redis_cpu) for r in runs]),
                fmt_range(_cost(runs)),
                fmt_range([len(r.pages) / r.elapsed for r in runs if r.elapsed], "{:.0f}"),
                fmt_range([mib(r.max_rss) for r in runs], "{:.0f}"),
            ]
        )
    section.tables.append(
        Table(
            [
                "",
                "pages",
                "worker processes, CPU-s / 1,000 pages",
                "... of which start-up",
                "... of which after the spider closed",
                "redis-server",
                "compared: workers - start-up - after close + redis",
                "pages/s",
                "peak RSS per worker, MiB",
            ],
            rows,
        )
    )
    section.notes.append(
        "Figures compare CPU per 1,000 pages of the workers, less each process's start-up "
        "(imports and settings, ~1 CPU-s, before its engine starts) and what it spends after "
        "its spider closed (stopping the reactor, interpreter teardown: ~0.3 CPU-s), both "
        "constants per worker, not per page; plus redis-server's."
    )
    page_sets = {name: runs[0].pages for name, runs in results.items() if runs}
    if len({frozenset(p) for p in page_sets.values()}) > 1:
        section.notes.append(
            "Not every side fetched the same pages: "
            + ", ".join(f"{name} {len(p):,}" for name, p in page_sets.items())
        )
