"""The `linkwatch` program: the parser of every command, and exit codes.

The top-level parser lists every command from the registry
(crawler/cli/commands/__init__.py); only the command on the command line gets
its options, from its own module, imported then. Exit codes: 0 done, 1 the
command could not do its work (no store, Redis down), 2 a usage mistake (one
line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import TYPE_CHECKING

from crawler.cli.commands import COMMANDS, module_name
from crawler.cli.common import ArgumentParser, Failure, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

EPILOG = """\
environment:
  LINKWATCH_STORE the store as a URI (sqlite:///..., mongodb://...); before the two below
  LINKWATCH_DB    SQLite file of the embedded store (default ./linkwatch.db)
  MONGO_URI       MongoDB link graph; when set it is used instead of SQLite
  MONGO_DATABASE  database inside MONGO_URI (default linkwatch)
  REDIS_URL       Redis of a shared crawl (seed, watch, status; recrawl)
  LINKWATCH_ALERTS  alert channels of alerts send and monitor: URIs, comma-separated

examples:
  scrapy crawl backlinks -a seeds=blog.example.org -a watch=mysite.com
  linkwatch backlinks mysite.com
  linkwatch backlinks mysite.com --format json | jq .anchor
  linkwatch refdomains mysite.com --limit 20
"""


def build_parser(configure: Iterable[str] = ()) -> ArgumentParser:
    """The `linkwatch` parser; the commands named in `configure` get their options."""
    parser = ArgumentParser(
        prog="linkwatch",
        description="Query the backlinks a linkwatch crawl found.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    chosen = set(configure)
    for name, help in COMMANDS.items():
        command = commands.add_parser(name, help=help)
        if name in chosen:
            importlib.import_module(module_name(name)).configure(command)
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The command on a command line: its first word not an option (the
    top-level parser has no option taking a value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    chosen = command_in(argv)
    parser = build_parser([chosen] if chosen else [])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"linkwatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Failure as exc:
        print(f"linkwatch {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `linkwatch ... | head`: the reader left; not an error.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        return 130
