"""The store interface: what the store pipeline writes and what `linkwatch` asks.

Two implementations keep the same data model: SQLite (embedded, the default)
and MongoDB (the link graph), chosen by the scheme of the store URI
(pipelines/stores/__init__.py). Every query command runs on both.

Writing a page is one unit: its edges are upserted (first_seen set once,
last_seen moved forward) and the page's edges that a previous crawl saw but
this one did not are marked lost, with a reason:

    link_removed     the page no longer links to the target
    page_gone        the page answered 4xx or 5xx
    redirected       the page now redirects elsewhere
    became_nofollow  the link is still there, but nofollow now

An edge that comes back (or becomes followed again) is restored: lost_at cleared.

A page item may carry `watch`, the watch list of the crawl that fetched it:
then only the page's edges into those domains can be lost, so a recrawl
watching one domain leaves the page's edges into other domains as they were.
Without it, every edge the page no longer has is lost.

The domain graph: a page item's `domain_links` (registered domain -> links
from the page to it) is the page's contribution to the (source domain, target
domain) pairs, each with `links` (summed over pages) and `pages` (pages with at
least one such link). A page crawled again replaces its contribution, never
adds to it; a page item without `domain_links` leaves its previous one as it
was. `linkwatch rank` reads the graph and writes each domain's authority.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from crawler.domains import WatchList, clean_domain, registered_domain
from crawler.schedule import Schedule, due_at, links_digest

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Sequence

    from crawler.items import EdgeItem, PageItem

State = Literal["live", "lost", "all"]
# The placement filter's value for edges stored before placement was recorded.
UNKNOWN_PLACEMENT = "unknown"

# Domains per lookup of the domain graph or of authority (an IN list / $in).
DOMAIN_CHUNK = 500
# What a domain's authority record holds (0-100 scores, then raw values).
AUTHORITY_FIELDS = ("pagerank", "harmonic", "pagerank_raw", "harmonic_raw", "ranked_at")


# What `recrawl_pages` returns of a page: its validators for a conditional GET,
# and its place in the recrawl schedule.
RECRAWL_FIELDS = ("url", "etag", "last_modified", "fetched_at", "recrawl_interval", "due_at")

# What a store keeps of an expanded site (a page item's `expansion`, plus when).
EXPANSION_FIELDS = ("domain", "via", "via_domain", "hop", "order", "found_at")

# What a store keeps of a check of a target URL (`linkwatch broken`, the
# targets spider): the final status after redirects (None: no answer), where
# it ended, how many redirects, the method of the final answer, why there was
# no answer (robots_blocked, unreachable, redirect_limit), when it was checked.
CHECK_FIELDS = (
    "url", "domain", "status", "final_url", "redirects", "method", "error", "checked_at",
)  # fmt: skip


# Orders of `Store.browse_edges` (the dashboard's backlinks table).
BROWSE_SORTS = ("domain", "authority", "first_seen", "last_seen")


@dataclass(frozen=True, slots=True)
class EdgeFilter:
    """Which edges `Store.browse_edges` pages through: every field None (or
    False) is no filter. `follow`: True followed only, False nofollow only;
    `text`: a substring of the anchor, the source URL or the target URL."""

    state: State = "live"
    since: str | None = None
    follow: bool | None = None
    link_type: str | None = None
    placement: str | None = None
    source_domain: str | None = None
    text: str | None = None


class StoreError(Exception):
    """A store operation failed; `transient` says whether retrying may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class StoreURIError(StoreError):
    """The store URI is wrong (unknown scheme, malformed): a user's mistake."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


@dataclass(frozen=True, slots=True)
class Target:
    """The watched domain a query asks about: a registered domain or a deeper host."""

    domain: str  # registered domain
    host: str | None  # set when the user named a host below the registered domain

    @classmethod
    def parse(cls, name: str) -> Target:
        cleaned = clean_domain(name)
        domain = registered_domain(cleaned)
        return cls(domain=domain, host=None if cleaned == domain else cleaned)

    def covers_host(self, host: str) -> bool:
        return self.host is None or host == self.host or host.endswith("." + self.host)


def lost_reason_for_status(status: int) -> str:
    """Why the edges a page no longer has were lost, from the page's new status."""
    if 300 <= status < 400:
        return "redirected"
    if status >= 400:
        return "page_gone"
    return "link_removed"


