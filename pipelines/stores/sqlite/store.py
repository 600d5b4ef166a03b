"""`SQLiteStore`: the embedded store, built from its parts (writes, queries,
graph, alert delivery state, target checks, keywords) over one connection to one
database file."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pipelines.stores.base import StoreError, schedule_from
from pipelines.stores.sqlite.alerts import SQLiteAlerts
from pipelines.stores.sqlite.browse import SQLiteBrowse
from pipelines.stores.sqlite.checks import SQLiteChecks
from pipelines.stores.sqlite.graph import SQLiteGraph
from pipelines.stores.sqlite.keywords import SQLiteKeywords
from pipelines.stores.sqlite.queries import SQLiteQueries
from pipelines.stores.sqlite.schema import connect
from pipelines.stores.sqlite.writes import SQLiteWrites
from pipelines.stores.uri import sqlite_path

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any


class SQLiteStore(
    SQLiteWrites,
    SQLiteBrowse,
    SQLiteQueries,
    SQLiteGraph,
    SQLiteAlerts,
    SQLiteChecks,
    SQLiteKeywords,
):
    """Pages and edges in one SQLite database file."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = str(path)
        self.db, self.tables = connect(self.path, readonly=readonly)

    @classmethod
    def from_uri(
        cls, uri: str, settings: Mapping[str, Any], *, readonly: bool = False, create: bool = True
    ) -> SQLiteStore:
        path = sqlite_path(uri)
        if not create and not os.path.exists(path):
            raise StoreError(f"no linkwatch database at {path}", transient=False)
        store = cls(path, readonly=readonly)
        try:
            store.schedule = schedule_from(settings)
        except ValueError as exc:
            store.close()
            raise StoreError(str(exc), transient=False) from None
        return store

    def close(self) -> None:
        self.db.close()
