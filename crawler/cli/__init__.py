"""The `linkwatch` command: ask the link graph who links to a watched domain.

    linkwatch backlinks mysite.com [--format table|json|csv]
    linkwatch refdomains mysite.com
    linkwatch anchors mysite.com

It reads the store a crawl wrote: the SQLite file in LINKWATCH_DB (or --db), or
MongoDB when MONGO_URI (or --mongo-uri) is set. Mistakes in its arguments are
one line on stderr and exit code 2; a missing or unreadable store is exit 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from crawler.cli import cluster, intelligence, queries, recrawl
from crawler.cli.output import FORMATS

if TYPE_CHECKING:
    from collections.abc import Sequence

EPILOG = """\
environment:
  LINKWATCH_DB    SQLite file of the embedded store (default ./linkwatch.db)
  MONGO_URI       MongoDB link graph; when set it is used instead of SQLite
  MONGO_DATABASE  database inside MONGO_URI (default linkwatch)
  REDIS_URL       Redis of a shared crawl (seed, watch, status; recrawl)

examples:
  scrapy crawl backlinks -a seeds=blog.example.org -a watch=mysite.com
  linkwatch backlinks mysite.com
  linkwatch backlinks mysite.com --format json | jq .anchor
  linkwatch refdomains mysite.com --limit 20
"""


class UsageError(Exception):
    """A mistake in the command line: one line, exit code 2."""


class ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage dump
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="linkwatch",
        description="Query the backlinks a linkwatch crawl found.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    # Each module adds its commands: queries of the link graph, then the
    # commands of a shared crawl (seeds, watch list, status).
    for module in (queries, recrawl, cluster, intelligence):
        module.register(commands)
    return parser


def store_options(parser: argparse.ArgumentParser) -> None:
    """Where to read from; shared by every command that opens the store."""
    group = parser.add_argument_group("store")
    group.add_argument(
        "--db",
        default=os.environ.get("LINKWATCH_DB", "linkwatch.db"),
        help="SQLite file of the embedded store (default: $LINKWATCH_DB or ./linkwatch.db)",
    )
    group.add_argument(
        "--mongo-uri",
        default=os.environ.get("MONGO_URI", ""),
        help="read the MongoDB link graph instead (default: $MONGO_URI)",
    )
    group.add_argument(
        "--mongo-database",
        default=os.environ.get("MONGO_DATABASE", "linkwatch"),
        help="database inside --mongo-uri (default: $MONGO_DATABASE or linkwatch)",
    )


def output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default), json (one object per line) or csv",
    )
    parser.add_argument("--limit", type=positive_int, default=None, help="at most N rows")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"linkwatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (queries.StoreError, cluster.RedisUnavailable) as exc:
        print(f"linkwatch {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `linkwatch ... | head`: the reader left; not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
