"""What the `linkwatch` commands share: errors and exit codes, the argument
parser, argument types, the store and output options, and opening the store.

Light on purpose: `linkwatch COMMAND --help` imports this and the command's
module only, so the store (and tldextract behind it) is imported when a
command runs, not when its options are listed.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crawler.cli.output import FORMATS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pipelines.stores.base import Store, Target

DOMAIN_HELP = (
    "watched domain: a registered domain (with all its subdomains, e.g. mysite.com) "
    "or a host (that host and its subdomains, e.g. blog.mysite.com)"
)


class UsageError(Exception):
    """A mistake in the command line: one line, exit code 2."""


class Failure(Exception):
    """The command could not do its work (no store, Redis down): one line, exit code 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, with a usage error on one line instead of argparse's usage dump."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def describe(parser: argparse.ArgumentParser, description: str, examples: tuple[str, ...]) -> None:
    """A command's --help text: the description wrapped here, the examples one a line."""
    parser.description = textwrap.fill(description, width=79)
    parser.epilog = "examples:\n" + "".join(f"  {example}\n" for example in examples)
    # Raw, so the examples keep their lines.
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def domain_argument(parser: argparse.ArgumentParser, help: str = DOMAIN_HELP) -> None:
    parser.add_argument("domain", metavar="DOMAIN", help=help)


# --- options ---------------------------------------------------------------------------


def store_options(parser: argparse.ArgumentParser) -> None:
    """Where to read from; shared by every command that opens the store."""
    group = parser.add_argument_group("store")
    group.add_argument(
        "--store",
        metavar="URI",
        default=os.environ.get("LINKWATCH_STORE", ""),
        help="the store: sqlite:///relative.db, sqlite:////absolute.db, mongodb://... or "
        "mongodb+srv://...; before --mongo-uri and --db (default: $LINKWATCH_STORE)",
    )
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


def format_option(parser: argparse.ArgumentParser, choices: tuple[str, ...] = FORMATS) -> None:
    parser.add_argument(
        "--format",
        choices=choices,
        default="table",
        help="table (default), json (one object per line) or csv",
    )


def output_options(parser: argparse.ArgumentParser) -> None:
    format_option(parser)
    parser.add_argument("--limit", type=positive_int, default=None, help="at most N rows")


def progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action="store_true",
        help="report progress on stderr even when it is not a terminal",
    )


# --- argument types ----------------------------------------------------------------------


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {text!r}")
    return value


def _number(text: str, kind: type) -> Any:
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def count(text: str) -> int:
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def score(text: str) -> int:
    value = _number(text, int)
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"a score is 0 to 100: {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
    return value


def share(text: str) -> float:
    value = _number(text, float)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a share is more than 0 and at most 1: {text!r}")
    return value


def damping(text: str) -> float:
    value = _number(text, float)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"damping is between 0 and 1: {text!r}")
    return value


# --- values the commands parse themselves ------------------------------------------------


def parse_target(name: str) -> Target:
    # Deferred: pipelines.stores imports tldextract, too slow for --help.
    from pipelines.stores import Target

    try:
        return Target.parse(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def iso_moment(text: str) -> str:
    """A date or time as the stores' UTC string ("2026-01-31T00:00:00Z");
    ValueError unless it is one between 1970 and 9999 (the `--since` of the
    commands, the dashboard's `since`)."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:  # an offset that pushes it past year 1 or 9999
        raise ValueError(text) from None
    if not 1970 <= moment.year <= 9999:
        raise ValueError(text)
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}"


def parse_date(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return iso_moment(text)
    except ValueError:
        raise UsageError(f"--since: not a date from 1970 on: {text!r} (use YYYY-MM-DD)") from None


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the store ---------------------------------------------------------------------------


@contextmanager
def open_for_reading(args: argparse.Namespace) -> Iterator[Store]:
    """The store the options name, read-only; its errors end the command (exit 1)."""
    with _store(args, readonly=True) as store:
        yield store


@contextmanager
def open_for_writing(args: argparse.Namespace) -> Iterator[Store]:
    """The store the options name, which must exist already (a crawl wrote it)."""
    with _store(args, readonly=False) as store:
        yield store


@contextmanager
def _store(args: argparse.Namespace, *, readonly: bool) -> Iterator[Store]:
    """The store of --store, else --mongo-uri, else --db (pipelines/stores/uri.py).
    A wrong URI is a usage error (exit 2); a store that fails, a Failure (exit 1)."""
    # Deferred: pipelines.stores imports tldextract, too slow for --help.
    from pipelines.stores import StoreError, StoreURIError, open_store

    settings = {
        "LINKWATCH_STORE": args.store,
        "LINKWATCH_DB": args.db,
        "MONGO_URI": args.mongo_uri,
        "MONGO_DATABASE": args.mongo_database,
    }
    try:
        with open_store(settings, readonly=readonly, create=False) as store:
            yield store
    except StoreURIError as exc:
        raise UsageError(str(exc)) from None
    except StoreError as exc:
        raise Failure(str(exc)) from None
