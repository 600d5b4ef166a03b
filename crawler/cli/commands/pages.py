"""`linkwatch pages DOMAIN`: a watched domain's pages by their live backlinks."""

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

COLUMNS = ("target_url", "edges", "dofollow", "refdomains")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "The pages of DOMAIN that live backlinks point to, with the number of "
        "edges (and followed ones) and of referring domains; most edges first, "
        "then most referring domains.",
        ("linkwatch pages mysite.com --limit 10",),
    )
    domain_argument(parser)
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        write_rows(store.pages(target, limit=args.limit), COLUMNS, args.format)
    return 0
