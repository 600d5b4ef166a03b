"""The crawl frontier. Mostly the Redis one, where many workers share one crawl
(REDIS_URL, settings/cluster.py); and the embedded crawl's journal, the same
lease/ack idea in a SQLite file, so an interrupted crawl resumes:

    journal.py     the journal file: a crawl's requests, queued or done (sqlite3 only)
    resumable.py   the embedded profile's scheduler over it, and the middlewares
                   that mark a page done once its items are stored

The Redis frontier:

Built on scrapy-redis' extension points (scheduler, queue, serializer, the
start_urls list), one module per concept:

    connection.py  the Redis client every part uses (timeouts), URLs masked for logs
    keys.py        every Redis key of a crawl, under one prefix
    serializer.py  requests as JSON (orjson), never pickle
    bloom.py       a scalable Bloom filter in plain Redis (Lua): the seen-set
    lua.py         the Lua scripts of the queues: each step is one call
    queue.py       per-host queues and leases (HostQueue), over those scripts
    scheduler.py   the Scrapy scheduler: wiring, maintenance, seeds taken in
    pump.py        the lease pump: leases for the engine, one round trip a turn
    outage.py      Redis calls that failed, replayed in order; outage logging
    leases.py      middlewares that free a host after its download and
                   acknowledge a lease once the page's items are stored
    heartbeat.py   the workers' heartbeat (an extension), read by `linkwatch status`
    seeding.py     seeds and the watch list, as `linkwatch` and workers see them
    recrawl.py     due pages back into the frontier, by one worker under a lock
                   (an extension), every LINKWATCH_RECRAWL_INTERVAL

A request taken from Redis is leased, not destroyed: a worker that dies
(SIGKILL, power loss) leaves leases that expire and go back to their queue.
One host is leased to one worker at a time (LINKWATCH_HOST_CONCURRENCY), so
politeness holds for the whole cluster.
"""
