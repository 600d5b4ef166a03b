"""Benchmark 8, discovery: referring domains found by expansion, focused vs breadth-first.

The web is bench/discovery_web.py's (~400 sites in five topical communities,
~7,000 pages; the watched domain's referring domains form a niche), served as
an HTTP proxy by its own process, which logs every request. Every contender is
a real `scrapy crawl backlinks` through it, seeded with the web's Search
Console "Top linking sites" export (six referring domains), `-a watch=mysite.test
-a expand=2` (expand_depth 1, expand_pages 50), CONCURRENT_REQUESTS 64, 2 per
host, no AutoThrottle (what is measured is the order of expansion, not speed),
stopped by CLOSESPIDER_PAGECOUNT a little past 40 % of the web's fetchable pages.

- bfs, focused (the default weights), focused with co-citation off and with
  referrers off (LINKWATCH_EXPAND_WEIGHTS; full plan only), and focused as a
  shared crawl of two workers through Redis when a redis-server is at hand.

The yield curve comes from the server's access log: after the first N pages
served (robots.txt excluded), the referring domains (not seeds) whose pages
that link to the watched domain were among them; N = 10, 20 and 40 % of the
fetchable pages. The store must agree: every one of them is in `linkwatch
refdomains mysite.test`, and `linkwatch discovered mysite.test` lists each with
a path back to a seed. Politeness is counted by the server too: pages robots.txt
forbids fetched, requests to the watched domain, robots.txt fetches per host,
the most requests a host served at once, pages fetched twice.

Targets (issue 17): focused finds ≥ 1.5 x as many referring domains as bfs at
20 %, and ≥ 80 % of them at 40 %. Which signals carry the gain is measured on
the same web by the simulator (bench/discovery_sim.py: every signal off and
alone, averaged over five webs), whose table this section includes.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.discovery_sim import render as render_sim
from bench.discovery_sim import simulate
from bench.discovery_web import WATCH, DiscoveryWeb
from bench.measure import PYTHON, ROOT, Child, Quiet
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from bench.webserver import ProxyServer

TITLE = "8. Discovery — referring domains found by expansion, focused vs bfs"
BUDGETS = (10, 20, 40)
OVERSHOOT = 1.15  # CLOSESPIDER_PAGECOUNT x this: the curve is cut at 40 % from the log
STALL_SECONDS = 30.0
HOST_LIMIT = 2
SETTINGS = {
    "CONCURRENT_REQUESTS": "64",
    "CONCURRENT_REQUESTS_PER_DOMAIN": str(HOST_LIMIT),
    "AUTOTHROTTLE_ENABLED": "0",
    "LOG_LEVEL": "INFO",
    "LOGSTATS_INTERVAL": "0",
    "LINKWATCH_ALLOW_PRIVATE_NETWORKS": "1",
}


@dataclass(frozen=True, slots=True)
class Contender:
    key: str
    label: str
    strategy: str
    settings: dict[str, str] = field(default_factory=dict)
    workers: int = 1  # > 1: a shared crawl through Redis


def contenders(plan: Plan) -> list[Contender]:
    out = [Contender("bfs", "bfs", "bfs"), Contender("focused", "focused", "focused")]
    if plan.repeat > 1:  # the full plan: two signals off, and a shared crawl
        for name in ("cocitation", "referrers"):
            weights = json.dumps({name: 0})
            out.append(
                Contender(
                    f"no-{name}",
                    f"focused, {name} off",
                    "focused",
                    {"LINKWATCH_EXPAND_WEIGHTS": weights},
                )
            )
        out.append(Contender("cluster-2", "focused, shared crawl, 2 workers", "focused", {}, 2))
    return out


@dataclass(slots=True)
class Result:
    contender: Contender
    found: dict[int, int]  # budget % -> referring domains found (not seeds)
    pages: int = 0
    problem: str | None = None
    checks: dict[str, Any] = field(default_factory=dict)


def curve(
    entries: list[dict[str, Any]], edge_pages: dict[str, str], marks: list[int]
) -> tuple[list[int], set[str]]:
    """Referring domains found after each of ``marks`` pages served (in end order),
    and the set found by the last mark."""
    pages = sorted(
        (e for e in entries if e["status"] == 200 and e["path"] != "/robots.txt"),
        key=lambda e: e["end"],
    )
    found: set[str] = set()
    out, i = [], 0
    for mark in sorted(marks):
        while i < min(mark, len(pages)):
            domain = edge_pages.get(pages[i]["url"])
            if domain is not None:
                found.add(domain)
            i += 1
        out.append(len(found))
    return out, found


def politeness(entries: list[dict[str, Any]], web: DiscoveryWeb) -> dict[str, Any]:
    """What the server saw that a polite, safe crawl must never do."""
    watched = [e for e in entries if any(e["host"].endswith(w) for w in WATCH)]
    robots = Counter(e["host"] for e in entries if e["path"] == "/robots.txt")
    pages = Counter(e["url"] for e in entries if e["path"] != "/robots.txt")
    events: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for e in entries:
        events[e["host"]] += [(e["start"], 1), (e["end"], -1)]
    most = 0
    for ev in events.values():
        now = 0
        for _, step in sorted(ev):
            now += step
            most = max(most, now)
    return {
        "disallowed_fetched": sum(1 for u in pages if u in web.pages and not web.allows(u)),
        "watched_requests": len(watched),
        "robots_max": max(robots.values(), default=0),
        "host_max": most,
        "fetched_twice": sum(1 for c in pages.values() if c > 1),
    }


def _linkwatch(args: list[str], db: Path) -> list[dict[str, Any]] | None:
    try:
        out = subprocess.run(
            [PYTHON, "-m", "crawler.cli", *args, "--format", "json", "--db", str(db)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    except (subprocess.SubprocessError, OSError):
        return None
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def run_one(c: Contender, web: DiscoveryWeb, server: ProxyServer, ctx: dict[str, Any]) -> Result:
    workdir: Path = ctx["workdir"]
    tag = f"discovery-{c.key}"
    db = workdir / f"{tag}.db"
    for stale in workdir.glob(f"{tag}*"):
        stale.unlink()
    total = web.fetchable_pages()
    settings = {
        **SETTINGS,
        "LINKWATCH_DB": str(db),
        # Per worker: the workers of a shared crawl share the budget.
        "CLOSESPIDER_PAGECOUNT": str(int(OVERSHOOT * max(BUDGETS) * total / 100 / c.workers)),
        **c.settings,
    }
    if c.workers > 1:
        if ctx.get("redis") is None:
            return Result(c, {}, problem=ctx.get("redis_problem") or "no redis-server")
        client = ctx["redis"].client()
        client.flushall()
        client.close()
        settings["REDIS_URL"] = ctx["redis"].url
        settings["LINKWATCH_CLOSE_WHEN_IDLE"] = "2"
    argv = [
        PYTHON,
        "-m",
        "scrapy",
        "crawl",
        "backlinks",
        "-a",
        f"seeds=@{ctx['seeds_file']}",
        "-a",
        "watch=" + ",".join(WATCH),
        "-a",
        "expand=2",
        "-a",
        f"strategy={c.strategy}",
    ]
    for name, value in settings.items():
        argv += ["-s", f"{name}={value}"]
    server.new_entries()
    children = [
        Child(argv, workdir / f"{tag}-w{w}.log", env=server.crawl_env()) for w in range(c.workers)
    ]
    quiet = Quiet(server.access_log, STALL_SECONDS)
    runs = [child.finish(ctx["timeout"], stalled=quiet) for child in children]
    entries = server.new_entries()
    marks = [b * total // 100 for b in BUDGETS]
    counts, in_log = curve(entries, ctx["edge_pages"], marks)
    found = dict(zip(BUDGETS, counts, strict=True))
    result = Result(c, found, checks=politeness(entries, web))
    result.pages = sum(1 for e in entries if e["status"] == 200 and e["path"] != "/robots.txt")
    problems = []
    for w, r in enumerate(runs):
        if r.returncode != 0 and not r.timed_out:
            last = (r.log_tail(3).splitlines() or ["no log"])[-1]
            problems.append(f"worker {w}: exit {r.returncode}: {last[:160]}")
        elif r.timed_out:
            problems.append(f"worker {w}: killed (timeout or stalled)")
    if result.pages < marks[-1]:
        problems.append(f"stopped at {result.pages:,} pages, before the 40 % mark")
    stored = _linkwatch(["refdomains", WATCH[0]], db)
    discovered = _linkwatch(["discovered", WATCH[0]], db)
    if stored is None or discovered is None:
        problems.append("linkwatch refdomains/discovered failed")
    else:
        missing = in_log - {r["source_domain"] for r in stored}
        if missing:
            problems.append(f"{len(missing)} found in the log, not in the store")
        listed = {r["domain"] for r in discovered}
        result.checks["discovered_listed"] = len(listed & in_log)
        result.checks["discovered_extra"] = len(listed - ctx["truth"])
    result.problem = "; ".join(problems) or None
    return result


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    workdir.mkdir(parents=True, exist_ok=True)
    section = Section(TITLE)
    web = DiscoveryWeb()
    web.write(workdir / "web")
    truth = set(web.referring()) - set(web.seeds)
    edge_pages = {p.url: p.site for p in web.pages.values() if p.watched and p.site in truth}
    ctx: dict[str, Any] = {
        "workdir": workdir,
        "seeds_file": workdir / "web" / "gsc-top-linking-sites.csv",
        "timeout": 420.0,
        "truth": truth,
        "edge_pages": edge_pages,
    }
    results: list[Result] = []
    every = contenders(plan)
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(ProxyServer("bench.discovery_web", [], workdir))
        if any(c.workers > 1 for c in every):
            try:
                from bench.servers import bench_redis

                ctx["redis"] = stack.enter_context(bench_redis(workdir))
            except Exception as exc:  # no redis-server: the cluster row says so
                ctx["redis_problem"] = f"no redis-server: {str(exc).splitlines()[0]}"
        for c in every:
            try:
                result = run_one(c, web, server, ctx)
            except Exception as exc:  # one broken contender must not hide the others
                result = Result(c, {}, problem=f"{type(exc).__name__}: {exc}".splitlines()[0])
            results.append(result)
            print(f"  discovery {c.key:12} {result.found} {result.checks} {result.problem or ''}")
    summarize(section, results, len(truth))
    sim = simulate([17, 18, 19, 20, 21], domains=400, hops=2, active=8, budgets=list(BUDGETS))
    section.notes.append("Simulated (bench/discovery_sim.py), every signal off and alone:")
    section.notes.append(render_sim(sim).replace("\n", "\n  "))
    section.notes.append(f"The web: {web.describe()}.")
    section.seconds = time.monotonic() - started
    return section


def summarize(section: Section, results: list[Result], truth: int) -> None:
    by_key = {r.contender.key: r for r in results}
    bfs, focused = by_key.get("bfs"), by_key.get("focused")
    ok = bfs and focused and not bfs.problem and not focused.problem
    if ok and bfs.found[20]:
        ratio = focused.found[20] / bfs.found[20]
        section.rows.append(
            Row(
                "referring domains found at 20 % of pages, focused ÷ bfs",
                "≥ 1.5x",
                f"**{ratio:.2f}x** ({focused.found[20]} vs {bfs.found[20]} of {truth})",
                verdict(ratio >= 1.5),
            )
        )
    else:
        section.not_measured("focused ÷ bfs at 20 %", "≥ 1.5x", _why(bfs, focused))
    if ok:
        share = focused.found[40] / truth
        section.rows.append(
            Row(
                "referring domains found by focused at 40 % of pages",
                "≥ 80 %",
                f"**{share:.0%}** ({focused.found[40]} of {truth})",
                verdict(share >= 0.8),
            )
        )
    polite = [r for r in results if r.checks]
    breaches = sum(
        r.checks["disallowed_fetched"] + r.checks["watched_requests"] + r.checks["fetched_twice"]
        for r in polite
    )
    section.rows.append(
        Row(
            "forbidden, watched or repeated fetches; robots.txt per host; host max",
            "0; 1; ≤ 2",
            f"{breaches}; {max((r.checks['robots_max'] for r in polite), default=0)}; "
            f"{max((r.checks['host_max'] for r in polite), default=0)}",
            verdict(
                breaches == 0
                and all(
                    r.checks["robots_max"] <= 1 and r.checks["host_max"] <= HOST_LIMIT
                    for r in polite
                )
            ),
        ),
    )
    rows = []
    for r in results:
        cells = [f"{r.found[b]} ({r.found[b] / truth:.0%})" if r.found else "—" for b in BUDGETS]
        rows.append([r.contender.label, *cells, f"{r.pages:,}", r.problem or ""])
    section.tables.append(
        Table(
            ["contender", *(f"{b} % of pages" for b in BUDGETS), "pages", "problem"],
            rows,
            f"Referring domains found (of {truth}, seeds excluded), by pages served:",
        )
    )


def _why(*results: Result | None) -> str:
    for r in results:
        if r is None:
            return "not run"
        if r.problem:
            return r.problem
    return "bfs found none"
