"""The discovery web: topical communities with a niche of referring domains, served as a proxy.

    python -m bench.discovery_web serve [--domains 400] [--seed 17] [--port 0] [--port-file F]
                                        [--access-log L] [--out DIR]
    python -m bench.discovery_web truth [--domains 400] [--seed 17] --out DIR

Deterministic from (domains, seed). About `domains` sites (registered domains
`<word><NNN>.test`, one host `www.` each) in five topical communities, one of
them (cycling) the watched domain's own, plus a few platforms
(`social.test`, `videos.test`...: large, linked from nearly every site, never
linking to the watched domain) and four shared resources per community
(directories and tools its members link to).

The watched domain `mysite.test` is linked from its *referring domains*: a
third of the cycling community and a few sites in each other community. They
form a niche, which is what a focused crawl can learn and a breadth-first one
cannot: a referring domain links to other referring domains (a quarter of its
links, mostly in its own community) and to three niche resources far more than
the other sites do, and the pages that link to the watched domain are link
lists that also name two to four other referring domains (co-citation).
Every other site links within its community (half its links, referring
members included, uniformly), to its community's resources, to platforms, and
now and then to another community. Anchor texts use the target's topic words,
page texts their own site's.

Each site is its home page (`/`) and 4-30 pages it links to (platforms 120,
resources 25-40), so an expansion at depth 1 from the home page reaches all of
a small site; every page links back home. Pages that link to the watched
domain are never under a robots.txt rule. robots.txt on every host: allow all,
except ~5 % of the sites with `Disallow: /private/` (pages there are linked
from home and must not be fetched) and one site with `Disallow: /`. Latency
5-30 ms per host.

Truth (`truth.json`, from the generator's declarations): every referring
domain with its pages that link to the watched domain, its community and its
hop distance from the seeds on the site graph; the seeds (six referring
domains, as a Search Console "Top linking sites" export,
`gsc-top-linking-sites.csv`); the pages a crawl may fetch (robots.txt obeyed).

The server (`serve`, its own process) is bench.broadweb_web's: requests in
absolute form through `http_proxy`, keep-alive, one JSON access-log line per
request (method, host, path, url, status, start, end).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from bench.broadweb_web import BroadWebServer, serve_until_stopped

WATCH = ("mysite.test",)
DEFAULT_DOMAINS = 400
DEFAULT_SEED = 17
SEEDS = 6
HTML = "text/html; charset=utf-8"
TOPICS: dict[str, tuple[str, ...]] = {
    "cycling": ("bike", "gravel", "saddle", "wheel", "route", "chain", "tyre", "ride", "pedal"),
    "cooking": ("recipe", "bread", "oven", "spice", "pasta", "kitchen", "soup", "bake", "herb"),
    "photo": ("lens", "camera", "exposure", "portrait", "film", "tripod", "flash", "print"),
    "garden": ("soil", "compost", "rose", "seedling", "orchard", "pruning", "bulb", "hedge"),
    "music": ("guitar", "chord", "album", "piano", "song", "drum", "melody", "vinyl"),
}
HOME_TOPIC = "cycling"
_GENERIC = ("notes", "daily", "corner", "journal", "hub", "world", "life", "club", "blog")
PLATFORMS = ("social", "videos", "wiki", "shop", "maps", "photos")
_WATCH_TARGETS = (
    "http://mysite.test/",
    "http://mysite.test/tools/route-planner.html",
    "http://www.mysite.test/blog/winter-tyres.html",
    "http://mysite.test/about.html",
)


@dataclass(slots=True)
class Site:
    domain: str  # registered domain
    host: str
    topic: str  # community ("platform" for platforms)
    kind: str  # member | resource | niche | platform
    size: int  # pages besides the home page
    referring: bool = False
    latency: float = 0.01
    disallow: str | None = None  # a path prefix robots.txt forbids ("/": the whole site)
    pages: list[str] = field(default_factory=list)  # URLs, home first

    @property
    def name(self) -> str:  # the host, as the broad web's server reads it
        return self.host


@dataclass(slots=True)
class Page:
    url: str
    site: str  # registered domain
    path: str
    title: str
    internal: list[str] = field(default_factory=list)
    external: list[tuple[str, str]] = field(default_factory=list)  # (url, anchor), other sites
    watched: list[str] = field(default_factory=list)  # links to the watched domain (edges)


class DiscoveryWeb:
    """The generated web: sites, pages, seeds and the ground truth."""

    def __init__(self, domains: int = DEFAULT_DOMAINS, seed: int = DEFAULT_SEED) -> None:
        self.n_domains = domains
        self.seed = seed
        self.rng = random.Random(f"discoveryweb:{seed}:{domains}")
        self.sites: dict[str, Site] = {}
        self.pages: dict[str, Page] = {}
        self.watch = WATCH
        self._generate()
        self.seeds = self._pick_seeds()

    # --- generation ---------------------------------------------------------------------

    def _generate(self) -> None:
        rng = self.rng
        topics = list(TOPICS)
        # The watched domain's community is the largest: ~27 % of the sites.
        shares = {t: (0.27 if t == HOME_TOPIC else 0.73 / (len(topics) - 1)) for t in topics}
        for name in PLATFORMS:
            self._add_site(f"{name}.test", "platform", "platform", 120)
        for topic in topics:
            for k in range(4):
                self._add_site(self._name(topic, k, "r"), topic, "resource", rng.randint(25, 40))
        for k in range(3):  # the niche's shared resources, in the home community
            self._add_site(self._name(HOME_TOPIC, k, "n"), HOME_TOPIC, "niche", 30)
        members = {t: max(10, round(self.n_domains * shares[t])) for t in topics}
        for topic in topics:
            for k in range(members[topic]):
                size = min(30, max(4, int(rng.lognormvariate(2.5, 0.55))))
                self._add_site(self._name(topic, k, ""), topic, "member", size)
        for topic in topics:
            group = self.members(topic)
            rng.shuffle(group)
            count = round(len(group) / 4) if topic == HOME_TOPIC else 5
            for site in group[:count]:
                site.referring = True
        # A few sites keep a private section; one forbids everything.
        plain = [s for s in self.sites.values() if s.kind == "member" and not s.referring]
        for site in rng.sample(plain, max(2, len(self.sites) // 20)):
            site.disallow = "/private/"
        rng.choice([s for s in plain if s.disallow is None]).disallow = "/"
        for site in self.sites.values():
            self._pages(site)
        for site in self.sites.values():
            self._links(site)

    def _name(self, topic: str, k: int, tag: str) -> str:
        words = TOPICS[topic]
        word = words[k % len(words)] if self.rng.random() < 0.5 else self.rng.choice(_GENERIC)
        return f"{word}{tag}{len(self.sites):03d}.test"

    def _add_site(self, domain: str, topic: str, kind: str, size: int) -> None:
        latency = self.rng.uniform(0.005, 0.03)
        self.sites[domain] = Site(domain, f"www.{domain}", topic, kind, size, latency=latency)

    @property
    def hosts(self) -> dict[str, Site]:
        return {s.host: s for s in self.sites.values()}

    def members(self, topic: str) -> list[Site]:
        return [s for s in self.sites.values() if s.topic == topic and s.kind == "member"]

    def _pages(self, site: Site) -> None:
        rng = random.Random(f"pages:{self.seed}:{site.domain}")
        words = TOPICS.get(site.topic, _GENERIC)
        urls = [f"http://{site.host}/"]
        for j in range(1, site.size + 1):
            under = "/private/" if site.disallow == "/private/" and j % 5 == 4 else "/p/"
            urls.append(f"http://{site.host}{under}{rng.choice(words)}-{j}.html")
        site.pages = urls
        for url in urls:
            path = url.split("/", 3)[3]
            title = " ".join(rng.choice(words).capitalize() for _ in range(3))
            page = Page(url, site.domain, "/" + path, title)
            page.internal = urls[1:] if url == urls[0] else [urls[0]]
            self.pages[url] = page

    def _links(self, site: Site) -> None:
        rng = random.Random(f"links:{self.seed}:{site.domain}")
        pages = [self.pages[u] for u in site.pages if self.allows(u)]
        if site.referring:
            # 1-3 pages link to the watched domain: link lists that also name peers.
            for page in rng.sample(pages, min(len(pages), rng.randint(1, 3))):
                page.watched = rng.sample(_WATCH_TARGETS, rng.randint(1, 2))
                for peer in self._peers(site, rng, rng.randint(0, 3)):
                    if rng.random() < 0.4:  # a link list names other sites too
                        peer = rng.choice(self.members(site.topic))
                    page.external.append(self._link_to(peer, rng))
        for page in self.pages_of(site):
            count = rng.randint(8, 14) if site.kind == "platform" else rng.randint(1, 4)
            for _ in range(count):
                target = self._target(site, rng)
                if target is not None and target.domain != site.domain:
                    page.external.append(self._link_to(target, rng))

    def _peers(self, site: Site, rng: random.Random, n: int) -> list[Site]:
        peers = [s for s in self.sites.values() if s.referring and s is not site]
        near = [s for s in peers if s.topic == site.topic]
        return [rng.choice(near if near and rng.random() < 0.7 else peers) for _ in range(n)]

    def _target(self, site: Site, rng: random.Random) -> Site | None:
        roll = rng.random()
        sites = list(self.sites.values())
        topic = site.topic if site.topic in TOPICS else rng.choice(list(TOPICS))
        if site.referring:
            if roll < 0.15:
                return self.sites[f"{rng.choice(PLATFORMS)}.test"]
            if roll < 0.30:
                return self._peers(site, rng, 1)[0]
            if roll < 0.40:
                return rng.choice([s for s in sites if s.kind == "niche"])
            roll = 0.2 + (roll - 0.40) / 0.60 * 0.8  # the rest as any other member
        if roll < 0.2:
            return self.sites[f"{rng.choice(PLATFORMS)}.test"]
        if roll < 0.3:
            return rng.choice([s for s in sites if s.kind == "resource" and s.topic == topic])
        if roll < 0.85:
            return rng.choice(self.members(topic))
        return rng.choice([s for s in sites if s.kind in ("member", "resource")])

    def _link_to(self, target: Site, rng: random.Random) -> tuple[str, str]:
        url = rng.choice(target.pages[:6])
        words = TOPICS.get(target.topic, ("watch", "follow", "share"))
        return url, f"{rng.choice(words)} {rng.choice(_GENERIC)}"

    def _pick_seeds(self) -> list[str]:
        rng = random.Random(f"seeds:{self.seed}")
        home = [s.domain for s in self.members(HOME_TOPIC) if s.referring]
        return sorted(rng.sample(home, SEEDS))

    # --- what a crawl sees --------------------------------------------------------------

    def pages_of(self, site: Site) -> list[Page]:
        return [self.pages[u] for u in site.pages]

    def allows(self, url: str) -> bool:
        page_site = self.sites[self.pages[url].site] if url in self.pages else None
        if page_site is None or page_site.disallow is None:
            return True
        return not self.pages[url].path.startswith(page_site.disallow)

    def referring(self) -> list[str]:
        return sorted(s.domain for s in self.sites.values() if s.referring)

    def fetchable_pages(self) -> int:
        """Pages a crawl of every site may fetch (robots.txt obeyed)."""
        return sum(1 for u in self.pages if self.allows(u))

    def site_graph(self) -> dict[str, set[str]]:
        graph: dict[str, set[str]] = {d: set() for d in self.sites}
        for page in self.pages.values():
            if self.allows(page.url):
                graph[page.site].update(self.pages[u].site for u, _ in page.external)
        return graph

    def hops(self) -> dict[str, int]:
        """Each site's distance from the seeds on the site graph."""
        graph = self.site_graph()
        dist = dict.fromkeys(self.seeds, 0)
        todo = deque(self.seeds)
        while todo:
            here = todo.popleft()
            for there in graph[here]:
                if there not in dist:
                    dist[there] = dist[here] + 1
                    todo.append(there)
        return dist

    # --- responses and files ------------------------------------------------------------

    def body(self, page: Page) -> bytes:
        rng = random.Random(page.url)
        words = TOPICS.get(self.sites[page.site].topic, _GENERIC)
        text = " ".join(rng.choice(words + _GENERIC) for _ in range(rng.randint(60, 200)))
        parts = [
            f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{page.title}</title>",
            f"</head><body><h1>{page.title}</h1><nav><ul>",
        ]
        parts += [f'<li><a href="{u}">{_label(u)}</a></li>' for u in page.internal]
        parts.append(f"</ul></nav><main><p>{text}.</p><ul class=links>")
        parts += [f'<li><a href="{u}">{anchor}</a></li>' for u, anchor in page.external]
        parts += [f'<li><a href="{u}">a great {_label(u)}</a></li>' for u in page.watched]
        parts.append("</ul></main></body></html>\n")
        return "\n".join(parts).encode()

    def robots(self, site: Site) -> str:
        rules = f"Disallow: {site.disallow}\n" if site.disallow else "Disallow:\n"
        return "User-agent: *\n" + rules

    def responses(self) -> dict[tuple[str, str], tuple[int, str, bytes]]:
        """(host, path) -> (status, content type, body) of everything served."""
        out: dict[tuple[str, str], tuple[int, str, bytes]] = {}
        for page in self.pages.values():
            out[(self.sites[page.site].host, page.path)] = (200, HTML, self.body(page))
        for site in self.sites.values():
            out[(site.host, "/robots.txt")] = (200, "text/plain", self.robots(site).encode())
        return out

    def describe(self) -> str:
        refs = self.referring()
        home = sum(1 for d in refs if self.sites[d].topic == HOME_TOPIC)
        return (
            f"{len(self.sites) - len(PLATFORMS)} sites in {len(TOPICS)} communities "
            f"+ {len(PLATFORMS)} platforms, "
            f"{len(self.pages):,} pages ({self.fetchable_pages():,} fetchable); "
            f"{len(refs)} referring domains of {WATCH[0]} ({home} in its community), "
            f"{len(self.seeds)} of them seeds"
        )

    def truth(self) -> dict[str, object]:
        hops = self.hops()
        return {
            "description": self.describe(),
            "watch": list(self.watch),
            "seeds": self.seeds,
            "fetchable_pages": self.fetchable_pages(),
            "referring": {
                d: {
                    "community": self.sites[d].topic,
                    "hops": hops.get(d),
                    "pages": [p.url for p in self.pages_of(self.sites[d]) if p.watched],
                }
                for d in self.referring()
            },
            "disallowed": sorted(u for u in self.pages if not self.allows(u)),
        }

    def write(self, out: Path) -> None:
        """seeds.txt, watch.txt, gsc-top-linking-sites.csv and truth.json into `out`."""
        out.mkdir(parents=True, exist_ok=True)
        (out / "seeds.txt").write_text("".join(f"http://www.{d}/\n" for d in self.seeds))
        (out / "watch.txt").write_text("\n".join(self.watch) + "\n")
        rows = ["Site,Linking pages,Target pages"]
        for d in self.seeds:
            linking = [p for p in self.pages_of(self.sites[d]) if p.watched]
            targets = {t for p in linking for t in p.watched}
            rows.append(f"{d},{len(linking)},{len(targets)}")
        (out / "gsc-top-linking-sites.csv").write_text("\n".join(rows) + "\n")
        (out / "truth.json").write_text(json.dumps(self.truth(), indent=1))


