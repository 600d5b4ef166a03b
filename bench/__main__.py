"""`python -m bench [--quick] [--only crawl,extract,...] [--repeat N]` (`make bench`).

Runs the benchmarks of issue 5 in order and appends one dated section to
BENCHMARKS.md. The full run stays under 15 minutes on a 2-core machine;
`--quick` (one repeat, the PostgreSQL site only, smaller sizes) under 2.
A benchmark that cannot run yet (the Redis frontier, the Bloom filter) or
fails writes "not measured: <reason>" rows; the others still run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from bench.corpus import SITES, CorpusUnavailable, ensure_corpus, site_by_host
from bench.plan import FULL, QUICK, Plan
from bench.report import Section, append, render_run

# Imported when run, so a benchmark whose code (or the code it measures) does not
# import yet becomes a "not measured" row instead of stopping the others.
BENCHMARKS = {
    "crawl": "1. Crawl",
    "extract": "2. Extraction alone",
    "distributed": "3. Distributed",
    "seenset": "4. Seen-set memory",
    "ingest": "5. Store ingest",
    "memory": "6. Memory",
    "broadweb": "7. Broad web — politeness and throughput on 160 slow sites",
    "discovery": "8. Discovery — referring domains found by expansion, focused vs bfs",
    "freshness": "9. Freshness — resume overhead and what a conditional recrawl saves",
    "dashboard": "10. Dashboard — one page of 100 rows on a store of 2 million edges",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 repeat (< 2 min)")
    parser.add_argument(
        "--only", help=f"comma list of benchmarks to run (default all: {','.join(BENCHMARKS)})"
    )
    parser.add_argument("--repeat", type=int, help="repeats per figure (default 3; quick 1)")
    parser.add_argument(
        "--sites",
        help="corpus hosts for the crawl and extraction benchmarks (default: all three; "
        f"quick: pgdocs.test); known: {','.join(s.host for s in SITES)}",
    )
    parser.add_argument("--no-write", action="store_true", help="do not touch BENCHMARKS.md")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, DBs)")
    args = parser.parse_args(argv)
    if args.only:
        unknown = sorted(set(args.only.split(",")) - set(BENCHMARKS))
        if unknown:
            parser.error(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}")
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.sites:
        try:
            for host in args.sites.split(","):
                site_by_host(host)
        except KeyError as exc:
            parser.error(str(exc.args[0]))
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else FULL
    if args.repeat:
        plan = plan.with_repeat(args.repeat)
    if args.sites:
        plan = plan.with_sites(tuple(site_by_host(h) for h in args.sites.split(",")))
    return plan


def run_one(name: str, plan: Plan, workdir: Path) -> Section:
    """One benchmark; its failure becomes a "not measured" row, not a crash."""
    print(f"bench: {name} ...", flush=True)
    begun = time.monotonic()
    try:
        module = importlib.import_module(f"bench.{name}")
        section = module.run(plan, workdir / name)
    except Exception as exc:  # one broken benchmark must not hide the others
        traceback.print_exc()
        section = Section(BENCHMARKS[name])
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        section.not_measured("all", "-", f"{type(exc).__name__}: {first_line}")
    section.seconds = time.monotonic() - begun
    for row in section.rows:
        print(f"  {name}: {row.figure}: {row.measured} (target {row.target}: {row.verdict})")
    for note in section.notes:
        print(f"  {name} note: {note}")
    print(f"bench: {name} done in {section.seconds:.0f} s", flush=True)
    return section


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    plan = make_plan(args)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    started_at = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="linkwatch-bench-"))
    print(f"bench: {', '.join(names)}; {plan.repeat} repeats; work dir {workdir}", flush=True)
    try:
        ensure_corpus()
    except CorpusUnavailable as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 1
    sections: dict[str, Section] = {}
    try:
        pending = list(names)
        while pending:
            name = pending.pop(0)
            pair = {"seenset": "memory", "memory": "seenset"}.get(name)
            if pair in pending:
                # Both measure sizes, not speed: side by side they save minutes.
                pending.remove(pair)
                thread = threading.Thread(
                    target=lambda: sections.update(seenset=run_one("seenset", plan, workdir))
                )
                thread.start()
                sections["memory"] = run_one("memory", plan, workdir)
                thread.join()
            else:
                sections[name] = run_one(name, plan, workdir)
    finally:
        if args.keep:
            print(f"bench: work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    wall = time.monotonic() - started
    mode = " --quick" if args.quick else ""
    if args.only:
        mode += f" --only {args.only}"
    ordered = [sections[name] for name in BENCHMARKS if name in sections]
    text = render_run(ordered, mode, plan.repeat, wall, started_at)
    if not args.no_write:
        append(text)
        print("bench: results appended to BENCHMARKS.md")
    print(f"bench: total {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
