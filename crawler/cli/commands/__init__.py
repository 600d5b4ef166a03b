"""Every `linkwatch` command: its name and its one-line help, in --help order.

A command lives in the module of its name here (`linkwatch gap` in
crawler/cli/commands/gap.py), which has `configure(parser)`: the command's
description, options and `run`. Only the chosen command's module is imported,
so listing the commands or running one query never imports the rest (nor
Scrapy, Redis or the plotting libraries behind them).
"""

from __future__ import annotations

COMMANDS: dict[str, str] = {
    # Queries of the link graph.
    "backlinks": "pages that link to a domain",
    "refdomains": "domains that link to a domain, most edges first",
    "anchors": "anchor texts of a domain's backlinks, with counts, classes and their shares",
    "keywords": "add, remove or list a domain's keywords (exact- and partial-match anchors)",
    "new": "backlinks first seen on or after a date",
    "lost": "backlinks lost on or after a date, with the reason",
    "pages": "a domain's pages by live backlinks and referring domains",
    "summary": "each watched domain in a few lines: backlinks, referring domains, lost",
    "recrawl": "pages linking to a domain, oldest crawl first: seeds for a recrawl",
    "discovered": "referring domains a discovery crawl found, with the path that led there",
    # A shared crawl in Redis.
    "seed": "add seeds to a shared crawl (REDIS_URL)",
    "watch": "the watch list of a shared crawl (REDIS_URL)",
    "status": "live numbers of a shared crawl",
    # Analyses of the link graph.
    "rank": "authority of every domain: PageRank and harmonic centrality of the domain graph",
    "gap": "domains linking to competitors but not to you",
    "toxic": "referring domains scored by link-farm rules, with the evidence",
    "explain": "one link's quality score (0-100), term by term",
    "disavow": "a Google disavow file of the toxic referring domains",
    "report": "an HTML report with charts, in a directory",
    "export": "a whole backlink profile as CSV, JSON lines, Parquet or GraphML",
    # Keeping watch.
    "alerts": "send new and lost backlinks to a webhook, a mailbox or a file",
    "monitor": "recrawl what is due, then send alerts: the command a timer or cron runs",
    "verify": "check that pages link to you as expected: one status per expected link",
    "broken": "your pages that backlinks point to but that answer 4xx/5xx: redirect them",
    "serve": "a read-only web dashboard of the store, with a JSON API (http://127.0.0.1:8765)",
}


def module_name(command: str) -> str:
    return f"{__name__}.{command}"
