"""Settings of the plain-Scrapy baseline (SCRAPY_SETTINGS_MODULE=bench.baseline_settings).

Scrapy's defaults, plus what `scrapy startproject` writes (robots.txt obeyed) and
what the benchmark holds equal on both sides (see bench/crawl.py): no telnet or
remote-control servers, INFO logging (DEBUG would log every item), concurrency.
"""

BOT_NAME = "baseline"
SPIDER_MODULES = ["bench.baseline_spider"]
ROBOTSTXT_OBEY = True
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
ITEM_PIPELINES = {"bench.baseline_spider.WatchedEdges": 300}
FEED_EXPORT_ENCODING = "utf-8"
