"""`linkwatch discovered DOMAIN`: referring domains a discovery crawl found, with the path there."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawler.cli.common import (
    describe,
    domain_argument,
    open_for_reading,
    output_options,
    parse_target,
    store_options,
)
from crawler.cli.output import write_rows

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Mapping

COLUMNS = ("domain", "edges", "hop", "via", "path", "found_at")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Referring domains of DOMAIN that a discovery crawl (-a expand=N) found by "
        "expanding into them, not among its seeds: how many live edges each has, its hop "
        "from a seed's site, the page that led there (via) and the path of sites from a "
        "seed's site. In the order the crawl found them.",
        (
            "linkwatch discovered mysite.com",
            "linkwatch discovered mysite.com --format csv --limit 50",
        ),
    )
    domain_argument(parser)
    output_options(parser)
    store_options(parser)
    parser.set_defaults(run=run)


def path_to(domain: str, expansions: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The sites from a seed's site to ``domain``, each one led to the next."""
    path = [domain]
    while path[-1] in expansions and len(path) <= len(expansions):
        path.append(expansions[path[-1]]["via_domain"])
    return path[::-1]


def rows(store: Any, target: Any, limit: int | None) -> Iterator[dict[str, Any]]:
    expansions = store.expansions()
    edges = {r["source_domain"]: r["edges"] for r in store.refdomains(target)}
    found = [x for d, x in expansions.items() if d in edges]
    for count, x in enumerate(sorted(found, key=lambda x: (x["order"], x["domain"]))):
        if limit and count >= limit:
            return
        yield {
            "domain": x["domain"],
            "edges": edges[x["domain"]],
            "hop": x["hop"],
            "via": x["via"],
            "path": " > ".join(path_to(x["domain"], expansions)),
            "found_at": x["found_at"],
        }


def run(args: argparse.Namespace) -> int:
    target = parse_target(args.domain)
    with open_for_reading(args) as store:
        write_rows(rows(store, target, args.limit), COLUMNS, args.format)
    return 0
