"""`linkwatch toxic DOMAIN`: referring domains scored by link-farm rules, with
the evidence for every rule that fired."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.cli.common import (
    describe,
    domain_argument,
    open_for_reading,
    output_options,
    parse_target,
    score,
    store_options,
)
from crawler.cli.output import write_rows
from crawler.cli.toxic_rules import assess_target, rule_options, rules_from

if TYPE_CHECKING:
    import argparse

COLUMNS = ("source_domain", "score", "rules", "edges", "evidence")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Score every referring domain of DOMAIN's live backlinks from 0 to 100 "
        "with transparent rules; each rule that fires adds its weight and shows "
        "the numbers that made it fire. outlinks_per_page (+25): its crawled pages "
        "average many links to other domains. many_watched_domains (+20): it links "
        "to many of the watched domains. sitewide_links (+15): most of its pages "
        "link to DOMAIN. commercial_anchors (+30): an anchor with a commercial "
        "term repeated across its pages. spam_tld (+20): its TLD is on the "
        "spam-heavy list. Whitelisted domains are left out.",
        (
            "linkwatch toxic mysite.com",
            "linkwatch toxic mysite.com --min-score 50 --whitelist trusted.txt --format json",
            "LINKWATCH_SPAM_TLDS=xyz,top,click linkwatch toxic mysite.com",
        ),
    )
    domain_argument(parser)
    parser.add_argument(
        "--min-score",
        type=score,
        default=1,
        metavar="N",
        help="only domains scoring at least N (default 1: any rule fired; 0: all)",
    )
    rule_options(parser)
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    rules, whitelist = rules_from(args)
    with open_for_reading(args) as store:
        assessed = assess_target(store, target, rules, whitelist)
    rows = [t.row() for t in assessed if not t.whitelisted and t.score >= args.min_score]
    write_rows(rows[: args.limit] if args.limit else rows, COLUMNS, args.format)
    return 0
