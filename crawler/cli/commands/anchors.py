"""`linkwatch anchors DOMAIN`: the anchor texts of a watched domain's
backlinks, each with its class, and the share of backlinks per class
(crawler/intelligence/anchors.py has the rules).

The live edges are read once (`Store.backlinks`) and grouped here by anchor
text, and by alt for image links, which `Store.anchors` does not tell apart.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from crawler.cli.common import (
    describe,
    domain_argument,
    open_for_reading,
    output_options,
    parse_target,
    store_options,
)
from crawler.cli.output import write_rows

if TYPE_CHECKING:
    import argparse

COLUMNS = ("anchor", "alt", "class", "edges", "refdomains")
CLASS_COLUMNS = ("class", "anchors", "edges", "share")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Anchor texts of DOMAIN's live backlinks, with their class, the number of "
        "edges and of referring domains using each; most used first. Classes, the "
        "first that applies: empty, image (an image link: its alt is shown), url "
        "(a naked URL), brand (DOMAIN's name or a --brand name), exact and partial "
        "(a keyword; the whole text, or all its words), generic (click here, read "
        "more, website... in en, de, fr, es, it, pt, nl), other. A table ends with "
        "each class's share of all the backlinks (whatever --limit); --classes prints "
        "only that. A warning "
        "goes to stderr when exact-match anchors carry more than 10% of the "
        "backlinks: the over-optimisation signal. Keywords: --keywords, else those "
        "stored with `linkwatch keywords DOMAIN add`.",
        (
            'linkwatch anchors mysite.com --brand "My Site" --keywords "running shoes"',
            "linkwatch anchors mysite.com --classes --format csv",
            "linkwatch anchors mysite.com --format json | jq -r 'select(.class == \"exact\")'",
        ),
    )
    domain_argument(parser)
    parser.add_argument(
        "--brand",
        action="append",
        default=[],
        metavar="NAME",
        help="a brand name besides DOMAIN's own (repeat, or a comma list)",
    )
    parser.add_argument(
        "--keywords",
        action="append",
        default=None,
        metavar="K1,K2",
        help="keywords, comma-separated (default: those stored for DOMAIN)",
    )
    parser.add_argument(
        "--classes",
        action="store_true",
        help="print each class's anchors, edges and share instead of the anchors",
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from crawler.cli.commands.keywords import watched_name
    from crawler.intelligence.anchors import (
        EXACT_WARNING,
        class_shares,
        classified,
        group_anchors,
        over_optimised,
        split_names,
    )

    target = parse_target(args.domain)
    brands = split_names(args.brand)
    with open_for_reading(args) as store:
        if args.keywords is None:
            keywords = store.keywords(watched_name(args.domain))
        else:
            keywords = split_names(args.keywords)
        rows = classified(group_anchors(store.backlinks(target)), target.domain, brands, keywords)
    shares = class_shares(rows)
    if over_optimised(shares):
        exact = next(row["share"] for row in shares if row["class"] == "exact")
        print(
            f"warning: exact-match anchors carry {exact:.0%} of {args.domain}'s backlinks "
            f"(over {EXACT_WARNING:.0%}): a sign of over-optimisation",
            file=sys.stderr,
        )
    if args.classes:
        write_rows(shares[: args.limit], CLASS_COLUMNS, args.format)
        return 0
    write_rows(rows[: args.limit], COLUMNS, args.format)
    if args.format == "table" and shares:
        print()
        write_rows(shares, CLASS_COLUMNS, "table")
    return 0
