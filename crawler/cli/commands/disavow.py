"""`linkwatch disavow DOMAIN`: a Google disavow file of the toxic referring domains.

The file format and Google's limits are crawler/intelligence/disavow.py.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from crawler.cli.common import (
    UsageError,
    describe,
    domain_argument,
    open_for_reading,
    parse_target,
    score,
    store_options,
    utc_now,
)
from crawler.cli.toxic_rules import assess_target, rule_options, rules_from

if TYPE_CHECKING:
    import argparse

    from crawler.intelligence.toxic import ToxicDomain


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Write a disavow file for Google Search Console: one `domain:` line per "
        "referring domain scoring at least --min-score, most toxic first, each "
        "after a `#` comment with its score and the rules that fired. UTF-8, "
        "internationalized domains in punycode, at most 100,000 lines and 2 MB "
        "(reasons are dropped first, then the lowest scores, and the file says "
        "so). Whitelisted domains are never in it. Review it before uploading: "
        "disavowing good links hurts.",
        (
            "linkwatch disavow mysite.com --min-score 50 > disavow.txt",
            "linkwatch disavow mysite.com --whitelist trusted.txt --out disavow.txt",
        ),
    )
    domain_argument(parser)
    parser.add_argument(
        "--min-score",
        type=score,
        default=50,
        metavar="N",
        help="disavow domains scoring at least N (default 50)",
    )
    parser.add_argument("--out", metavar="FILE", help="write here (default: stdout)")
    rule_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # Deferred: the disavow format imports tldextract, too slow for --help.
    from crawler.intelligence.disavow import Disavowed, build_disavow

    target = parse_target(args.domain)
    rules, whitelist = rules_from(args)
    with open_for_reading(args) as store:
        assessed = assess_target(store, target, rules, whitelist)
    chosen = [t for t in assessed if not t.whitelisted and t.score >= args.min_score]
    header = [
        f"Disavow file for {target.host or target.domain}, written by linkwatch at {utc_now()}",
        f"Referring domains with a toxic score of {args.min_score} or more "
        f"({len(chosen)} of {len(assessed)} referring domains); review before uploading.",
    ]
    if args.whitelist:
        header.append(f"Whitelist: {args.whitelist} ({len(whitelist)} domains, never listed)")
    built = build_disavow((Disavowed(t.domain, t.score, _reasons(t)) for t in chosen), header)
    _write(built.data, args.out)
    note = f"{len(built.domains)} domains disavowed"
    if built.left_out:
        note += f", {built.left_out} left out (Google's limits)"
    print(f"linkwatch disavow: {note}", file=sys.stderr)
    return 0


def _reasons(domain: ToxicDomain) -> tuple[str, ...]:
    return tuple(f"{flag.rule}: {flag.evidence}" for flag in domain.flags)


def _write(data: bytes, out: str | None) -> None:
    """The file's bytes to --out, or to stdout as they are."""
    if out:
        try:
            Path(out).write_bytes(data)
        except OSError as exc:
            raise UsageError(f"--out: cannot write {out}: {exc.strerror}") from None
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
