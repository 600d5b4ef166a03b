"""`linkwatch explain SOURCE_URL TARGET_URL`: one edge's quality score, term by
term, with the evidence it was computed from."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import orjson

from crawler.cli.common import (
    Failure,
    UsageError,
    describe,
    format_option,
    open_for_reading,
    parse_target,
    store_options,
)
from crawler.cli.output import write_rows

if TYPE_CHECKING:
    import argparse

# What the edge says, in the order it is printed before the terms.
FACTS = (
    "source_url",
    "target_url",
    "anchor",
    "alt",
    "rel",
    "nofollow",
    "link_type",
    "placement",
    "context",
    "source_lang",
    "source_ip",
    "first_seen",
    "last_seen",
    "lost_at",
    "lost_reason",
)
TERM_COLUMNS = ("term", "reads", "points", "of")


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Explain the quality score (0-100) of the link from SOURCE_URL to TARGET_URL: "
        "each term, what it read and the points it gave. The sum of authority (up to "
        "40), follow (20), placement (20), anchor (10) and sitewide (10), times (1 - "
        "the referring domain's toxic score / 100). README, 'Link quality', has the "
        "formula; `linkwatch backlinks DOMAIN --sort quality` ranks links by it.",
        (
            "linkwatch explain https://blog.example.org/post https://mysite.com/",
            "linkwatch explain https://blog.example.org/post https://mysite.com/ --format json",
        ),
    )
    parser.add_argument("source_url", metavar="SOURCE_URL", help="the linking page")
    parser.add_argument("target_url", metavar="TARGET_URL", help="the page it links to")
    parser.add_argument(
        "--target",
        metavar="DOMAIN",
        help="the watched domain or host the link is scored for, as given to `backlinks` "
        "(default: TARGET_URL's registered domain); its sitewide and toxic facts and "
        "keywords are that target's",
    )
    parser.add_argument(
        "--brand",
        action="append",
        default=[],
        metavar="NAME",
        help="a brand name of the target besides its domain's, for the anchor term",
    )
    format_option(parser, ("table", "json"))
    store_options(parser)
    parser.set_defaults(run=run)


def _canonical(url: str, name: str) -> str:
    from crawler.urls import normalize_url

    try:
        return normalize_url(url.strip(), None)
    except ValueError as exc:
        raise UsageError(f"{name}: not an http(s) URL: {url!r} ({exc})") from None


def run(args: argparse.Namespace) -> int:
    from crawler.cli.link_quality import target_quality
    from crawler.domains import registered_domain
    from crawler.intelligence.anchors import split_names
    from crawler.urls import url_host

    source = _canonical(args.source_url, "SOURCE_URL")
    target_url = _canonical(args.target_url, "TARGET_URL")
    target = parse_target(args.target or registered_domain(url_host(target_url)))
    host = url_host(target_url)
    if registered_domain(host) != target.domain or not target.covers_host(host):
        raise UsageError(f"--target {args.target} does not cover {target_url}")
    with open_for_reading(args) as store:
        source_domain = registered_domain(url_host(source))
        edge = next(
            (
                edge
                for edge in store.backlinks(target, state="all", source_domains=[source_domain])
                if edge["source_url"] == source and edge["target_url"] == target_url
            ),
            None,
        )
        if edge is None:
            raise Failure(f"no link from {source} to {target_url} in the store")
        # Only the source domain's facts are read (the rules judge it on its own).
        model = target_quality(store, target, split_names(args.brand))
        quality = model.score(edge)
        page = store.page_facts([source]).get(source, {})
    edge["source_lang"] = page.get("lang")
    edge["source_ip"] = page.get("ip")
    terms = quality.explain()
    if args.format == "json":
        record: dict[str, Any] = {name: edge.get(name) for name in FACTS}
        record["authority"] = model.domains[source_domain].authority  # what the score read
        record["quality"] = quality.score
        record["terms"] = terms
        sys.stdout.write(orjson.dumps(record).decode() + "\n")
        return 0
    width = max(len(name) for name in FACTS)
    for name in FACTS:
        value = edge.get(name)
        if isinstance(value, list):
            value = " ".join(value)
        shown = "—" if value in (None, "") else value
        print(f"{name:<{width}}  {shown}")
    print()
    write_rows(terms, TERM_COLUMNS, "table")
    return 0
