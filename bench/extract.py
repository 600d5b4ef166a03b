"""Benchmark 2, extraction alone: our extractor vs Scrapy's LinkExtractor vs the bare
Lexbor parse with attribute reads (the ceiling), on the crawl's HTML pages.

Pages are read into memory first; each implementation then makes one pass over
all of them per repeat (order rotating), timed in CPU seconds of this process
(`time.process_time`), after a `gc.collect()` and an untimed warm-up on 20
pages; a measurement repeats whole passes until it took ≥ 1 CPU-s (the quick
run's 16 MB take the bare parse 0.2 s). LinkExtractor, there for scale and
~30 s a pass over the full corpus, makes one measurement only.

- ours: `crawler.extraction.extract_links(body, url, encoding="utf-8",
  normalize=URLNormalizer(...))`, as the spider calls it (the server sends
  `charset=utf-8`); one normalizer per pass, as one per crawl.
- LinkExtractor: `LinkExtractor().extract_links(HtmlResponse(url, body=body,
  encoding="utf-8"))` with Scrapy's defaults (fragments kept, so more links).
- bare parse: `LexborHTMLParser(body).css("[href]")` and each element's
  `attrs.get("href")`: what any Lexbor-based extractor must at least do.

MB/s is page bytes per CPU second; links/s counts what each returns.
Target: ours ≥ 60% of the bare parse's MB/s.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

from scrapy.http import HtmlResponse
from scrapy.linkextractors import LinkExtractor
from selectolax.lexbor import LexborHTMLParser

from bench.corpus import corpus_description, ensure_corpus, load_pages
from bench.measure import fmt_range, paired_ratios, rotated
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from crawler.extraction import extract_links
from crawler.urls import URLNormalizer
from settings.base import LINKWATCH_MAX_URL_LENGTH, LINKWATCH_STRIP_PARAMS

TITLE = "2. Extraction alone — our extractor vs LinkExtractor vs bare Lexbor parse"

Pages = list[tuple[str, bytes]]
MIN_SECONDS = 1.0  # a measurement loops over the pages until it has taken this long


def ours(pages: Pages) -> int:
    normalize = URLNormalizer(
        strip_params=LINKWATCH_STRIP_PARAMS, max_length=LINKWATCH_MAX_URL_LENGTH
    )
    links = 0
    for url, body in pages:
        links += len(extract_links(body, url, encoding="utf-8", normalize=normalize).links)
    return links


def link_extractor(pages: Pages) -> int:
    extractor = LinkExtractor()
    links = 0
    for url, body in pages:
        response = HtmlResponse(url, body=body, encoding="utf-8")
        links += len(extractor.extract_links(response))
    return links


def bare_parse(pages: Pages) -> int:
    links = 0
    for _url, body in pages:
        for node in LexborHTMLParser(body).css("[href]"):
            if node.attrs.get("href") is not None:
                links += 1
    return links


# Informational only (the target compares ours with the bare parse) and ~30 s a
# pass over the full corpus: one pass per invocation.
ONCE = frozenset({"LinkExtractor"})

IMPLEMENTATIONS: dict[str, Callable[[Pages], int]] = {
    "ours": ours,
    "LinkExtractor": link_extractor,
    "bare Lexbor parse": bare_parse,
}


def timed(function: Callable[[Pages], int], pages: Pages) -> tuple[float, int, int]:
    """(CPU seconds, links, passes): whole passes over `pages`, at least MIN_SECONDS."""
    gc.collect()
    begin = time.process_time()
    links = passes = 0
    while True:
        links = function(pages)
        passes += 1
        spent = time.process_time() - begin
        if spent >= MIN_SECONDS:
            return spent, links, passes


def run(plan: Plan, workdir: Path) -> Section:
    started = time.monotonic()
    pages = load_pages(ensure_corpus(), plan.extract_sites)
    megabytes = sum(len(body) for _, body in pages) / 1e6
    names = list(IMPLEMENTATIONS)
    seconds: dict[str, list[float]] = {name: [] for name in names}
    links: dict[str, int] = {}
    for function in IMPLEMENTATIONS.values():  # imports, caches, first-call costs
        function(pages[:20])
    for i in range(plan.repeat):
        for name in rotated(names, i):
            if i > 0 and name in ONCE:
                continue
            cpu, count, passes = timed(IMPLEMENTATIONS[name], pages)
            seconds[name].append(cpu / passes)
            links[name] = count
            print(f"  extract {name:18} #{i}: {cpu / passes:.2f} CPU-s a pass ({passes})")
    mbps = {name: [megabytes / s for s in seconds[name]] for name in names}
    share = paired_ratios(mbps["ours"], mbps["bare Lexbor parse"])
    vs_le = [m / median(mbps["LinkExtractor"]) for m in mbps["ours"]]
    section = Section(TITLE)
    section.rows.append(
        Row(
            "MB/s, ours ÷ bare Lexbor parse",
            "≥ 60%",
            fmt_range(share, "{:.0%}"),
            verdict(median(share) >= 0.6),
        )
    )
    section.rows.append(
        Row("MB/s, ours ÷ LinkExtractor", "—", fmt_range(vs_le, "{:.2f}", "x"), "info")
    )
    section.tables.append(
        Table(
            ["", "MB/s", "links/s", "links returned", "CPU-s per pass"],
            [
                [
                    name,
                    fmt_range(mbps[name], "{:.1f}"),
                    fmt_range([links[name] / s for s in seconds[name]], "{:,.0f}"),
                    f"{links[name]:,}",
                    fmt_range(seconds[name], "{:.2f}"),
                ]
                for name in names
            ],
        )
    )
    section.notes.append(
        f"{len(pages):,} pages, {megabytes:.1f} MB: {corpus_description(plan.extract_sites)}. "
        "Ours returns distinct canonical targets (fragments dropped); LinkExtractor keeps "
        "fragments; the bare parse counts every href attribute."
    )
    section.seconds = time.monotonic() - started
    return section
