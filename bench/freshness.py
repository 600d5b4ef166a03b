"""Benchmark 9, freshness: what resumable embedded crawls cost, and what a
conditional recrawl of unchanged pages saves (issue 13).

Resume overhead. The embedded crawl of benchmark 1 (the real-page corpus,
bench/corpus.py, its settings) with `-s LINKWATCH_RESUME=True` (the journal:
crawler/frontier/resumable.py) and with `=False` (Scrapy's scheduler as
before), alternating which goes first, each run into a new SQLite store and
journal so no run resumes another. Figure: CPU seconds of the crawler process
(wait4, start-up included) per 1,000 pages (distinct HTML pages the server
answered 200 for), resume ÷ plain, paired per repeat. Target ≤ 1.10. A resume
run that wrote no journal is "not measured".

Conditional recrawl, over two unchanged webs:

- the corpus: its pages carry no validators of their own, so `python -m
  bench.freshness serve` serves them with an ETag (a digest of the body) and a
  fixed Last-Modified; the store of the first `=False` run above is the first
  crawl (the resume runs store the same pages);
- the fixture web (crawler/testing/fixtureweb, generated at the plan's size),
  whose server sends ETag and Last-Modified itself; one first crawl fills a store.

Each recrawl starts from a copy of that first store: `-a recrawl=all` with the
first crawl's watch list, LINKWATCH_CONDITIONAL_GET on and off, alternating
(plan.freshness_recrawl_repeat pairs per web).
Per run, counted by the server: body bytes sent (its access log's `bytes`,
robots.txt included) and pages answered 304; by the kernel: crawler CPU
seconds. Figures: bytes and CPU, conditional ÷ full (paired), that every page
stored with validators is answered 304, and that both recrawls leave the first
crawl's live edges and lose none. Small pages (the fixture web's ~1.4 KB) show
what a request costs whatever its body; the corpus's real pages what parsing
and storing them adds.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import shutil
import sqlite3
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

from bench.corpus import (
    WATCH,
    CorpusWeb,
    corpus_description,
    ensure_corpus,
    html_files,
    select_sites,
    serve_until_stopped,
)
from bench.crawl import (
    CRAWL_TIMEOUT,
    EQUAL_SETTINGS,
    OURS_SETTINGS,
    CrawlFailed,
    CrawlRun,
    ours_argv,
    read_stats,
    settings_args,
    stats_settings,
)
from bench.measure import PYTHON, Child, budgeted, fmt_range, mib, paired_ratios, rotated
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from bench.webserver import ProxyServer, html_pages

TITLE = "9. Freshness — resume overhead and what a conditional recrawl saves"
RESUME_TARGET = 1.10
SIDES = {"resume": "True", "plain": "False"}  # LINKWATCH_RESUME per side
RECRAWL_SIDES = {"conditional": "True", "full": "False"}  # LINKWATCH_CONDITIONAL_GET
# How the scheduler announces a journaled crawl (crawler/frontier/resumable.py).
JOURNAL_LOG_LINE = "(journal "
# The corpus's Last-Modified (its files' own dates are the package's build's).
CORPUS_MODIFIED = "Mon, 01 Jan 2024 12:00:00 GMT"
CORPUS, GENERATED = "corpus", "generated web"


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    section = Section(TITLE)
    recrawls: list[Recrawls] = []
    for part in (corpus_part, generated_part):
        try:
            part(plan, workdir, section, recrawls)
        except Exception as exc:  # one part failing must not hide the other
            traceback.print_exc()
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            section.not_measured(
                part.__name__.replace("_", " "), "-", f"{type(exc).__name__}: {first}"
            )
    if recrawls:
        summarize_recrawls(section, recrawls)
    section.seconds = time.monotonic() - started
    return section


# --- running one crawl ---------------------------------------------------------------


def measured_crawl(
    side: str,
    argv: list[str],
    server: ProxyServer,
    workdir: Path,
    tag: str,
    prepare: Callable[[], None],
) -> tuple[CrawlRun, list[dict[str, Any]]]:
    """One crawl process from the state `prepare` makes (a new or copied store),
    measured; one retry, from that state again, if it did not finish."""
    problem = ""
    for attempt in range(2):
        prepare()
        server.new_entries()  # skip whatever came before
        stats_file = workdir / f"{tag}.stats.json"
        stats_file.unlink(missing_ok=True)
        child = Child(argv, workdir / f"{tag}.log", env=server.crawl_env())
        process = child.finish(CRAWL_TIMEOUT)
        stats = read_stats(stats_file)
        entries = server.new_entries()
        crawl = CrawlRun(side, process, stats, html_pages(entries), len(entries), workdir)
        reason = stats.get("finish_reason")
        if process.returncode == 0 and reason == "finished" and entries:
            return crawl, entries
        problem = (
            f"{side} crawl {tag}: exit {process.returncode}, finish_reason {reason}, "
            f"{len(entries)} requests{' (timed out)' if process.timed_out else ''}"
        )
        if attempt == 0:
            print(f"  {problem}; retrying once", flush=True)
            time.sleep(1)
    raise CrawlFailed(f"{problem}\n{process.log_tail()}")


def remove(pattern: Path) -> Callable[[], None]:
    """A `prepare` that deletes files (a store, its WAL, its journal) by glob."""

    def prepare() -> None:
        for path in pattern.parent.glob(pattern.name):
            path.unlink()

    return prepare


def body_bytes(entries: list[dict[str, Any]]) -> int | None:
    """Body bytes the server sent; None: its access log has no `bytes`."""
    if any("bytes" not in e for e in entries):
        return None
    return sum(int(e["bytes"]) for e in entries)


# --- the corpus: resume overhead, then its recrawl -------------------------------------


@dataclass(slots=True)
class ResumeRun:
    crawl: CrawlRun
    entries: list[dict[str, Any]]
    db: Path
    journaled: bool  # the scheduler said it journals the crawl, and the file exists
    journal_bytes: int


def corpus_part(plan: Plan, workdir: Path, section: Section, recrawls: list[Recrawls]) -> None:
    ensure_corpus()
    sites = plan.freshness_sites
    work = workdir / "corpus"
    hosts = ",".join(site.host for site in sites)
    with ProxyServer("bench.freshness", ["--sites", hosts], work) as server:
        runs = resume_pairs(plan, [site.seed for site in sites], server, work)
        summarize_resume(section, runs, corpus_description(sites))
        first = runs["plain"][0]
        about = (
            "served with an ETag, a digest of the body, and a fixed Last-Modified by "
            "`python -m bench.freshness serve`; the first crawl is the first "
            "LINKWATCH_RESUME=False run above"
        )
        base = baseline(CORPUS, about, first.db, first.crawl, first.entries, WATCH, work)
        recrawls.append(recrawl_pairs(plan, base, server, work))


def resume_pairs(
    plan: Plan, seeds: list[str], server: ProxyServer, work: Path
) -> dict[str, list[ResumeRun]]:
    runs: dict[str, list[ResumeRun]] = {side: [] for side in SIDES}
    for i in budgeted(plan.repeat, plan.freshness_budget):
        for side in rotated(list(SIDES), i):
            tag = f"{side}-{i}"
            journal = work / f"{tag}.db-frontier"  # matches the store's glob below
            extra = {"LINKWATCH_RESUME": SIDES[side], "LINKWATCH_FRONTIER_FILE": str(journal)}
            argv = ours_argv(seeds, work, tag, extra=extra)
            crawl, entries = measured_crawl(
                side, argv, server, work, tag, remove(work / f"{tag}.db*")
            )
            log = crawl.process.log.read_text(encoding="utf-8", errors="replace")
            journaled = JOURNAL_LOG_LINE in log and journal.exists()
            size = journal.stat().st_size if journal.exists() else 0
            runs[side].append(ResumeRun(crawl, entries, work / f"{tag}.db", journaled, size))
            print(
                f"  freshness {side:6} #{i}: {len(crawl.pages)} pages, {crawl.cpu:.2f} CPU-s "
                f"({crawl.per_1000():.2f} per 1,000), {crawl.pages_per_s:.0f} pages/s"
                f"{', journaled' if journaled else ''}",
                flush=True,
            )
    return runs


def summarize_resume(section: Section, runs: dict[str, list[ResumeRun]], corpus: str) -> None:
    on = [r.crawl for r in runs["resume"]]
    off = [r.crawl for r in runs["plain"]]
    ratios = paired_ratios([r.per_1000() for r in on], [r.per_1000() for r in off])
    measured = fmt_range(ratios, "{:.3f}", "x")
    figure = "embedded crawl CPU-s per 1,000 pages, LINKWATCH_RESUME on ÷ off"
    target = f"≤ {RESUME_TARGET:.2f}x"
    journaled = [r.journaled for r in runs["resume"]]
    if not all(journaled):
        section.not_measured(
            figure,
            target,
            f"{journaled.count(False)} of {len(journaled)} LINKWATCH_RESUME=True runs wrote no "
            f"journal (is the embedded SCHEDULER crawler.frontier.resumable.ResumableScheduler?); "
            f"their ratio was {measured}",
        )
    else:
        section.rows.append(Row(figure, target, measured, verdict(median(ratios) <= RESUME_TARGET)))
    section.rows.append(
        Row(
            "embedded crawl pages/s, resume on ÷ off",
            "—",
            fmt_range(paired_ratios([r.pages_per_s for r in on], [r.pages_per_s for r in off])),
            "info",
        )
    )

    def cells(value: Callable[[CrawlRun], float], fmt: str = "{:.2f}") -> list[str]:
        return [fmt_range([value(r) for r in side], fmt) for side in (on, off)]

    section.tables.append(
        Table(
            [
                "embedded crawl of the corpus",
                "LINKWATCH_RESUME=True",
                "=False (Scrapy's scheduler)",
            ],
            [
                ["pages (HTML, 200)", *cells(lambda r: len(r.pages), "{:,.0f}")],
                ["CPU-s per 1,000 pages", *cells(lambda r: r.per_1000())],
                [
                    "… of which start-up (before the engine starts)",
                    *cells(lambda r: r.per_1000(r.startup_cpu)),
                ],
                ["pages/s (Scrapy's elapsed time)", *cells(lambda r: r.pages_per_s, "{:.0f}")],
                ["peak RSS, MiB", *cells(lambda r: mib(r.peak_rss), "{:.0f}")],
                [
                    "journal file at the end, KiB (a finished crawl's rows are deleted)",
                    *(
                        fmt_range([r.journal_bytes / 1024 for r in runs[side]], "{:,.0f}")
                        for side in SIDES
                    ),
                ],
            ],
            title="Resume overhead:",
        )
    )
    section.notes.append(
        f"Resume overhead: the embedded crawl of benchmark 1 ({corpus}; CONCURRENT_REQUESTS=32, "
        "16 per host, no AutoThrottle), LINKWATCH_RESUME=True and =False alternating which goes "
        "first, each into a new SQLite store and journal. CPU is the crawler process's whole "
        "user + system time (wait4), start-up and the journal's threads included."
    )
    if any(r.pages != on[0].pages for r in on + off):
        section.notes.append(
            "The resume runs did not all fetch the same pages: "
            + ", ".join(f"{r.side} {len(r.pages)}" for r in on + off)
        )


# --- recrawls of an unchanged web ------------------------------------------------------


@dataclass(slots=True)
class RecrawlRun:
    crawl: CrawlRun
    entries: list[dict[str, Any]]
    live: set[tuple[str, str]] = field(default_factory=set)  # edges not lost
    lost: int = 0

    @property
    def pages(self) -> list[dict[str, Any]]:
        """The server's answers to page requests (robots.txt left out)."""
        return [e for e in self.entries if not (e.get("path") or "").endswith("/robots.txt")]

    def answered(self, status: int) -> int:
        return sum(1 for e in self.pages if e["status"] == status)

    @property
    def body_bytes(self) -> int | None:
        return body_bytes(self.entries)

    @property
    def crawl_cpu(self) -> float:
        """CPU after the engine started: the recrawl itself, without imports."""
        return max(0.0, self.crawl.cpu - self.crawl.startup_cpu)


