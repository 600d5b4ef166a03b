"""Read-only stores shared by the request threads.

Starlette runs each synchronous endpoint in a worker thread; a SQLite
connection must not be used by two threads at once, so each request borrows
a store of its own from the pool and gives it back. A MongoDB store is
thread-safe, but borrowing keeps the two the same. Every store is opened
read-only (`open_store(readonly=True)`: SQLite `mode=ro`, no index creation
on MongoDB): nothing the dashboard does can write.
"""

from __future__ import annotations

import queue
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from pipelines.stores.base import Store


class StorePool:
    """Stores opened on demand from `settings` (those of open_store), reused."""

    def __init__(self, settings: Mapping[str, Any], size: int = 8) -> None:
        self.settings = dict(settings)
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue(maxsize=size)

    def open(self) -> Store:
        from pipelines.stores import open_store

        return open_store(self.settings, readonly=True, create=False)

    @contextmanager
    def store(self) -> Iterator[Store]:
        try:
            store = self._idle.get_nowait()
        except queue.Empty:
            store = self.open()
        try:
            yield store
        except BaseException:
            store.close()  # its state is unknown after a failure
            raise
        try:
            self._idle.put_nowait(store)
        except queue.Full:
            store.close()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return
