"""What every part of the MongoDB store shares: its collections and the
server's choices made at connect time (`MongoConnected`), reads whose errors
become StoreErrors, and chunking of `$in` lists."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import errors as mongo_errors

from pipelines.stores.base import Store, StoreError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    import pymongo
    from pymongo.collection import Collection
    from pymongo.database import Database

    from pipelines.stores.mongo.grouping import Grouping

# `$in` lists of _ids per query when pages are looked up by URL
LOOKUP_CHUNK = 1000

TRANSIENT_ERRORS = (
    mongo_errors.AutoReconnect,
    mongo_errors.ConnectionFailure,
    mongo_errors.ServerSelectionTimeoutError,
    mongo_errors.NetworkTimeout,
    mongo_errors.WriteConcernError,
)


class MongoConnected(Store):
    """The state the MongoDB store's parts share."""

    client: pymongo.MongoClient
    db: Database
    edge_collection: Collection
    page_collection: Collection
    domain_collection: Collection
    domain_link_collection: Collection
    ferretdb: bool
    # How queries group edges: on the server, or here (FerretDB); see grouping.py.
    grouping: Grouping
    # Writes per bulk_write command of updates; None: all in one (see upsert.py).
    write_chunk: int | None

    @property
    def server_grouping(self) -> bool:
        """Whether the server groups (MongoDB) or the store does (FerretDB)."""
        return self.grouping.on_server

    def _find(self, match: dict[str, Any], projection: dict[str, int]) -> Iterator[dict]:
        return find(self.edge_collection, match, projection)


def find(
    collection: Collection, match: dict[str, Any], projection: dict[str, int]
) -> Iterator[dict[str, Any]]:
    """The documents of a find, its errors as StoreErrors."""
    try:
        yield from collection.find(match, projection)
    except mongo_errors.PyMongoError as exc:
        raise store_error(exc) from exc


def aggregate(collection: Collection, pipeline: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The documents of an aggregate, its errors as StoreErrors."""
    try:
        yield from collection.aggregate(pipeline)
    except mongo_errors.PyMongoError as exc:
        raise store_error(exc) from exc


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def store_error(exc: Exception) -> StoreError:
    transient = isinstance(exc, TRANSIENT_ERRORS)
    return StoreError(f"MongoDB: {exc}", transient=transient)
