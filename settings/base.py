"""Base profile: every linkwatch setting with its default, and the Scrapy settings
every crawl shares.

The embedded profile (settings/embedded.py) and the cluster profile
(settings/cluster.py) build on this one. Environment variables named here are
read once, at import; `-s NAME=VALUE` on the command line overrides any of them.
"""

import os
from importlib import metadata as _metadata  # lower-case: not a setting

try:
    _VERSION = _metadata.version("linkwatch")
except _metadata.PackageNotFoundError:  # run from a checkout that was never installed
    _VERSION = "0"

BOT_NAME = "linkwatch"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Our `crawl` command validates spider arguments before the engine starts, so a
# user mistake is a one-line error (exit 2) rather than a traceback.
COMMANDS_MODULE = "crawler.commands"

# --- Where edges go --------------------------------------------------------
# The store, by URI; its scheme chooses the implementation (pipelines/stores/uri.py):
# sqlite:///relative.db, sqlite:////absolute.db, mongodb://..., mongodb+srv://...
# Unset: MONGO_URI if set, else the SQLite file LINKWATCH_DB.
LINKWATCH_STORE = os.environ.get("LINKWATCH_STORE", "")
# Alias: the SQLite file of the embedded store (used when neither
# LINKWATCH_STORE nor MONGO_URI is set).
LINKWATCH_DB = os.environ.get("LINKWATCH_DB", "linkwatch.db")
# Alias: a MongoDB URI, used when LINKWATCH_STORE is not set.
MONGO_URI = os.environ.get("MONGO_URI", "")
# Database name inside a MongoDB store.
MONGO_DATABASE = os.environ.get("MONGO_DATABASE", "linkwatch")
# Seconds between recounts of the MongoDB domains/domain_links counters during a
# crawl (and one when it ends); 0: after every batch (costly on a large graph).
LINKWATCH_MONGO_RECOUNT_INTERVAL = 30.0
# Redis of a shared crawl; when set, the crawl runs on the cluster profile.
REDIS_URL = os.environ.get("REDIS_URL", "")

# --- The crawl --------------------------------------------------------------
# Link hops from a seed page that are still fetched (spider argument `depth`).
LINKWATCH_DEPTH = 3
# Pages fetched per seed registered domain (spider argument `max_pages_per_domain`).
LINKWATCH_MAX_PAGES_PER_DOMAIN = 10_000
# Query parameters removed from every URL (click and campaign trackers); a
# trailing * matches a prefix. crawler/urls.py's DEFAULT_STRIP_PARAMS is the same
# list, for callers outside a crawl (a test keeps the two equal).
LINKWATCH_STRIP_PARAMS = [
    "utm_*", "gclid", "dclid", "gbraid", "wbraid", "fbclid", "msclkid", "yclid",
    "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi",
]  # fmt: skip
# URLs longer than this (in canonical form) are neither followed nor stored.
LINKWATCH_MAX_URL_LENGTH = 2048
# Links are not followed when one path segment occurs more often than this in
# their URL (/a/a/a/a/: a spider trap, crawler/traps.py); 0: no limit.
LINKWATCH_MAX_PATH_REPEATS = 3
# ... nor when their path has more segments than this; 0: no limit.
LINKWATCH_MAX_PATH_SEGMENTS = 32
# Contact URL put in the user agent, so site owners can reach the operator.
LINKWATCH_CONTACT_URL = "https://github.com/linkwatch/linkwatch"

# The query commands also read LINKWATCH_WHITELIST, LINKWATCH_SPAM_TLDS and
# LINKWATCH_COMMERCIAL_TERMS from the environment (toxic, disavow, report; see the
# README's Settings): they judge a stored profile and are not crawl settings.

