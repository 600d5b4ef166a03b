"""`linkwatch refdomains DOMAIN`: the domains that link to a watched domain."""

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
from crawler.intelligence.authority import strongest_first

if TYPE_CHECKING:
    import argparse

COLUMNS = ("source_domain", "edges", "dofollow", "first_seen", "last_seen", "authority")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Referring domains of DOMAIN's live backlinks: how many edges each has, "
        "how many of them are followed (dofollow), when they were first and "
        "last seen, and the domain's authority (0-100, from `linkwatch rank`). "
        "Most edges first, or highest authority first with --sort authority.",
        (
            "linkwatch refdomains mysite.com --limit 20",
            "linkwatch refdomains mysite.com --sort authority --format csv",
        ),
    )
    domain_argument(parser)
    parser.add_argument(
        "--sort",
        choices=("edges", "authority"),
        default="edges",
        help="most edges first (default), or highest authority first",
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        if args.sort == "authority":
            # Every referring domain, then the order: one row per domain, not per link.
            ranked = sorted(
                store.annotate_authority(store.refdomains(target)),
                key=strongest_first,
            )
            rows = iter(ranked[: args.limit] if args.limit else ranked)
        else:
            rows = store.annotate_authority(store.refdomains(target, limit=args.limit))
        write_rows(rows, COLUMNS, args.format)
    return 0
