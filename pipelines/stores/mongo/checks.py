"""The MongoDB store's cache of target checks: the `target_checks` collection,
one document per target URL (`_id` the URL), written and read by `linkwatch
broken` and read by the report. Every read and write is by `_id`, so it needs
no other index (schema.py); `checked_at` is a BSON date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo import ReplaceOne
from pymongo import errors as mongo_errors

from pipelines.stores.base import CHECK_FIELDS, StoreError
from pipelines.stores.mongo.connection import LOOKUP_CHUNK, MongoConnected, chunks, store_error
from pipelines.stores.mongo.schema import to_datetime, to_iso

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from pymongo.collection import Collection

# Replacements per bulk_write (FerretDB: its smaller write chunk).
WRITE_CHUNK = 1000


class MongoChecks(MongoConnected):
    """The `Store` methods of the target checks cache."""

    @property
    def check_collection(self) -> Collection:
        return self.db["target_checks"]

    def target_checks(self, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        try:
            for chunk in chunks(list(dict.fromkeys(urls)), LOOKUP_CHUNK):
                for doc in self.check_collection.find({"_id": {"$in": chunk}}):
                    found[doc["_id"]] = _check(doc)
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return found

    def write_target_checks(self, checks: Iterable[Mapping[str, Any]]) -> int:
        ops = [ReplaceOne({"_id": check["url"]}, _document(check), upsert=True) for check in checks]
        size = self.write_chunk or WRITE_CHUNK
        try:
            for start in range(0, len(ops), size):
                self.check_collection.bulk_write(ops[start : start + size], ordered=False)
        except mongo_errors.BulkWriteError as exc:
            raise StoreError(f"MongoDB bulk write failed: {exc.details}", transient=False) from exc
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return len(ops)


def _document(check: Mapping[str, Any]) -> dict[str, Any]:
    doc = {name: check.get(name) for name in CHECK_FIELDS if name != "url"}
    doc["checked_at"] = to_datetime(check["checked_at"])
    return doc


def _check(doc: Mapping[str, Any]) -> dict[str, Any]:
    check = {name: doc.get(name) for name in CHECK_FIELDS}
    check["url"] = doc["_id"]
    check["checked_at"] = to_iso(doc.get("checked_at"))
    return check
