"""Small hand-made webs for the hardening tests, and a crawl runner that watches the crawl.

``LocalWeb`` answers (host, path) with responses written in the test (or made by
a function, for endless sites), and is served by the fixture web's own proxy
server: ``FixtureServer(LocalWeb(...))``. Nothing leaves 127.0.0.1: the crawl
reaches every host through that proxy, which answers from memory.

``watched_crawl`` runs ``scrapy crawl backlinks`` like tests/support/crawling.py does,
and meanwhile samples the process with psutil (memory, listening sockets);
the ``StatsFile`` extension writes the crawl's final stats, finish reason and
peak RSS to a JSON file, so tests read numbers instead of parsing logs.
"""

from __future__ import annotations

import json
import resource
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.testing.fixtureweb import Response
from tests.support.crawling import ROOT, crawl_command

HTML = "text/html; charset=utf-8"

Handler = Callable[[str, str], Response | None]


def html(body: str | bytes, status: int = 200, headers: tuple = (), content_type=HTML) -> Response:
    data = body.encode() if isinstance(body, str) else body
    return Response(status, (("Content-Type", content_type), *headers), data)


def page(*links: str, title: str = "") -> Response:
    """An HTML page linking to each of ``links``."""
    anchors = "".join(f'<a href="{link}">{link}</a>\n' for link in links)
    return html(f"<!DOCTYPE html><title>{title}</title><body>\n{anchors}</body>")


class LocalWeb:
    """Responses by URL (``http://host/path``), then a fallback handler; else 404."""

    def __init__(
        self, pages: dict[str, Response] | None = None, handler: Handler | None = None
    ) -> None:
        self.pages = {}
        for url, response in (pages or {}).items():
            host, _, path = url.split("://", 1)[1].partition("/")
            self.pages[(host, "/" + path)] = response
        self.handler = handler

    @property
    def responses(self) -> LocalWeb:  # what FixtureServer reads
        return self

    def get(self, host: str, path: str = "/", default: Response | None = None) -> Response | None:
        response = self.pages.get((host, path))
        if response is None and self.handler is not None:
            response = self.handler(host, path)
        if response is None and not path.startswith("/robots.txt"):
            return html("not here", status=404)
        return response or default


class StatsFile:
    """Extension: the crawl's stats as JSON in LINKWATCH_TEST_STATS_FILE at close."""

    def __init__(self, path: str, crawler: Any) -> None:
        self.path = path
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> StatsFile:
        from scrapy import signals
        from scrapy.exceptions import NotConfigured

        path = crawler.settings.get("LINKWATCH_TEST_STATS_FILE")
        if not path:
            raise NotConfigured
        extension = cls(path, crawler)
        # After the stats collector has its finish reason: connect late, low priority.
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if _jsonable(v)}
        stats["peak_rss"] = peak_rss()
        Path(self.path).write_text(json.dumps(stats, indent=1, sort_keys=True))


def peak_rss() -> int:
    """The most memory this process has had resident, in bytes.

    VmHWM, not getrusage's ru_maxrss (nor Scrapy's memusage/max, built on it):
    Linux carries ru_maxrss over an exec, so a crawl started by a big test
    process would report that process's size.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _jsonable(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


STATS_EXTENSION = json.dumps({"tests.support.localweb.StatsFile": 0})


@dataclass
class CrawlRun:
    """What a watched crawl did."""

    returncode: int
    log: str
    stats: dict[str, Any]
    max_rss: int = 0  # bytes, the most psutil saw
    listening: set[tuple[str, int]] = field(default_factory=set)  # (address, port)
    seconds: float = 0.0

    def stat(self, prefix: str) -> int:
        """Sum of the stats whose name starts with ``prefix``."""
        return sum(v for k, v in self.stats.items() if k.startswith(prefix) and _number(v))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def watched_crawl(
    spider_args: dict[str, str],
    env: dict[str, str],
    tmp: Path,
    settings: dict[str, str] | None = None,
    timeout: float = 120,
    during: Callable[[subprocess.Popen, float], None] | None = None,
) -> CrawlRun:
    """Run a crawl to its end, sampling it every 50 ms; ``during(proc, elapsed)``
    is called at each sample (to stop a server, send a signal...)."""
    import psutil

    stats_file = tmp / f"stats-{time.monotonic_ns()}.json"
    log_file = tmp / f"crawl-{time.monotonic_ns()}.log"
    argv = crawl_command(
        spider_args,
        {
            "EXTENSIONS": STATS_EXTENSION,
            "LINKWATCH_TEST_STATS_FILE": str(stats_file),
            **(settings or {}),
        },
    )
    run = CrawlRun(returncode=-1, log="", stats={})
    start = time.monotonic()
    with log_file.open("w") as log:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        watched = psutil.Process(proc.pid)
        try:
            while proc.poll() is None:
                elapsed = time.monotonic() - start
                if elapsed > timeout:
                    raise AssertionError(f"crawl still running after {timeout}s")
                try:
                    run.max_rss = max(run.max_rss, watched.memory_info().rss)
                    for conn in watched.net_connections(kind="inet"):
                        if conn.status == psutil.CONN_LISTEN:
                            run.listening.add((conn.laddr.ip, conn.laddr.port))
                except psutil.Error:
                    pass  # it just ended
                if during is not None:
                    during(proc, elapsed)
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    run.seconds = time.monotonic() - start
    run.returncode = proc.returncode
    run.log = log_file.read_text(errors="replace")
    if stats_file.exists():
        run.stats = json.loads(stats_file.read_text())
    return run
