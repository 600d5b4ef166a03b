"""`linkwatch backlinks | refdomains | anchors`: read-only queries of the store."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from crawler.cli.output import write_rows
from pipelines.stores import StoreError, Target, open_store

if TYPE_CHECKING:
    from pipelines.stores.base import Store

__all__ = ["StoreError", "register"]

BACKLINK_COLUMNS = ("source_url", "target_url", "anchor", "link_type", "nofollow", "first_seen")
REFDOMAIN_COLUMNS = ("source_domain", "edges", "dofollow", "first_seen", "last_seen")
ANCHOR_COLUMNS = ("anchor", "edges", "refdomains")


def register(commands: argparse._SubParsersAction) -> None:
    from crawler.cli import output_options, store_options

    backlinks = commands.add_parser(
        "backlinks",
        help="pages that link to a domain",
        description=(
            "List the edges into DOMAIN: the pages that link to it, with anchor text, "
            "rel and link type. DOMAIN is a registered domain (all its subdomains) or a "
            "host (that host and its subdomains)."
        ),
    )
    backlinks.add_argument("domain", metavar="DOMAIN", help="watched domain, e.g. mysite.com")
    state = backlinks.add_mutually_exclusive_group()
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
    backlinks.add_argument(
        "--since", metavar="DATE", help="first seen on or after DATE (YYYY-MM-DD)"
    )
    backlinks.add_argument("--dofollow", action="store_true", help="only links without nofollow")
    backlinks.set_defaults(run=run_backlinks, state="live")

    refdomains = commands.add_parser(
        "refdomains",
        help="domains that link to a domain, most edges first",
        description="Referring domains of DOMAIN's live backlinks, with edge counts, most first.",
    )
    refdomains.add_argument("domain", metavar="DOMAIN")
    refdomains.set_defaults(run=run_refdomains)

    anchors = commands.add_parser(
        "anchors",
        help="anchor texts of a domain's backlinks, with counts",
        description="Anchor texts of DOMAIN's live backlinks, most used first.",
    )
    anchors.add_argument("domain", metavar="DOMAIN")
    anchors.set_defaults(run=run_anchors)

    for sub in (backlinks, refdomains, anchors):
        output_options(sub)
        store_options(sub)


def open_for_reading(args: argparse.Namespace) -> Store:
    return open_store(
        {
            "LINKWATCH_DB": args.db,
            "MONGO_URI": args.mongo_uri,
            "MONGO_DATABASE": args.mongo_database,
        },
        readonly=True,
    )


def parse_target(name: str) -> Target:
    from crawler.cli import UsageError

    try:
        return Target.parse(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def parse_date(text: str | None) -> str | None:
    from datetime import datetime

    from crawler.cli import UsageError

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since: not a date: {text!r} (use YYYY-MM-DD)") from None
    if moment.tzinfo is not None:
        from datetime import UTC

        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run_backlinks(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    since = parse_date(args.since)
    with open_for_reading(args) as store:
        rows = store.backlinks(
            target, state=args.state, since=since, dofollow=args.dofollow, limit=args.limit
        )
        columns = BACKLINK_COLUMNS + (("lost_at", "lost_reason") if args.state != "live" else ())
        write_rows(rows, columns, args.format)
    return 0


def run_refdomains(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        write_rows(store.refdomains(target, limit=args.limit), REFDOMAIN_COLUMNS, args.format)
    return 0


def run_anchors(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        write_rows(store.anchors(target, limit=args.limit), ANCHOR_COLUMNS, args.format)
    return 0
