"""`MongoStore`: the MongoDB link graph, built from its parts (writes and
counters, queries, graph, alert delivery state, target checks, keywords) over one
client; connecting decides, once, what the server needs (grouping strategy,
write chunks) and creates missing indexes."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import pymongo
from pymongo import errors as mongo_errors

from pipelines.stores.base import StoreError, StoreURIError, schedule_from
from pipelines.stores.mongo.alerts import MongoAlerts
from pipelines.stores.mongo.browse import MongoBrowse
from pipelines.stores.mongo.checks import MongoChecks
from pipelines.stores.mongo.connection import store_error
from pipelines.stores.mongo.graph import MongoGraph
from pipelines.stores.mongo.grouping import grouping_for
from pipelines.stores.mongo.keywords import MongoKeywords
from pipelines.stores.mongo.queries import MongoQueries
from pipelines.stores.mongo.schema import (
    DOMAIN_LINK_INDEXES,
    EDGE_INDEXES,
    PAGE_INDEXES,
    create_indexes,
)
from pipelines.stores.mongo.upsert import FERRETDB_WRITE_CHUNK
from pipelines.stores.mongo.writes import MongoWrites
from pipelines.stores.uri import mask_uri

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

logger = logging.getLogger(__name__)


class MongoStore(
    MongoWrites, MongoBrowse, MongoQueries, MongoGraph, MongoAlerts, MongoChecks, MongoKeywords
):
    """Pages, edges and domains in a MongoDB database.

    `event_listeners` go to pymongo (tests record the commands a query sends).
    """

    def __init__(
        self,
        uri: str,
        database: str = "linkwatch",
        *,
        readonly: bool = False,
        timeout_ms: int = 10_000,
        event_listeners: Sequence[Any] = (),
        recount_interval: float = 0.0,
    ) -> None:
        # Domains whose counters (domains, domain_links) wait for a recount.
        self.recount_interval = recount_interval
        self.to_recount = (set(), set())
        self.recounted = time.monotonic()
        try:
            self.client = pymongo.MongoClient(
                uri,
                tz_aware=True,
                serverSelectionTimeoutMS=timeout_ms,
                appname="linkwatch",
                event_listeners=list(event_listeners),
            )
            self.db = self.client[database]
            self.edge_collection = self.db["edges"]
            self.page_collection = self.db["pages"]
            self.domain_collection = self.db["domains"]
            self.domain_link_collection = self.db["domain_links"]
            self.expansion_collection = self.db["expansions"]  # _id: the expanded site
            build = self.client.admin.command("buildInfo")
            self.ferretdb = "ferretdbVersion" in build
            self.grouping = grouping_for(build, self.edge_collection)
            self.write_chunk = FERRETDB_WRITE_CHUNK if self.ferretdb else None
            # Pages written before `live_links` existed: recount from the edges.
            self.legacy_pages = not readonly and (
                self.page_collection.find_one({"live_links": {"$exists": False}}, {"_id": 1})
                is not None
            )
            if not readonly:
                self.create_indexes()
        except mongo_errors.ConfigurationError as exc:
            raise StoreURIError(f"MongoDB URI {mask_uri(uri)!r}: {exc}") from exc
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc

    @classmethod
    def from_uri(
        cls, uri: str, settings: Mapping[str, Any], *, readonly: bool = False, create: bool = True
    ) -> MongoStore:
        """The database MONGO_DATABASE (default linkwatch) at `uri`; a database
        that does not exist yet is made on the first write, whatever `create`."""
        try:
            schedule = schedule_from(settings)
        except ValueError as exc:
            raise StoreError(str(exc), transient=False) from None
        store = cls(
            uri,
            settings.get("MONGO_DATABASE") or "linkwatch",
            readonly=readonly,
            recount_interval=float(settings.get("LINKWATCH_MONGO_RECOUNT_INTERVAL") or 0),
        )
        store.schedule = schedule
        return store

    def create_indexes(self) -> None:
        """Create the indexes a collection lacks (schema.create_indexes)."""
        create_indexes(
            [
                (self.edge_collection, EDGE_INDEXES),
                (self.page_collection, PAGE_INDEXES),
                (self.domain_link_collection, DOMAIN_LINK_INDEXES),
            ]
        )

    def close(self) -> None:
        try:
            self.recount()
        except mongo_errors.PyMongoError as exc:
            logger.warning(
                "MongoDB: domain counters not recounted at close (%s); the next "
                "batch that touches those domains recounts them",
                exc,
            )
        finally:
            self.client.close()
