"""`linkwatch keywords DOMAIN add | remove | list`: the keywords of a watched
domain, kept in the store; `linkwatch anchors DOMAIN` tells exact- and
partial-match anchors by them (crawler/intelligence/anchors.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.cli.common import (
    ArgumentParser,
    UsageError,
    describe,
    domain_argument,
    open_for_reading,
    open_for_writing,
    parse_target,
    store_options,
)

if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Add, remove or list DOMAIN's keywords: the phrases you want to rank for. "
        "`linkwatch anchors DOMAIN` calls an anchor that is a keyword exact-match, "
        "one holding all of a keyword's words partial-match. Keywords are kept "
        "lower-case with spaces collapsed; a comma separates two in one argument. "
        "They belong to DOMAIN as named: a host (blog.mysite.com) has its own.",
        (
            'linkwatch keywords mysite.com add "running shoes" "trail shoes"',
            "linkwatch keywords mysite.com remove trail shoes,running shoes",
            "linkwatch keywords mysite.com list",
        ),
    )
    domain_argument(parser)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=ArgumentParser)
    actions.required = True
    add = actions.add_parser("add", help="store keywords of DOMAIN")
    add.add_argument("keywords", nargs="+", metavar="KEYWORD")
    add.set_defaults(run=run_add)
    remove = actions.add_parser("remove", help="forget keywords of DOMAIN")
    remove.add_argument("keywords", nargs="+", metavar="KEYWORD")
    remove.set_defaults(run=run_remove)
    listing = actions.add_parser("list", help="print DOMAIN's keywords, one a line")
    listing.set_defaults(run=run_list)
    for action in (add, remove, listing):
        store_options(action)


def watched_name(domain: str) -> str:
    """The name keywords are kept under: the watched domain or host, cleaned."""
    target = parse_target(domain)
    return target.host or target.domain


def _keywords(args: argparse.Namespace) -> list[str]:
    from crawler.intelligence.anchors import split_names

    keywords = [keyword.lower() for keyword in split_names(args.keywords)]
    if not keywords:
        raise UsageError(f"keywords {args.action}: no keyword given")
    return keywords


def run_add(args: argparse.Namespace) -> int:
    domain, keywords = watched_name(args.domain), _keywords(args)
    with open_for_writing(args) as store:
        added = store.add_keywords(domain, keywords)
        total = len(store.keywords(domain))
    print(f"{added} keywords added to {domain} ({total} in all)")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    domain, keywords = watched_name(args.domain), _keywords(args)
    with open_for_writing(args) as store:
        removed = store.remove_keywords(domain, keywords)
        total = len(store.keywords(domain))
    print(f"{removed} keywords removed from {domain} ({total} left)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    domain = watched_name(args.domain)
    with open_for_reading(args) as store:
        for keyword in store.keywords(domain):
            print(keyword)
    return 0
