"""A small time-limited cache for the views that read a whole profile.

Referring domains, anchors, toxic scores, broken targets, the gap and the
overview's charts each group every live edge of a domain: seconds on millions
of edges. Computed once, they are paged from memory for `ttl` seconds, so
page 2 costs what page 1 cost after the first. The store is read-only here:
a crawl writing meanwhile shows up at the next expiry.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable


class TTLCache:
    """Results by key, each kept `ttl` seconds; at most `size` of them.

    One lock per key: two requests for the same cold view compute it once.
    """

    def __init__(self, ttl: float = 60.0, size: int = 64) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            now = time.monotonic()
            with self._guard:
                hit = self._items.get(key)
                if hit is not None and now - hit[0] < self.ttl:
                    self._items.move_to_end(key)
                    return hit[1]
            value = compute()
            with self._guard:
                self._items[key] = (time.monotonic(), value)
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    old, _ = self._items.popitem(last=False)
                    self._locks.pop(old, None)
            return value

    def clear(self) -> None:
        with self._guard:
            self._items.clear()
