"""`linkwatch summary [DOMAIN ...]`: each watched domain's profile in a few lines."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.cli.common import (
    UsageError,
    describe,
    format_option,
    open_for_reading,
    parse_target,
    positive_int,
    store_options,
)
from crawler.cli.output import write_rows
from crawler.intelligence.authority import strongest_first

if TYPE_CHECKING:
    import argparse

    from pipelines.stores import Target
    from pipelines.stores.base import Store

COLUMNS = (
    "domain",
    "backlinks",
    "followed",
    "refdomains",
    "lost",
    "lost_reasons",
    "strongest",
)


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "For each DOMAIN (default: every domain the store has backlinks into): its "
        "live backlinks and the share followed, its referring domains, the "
        "strongest of them by authority (run `linkwatch rank` first), and the "
        "backlinks lost in the last --days days with their reasons.",
        (
            "linkwatch summary",
            "linkwatch summary mysite.com competitor.io --days 7",
            "linkwatch summary mysite.com --format json",
        ),
    )
    parser.add_argument("domain", nargs="*", help="watched domains (default: all)")
    parser.add_argument(
        "--days", type=positive_int, default=30, help="lost in the last N days (default 30)"
    )
    parser.add_argument(
        "--top", type=positive_int, default=5, help="strongest referring domains shown (5)"
    )
    format_option(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    targets = [parse_target(name) for name in args.domain]
    since = (datetime.now(UTC) - timedelta(days=args.days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with open_for_reading(args) as store:
        if not targets:
            targets = [parse_target(name) for name in store.watched_domains()]
            if not targets:
                raise UsageError("the store has no backlinks yet: crawl first")
        rows = [summarize(store, target, since, args.top) for target in targets]
    if args.format == "table":
        for row in rows:
            print(text(row, args.days))
        return 0
    if args.format == "csv":
        rows = [flat(row) for row in rows]
    write_rows(iter(rows), COLUMNS, args.format)
    return 0


def summarize(store: Store, target: Target, since: str, top: int) -> dict[str, Any]:
    referring = list(store.annotate_authority(store.refdomains(target)))
    strongest = sorted(referring, key=strongest_first)[:top]
    reasons = Counter(edge["lost_reason"] for edge in store.lost(target, since))
    return {
        "domain": target.host or target.domain,
        "backlinks": sum(r["edges"] for r in referring),
        "followed": sum(r["dofollow"] for r in referring),
        "refdomains": len(referring),
        "lost": sum(reasons.values()),
        "lost_reasons": dict(reasons.most_common()),
        "strongest": [
            {"domain": r["source_domain"], "authority": r["authority"], "edges": r["edges"]}
            for r in strongest
        ],
    }


def text(row: dict[str, Any], days: int) -> str:
    backlinks = row["backlinks"]
    share = f" ({row['followed'] / backlinks:.0%} followed)" if backlinks else ""
    lost = row["lost"]
    reasons = ", ".join(f"{k} {v}" for k, v in row["lost_reasons"].items())
    lines = [
        f"{row['domain']}: {plural(backlinks, 'live backlink')}{share} from "
        f"{plural(row['refdomains'], 'referring domain')}; {lost:,} lost in the last {days} days"
        + (f" ({reasons})" if reasons else ""),
    ]
    if row["strongest"]:
        names = ", ".join(f"{s['domain']} ({authority(s['authority'])})" for s in row["strongest"])
        lines.append(f"  strongest referring domains by authority: {names}")
    return "\n".join(lines)


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def authority(value: float | None) -> str:
    return "unranked" if value is None else f"{value:g}"


def flat(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "lost_reasons": ";".join(f"{k}={v}" for k, v in row["lost_reasons"].items()),
        "strongest": ";".join(s["domain"] for s in row["strongest"]),
    }