# --- Discovery --------------------------------------------------------------
# Hops of expansion to new sites from the seeds' (spider argument `expand`; 0: none).
LINKWATCH_EXPAND = 0
# New sites expanded into, in all (spider argument `max_domains`).
LINKWATCH_EXPAND_MAX_DOMAINS = 1_000
# Link hops from an expanded site's entry pages that are fetched (`expand_depth`).
LINKWATCH_EXPAND_DEPTH = 1
# Pages fetched per expanded site (`expand_pages`; per worker in a shared crawl).
LINKWATCH_EXPAND_PAGES = 50
# The order of expansion: focused (best score first) or bfs (`strategy`).
LINKWATCH_EXPAND_STRATEGY = "focused"
# Expanded sites crawled at once (in a shared crawl: over all workers).
LINKWATCH_EXPAND_ACTIVE = 16
# In a shared crawl, seconds without a page of an expanded site after which it counts as done.
LINKWATCH_EXPAND_IDLE = 5.0
# Weights of the focused score that differ from crawler/discovery.py's (JSON or dict).
LINKWATCH_EXPAND_WEIGHTS: dict[str, float] = {}
# Placement token lists that replace crawler/placement.py's (placement -> tokens; JSON or dict).
LINKWATCH_PLACEMENT_RULES: dict[str, list[str]] = {}
# Detect the language of a page that declares none (crawler/language.py; needs pycld2,
# the `lang` extra): off, it costs ~8% of extraction on such a page.
LINKWATCH_DETECT_LANG = False
# Never expanded into (nor any domain under them): platforms every site links to,
# too big to crawl and never a niche, and sites that forbid crawlers.
LINKWATCH_EXPAND_DENY = [
    "facebook.com", "instagram.com", "twitter.com", "x.com", "t.co", "linkedin.com",
    "youtube.com", "youtu.be", "tiktok.com", "pinterest.com", "reddit.com", "threads.net",
    "whatsapp.com", "t.me", "google.com", "apple.com", "microsoft.com", "amazon.com",
    "wikipedia.org", "wikimedia.org", "archive.org", "bit.ly", "doubleclick.net",
]  # fmt: skip

# --- A shared crawl (cluster profile, REDIS_URL) ------------------------------------
# Prefix of every Redis key of a crawl; %(spider)s is the spider's name.
LINKWATCH_REDIS_PREFIX = os.environ.get("LINKWATCH_REDIS_PREFIX", "linkwatch:%(spider)s")
# Requests of one host downloading at once, across all workers.
LINKWATCH_HOST_CONCURRENCY = 1
# Seconds between the end of one download from a host and the next, cluster-wide.
LINKWATCH_HOST_DELAY = 0.0
# A leased request not acknowledged within this many seconds goes back to its
# queue (its worker is presumed dead); live workers extend their leases.
LINKWATCH_LEASE_SECONDS = 120.0
# Leases of one request that may expire before it is put on the dead list.
LINKWATCH_MAX_ATTEMPTS = 5
# URLs the seen-set is sized for at first; it grows (scalable Bloom filter).
LINKWATCH_BLOOM_CAPACITY = 1_000_000
# Chance that a new URL is wrongly taken as seen (and not crawled).
LINKWATCH_BLOOM_ERROR_RATE = 1e-6
# Seconds of an empty frontier after which a worker exits; 0: wait for more seeds.
LINKWATCH_CLOSE_WHEN_IDLE = 0.0
# Longest wait between two polls of an empty frontier (backoff from 20 ms).
LINKWATCH_IDLE_POLL_MAX = 2.0
# Seconds between a worker's maintenance rounds: heartbeat, lease upkeep, seeds.
LINKWATCH_FRONTIER_INTERVAL = 1.0

# Seconds between crawl progress lines on stderr (pages, edges, pages/s), shown
# whatever LOG_LEVEL says; 0: none (Scrapy's LogStats still logs every minute).
LINKWATCH_PROGRESS_INTERVAL = 0.0
EXTENSIONS = {
    "crawler.extensions.progress.CrawlProgress": 500,
}

