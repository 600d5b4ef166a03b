"""The MongoDB schema: the indexes of each collection (and which query uses
which), creating the missing ones, and how documents are keyed and dated:
an edge's _id digest, a domain pair's _id, ISO 8601 strings <-> BSON dates."""

from __future__ import annotations

from datetime import UTC, datetime
from hashlib import blake2b
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, DESCENDING, IndexModel

from pipelines.stores.base import StoreError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from pymongo.collection import Collection

EDGE_INDEXES = [
    # backlinks of a domain in the order the CLI prints them (live: lost_at null);
    # refdomains, anchors and pages (live); lost (lost_at range); recrawl (any
    # state); the domains recount (live)
    IndexModel(
        [
            ("target_domain", ASCENDING),
            ("lost_at", ASCENDING),
            ("source_domain", ASCENDING),
            ("source_url", ASCENDING),
            ("target_url", ASCENDING),
        ],
        name="by_target",
    ),
    # new edges of a domain, newest first: the order `linkwatch new` prints them
    IndexModel(
        [
            ("target_domain", ASCENDING),
            ("first_seen", DESCENDING),
            ("source_url", ASCENDING),
            ("target_url", ASCENDING),
        ],
        name="new_by_target",
    ),
    # the dashboard's backlinks of a domain by last seen (crawler/dashboard)
    IndexModel([("target_domain", ASCENDING), ("last_seen", DESCENDING)], name="by_last_seen"),
    # backlinks --placement (edges stored before 0.4 have none: the filter asks for null)
    IndexModel([("target_domain", ASCENDING), ("placement", ASCENDING)], name="by_placement"),
    # a page's edges, when the page is crawled again
    IndexModel([("source_url", ASCENDING)], name="by_source"),
]
# pages of a seed domain, most recently crawled first (no CLI query yet; recrawl
# looks pages up by _id)
PAGE_INDEXES = [
    IndexModel([("domain", ASCENDING), ("fetched_at", DESCENDING)], name="by_domain"),
    # pages with live links into a domain: the domains recount
    IndexModel([("live_links.domain", ASCENDING)], name="by_live_target"),
    # linking pages due for a recrawl (the cluster's recrawl mover, recrawl --due)
    IndexModel([("due_at", ASCENDING)], name="by_due"),
]
DOMAIN_LINK_INDEXES = [
    # a linking domain's pairs: the recount after a batch, the toxic rules
    IndexModel([("source_domain", ASCENDING), ("target_domain", ASCENDING)], name="by_source"),
    # who links to a domain: gap
    IndexModel([("target_domain", ASCENDING), ("source_domain", ASCENDING)], name="by_target"),
]
# alert_cursors (alerts.py) has no index but _id ("channel domain"): every read and
# every lease is by _id.
# target_checks (checks.py) has no index but _id (the target URL): every read and
# write is by _id.

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def create_indexes(collections: Iterable[tuple[Collection, list[IndexModel]]]) -> None:
    """Create the indexes a collection lacks; idempotent, so every start runs it.

    One index per createIndexes command, and only missing ones: FerretDB
    1.24 drops the connection when one command lists several indexes with
    different numbers of keys that exist already.
    """
    for collection, models in collections:
        existing = {index["name"]: _key_spec(index["key"]) for index in collection.list_indexes()}
        for model in models:
            name, keys = model.document["name"], _key_spec(model.document["key"])
            if name not in existing:
                collection.create_indexes([model])
            elif existing[name] != keys:
                raise StoreError(
                    f"MongoDB: index {collection.name}.{name} has keys {existing[name]}, "
                    f"this linkwatch needs {keys}: drop the index and start again",
                    transient=False,
                )


def _key_spec(key: Mapping[str, Any]) -> list[tuple[str, int]]:
    """An index key as comparable pairs (servers answer 1, 1.0 or Int64(1))."""
    return [(field, int(direction)) for field, direction in key.items()]


def edge_id(source_url: str, target_url: str) -> str:
    """The edge's _id: 32 hex digits of a digest of the pair."""
    return blake2b(f"{source_url}\n{target_url}".encode(), digest_size=16).hexdigest()


def pair_id(source_domain: str, target_domain: str) -> str:
    """A domain_links _id: the two domains, space-separated (no domain has a space)."""
    return f"{source_domain} {target_domain}"


def to_datetime(iso: str | None) -> datetime | None:
    if iso is None:
        return None
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def to_iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
