"""The fixture web, and the ground truth a correct crawl of it stores.

Pure: no I/O, no clock. ``build_web(version, pages, seed)`` returns a
:class:`FixtureWeb` whose content is fully determined by its three arguments.

The truth is an independent oracle for docs/edge-semantics.md: every expected
edge is written next to the HTML that produces it (sites.py for the
hand-written sites, ``_bulk_page`` here for the generated ones), its canonical
target URL spelled out, never computed with crawler/urls.py. The pages a crawl
fetches follow from the declared internal links by a breadth-first walk to
depth MAX_DEPTH.

Sitemaps: a crawl reads each seed host's sitemaps (sites.py: SITEMAPS) and
fetches the pages they list inside the seed's registered domain at depth 1;
``build_web(sitemaps=False)`` gives the truth of a crawl that does not (the
web serves them either way).

Validators: a 200 HTML response carries a strong ``ETag`` (a digest of its
body) and a ``Last-Modified``: a fixed date per URL, the same in both versions
unless the body differs between them, then a later one in version 2.

Seeds: the hand-written sites (sites.py, profiles.py) and three bulk sites
(news.zeta.test, eta.test, www.theta.test) whose size ``pages`` scales; bulk
pages are rendered on demand, so a 20,000-page web stays small in memory.
Watched: mysite.test, competitor.test, xn--bcher-kva.test (bücher.test),
alice.pages.test (a deeper-host entry), gamma.test (also a seed domain) and
mysite.test's competitors acme.test, globex.test, initech.test.

Hosts of watched and unwatched non-seed domains are traps: the server answers
any path there with a page of links, so a crawler that wrongly fetches one
produces wrong edges as well as access-log entries.

Over 400 lines: the bulk sites' page template and the breadth-first walk that
derives the truth belong together, so a change to one is checked against the other.
"""

from __future__ import annotations

import math
import random
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache

from .model import (
    MAX_DEPTH,
    TRAP_DOMAINS,
    V2_MODIFIED,
    WATCH,
    Link,
    Page,
    Response,
    Sitemap,
    etag,
    first_modified,
    html_doc,
    http_date,
    netloc,
    registered_domain,
    request_target,
    seed_url,
)
from .sites import CORE_SEEDS, ROBOTS, SITEMAPS, build_core

CORE_PAGES = 95  # roughly how many pages the hand-written sites contribute
BULK_SITES = (
    ("news.zeta.test", "http://news.zeta.test/", "Zeta News"),
    ("eta.test", "eta.test", "Eta Forum"),
    ("www.theta.test", "http://www.theta.test/", "Theta Wiki"),
)
_WORD_LIST = (
    "amber anchor beacon bridge canyon cedar comet copper delta ember falcon garden harbor "
    "island juniper lantern maple meadow nectar orbit pebble quartz river saffron signal "
    "summit thistle velvet willow zephyr"
)
WORDS = _WORD_LIST.split()
# Filler text is a slice of one fixed word sequence: cheap to render.
_FILLER = random.Random(0).choices(WORDS, k=1000)

# --------------------------------------------------------------------------- bulk


@dataclass(frozen=True, slots=True)
class _BulkSite:
    host: str
    name: str
    n: int  # pages, including the home page
    branching: int

    def url(self, i: int) -> str:
        return f"http://{self.host}/" if i == 0 else f"http://{self.host}/p/{i}.html"

    def children(self, i: int) -> range:
        b = self.branching
        return range(b * i + 1, min(b * i + b + 1, self.n))


def _bulk_sites(pages: int) -> tuple[_BulkSite, ...]:
    n = max(8, math.ceil((pages - CORE_PAGES) / len(BULK_SITES)))
    b = 2
    while 1 + b + b * b + b * b * b < n:  # depth <= MAX_DEPTH for every page
        b += 1
    return tuple(_BulkSite(host, name, n, b) for host, _, name in BULK_SITES)


