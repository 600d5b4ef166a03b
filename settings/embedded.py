"""Embedded profile: one machine, no servers.

Scrapy's own scheduler, journaled so that a crawl resumes (LINKWATCH_RESUME),
and the SQLite store at LINKWATCH_DB. This is the default profile (scrapy.cfg);
REDIS_URL switches a crawl to settings/cluster.py.
"""

from settings import base as _base
from settings.base import *  # noqa: F403

# Scrapy's scheduler that also writes the crawl's queue and seen-set to a
# SQLite file beside the store (LINKWATCH_FRONTIER_FILE), so the same command
# resumes an interrupted crawl (crawler/frontier/resumable.py).
SCHEDULER = "crawler.frontier.resumable.ResumableScheduler"
# Its two middlewares mark a page done in that file: once its items are
# stored, or (outermost downloader middleware) once its download failed for good.
DOWNLOADER_MIDDLEWARES = {
    **_base.DOWNLOADER_MIDDLEWARES,
    "crawler.frontier.resumable.JournalDownloaderMiddleware": 1,
}
SPIDER_MIDDLEWARES = {
    **_base.SPIDER_MIDDLEWARES,
    "crawler.frontier.resumable.JournalSpiderMiddleware": 1,
}

# The spider never requests a URL twice (its own seen-set, ahead of building a
# Request), so Scrapy's fingerprinting dupefilter would only cost time.
DUPEFILTER_CLASS = "scrapy.dupefilters.BaseDupeFilter"
