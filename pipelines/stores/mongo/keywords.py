"""The MongoDB store's keywords: the `keywords` collection, one document per
(watched domain, keyword) with that pair as its `_id`, written by `linkwatch
keywords` and read by `linkwatch anchors`. Reads by `domain` scan the
collection: it holds a handful of keywords per watched domain, no index needed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymongo import errors as mongo_errors

from pipelines.stores.mongo.connection import MongoConnected, store_error

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pymongo.collection import Collection


class MongoKeywords(MongoConnected):
    """The `Store` methods of the keywords of watched domains."""

    @property
    def keyword_collection(self) -> Collection:
        return self.db["keywords"]

    def keywords(self, domain: str) -> list[str]:
        try:
            found = [doc["keyword"] for doc in self.keyword_collection.find({"domain": domain})]
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return sorted(found)

    def add_keywords(self, domain: str, keywords: Iterable[str]) -> int:
        added = 0
        try:
            for keyword in dict.fromkeys(keywords):
                doc = {"domain": domain, "keyword": keyword}
                result = self.keyword_collection.update_one(
                    {"_id": _key(domain, keyword)}, {"$setOnInsert": doc}, upsert=True
                )
                added += result.upserted_id is not None
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc
        return added

    def remove_keywords(self, domain: str, keywords: Iterable[str]) -> int:
        keys = [_key(domain, keyword) for keyword in dict.fromkeys(keywords)]
        try:
            return self.keyword_collection.delete_many({"_id": {"$in": keys}}).deleted_count
        except mongo_errors.PyMongoError as exc:
            raise store_error(exc) from exc


def _key(domain: str, keyword: str) -> str:
    # Neither a domain nor a keyword (whitespace collapsed) holds a newline.
    return f"{domain}\n{keyword}"
