"""`linkwatch new DOMAIN --since DATE`: backlinks first seen since a date."""

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
    *pick(
        Edge,
        "first_seen",
        "source_url",
        "target_url",
        "anchor",
        "link_type",
        "nofollow",
        "lost_reason",
    ),
    "authority",
)


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Edges into DOMAIN first seen on or after --since, newest first. An edge "
        "that appeared and was lost again since is listed too, with its "
        "lost_reason.",
        ("linkwatch new mysite.com --since 2026-11-01",),
    )
    domain_argument(parser)
    parser.add_argument(
        "--since", metavar="DATE", required=True, help="first seen on or after DATE (YYYY-MM-DD)"
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    since = parse_date(args.since)
    assert since is not None  # --since is required
    with open_for_reading(args) as store:
        rows = store.annotate_authority(store.new(target, since, limit=args.limit))
        write_rows(rows, COLUMNS, args.format)
    return 0
