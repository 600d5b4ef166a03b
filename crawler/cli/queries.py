"""`linkwatch backlinks | refdomains | anchors | new | lost | pages`: read-only
queries of the link graph, the same on the SQLite and the MongoDB store.

backlinks, refdomains, new and lost show the referring domain's authority (its
PageRank on the domain graph, 0-100, from the last `linkwatch rank`; empty
before); backlinks and refdomains can sort by it (--sort authority)."""

from __future__ import annotations

import argparse
import textwrap
from typing import TYPE_CHECKING

from crawler.cli.output import write_rows
from pipelines.stores import StoreError, Target, open_store

if TYPE_CHECKING:
    from pipelines.stores.base import Store

__all__ = ["StoreError", "open_for_reading", "parse_date", "parse_target", "register"]

BACKLINK_COLUMNS = (
    "source_url",
    "target_url",
    "anchor",
    "link_type",
    "nofollow",
    "first_seen",
    "authority",
)
REFDOMAIN_COLUMNS = ("source_domain", "edges", "dofollow", "first_seen", "last_seen", "authority")
ANCHOR_COLUMNS = ("anchor", "edges", "refdomains")
NEW_COLUMNS = (
    "first_seen",
    "source_url",
    "target_url",
    "anchor",
    "link_type",
    "nofollow",
    "lost_reason",
    "authority",
)
LOST_COLUMNS = (
    "lost_at",
    "lost_reason",
    "source_url",
    "target_url",
    "anchor",
    "first_seen",
    "authority",
)
PAGE_COLUMNS = ("target_url", "edges", "dofollow", "refdomains")

DOMAIN_HELP = (
    "watched domain: a registered domain (with all its subdomains, e.g. mysite.com) "
    "or a host (that host and its subdomains, e.g. blog.mysite.com)"
)


def register(commands: argparse._SubParsersAction) -> None:
    from crawler.cli import output_options, store_options

    backlinks = _command(
        commands,
        "backlinks",
        help="pages that link to a domain",
        description=(
            "List the edges into DOMAIN: the pages that link to it, with anchor text, "
            "rel and link type, ordered by referring domain. Live links by default; "
            "--lost shows those a recrawl no longer found, with the reason."
        ),
        examples=(
            "linkwatch backlinks mysite.com --dofollow --limit 50",
            "linkwatch backlinks blog.mysite.com --lost --format csv > lost.csv",
            "linkwatch backlinks mysite.com --sort authority --limit 20",
        ),
    )
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
    backlinks.add_argument(
        "--sort",
        choices=("domain", "authority"),
        default="domain",
        help="by referring domain (default), or by its authority, highest first",
    )
    backlinks.set_defaults(run=run_backlinks, state="live")

    refdomains = _command(
        commands,
        "refdomains",
        help="domains that link to a domain, most edges first",
        description=(
            "Referring domains of DOMAIN's live backlinks: how many edges each has, "
            "how many of them are followed (dofollow), when they were first and "
            "last seen, and the domain's authority (0-100, from `linkwatch rank`). "
            "Most edges first, or highest authority first with --sort authority."
        ),
        examples=(
            "linkwatch refdomains mysite.com --limit 20",
            "linkwatch refdomains mysite.com --sort authority --format csv",
        ),
    )
    refdomains.add_argument(
        "--sort",
        choices=("edges", "authority"),
        default="edges",
        help="most edges first (default), or highest authority first",
    )
    refdomains.set_defaults(run=run_refdomains)

    anchors = _command(
        commands,
        "anchors",
        help="anchor texts of a domain's backlinks, with counts",
        description=(
            "Anchor texts of DOMAIN's live backlinks, with the number of edges and of "
            "referring domains using each; most used first. Image links have an empty "
            "anchor (their alt text is in `backlinks --format json`)."
        ),
        examples=("linkwatch anchors mysite.com --format json | jq -r .anchor",),
    )
    anchors.set_defaults(run=run_anchors)

    new = _command(
        commands,
        "new",
        help="backlinks first seen on or after a date",
        description=(
            "Edges into DOMAIN first seen on or after --since, newest first. An edge "
            "that appeared and was lost again since is listed too, with its "
            "lost_reason."
        ),
        examples=("linkwatch new mysite.com --since 2026-11-01",),
    )
    new.add_argument(
        "--since", metavar="DATE", required=True, help="first seen on or after DATE (YYYY-MM-DD)"
    )
    new.set_defaults(run=run_new)

    lost = _command(
        commands,
        "lost",
        help="backlinks lost on or after a date, with the reason",
        description=(
            "Edges into DOMAIN that a recrawl on or after --since no longer found, "
            "latest first, with lost_reason: link_removed (the page no longer links), "
            "page_gone (the page answers 4xx/5xx), redirected (the page now "
            "redirects) or became_nofollow (still linked, but nofollow). An edge "
            "that came back is live again and not listed."
        ),
        examples=("linkwatch lost mysite.com --since 2026-11-01 --format csv",),
    )
    lost.add_argument(
        "--since", metavar="DATE", required=True, help="lost on or after DATE (YYYY-MM-DD)"
    )
    lost.set_defaults(run=run_lost)

    pages = _command(
        commands,
        "pages",
        help="a domain's pages by live backlinks and referring domains",
        description=(
            "The pages of DOMAIN that live backlinks point to, with the number of "
            "edges (and followed ones) and of referring domains; most edges first, "
            "then most referring domains."
        ),
        examples=("linkwatch pages mysite.com --limit 10",),
    )
    pages.set_defaults(run=run_pages)

    for command in (backlinks, refdomains, anchors, new, lost, pages):
        output_options(command)
        store_options(command)