@dataclass(slots=True)
class Baseline:
    """The store after a first crawl, which every recrawl starts from."""

    web: str
    about: str  # what the web is, for the notes
    db: Path
    watch: tuple[str, ...]  # the first crawl's
    pages: int  # HTML pages the first crawl fetched
    first_bytes: int | None  # body bytes the server sent it
    live: set[tuple[str, str]]
    lost: int
    linking: set[str]  # pages with a recrawl schedule: what recrawl=all fetches
    validated: set[str]  # of those, the ones stored with an ETag or Last-Modified


@dataclass(slots=True)
class Recrawls:
    base: Baseline
    runs: dict[str, list[RecrawlRun]]

    @property
    def cond(self) -> list[RecrawlRun]:
        return self.runs["conditional"]

    @property
    def full(self) -> list[RecrawlRun]:
        return self.runs["full"]


def edge_state(db: Path) -> tuple[set[tuple[str, str]], int]:
    con = sqlite3.connect(db)
    try:
        live = set(con.execute("SELECT source_url, target_url FROM edges WHERE lost_at IS NULL"))
        (lost,) = con.execute("SELECT COUNT(*) FROM edges WHERE lost_at IS NOT NULL").fetchone()
    finally:
        con.close()
    return live, int(lost)


def stored_schedule(db: Path) -> tuple[set[str], set[str]]:
    """Pages with a recrawl schedule, and those of them with validators."""
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT url, etag, last_modified FROM pages WHERE recrawl_interval IS NOT NULL"
        ).fetchall()
    finally:
        con.close()
    return {url for url, _, _ in rows}, {url for url, etag, lm in rows if etag or lm}


