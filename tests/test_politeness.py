"""Politeness, counted where it happens: at the server.

Every figure here comes from the fixture server's access log (when each request
to each host started and ended), never from our own settings: the per-host
limit with and without AutoThrottle, the politeness key (host, domain, ip), and
robots.txt (fetched once per host, Crawl-delay honoured and capped, 5xx and 429
deferring the host instead of allowing everything). First the pure rules of
crawler/robots.py, then real crawls through a local proxy.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest
from scrapy.robotstxt import ProtegoRobotParser

from crawler.domains import registered_domain
from crawler.robots import ALLOW, SKIP, RobotsFile, decide, must_retry
from crawler.testing.fixtureweb import FixtureServer
from crawler.testing.fixtureweb.server import max_concurrency
from tests.support.crawling import crawl_env
from tests.support.localweb import LocalWeb, html, page, watched_crawl

UA = "linkwatch/0.1 (+https://github.com/linkwatch/linkwatch)"
WATCH = "mysite.test"


def parse(body: bytes) -> ProtegoRobotParser:
    return ProtegoRobotParser(body, None)


def robots(text: str, status: int = 200) -> RobotsFile:
    return RobotsFile(status, text.encode(), 0.0)


# --- the rules, pure ---------------------------------------------------------------------


def test_a_crawl_delay_under_the_cap_is_kept():
    rules = decide(robots("User-agent: *\nCrawl-delay: 2.5\n"), parse, UA, 30)
    assert (rules.verdict, rules.crawl_delay) == (ALLOW, 2.5)


def test_a_crawl_delay_over_the_cap_skips_the_host():
    rules = decide(robots("User-agent: *\nCrawl-delay: 120\n"), parse, UA, 30)
    assert (rules.verdict, rules.reason) == (SKIP, "crawl_delay_too_long")


def test_the_crawl_delay_for_our_agent_wins_over_the_wildcard():
    text = "User-agent: *\nCrawl-delay: 100\n\nUser-agent: linkwatch\nCrawl-delay: 1\n"
    assert decide(robots(text), parse, UA, 30).crawl_delay == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_defer_and_then_disallow_never_allow_all(status):
    assert must_retry(status)
    rules = decide(robots("", status), parse, UA, 30)
    assert (rules.verdict, rules.reason) == (SKIP, "robots_unavailable")


@pytest.mark.parametrize("status", [401, 403, 404, 410])
def test_a_missing_robots_txt_allows_everything(status):
    assert not must_retry(status)
    rules = decide(robots("User-agent: *\nDisallow: /\n", status), parse, UA, 30)
    assert rules.verdict == ALLOW and rules.allowed("http://x.test/a", UA)


def test_no_answer_at_all_skips_the_host():
    assert decide(RobotsFile(0), parse, UA, 30).reason == "robots_unreachable"


def test_a_robots_file_survives_sharing_byte_for_byte():
    original = RobotsFile(200, "User-agent: *\nDisallow: /é\n".encode(), 12.5)
    assert RobotsFile.from_json(original.to_json()) == original


# --- crawls ---------------------------------------------------------------------------------


def access_log(server: FixtureServer) -> list[dict]:
    return server.access_log_entries()


def pages_of(entries: list[dict], host: str | None = None) -> list[dict]:
    # robots.txt and the seed hosts' sitemaps (/sitemap.xml: none here) are not pages;
    # they are requests all the same, so the concurrency counts keep them.
    return [
        e
        for e in entries
        if e["path"] not in ("/robots.txt", "/sitemap.xml") and (host is None or e["host"] == host)
    ]


def most_at_once(entries: list[dict], key=lambda host: host) -> int:
    """The most requests one politeness key (host by default) served at once."""
    grouped = [dict(e, host=key(e["host"])) for e in entries]
    return max(max_concurrency(grouped).values())


def starts_gaps(entries: list[dict]) -> list[float]:
    starts = sorted(e["start"] for e in entries)
    return [b - a for a, b in itertools.pairwise(starts)]


def site(host: str, pages: int, robots_txt: str | None = None) -> dict:
    """A home page linking to `pages` pages, each linking to mysite.test."""
    out = {f"http://{host}/": page(*(f"http://{host}/p{i}" for i in range(pages)))}
    for i in range(pages):
        out[f"http://{host}/p{i}"] = page(f"http://{WATCH}/from-{host}-{i}")
    if robots_txt is not None:
        out[f"http://{host}/robots.txt"] = html(robots_txt, content_type="text/plain")
    return out


def crawl(tmp_path, web, seeds, settings=None, delay=0.05, timeout=120):
    log = tmp_path / f"access-{len(list(tmp_path.iterdir()))}.jsonl"
    with FixtureServer(web, access_log=log, delay=delay) as server:
        run = watched_crawl(
            {"seeds": ",".join(seeds), "watch": WATCH, "depth": "2"},
            crawl_env(server.proxy_url, LINKWATCH_DB=str(tmp_path / "lw.db")),
            tmp_path,
            settings={"CONCURRENT_REQUESTS": "64", **(settings or {})},
            timeout=timeout,
        )
        entries = access_log(server)
    assert run.returncode == 0, run.log[-3000:]
    return run, entries


def test_the_per_host_limit_holds_without_a_delay(tmp_path):
    # The Scrapy 2.19 burst: with no delay its downloader starts a slot's whole
    # queue at once (15 at once against a limit of 2, counted by a server).
    web = LocalWeb(site("www.one.test", 30))
    _, entries = crawl(
        tmp_path,
        web,
        ["http://www.one.test/"],
        {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "AUTOTHROTTLE_ENABLED": "0"},
    )
    assert len(pages_of(entries)) == 31
    assert most_at_once(entries) == 2  # used, and never passed


def test_the_per_host_limit_holds_under_autothrottle(tmp_path):
    web = LocalWeb(site("www.one.test", 20))
    _, entries = crawl(
        tmp_path,
        web,
        ["http://www.one.test/"],
        {
            "CONCURRENT_REQUESTS_PER_DOMAIN": "2",
            "AUTOTHROTTLE_ENABLED": "1",
            "AUTOTHROTTLE_START_DELAY": "0.01",
            "AUTOTHROTTLE_TARGET_CONCURRENCY": "8",
        },
    )
    assert len(pages_of(entries)) == 21
    assert most_at_once(entries) <= 2


def test_the_domain_key_limits_all_hosts_of_a_domain_together(tmp_path):
    web = LocalWeb({**site("www.two.test", 12), **site("blog.two.test", 12)})
    seeds = ["http://www.two.test/", "http://blog.two.test/"]
    limits = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "AUTOTHROTTLE_ENABLED": "0"}
    _, by_host = crawl(tmp_path, web, seeds, limits)
    _, by_domain = crawl(tmp_path, web, seeds, {**limits, "LINKWATCH_POLITENESS_KEY": "domain"})
    assert len(pages_of(by_domain)) == 26
    assert most_at_once(by_host, registered_domain) > 2  # two hosts, 2 each
    assert most_at_once(by_domain, registered_domain) == 2


def test_the_ip_key_limits_hosts_served_from_one_address(tmp_path):
    # "localhost" resolves to 127.0.0.1 here; the literal is the same address.
    web = LocalWeb({**site("localhost", 12), **site("127.0.0.1", 12)})
    seeds = ["http://localhost/", "http://127.0.0.1/"]
    limits = {"CONCURRENT_REQUESTS_PER_DOMAIN": "2", "AUTOTHROTTLE_ENABLED": "0"}
    _, by_ip = crawl(tmp_path, web, seeds, {**limits, "LINKWATCH_POLITENESS_KEY": "ip"})
    assert len(pages_of(by_ip)) == 26
    assert most_at_once(by_ip, lambda host: "one address") == 2


def test_a_bad_politeness_key_is_a_usage_error(tmp_path):
    run = watched_crawl(
        {"seeds": "http://www.one.test/", "watch": WATCH},
        crawl_env("http://127.0.0.1:9"),
        tmp_path,
        settings={"LINKWATCH_POLITENESS_KEY": "subnet"},
    )
    assert run.returncode == 2
    assert "LINKWATCH_POLITENESS_KEY must be one of host, domain, ip" in run.log
    assert "Traceback" not in run.log


def test_robots_txt_is_fetched_once_per_host(tmp_path):
    web = LocalWeb({**site("www.three.test", 20, ""), **site("blog.three.test", 5)})
    _, entries = crawl(
        tmp_path, web, ["http://www.three.test/", "http://blog.three.test/"], delay=0.01
    )
    fetched = Counter(e["host"] for e in entries if e["path"] == "/robots.txt")
    assert fetched == {"www.three.test": 1, "blog.three.test": 1}


@pytest.mark.parametrize("autothrottle", ["0", "1"])
def test_crawl_delay_is_honoured_per_host(tmp_path, autothrottle):
    web = LocalWeb(
        {
            **site("slow.four.test", 4, "User-agent: *\nCrawl-delay: 0.6\n"),
            **site("www.four.test", 8),
        }
    )
    _, entries = crawl(
        tmp_path,
        web,
        ["http://slow.four.test/", "http://www.four.test/"],
        {"AUTOTHROTTLE_ENABLED": autothrottle, "AUTOTHROTTLE_START_DELAY": "0.01"},
        delay=0.02,
    )
    slow = pages_of(entries, "slow.four.test")
    assert len(slow) == 5
    # Start to start, as the server saw them (a little jitter on loopback).
    assert min(starts_gaps(slow)) >= 0.6 - 0.02, starts_gaps(slow)
    assert most_at_once(slow) == 1
    # The other host is not slowed by it.
    fast = pages_of(entries, "www.four.test")
    assert min(starts_gaps(fast)) < 0.3


def test_a_host_asking_too_long_a_crawl_delay_is_skipped_and_counted(tmp_path):
    web = LocalWeb(
        {
            **site("sloth.five.test", 10, "User-agent: *\nCrawl-delay: 120\n"),
            **site("www.five.test", 3),
        }
    )
    run, entries = crawl(
        tmp_path, web, ["http://sloth.five.test/", "http://www.five.test/"], timeout=60
    )
    assert pages_of(entries, "sloth.five.test") == []
    assert len(pages_of(entries, "www.five.test")) == 4
    assert run.stats["linkwatch/robots/hosts_skipped/crawl_delay_too_long"] == 1
    assert run.stats["linkwatch/robots/skipped/crawl_delay_too_long"] == 1  # the seed
    assert run.seconds < 40  # nothing waited 120 s


class FlakyRobots(LocalWeb):
    """robots.txt answers `failures` server errors (with Retry-After), then rules."""

    def __init__(self, pages, host, failures, status=503):
        super().__init__(pages)
        self.host, self.failures, self.status = host, failures, status
        self.asked = 0

    def get(self, host, path="/", default=None):
        if (host, path) == (self.host, "/robots.txt"):
            self.asked += 1
            if self.asked <= self.failures:
                return html("busy", status=self.status, headers=(("Retry-After", "0.3"),))
        return super().get(host, path, default)


@pytest.mark.parametrize("status", [503, 429])
def test_a_failing_robots_txt_defers_its_host_then_its_rules_apply(tmp_path, status):
    pages = site("www.six.test", 4, "User-agent: *\nDisallow: /p3\n")
    web = FlakyRobots(pages, "www.six.test", failures=2, status=status)
    run, entries = crawl(
        tmp_path,
        web,
        ["http://www.six.test/"],
        {"LINKWATCH_ROBOTS_RETRY_DELAY": "5"},  # Retry-After (0.3 s) wins
    )
    robots_fetches = [e for e in entries if e["path"] == "/robots.txt"]
    assert [e["status"] for e in robots_fetches] == [status, status, 200]
    fetched = pages_of(entries, "www.six.test")
    # Nothing was fetched before robots.txt answered, and its Disallow held.
    assert min(e["start"] for e in fetched) > robots_fetches[-1]["end"]
    assert sorted(e["path"] for e in fetched) == ["/", "/p0", "/p1", "/p2"]
    assert run.stats["linkwatch/robots/deferred"] == 2


def test_a_robots_txt_that_keeps_failing_disallows_its_host(tmp_path):
    pages = {**site("www.seven.test", 3, ""), **site("www.eight.test", 2)}
    web = FlakyRobots(pages, "www.seven.test", failures=99, status=500)
    run, entries = crawl(
        tmp_path,
        web,
        ["http://www.seven.test/", "http://www.eight.test/"],
        {"LINKWATCH_ROBOTS_RETRIES": "2", "LINKWATCH_ROBOTS_RETRY_DELAY": "0.2"},
    )
    assert web.asked == 3  # the first try and two more
    assert pages_of(entries, "www.seven.test") == []
    assert len(pages_of(entries, "www.eight.test")) == 3
    assert run.stats["linkwatch/robots/hosts_skipped/robots_unavailable"] == 1


def test_pages_per_politeness_key_are_what_the_server_counts():
    # The helper above, checked on a hand-made log: two overlapping requests on
    # two hosts of one domain are 1 per host and 2 per domain.
    entries = [
        {"host": "a.x.test", "start": 0.0, "end": 1.0},
        {"host": "b.x.test", "start": 0.5, "end": 1.5},
        {"host": "a.x.test", "start": 1.0, "end": 2.0},
    ]
    assert most_at_once(entries) == 1
    assert most_at_once(entries, registered_domain) == 2
    by_host = defaultdict(list)
    for e in entries:
        by_host[e["host"]].append(e)
    assert starts_gaps(by_host["a.x.test"]) == [1.0]


# --- a shared crawl: the same rules across workers -------------------------------------


@pytest.fixture
def shared_crawl(tmp_path, redis_url):
    """Runs N workers of one shared crawl (a fresh key prefix each) to their end."""
    import subprocess
    import uuid

    from tests.support.crawling import ROOT, crawl_command

    def run(web, seeds, workers=2, settings=None, delay=0.05):
        log = tmp_path / f"access-{uuid.uuid4().hex}.jsonl"
        prefix = f"lw-test-{uuid.uuid4().hex}"
        argv = crawl_command(
            {"seeds": ",".join(seeds), "watch": WATCH, "depth": "2"},
            {
                "LINKWATCH_REDIS_PREFIX": prefix,
                "LINKWATCH_CLOSE_WHEN_IDLE": "2",
                "CONCURRENT_REQUESTS": "32",
                **(settings or {}),
            },
        )
        with FixtureServer(web, access_log=log, delay=delay) as server:
            env = crawl_env(
                server.proxy_url, LINKWATCH_DB=str(tmp_path / "lw.db"), REDIS_URL=redis_url
            )
            procs = [
                subprocess.Popen(
                    argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
                )
                for _ in range(workers)
            ]
            logs = [p.communicate(timeout=120)[1].decode(errors="replace") for p in procs]
            entries = access_log(server)
        for proc, text in zip(procs, logs, strict=True):
            assert proc.returncode == 0, text[-3000:]
        return entries, logs

    return run


@pytest.mark.redis
def test_shared_crawl_fetches_robots_once_and_honours_crawl_delay_across_workers(shared_crawl):
    web = LocalWeb(
        {
            **site("slow.nine.test", 6, "User-agent: *\nCrawl-delay: 0.6\n"),
            **site("www.nine.test", 12, ""),
            **site("blog.nine.test", 12),
        }
    )
    seeds = ["http://slow.nine.test/", "http://www.nine.test/", "http://blog.nine.test/"]
    entries, _ = shared_crawl(web, seeds, settings={"LINKWATCH_HOST_CONCURRENCY": "2"})
    fetched = Counter(e["host"] for e in entries if e["path"] == "/robots.txt")
    assert fetched == {"slow.nine.test": 1, "www.nine.test": 1, "blog.nine.test": 1}
    slow = pages_of(entries, "slow.nine.test")
    assert len(slow) == 7
    assert most_at_once(slow) == 1
    assert min(starts_gaps(slow)) >= 0.6 - 0.02, starts_gaps(slow)
    assert most_at_once(pages_of(entries, "www.nine.test")) <= 2
    assert len(pages_of(entries)) == 7 + 13 + 13


@pytest.mark.redis
def test_shared_crawl_defers_a_failing_robots_txt_and_skips_a_sloth(shared_crawl):
    pages = {
        **site("www.ten.test", 4, "User-agent: *\nDisallow: /p3\n"),
        **site("sloth.ten.test", 5, "User-agent: *\nCrawl-delay: 300\n"),
    }
    web = FlakyRobots(pages, "www.ten.test", failures=2)
    entries, _ = shared_crawl(web, ["http://www.ten.test/", "http://sloth.ten.test/"])
    robots_fetches = [
        e for e in entries if e["path"] == "/robots.txt" and e["host"] == "www.ten.test"
    ]
    assert [e["status"] for e in robots_fetches] == [503, 503, 200]
    fetched = pages_of(entries, "www.ten.test")
    assert min(e["start"] for e in fetched) > robots_fetches[-1]["end"]
    assert sorted(e["path"] for e in fetched) == ["/", "/p0", "/p1", "/p2"]
    assert pages_of(entries, "sloth.ten.test") == []
