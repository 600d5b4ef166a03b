"""Benchmark results as Markdown, appended to BENCHMARKS.md.

A benchmark returns a `Section`: its headline rows (figure, target, measured,
verdict) and any detail tables and notes. `__main__` wraps the sections of
one invocation with the date, the machine and the versions.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from bench.measure import ROOT

BENCHMARKS_MD = ROOT / "BENCHMARKS.md"

HEADER = """\
# linkwatch benchmarks

`make bench` (or `python -m bench [--quick] [--only crawl,extract,...] [--repeat N]`)
appends one dated section per invocation below; the newest is last. Code in `bench/`.

Method, for every benchmark:

- **Ratios to a baseline run side by side.** Each figure is measured against a baseline
  that runs in the same invocation, on the same machine, alternating with ours (the side
  that goes first rotates), repeated N times (default 3; the crawl and distributed
  benchmarks stop after two when a third would break the 15-minute budget, and say so).
  Tables give the median with [min-max] of the runs; a ratio is the median of the
  per-repeat ratios.
- **CPU is the crawler's own.** A crawl is its own process; user + system CPU comes from
  `wait4()` when it exits. The HTTP server (a fixture-style forward proxy serving the
  corpus from memory) runs in another process and is not counted; Redis is counted where
  the issue says so, as the difference of its CPU times around a run. The distributed
  figures leave out each worker's start-up (imports, ~1 CPU-s before its engine starts),
  a cost per process rather than per page; the tables show it.
- **Peak RSS** is the crawler's VmHWM when its spider closes (pipelines flushed), read by
  `bench/statsdump.py` inside the process; not `ru_maxrss`, which also counts the memory
  of the parent a child had between fork and exec.
- **Pages** are the distinct HTML pages the server answered 200 for during a run (from its
  access log); both sides of a crawl comparison must fetch the same set.
- **The corpus** is real HTML: Debian's python3.11-doc, postgresql-doc-15 and
  python-django-doc (2,391 pages, 96 MB, the documentation trees of Python 3.11,
  PostgreSQL 15 and Django 3.2), downloaded with `apt-get download` into
  `~/.cache/linkwatch/corpus` (never committed), each tree served as one `*.test` host.
  Nothing is rewritten: relative links stay relative; absolute links to python.org,
  github.com, … are the outbound links; six of those registered domains are watched.
- **Same settings on both sides** where the comparison needs it: no AutoThrottle,
  CONCURRENT_REQUESTS=32, CONCURRENT_REQUESTS_PER_DOMAIN=16, LOG_LEVEL=INFO, robots.txt
  obeyed. Everything else is each side's own default.
- The machine is shared and noisy: the spread [min-max] says how much to trust a median.
- `--quick` (PostgreSQL site only, one repeat, smaller sizes; see bench/plan.py) is for
  iterating; only full runs count. `python -m bench.profile [--spider baseline]` shows
  where a crawl's CPU goes (py-spy if installed, else cProfile).
"""


@dataclass(slots=True)
class Row:
    """A headline figure against its target."""

    figure: str
    target: str
    measured: str
    verdict: str  # met | missed | not measured | info


@dataclass(slots=True)
class Table:
    headers: list[str]
    rows: list[list[str]]
    title: str = ""


@dataclass(slots=True)
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def not_measured(self, figure: str, target: str, reason: str) -> None:
        self.rows.append(Row(figure, target, f"not measured: {reason}", "not measured"))


def verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    def esc(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render_section(section: Section) -> str:
    parts = [f"### {section.title}"]
    if section.rows:
        parts.append(
            markdown_table(
                ["figure", "target", "measured", "verdict"],
                [[r.figure, r.target, r.measured, r.verdict] for r in section.rows],
            )
        )
    for table in section.tables:
        if table.title:
            parts.append(table.title)
        parts.append(markdown_table(table.headers, table.rows))
    parts += [f"- {note}" for note in section.notes]
    parts.append(f"_{section.seconds:.0f} s wall._")
    return "\n\n".join(parts)


def render_run(
    sections: list[Section], mode: str, repeat: int, wall: float, started: dt.datetime
) -> str:
    summary = [
        [s.title, r.figure, r.target, r.measured, r.verdict] for s in sections for r in s.rows
    ]
    repeats = f"{repeat} repeat{'s' if repeat > 1 else ''}"
    head = [
        f"## {started:%Y-%m-%d %H:%M} UTC — `python -m bench{mode}` ({repeats})",
        f"Machine: {machine()}. Versions: {versions()}. Total wall time: {wall:.0f} s.",
        markdown_table(["benchmark", "figure", "target", "measured", "verdict"], summary),
    ]
    return "\n\n".join(head + [render_section(s) for s in sections]) + "\n"


def append(text: str, path: Path = BENCHMARKS_MD) -> None:
    if not path.exists():
        path.write_text(HEADER, encoding="utf-8")
    with path.open("a", encoding="utf-8") as out:
        out.write("\n" + text)


# --- machine and versions --------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} x {model}{memory}, {platform.system()} {platform.release()}"


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def _binary_version(argv: list[str], pattern: str) -> str:
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        return "absent"
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False).stdout
    except OSError:
        return "absent"
    match = re.search(pattern, out)
    return match.group(1) if match else "unknown"


def versions() -> str:
    from crawler.testing.servers import find_binary

    redis = find_binary("redis-server") or "redis-server"
    ferretdb = find_binary("ferretdb") or "ferretdb"
    parts = [
        f"Python {platform.python_version()}",
        f"Scrapy {_package('scrapy')}",
        f"scrapy-redis {_package('scrapy-redis')}",
        f"selectolax {_package('selectolax')}",
        f"ada-url {_package('ada-url')}",
        f"lxml {_package('lxml')}",
        f"redis-server {_binary_version([redis, '--version'], r'v=([0-9.]+)')}",
        f"FerretDB {_binary_version([ferretdb, '--version'], r'version: (v[0-9.]+)')}",
    ]
    return ", ".join(parts)