def baseline(
    web: str,
    about: str,
    db: Path,
    crawl: CrawlRun,
    entries: list[dict[str, Any]],
    watch: tuple[str, ...],
    work: Path,
) -> Baseline:
    """A self-contained copy of a first crawl's store (its WAL folded in), and
    what it holds."""
    base = work / "base.sqlite"
    base.unlink(missing_ok=True)
    src, dst = sqlite3.connect(db), sqlite3.connect(base)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    live, lost = edge_state(base)
    linking, validated = stored_schedule(base)
    if not linking:
        raise RuntimeError(f"the first crawl of the {web} stored no linking page to recrawl")
    print(
        f"  freshness {web}: first crawl {len(crawl.pages)} pages, {len(linking)} linking, "
        f"{len(validated)} with validators",
        flush=True,
    )
    first_bytes = body_bytes(entries)
    pages = len(crawl.pages)
    return Baseline(web, about, base, watch, pages, first_bytes, live, lost, linking, validated)


def copy_of(base: Path, db: Path) -> Callable[[], None]:
    """A `prepare`: the first crawl's store, copied; no journal of another run."""

    def prepare() -> None:
        for stale in db.parent.glob(db.name + "*"):
            stale.unlink()
        shutil.copyfile(base, db)

    return prepare


def recrawl_argv(
    db: Path, work: Path, tag: str, conditional: str, watch: tuple[str, ...]
) -> list[str]:
    settings = {
        **EQUAL_SETTINGS,
        **OURS_SETTINGS,
        "LINKWATCH_DB": str(db),
        "LINKWATCH_FRONTIER_FILE": f"{db}-frontier",
        "LINKWATCH_CONDITIONAL_GET": conditional,
        **stats_settings(work / f"{tag}.stats.json"),
    }
    # The first crawl's watch list: without it a recrawl watches what the store
    # knows, registered domains, wider than a deeper-host entry (alice.pages.test).
    argv = [PYTHON, "-m", "scrapy", "crawl", "backlinks", "-a", "recrawl=all"]
    return [*argv, "-a", "watch=" + ",".join(watch), *settings_args(settings)]


