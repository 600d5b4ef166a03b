"""`linkwatch export DOMAIN --format csv|jsonl|parquet|graphml`: a whole backlink
profile, streamed in constant memory.

The file formats are crawler/intelligence/export.py (pyarrow, for Parquet,
imported only there).
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from crawler.cli.common import (
    UsageError,
    describe,
    domain_argument,
    open_for_reading,
    parse_target,
    progress_option,
    store_options,
)
from crawler.cli.progress import Progress
from crawler.intelligence import export

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable, Iterator

    from pipelines.stores.base import Target

FORMATS = ("csv", "jsonl", "parquet", "graphml")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Write every backlink of DOMAIN (live and lost by default), with the "
        "referring domain's authority, streamed: no row cap, and memory does "
        "not grow with the profile. GraphML has the linking and linked pages as "
        "nodes and the links as edges, for Gephi or networkx.",
        (
            "linkwatch export mysite.com --format csv > mysite.csv",
            "linkwatch export mysite.com --format parquet --out mysite.parquet",
            "linkwatch export mysite.com --format graphml --live --out mysite.graphml",
        ),
    )
    domain_argument(parser)
    parser.add_argument("--format", choices=FORMATS, required=True, help="file format")
    parser.add_argument(
        "--out", metavar="FILE", help="write here (default: stdout; parquet needs a file)"
    )
    state = parser.add_mutually_exclusive_group()
    state.add_argument(
        "--live", dest="state", action="store_const", const="live", help="only links still there"
    )
    state.add_argument(
        "--lost", dest="state", action="store_const", const="lost", help="only lost links"
    )
    state.add_argument(
        "--all", dest="state", action="store_const", const="all", help="both (default)"
    )
    progress_option(parser)
    store_options(parser)
    parser.set_defaults(run=run, state="all")


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    if args.format == "parquet" and not args.out:
        raise UsageError("--format parquet writes a binary file: give --out FILE")
    progress = Progress("linkwatch export", force=args.progress)
    try:
        with open_for_reading(args) as store:
            rows = store.annotate_authority(store.backlinks(target, state=args.state))
            count = _write(rows, args.format, args.out, target, progress.stage_callback("rows"))
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise UsageError(f"--out: cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        progress.close()
    if args.out:
        print(f"linkwatch export: {count:,} backlinks to {args.out}", file=sys.stderr)
    return 0


def _write(
    rows: Iterable[dict[str, Any]],
    fmt: str,
    path: str | None,
    target: Target,
    counted: Callable[..., None],
) -> int:
    """The rows in `fmt` to `path` (stdout if None); how many."""
    if fmt == "parquet":
        assert path is not None  # checked in run()
        return export.write_parquet(rows, path, counted)
    with _text_output(path) as out:
        if fmt == "csv":
            return export.write_csv(rows, out, counted)
        if fmt == "jsonl":
            return export.write_jsonl(rows, out, counted)
        return export.write_graphml(rows, out, target.domain, counted)


@contextmanager
def _text_output(path: str | None) -> Iterator[TextIO]:
    """stdout, or a UTF-8 file."""
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as file:
        yield file