# --- The store pipeline -----------------------------------------------------
# Pages per write batch.
LINKWATCH_STORE_BATCH_SIZE = 500
# Seconds before a partly filled batch is written anyway.
LINKWATCH_STORE_FLUSH_INTERVAL = 1.0
# Pages buffered ahead of the writer before the crawl waits for it (back-pressure).
LINKWATCH_STORE_MAX_BUFFER = 5_000

# One stage: page items are already canonical (the spider normalizes every URL
# with crawler/urls.py) and carry one edge per target (extraction keeps the first
# link to each), so the store pipeline is the only one. A new source of items
# must keep those two promises, or add its own stage in front of the store.
ITEM_PIPELINES = {
    "pipelines.store.StorePipeline": 300,
}

# --- Freshness: resume, recrawl schedule, conditional GET, sitemaps ----------
# An embedded crawl keeps its queue and seen-set in a SQLite file beside the
# store (crawler/frontier/journal.py), so the same command resumes it after a
# crash; False: no journal (a crawl that stops starts over).
LINKWATCH_RESUME = True
# The journal file; empty: beside the SQLite store (linkwatch.db ->
# linkwatch.frontier.db), or ~/.local/state/linkwatch/frontier.db with MongoDB.
LINKWATCH_FRONTIER_FILE = os.environ.get("LINKWATCH_FRONTIER_FILE", "")
# A linking page's recrawl interval, in seconds, stays within these bounds
# (Nutch's AdaptiveFetchSchedule: crawler/schedule.py) ...
LINKWATCH_RECRAWL_MIN = 24 * 3600
LINKWATCH_RECRAWL_MAX = 30 * 24 * 3600
# ... starts here ...
LINKWATCH_RECRAWL_INITIAL = 7 * 24 * 3600
# ... shrinks by this share when a recrawl finds the page's links changed ...
LINKWATCH_RECRAWL_DEC_RATE = 0.2
# ... and grows by this share when they did not (Nutch's defaults).
LINKWATCH_RECRAWL_INC_RATE = 0.4
# Seconds between two moves of due pages into a shared crawl's frontier (one
# worker does it, under a lock); 0: never (then `linkwatch recrawl` does it).
LINKWATCH_RECRAWL_INTERVAL = 3600.0
# Due pages moved at most per round.
LINKWATCH_RECRAWL_BATCH = 10_000
# A recrawl of known pages sends If-None-Match / If-Modified-Since from the
# stored ETag and Last-Modified; a 304 confirms the page's edges unparsed.
LINKWATCH_CONDITIONAL_GET = True
# Seed hosts' sitemaps (robots.txt Sitemap: lines, else /sitemap.xml) feed the
# crawl at depth 1 (-a sitemaps=false turns it off for a crawl).
LINKWATCH_SITEMAPS = True
# The sitemaps protocol's caps: bytes of one (uncompressed) file, URLs in one file.
LINKWATCH_SITEMAP_MAX_SIZE = 50 * 1024 * 1024
LINKWATCH_SITEMAP_MAX_URLS = 50_000
# A sitemap URL whose lastmod is at most this many days old is fetched first.
LINKWATCH_SITEMAP_RECENT_DAYS = 30

