"""A domain's changes in a window, and its summary, read from the store.

Through the Store interface only, so both stores answer the same: `new` and
`lost` since the window's start (then cut to the window here), `refdomains`
(live, with each referring domain's earliest first_seen) and `authority`. The
logic is changes.py's; this module only asks the questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.alerts.changes import (
    Changes,
    Summary,
    Window,
    competitors_new,
    edges_in,
    ranked,
    refdomain_changes,
    referring_at,
    summarize,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pipelines.stores.base import Store, Target


def domain_name(target: Target) -> str:
    """The watched domain as alerts name it: the host the user gave, or the domain."""
    return target.host or target.domain


def collect_changes(
    store: Store, target: Target, window: Window, competitors: Sequence[Target] = ()
) -> Changes:
    """What changed for `target` in `window`, with the competitors' new
    referring domains that do not link to it."""
    lost_since = list(store.lost(target, window.since))
    live = list(store.refdomains(target))
    gained, dropped = refdomain_changes(window, live, lost_since)
    reach: dict[str, list[str]] = {}
    if competitors:
        theirs = {
            domain_name(c): (list(store.refdomains(c)), list(store.lost(c, window.since)))
            for c in competitors
        }
        mine = referring_at(window.until, live, lost_since)
        excluded = {target.domain, *(c.domain for c in competitors)}
        reach = competitors_new(window, mine, theirs, excluded)
    authority = authority_of(store, gained | dropped | reach.keys())
    return Changes(
        domain=domain_name(target),
        window=window,
        new=edges_in(store.new(target, window.since), "first_seen", window),
        lost=edges_in(lost_since, "lost_at", window),
        new_refdomains=ranked(gained, authority),
        lost_refdomains=ranked(dropped, authority),
        competitors=ranked(reach, authority, competitors=reach),
    )


def collect_summary(store: Store, target: Target, at: str, top: int) -> Summary:
    """The live profile of `target` now, its `top` strongest referring domains."""
    rows = store.annotate_authority(store.refdomains(target))
    return summarize(domain_name(target), at, rows, top)


def authority_of(store: Store, domains: Iterable[str]) -> dict[str, float | None]:
    """Each domain's authority (scaled PageRank), None when unranked."""
    wanted = set(domains)
    if not wanted:
        return {}
    found = store.authority(wanted)
    return {domain: (found[domain]["pagerank"] if domain in found else None) for domain in wanted}
