"""`linkwatch verify FILE`: are the links you expect really there?

Reads the rows (crawler/verification.py), fetches each distinct source page
once with the verify spider (crawler/spiders/verify.py, run by
crawler/cli/scrapy_run.py: robots.txt, the SSRF guard and the politeness
limits hold as in any crawl; the pages' edges are stored as a crawl's), then
prints one status per row. Exit status: 0 every row ok, 1 any is not, 2 a
mistake (a bad row: every bad row is named with its line, and nothing is
fetched).
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.cli.common import UsageError, describe, format_option, store_options
from crawler.cli.output import write_rows
from crawler.cli.scrapy_run import (
    parse_settings,
    read_outcomes,
    run_spider,
    settings_option,
    spider_env,
)

if TYPE_CHECKING:
    import argparse

    from crawler.verification import Rows

# Bad rows named on stderr before the rest are only counted.
MAX_PROBLEMS = 20

DESCRIPTION = (
    "Check that the pages in FILE link to you as expected. FILE is a CSV with "
    "the header source_url,target and the optional columns anchor and follow: "
    "target is a URL or a domain (all its hosts; a host: it and its subdomains), "
    "anchor the expected link text (case and spacing aside; an image link's alt), "
    "follow=true a link that must not be nofollow. Or, with --domain DOMAIN, a "
    "Search Console links export (Links > Latest links > Export): each linking "
    "page should link to DOMAIN. Each page is fetched once, as a crawl fetches it "
    "(robots.txt, the SSRF guard, the per-host limits, the proxy; -s sets crawl "
    "settings) and its edges are stored as a crawl's. One status per row: ok, "
    "link_not_found, page_gone (4xx/5xx), unreachable (DNS, connection, timeout), "
    "robots_blocked, redirected (off its site; on-site redirects are followed), "
    "noindex, canonical_elsewhere, nofollow, wrong_anchor; each with what was "
    "found. Exit status: 0 when every row is ok, 1 when one is not, 2 for a "
    "mistake (bad rows are named by line, and nothing is fetched)."
)


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        DESCRIPTION,
        (
            "linkwatch verify links.csv",
            "  with links.csv:  source_url,target,anchor,follow",
            "                   https://blog.example.org/review,https://mysite.com/,My Site,true",
            "                   https://news.example.net/list,mysite.com,,",
            "linkwatch verify gsc-latest-links.csv --domain mysite.com --format csv > status.csv",
            "linkwatch verify links.csv --format json | jq 'select(.status != \"ok\")'",
            "linkwatch verify links.csv -s CONCURRENT_REQUESTS_PER_DOMAIN=1",
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the links to verify (CSV, see above)")
    parser.add_argument(
        "--domain",
        metavar="DOMAIN",
        help="FILE is a Search Console links export whose pages should link to DOMAIN",
    )
    format_option(parser)
    settings_option(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from crawler.verification import COLUMNS, Fetched, verify  # deferred: imports tldextract

    rows = read_file(args.file, args.domain)
    if rows.problems:
        return report_problems(args.file, rows.problems)
    if not rows.rows:
        raise UsageError(f"{args.file}: no rows to verify")
    settings, env = parse_settings(args.settings), spider_env(args)
    pages = rows.source_pages
    print(
        f"linkwatch verify: fetching {len(pages)} pages for {len(rows.rows)} rows",
        file=sys.stderr,
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="linkwatch-verify-") as tmp:
        urls, watch, out = Path(tmp, "pages.txt"), Path(tmp, "watch.txt"), Path(tmp, "out.jsonl")
        urls.write_text("".join(f"{url}\n" for url in pages), encoding="utf-8")
        watch.write_text("".join(f"{domain}\n" for domain in rows.watch), encoding="utf-8")
        arguments = {"urls": f"@{urls}", "watch": f"@{watch}", "out": str(out)}
        run_spider("verify", arguments, settings, env)
        fetched = {record["url"]: Fetched.from_dict(record) for record in read_outcomes(out)}
    results = verify(rows.rows, fetched)
    write_rows((result.as_row() for result in results), COLUMNS, args.format)
    counts = Counter(result.status for result in results)
    summary = ", ".join(f"{status} {n}" for status, n in counts.most_common())
    print(f"linkwatch verify: {len(results)} rows: {summary}", file=sys.stderr)
    return 0 if counts["ok"] == len(results) else 1


def read_file(name: str, domain: str | None) -> Rows:
    """The rows of FILE; a UsageError (exit 2) for a file that is not one."""
    from crawler.domains import clean_domain
    from crawler.verification import RowsError, read_rows

    if domain is not None:
        try:
            domain = clean_domain(domain)
        except ValueError as exc:
            raise UsageError(f"--domain: {exc}") from None
    try:
        text = Path(name).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{name}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{name}: cannot read it: {exc}") from None
    try:
        return read_rows(text, domain)
    except RowsError as exc:
        raise UsageError(f"{name}: {exc}") from None


def report_problems(name: str, problems: list[tuple[int, str]]) -> int:
    """Every bad row on stderr, one line each (the first MAX_PROBLEMS); exit 2."""
    for line, why in problems[:MAX_PROBLEMS]:
        print(f"linkwatch verify: error: {name} line {line}: {why}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        print(f"linkwatch verify: error: {name}: {more} more bad rows", file=sys.stderr)
    return 2