def recrawl_pairs(plan: Plan, base: Baseline, server: ProxyServer, work: Path) -> Recrawls:
    runs: dict[str, list[RecrawlRun]] = {side: [] for side in RECRAWL_SIDES}
    for i in range(min(plan.repeat, plan.freshness_recrawl_repeat)):
        for side in rotated(list(RECRAWL_SIDES), i):
            tag = f"recrawl-{side}-{i}"
            db = work / f"{tag}.sqlite"
            argv = recrawl_argv(db, work, tag, RECRAWL_SIDES[side], base.watch)
            crawl, entries = measured_crawl(side, argv, server, work, tag, copy_of(base.db, db))
            result = RecrawlRun(crawl, entries, *edge_state(db))
            runs[side].append(result)
            print(
                f"  freshness {base.web} {side:11} #{i}: {len(result.pages)} pages, "
                f"{result.answered(304)} answered 304, {result.body_bytes or 0:,} body bytes, "
                f"{crawl.cpu:.2f} CPU-s",
                flush=True,
            )
    return Recrawls(base, runs)


def generated_part(plan: Plan, workdir: Path, section: Section, recrawls: list[Recrawls]) -> None:
    from crawler.testing.fixtureweb import MAX_DEPTH, build_web

    pages = plan.freshness_pages
    web = build_web(version=1, pages=pages, seed=0)
    work = workdir / "generated"
    with ProxyServer("crawler.testing.fixtureweb", ["--pages", str(pages)], work) as server:
        tag = "first"
        db = work / f"{tag}.db"
        extra = {"LINKWATCH_FRONTIER_FILE": f"{db}-frontier"}
        watch = tuple(web.watch)
        argv = ours_argv(list(web.seeds), work, tag, extra=extra, watch=watch, depth=str(MAX_DEPTH))
        crawl, entries = measured_crawl(
            "first", argv, server, work, tag, remove(work / "first.db*")
        )
        about = f"the fixture web at {pages:,} pages, its server's own ETag and Last-Modified"
        base = baseline(GENERATED, about, db, crawl, entries, watch, work)
        recrawls.append(recrawl_pairs(plan, base, server, work))


