"""`linkwatch backlinks DOMAIN`: the pages that link to a watched domain.

Each row is an edge with the referring domain's authority (its PageRank on the
domain graph, 0-100, from the last `linkwatch rank`; empty before), where the
link sits and its quality score (0-100, crawler/intelligence/quality.py;
`linkwatch explain` shows its terms).
"""

from __future__ import annotations

import heapq
import itertools
from typing import TYPE_CHECKING

from crawler.cli.common import (
    describe,
    domain_argument,
    open_for_reading,
    output_options,
    parse_date,
    parse_target,
    score,
    store_options,
)
from crawler.cli.output import write_rows
from crawler.items import Edge, pick
from crawler.placement import PLACEMENTS
from pipelines.stores.base import UNKNOWN_PLACEMENT

if TYPE_CHECKING:
    import argparse

# Edge fields (crawler/items.py), the referring domain's authority, the quality.
COLUMNS = (
    *pick(
        Edge,
        "source_url",
        "target_url",
        "anchor",
        "link_type",
        "nofollow",
        "placement",
        "first_seen",
    ),
    "authority",
    "quality",
)
PLACEMENT_CHOICES = (*PLACEMENTS, UNKNOWN_PLACEMENT)
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
            "linkwatch backlinks mysite.com --placement content --follow --min-quality 60",
            "linkwatch backlinks mysite.com --sort quality --format json | jq .context",
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
    parser.add_argument(
        "--follow",
        "--dofollow",
        dest="dofollow",
        action="store_true",
        help="only followed links (no nofollow)",
    )
    parser.add_argument(
        "--placement",
        choices=PLACEMENT_CHOICES,
        help="only links in this part of their page (unknown: stored before linkwatch 0.4)",
    )
    parser.add_argument(
        "--min-quality",
        type=score,
        metavar="N",
        help="only links whose quality is at least N (0-100)",
    )
    parser.add_argument(
        "--brand",
        action="append",
        default=[],
        metavar="NAME",
        help="a brand name of DOMAIN besides its own, for the anchor term (repeatable)",
    )
    parser.add_argument(
        "--sort",
        choices=("domain", "authority", "quality"),
        default="domain",
        help="by referring domain (default), by its authority or by the link's quality, "
        "highest first",
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run, state="live")


def run(args: argparse.Namespace) -> int:
    from crawler.cli.link_quality import target_quality
    from crawler.intelligence.anchors import split_names

    target = parse_target(args.domain)
    since = parse_date(args.since)
    # Quality filters and sorts see every edge first; the limit comes after.
    whole = args.sort == "quality" or args.min_quality is not None
    query = {
        "state": args.state,
        "since": since,
        "dofollow": args.dofollow,
        "limit": None if whole else args.limit,
        "placement": args.placement,
    }
    with open_for_reading(args) as store:
        model = target_quality(store, target, split_names(args.brand))
        if args.sort == "authority":
            rows = store.backlinks_by_authority(target, **query)
        else:
            rows = store.annotate_authority(store.backlinks(target, **query))
        rows = model.annotate(rows)
        if args.min_quality is not None:
            rows = (row for row in rows if row["quality"] >= args.min_quality)
        if args.sort == "quality":

            def order(row: dict) -> tuple[int, str, str]:
                return -row["quality"], row["source_url"], row["target_url"]

            if args.limit:  # memory for the rows shown, not the profile
                rows = iter(heapq.nsmallest(args.limit, rows, key=order))
            else:
                rows = iter(sorted(rows, key=order))
        elif whole and args.limit:
            rows = itertools.islice(rows, args.limit)
        columns = COLUMNS + (LOST_COLUMNS if args.state != "live" else ())
        write_rows(rows, columns, args.format)
    return 0
