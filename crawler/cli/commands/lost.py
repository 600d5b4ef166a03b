"""`linkwatch lost DOMAIN --since DATE`: backlinks lost since a date, with the reason."""

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
    *pick(Edge, "lost_at", "lost_reason", "source_url", "target_url", "anchor", "first_seen"),
    "authority",
)


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Edges into DOMAIN that a recrawl on or after --since no longer found, "
        "latest first, with lost_reason: link_removed (the page no longer links), "
        "page_gone (the page answers 4xx/5xx), redirected (the page now "
        "redirects) or became_nofollow (still linked, but nofollow). An edge "
        "that came back is live again and not listed.",
        ("linkwatch lost mysite.com --since 2026-11-01 --format csv",),
    )
    domain_argument(parser)
    parser.add_argument(
        "--since", metavar="DATE", required=True, help="lost on or after DATE (YYYY-MM-DD)"
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    since = parse_date(args.since)
    assert since is not None  # --since is required
    with open_for_reading(args) as store:
        rows = store.annotate_authority(store.lost(target, since, limit=args.limit))
        write_rows(rows, COLUMNS, args.format)
    return 0