# --- the recrawl figures -----------------------------------------------------------------


def summarize_recrawls(section: Section, recrawls: list[Recrawls]) -> None:
    bytes_row(section, recrawls)
    parts = []
    for r in recrawls:
        whole = paired_ratios([x.crawl.cpu for x in r.cond], [x.crawl.cpu for x in r.full])
        after = paired_ratios([x.crawl_cpu for x in r.cond], [x.crawl_cpu for x in r.full])
        parts.append(
            f"{r.base.web}: {fmt_range(whole, '{:.2f}', 'x')} "
            f"(after start-up {fmt_range(after, '{:.2f}', 'x')})"
        )
    section.rows.append(
        Row(
            "crawler CPU-s of a recrawl of unchanged pages, conditional ÷ full (whole process)",
            "—",
            "; ".join(parts),
            "info",
        )
    )
    checks_304(section, recrawls)
    checks_edges(section, recrawls)
    recrawl_table(section, recrawls)
    for r in recrawls:
        b = r.base
        section.notes.append(
            f"Recrawl of the {b.web} ({b.about}): the first crawl stored {b.pages:,} pages, "
            f"{len(b.linking):,} of them linking to a watched domain (what `-a recrawl=all` "
            "fetches again), "
            f"{len(b.validated):,} with validators; {len(b.live):,} live edges."
        )
    section.notes.append(
        "Each recrawl (`-a recrawl=all -a watch=` the first crawl's list) starts from a copy of "
        "the first crawl's store, LINKWATCH_CONDITIONAL_GET on or off, alternating which goes "
        "first. Bytes are the bodies the server sent (robots.txt included); 304s are counted by "
        "the server."
    )


def bytes_row(section: Section, recrawls: list[Recrawls]) -> None:
    parts, measured = [], False
    for r in recrawls:
        cond = [x.body_bytes for x in r.cond]
        full = [x.body_bytes for x in r.full]
        if None in cond or None in full:
            parts.append(f"{r.base.web}: not measured (the access log has no `bytes`)")
        elif not r.base.validated:
            parts.append(f"{r.base.web}: not measured (the first crawl stored no validators)")
        else:
            ratios = paired_ratios(cond, full)  # type: ignore[arg-type]
            parts.append(
                f"{r.base.web}: {fmt_range(ratios, '{:.3%}')} "
                f"({size(median(cond))} vs {size(median(full))})"  # type: ignore[type-var]
            )
            measured = True
    section.rows.append(
        Row(
            "body bytes the server sent for a recrawl of unchanged pages, conditional ÷ full",
            "—",
            "; ".join(parts),
            "info" if measured else "not measured",
        )
    )


def size(n: float) -> str:
    if n < 1000:
        return f"{n:.0f} B"
    return f"{n / 1e3:.1f} kB" if n < 1e6 else f"{n / 1e6:.2f} MB"


def checks_304(section: Section, recrawls: list[Recrawls]) -> None:
    parts, ok = [], True
    for r in recrawls:
        answered = [x.answered(304) for x in r.cond]
        in_full = sum(x.answered(304) for x in r.full)
        expected = len(r.base.validated)
        ok = ok and bool(expected) and all(n == expected for n in answered) and in_full == 0
        parts.append(
            f"{r.base.web}: {fmt_range(answered, '{:,.0f}')} of {expected:,} "
            f"({len(r.base.linking) - expected:,} without validators); full recrawls: {in_full}"
        )
    section.rows.append(
        Row(
            "pages answered 304, conditional recrawl",
            "every page stored with validators; none in a full recrawl",
            "; ".join(parts),
            verdict(ok),
        )
    )