def can_lose(page: PageItem) -> Callable[[str], bool]:
    """Whether this crawl of `page` decides about an edge into a target host:
    any host, unless the page says which domains its crawl watched."""
    watch = page.get("watch")
    if watch is None:
        return lambda host: True
    watched = _watch_list(tuple(watch))
    return lambda host: host in watched


@lru_cache(maxsize=16)
def _watch_list(entries: tuple[str, ...]) -> WatchList:
    return WatchList(entries)  # one per crawl, not one per page


def lost_state_of_present_edge(
    previous: Mapping[str, Any] | None, nofollow: bool, seen_at: str
) -> tuple[str | None, str | None]:
    """(lost_at, lost_reason) of an edge its page has on this crawl.

    Present means live, except a followed link that turned nofollow: that is a
    lost (followed) link, and stays lost while it remains nofollow.
    """
    if nofollow and previous is not None:
        if previous.get("lost_reason") == "became_nofollow":
            return previous["lost_at"], "became_nofollow"
        if not previous["nofollow"] and previous.get("lost_at") is None:
            return seen_at, "became_nofollow"
    return None, None


def next_schedule(
    schedule: Schedule,
    page: PageItem,
    linking: bool,
    stored: tuple[str | None, int | None] | None,
) -> tuple[str | None, int | None, str | None]:
    """(links_digest, recrawl_interval, due_at) of a page written now.
    `linking`: the page has edges, or had some stored; `stored`: the stored
    page's (links_digest, recrawl_interval), None when it is new. A 304
    (`not_modified`) is an unchanged page."""
    if not linking:
        return None, None, None
    if page.get("not_modified"):
        digest = stored[0] if stored else None
        interval = schedule.next(stored[1] if stored else None, changed=False)
    else:
        digest = links_digest(page["edges"])
        if stored is None or stored[1] is None:
            interval = schedule.first()
        else:
            interval = schedule.next(stored[1], changed=digest != stored[0])
    return digest, interval, due_at(page["fetched_at"], interval)


def domain_links_change(
    before: Mapping[str, int] | None, after: Mapping[str, int]
) -> dict[str, tuple[int, int]]:
    """(links, pages) to add per target domain when a page's domain links go
    from `before` (None: the page had none stored) to `after`."""
    before = before or {}
    change: dict[str, tuple[int, int]] = {}
    for domain in before.keys() | after.keys():
        links = after.get(domain, 0) - before.get(domain, 0)
        pages = (domain in after) - (domain in before)
        if links or pages:
            change[domain] = (links, pages)
    return change


def schedule_from(settings: Mapping[str, Any]) -> Schedule:
    """The recrawl schedule the LINKWATCH_RECRAWL_* settings give (defaults
    where unset); ValueError when they contradict each other."""
    from settings import base

    def number(name: str) -> float:
        value = settings.get(name)
        return float(getattr(base, name) if value is None or value == "" else value)

    return Schedule(
        minimum=int(number("LINKWATCH_RECRAWL_MIN")),
        maximum=int(number("LINKWATCH_RECRAWL_MAX")),
        initial=int(number("LINKWATCH_RECRAWL_INITIAL")),
        inc_rate=number("LINKWATCH_RECRAWL_INC_RATE"),
        dec_rate=number("LINKWATCH_RECRAWL_DEC_RATE"),
    )