def _label(url: str) -> str:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return tail.removesuffix(".html").replace("-", " ") or "home"


class DiscoveryWebServer(BroadWebServer):
    """The broad web's proxy server, answering for the discovery web (its `hosts`).

    A site's bare domain (`name.test`, as a Search Console export names it)
    answers `/` with a redirect to its `www.` home page, as most sites do.
    """

    def __init__(self, web: DiscoveryWeb, port: int = 0, access_log: Path | None = None) -> None:
        super().__init__(web, port, access_log)  # type: ignore[arg-type]
        for site in web.sites.values():
            self.answers[(site.domain, "/")] = (
                f"HTTP/1.1 301 Moved Permanently\r\nServer: discoveryweb\r\n"
                f"Location: http://{site.host}/\r\nContent-Length: 0\r\n\r\n"
            ).encode()
            self.answers[(site.domain, "/robots.txt")] = self.answers[(site.host, "/robots.txt")]
            self.latency[site.domain] = site.latency


async def _serve(args: argparse.Namespace) -> None:
    web = DiscoveryWeb(args.domains, args.seed)
    if args.out:
        web.write(args.out)
    server = DiscoveryWebServer(web, args.port, args.access_log)
    await serve_until_stopped(server, web, args.port_file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery_web", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("serve", "serve the web as an HTTP proxy on 127.0.0.1 (own process; SIGTERM stops it)"),
        ("truth", "write seeds.txt, watch.txt, gsc-top-linking-sites.csv and truth.json"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--domains", type=int, default=DEFAULT_DOMAINS)
        p.add_argument("--seed", type=int, default=DEFAULT_SEED)
        p.add_argument("--out", type=Path, required=name == "truth")
        if name == "serve":
            p.add_argument("--port", type=int, default=0)
            p.add_argument("--port-file", type=Path)
            p.add_argument("--access-log", type=Path)
    args = parser.parse_args(argv)
    if args.command == "serve":
        asyncio.run(_serve(args))
        return 0
    web = DiscoveryWeb(args.domains, args.seed)
    web.write(args.out)
    print(web.describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
