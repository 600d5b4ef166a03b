"""The store URI: which store, where. Its scheme chooses the implementation
(STORES: scheme -> dotted path of the class, imported only when used, as
Scrapy chooses a feed storage by scheme):

    sqlite:///linkwatch.db           a file, relative to the working directory
    sqlite:////var/lib/linkwatch.db  an absolute path (four slashes)
    mongodb://host:27017/            MongoDB (database: MONGO_DATABASE)
    mongodb+srv://cluster.example/   MongoDB, hosts from DNS SRV records

Settings: LINKWATCH_STORE if set, else MONGO_URI, else the SQLite file
LINKWATCH_DB (both aliases kept for the settings and environments that name
them). Messages show a URI with its password masked (`mask_uri`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from crawler.credentials import mask_url as mask_uri
from pipelines.stores.base import StoreURIError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pipelines.stores.base import Store

__all__ = ["STORES", "mask_uri", "store_class", "store_uri"]

STORES = {
    "sqlite": "pipelines.stores.sqlite.SQLiteStore",
    "mongodb": "pipelines.stores.mongo.MongoStore",
    "mongodb+srv": "pipelines.stores.mongo.MongoStore",
}


def store_uri(settings: Mapping[str, Any]) -> str:
    """The URI of the store the settings name: LINKWATCH_STORE, else MONGO_URI,
    else the SQLite file LINKWATCH_DB (default linkwatch.db)."""
    uri = settings.get("LINKWATCH_STORE") or settings.get("MONGO_URI")
    if uri:
        return str(uri).strip()
    return sqlite_uri(str(settings.get("LINKWATCH_DB") or "linkwatch.db"))


def store_class(uri: str) -> type[Store]:
    """The Store class of the URI's scheme; StoreURIError if none is known."""
    scheme, sep, _ = uri.partition("://")
    path = STORES.get(scheme.lower()) if sep else None
    if path is None:
        what = f"unknown scheme {scheme!r}" if sep else "not a URI"
        known = ", ".join(f"{name}://" for name in STORES)
        raise StoreURIError(f"store {mask_uri(uri)!r}: {what} (use {known})")
    return load_object(path)


def sqlite_uri(path: str) -> str:
    """The URI of a SQLite file: sqlite:/// and the path (an absolute path
    brings the fourth slash)."""
    return f"sqlite:///{path}"


def sqlite_path(uri: str) -> str:
    """The file a sqlite URI names: what follows `sqlite:///`."""
    rest = uri.partition("://")[2]
    if not rest.startswith("/") or len(rest) < 2:
        raise StoreURIError(
            f"store {uri!r}: a SQLite file is sqlite:///relative/path.db "
            "or sqlite:////absolute/path.db"
        )
    return rest[1:]


def load_object(path: str) -> Any:
    """The object a dotted path names ("package.module.Name"), imported."""
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)
