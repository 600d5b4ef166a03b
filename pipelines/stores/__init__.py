"""Stores behind one interface (base.py): SQLite (sqlite/), MongoDB (mongo/).

Stores know records, not analytics: nothing here imports Scrapy, the CLI or
crawler.intelligence.

`open_store(settings)` picks the one the settings ask for: MongoDB when
MONGO_URI is set, else the SQLite file at LINKWATCH_DB.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipelines.stores.base import Store, StoreError, Target

__all__ = ["Store", "StoreError", "Target", "open_store"]


def open_store(settings: Mapping[str, Any], *, readonly: bool = False) -> Store:
    if settings.get("MONGO_URI"):
        from pipelines.stores.mongo import MongoStore

        return MongoStore(
            settings["MONGO_URI"],
            settings.get("MONGO_DATABASE") or "linkwatch",
            readonly=readonly,
            recount_interval=float(settings.get("LINKWATCH_MONGO_RECOUNT_INTERVAL") or 0),
        )
    from pipelines.stores.sqlite import SQLiteStore

    return SQLiteStore(settings.get("LINKWATCH_DB") or "linkwatch.db", readonly=readonly)
