"""`linkwatch watch add | remove | list`: the watch list every worker of a shared crawl uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.cli.common import ArgumentParser, UsageError
from crawler.cli.shared_crawl import connect, expand, redis_options

if TYPE_CHECKING:
    import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = "Add, remove or list the watched domains every worker uses."
    parser.epilog = "example: linkwatch watch add mysite.com competitor.io"
    actions = parser.add_subparsers(dest="action", metavar="ACTION", parser_class=ArgumentParser)
    actions.required = True
    add = actions.add_parser("add", help="watch more domains")
    add.add_argument("domains", nargs="+", metavar="DOMAIN", help="domain or @file")
    add.set_defaults(run=run_add)
    remove = actions.add_parser("remove", help="stop watching domains")
    remove.add_argument("domains", nargs="+", metavar="DOMAIN")
    remove.set_defaults(run=run_remove)
    listing = actions.add_parser("list", help="print the watch list")
    listing.set_defaults(run=run_list)
    for action in (add, remove, listing):
        redis_options(action)


def _domains(args: argparse.Namespace) -> list[str]:
    # Deferred: crawler.domains imports tldextract.
    from crawler.domains import clean_domain

    try:
        return [clean_domain(d) for d in expand(args.domains, "watch")]
    except ValueError as exc:
        raise UsageError(f"watch: {exc}") from None


def run_add(args: argparse.Namespace) -> int:
    from crawler.frontier.seeding import add_watch  # deferred: imports redis

    domains = _domains(args)
    client, keys = connect(args)
    added = add_watch(client, keys, domains)
    print(f"watching {added} more domains ({client.scard(keys.watch)} in all)")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from crawler.frontier.seeding import remove_watch  # deferred: imports redis

    domains = _domains(args)
    client, keys = connect(args)
    removed = remove_watch(client, keys, domains)
    print(f"stopped watching {removed} domains ({client.scard(keys.watch)} left)")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from crawler.frontier.seeding import read_watch  # deferred: imports redis

    client, keys = connect(args)
    for domain in read_watch(client, keys):
        print(domain)
    return 0
