"""Layered settings: base (every default) → embedded (the default profile) or
cluster (switched on by REDIS_URL).

`scrapy crawl` loads settings.embedded through scrapy.cfg; the backlinks spider
applies settings.cluster on top when REDIS_URL is set, from the environment or
from `-s REDIS_URL=...` (see crawler/spiders/backlinks.py).
"""
