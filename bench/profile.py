"""Where a crawl's CPU goes: `python -m bench.profile [--spider ours|baseline] [--sites ...]`.

Crawls the corpus once, like the crawl benchmark, under a profiler, and prints
the functions with the most CPU: own (samples where the function itself runs)
and cumulative (samples where it is anywhere on the stack).

With py-spy (`pip install py-spy`; found on PATH or as $PYSPY) it samples the
thread holding the GIL (`--gil`, so threads waiting on a lock or a socket do
not count) 250 times a second, with no slowdown. Without it, cProfile runs in
the crawler process: exact call counts, but its overhead inflates small
functions. Not part of `make bench`; a missed target is stated with this.
"""

from __future__ import annotations

import argparse
import collections
import os
import pstats
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.corpus import SITES, ensure_corpus, select_sites
from bench.crawl import baseline_argv, ours_argv
from bench.measure import ROOT
from bench.webserver import ProxyServer

# Frames every sample has (interpreter start-up, Scrapy's command line, the reactor).
_FRAMES_ALL_SHARE = re.compile(
    r"^(_run_module_as_main|_run_code|<module> \(scrapy/__main__|execute \(scrapy/cmdline"
    r"|_run_print_help|_run_command|Command\.run|AsyncCrawlerProcess|BaseEventLoop\.run_forever"
    r"|AsyncioSelectorReactor\.run|BaseEventLoop\._run_once|Handle\._run)"
)


def _frame(raw: str) -> str:
    match = re.match(r"(.*) \((.*?):\d+\)$", raw.strip())
    if not match:
        return raw.strip()
    function, path = match.groups()
    path = re.sub(r".*/site-packages/", "", path)
    path = re.sub(r".*?/(crawler|pipelines|settings|bench)/", r"\1/", path)
    path = re.sub(r".*/lib/python3\.\d+/", "", path)
    return f"{function} ({path})"


def aggregate(raw_file: Path) -> tuple[int, collections.Counter, collections.Counter]:
    """(samples, own, cumulative) from py-spy's raw (collapsed stacks) output."""
    own: collections.Counter = collections.Counter()
    cumulative: collections.Counter = collections.Counter()
    total = 0
    for line in raw_file.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = [_frame(f) for f in stack.split(";")]
        own[frames[-1]] += samples
        for frame in set(frames):
            cumulative[frame] += samples
    return total, own, cumulative


def report(total: int, own: collections.Counter, cumulative: collections.Counter, top: int) -> str:
    lines = [f"{total:,} samples of the thread holding the GIL", "", "own CPU:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines += ["", "cumulative CPU (frames every sample shares left out):"]
    shown = [(f, n) for f, n in cumulative.most_common() if not _FRAMES_ALL_SHARE.match(f)]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in shown[:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--spider", choices=("ours", "baseline"), default="ours")
    parser.add_argument("--sites", help="comma list of corpus hosts (default: all)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--keep", type=Path, help="save the raw profile here")
    parser.add_argument("--extra", action="append", default=[], help="NAME=VALUE setting")
    args = parser.parse_args(argv)
    ensure_corpus()
    sites = select_sites(args.sites) if args.sites else SITES
    seeds = [site.seed for site in sites]
    pyspy = os.environ.get("PYSPY") or shutil.which("py-spy")
    extra = dict(item.split("=", 1) for item in args.extra)
    with tempfile.TemporaryDirectory(prefix="linkwatch-profile-") as tmp:
        work = Path(tmp)
        env_extra = {}
        if args.spider == "ours":
            crawl = ours_argv(seeds, work, "profile", extra=extra)
        else:
            crawl = baseline_argv(seeds, work, "profile", extra=extra)
            env_extra["SCRAPY_SETTINGS_MODULE"] = "bench.baseline_settings"
        output = work / ("profile.raw" if pyspy else "profile.pstats")
        if pyspy:
            command = [pyspy, "record", "--gil", "-r", "250", "--format", "raw"]
            command += ["-o", str(output), "--", *crawl]
        else:
            command = [crawl[0], "-m", "cProfile", "-o", str(output), *crawl[1:]]
        with ProxyServer("bench.corpus", ["--sites", ",".join(s.host for s in sites)], work) as srv:
            result = subprocess.run(
                command, cwd=ROOT, env=srv.crawl_env(**env_extra), capture_output=True, text=True
            )
        if result.returncode != 0 or not output.exists():
            print(f"error: the profiled crawl failed:\n{result.stderr[-2000:]}", file=sys.stderr)
            return 1
        if args.keep:
            shutil.copy(output, args.keep)
        if pyspy:
            print(report(*aggregate(output), args.top))
        else:
            stats = pstats.Stats(str(output))
            stats.sort_stats("tottime").print_stats(args.top)
            stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
