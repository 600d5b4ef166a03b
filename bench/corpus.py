"""The benchmark corpus: real documentation sites from Debian packages, served as *.test hosts.

    python -m bench.corpus fetch                       download and unpack (idempotent)
    python -m bench.corpus serve --port-file F [--access-log L] [--sites pythondocs.test,...]
    python -m bench.corpus info                        pages, bytes and seeds per site

`apt-get download` fetches the packages into ``~/.cache/linkwatch/corpus/debs``
(``$XDG_CACHE_HOME`` respected; `apt-get update` first if the package lists
lack them) and `dpkg-deb -x` unpacks them next to it; nothing lands in the
repository. Each package's HTML tree is one host, served as it is by the
fixture web's proxy server (crawler/testing/fixtureweb/server.py): relative links stay
relative, and the absolute links to python.org, github.com, ... are the
outbound links a backlink crawl records for the watched domains in WATCH.
"""

from __future__ import annotations

import argparse
import asyncio
import mimetypes
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from crawler.testing.fixtureweb.model import Response
from crawler.testing.fixtureweb.server import FixtureServer


@dataclass(frozen=True, slots=True)
class Site:
    package: str  # Debian package
    root: str  # its HTML tree, inside the package
    host: str  # served as http://HOST/

    @property
    def seed(self) -> str:
        return f"http://{self.host}/index.html"


SITES = (
    Site("python3.11-doc", "usr/share/doc/python3.11/html", "pythondocs.test"),
    Site("postgresql-doc-15", "usr/share/doc/postgresql-doc-15/html", "pgdocs.test"),
    Site("python-django-doc", "usr/share/doc/python-django-doc/html", "djangodocs.test"),
)
# Registered domains the three trees link to most (postgr.es is PostgreSQL's
# link shortener, the pg docs' main way out).
WATCH = (
    "python.org",
    "github.com",
    "djangoproject.com",
    "postgr.es",
    "postgresql.org",
    "wikipedia.org",
)

HTML_TYPE = "text/html; charset=utf-8"  # what the real sites send; every file is UTF-8


def cache_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "linkwatch" / "corpus"


def site_by_host(host: str) -> Site:
    for site in SITES:
        if site.host == host:
            return site
    raise KeyError(f"no corpus site {host!r}; known: {', '.join(s.host for s in SITES)}")


def select_sites(hosts: str | None) -> tuple[Site, ...]:
    if not hosts:
        return SITES
    return tuple(site_by_host(h.strip()) for h in hosts.split(",") if h.strip())


# --- fetching --------------------------------------------------------------------------


class CorpusUnavailable(RuntimeError):
    """The packages could not be downloaded or unpacked (one-line message)."""


