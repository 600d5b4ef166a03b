"""Redis down or restarted: the frontier updates that failed, kept in order.

A worker does not stop when Redis goes away. A call that fails (opening the
crawl, giving leases back) is kept, and so is every call after it, until Redis
answers again; then they run in the order they were made, so an update never
overtakes an earlier one. The outage is logged once when it starts and once
when it ends, whichever call notices. (What the lease pump gathers for its next
round trip stays with the pump: a round trip that fails is simply made again.)
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import redis

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


class OutageBacklog:
    """Redis calls that failed, replayed in order; the outage's two log lines."""

    def __init__(self) -> None:
        # (what, call): `what` names the call for a reader in a debugger.
        self.calls: deque[tuple[str, Callable[[], Any]]] = deque()
        self.since: float | None = None  # monotonic time the outage was noticed

    def __len__(self) -> int:
        return len(self.calls)

    def run(self, what: str, call: Callable[[], Any]) -> None:
        """Run `call` now, or after the calls already waiting for Redis."""
        if not self.calls:
            try:
                call()
                return
            except redis.RedisError as exc:
                self.failed(exc)
        self.calls.append((what, call))

    def replay(self) -> None:
        """Run the waiting calls in order; raises RedisError while Redis is down
        (the failing call stays first in line)."""
        while self.calls:
            _, call = self.calls[0]
            call()
            self.calls.popleft()

    def failed(self, exc: Exception) -> None:
        """A Redis call failed: log the outage, once."""
        if self.since is None:
            self.since = time.monotonic()
            logger.warning("Redis unavailable (%s); retrying with backoff", exc)

    def recovered(self) -> None:
        """A Redis call succeeded: log the end of the outage, if there was one."""
        if self.since is not None:
            logger.warning("Redis available again after %.1fs", time.monotonic() - self.since)
            self.since = None
