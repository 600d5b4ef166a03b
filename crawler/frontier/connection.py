"""The one way to reach a shared crawl's Redis (REDIS_URL): workers, seeding,
robots.txt sharing and the `linkwatch` commands all take their client here.

Imports neither Scrapy nor Twisted, so `linkwatch status`, `seed` and `watch`
load in a fraction of a crawl's start-up time.
"""

from __future__ import annotations

import redis

from crawler.credentials import mask_url

__all__ = ["mask_url", "redis_client"]

# Short timeouts: a worker notices an outage quickly and retries instead of
# hanging its reactor on a dead socket; a command fails fast with one line.
CONNECT_TIMEOUT = 2
SOCKET_TIMEOUT = 5
HEALTH_CHECK_INTERVAL = 10


def redis_client(url: str) -> redis.Redis:
    """A client for `url` (raises ValueError if it is not a Redis URL)."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=SOCKET_TIMEOUT,
        health_check_interval=HEALTH_CHECK_INTERVAL,
    )
