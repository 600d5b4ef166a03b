"""A deterministic local web of many sites, the ground truth of a correct crawl
of it, and an HTTP server that serves it as a proxy.

    from crawler.testing.fixtureweb import FixtureServer, build_web

    web = build_web(version=1, pages=150, seed=0)
    with FixtureServer(web, access_log=None, delay=0.0) as server:
        env = server.proxy_env()  # http_proxy and https_proxy; crawl web.seeds, watch web.watch
        ...
        server.access_log_entries()
    web.truth_edges, web.truth_pages, web.never_fetch

Set https_proxy as well as http_proxy (and no no_proxy): then a wrong https
fetch is a CONNECT in the access log (answered 405), never a DNS lookup.

The truth assumes a crawl that reads the seed hosts' sitemaps (the default):
``build_web(sitemaps=False)`` gives the truth of one that does not, and
``web.sitemap_fetches`` the sitemap files a crawl fetches. The server sends
ETag and Last-Modified and answers 304 to a conditional GET
(``FixtureServer(validators=False)``: neither).

Modules: model.py (pages, expected edges), sites.py (the hand-written sites and
their tricky cases), generator.py (bulk pages, FixtureWeb, the truth),
server.py (the proxy server), __main__.py (the CLI: ``python -m crawler.testing.fixtureweb
serve|truth|seeds|watch``).
"""

from .generator import (
    LOST_REASONS,
    MAX_DEPTH,
    WATCH,
    FixtureWeb,
    Link,
    Page,
    Response,
    build_web,
    truth_changes,
)
from .server import FixtureServer, canonical_target, max_concurrency, read_access_log, route

__all__ = [
    "LOST_REASONS",
    "MAX_DEPTH",
    "WATCH",
    "FixtureServer",
    "FixtureWeb",
    "Link",
    "Page",
    "Response",
    "build_web",
    "canonical_target",
    "max_concurrency",
    "read_access_log",
    "route",
    "truth_changes",
]
