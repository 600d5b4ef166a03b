"""What changed in a watched domain's backlink profile in a time window, and
the summary a first send gives instead: pure (values in, values out).

A window is (since, until]: ISO 8601 UTC strings with one-second resolution,
so their text order is time order. In it:

- new edges: first seen in the window (still live or not: one that came and
  went is new and lost in the same report);
- lost edges: lost in the window and not back since (the store's `lost`), each
  with its lost_reason;
- new referring domains: with a live edge at `until` and none at `since`;
  lost referring domains: the other way round;
- competitors' new referring domains: new referring domains of a competitor
  in the same window that do not link to the domain at `until` (live edges),
  other than the domain and the competitors themselves.

Which domains had a live edge at a moment t (at or after `since`) is read from
what the store keeps now: a domain whose earliest live edge was first seen by t,
or one with an edge first seen by t and lost after t (the store's `lost` since
the window began holds all of those). An edge lost before the window and back
since counts as live all along: the store keeps no history of a link that came
back, so a referring domain that returns that way is not reported as new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crawler.intelligence.authority import authority_key, strongest_first

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

    from crawler.items import EdgeItem

# A referring domain as alerts list it: {"domain", "authority"} (authority None:
# unranked); a competitor's also has "competitors", the ones it newly links to.
Referrer = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Window:
    """The changes a send reports: after `since`, up to and including `until`."""

    since: str
    until: str

    def holds(self, moment: str | None) -> bool:
        return moment is not None and self.since < moment <= self.until


@dataclass(slots=True)
class Changes:
    """What changed for `domain` in `window`."""

    domain: str
    window: Window
    new: list[EdgeItem] = field(default_factory=list)
    lost: list[EdgeItem] = field(default_factory=list)
    new_refdomains: list[Referrer] = field(default_factory=list)
    lost_refdomains: list[Referrer] = field(default_factory=list)
    competitors: list[Referrer] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to tell: no message is sent, the cursor still moves on."""
        return not (
            self.new or self.lost or self.new_refdomains or self.lost_refdomains or self.competitors
        )


@dataclass(slots=True)
class Summary:
    """A domain's live profile at `at`: what the first send to a channel reports."""

    domain: str
    at: str
    backlinks: int
    followed: int
    refdomains: int
    strongest: list[dict[str, Any]]  # {"domain", "authority", "edges"}, strongest first


def edges_in(edges: Iterable[EdgeItem], moment: str, window: Window) -> list[EdgeItem]:
    """The edges whose `moment` field (first_seen, lost_at) falls in the window."""
    return [edge for edge in edges if window.holds(edge.get(moment))]


def referring_at(
    moment: str, live: Iterable[Mapping[str, Any]], lost: Iterable[EdgeItem]
) -> set[str]:
    """Referring domains with a live edge at `moment`. `live`: the store's
    refdomains rows (source_domain, first_seen of its earliest live edge);
    `lost`: the edges lost since a time at or before `moment`."""
    found = {row["source_domain"] for row in live if row["first_seen"] <= moment}
    found.update(
        edge["source_domain"] for edge in lost if edge["first_seen"] <= moment < edge["lost_at"]
    )
    return found


def refdomain_changes(
    window: Window, live: Sequence[Mapping[str, Any]], lost: Sequence[EdgeItem]
) -> tuple[set[str], set[str]]:
    """(new, lost) referring domains in the window; `lost` holds the edges lost
    since `window.since`."""
    before = referring_at(window.since, live, lost)
    after = referring_at(window.until, live, lost)
    return after - before, before - after


def competitors_new(
    window: Window,
    mine: Collection[str],
    theirs: Mapping[str, tuple[Sequence[Mapping[str, Any]], Sequence[EdgeItem]]],
    excluded: Collection[str] = (),
) -> dict[str, list[str]]:
    """Referring domain -> the competitors it newly links to in the window,
    for those not in `mine` (the domain's referring domains at `until`) nor
    `excluded`. `theirs`: competitor -> (refdomains rows, edges lost since)."""
    reach: dict[str, list[str]] = {}
    for competitor, (live, lost) in theirs.items():
        gained, _ = refdomain_changes(window, live, lost)
        for domain in gained:
            if domain not in mine and domain not in excluded:
                reach.setdefault(domain, []).append(competitor)
    return {domain: sorted(competitors) for domain, competitors in reach.items()}


def ranked(
    domains: Iterable[str], authority: Mapping[str, float | None], **extra: Mapping[str, Any]
) -> list[Referrer]:
    """Referring domains as alerts list them, strongest first (unranked last),
    then by name; `extra` adds a field per domain (name -> domain -> value)."""
    rows = [
        {"domain": domain, "authority": authority.get(domain)}
        | {name: values[domain] for name, values in extra.items()}
        for domain in domains
    ]
    rows.sort(key=lambda row: (authority_key(row["authority"]), row["domain"]))
    return rows


def summarize(domain: str, at: str, refdomains: Iterable[Mapping[str, Any]], top: int) -> Summary:
    """The summary of a profile from its refdomains rows, annotated with
    authority (Store.annotate_authority): counts and the `top` strongest."""
    rows = sorted(refdomains, key=strongest_first)
    return Summary(
        domain=domain,
        at=at,
        backlinks=sum(row["edges"] for row in rows),
        followed=sum(row["dofollow"] for row in rows),
        refdomains=len(rows),
        strongest=[
            {"domain": r["source_domain"], "authority": r["authority"], "edges": r["edges"]}
            for r in rows[:top]
        ],
    )