def checks_edges(section: Section, recrawls: list[Recrawls]) -> None:
    parts, ok = [], True
    for r in recrawls:
        b = r.base
        runs = r.cond + r.full
        differ = [x for x in runs if x.live != b.live or x.lost != b.lost]
        ok = ok and not differ
        if not differ:
            parts.append(f"{b.web}: {len(b.live):,} live, identical in all {len(runs)} recrawls")
            continue
        detail = ", ".join(
            f"{x.crawl.side} {len(b.live - x.live):,} missing, {len(x.live - b.live):,} new, "
            f"{x.lost - b.lost:,} more lost"
            for x in differ[:2]
        )
        parts.append(f"{b.web}: {len(differ)} of {len(runs)} recrawls differ ({detail})")
    section.rows.append(
        Row(
            "live edges after each recrawl, both sides",
            "the first crawl's, none lost",
            "; ".join(parts),
            verdict(ok),
        )
    )


def recrawl_table(section: Section, recrawls: list[Recrawls]) -> None:
    columns = [(r, side) for r in recrawls for side in (r.cond, r.full)]

    def row(label: str, value: Callable[[RecrawlRun], float], fmt: str = "{:,.0f}") -> list[str]:
        return [label, *(fmt_range([value(x) for x in side], fmt) for _, side in columns)]

    def mb(x: RecrawlRun) -> float:
        return (x.body_bytes or 0) / 1e6

    headers = ["`-a recrawl=all`, unchanged pages"]
    for r in recrawls:
        headers += [f"{r.base.web}, conditional", f"{r.base.web}, full"]
    first_mb = [f"{r.base.web} {(r.base.first_bytes or 0) / 1e6:.1f}" for r in recrawls]
    section.tables.append(
        Table(
            headers,
            [
                row("pages requested (robots.txt aside)", lambda x: len(x.pages)),
                row("… answered 304", lambda x: x.answered(304)),
                row("… answered 200", lambda x: x.answered(200)),
                row(f"body bytes sent, MB (first crawl: {', '.join(first_mb)})", mb, "{:.3f}"),
                row("crawler CPU-s", lambda x: x.crawl.cpu, "{:.2f}"),
                row("… of which start-up", lambda x: x.crawl.startup_cpu, "{:.2f}"),
                row(
                    "CPU-ms per page after start-up",
                    lambda x: 1000 * x.crawl_cpu / max(1, len(x.pages)),
                    "{:.2f}",
                ),
                row("wall s", lambda x: x.crawl.process.wall, "{:.1f}"),
                row(
                    "304s the spider counted (linkwatch/not_modified)",
                    lambda x: int(x.crawl.stats.get("linkwatch/not_modified") or 0),
                ),
                row("live edges after", lambda x: len(x.live)),
            ],
            title="Conditional recrawl:",
        )
    )


# --- the corpus with validators --------------------------------------------------------


class ValidatedResponses:
    """The corpus's answers (bench/corpus.py), a 200 with an ETag (a digest of
    its body) and a fixed Last-Modified: the fixture server then answers 304."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.cache: dict[tuple[str, str], Any] = {}

    def get(self, host: str, target: str) -> Any:
        key = (host, target)
        if key not in self.cache:
            from crawler.testing.fixtureweb.model import Response

            response = self.inner.get(host, target)
            if response is not None and response.status == 200:
                tag = '"' + hashlib.sha256(response.body).hexdigest()[:32] + '"'
                headers = (*response.headers, ("ETag", tag), ("Last-Modified", CORPUS_MODIFIED))
                response = Response(200, headers, response.body)
            self.cache[key] = response
        return self.cache[key]


async def _serve(args: argparse.Namespace) -> None:
    from crawler.testing.fixtureweb import FixtureServer, canonical_target

    trees, sites = ensure_corpus(), select_sites(args.sites)
    web = CorpusWeb(trees, sites)
    web.responses = ValidatedResponses(web.responses)  # type: ignore[assignment]
    for url, _ in html_files(trees, sites):  # read now: the first crawl is not the slow one
        host, _, path = url.removeprefix("http://").partition("/")
        web.responses.get(host, canonical_target("/" + path))
    server = FixtureServer(web, port=0, access_log=args.access_log)  # type: ignore[arg-type]
    await serve_until_stopped(server, args.port_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.freshness",
        description="serve the corpus with validators (ETag, Last-Modified, 304s)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve it as an HTTP proxy on 127.0.0.1")
    serve.add_argument("--port-file", type=Path, required=True)
    serve.add_argument("--access-log", type=Path)
    serve.add_argument("--sites", help="comma list of hosts (default: all)")
    args = parser.parse_args(argv)
    asyncio.run(_serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
