"""The store interface: what the store pipeline writes and what `linkwatch` asks.

Two implementations keep the same data model: SQLite (embedded, the default)
and MongoDB (the link graph, with MONGO_URI). Every query command runs on both.

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
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from crawler.domains import WatchList, clean_domain, registered_domain

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from crawler.items import Edge, PageItem

State = Literal["live", "lost", "all"]


class StoreError(Exception):
    """A store operation failed; `transient` says whether retrying may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


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


class Store(ABC):
    """Pages and edges, and the queries over them."""

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
    ) -> Iterator[Edge]:
        """Edges into `target`; `since` filters on first_seen (ISO 8601)."""

    @abstractmethod
    def refdomains(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Referring domains of live edges: edges, dofollow, first_seen, last_seen."""

    @abstractmethod
    def anchors(self, target: Target, *, limit: int | None = None) -> Iterator[dict[str, Any]]:
        """Anchor texts of live edges: edges, referring domains."""

    @abstractmethod
    def new(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[Edge]:
        """Edges into `target` first seen on or after `since`, newest first.

        Live or lost since: an edge that came and went is still new (its
        lost_at says it went). Ties in first_seen by source_url, target_url.
        """

    @abstractmethod
    def lost(self, target: Target, since: str, *, limit: int | None = None) -> Iterator[Edge]:
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

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
