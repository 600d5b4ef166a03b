"""The toxic-link rules as options, and assessing a target's referring domains
with them: shared by `linkwatch toxic`, `disavow` and `report`.

The rules themselves (weights, thresholds, evidence) are pure logic in
crawler/intelligence/toxic.py; this module turns options into them and reads
what they need from the store.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.cli.common import UsageError, count, positive_float, share
from crawler.intelligence.toxic import (
    DEFAULT_COMMERCIAL_TERMS,
    DEFAULT_SPAM_TLDS,
    LinkCollector,
    ToxicDomain,
    ToxicRules,
    assess,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from crawler.cli.progress import Progress
    from pipelines.stores.base import Store, Target


# Thresholds an environment variable may set when the option is not given (the
# quality score reads them too): option dest -> (variable, type, ToxicRules field).
FROM_ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any], str]] = {
    "sitewide_share": ("LINKWATCH_SITEWIDE_SHARE", share, "sitewide_share"),
    "sitewide_pages": ("LINKWATCH_SITEWIDE_PAGES", count, "sitewide_min_pages"),
}


def rule_options(parser: argparse.ArgumentParser) -> None:
    """The whitelist, the word lists and every rule's threshold, as options."""
    defaults = ToxicRules()
    group = parser.add_argument_group("toxic rules")
    group.add_argument(
        "--whitelist",
        metavar="FILE",
        default=os.environ.get("LINKWATCH_WHITELIST") or None,
        help="domains never flagged, one a line (domain:x, a URL or a domain; # comments) "
        "(default: $LINKWATCH_WHITELIST)",
    )
    group.add_argument(
        "--spam-tlds",
        metavar="LIST",
        default=os.environ.get("LINKWATCH_SPAM_TLDS") or ",".join(DEFAULT_SPAM_TLDS),
        help="spam-heavy TLDs, comma list or @file (default: $LINKWATCH_SPAM_TLDS or "
        f"{','.join(DEFAULT_SPAM_TLDS[:6])},…)",
    )
    group.add_argument(
        "--commercial-terms",
        metavar="LIST",
        default=os.environ.get("LINKWATCH_COMMERCIAL_TERMS") or ",".join(DEFAULT_COMMERCIAL_TERMS),
        help="words of commercial anchors, comma list or @file (default: "
        f"$LINKWATCH_COMMERCIAL_TERMS or {','.join(DEFAULT_COMMERCIAL_TERMS[:5])},…)",
    )
    thresholds = (
        (
            "--outlinks-per-page",
            positive_float,
            defaults.outlinks_per_page,
            "outlinks_per_page threshold",
        ),
        ("--watched-domains", count, defaults.watched_domains, "many_watched_domains threshold"),
        (
            "--sitewide-share",
            share,
            defaults.sitewide_share,
            "sitewide: share of a domain's crawled pages",
        ),
        (
            "--sitewide-pages",
            count,
            defaults.sitewide_min_pages,
            "sitewide: at least this many pages",
        ),
        ("--anchor-pages", count, defaults.anchor_min_pages, "commercial_anchors minimum pages"),
    )
    for option, kind, default, text in thresholds:
        shown = f"{default:g}" if isinstance(default, float) else default
        variable = FROM_ENVIRONMENT.get(option[2:].replace("-", "_"), (None,))[0]
        group.add_argument(
            option,
            type=kind,
            metavar="F" if kind is share else "N",
            # None: the environment's, read (and checked) when the rules are built.
            default=None if variable else default,
            help=f"{text} (default: ${variable} or {shown})"
            if variable
            else f"{text} (default {shown})",
        )


def _threshold(args: argparse.Namespace, dest: str) -> Any:
    """An option of FROM_ENVIRONMENT: its value, else its variable's, checked as
    the option would be (a bad value is a usage error naming the variable), else
    the rules' default."""
    given = getattr(args, dest)
    if given is not None:
        return given
    variable, kind, field = FROM_ENVIRONMENT[dest]
    value = os.environ.get(variable)
    if not value:
        return getattr(ToxicRules(), field)
    try:
        return kind(value)
    except (ValueError, argparse.ArgumentTypeError) as exc:
        raise UsageError(f"{variable}: {exc}") from None


def environment_rules() -> tuple[ToxicRules, frozenset[str]]:
    """The rules and whitelist `linkwatch toxic` uses with no options: its
    defaults and the LINKWATCH_* environment (the quality score reads them)."""
    parser = argparse.ArgumentParser(add_help=False)
    rule_options(parser)
    return rules_from(parser.parse_args([]))


def rules_from(args: argparse.Namespace) -> tuple[ToxicRules, frozenset[str]]:
    """The toxic rules and the whitelist the options ask for."""
    whitelist: frozenset[str] = frozenset()
    if args.whitelist:
        whitelist = _read_whitelist(args.whitelist)
    rules = ToxicRules(
        outlinks_per_page=args.outlinks_per_page,
        watched_domains=args.watched_domains,
        sitewide_share=_threshold(args, "sitewide_share"),
        sitewide_min_pages=_threshold(args, "sitewide_pages"),
        anchor_min_pages=args.anchor_pages,
        spam_tlds=_word_list(args.spam_tlds, "--spam-tlds"),
        commercial_terms=_word_list(args.commercial_terms, "--commercial-terms"),
    )
    return rules, whitelist


def _read_whitelist(path: str) -> frozenset[str]:
    # Deferred: the disavow format imports tldextract, too slow for --help.
    from crawler.intelligence.disavow import parse_domain_list

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise UsageError(f"--whitelist: cannot read {path}: {reason}") from None
    try:
        return frozenset(parse_domain_list(text, source="--whitelist"))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _word_list(text: str, option: str) -> tuple[str, ...]:
    """A comma list, or @FILE with one entry a line (# comments)."""
    if text.startswith("@"):
        try:
            content = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{option}: cannot read {text[1:]}: {exc.strerror}") from None
        items = [line.split("#", 1)[0].strip() for line in content.splitlines()]
    else:
        items = [item.strip() for item in text.split(",")]
    return tuple(item.lower() for item in items if item)


def assess_target(
    store: Store,
    target: Target,
    rules: ToxicRules,
    whitelist: frozenset[str],
    progress: Progress | None = None,
) -> list[ToxicDomain]:
    """Every referring domain of `target`'s live backlinks, assessed."""
    collector = LinkCollector()
    for n, edge in enumerate(store.backlinks(target), 1):
        collector.add(edge)
        if progress is not None and n % 10_000 == 0:
            progress.update("reading backlinks", n)
    return assess_collected(store, target, collector, rules, whitelist)


def assess_collected(
    store: Store,
    target: Target,
    collector: LinkCollector,
    rules: ToxicRules,
    whitelist: frozenset[str],
) -> list[ToxicDomain]:
    """The referring domains `collector` found, assessed with their profiles."""
    profiles = store.domain_profiles(sorted(collector.found), store.watched_domains())
    name = target.host or target.domain
    return assess(name, collector.found, profiles, rules, whitelist)
