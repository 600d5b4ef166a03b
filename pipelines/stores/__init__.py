"""Stores behind one interface (base.py): SQLite (sqlite/), MongoDB (mongo/).

Stores know records, not analytics: nothing here imports Scrapy, the CLI or
crawler.intelligence.

`open_store(settings)` opens the store the settings name by one URI
(LINKWATCH_STORE, or the aliases MONGO_URI and LINKWATCH_DB): its scheme
chooses the class (uri.py, STORES).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.stores.base import Store, StoreError, StoreURIError, Target, schedule_from
from pipelines.stores.uri import STORES, mask_uri, store_class, store_uri

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "STORES",
    "Store",
    "StoreError",
    "StoreURIError",
    "Target",
    "mask_uri",
    "open_store",
    "schedule_from",
    "store_class",
    "store_uri",
]


def open_store(
    settings: Mapping[str, Any], *, readonly: bool = False, create: bool = True
) -> Store:
    """The store the settings name (`store_uri`), opened; raises StoreError
    (StoreURIError when the URI is wrong). `create=False`: a store that does
    not exist yet is an error rather than made."""
    uri = store_uri(settings)
    return store_class(uri).from_uri(uri, settings, readonly=readonly, create=create)
