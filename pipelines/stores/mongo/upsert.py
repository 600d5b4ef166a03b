"""Upserts as fast inserts where possible: how every collection is written.

Each collection is written as upserts ($setOnInsert, $max, $set, $inc) split
in two (`upsert`): documents known not to exist (an edge not among the page's
stored ones; a page, domain or domain pair an _id lookup did not find) go in
one unordered insert_many, as the very documents their upserts would create,
because FerretDB 1.24 inserts upserted documents one by one, slowly (BENCHMARKS.md);
the rest stay unordered bulk_writes of updates, in pieces of
FERRETDB_WRITE_CHUNK on FerretDB. A duplicate key on insert (another writer
got there first) falls back to that document's upsert.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from pymongo import UpdateOne
from pymongo import errors as mongo_errors

from pipelines.stores.mongo.connection import LOOKUP_CHUNK, chunks

if TYPE_CHECKING:
    from collections.abc import Collection as Keys
    from collections.abc import Mapping

    from pymongo.collection import Collection

# Updates per command on FerretDB (see write_chunks); well below its pool of
# 100 SQLite connections, so a few writers at once stay below it too.
FERRETDB_WRITE_CHUNK = 25
DUPLICATE_KEY = 11000


class Write(NamedTuple):
    """One document's update, by _id: what `upsert` applies."""

    key: Any
    update: dict[str, dict[str, Any]]
    upsert: bool = True


def existing(collection: Collection, keys: list[Any]) -> set[Any]:
    """Which of these _ids have a document (one find per LOOKUP_CHUNK)."""
    found: set[Any] = set()
    for chunk in chunks(list(dict.fromkeys(keys)), LOOKUP_CHUNK):
        found.update(doc["_id"] for doc in collection.find({"_id": {"$in": chunk}}, {"_id": 1}))
    return found


def upsert(
    collection: Collection, writes: list[Write], stored: Keys[Any], chunk: int | None
) -> list[int]:
    """Apply the writes as one unordered bulk_write of them would, upserts
    inserting what is missing; the indexes of the writes that created their
    document.

    FerretDB 1.24 makes each upsert that inserts one at a time, even inside
    a bulk_write, and far slower than insert_many (BENCHMARKS.md, ingest).
    So an upsert whose _id is not in `stored` (read by the caller), and
    not written earlier in the same list, inserts the document it would
    create instead (`inserted_document`); the other writes stay updates,
    in their order, after the inserts (in pieces of `chunk`, see
    `write_chunks`). A duplicate key on insert (another writer inserted it
    since `stored` was read) falls back to the upsert.
    """
    inserts: list[int] = []
    updates: list[int] = []
    fresh: set[Any] = set()
    for index, write in enumerate(writes):
        if write.upsert and write.key not in stored and write.key not in fresh:
            fresh.add(write.key)
            inserts.append(index)
        else:
            updates.append(index)
    created = list(inserts)
    if inserts:
        try:
            # Unchunked, on FerretDB too: the pool exhaustion of write_chunks
            # is an update's (10,000 edges in one insert_many write fine, no
            # slower than in pieces); pymongo splits by message size.
            collection.insert_many(
                [inserted_document(writes[i].key, writes[i].update) for i in inserts],
                ordered=False,
            )
        except mongo_errors.BulkWriteError as exc:
            duplicates = {inserts[error["index"]] for error in _duplicate_keys(exc)}
            created = [index for index in inserts if index not in duplicates]
            updates = sorted(updates + list(duplicates))
    for part in write_chunks(updates, chunk):
        created.extend(_update(collection, writes, part))
    return sorted(created)


def _update(collection: Collection, writes: list[Write], part: list[int]) -> list[int]:
    """Apply these writes as updates; the indexes of those that inserted."""
    result = collection.bulk_write(
        [
            UpdateOne({"_id": writes[i].key}, writes[i].update, upsert=writes[i].upsert)
            for i in part
        ],
        ordered=False,
    )
    # By _id: FerretDB 1.24 numbers `upserted` among the upserts, not among
    # the ops as MongoDB does. A key's first write in the piece is the one
    # that can have inserted it.
    upserted = set(result.upserted_ids.values())
    created = []
    for index in part:
        if writes[index].key in upserted:
            upserted.discard(writes[index].key)
            created.append(index)
    return created


def write_chunks(ops: list[Any], chunk: int | None) -> list[list[Any]]:
    """The ops of a bulk write, in one piece or, with `chunk` (FerretDB), in small ones.

    FerretDB 1.24 on SQLite holds one pooled SQLite connection per document
    an update command matches until the command ends: an update of 100
    existing documents exhausts its pool and hangs the server.
    """
    size = chunk or max(1, len(ops))
    return [ops[start : start + size] for start in range(0, len(ops), size)]


def inserted_document(key: Any, update: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The document an upsert of `update` creates when no document has _id `key`.

    Every operator we upsert with ($set, $setOnInsert, $max, $inc) gives a
    missing field its operand. Fields in name order after _id: the order in
    which MongoDB (5.0 and later) and FerretDB apply an update's fields, so an
    inserted document is the upserted one, field order included.
    """
    fields = {name: value for operand in update.values() for name, value in operand.items()}
    return {"_id": key, **dict(sorted(fields.items()))}


def _duplicate_keys(exc: mongo_errors.BulkWriteError) -> list[dict[str, Any]]:
    """The write errors of an unordered insert_many, all duplicate keys; raises
    the error itself when any is something else."""
    errors = exc.details.get("writeErrors", [])
    if exc.details.get("writeConcernErrors") or any(
        error.get("code") != DUPLICATE_KEY for error in errors
    ):
        raise exc
    return errors