def ensure_corpus(cache: Path | None = None, log=print) -> Path:
    """Download and unpack every package once; returns the directory of the trees."""
    cache = cache or cache_dir()
    debs, trees = cache / "debs", cache / "trees"
    debs.mkdir(parents=True, exist_ok=True)
    trees.mkdir(parents=True, exist_ok=True)
    for site in SITES:
        done = trees / site.package / ".unpacked"
        if done.exists():
            continue
        deb = _find_deb(debs, site.package) or _download(debs, site.package, log)
        target = trees / site.package
        partial = trees / (site.package + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        result = subprocess.run(
            ["dpkg-deb", "-x", str(deb), str(partial)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise CorpusUnavailable(f"dpkg-deb -x {deb.name} failed: {result.stderr.strip()}")
        (partial / ".unpacked").write_text(deb.name + "\n")
        partial.rename(target)
        log(f"corpus: unpacked {deb.name}")
    return trees


def _find_deb(debs: Path, package: str) -> Path | None:
    found = sorted(debs.glob(f"{package}_*.deb"))
    return found[-1] if found else None


def _download(debs: Path, package: str, log) -> Path:
    if shutil.which("apt-get") is None:
        raise CorpusUnavailable(f"apt-get not found: cannot download {package}")
    for attempt in range(2):
        result = subprocess.run(
            ["apt-get", "download", "-q", package],
            cwd=debs,
            capture_output=True,
            text=True,
            check=False,
        )
        deb = _find_deb(debs, package)
        if result.returncode == 0 and deb is not None:
            log(f"corpus: downloaded {deb.name}")
            return deb
        if attempt == 0:  # package lists missing or stale: refresh once
            log("corpus: apt-get download failed; running apt-get update")
            subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
    raise CorpusUnavailable(
        f"apt-get download {package} failed: {result.stderr.strip().splitlines()[-1:]}"
    )


def corpus_description(sites: tuple[Site, ...]) -> str:
    return ", ".join(f"{s.host} ({s.package})" for s in sites)


def site_root(trees: Path, site: Site) -> Path:
    return trees / site.package / site.root


def html_files(trees: Path, sites: tuple[Site, ...] = SITES) -> Iterator[tuple[str, Path]]:
    """(URL, file) of every HTML page, site by site, in a stable order."""
    for site in sites:
        root = site_root(trees, site)
        for path in sorted(root.rglob("*.html")):
            if path.is_file():
                yield f"http://{site.host}/{path.relative_to(root).as_posix()}", path


def load_pages(trees: Path, sites: tuple[Site, ...] = SITES) -> list[tuple[str, bytes]]:
    return [(url, path.read_bytes()) for url, path in html_files(trees, sites)]


# --- serving -------------------------------------------------------------------------


class CorpusResponses:
    """`get(host, path)` -> Response, the interface FixtureServer serves from.

    Files are read once and kept: after the first crawl every answer comes
    from memory, so the server's own cost stays small and steady.
    """

    def __init__(self, trees: Path, sites: tuple[Site, ...]) -> None:
        self.roots = {site.host: site_root(trees, site).resolve() for site in sites}
        self.cache: dict[tuple[str, str], Response | None] = {}

    def get(self, host: str, target: str) -> Response | None:
        key = (host, target)
        if key in self.cache:
            return self.cache[key]
        root = self.roots.get(host)
        response = None if root is None else self._read(root, target)
        self.cache[key] = response
        return response

    @staticmethod
    def _read(root: Path, target: str) -> Response:
        path = unquote(target.split("?", 1)[0])
        if path.endswith("/"):
            path += "index.html"
        file = (root / path.lstrip("/")).resolve()
        if not file.is_relative_to(root) or not file.is_file():
            return Response(404, (("Content-Type", "text/html"),), b"<h1>Not Found</h1>\n")
        if file.suffix == ".html":
            content_type = HTML_TYPE
        else:
            content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return Response(200, (("Content-Type", content_type),), file.read_bytes())


class CorpusWeb:
    """What FixtureServer needs of a web: its `responses`."""

    def __init__(self, trees: Path, sites: tuple[Site, ...] = SITES) -> None:
        self.responses = CorpusResponses(trees, sites)


async def _serve(args: argparse.Namespace) -> None:
    trees = ensure_corpus()
    web = CorpusWeb(trees, select_sites(args.sites))
    server = FixtureServer(web, port=args.port, access_log=args.access_log)  # type: ignore[arg-type]
    await serve_until_stopped(server, args.port_file)


async def serve_until_stopped(server: FixtureServer, port_file: Path) -> None:
    """Start the server, write its port to `port_file` (atomically: a reader
    never sees half a number), and serve until SIGINT or SIGTERM."""
    await server.start_async()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tmp = port_file.with_name(port_file.name + ".tmp")
    tmp.write_text(f"{server.port}\n")
    os.replace(tmp, port_file)
    try:
        await stop.wait()
    finally:
        await server.close_async()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="download and unpack the packages")
    sub.add_parser("info", help="pages, bytes and seed of each site")
    serve = sub.add_parser("serve", help="serve the sites as an HTTP proxy on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--port-file", type=Path, required=True)
    serve.add_argument("--access-log", type=Path)
    serve.add_argument("--sites", help="comma list of hosts (default: all)")
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            asyncio.run(_serve(args))
            return 0
        trees = ensure_corpus()
    except CorpusUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.command == "info":
        for site in SITES:
            files = [p for _, p in html_files(trees, (site,))]
            size = sum(p.stat().st_size for p in files)
            print(f"{site.host:18} {len(files):5} pages {size / 1e6:6.1f} MB  {site.seed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
