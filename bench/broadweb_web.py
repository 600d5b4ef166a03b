"""The broad web: a generated web shaped like the real one, served as an HTTP proxy.

    python -m bench.broadweb_web serve [--sites 160] [--seed 7] [--port 0] [--port-file F]
                                       [--access-log L] [--out DIR]
    python -m bench.broadweb_web truth [--sites 160] [--seed 7] --out DIR
    python -m bench.broadweb_web analyze [--sites 160] [--seed 7] --access-log L [--allowed N]

Deterministic from (sites, seed). Each site NNN has two hosts, `www.siteNNN.test`
(the seed, `http://www.siteNNN.test/`) and `blog.siteNNN.test`, ~30 pages in all,
in strict layers: the www root is layer 0; the www sections and the blog root
layer 1; articles and blog posts layer 2; archive and tag pages layer 3. A page
links only to layer 0 and 1 pages of its site (navigation) and to pages one layer
down (any host of its site), so every page is first reached at its own layer,
whatever the crawl order, and a depth-3 crawl from the seed reaches all of them.
Cross-site links to other seed sites are only on layer-3 pages (a depth-3 crawl
does not follow them; the plain Scrapy baseline, which has no depth limit, does,
to pages it fetches anyway); links to `www.outsideNNN.test` (never seeds) are on
any page; ~1 page in 3 links to the watched domains mysite.test / competitor.test
(the edges). Every link is an absolute, canonical `http://` URL.

Hosts: a latency each (log-normal, median 150 ms, 20-400 ms; ~5% slow blog hosts at
1-1.6 s, with 3 pages), ±10% jitter per request. robots.txt (rules for `User-agent:
*`): most allow all, some with a group for another agent; some `Disallow:` a prefix that pages live
under (and pages only they link to become unreachable); some answer 404; ~5% of
the hosts (small blog hosts, 4 pages) ask `Crawl-delay: 0.5` or `1`; exactly one
blog host asks `Crawl-delay: 120` (above LINKWATCH_MAX_CRAWL_DELAY=30: a polite
crawler skips it entirely).

Truth (from the generator's own declarations, never from linkwatch code):
`truth_for(cap=30, depth=3)` is what a polite depth-3 crawl fetches and the
(source_url, target_url) edges it stores; `truth_for(cap=None, depth=None)` is
what plain Scrapy (robots obeyed, Crawl-delay ignored, no depth limit) fetches.

The server runs in its own process (`serve`): requests arrive in absolute form
(`GET http://host/path HTTP/1.1`) through `http_proxy`; keep-alive; one access-log
line per request (JSON: method, host, path, url, status, start, end; times are
time.monotonic(), system-wide). `analyze` / `server_figures()` compute from that
log, server side: the most concurrent requests a host saw, the smallest gap
between request starts on each Crawl-delay host, robots.txt fetches per host,
the average requests in flight while 10% to 90% of the pages were served.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import random
import signal
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

WATCH = ("mysite.test", "competitor.test")
DEFAULT_SITES = 160
DEFAULT_SEED = 7
DEPTH = 3
MAX_CRAWL_DELAY = 30.0  # linkwatch's default cap, LINKWATCH_MAX_CRAWL_DELAY
HTML = "text/html; charset=utf-8"
_TEXT = (
    "link crawl garden river stone market paper light window music story coffee "
    "travel mountain harbour engine letter winter summer forest city village "
    "bridge school library museum theatre kitchen recipe bicycle train island "
    "review guide notes update release history photo weekend archive season"
)
_WORDS = tuple(_TEXT.split())
_WATCH_TARGETS = (
    "http://mysite.test/",
    "http://mysite.test/pricing.html",
    "http://mysite.test/blog/launch.html",
    "http://mysite.test/docs/start.html",
    "http://www.mysite.test/about.html",
    "http://competitor.test/",
    "http://competitor.test/features.html",
    "http://blog.competitor.test/post-1.html",
    "http://blog.competitor.test/post-2.html",
)


@dataclass(slots=True)
class Host:
    name: str
    site: int
    latency: float  # seconds, before jitter
    robots: str | None  # None: robots.txt answers 404
    disallow: tuple[str, ...] = ()  # path prefixes forbidden to `*`
    crawl_delay: float | None = None
    kind: str = "allow all"  # how its robots.txt reads, for the report

    def allows(self, path: str) -> bool:
        return not any(path.startswith(prefix) for prefix in self.disallow)


@dataclass(slots=True)
class Page:
    url: str
    host: str
    path: str
    layer: int
    title: str
    links: list[str] = field(default_factory=list)  # same-site links, document order
    cross: list[str] = field(default_factory=list)  # other seed sites (layer 3 only)
    outside: list[str] = field(default_factory=list)  # never-crawled domains
    watched: list[tuple[str, str]] = field(default_factory=list)  # (target, anchor): edges
    words: int = 200


@dataclass(slots=True)
class Truth:
    pages: set[str]
    edges: set[tuple[str, str]]
    hosts: set[str]  # hosts with at least one page fetched


class BroadWeb:
    def __init__(self, sites: int = DEFAULT_SITES, seed: int = DEFAULT_SEED) -> None:
        self.n_sites = sites
        self.seed = seed
        self.hosts: dict[str, Host] = {}
        self.pages: dict[str, Page] = {}
        self.seeds: list[str] = []
        self.watch = WATCH
        self._generate()

    # --- generation ------------------------------------------------------------------

    def _generate(self) -> None:
        rng = random.Random(f"broadweb:{self.seed}:{self.n_sites}")
        n = self.n_sites
        n_hosts = 2 * n
        few = max(2, round(0.05 * n_hosts))  # ~5% of the hosts
        order = list(range(n))
        rng.shuffle(order)
        delay_sites = set(order[:few])  # their blog host asks Crawl-delay 0.5 or 1
        skip_site = order[few]  # its blog host asks Crawl-delay 120
        # Slow hosts: the blog hosts (kept small, 3 pages) of as many other sites, so
        # that they do not bound the crawl's wall time (robots.txt, root, 2 posts).
        slow = set(order[few + 1 : 2 * few + 1])
        for s in range(n):
            self._site(s, random.Random(f"site:{self.seed}:{s}"), s in delay_sites,
                       s == skip_site, slow)  # fmt: skip
        self.seeds = [f"http://www.site{s:03d}.test/" for s in range(n)]
        # Layer-3 pages link to other seed sites (roots and sections).
        roots = [u for u, p in self.pages.items() if p.layer <= 1 and p.host.startswith("www.")]
        for page in self.pages.values():
            if page.layer == DEPTH:
                for target in rng.sample(roots, 3):
                    if self.pages[target].host.split(".", 1)[1] != page.host.split(".", 1)[1]:
                        page.cross.append(target)

    def _host(self, name: str, site: int, rng: random.Random, slow: bool) -> Host:
        if slow:
            latency = rng.uniform(1.0, 1.6)
        else:
            # Log-normal around 150 ms, kept within 20-400 ms: a big host at the tail
            # must not bound the crawl's wall time by itself (~25 pages, 2 at a time,
            # in 4 layers: ~13 round trips, ~5 s at 400 ms).
            latency = min(0.4, max(0.02, 0.15 * math.exp(0.6 * rng.gauss(0, 1))))
        host = Host(name, site, latency, None)
        roll = rng.random()
        if roll < 0.14:
            host.kind = "404"
        elif roll < 0.30:
            prefix = "/members/" if name.startswith("www.") else "/drafts/"
            host.disallow = (prefix,)
            host.kind = f"Disallow: {prefix}"
            host.robots = f"User-agent: *\nDisallow: {prefix}\n"
            if rng.random() < 0.5:
                host.robots = "User-agent: BadBot\nDisallow: /\n\n" + host.robots
        elif roll < 0.45:
            host.kind = "allow all, other agent barred"
            host.robots = (
                "# robots.txt\nUser-agent: BadBot\nUser-agent: EvilScraper\nDisallow: /\n\n"
                "User-agent: *\nDisallow:\n\nSitemap: http://" + name + "/sitemap.xml\n"
            )
        else:
            host.robots = rng.choice(
                ["User-agent: *\nDisallow:\n", "User-agent: *\nAllow: /\n", "User-agent: *\n"]
            )
        return host

    def _page(self, host: Host, path: str, layer: int, rng: random.Random) -> Page:
        title = " ".join(rng.choice(_WORDS).capitalize() for _ in range(3))
        url = f"http://{host.name}{path}"
        page = Page(url, host.name, path, layer, title, words=rng.randint(200, 1200))
        self.pages[url] = page
        return page

    def _site(  # noqa: C901 (a site template: one branch per kind of host and page it has)
        self, s: int, rng: random.Random, small_blog: bool, skip_blog: bool, slow: set[int]
    ) -> None:
        www = self._host(f"www.site{s:03d}.test", s, rng, False)
        blog = self._host(f"blog.site{s:03d}.test", s, rng, s in slow)
        if small_blog or skip_blog:
            delay = 120.0 if skip_blog else rng.choice([0.5, 1.0])
            blog.crawl_delay = delay
            blog.disallow = ()
            blog.kind = f"Crawl-delay: {delay:g}"
            blog.robots = f"User-agent: *\nCrawl-delay: {delay:g}\nDisallow:\n"
        self.hosts[www.name] = www
        self.hosts[blog.name] = blog

        root = self._page(www, "/", 0, rng)
        # Layer 1: www sections (one under the disallowed prefix if there is one), blog root.
        n_sections = rng.randint(4, 6)
        sections = [self._page(www, f"/s{k}/", 1, rng) for k in range(n_sections)]
        if www.disallow:
            sections.append(self._page(www, www.disallow[0], 1, rng))
        blog_root = self._page(blog, "/", 1, rng)
        layer1 = [*sections, blog_root]
        # Layer 2: articles under each section; blog posts (a few under /drafts/).
        articles: list[Page] = []
        for sec in sections:
            for j in range(rng.randint(1, 3)):
                art = self._page(www, f"{sec.path}{rng.choice(_WORDS)}-{j}.html", 2, rng)
                sec.links.append(art.url)
                articles.append(art)
        small = small_blog or skip_blog
        n_posts = rng.randint(4, 7)
        if small:
            n_posts = 3 if small_blog else 5
        elif s in slow:
            n_posts = 2
        posts = []
        for j in range(n_posts):
            under = "/drafts/" if blog.disallow and j % 3 == 1 else "/post/"
            posts.append(self._page(blog, f"{under}{j}-{rng.choice(_WORDS)}.html", 2, rng))
        blog_root.links += [p.url for p in posts]
        # Layer 3: www archive pages, blog tag pages; each child of one layer-2 page
        # (its only way in), plus a link from another layer-2 page now and then.
        deep: list[Page] = []
        for m in range(rng.randint(4, 7)):
            parent = rng.choice(articles)
            page = self._page(www, f"/archive/{2015 + m % 10}/{m}.html", 3, rng)
            parent.links.append(page.url)
            deep.append(page)
        if not small and s not in slow:
            for m in range(rng.randint(2, 4)):
                parent = rng.choice(posts)
                page = self._page(blog, f"/tag/{rng.choice(_WORDS)}-{m}.html", 3, rng)
                parent.links.append(page.url)
                deep.append(page)
        layer2 = articles + posts
        for page in layer2:
            if rng.random() < 0.3:
                page.links.append(rng.choice(deep).url)
        # The root links to every layer-1 page (and to nothing deeper).
        root.links += [p.url for p in layer1]
        # Layer 1 pages also link one layer down across hosts now and then.
        for page in layer1:
            if rng.random() < 0.4:
                page.links.append(rng.choice(layer2).url)
        # Navigation (layers 0-1, always requested before any page that links to them).
        nav = [root.url, blog_root.url, *(p.url for p in sections[:4])]
        site_pages = [root, *layer1, *layer2, *deep]
        for page in site_pages:
            page.links = [u for u in nav if u != page.url] + [
                u for u in dict.fromkeys(page.links) if u not in nav
            ]
            for _ in range(rng.randint(0, 3)):
                k = rng.randrange(3 * self.n_sites)
                page.outside.append(f"http://www.outside{k:03d}.test/{rng.choice(_WORDS)}.html")
            if rng.random() < 0.35:
                for target in rng.sample(_WATCH_TARGETS, rng.randint(1, 3)):
                    page.watched.append((target, f"{rng.choice(_WORDS)} {rng.choice(_WORDS)}"))

    # --- the truth -------------------------------------------------------------------

    def fetchable_host(self, name: str, cap: float | None) -> bool:
        host = self.hosts[name]
        return cap is None or host.crawl_delay is None or host.crawl_delay <= cap

    def truth_for(self, cap: float | None = MAX_CRAWL_DELAY, depth: int | None = DEPTH) -> Truth:
        """Pages a crawl from the seeds fetches (robots.txt obeyed; hosts whose
        Crawl-delay is above `cap` skipped, None: Crawl-delay ignored; `depth` link
        hops, None: unlimited) and the edges it finds on them."""
        seen: set[str] = set()
        fetched: set[str] = set()
        frontier = [u for u in self.seeds]
        seen.update(frontier)
        d = 0
        while frontier:
            nxt: list[str] = []
            for url in frontier:
                page = self.pages.get(url)
                if page is None or not self.hosts[page.host].allows(page.path):
                    continue
                if not self.fetchable_host(page.host, cap):
                    continue
                fetched.add(url)
                if depth is not None and d >= depth:
                    continue
                for link in [*page.links, *page.cross]:
                    if link not in seen:
                        seen.add(link)
                        nxt.append(link)
            frontier = nxt
            d += 1
        edges = {(u, t) for u in fetched for t, _ in self.pages[u].watched}
        return Truth(fetched, edges, {self.pages[u].host for u in fetched})

    # --- responses --------------------------------------------------------------------

    def body(self, page: Page) -> bytes:
        rng = random.Random(page.url)
        words = [rng.choice(_WORDS) for _ in range(page.words)]
        paras = [" ".join(words[i : i + 60]) for i in range(0, len(words), 60)]
        inline = [*page.links[6:], *page.cross, *page.outside]
        parts = [
            "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>",
            f"<title>{page.title}</title>",
            '<meta name="viewport" content="width=device-width">',
            f'<link rel="stylesheet" href="http://{page.host}/static/site.css">',
            "</head><body><header><nav><ul>",
        ]
        parts += [f'<li><a href="{u}">{_label(u)}</a></li>' for u in page.links[:6]]
        parts.append(f"</ul></nav></header><main><h1>{page.title}</h1>")
        for i, para in enumerate(paras):
            extra = ""
            if i < len(inline):
                extra = f' See <a href="{inline[i]}">{_label(inline[i])}</a>.'
            parts.append(f"<p>{para}.{extra}</p>")
        if len(inline) > len(paras):
            parts.append("<ul class=related>")
            parts += [f'<li><a href="{u}">{_label(u)}</a></li>' for u in inline[len(paras) :]]
            parts.append("</ul>")
        for target, anchor in page.watched:
            parts.append(f'<p>Recommended: <a href="{target}">{anchor}</a></p>')
        parts.append(
            f"</main><footer><p>&copy; {page.host.split('.', 1)[1]}</p>"
            '<script src="/static/app.js"></script></footer></body></html>\n'
        )
        return "\n".join(parts).encode()

    def responses(self) -> dict[tuple[str, str], tuple[int, str, bytes]]:
        """(host, path) -> (status, content type, body) of everything served."""
        out: dict[tuple[str, str], tuple[int, str, bytes]] = {}
        for page in self.pages.values():
            out[(page.host, page.path)] = (200, HTML, self.body(page))
        for host in self.hosts.values():
            if host.robots is not None:
                out[(host.name, "/robots.txt")] = (200, "text/plain", host.robots.encode())
        return out

    def describe(self) -> str:
        kinds = Counter(h.kind.split(":")[0] if "Crawl" not in h.kind else h.kind
                        for h in self.hosts.values())  # fmt: skip
        slow = sum(1 for h in self.hosts.values() if h.latency >= 1.0)
        lat = sorted(h.latency for h in self.hosts.values())
        return (
            f"{self.n_sites} sites, {len(self.hosts)} hosts, {len(self.pages):,} pages; "
            f"latency per host median {1000 * lat[len(lat) // 2]:.0f} ms, "
            f"{slow} slow hosts (1-1.6 s); robots.txt: "
            + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        )

    def write(self, out: Path) -> None:
        """seeds.txt, watch.txt, truth.json (both truths, the hosts) into `out`."""
        out.mkdir(parents=True, exist_ok=True)
        (out / "seeds.txt").write_text("\n".join(self.seeds) + "\n")
        (out / "watch.txt").write_text("\n".join(self.watch) + "\n")
        polite, plain = self.truth_for(), self.truth_for(None, None)
        data = {
            "description": self.describe(),
            "linkwatch": {"pages": sorted(polite.pages), "edges": sorted(polite.edges)},
            "baseline": {"pages": sorted(plain.pages), "edges": sorted(plain.edges)},
            "hosts": {
                h.name: {
                    "latency": round(h.latency, 4),
                    "robots": h.kind,
                    "crawl_delay": h.crawl_delay,
                    "pages": sum(1 for p in self.pages.values() if p.host == h.name),
                }
                for h in self.hosts.values()
            },
        }
        (out / "truth.json").write_text(json.dumps(data, indent=1))


def _label(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return tail.removesuffix(".html").replace("-", " ") or "home"


# --- server-side figures -------------------------------------------------------------------


def server_figures(
    entries: list[dict[str, Any]], web: BroadWeb, allowed: int | None = None
) -> dict[str, Any]:
    """What the access-log entries of one crawl say about it (see the module doc)."""
    out: dict[str, Any] = {"requests": len(entries)}
    if not entries:
        return out
    pages = [e for e in entries if e["status"] == 200 and e["path"] != "/robots.txt"]
    served = {f"http://{e['host']}{e['path']}" for e in pages}
    out["pages"] = len(served)
    first = min(e["start"] for e in entries)
    last = max(e["end"] for e in entries)
    out["wall"] = last - first
    out["pages_per_s"] = len(served) / out["wall"] if out["wall"] > 0 else 0.0
    # The most requests a host was serving at once.
    events: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for e in entries:
        events[e["host"]] += [(e["start"], 1), (e["end"], -1)]
    per_host: dict[str, int] = {}
    for host, ev in events.items():
        ev.sort()  # an end sorts before a start at the same time
        now = best = 0
        for _, step in ev:
            now += step
            best = max(best, now)
        per_host[host] = best
    top = max(per_host.values())
    out["host_concurrency"] = top
    out["host_concurrency_hosts"] = sorted(h for h, c in per_host.items() if c == top)
    out["host_concurrency_histogram"] = dict(sorted(Counter(per_host.values()).items()))
    # Crawl-delay hosts: the smallest gap between two page-request starts.
    starts: dict[str, list[float]] = defaultdict(list)
    for e in entries:
        if e["path"] != "/robots.txt":
            starts[e["host"]].append(e["start"])
    gaps = {}
    for host in web.hosts.values():
        if host.crawl_delay is None or len(starts.get(host.name, [])) < 2:
            continue
        s = sorted(starts[host.name])
        gap = min(b - a for a, b in itertools.pairwise(s))
        gaps[host.name] = {"delay": host.crawl_delay, "gap": gap, "ratio": gap / host.crawl_delay}
    out["crawl_delay_gaps"] = gaps
    if gaps:
        worst = min(gaps, key=lambda h: gaps[h]["ratio"])
        out["crawl_delay_worst"] = {"host": worst, **gaps[worst]}
    # robots.txt fetches per host.
    robots = Counter(e["host"] for e in entries if e["path"] == "/robots.txt")
    out["robots_max"] = max(robots.values(), default=0)
    out["robots_hosts_over_1"] = sum(1 for c in robots.values() if c > 1)
    out["robots_hosts"] = len(robots)
    # Politeness breaches the crawl's own rules would forbid.
    skipped = [
        h.name for h in web.hosts.values() if not web.fetchable_host(h.name, MAX_CRAWL_DELAY)
    ]
    out["skip_host_pages"] = sum(
        1 for e in entries if e["host"] in skipped and e["path"] != "/robots.txt"
    )
    out["disallowed_fetched"] = sum(
        1 for e in entries if e["host"] in web.hosts and not web.hosts[e["host"]].allows(e["path"])
    )
    out["unknown_requests"] = sum(
        1 for e in entries if e["status"] == 404 and e["path"] != "/robots.txt"
    )
    # Requests in flight while 10% to 90% of the pages were served.
    ends = sorted(e["end"] for e in pages)
    if len(ends) >= 10:
        t10, t90 = ends[len(ends) // 10], ends[(9 * len(ends)) // 10]
        if t90 > t10:
            busy = sum(max(0.0, min(e["end"], t90) - max(e["start"], t10)) for e in entries)
            out["in_flight"] = busy / (t90 - t10)
            out["mid_window"] = (t10 - first, t90 - first)
            # The rate while the crawl is in its stride: the first and last 10% of
            # pages are start-up and the slow hosts' tail, which more workers
            # cannot shorten (politeness holds each host to its own pace).
            out["steady_pages_per_s"] = (9 * len(ends) // 10 - len(ends) // 10) / (t90 - t10)
            if allowed:
                out["fill"] = out["in_flight"] / allowed
    return out


# --- the server ------------------------------------------------------------------------


def _split_target(target: str, host_header: str) -> tuple[str, str] | None:
    if "://" in target:
        rest = target.split("://", 1)[1]
        cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        netloc, path = rest[:cut], rest[cut:] or "/"
    elif target.startswith("/") and host_header:
        netloc, path = host_header, target
    else:
        return None
    host = netloc.rsplit("@", 1)[-1].lower().removesuffix(":80").rstrip(".")
    return host, path.split("#", 1)[0]


class BroadWebServer:
    def __init__(self, web: BroadWeb, port: int = 0, access_log: Path | None = None) -> None:
        self.web = web
        self.port = port
        self.access_log = access_log
        self.answers = {
            key: self._response(status, ctype, body)
            for key, (status, ctype, body) in web.responses().items()
        }
        self.not_found = self._response(404, "text/html", b"<h1>Not Found</h1>\n")
        self.latency = {h.name: h.latency for h in web.hosts.values()}
        self.jitter = random.Random()
        self._log: Any = None
        self._server: asyncio.Server | None = None

    @staticmethod
    def _response(status: int, ctype: str, body: bytes) -> bytes:
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nServer: broadweb\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return head.encode("latin-1") + body

    async def start(self) -> None:
        if self.access_log is not None:
            self._log = open(self.access_log, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._server = await asyncio.start_server(
            self._connection, "127.0.0.1", self.port, backlog=2048, limit=64 * 1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._log is not None:
            self._log.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                start = time.monotonic()
                lines = head[:-4].decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                if len(parts) != 3:
                    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    return
                method, target, version = parts
                length = headers.get("content-length", "0")
                if length.isdigit() and int(length):
                    await reader.readexactly(int(length))
                conn = headers.get("connection", headers.get("proxy-connection", "")).lower()
                close = conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive")
                routed = _split_target(target, headers.get("host", ""))
                host, path = routed or ("", target)
                if method not in ("GET", "HEAD") or routed is None:
                    answer, status = self._response(405, "text/plain", b"GET only\n"), 405
                    close = True
                else:
                    answer = self.answers.get((host, path))
                    status = 200 if answer is not None else 404
                    answer = answer or self.not_found
                latency = self.latency.get(host, 0.05)
                await asyncio.sleep(latency * self.jitter.uniform(0.9, 1.1))
                if method == "HEAD":
                    answer = answer.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
                writer.write(answer)
                await writer.drain()
                if self._log is not None:
                    entry = {
                        "method": method,
                        "host": host,
                        "path": path,
                        "url": f"http://{host}{path}",
                        "status": status,
                        "start": start,
                        "end": time.monotonic(),
                    }
                    self._log.write(json.dumps(entry) + "\n")
                if close:
                    return
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


async def _serve(args: argparse.Namespace) -> None:
    web = BroadWeb(args.sites, args.seed)
    if args.out:
        web.write(args.out)
    await serve_until_stopped(BroadWebServer(web, args.port, args.access_log), web, args.port_file)


async def serve_until_stopped(server: Any, web: Any, port_file: Path | None) -> None:
    """Start `server`, announce its port (stdout, and `port_file` if given), serve
    until SIGINT or SIGTERM. Shared by every generated web's `serve` command."""
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if port_file:
        tmp = port_file.with_name(port_file.name + ".tmp")
        tmp.write_text(f"{server.port}\n")
        os.replace(tmp, port_file)
    print(f"port {server.port}", flush=True)
    print(web.describe(), flush=True)
    try:
        await stop.wait()
    finally:
        await server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.broadweb_web", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "serve": "serve the web as an HTTP proxy on 127.0.0.1 (own process; SIGTERM stops it)",
        "truth": "write seeds.txt, watch.txt and truth.json into --out",
        "analyze": "server-side figures of an access log, as JSON",
    }
    for name, help_text in commands.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--sites", type=int, default=DEFAULT_SITES)
        p.add_argument("--seed", type=int, default=DEFAULT_SEED)
        if name == "serve":
            p.add_argument("--port", type=int, default=0)
            p.add_argument("--port-file", type=Path)
            p.add_argument("--access-log", type=Path)
            p.add_argument("--out", type=Path, help="also write seeds/truth here")
        elif name == "truth":
            p.add_argument("--out", type=Path, required=True)
        else:
            p.add_argument("--access-log", type=Path, required=True)
            p.add_argument("--allowed", type=int, help="CONCURRENT_REQUESTS x workers, for fill %")
            p.add_argument("--since", type=float, help="only entries starting at/after this")
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args))
        return 0
    web = BroadWeb(args.sites, args.seed)
    if args.command == "truth":
        web.write(args.out)
        print(web.describe())
        return 0
    with args.access_log.open(encoding="utf-8") as log:
        entries = [json.loads(line) for line in log if line.strip()]
    if args.since is not None:
        entries = [e for e in entries if e["start"] >= args.since]
    figures = server_figures(entries, web, args.allowed)
    figures.pop("crawl_delay_gaps", None)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
