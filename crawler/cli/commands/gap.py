"""`linkwatch gap DOMAIN --vs A B C`: domains that link to competitors but not
to DOMAIN, best first: link prospects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.cli.common import (
    UsageError,
    describe,
    domain_argument,
    open_for_reading,
    output_options,
    positive_int,
    store_options,
)
from crawler.cli.output import write_rows
from crawler.intelligence.gap import competitor_gap, rank_gap

if TYPE_CHECKING:
    import argparse

COLUMNS = ("source_domain", "authority", "harmonic", "competitors", "links_to")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "List the domains that link to at least --min of the competitors (--vs) "
        "but not to DOMAIN: link prospects. A domain links to another when a "
        "crawled page of it does (nofollow included), or through a live edge such "
        "as a redirect. Best first: by authority (run `linkwatch rank` first), "
        "then by the number of competitors linked. Compares registered domains.",
        (
            "linkwatch gap mysite.com --vs a.com b.com c.com",
            "linkwatch gap mysite.com --vs a.com b.com c.com --min 3 --format csv",
        ),
    )
    domain_argument(parser, help="your registered domain (e.g. mysite.com)")
    parser.add_argument(
        "--vs",
        nargs="+",
        required=True,
        metavar="COMPETITOR",
        help="competitors' registered domains, any number",
    )
    parser.add_argument(
        "--min",
        type=positive_int,
        default=None,
        metavar="K",
        help="link to at least K competitors (default 2, or 1 with one competitor)",
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    mine = _registered(args.domain, "DOMAIN")
    competitors = list(dict.fromkeys(_registered(name, "--vs") for name in args.vs))
    if mine in competitors:
        raise UsageError(f"--vs: {mine} is DOMAIN itself")
    minimum = args.min if args.min is not None else min(2, len(competitors))
    if minimum > len(competitors):
        raise UsageError(f"--min {minimum}: there are only {len(competitors)} competitors")
    with open_for_reading(args) as store:
        linking = store.linking_domains([mine, *competitors])
        gap = competitor_gap(linking, mine, competitors, minimum)
        rows = rank_gap(gap, store.authority(gap))
    write_rows(rows[: args.limit] if args.limit else rows, COLUMNS, args.format)
    return 0


def _registered(name: str, option: str) -> str:
    # Deferred: crawler.domains imports tldextract, too slow for --help.
    from crawler.domains import clean_domain, registered_domain

    try:
        cleaned = clean_domain(name)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    domain = registered_domain(cleaned)
    if cleaned != domain:
        raise UsageError(
            f"{option}: {name!r} is a host; gap compares registered domains ({domain})"
        )
    return domain
