"""`SQLiteStore`: the embedded store, built from its parts (writes, queries,
graph) over one connection to one database file."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipelines.stores.sqlite.graph import SQLiteGraph
from pipelines.stores.sqlite.queries import SQLiteQueries
from pipelines.stores.sqlite.schema import connect
from pipelines.stores.sqlite.writes import SQLiteWrites

if TYPE_CHECKING:
    from pathlib import Path


class SQLiteStore(SQLiteWrites, SQLiteQueries, SQLiteGraph):
    """Pages and edges in one SQLite database file."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = str(path)
        self.db, self.tables = connect(self.path, readonly=readonly)

    def close(self) -> None:
        self.db.close()
