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
  `charset=utf-8`); one normalizer per pass, as one per crawl; then
  `page.evidence(i)` (placement and context) for the links into the watched
  domains (bench.corpus.WATCH; which ones is found before the clock starts:
  the spider matches every link's host whether or not it computes evidence).
- ours without placement/context: the same with no `evidence` call, which is
  the extraction of version 0.3 (the baseline of issue 15's cost target:
  ours ≥ 85% of its MB/s); and with evidence on every link, for scale.
- LinkExtractor: `LinkExtractor().extract_links(HtmlResponse(url, body=body,
  encoding="utf-8"))` with Scrapy's defaults (fragments kept, so more links).
- bare parse: `LexborHTMLParser(body).css("[href]")` and each element's
  `attrs.get("href")`: what any Lexbor-based extractor must at least do.

MB/s is page bytes per CPU second; links/s counts what each returns.
Targets: ours ≥ 60% of the bare parse's MB/s, and ≥ 85% of ours without
placement/context.
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

from bench.corpus import WATCH, corpus_description, ensure_corpus, load_pages
from bench.measure import fmt_range, paired_ratios, rotated
from bench.plan import Plan
from bench.report import Row, Section, Table, verdict
from crawler.domains import WatchList
from crawler.extraction import extract_links
from crawler.urls import URLNormalizer, url_host
from settings.base import LINKWATCH_MAX_URL_LENGTH, LINKWATCH_STRIP_PARAMS

TITLE = "2. Extraction alone — our extractor vs LinkExtractor vs bare Lexbor parse"

Pages = list[tuple[str, bytes]]
MIN_SECONDS = 1.0  # a measurement loops over the pages until it has taken this long


def _ours(pages: Pages, evidence: str) -> int:
    """Extraction as the spider runs it, with placement and context computed
    for the links into the watched domains (``evidence="watched"``, as a
    crawl), for none (``"none"``: the call of version 0.3) or for every link
    (``"all"``). Which links are watched is known before the clock starts
    (``watched_urls``): the spider matches every link's host anyway, so only
    the evidence is this benchmark's to time."""
    normalize = URLNormalizer(
        strip_params=LINKWATCH_STRIP_PARAMS, max_length=LINKWATCH_MAX_URL_LENGTH
    )
    watched = _WATCHED
    links = 0
    for url, body in pages:
        page = extract_links(body, url, encoding="utf-8", normalize=normalize)
        if evidence == "all":
            page.with_evidence()
        elif evidence == "watched":
            for index, link in enumerate(page.links):
                if link.url in watched:
                    page.evidence(index)
        links += len(page.links)
    return links


# Canonical URLs of the corpus's links into bench.corpus.WATCH (watched_urls).
_WATCHED: set[str] = set()


def watched_urls(pages: Pages) -> set[str]:
    """The links of `pages` into the watched domains, as the spider finds them."""
    watch = WatchList(WATCH)
    found = set()
    for url, body in pages:
        for link in extract_links(body, url, encoding="utf-8").links:
            if watch.match(url_host(link.url)) is not None:
                found.add(link.url)
    return found


def ours(pages: Pages) -> int:
    return _ours(pages, "watched")


def ours_without_evidence(pages: Pages) -> int:
    return _ours(pages, "none")


def ours_evidence_everywhere(pages: Pages) -> int:
    return _ours(pages, "all")


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


NO_EVIDENCE = "ours, no placement/context"

# Informational only (the target compares ours with the bare parse) and ~30 s a
# pass over the full corpus: one pass per invocation.
ONCE = frozenset({"LinkExtractor"})

IMPLEMENTATIONS: dict[str, Callable[[Pages], int]] = {
    "ours": ours,
    NO_EVIDENCE: ours_without_evidence,
    "ours, evidence on every link": ours_evidence_everywhere,
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
    _WATCHED.clear()
    _WATCHED.update(watched_urls(pages))
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
    kept = paired_ratios(mbps["ours"], mbps[NO_EVIDENCE])
    section.rows.append(
        Row(
            "MB/s, ours ÷ ours without placement/context (0.3's extraction)",
            "≥ 85%",
            fmt_range(kept, "{:.0%}"),
            verdict(median(kept) >= 0.85),
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
        "fragments; the bare parse counts every href attribute. "
        f"{len(_WATCHED):,} distinct link targets are in the watched domains ({', '.join(WATCH)}): "
        "ours computes placement and context for those."
    )
    section.seconds = time.monotonic() - started
    return section