def _command(
    commands: argparse._SubParsersAction,
    name: str,
    *,
    help: str,
    description: str,
    examples: tuple[str, ...],
) -> argparse.ArgumentParser:
    """A query command taking DOMAIN; register() adds output and store options last."""
    command = commands.add_parser(
        name,
        help=help,
        # Raw, so the examples keep their lines: the description is wrapped here.
        description=textwrap.fill(description, width=79),
        epilog="examples:\n" + "".join(f"  {example}\n" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    command.add_argument("domain", metavar="DOMAIN", help=DOMAIN_HELP)
    return command


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
        if args.sort == "authority":
            rows = store.backlinks_by_authority(
                target, state=args.state, since=since, dofollow=args.dofollow, limit=args.limit
            )
        else:
            rows = store.annotate_authority(
                store.backlinks(
                    target, state=args.state, since=since, dofollow=args.dofollow, limit=args.limit
                )
            )
        columns = BACKLINK_COLUMNS + (("lost_at", "lost_reason") if args.state != "live" else ())
        write_rows(rows, columns, args.format)
    return 0


def run_refdomains(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        if args.sort == "authority":
            from crawler.intelligence.authority import authority_key

            # Every referring domain, then the order: one row per domain, not per link.
            ranked = sorted(
                store.annotate_authority(store.refdomains(target)),
                key=lambda r: (authority_key(r["authority"]), -r["edges"], r["source_domain"]),
            )
            rows = iter(ranked[: args.limit] if args.limit else ranked)
        else:
            rows = store.annotate_authority(store.refdomains(target, limit=args.limit))
        write_rows(rows, REFDOMAIN_COLUMNS, args.format)
    return 0


def run_anchors(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        write_rows(store.anchors(target, limit=args.limit), ANCHOR_COLUMNS, args.format)
    return 0


def run_new(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    since = parse_date(args.since)
    assert since is not None  # --since is required
    with open_for_reading(args) as store:
        rows = store.annotate_authority(store.new(target, since, limit=args.limit))
        write_rows(rows, NEW_COLUMNS, args.format)
    return 0


def run_lost(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    since = parse_date(args.since)
    assert since is not None  # --since is required
    with open_for_reading(args) as store:
        rows = store.annotate_authority(store.lost(target, since, limit=args.limit))
        write_rows(rows, LOST_COLUMNS, args.format)
    return 0


def run_pages(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        write_rows(store.pages(target, limit=args.limit), PAGE_COLUMNS, args.format)
    return 0