# --- Politeness ---------------------------------------------------------------
USER_AGENT = f"linkwatch/{_VERSION} (+{LINKWATCH_CONTACT_URL})"
ROBOTSTXT_OBEY = True
# What one politeness limit covers: "host" (each host name), "domain" (a registered
# domain with all its hosts) or "ip" (every host served from one address; in a shared
# crawl the per-IP limit holds per worker, the per-host one cluster-wide).
LINKWATCH_POLITENESS_KEY = "host"
# A host whose robots.txt asks for a longer Crawl-delay (seconds) is skipped, as
# Nutch and StormCrawler do (fetcher.max.crawl.delay); shorter ones are honoured.
LINKWATCH_MAX_CRAWL_DELAY = 30.0
# A robots.txt answering 5xx or 429 defers its host: asked again this many times...
LINKWATCH_ROBOTS_RETRIES = 3
# ... after this many seconds, doubling each time (or the server's Retry-After);
# still failing, the host counts as disallowed (RFC 9309).
LINKWATCH_ROBOTS_RETRY_DELAY = 30.0
# Seconds a shared crawl reuses a host's robots.txt before fetching it again.
LINKWATCH_ROBOTS_MAX_AGE = 24 * 3600.0
# Our downloader: holds the per-host limit that Scrapy 2.19's lets burst past
# without a delay, and keys and delays slots as above (crawler/downloader.py).
DOWNLOADER = "crawler.downloader.PoliteDownloader"
# AutoThrottle governs each host: a delay of (response latency / target
# concurrency), starting at 1 s, never more requests at once than the per-domain
# limit. The global limit is sized for a broad crawl: hundreds of slow hosts, each
# held to its own few requests, keep 128 downloads busy (about one core of
# parsing); a one-site crawl is bounded by its host's limits, not by this.
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 128
CONCURRENT_REQUESTS_PER_DOMAIN = 4
# A broad crawl meets dead and very slow hosts: give up on a response after 30 s
# (Scrapy: 180) and retry once (Scrapy: twice), so they do not hold slots for
# minutes. DNS lookups run in Twisted's thread pool: 20 threads, 20 s each, cached.
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 1
REACTOR_THREADPOOL_MAXSIZE = 20
DNS_TIMEOUT = 20

# --- What the spider handles itself -------------------------------------------
# Redirects and meta refreshes are links: the spider records them as edges and
# follows only those that stay inside the seed domains.
REDIRECT_ENABLED = False
METAREFRESH_ENABLED = False
# Error pages are still pages; their links count (source_status tells).
HTTPERROR_ALLOW_ALL = True
# Depth and offsite rules are the spider's (depth per seed, registered domains).
DEPTH_LIMIT = 0
DEPTH_STATS_VERBOSE = False

# --- Safety and size -----------------------------------------------------------
# Both run code sent to them over the network: off unless a user turns them on.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
# Fetch private, loopback, link-local and cloud-metadata addresses too (an
# intranet crawl, the tests' local web); off, the SSRF guard refuses them.
LINKWATCH_ALLOW_PRIVATE_NETWORKS = False
# The SSRF guard's resolver: refuses non-public DNS answers at connect time.
TWISTED_DNS_RESOLVER = "crawler.safety.PublicOnlyResolver"

# --- Components a backlink crawl does not need -----------------------------------
# Each runs on every request. The spider already keeps to the seed domains,
# counts depth and bounds URL length; nothing here needs HTTP auth or copies meta.
DOWNLOADER_MIDDLEWARES = {
    # robots.txt once per host: Crawl-delay, its cap, 5xx deferred (crawler/robots.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.robots.RobotsMiddleware": 100,
    # LINKWATCH_POLITENESS_KEY = ip: the request's slot is its host's address.
    "crawler.downloader.PolitenessKeyMiddleware": 50,
    # The SSRF guard (crawler/safety.py): after HttpProxyMiddleware (750), to know
    # which requests go through a proxy; its exceptions reach it before RetryMiddleware.
    "crawler.safety.SSRFGuardMiddleware": 760,
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.metacopy.MetaCopyDetectionMiddleware": None,
}
# Scrapy starts this many asyncio tasks for every response, however little it
# yields (a large share of the crawler's CPU at the default 100: BENCHMARKS.md). A page yields
# one item and its new links; the item is last, so 4 lets links flow past it.
CONCURRENT_ITEMS = 4
COOKIES_ENABLED = False
REFERER_ENABLED = False

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = os.environ.get("LINKWATCH_LOG_LEVEL", "INFO")
FEED_EXPORT_ENCODING = "utf-8"
