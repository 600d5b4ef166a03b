"""The MongoDB store's alert delivery state: the `alert_cursors` collection,
one document per (channel, domain), read and leased by `linkwatch alerts send`.

A document's `_id` is "channel domain" (neither holds a space), so every read
and write is by `_id` and needs no other index (schema.py). The lease is one
`findAndModify` whose filter matches only a free or expired lease, with upsert:
when another sender holds it, the filter matches nothing, the upsert's insert
collides with the existing `_id` (DuplicateKeyError) and the claim fails; a
single document's update is atomic, so two senders cannot both take it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo import errors as mongo_errors

from pipelines.stores.mongo.connection import MongoConnected, store_error
from pipelines.stores.mongo.schema import to_datetime, to_iso

if TYPE_CHECKING:
    from pymongo.collection import Collection

CURSOR_FIELDS = ("reported_to", "owner", "lease_until")


class MongoAlerts(MongoConnected):
    """The `Store` methods of the alert delivery state."""

    @property
    def alert_collection(self) -> Collection:
        return self.db["alert_cursors"]

    def alert_cursor(self, channel: str, domain: str) -> dict[str, Any] | None:
        try:
            doc = self.alert_collection.find_one({"_id": cursor_id(channel, domain)})
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return None if doc is None else _state(doc)

    def claim_alert_cursor(
        self, channel: str, domain: str, owner: str, now: str, lease_until: str
    ) -> dict[str, Any] | None:
        free = [{"owner": None}, {"lease_until": {"$lte": to_datetime(now)}}]
        try:
            doc = self.alert_collection.find_one_and_update(
                {"_id": cursor_id(channel, domain), "$or": free},
                {
                    "$set": {"owner": owner, "lease_until": to_datetime(lease_until)},
                    "$setOnInsert": {"channel": channel, "domain": domain, "reported_to": None},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except mongo_errors.DuplicateKeyError:
            return None  # held: the filter missed an existing document
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return _state(doc)

    def release_alert_cursor(
        self, channel: str, domain: str, owner: str, reported_to: str | None = None
    ) -> bool:
        update: dict[str, Any] = {"$set": {"owner": None, "lease_until": None}}
        if reported_to is not None:
            update["$max"] = {"reported_to": to_datetime(reported_to)}  # never moves back
        try:
            result = self.alert_collection.update_one(
                {"_id": cursor_id(channel, domain), "owner": owner}, update
            )
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return result.matched_count == 1


def cursor_id(channel: str, domain: str) -> str:
    """A delivery state's _id: channel and domain, space-separated."""
    return f"{channel} {domain}"


def _state(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "reported_to": to_iso(doc.get("reported_to")),
        "owner": doc.get("owner"),
        "lease_until": to_iso(doc.get("lease_until")),
    }
