"""`linkwatch anchors DOMAIN`: the anchor texts of a watched domain's backlinks."""

from __future__ import annotations

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

COLUMNS = ("anchor", "edges", "refdomains")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Anchor texts of DOMAIN's live backlinks, with the number of edges and of "
        "referring domains using each; most used first. Image links have an empty "
        "anchor (their alt text is in `backlinks --format json`).",
        ("linkwatch anchors mysite.com --format json | jq -r .anchor",),
    )
    domain_argument(parser)
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        write_rows(store.anchors(target, limit=args.limit), COLUMNS, args.format)
    return 0
