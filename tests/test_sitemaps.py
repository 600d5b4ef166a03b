"""Sitemaps (issue 13): seed hosts' sitemaps feed the crawl at depth 1.

First the pure reading of sitemap files (crawler/sitemaps.py); then the
spider's callbacks with hand-built responses (crawler/spiders/sitemaps.py),
the robots middleware handing a seed its host's Sitemap: lines, and a
sitemap request in a shared frontier; then real crawls of the fixture web on
SQLite, counted by its server: a page that only a sitemap lists is crawled
and its edges stored, every sitemap is fetched once and through robots.txt,
what lies outside the seed's domain is not followed, the caps are counted,
and `-a sitemaps=false` fetches no sitemap at all.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.request import request_from_dict
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

import settings.embedded
from crawler.frontier import serializer
from crawler.frontier.leases import LeaseSpiderMiddleware
from crawler.frontier.pump import LEASE_META
from crawler.robots import SITEMAPS_META, RobotsFile, RobotsMiddleware, decide
from crawler.sitemaps import (
    INDEX,
    URLSET,
    Entry,
    SitemapError,
    read_sitemap,
    recently_changed,
    robots_sitemaps,
    sitemap_body,
)
from crawler.spiders.backlinks import BacklinksSpider
from crawler.spiders.sitemaps import SITEMAP_META
from crawler.testing.fixtureweb import FixtureServer, build_web
from tests.support.crawling import (
    assert_clean_log,
    assert_edges_equal,
    crawl_env,
    sqlite_edges,
)
from tests.support.localweb import watched_crawl

SITE = "http://www.site.test"
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


def urlset(*entries: tuple[str, str]) -> bytes:
    urls = "".join(
        f"<url><loc>{loc}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>"
        for loc, lastmod in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>\n'
    ).encode()


def index(*locs: str) -> bytes:
    sitemaps = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{sitemaps}'
        "</sitemapindex>\n"
    ).encode()


# --- reading sitemap files (pure) ---------------------------------------------------------


def test_robots_txt_sitemap_lines_are_read_in_order_once_each():
    body = (
        b"User-agent: *\nDisallow: /private\n"
        b"Sitemap: http://www.site.test/a.xml\n"
        b"  sitemap :  /relative.xml  \n"
        b"SITEMAP:http://www.site.test/a.xml\n"
        b"Sitemap: http://www.site.test/\xff.xml\n"  # not UTF-8: skipped
        b"# Sitemap: http://www.site.test/commented.xml\n"
        b"Sitemaps: http://www.site.test/not-the-directive.xml\n"
    )
    assert robots_sitemaps(body) == ("http://www.site.test/a.xml", "/relative.xml")
    assert robots_sitemaps(b"User-agent: *\nDisallow:\n") == ()


def test_a_gzip_sitemap_is_decompressed_within_the_size_cap():
    xml = urlset((f"{SITE}/a", ""))
    assert sitemap_body(xml, 0) == xml
    assert sitemap_body(gzip.compress(xml), len(xml)) == xml
    # Two members, as gzip(1) concatenates them.
    assert sitemap_body(gzip.compress(xml[:40]) + gzip.compress(xml[40:]), 0) == xml
    # A cut-short file gives what it has (as Scrapy's gunzip); garbage gives nothing.
    assert xml.startswith(sitemap_body(gzip.compress(xml)[:-12], 0)[:30])
    with pytest.raises(SitemapError) as invalid:
        sitemap_body(b"\x1f\x8b\x08" + b"not gzip at all" * 3, 0)
    assert invalid.value.reason == "invalid"
    # A bomb: 1 MiB of zeros is 1 KiB of gzip; the cap holds on what comes out.
    bomb = gzip.compress(b"\0" * (1 << 20))
    assert len(bomb) < 2000
    with pytest.raises(SitemapError) as too_large:
        sitemap_body(bomb, 100_000)
    assert too_large.value.reason == "too_large"
    with pytest.raises(SitemapError, match="too_large"):
        sitemap_body(xml, len(xml) - 1)


def test_a_urlset_and_an_index_are_read_with_their_lastmod_up_to_the_url_cap():
    xml = urlset(
        (f" {SITE}/a?x=1&amp;y=2 ", "2024-05-30"),
        (f"{SITE}/b", ""),
        (f"{SITE}/c", "2024-01"),
    )
    sitemap = read_sitemap(xml, 0)
    assert sitemap.kind == URLSET and not sitemap.is_index and not sitemap.truncated
    assert sitemap.entries == (
        Entry(f"{SITE}/a?x=1&y=2", "2024-05-30"),
        Entry(f"{SITE}/b"),
        Entry(f"{SITE}/c", "2024-01"),
    )
    capped = read_sitemap(xml, 2)
    assert [e.loc for e in capped.entries] == [f"{SITE}/a?x=1&y=2", f"{SITE}/b"]
    assert capped.truncated
    assert not read_sitemap(xml, 3).truncated  # exactly at the cap: nothing left out
    listed = read_sitemap(index(f"{SITE}/s1.xml.gz", f"{SITE}/s2.xml"), 0)
    assert listed.kind == INDEX and listed.is_index
    assert [e.loc for e in listed.entries] == [f"{SITE}/s1.xml.gz", f"{SITE}/s2.xml"]
    # Without the namespace, and an entry without <loc> (skipped).
    bare = b"<urlset><url><lastmod>2024</lastmod></url><url><loc>/x</loc></url></urlset>"
    assert read_sitemap(bare, 0).entries == (Entry("/x"),)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not XML at all",
        b"<!DOCTYPE html><html><body><a href='/x'>a soft 404</a></body></html>",
        b"<rss><channel><item><link>http://www.site.test/x</link></item></channel></rss>",
    ],
)
def test_what_is_not_a_sitemap_is_invalid(body):
    with pytest.raises(SitemapError) as error:
        read_sitemap(body, 0)
    assert error.value.reason == "invalid"


def test_entities_are_never_expanded_nor_fetched(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("http://www.site.test/from-a-local-file")
    xml = (
        f'<!DOCTYPE urlset [<!ENTITY file SYSTEM "file://{secret}">'
        '<!ENTITY a "http://www.site.test/expanded">]>'
        "<urlset><url><loc>&file;</loc></url><url><loc>&a;</loc></url>"
        "<url><loc>http://www.site.test/plain</loc></url></urlset>"
    ).encode()
    assert [e.loc for e in read_sitemap(xml, 0).entries] == ["http://www.site.test/plain"]


@pytest.mark.parametrize(
    ("lastmod", "recent"),
    [
        ("2024-05-20", True),
        ("2024-05-02T14:00:00Z", True),  # 29 days and 22 hours before NOW
        ("2024-05-02T08:00:00Z", False),  # 30 days and 4 hours
        ("2024-05-31T23:00:00-05:00", True),  # a zone: 2024-06-01T04:00Z
        ("2024-06", True),  # a month: its first day
        ("2024", False),
        ("2024-06-03", False),  # more than a day ahead: a wrong clock
        ("", False),
        ("last tuesday", False),
        ("2024-13-01", False),
    ],
)
def test_recently_changed_reads_w3c_datetimes(lastmod, recent):
    assert recently_changed(lastmod, NOW, 30) is recent
    assert recently_changed(lastmod, NOW, 0) is False  # 0 days: never


# --- the spider's callbacks -------------------------------------------------------------


def make_spider(depth: int = 2, max_pages: int = 100, args=None, **settings_dict):
    profile = Settings()
    profile.setmodule(settings.embedded)
    options = {**profile.copy_to_dict(), "TWISTED_REACTOR_ENABLED": False, **settings_dict}
    crawler = get_crawler(BacklinksSpider, options)
    crawler.stats.open_spider()
    spider = BacklinksSpider.from_crawler(
        crawler,
        seeds=f"{SITE}/",
        watch="mysite.test",
        depth=str(depth),
        max_pages_per_domain=str(max_pages),
        **(args or {}),
    )
    spider.follow_request(f"{SITE}/", depth=0)  # what `start` does with the seed
    return spider


def stats(spider) -> dict:
    prefix = "linkwatch/sitemaps/"
    return {
        k.removeprefix(prefix): v
        for k, v in spider.crawler.stats.get_stats().items()
        if k.startswith(prefix)
    }


SEED_PAGE = '<!doctype html><title>Home</title><a href="/about">About</a>'


def seed_page(url: str = f"{SITE}/", sitemaps=(), **meta) -> HtmlResponse:
    """A seed's response as the robots middleware leaves it: its host's Sitemap: lines."""
    request = Request(url, meta={"depth": 0, SITEMAPS_META: sitemaps, **meta})
    return HtmlResponse(url, body=SEED_PAGE.encode(), encoding="utf-8", request=request)


def answer(request: Request, body: bytes = b"", status: int = 200, headers=None) -> Response:
    return Response(request.url, status=status, body=body, headers=headers, request=request)


def requests_of(output) -> list[Request]:
    out = list(output)
    assert not [o for o in out if not isinstance(o, Request)], "a sitemap is never an item"
    return out


def sitemap_requests(spider, response) -> list[Request]:
    return [
        o
        for o in spider.parse(response)
        if isinstance(o, Request) and o.callback == spider.parse_sitemap
    ]


def test_a_seed_page_asks_for_the_sitemaps_its_robots_txt_names():
    spider = make_spider(LINKWATCH_SITEMAP_MAX_SIZE=1000)
    named = (f"{SITE}/a.xml", "/b.xml.gz?utm_source=x", "http://cdn.other.test/c.xml")
    out = list(spider.parse(seed_page(sitemaps=named)))
    requests = [o for o in out if isinstance(o, Request)]
    assert [r.url for r in requests] == [f"{SITE}/a.xml", f"{SITE}/b.xml.gz", f"{SITE}/about"]
    first = requests[0]
    assert (first.callback, first.errback) == (spider.parse_sitemap, spider.sitemap_failed)
    assert first.meta["download_maxsize"] == 1000 and first.priority == 0
    assert first.meta[SITEMAP_META] == {"domain": "site.test", "level": 0, "redirects": 0}
    assert "depth" not in first.meta  # not a page: the robots middleware leaves it alone
    assert isinstance(out[-1], dict)  # the seed is still one page item, last
    assert stats(spider) == {"requested": 2, "off_domain": 1}
    assert spider.pages_per_domain == {"site.test": 2}  # the seed and /about, no sitemap
    # Once per host: another seed page of the host asks for nothing more.
    assert sitemap_requests(spider, seed_page(f"{SITE}/other", sitemaps=named)) == []


def test_a_host_whose_robots_txt_names_none_is_asked_for_sitemap_xml():
    spider = make_spider()
    (request,) = sitemap_requests(spider, seed_page("http://www.site.test:8080/x"))
    assert request.url == "http://www.site.test:8080/sitemap.xml"
    # ROBOTSTXT_OBEY off: no robots middleware, /sitemap.xml all the same.
    spider = make_spider(ROBOTSTXT_OBEY=False)
    response = seed_page()
    del response.meta[SITEMAPS_META]
    assert [r.url for r in sitemap_requests(spider, response)] == [f"{SITE}/sitemap.xml"]


@pytest.mark.parametrize(
    ("spider_options", "response"),
    [
        ({}, lambda: seed_page(f"{SITE}/deeper", depth=1)),  # not a seed page
        ({}, lambda: seed_page(linkwatch_expanded=True)),  # a site discovery expanded into
        ({}, lambda: seed_page(linkwatch_recrawl=True)),  # a recrawl of a known page
        ({"args": {"sitemaps": "false"}}, seed_page),  # -a sitemaps=false
        ({"LINKWATCH_SITEMAPS": False}, seed_page),
        ({"depth": 0}, seed_page),  # a depth-0 crawl follows nothing
    ],
)
def test_only_seed_pages_of_a_crawl_that_follows_links_ask_for_sitemaps(spider_options, response):
    spider = make_spider(**spider_options)
    assert sitemap_requests(spider, response()) == []
    assert stats(spider) == {}


def test_a_response_the_robots_middleware_did_not_see_asks_for_nothing():
    spider = make_spider()
    response = seed_page()
    del response.meta[SITEMAPS_META]
    assert sitemap_requests(spider, response) == []


def test_a_urlset_yields_depth_1_pages_inside_the_seed_domain_recent_ones_first():
    spider = make_spider()
    (request,) = sitemap_requests(spider, seed_page())
    recent = (NOW - timedelta(days=3)).date().isoformat()
    body = urlset(
        (f"{SITE}/", recent),  # the seed: requested already
        (f"{SITE}/about", ""),  # linked from the seed: requested already
        (f"{SITE}/only-listed", "2001-01-01"),
        ("http://blog.site.test/post?utm_source=sitemap", recent),  # another host, same domain
        ("http://mysite.test/elsewhere", recent),  # another domain
        (f"{SITE}/a/a/a/a/a/a/a/a/a/a/trap", ""),  # a trap, as for links
        ("javascript:alert(1)", ""),
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("crawler.spiders.sitemaps.datetime", _FixedClock)
        out = requests_of(spider.parse_sitemap(answer(request, body)))
    assert [(r.url, r.priority) for r in out] == [
        (f"{SITE}/only-listed", -1),
        ("http://blog.site.test/post", 0),  # lastmod within 30 days
    ]
    assert all(r.meta["depth"] == 1 and r.callback == spider.parse for r in out)
    assert stats(spider) == {
        "requested": 1,
        "read": 1,
        "urls": 7,
        "off_domain": 1,
        "followed": 2,
        "recent": 1,
        "rejected/not_http": 1,
    }
    assert spider.crawler.stats.get_value("linkwatch/trap_skipped/repeated_segment") == 1


class _FixedClock(datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


def test_an_index_lists_gzip_sitemaps_one_level_deep():
    spider = make_spider()
    (root,) = sitemap_requests(spider, seed_page(sitemaps=(f"{SITE}/index.xml",)))
    listed = index(f"{SITE}/pages.xml.gz", f"{SITE}/more-index.xml", "http://other.test/s.xml")
    children = requests_of(spider.parse_sitemap(answer(root, listed)))
    assert [c.url for c in children] == [f"{SITE}/pages.xml.gz", f"{SITE}/more-index.xml"]
    assert all(c.meta[SITEMAP_META]["level"] == 1 for c in children)
    pages, nested = children
    gz = gzip.compress(urlset((f"{SITE}/listed", "")))
    out = requests_of(
        spider.parse_sitemap(answer(pages, gz, headers={"Content-Type": "application/x-gzip"}))
    )
    assert [r.url for r in out] == [f"{SITE}/listed"]
    # An index inside an index is read, not followed.
    assert requests_of(spider.parse_sitemap(answer(nested, index(f"{SITE}/deeper.xml")))) == []
    assert stats(spider) == {
        "requested": 3,
        "read": 3,
        "off_domain": 1,
        "urls": 1,
        "followed": 1,
        "nested_index": 1,
    }


def test_the_size_and_url_caps_are_counted():
    spider = make_spider(LINKWATCH_SITEMAP_MAX_SIZE=5000, LINKWATCH_SITEMAP_MAX_URLS=2)
    first, second = sitemap_requests(
        spider, seed_page(sitemaps=(f"{SITE}/big.xml.gz", f"{SITE}/many.xml"))
    )
    bomb = gzip.compress(urlset(*[(f"{SITE}/p{i}", "") for i in range(1000)]))
    assert len(bomb) < 5000
    assert requests_of(spider.parse_sitemap(answer(first, bomb))) == []
    many = urlset(*[(f"{SITE}/m{i}", "") for i in range(5)])
    out = requests_of(spider.parse_sitemap(answer(second, many)))
    assert [r.url for r in out] == [f"{SITE}/m0", f"{SITE}/m1"]
    # What Scrapy's downloader raises for a body over `download_maxsize`.
    cancelled = Failure(
        DownloadCancelledError(
            "Expected to receive 9000 bytes which is larger than download max size (5000)"
        )
    )
    cancelled.request = first
    spider.sitemap_failed(cancelled)
    assert stats(spider) == {
        "requested": 2,
        "read": 1,
        "too_large": 2,
        "url_cap": 1,
        "urls": 2,
        "followed": 2,
    }


def test_failed_missing_and_invalid_sitemaps_are_counted_and_yield_nothing():
    spider = make_spider()
    named = tuple(f"{SITE}/{n}.xml" for n in ("gone", "soft404", "refused", "dead"))
    gone, soft404, refused, dead = sitemap_requests(spider, seed_page(sitemaps=named))
    assert requests_of(spider.parse_sitemap(answer(gone, b"Not Found", 404))) == []
    html = b"<!DOCTYPE html><html><body>Oops</body></html>"
    assert requests_of(spider.parse_sitemap(answer(soft404, html))) == []
    for request, error in ((refused, IgnoreRequest("Forbidden by robots.txt")),
                           (dead, ConnectionRefusedError()),):  # fmt: skip
        failure = Failure(error)
        failure.request = request
        spider.sitemap_failed(failure)
    assert stats(spider) == {
        "requested": 4,
        "status/404": 1,
        "invalid": 1,
        "refused": 1,
        "fetch_failed/ConnectionRefusedError": 1,
    }


def test_the_page_cap_bounds_what_a_sitemap_adds():
    spider = make_spider(max_pages=3)
    requests = list(spider.parse(seed_page()))  # the seed counts, /about counts
    (request,) = [r for r in requests if isinstance(r, Request) and "sitemap" in r.url]
    body = urlset(*[(f"{SITE}/p{i}", "") for i in range(100)])
    out = requests_of(spider.parse_sitemap(answer(request, body)))
    assert [r.url for r in out] == [f"{SITE}/p0"]
    assert spider.crawler.stats.get_value("linkwatch/page_cap_reached") == 1


def test_a_redirected_sitemap_is_followed_inside_the_seed_domain():
    spider = make_spider()
    (request,) = sitemap_requests(spider, seed_page())
    moved = answer(request, status=301, headers={"Location": "/sitemap_index.xml"})
    (target,) = requests_of(spider.parse_sitemap(moved))
    assert target.url == f"{SITE}/sitemap_index.xml" and target.callback == spider.parse_sitemap
    assert target.meta[SITEMAP_META]["redirects"] == 1
    away = answer(target, status=302, headers={"Location": "http://elsewhere.test/sitemap.xml"})
    assert requests_of(spider.parse_sitemap(away)) == []
    assert stats(spider)["off_domain"] == 1


def test_a_sitemap_request_goes_through_a_shared_frontier_and_is_acked_at_once():
    spider = make_spider()
    (request,) = sitemap_requests(spider, seed_page())
    payload = serializer.dumps(serializer.request_fields(request, spider))
    back = request_from_dict(serializer.loads(payload), spider=spider)
    assert (back.url, back.callback, back.errback) == (
        request.url,
        spider.parse_sitemap,
        spider.sitemap_failed,
    )
    assert back.meta == request.meta and back.priority == request.priority
    # Leased from Redis: no item comes of it, so its lease is acknowledged at once.
    acked = []
    pump = SimpleNamespace(ack=acked.append)
    crawler = SimpleNamespace(engine=SimpleNamespace(scheduler=SimpleNamespace(pump=pump)))
    back.meta[LEASE_META] = "lease-1"
    response = answer(back, urlset((f"{SITE}/listed", "")))
    middleware = LeaseSpiderMiddleware(crawler)
    out = list(middleware.process_spider_output(response, spider.parse_sitemap(response)))
    assert [r.url for r in out] == [f"{SITE}/listed"]
    assert acked == [response] and middleware.pending == {}


def test_the_robots_middleware_hands_a_seed_its_hosts_sitemap_lines():
    spider = make_spider()
    middleware = RobotsMiddleware.from_crawler(spider.crawler)
    body = b"User-agent: *\nDisallow: /private\nSitemap: http://www.site.test/s.xml\n"
    rules = decide(RobotsFile(200, body), middleware.parse, middleware.user_agent, 30)
    assert rules.sitemaps == ("http://www.site.test/s.xml",)
    middleware.rules[SITE] = (rules, time.monotonic())
    seed, link = Request(f"{SITE}/", meta={"depth": 0}), Request(f"{SITE}/a", meta={"depth": 1})
    for request in (seed, link):
        asyncio.run(middleware.process_request(request))
    assert seed.meta[SITEMAPS_META] == ("http://www.site.test/s.xml",)
    assert SITEMAPS_META not in link.meta
    with pytest.raises(IgnoreRequest):  # a disallowed seed never gets as far
        asyncio.run(middleware.process_request(Request(f"{SITE}/private", meta={"depth": 0})))
    missing = decide(RobotsFile(404), middleware.parse, middleware.user_agent, 30)
    assert missing.sitemaps == ()


# --- crawls of the fixture web ------------------------------------------------------------


@pytest.fixture(scope="module")
def web():
    return build_web(version=1)


def crawl_fixture_web(web, tmp, spider_args=None, settings=None):
    db = tmp / "linkwatch.db"
    args = {"seeds": ",".join(web.seeds), "watch": ",".join(web.watch), **(spider_args or {})}
    with FixtureServer(web) as server:
        run = watched_crawl(
            args,
            crawl_env(server.proxy_url, LINKWATCH_DB=str(db)),
            tmp,
            settings=settings,
            timeout=180,
        )
        entries = server.access_log_entries()
    assert run.returncode == 0, run.log[-3000:]
    assert_clean_log(run.log)
    return run, db, entries


@pytest.fixture(scope="module")
def crawled(web, tmp_path_factory):
    """A crawl with the default settings: sitemaps on."""
    return crawl_fixture_web(web, tmp_path_factory.mktemp("sitemaps"))


ONLY_LISTED = ("http://www.alpha.test/sitemap-only.html", "http://beta.test/listed.html")


@pytest.mark.e2e
def test_a_page_only_a_sitemap_lists_is_crawled_and_its_edges_stored(web, crawled):
    _, db, entries = crawled
    fetched = Counter(e["url"] for e in entries)
    assert all(fetched[url] == 1 for url in ONLY_LISTED), [fetched[u] for u in ONLY_LISTED]
    stored = sqlite_edges(db)
    from_listed = {
        (e["source_url"], e["target_url"]) for e in stored if e["source_url"] in ONLY_LISTED
    }
    assert from_listed == {
        ("http://www.alpha.test/sitemap-only.html", "http://mysite.test/from-sitemap-only"),
        ("http://www.alpha.test/sitemap-only.html", "https://competitor.test/from-sitemap-only"),
        ("http://beta.test/listed.html", "http://competitor.test/from-beta-listing"),
    }
    assert_edges_equal(stored, web.truth_edges)


@pytest.mark.e2e
def test_each_sitemap_is_fetched_once_after_its_hosts_robots_txt(web, crawled):
    run, _, entries = crawled
    files = set(web.sitemap_files) | {u for u in web.sitemap_fetches}
    fetched = [e for e in entries if e["url"] in files]
    assert sorted(e["url"] for e in fetched) == sorted(web.sitemap_fetches)  # each once
    robots = {e["host"]: e for e in entries if e["path"] == "/robots.txt"}
    assert (
        Counter(e["host"] for e in entries if e["path"] == "/robots.txt").most_common(1)[0][1] == 1
    )
    for entry in fetched:
        assert robots[entry["host"]]["end"] <= entry["start"], entry["url"]
    # Nothing outside the seed's domain, nothing an index nested in an index lists.
    urls = {e["url"] for e in entries}
    assert not urls & set(web.never_fetch)
    assert "http://www.alpha.test/sitemaps/deeper.xml" in web.never_fetch
    assert not [e for e in entries if e["host"] in ("mysite.test", "other.test")]
    assert run.stats["linkwatch/sitemaps/read"] == 4  # index, gzip urlset, nested index, beta
    assert run.stats["linkwatch/sitemaps/followed"] == len(ONLY_LISTED)
    assert run.stats["linkwatch/sitemaps/nested_index"] == 1
    assert run.stats["linkwatch/sitemaps/off_domain"] == 3
    assert run.stats["linkwatch/sitemaps/status/404"] == len(web.sitemap_fetches) - 4


@pytest.mark.e2e
def test_sitemaps_false_fetches_no_sitemap(tmp_path):
    web = build_web(version=1, sitemaps=False)
    run, db, entries = crawl_fixture_web(web, tmp_path, {"sitemaps": "false"})
    paths = {e["path"] for e in entries}
    assert not [p for p in paths if "sitemap" in p], sorted(paths)
    assert not {e["url"] for e in entries} & set(web.never_fetch)
    assert not [k for k in run.stats if k.startswith("linkwatch/sitemaps/")]
    assert_edges_equal(sqlite_edges(db), web.truth_edges)


@pytest.mark.e2e
def test_the_caps_are_counted_in_a_crawl(web, tmp_path):
    # The index (370 bytes) is over the size cap; beta.test's sitemap (333 bytes)
    # is not, but lists 3 URLs, over the URL cap.
    sizes = {url: len(web.responses[url].body) for url in web.sitemap_files}
    assert (
        sizes["http://www.alpha.test/sitemap_index.xml"]
        > 350
        > sizes["http://beta.test/sitemap.xml"]
    )
    run, _, entries = crawl_fixture_web(
        web,
        tmp_path,
        settings={"LINKWATCH_SITEMAP_MAX_SIZE": "350", "LINKWATCH_SITEMAP_MAX_URLS": "1"},
    )
    assert run.stats["linkwatch/sitemaps/too_large"] == 1
    assert "larger than download max size (350)" in run.log  # cut short, not read whole
    assert run.stats["linkwatch/sitemaps/url_cap"] == 1
    urls = {e["url"] for e in entries}
    assert not urls & set(ONLY_LISTED)
    assert "http://www.alpha.test/sitemaps/pages.xml.gz" not in urls
