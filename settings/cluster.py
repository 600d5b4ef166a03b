"""Cluster profile: many workers share one crawl through Redis (REDIS_URL).

Applied on top of the embedded profile by the backlinks spider when REDIS_URL
is set (environment or `-s REDIS_URL=...`). Every LINKWATCH_* default of the
frontier lives in settings/base.py; this module only switches components.
"""

# scrapy-redis' scheduler, subclassed: leases, per-host queues, Bloom seen-set.
SCHEDULER = "crawler.frontier.scheduler.FrontierScheduler"
# scrapy-redis would otherwise pickle requests; ours are JSON.
SCHEDULER_SERIALIZER = "crawler.frontier.serializer"
SCHEDULER_PERSIST = True

# Components added to the embedded profile's (by the spider's update_settings,
# since a dict setting here would replace the embedded one wholesale):
CLUSTER_DOWNLOADER_MIDDLEWARES = {
    # Outermost: sees the final outcome of a download, after retries.
    "crawler.frontier.leases.LeaseDownloaderMiddleware": 1,
}
CLUSTER_SPIDER_MIDDLEWARES = {
    "crawler.frontier.leases.LeaseSpiderMiddleware": 1,
}
CLUSTER_EXTENSIONS = {
    # This worker's heartbeat and stored counts, for `linkwatch status`.
    "crawler.frontier.heartbeat.Heartbeat": 500,
    # Due pages back into the frontier every LINKWATCH_RECRAWL_INTERVAL, by one worker.
    "crawler.frontier.recrawl.RecrawlMover": 510,
}
