"""`linkwatch backlinks DOMAIN`: the pages that link to a watched domain.

Each row is an edge with the referring domain's authority (its PageRank on the
domain graph, 0-100, from the last `linkwatch rank`; empty before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.cli.common import (
    describe,
    domain_argument,
    open_for_reading,
    output_options,
    parse_date,
    parse_target,
    store_options,
)
from crawler.cli.output import write_rows
from crawler.items import Edge, pick

if TYPE_CHECKING:
    import argparse

# Edge fields (crawler/items.py), then the referring domain's authority.
COLUMNS = (
    *pick(Edge, "source_url", "target_url", "anchor", "link_type", "nofollow", "first_seen"),
    "authority",
)
LOST_COLUMNS = pick(Edge, "lost_at", "lost_reason")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "List the edges into DOMAIN: the pages that link to it, with anchor text, "
        "rel and link type, ordered by referring domain. Live links by default; "
        "--lost shows those a recrawl no longer found, with the reason.",
        (
            "linkwatch backlinks mysite.com --dofollow --limit 50",
            "linkwatch backlinks blog.mysite.com --lost --format csv > lost.csv",
            "linkwatch backlinks mysite.com --sort authority --limit 20",
        ),
    )
    domain_argument(parser)
    state = parser.add_mutually_exclusive_group()
    state.add_argument(
        "--live",
        dest="state",
        action="store_const",
        const="live",
        help="links still there (default)",
    )
    state.add_argument(
        "--lost", dest="state", action="store_const", const="lost", help="links lost on a recrawl"
    )
    state.add_argument("--all", dest="state", action="store_const", const="all", help="both")
    parser.add_argument("--since", metavar="DATE", help="first seen on or after DATE (YYYY-MM-DD)")
    parser.add_argument("--dofollow", action="store_true", help="only links without nofollow")
    parser.add_argument(
        "--sort",
        choices=("domain", "authority"),
        default="domain",
        help="by referring domain (default), or by its authority, highest first",
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run, state="live")


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    since = parse_date(args.since)
    query = {"state": args.state, "since": since, "dofollow": args.dofollow, "limit": args.limit}
    with open_for_reading(args) as store:
        if args.sort == "authority":
            rows = store.backlinks_by_authority(target, **query)
        else:
            rows = store.annotate_authority(store.backlinks(target, **query))
        columns = COLUMNS + (LOST_COLUMNS if args.state != "live" else ())
        write_rows(rows, columns, args.format)
    return 0
