"""The scrapy-redis baseline: the plain-Scrapy baseline on scrapy-redis' Scheduler and
dupefilter (SCRAPY_SETTINGS_MODULE=bench.scrapy_redis_settings, REDIS_URL=...).

scrapy-redis 0.9.1 as its README configures it: requests pickled into a Redis
priority queue (a sorted set), SHA1 fingerprints in a Redis set; the queue and
the set are flushed when the crawl ends (SCHEDULER_PERSIST off).
"""

import os

from bench.baseline_settings import *  # noqa: F403

SCHEDULER = "scrapy_redis.scheduler.Scheduler"
DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"
SCHEDULER_PERSIST = False
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
