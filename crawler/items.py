"""The two records that flow from the spider to the store: pages and edges.

Items are plain dicts (cheap to build, serialized with orjson). The spider
yields one *page item* per crawled URL; it carries the *edges* found on that
page, i.e. the links whose target belongs to a watched domain. Keeping a page's
edges together lets the store apply them atomically, and lets a recrawl tell
which edges a page no longer has.

Page item::

    url            str   the crawled URL (canonical form, see crawler/urls.py)
    status         int   HTTP status of the response
    title          str   <title> text, whitespace collapsed ("" if none)
    fetched_at     str   ISO 8601 UTC, e.g. "2026-11-24T02:05:03Z"
    domain         str   registered domain of the page's host
    outlinks       int   number of distinct link targets on the page
    domain_links   dict  registered domain -> links from this page to it (other
                         domains only): the domain graph, for authority ranking
    watch          list  the watch list of the crawl that fetched the page
    edges          list  edge dicts, below

Edge (what ``linkwatch backlinks --format json`` prints, one per line)::

    source_url     str   canonical URL of the linking page
    target_url     str   canonical URL linked to (in a watched domain)
    source_domain  str   registered domain of source_url's host
    target_domain  str   registered domain of target_url's host
    target_host    str   host of target_url (lets a watch entry be a deeper host)
    anchor         str   link text, whitespace collapsed, at most 300 chars
    alt            str   alt text of an image inside the link ("" if none)
    rel            list  rel tokens, lower-case, in document order, no repeats
    nofollow       bool  rel has nofollow, or the page says nofollow (meta robots
                         or X-Robots-Tag)
    link_type      str   one of LINK_TYPES
    source_title   str   the source page's title
    source_status  int   the source page's HTTP status
    first_seen     str   ISO 8601 UTC; set once, by the store
    last_seen      str   ISO 8601 UTC; the latest crawl that saw the edge
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

LINK_TYPES = ("a", "area", "canonical", "frame", "meta_refresh", "redirect")

EDGE_FIELDS = (
    "source_url",
    "target_url",
    "source_domain",
    "target_domain",
    "anchor",
    "alt",
    "rel",
    "nofollow",
    "link_type",
    "source_title",
    "source_status",
    "first_seen",
    "last_seen",
)

PageItem = dict[str, Any]
Edge = dict[str, Any]


def utc_now() -> str:
    """The current time as the ISO 8601 UTC string every record uses."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
