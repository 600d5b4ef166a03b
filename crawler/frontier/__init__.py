"""The Redis frontier: many workers share one crawl (REDIS_URL, settings/cluster.py).

Built on scrapy-redis' extension points (scheduler, queue, dupefilter,
serializer), with three changes its users ask for:

    keys.py        every Redis key of a crawl, under one prefix
    serializer.py  requests as JSON (orjson), never pickle
    bloom.py       a scalable Bloom filter in plain Redis (Lua): the seen-set
    queue.py       per-host queues, leases and their Lua scripts
    scheduler.py   the Scrapy scheduler: pushes new links, serves leased ones
    leases.py      middlewares that free a host after its download and
                   acknowledge a lease once the page's items are stored
    seeding.py     seeds and the watch list, as `linkwatch` and workers see them

A request taken from Redis is leased, not destroyed: a worker that dies
(SIGKILL, power loss) leaves leases that expire and go back to their queue.
One host is leased to one worker at a time (LINKWATCH_HOST_CONCURRENCY), so
politeness holds for the whole cluster.
"""