class Store(ABC):
    """Pages and edges, and the queries over them."""

    # How the write path schedules linking pages' recrawls (from_uri sets it).
    schedule: Schedule = Schedule()

    @classmethod
    @abstractmethod
    def from_uri(
        cls, uri: str, settings: Mapping[str, Any], *, readonly: bool = False, create: bool = True
    ) -> Store:
        """The store at `uri` (its scheme chose this class: pipelines.stores.STORES),
        with the other settings it reads; `create=False`: one that does not
        exist yet is a StoreError."""

    @abstractmethod
    def write_pages(self, pages: list[PageItem]) -> None:
        """Store pages and their edges atomically per batch; raises StoreError."""

    @abstractmethod
    def close(self) -> None: ...

    # --- queries: each returns dicts, newest or largest first ------------------
    # Dates in and out are ISO 8601 UTC strings ("2026-01-31T00:00:00Z").

    @abstractmethod
    def backlinks(
        self,
        target: Target,
        *,
        state: State = "live",
        since: str | None = None,
        dofollow: bool = False,
        limit: int | None = None,
        source_domains: Sequence[str] | None = None,
        placement: str | None = None,
    ) -> Iterator[EdgeItem]:
        """Edges into `target` by referring domain, page, target URL; `since`
        filters on first_seen (ISO 8601), `source_domains` on the referring
        domain, `placement` on where the link sits (UNKNOWN_PLACEMENT: edges
        stored before it was recorded)."""

    @abstractmethod
    def source_domains(
        self,
        target: Target,
        *,
        state: State = "live",
        since: str | None = None,
        dofollow: bool = False,
    ) -> list[str]:
        """The referring domains of the edges `backlinks` would list, sorted."""

    @abstractmethod
    def refdomains(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Referring domains of live edges: edges, dofollow, first_seen, last_seen."""

    @abstractmethod
    def anchors(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Anchor texts of live edges: edges, referring domains."""

    @abstractmethod
    def new(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[EdgeItem]:
        """Edges into `target` first seen on or after `since`, newest first.

        Live or lost since: an edge that came and went is still new (its
        lost_at says it went). Ties in first_seen by source_url, target_url.
        """

    @abstractmethod
    def lost(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[EdgeItem]:
        """Edges into `target` lost on or after `since` and not back, latest loss first."""

    @abstractmethod
    def pages(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Pages of `target` that live edges point to: target_url, edges, dofollow,
        refdomains; most edges first, then most referring domains."""

    @abstractmethod
    def linking_pages(
        self, target: Target, *, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Pages with an edge, live or lost, into `target`: url, last_crawled.

        Least recently crawled first (a page never stored comes first, with
        last_crawled None): the order a recrawl should fetch them in.
        """

    # --- browsing (the dashboard: crawler/dashboard) -----------------------------------

    @abstractmethod
    def browse_edges(
        self, target: Target, where: EdgeFilter, *, sort: str, offset: int, limit: int
    ) -> list[EdgeItem]:
        """One page of the edges into `target` that `where` selects, in the
        order `sort` (BROWSE_SORTS) names, each served by an index; `authority`
        adds the referring domain's pagerank (unranked last)."""

    @abstractmethod
    def edge_days(self, target: Target) -> list[dict[str, Any]]:
        """Per UTC day (YYYY-MM-DD) with a change: edges first seen (`new`)
        and edges lost (`lost`), oldest day first."""

    @abstractmethod
    def domain_spans(self, target: Target) -> Iterator[tuple[str, str, str | None]]:
        """Per referring domain (live or lost edges): its first edge's
        first_seen and, once every edge is lost, the last lost_at (else None)."""

    @abstractmethod
    def edge_totals(self, target: Target, lost_since: str) -> dict[str, int]:
        """`live` edges, `followed` live edges, and edges `lost` since a date."""

    # --- freshness ----------------------------------------------------------------

    @abstractmethod
    def fetched_since(self, urls: Sequence[str], since: str) -> set[str]:
        """Those of `urls` whose page is stored with fetched_at at or after
        `since`: what a resumed crawl need not fetch again."""

    @abstractmethod
    def recrawl_pages(
        self,
        domains: Sequence[str] | None = None,
        *,
        due_before: str | None = None,
        limit: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Stored pages with an edge (live or lost) into one of the registered
        `domains` (None: into any), and only those due at or before
        `due_before` if given: RECRAWL_FIELDS, soonest due first (never
        scheduled first), then by URL."""

    # --- the domain graph ------------------------------------------------------

    @abstractmethod
    def domain_graph(self) -> Iterator[tuple[str, str, int, int]]:
        """Every pair of the domain graph: (source domain, target domain, links, pages)."""

    @abstractmethod
    def linking_domains(self, domains: Sequence[str]) -> dict[str, set[str]]:
        """For each registered domain, the other domains linking to it: in the
        domain graph, or through a live edge (a redirect is a link too)."""

    @abstractmethod
    def domain_profiles(
        self, domains: Sequence[str], watched: Collection[str]
    ) -> dict[str, dict[str, Any]]:
        """What the store knows of each domain as a linking site: `pages`
        (crawled), `external_links` (links from them to other domains),
        `linked_domains` (how many other domains), `watched` (the domains of
        `watched` it links to, sorted). Unknown domains have zeros."""

    @abstractmethod
    def watched_domains(self) -> list[str]:
        """Registered domains that stored edges point into (some crawl watched
        them), sorted."""

    # --- discovery ----------------------------------------------------------------

    @abstractmethod
    def expansions(self) -> dict[str, dict[str, Any]]:
        """Every site a discovery crawl expanded into: domain -> its provenance
        (EXPANSION_FIELDS: the page that led there, its domain, the hop, the
        order found, when), the first one recorded for it."""

    # --- alert delivery state (crawler/alerts) ---------------------------------------
    # Per (channel, domain): `reported_to`, the time up to which changes were
    # delivered (None: never), and a lease (`owner`, `lease_until`) that one
    # sender holds while it delivers. `channel` is an id without credentials;
    # `domain` is the watched domain or host as alerts name it. Times are ISO
    # 8601 UTC strings, as everywhere.

    @abstractmethod
    def alert_cursor(self, channel: str, domain: str) -> dict[str, Any] | None:
        """The delivery state (reported_to, owner, lease_until), None if the
        channel never reported on the domain."""

    @abstractmethod
    def claim_alert_cursor(
        self, channel: str, domain: str, owner: str, now: str, lease_until: str
    ) -> dict[str, Any] | None:
        """Take the lease for `owner` until `lease_until`, atomically (compare
        and set): only if no one holds it or the holder's lease ran out by
        `now`. The delivery state if taken, None if another sender holds it."""

    @abstractmethod
    def release_alert_cursor(
        self, channel: str, domain: str, owner: str, reported_to: str | None = None
    ) -> bool:
        """Give the lease back, moving `reported_to` forward to the given time
        if one is given (after a delivery). False, and nothing changed, if
        `owner` no longer holds the lease (it ran out and another took it)."""

    # --- target checks (linkwatch broken) ----------------------------------------------
    # The cache of what the target URLs of backlinks answered: one record per
    # URL (CHECK_FIELDS), the latest check replacing the one before.

    @abstractmethod
    def target_checks(self, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The cached check of each of `urls` that has one (CHECK_FIELDS), by URL."""

    @abstractmethod
    def write_target_checks(self, checks: Iterable[Mapping[str, Any]]) -> int:
        """Store checks (CHECK_FIELDS), each replacing its URL's; how many."""

    # --- linking pages' language and address (link quality) ---------------------------

    @abstractmethod
    def page_facts(self, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        """{url: {lang, ip}} of the stored pages among `urls` (None: unknown)."""

    @abstractmethod
    def domain_addresses(self, domains: Sequence[str]) -> dict[str, str]:
        """{domain: ip} of the latest stored page of each of `domains` that has one."""

    # --- keywords (linkwatch keywords, linkwatch anchors) ------------------------------
    # The keywords of a watched domain (or host, as the user named it): what
    # its exact- and partial-match anchors are told by. Kept as given.

    @abstractmethod
    def keywords(self, domain: str) -> list[str]:
        """The keywords stored for `domain`, sorted."""

    @abstractmethod
    def add_keywords(self, domain: str, keywords: Iterable[str]) -> int:
        """Store keywords for `domain`; how many were not stored already."""

    @abstractmethod
    def remove_keywords(self, domain: str, keywords: Iterable[str]) -> int:
        """Forget keywords of `domain`; how many were stored."""

    # --- authority ----------------------------------------------------------------

    @abstractmethod
    def write_authority(self, rows: Iterable[Mapping[str, Any]], ranked_at: str) -> int:
        """Replace every domain's authority with `rows` (domain, pagerank,
        harmonic, pagerank_raw, harmonic_raw); domains not in them lose theirs.
        Returns how many were written."""

    @abstractmethod
    def authority(self, domains: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Authority of each ranked domain among `domains` (AUTHORITY_FIELDS)."""

    def annotate_authority(
        self, rows: Iterable[dict[str, Any]], field: str = "source_domain"
    ) -> Iterator[dict[str, Any]]:
        """Rows with `authority` (scaled PageRank) and `harmonic` of the domain
        in `field`, looked up a chunk of rows at a time; None when unranked."""
        known: dict[str, dict[str, Any] | None] = {}
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= DOMAIN_CHUNK:
                yield from self._annotated(chunk, field, known)
                chunk = []
        yield from self._annotated(chunk, field, known)

    def _annotated(
        self, rows: list[dict[str, Any]], field: str, known: dict[str, dict[str, Any] | None]
    ) -> Iterator[dict[str, Any]]:
        missing = {row[field] for row in rows} - known.keys()
        if missing:
            found = self.authority(missing)
            if len(known) > 100_000:  # a cache, not a copy of the table
                known.clear()
            known.update({domain: found.get(domain) for domain in missing})
        for row in rows:
            ranked = known.get(row[field])
            row["authority"] = None if ranked is None else ranked["pagerank"]
            row["harmonic"] = None if ranked is None else ranked["harmonic"]
            yield row

    def backlinks_by_authority(
        self,
        target: Target,
        *,
        state: State = "live",
        since: str | None = None,
        dofollow: bool = False,
        limit: int | None = None,
        placement: str | None = None,
    ) -> Iterator[EdgeItem]:
        """`backlinks`, annotated, ordered by the referring domain's authority
        (highest first, unranked last), then as `backlinks` orders them.

        One read of the referring domains and their authority, then the edges
        of a few domains at a time: memory holds the domains, not the edges.
        """
        domains = self.source_domains(target, state=state, since=since, dofollow=dofollow)
        ranks: dict[str, dict[str, Any]] = {}
        for start in range(0, len(domains), DOMAIN_CHUNK):
            ranks.update(self.authority(domains[start : start + DOMAIN_CHUNK]))

        def key(domain: str) -> tuple[float, str]:
            ranked = ranks.get(domain)
            pagerank = None if ranked is None else ranked["pagerank"]
            return (math.inf if pagerank is None else -pagerank, domain)

        domains.sort(key=key)
        left = limit
        for start in range(0, len(domains), DOMAIN_CHUNK):
            chunk = domains[start : start + DOMAIN_CHUNK]
            order = {domain: position for position, domain in enumerate(chunk)}
            edges = list(
                self.backlinks(
                    target,
                    state=state,
                    since=since,
                    dofollow=dofollow,
                    source_domains=chunk,
                    placement=placement,
                )
            )
            # Stable: within a domain, the store's order (page, target URL) stays.
            edges.sort(key=lambda edge: order[edge["source_domain"]])
            for edge in edges:
                ranked = ranks.get(edge["source_domain"])
                edge["authority"] = None if ranked is None else ranked["pagerank"]
                edge["harmonic"] = None if ranked is None else ranked["harmonic"]
                yield edge
                if left is not None:
                    left -= 1
                    if left <= 0:
                        return

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
