"""Embedded profile: one machine, no servers.

Scrapy's own scheduler and the SQLite store at LINKWATCH_DB. This is the
default profile (scrapy.cfg); REDIS_URL switches a crawl to settings/cluster.py.
"""

from settings.base import *  # noqa: F403

# The spider never requests a URL twice (its own seen-set, ahead of building a
# Request), so Scrapy's fingerprinting dupefilter would only cost time.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
