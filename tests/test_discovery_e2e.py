"""Discovery end to end: real `scrapy crawl backlinks -a expand=...` processes on
the discovery benchmark's web (bench/discovery_web.py), embedded and shared."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections import Counter

import pytest

from bench.discovery_web import DiscoveryWeb
from bench.webserver import ProxyServer
from crawler.testing.fixtureweb import FixtureServer
from tests.support.crawling import ROOT, assert_clean_log, crawl_env, run_crawl
from tests.support.localweb import LocalWeb, html, page

pytestmark = pytest.mark.e2e

DOMAINS = 150


@pytest.fixture(scope="module")
def web():
    return DiscoveryWeb(domains=DOMAINS, seed=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ProxyServer(
        "bench.discovery_web", ["--domains", str(DOMAINS), "--seed", "5"],
        tmp_path_factory.mktemp("web"),
    ) as proxy:  # fmt: skip
        yield proxy


def discovered(db) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "discovered", "mysite.test", "--format", "json",
         "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines()]


def check_politeness(web, entries, pages_cap):
    pages = [e for e in entries if e["path"] != "/robots.txt"]
    assert not [e for e in pages if e["url"] in web.pages and not web.allows(e["url"])]
    assert not [e for e in entries if e["host"].endswith("mysite.test")]
    twice = [u for u, n in Counter(e["url"] for e in pages).items() if n > 1]
    assert not twice, twice[:5]
    robots = Counter(e["host"] for e in entries if e["path"] == "/robots.txt")
    assert max(robots.values()) == 1, [h for h, n in robots.items() if n > 1][:5]
    per_site = Counter(web.pages[e["url"]].site for e in pages if e["url"] in web.pages)
    expanded = set(per_site) - set(web.seeds)
    assert expanded and max(per_site[d] for d in expanded) <= pages_cap, per_site


def test_an_embedded_discovery_crawl_from_a_search_console_export(web, server, tmp_path):
    seeds = tmp_path / "gsc.csv"
    rows = "".join(f"{d},3,1\n" for d in web.seeds)
    seeds.write_text(f"Site,Linking pages,Target pages\n{rows}=HYPERLINK(1),1,1\n")
    db = tmp_path / "lw.db"
    server.new_entries()
    result = run_crawl(
        {"seeds": f"@{seeds}", "watch": "mysite.test", "expand": "2", "expand_pages": "20"},
        crawl_env(server.proxy_url, LINKWATCH_DB=str(db)),
        {"CLOSESPIDER_PAGECOUNT": "900", "AUTOTHROTTLE_ENABLED": "0"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "gsc.csv line 8: not a URL or domain" in result.stderr
    assert_clean_log(result.stderr)
    rows = discovered(db)
    truth = set(web.referring()) - set(web.seeds)
    assert len(rows) >= 5 and {r["domain"] for r in rows} <= truth
    for row in rows:
        path = row["path"].split(" > ")
        assert path[0] in web.seeds and path[-1] == row["domain"] and len(path) == row["hop"] + 1
        assert web.pages[row["via"]].site == path[-2]
    check_politeness(web, server.new_entries(), pages_cap=20)


def test_a_shared_discovery_crawl_of_two_workers(web, server, tmp_path, redis_url):
    import redis

    client = redis.Redis.from_url(redis_url)
    prefix = f"linkwatch-test-disc-{uuid.uuid4().hex[:8]}"
    db = tmp_path / "lw.db"
    seeds = ",".join(f"http://www.{d}/" for d in web.seeds)
    server.new_entries()
    settings = {
        "REDIS_URL": redis_url, "LINKWATCH_CLOSE_WHEN_IDLE": "2", "AUTOTHROTTLE_ENABLED": "0",
        "CLOSESPIDER_PAGECOUNT": "400", "LINKWATCH_REDIS_PREFIX": f"{prefix}:%(spider)s",
    }  # fmt: skip
    args = {"seeds": seeds, "watch": "mysite.test", "expand": "2", "expand_pages": "20"}
    env = crawl_env(server.proxy_url, LINKWATCH_DB=str(db))
    from tests.support.crawling import crawl_command

    workers = [
        subprocess.Popen(crawl_command(args if w == 0 else {**args}, settings), cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(2)
    ]  # fmt: skip
    logs = [w.communicate(timeout=240)[1] for w in workers]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log[-3000:]
        assert_clean_log(log)
    rows = discovered(db)
    truth = set(web.referring()) - set(web.seeds)
    assert rows, logs[0][-2000:]
    assert {r["domain"] for r in rows} <= truth, rows
    entries = server.new_entries()
    check_politeness(web, entries, pages_cap=2 * 20)  # expand_pages holds per worker
    homes = Counter(e["url"] for e in entries if e["path"] == "/")
    assert max(homes.values()) == 1  # no site expanded twice
    for key in client.scan_iter(f"{prefix}:*"):  # never flushdb: it may be a user's Redis
        client.delete(key)
    client.close()


def test_expanded_sites_obey_robots_txt_like_seeds(tmp_path):
    """An expanded site is fetched only as a seed would be: its Disallow holds, a
    Crawl-delay over the cap skips it, the watched site and denied platforms are
    never entered."""
    disallow = html("User-agent: *\nDisallow: /private\n", content_type="text/plain")
    sloth = html("User-agent: *\nCrawl-delay: 300\n", content_type="text/plain")
    web = LocalWeb(
        {
            "http://www.seed.test/": page(
                "http://www.open.test/",
                "http://www.sloth.test/",
                "http://www.facebook.com/seed",
                "http://mysite.test/from-seed",
            ),
            "http://www.open.test/": page("http://www.open.test/private/x", "http://mysite.test/a"),
            "http://www.open.test/private/x": page("http://mysite.test/secret"),
            "http://www.open.test/robots.txt": disallow,
            "http://www.sloth.test/": page("http://mysite.test/b"),
            "http://www.sloth.test/robots.txt": sloth,
        }
    )
    log = tmp_path / "access.jsonl"
    with FixtureServer(web, access_log=log, delay=0.01) as server:
        result = run_crawl(
            {"seeds": "http://www.seed.test/", "watch": "mysite.test", "expand": "1"},
            crawl_env(server.proxy_url, LINKWATCH_DB=str(tmp_path / "lw.db")),
            timeout=120,
        )
        entries = server.access_log_entries()
    assert result.returncode == 0, result.stderr[-3000:]
    fetched = {(e["host"], e["path"]) for e in entries}
    assert ("www.open.test", "/") in fetched  # expanded into
    assert ("www.open.test", "/private/x") not in fetched  # its Disallow holds
    assert not [h for h, p in fetched if h == "www.sloth.test" and p != "/robots.txt"]
    assert not [h for h, _ in fetched if h.endswith(("mysite.test", "facebook.com"))]
    rows = discovered(tmp_path / "lw.db")
    assert [r["domain"] for r in rows] == ["open.test"], rows
