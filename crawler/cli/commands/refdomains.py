"""`linkwatch refdomains DOMAIN`: the domains that link to a watched domain,
with their authority, the address and subnet that serve them, whether they
link sitewide and their toxic score; `--by subnet` groups them by network."""

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
from crawler.intelligence.authority import strongest_first

if TYPE_CHECKING:
    import argparse

COLUMNS = (
    "source_domain",
    "edges",
    "dofollow",
    "first_seen",
    "last_seen",
    "authority",
    "ip",
    "subnet",
    "sitewide",
    "toxic",
)
SUBNET_COLUMNS = ("subnet", "refdomains", "ips", "edges", "domains")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Referring domains of DOMAIN's live backlinks: how many edges each has, "
        "how many of them are followed (dofollow), when they were first and "
        "last seen, and the domain's authority (0-100, from `linkwatch rank`). "
        "Most edges first, or highest authority first with --sort authority. "
        "Each domain's ip is the address that served its latest crawled page "
        "(through a proxy: the proxy's), its subnet the /24 or /48 around it; "
        "--by subnet groups the domains by subnet: many referring domains on one "
        "subnet are more often one network than independent links. sitewide and "
        "toxic are the `linkwatch toxic` rules' (same thresholds and environment).",
        (
            "linkwatch refdomains mysite.com --limit 20",
            "linkwatch refdomains mysite.com --sort authority --format csv",
            "linkwatch refdomains mysite.com --by subnet",
        ),
    )
    domain_argument(parser)
    parser.add_argument(
        "--sort",
        choices=("edges", "authority"),
        default="edges",
        help="most edges first (default), or highest authority first",
    )
    parser.add_argument(
        "--by",
        choices=("domain", "subnet"),
        default="domain",
        help="a row per referring domain (default) or per subnet, most domains first",
    )
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from crawler.cli.link_quality import refdomain_rows
    from crawler.cli.toxic_rules import assess_target, environment_rules
    from crawler.intelligence.network import diversity, group_by_subnet

    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        # Every referring domain: the network columns need them all anyway.
        assessed = assess_target(store, target, *environment_rules())
        rows = refdomain_rows(store, target, assessed)
    if args.sort == "authority":
        rows.sort(key=strongest_first)
    summary = diversity({row["source_domain"]: row["ip"] for row in rows})
    if args.by == "subnet":
        groups = group_by_subnet(rows)
        write_rows(groups[: args.limit] if args.limit else groups, SUBNET_COLUMNS, args.format)
    else:
        write_rows(rows[: args.limit] if args.limit else rows, COLUMNS, args.format)
    if args.format == "table" and rows:  # on stderr: stdout stays the table
        ratio = summary["ip_subnet_ratio"]
        print(
            f"{summary['refdomains']} referring domains, {summary['ips']} IPs, "
            f"{summary['subnets']} subnets (IPs per subnet: {ratio if ratio else '—'}; "
            f"{summary['unknown']} of no known address)",
            file=sys.stderr,
        )
    return 0