_BULK_KINDS = (
    "plain",
    "plain",
    "www-utm",
    "nofollow",
    "NoFollow",
    "sponsored",
    "https",
    "image",
    "proto",
    "idn",
    "external",
    "external",
)


def _bulk_page(  # noqa: C901 (a page template: one branch per kind of link a bulk page has)
    site: _BulkSite, i: int, version: int, seed: int
) -> Page:
    url = site.url(i)
    tag = site.host.split(".")[-2]
    rng = random.Random(f"fixtureweb:{seed}:{site.host}:{i}")
    # [href, target, text, rel attribute tokens, alt, is_edge]
    specs: list[list] = []
    for j in range(rng.choice((0, 1, 1, 2, 2, 3))):
        kind = rng.choice(_BULK_KINDS)
        slug = f"{rng.choice(WORDS)}/{tag}-{i}-{j}"
        text = " ".join(rng.sample(WORDS, 3))
        rel: list[str] = []
        alt = ""
        edge = True
        if kind == "www-utm":
            href = f"http://www.mysite.test/{slug}?utm_source=fixture&amp;ref_id={i}"
            target = f"http://www.mysite.test/{slug}?ref_id={i}"
        elif kind in ("nofollow", "NoFollow"):
            href = target = f"http://competitor.test/{slug}"
            rel = [kind]
        elif kind == "sponsored":
            href = target = f"http://mysite.test/{slug}"
            rel = ["sponsored", "noopener"]
        elif kind == "https":
            href = target = f"https://competitor.test/{slug}"
        elif kind == "image":
            href = target = f"http://mysite.test/{slug}"
            alt = " ".join(rng.sample(WORDS, 2))
            text = ""
        elif kind == "proto":
            href, target = f"//mysite.test/{slug}", f"http://mysite.test/{slug}"
        elif kind == "idn":
            href, target = f"http://bücher.test/{slug}", f"http://xn--bcher-kva.test/{slug}"
        elif kind == "external":
            href = target = f"http://other.test/{slug}"
            edge = False
        else:
            href = target = f"http://mysite.test/{slug}"
        specs.append([href, target, text, rel, alt, edge])
    start = rng.randrange(len(_FILLER) - 200)
    filler = " ".join(_FILLER[start : start + rng.randint(80, 200)])
    children = site.children(i)

    if version >= 2:
        r = random.Random(f"fixtureweb-v2:{seed}:{site.host}:{i}").random()
        edges = [s for s in specs if s[5]]
        if i and not children and r < 0.03:  # page_gone
            return _error_page(url, 410, "Gone")
        if i and not children and r < 0.05:  # redirected, to a watched domain
            target = f"http://mysite.test/moved/{tag}/{i}"
            return Page(
                url,
                status=301,
                headers=(("Location", target),),
                body=b"",
                links=[Link(target, link_type="redirect")],
            )
        if i and not children and r < 0.06:  # redirected, internally (to the parent)
            parent = site.url((i - 1) // site.branching)
            return Page(
                url, status=302, headers=(("Location", parent),), body=b"", follows=[parent]
            )
        if 0.06 <= r < 0.12 and edges:  # link_removed
            specs.remove(edges[0])
        elif 0.12 <= r < 0.18 and edges and "nofollow" not in {t.lower() for t in edges[0][3]}:
            edges[0][3] = [*edges[0][3], "nofollow"]  # became_nofollow
        elif 0.18 <= r < 0.24:  # a new edge
            t = f"http://competitor.test/new/{tag}/{i}"
            specs.append([t, t, "new in v2", [], "", True])

    title = f"{site.name} page {i}"
    body = [f"<h1>{title}</h1>"]
    page = Page(url, title)
    if i:
        body.append('<nav><a href="/">Home</a></nav>')
        page.follows.append(site.url(0))
    else:
        body.append('<nav><a href="/hidden/index.html">hidden</a></nav>')
        page.follows.append(f"http://{site.host}/hidden/index.html")
    body.append("<ul>")
    for c in children:
        href = f"p/{c}.html" if i == 0 else f"/p/{c}.html"
        body.append(f'<li><a href="{href}">Page {c}</a></li>')
        page.follows.append(site.url(c))
    body.append("</ul>")
    body.append(f"<p>{filler}</p>")
    for href, target, text, rel, alt, edge in specs:
        rel_attr = f' rel="{" ".join(rel)}"' if rel else ""
        inner = f'<img src="/img/{i}.png" alt="{alt}">' if alt else text
        body.append(f'<p><a href="{href}"{rel_attr}>{inner}</a></p>')
        if edge:
            tokens = tuple(dict.fromkeys(t.lower() for t in rel))
            page.links.append(Link(target, text, alt=alt, rel=tokens, raw=href))
        else:
            page.external.append(target)
    page.body = html_doc(title, [], body).encode()
    return page


def _error_page(url: str, status: int, title: str) -> Page:
    return Page(url, title, status=status, body=html_doc(title, [], [f"<p>{title}</p>"]).encode())


def _bulk_hidden(host: str) -> Page:
    url = f"http://{host}/hidden/index.html"
    target = f"http://mysite.test/hidden/{host}"
    body = html_doc("Hidden", [], [f'<a href="{target}">hidden</a>']).encode()
    return Page(url, "Hidden", body=body, links=[Link(target, "hidden")], disallowed=True)


def _trap(url: str) -> Page:
    """What any path on a non-seed host serves: links a wrong crawl would store."""
    body = html_doc(
        "Not a seed",
        [],
        [
            '<a href="http://competitor.test/trap">trap</a>',
            '<a href="http://mysite.test/trap">trap</a>',
            '<a href="/trap/next.html">next</a>',
        ],
    ).encode()
    return Page(url, "Not a seed", body=body)


# --------------------------------------------------------------------------- the web

_SITEMAP_LINE = re.compile(r"(?im)^[ \t]*sitemap[ \t]*:[ \t]*(\S+)")


def _is_parsed(page: Page) -> bool:
    """Whether a crawl parses the page's HTML (not a redirect, not another type)."""
    return page.status // 100 != 3 and "html" in page.content_type.lower()


def _edge(page: Page, link: Link) -> dict:
    redirect = link.link_type == "redirect"
    return {
        "source_url": page.url,
        "target_url": link.target,
        "source_domain": registered_domain(page.netloc),
        "target_domain": registered_domain(netloc(link.target)),
        "anchor": link.anchor,
        "alt": link.alt,
        "rel": list(link.rel),
        "nofollow": (not redirect) and (page.nofollow or "nofollow" in link.rel),
        "link_type": link.link_type,
        "source_title": page.title,
        "source_status": page.status,
    }


class Responses:
    """``(host, path)`` → :class:`Response`, rendered on demand.

    ``host`` is the netloc as routed (lower-case, ``:80`` dropped, other ports
    kept: ``shop.alpha.test:8080``); ``path`` is the request-target's path and
    query, canonical form. A URL string works as the key too.
    """

    def __init__(self, web: FixtureWeb) -> None:
        self._web = web

    def get(self, host: str, path: str = "/", default: Response | None = None) -> Response | None:
        web = self._web
        if path == "/robots.txt":
            text = web.robots_txt(host)
            if text is not None:
                return Response(
                    200, (("Content-Type", "text/plain; charset=utf-8"),), text.encode()
                )
            if not web.knows(host):
                return default
            return web.render(_error_page(f"http://{host}/robots.txt", 404, "404 Not Found"))
        page = web.page_at(host, path)
        if page is None:
            return default
        return web.render(page)

    def __getitem__(self, key: tuple[str, str] | str) -> Response:
        host, path = key if isinstance(key, tuple) else (netloc(key), request_target(key))
        resp = self.get(host, path)
        if resp is None:
            raise KeyError(key)
        return resp

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except (KeyError, TypeError, IndexError):
            return False
        return True


class FixtureWeb:
    """A deterministic web of many sites and the truth a correct crawl of it stores.

    ``seeds``/``watch`` configure the crawl; ``responses`` answers requests;
    ``truth_edges``, ``truth_pages``, ``never_fetch`` and ``sitemap_fetches``
    are the oracle (computed on first use: the server never needs them), of a
    crawl that reads the seed hosts' sitemaps unless ``sitemaps`` is false.
    """

    def __init__(
        self, version: int = 1, pages: int = 150, seed: int = 0, sitemaps: bool = True
    ) -> None:
        if version not in (1, 2):
            raise ValueError(f"unknown fixture web version {version}")
        self.version = version
        self.pages = pages
        self.seed = seed
        self.sitemaps = sitemaps
        self.sitemap_files: dict[str, Sitemap] = SITEMAPS
        self._core = build_core(version)
        self._bulk = {s.host: s for s in _bulk_sites(pages)}
        self.seeds: list[str] = [*CORE_SEEDS, *(seed_ for _, seed_, _ in BULK_SITES)]
        self.watch: list[str] = list(WATCH)
        self.seed_domains = frozenset(registered_domain(netloc(seed_url(s))) for s in self.seeds)
        self._hosts = frozenset(
            {p.netloc for p in self._core.values()} | set(self._bulk) | set(ROBOTS)
        )
        self.responses = Responses(self)
        self._bulk_cached = lru_cache(maxsize=4096)(self._bulk_lookup)

    # -- lookup -----------------------------------------------------------------

    def robots_txt(self, host: str) -> str | None:
        if host in self._bulk:
            return "User-agent: *\nDisallow: /hidden/\n"
        return ROBOTS.get(host)

    def _bulk_lookup(self, host: str, path: str) -> Page | None:
        site = self._bulk[host]
        if path == "/":
            i = 0
        elif path == "/hidden/index.html":
            return _bulk_hidden(host)
        elif path.startswith("/p/") and path.endswith(".html") and path[3:-5].isdigit():
            i = int(path[3:-5])
            if not 0 < i < site.n or path[3] == "0":
                return None
        else:
            return None
        return _bulk_page(site, i, self.version, self.seed)

    def page_at(self, host: str, path: str) -> Page | None:
        """The page served for a routed host and canonical path, or None for
        an unknown host. Known hosts answer unknown paths with a 404 page."""
        url = f"http://{host}{path}"
        page = self._core.get(url)
        if page is not None:
            return page
        if (sitemap := self.sitemap_files.get(url)) is not None:
            return sitemap.page()
        if host in self._bulk:
            page = self._bulk_cached(host, path)
        if page is not None:
            return page
        if host in self._hosts:
            return _error_page(url, 404, "404 Not Found")
        if self.knows(host):
            return _trap(url)
        return None

    def page(self, url: str) -> Page | None:
        """The page at a canonical URL (scheme ignored: the proxy routes on host)."""
        return self.page_at(netloc(url), request_target(url))

    def knows(self, host: str) -> bool:
        """Whether the host is part of the web (a seed host or a trap host)."""
        if host in self._hosts:
            return True
        name = host.split(":", 1)[0]
        return name.endswith((".test", ".testing")) and registered_domain(name) in TRAP_DOMAINS

    def render(self, page: Page) -> Response:
        headers = [("Content-Type", page.content_type), *page.headers]
        if page.status == 200 and "html" in page.content_type.lower():
            headers.append(("ETag", etag(page.body)))
            headers.append(("Last-Modified", http_date(self.last_modified(page))))
        return Response(page.status, tuple(headers), page.body)

    def last_modified(self, page: Page) -> datetime:
        """When the page last changed: the same in both versions unless its body
        (or status) differs between them."""
        if self.version >= 2:
            before = self._version1.page(page.url)
            if before is None or (before.status, before.body) != (page.status, page.body):
                return V2_MODIFIED
        return first_modified(page.url)

    @cached_property
    def _version1(self) -> FixtureWeb:
        return FixtureWeb(1, self.pages, self.seed, self.sitemaps)

    def is_seed_domain(self, url: str) -> bool:
        return registered_domain(netloc(url)) in self.seed_domains

    # -- truth ------------------------------------------------------------------

    @cached_property
    def _truth(self) -> tuple[dict[str, int], list[dict], list[str], list[str]]:
        """One breadth-first walk over the declared follows (and, for a seed
        page, what its host's sitemaps list): the depth of every page a crawl
        fetches, their edges, the URLs it must never fetch, and the sitemap
        files it reads."""
        depth: dict[str, int] = {}
        edges: list[dict] = []
        never: dict[str, None] = {}  # internal: disallowed or too deep
        outside: dict[str, None] = {}  # non-seed URLs linked from fetched pages
        sitemap_hosts: set[str] = set()
        fetched_sitemaps: dict[str, None] = {}
        queue: deque[str] = deque()
        for s in self.seeds:
            url = seed_url(s)
            depth[url] = 0
            queue.append(url)
        while queue:
            url = queue.popleft()
            page = self.page(url)
            assert page is not None, url
            if page.disallowed:
                del depth[url]
                never[url] = None
                continue
            edges.extend(_edge(page, link) for link in page.links)
            for target in [*(link.target for link in page.links), *page.external]:
                if not self.is_seed_domain(target):
                    outside[target] = None
            follows = page.follows
            # A seed page: the crawl reads its host's sitemaps, once.
            seed_page = depth[url] == 0 and _is_parsed(page)
            if self.sitemaps and seed_page and page.netloc not in sitemap_hosts:
                sitemap_hosts.add(page.netloc)
                files, listed, elsewhere = self.read_sitemaps(page.netloc)
                fetched_sitemaps.update(dict.fromkeys(files))
                outside.update(dict.fromkeys(elsewhere))
                follows = [*follows, *listed]
            for t in follows:
                if t in depth or t in never:
                    continue
                if depth[url] >= MAX_DEPTH:
                    never[t] = None
                else:
                    depth[t] = depth[url] + 1
                    queue.append(t)
        # BFS: every page reachable within MAX_DEPTH got its depth before any
        # page at MAX_DEPTH was walked, so "too deep" candidates stay too deep.
        assert not never.keys() & depth.keys()
        unread = self._unread_sitemaps(fetched_sitemaps, depth)
        return depth, edges, list(dict.fromkeys([*never, *outside, *unread])), [*fetched_sitemaps]

    def read_sitemaps(self, host: str) -> tuple[list[str], list[str], list[str]]:
        """What a crawl reads of a seed host's sitemaps: the files it fetches
        (robots.txt's Sitemap: lines, else /sitemap.xml, then the files an
        index lists: one level), the URLs they list inside the host's
        registered domain, and the URLs (pages or files) they list elsewhere."""
        domain = registered_domain(host)
        named = _SITEMAP_LINE.findall(self.robots_txt(host) or "")
        todo = [(url, 0) for url in named or [f"http://{host}/sitemap.xml"]]
        files: list[str] = []
        listed: list[str] = []
        elsewhere: list[str] = []
        for url, level in todo:  # grows while it is walked
            if registered_domain(netloc(url)) != domain:
                elsewhere.append(url)
                continue
            if url in files:
                continue
            files.append(url)
            sitemap = self.sitemap_files.get(url)
            if sitemap is None:  # a 404
                continue
            if sitemap.index:
                if level == 0:  # an index listed in an index is not read
                    todo.extend((entry.target, 1) for entry in sitemap.entries)
                continue
            for entry in sitemap.entries:
                same = registered_domain(netloc(entry.target)) == domain
                (listed if same else elsewhere).append(entry.target)
        return files, listed, elsewhere

    def _unread_sitemaps(self, fetched: dict[str, None], depth: dict[str, int]) -> list[str]:
        """The sitemap files a crawl does not fetch, and what they list that it
        does not fetch either."""
        out: dict[str, None] = {}
        for url, sitemap in self.sitemap_files.items():
            if url in fetched:
                continue
            out[url] = None
            out.update(dict.fromkeys(e.target for e in sitemap.entries if e.target not in depth))
        return [url for url in out if url not in fetched]

    @property
    def depths(self) -> dict[str, int]:
        """Canonical URL → crawl depth of every page the crawler must fetch."""
        return self._truth[0]

    @property
    def truth_pages(self) -> list[str]:
        """Canonical URLs the crawler must fetch (robots.txt and sitemaps
        excluded), BFS order."""
        return list(self._truth[0])

    @property
    def truth_edges(self) -> list[dict]:
        """Every edge a correct crawl stores (the fields of crawler/items.py's
        Edge, minus target_host, first_seen and last_seen)."""
        return self._truth[1]

    @property
    def never_fetch(self) -> list[str]:
        """URLs that must never be fetched: robots-disallowed pages, pages beyond
        the max depth, every non-seed URL linked from a fetched page, and the
        sitemap files a crawl does not read (all, with sitemaps off), with what
        only they list."""
        return self._truth[2]

    @property
    def sitemap_fetches(self) -> list[str]:
        """The sitemap files a crawl fetches, each once (404s included): none
        with sitemaps off."""
        return self._truth[3]

    def truth(self) -> dict:
        """Everything a test or a shell script needs, JSON-ready."""
        return {
            "params": {
                "version": self.version,
                "pages": self.pages,
                "seed": self.seed,
                "sitemaps": self.sitemaps,
            },
            "seeds": self.seeds,
            "watch": self.watch,
            "max_depth": MAX_DEPTH,
            "edges": self.truth_edges,
            "pages": self.truth_pages,
            "never_fetch": self.never_fetch,
            "sitemaps": self.sitemap_fetches,
        }


def build_web(
    version: int = 1, pages: int = 150, seed: int = 0, sitemaps: bool = True
) -> FixtureWeb:
    """The fixture web; ``pages`` is roughly how many pages a correct crawl fetches;
    ``sitemaps``: whether that crawl reads the seed hosts' sitemaps (the default)."""
    return FixtureWeb(version=version, pages=pages, seed=seed, sitemaps=sitemaps)


LOST_REASONS = ("link_removed", "page_gone", "became_nofollow", "redirected")


def truth_changes(v1: FixtureWeb, v2: FixtureWeb) -> list[dict]:
    """The state of every ``v1`` edge after a recrawl of ``v2``, then v2's new edges.

    Each record: source_url, target_url, state (``live``, ``lost`` or ``new``),
    lost_reason (one of LOST_REASONS when lost, else None). An edge present in
    both is live, unless it was followed in v1 and is nofollow in v2
    (``became_nofollow``; it is still in v2's truth_edges, with nofollow true).
    An edge gone from v2 is lost: ``redirected`` if its source page now answers
    3xx, ``page_gone`` if 4xx/5xx, else ``link_removed``.
    """
    new = {(e["source_url"], e["target_url"]): e for e in v2.truth_edges}
    out: list[dict] = []
    for e in v1.truth_edges:
        key = (e["source_url"], e["target_url"])
        after = new.pop(key, None)
        reason = None
        if after is not None:
            if after["nofollow"] and not e["nofollow"]:
                reason = "became_nofollow"
        else:
            page = v2.page(e["source_url"])
            status = page.status if page is not None else 404
            if 300 <= status < 400 and not 300 <= e["source_status"] < 400:
                reason = "redirected"
            elif status >= 400:
                reason = "page_gone"
            else:
                reason = "link_removed"
        state = "live" if reason is None else "lost"
        out.append(
            {"source_url": key[0], "target_url": key[1], "state": state, "lost_reason": reason}
        )
    for key in new:
        out.append(
            {"source_url": key[0], "target_url": key[1], "state": "new", "lost_reason": None}
        )
    return out
