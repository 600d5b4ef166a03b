"""The backlinks spider's callbacks in-process: a crawler built by Scrapy's
`get_crawler`, responses built by hand, no network, no store.

What a page becomes (one page item with its edges, the domain graph, requests
for internal links within depth and the page cap), redirects as edges, non-HTML
and error pages, and the politeness settings checked before a crawl starts.
The end-to-end crawls (test_crawl_e2e.py) run the same code through Scrapy's
engine; these pin each callback's contract on its own.
"""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

import settings.embedded
from crawler.arguments import ArgumentError
from crawler.spiders.backlinks import BacklinksSpider


def make_spider(depth: int = 2, max_pages: int = 100, **settings_dict) -> BacklinksSpider:
    profile = Settings()
    profile.setmodule(settings.embedded)
    # No reactor: the callbacks under test never wait on one.
    options = {**profile.copy_to_dict(), "TWISTED_REACTOR_ENABLED": False, **settings_dict}
    crawler = get_crawler(BacklinksSpider, options)
    crawler.stats.open_spider()
    return BacklinksSpider.from_crawler(
        crawler,
        seeds="http://www.site.test/",
        watch="mysite.test",
        depth=str(depth),
        max_pages_per_domain=str(max_pages),
    )


def html_response(url: str, body: str, depth: int = 0, status: int = 200, **headers) -> Response:
    request = Request(url, meta={"depth": depth})
    return HtmlResponse(
        url,
        status=status,
        body=body.encode(),
        encoding="utf-8",
        request=request,
        headers={"Content-Type": "text/html; charset=utf-8", **headers},
    )


PAGE = """<!doctype html><title>Home</title>
<a href="/about">About</a>
<a href="http://blog.site.test/post">Post</a>
<a href="http://mysite.test/a" rel="nofollow sponsored">My site</a>
<a href="http://mysite.test/a">again</a>
<a href="https://www.mysite.test/b"><img alt="Logo" src="x.png"></a>
<a href="http://other.test/">Other</a>
<a href="mailto:x@y.test">mail</a>
"""


def test_a_page_is_one_item_with_its_edges_and_requests_for_internal_links():
    spider = make_spider()
    out = list(spider.parse(html_response("http://www.site.test/", PAGE)))
    requests = [o for o in out if isinstance(o, Request)]
    items = [o for o in out if isinstance(o, dict)]
    assert [r.url for r in requests] == ["http://www.site.test/about", "http://blog.site.test/post"]
    assert all(r.meta["depth"] == 1 and r.priority == -1 for r in requests)
    (item,) = items
    assert out[-1] is item  # links first, the item last
    assert (item["url"], item["status"], item["title"], item["domain"]) == (
        "http://www.site.test/",
        200,
        "Home",
        "site.test",
    )
    assert item["outlinks"] == 5  # distinct http(s) targets
    edges = {e["target_url"]: e for e in item["edges"]}
    assert set(edges) == {"http://mysite.test/a", "https://www.mysite.test/b"}
    first = edges["http://mysite.test/a"]
    assert (first["anchor"], first["rel"], first["nofollow"]) == (
        "My site",
        ["nofollow", "sponsored"],
        True,
    )
    assert edges["https://www.mysite.test/b"]["alt"] == "Logo"
    assert edges["https://www.mysite.test/b"]["target_host"] == "www.mysite.test"
    assert item["domain_links"] == {"mysite.test": 2, "other.test": 1}
    assert spider.crawler.stats.get_value("linkwatch/links_skipped/mailto") == 1


def test_links_are_not_followed_at_the_depth_limit_nor_twice():
    spider = make_spider(depth=1)
    deep = list(spider.parse(html_response("http://www.site.test/x", PAGE, depth=1)))
    assert not [o for o in deep if isinstance(o, Request)]
    spider = make_spider(depth=3)
    list(spider.parse(html_response("http://www.site.test/", PAGE)))
    again = list(spider.parse(html_response("http://www.site.test/y", PAGE, depth=1)))
    assert not [o for o in again if isinstance(o, Request)]  # requested already


def test_the_page_cap_counts_per_registered_domain():
    spider = make_spider(max_pages=1)
    out = list(spider.parse(html_response("http://www.site.test/", PAGE)))
    assert [o.url for o in out if isinstance(o, Request)] == ["http://www.site.test/about"]
    assert spider.crawler.stats.get_value("linkwatch/page_cap_reached") == 1


def test_a_redirect_to_a_watched_site_is_an_edge_and_an_internal_one_is_followed():
    spider = make_spider()
    away = Response(
        "http://www.site.test/go",
        status=301,
        headers={"Location": "http://mysite.test/landing?utm_source=x"},
        request=Request("http://www.site.test/go", meta={"depth": 0}),
    )
    (item,) = list(spider.parse(away))
    (edge,) = item["edges"]
    assert (edge["target_url"], edge["link_type"], edge["source_status"]) == (
        "http://mysite.test/landing",
        "redirect",
        301,
    )
    inside = Response(
        "http://www.site.test/old",
        status=302,
        headers={"Location": "/new"},
        request=Request("http://www.site.test/old", meta={"depth": 0}),
    )
    request, item = list(spider.parse(inside))
    assert request.url == "http://www.site.test/new" and item["edges"] == []


def test_error_pages_count_and_non_html_is_skipped():
    spider = make_spider()
    (item,) = [
        o
        for o in spider.parse(html_response("http://www.site.test/gone", PAGE, status=404))
        if isinstance(o, dict)
    ]
    assert item["status"] == 404 and item["edges"][0]["source_status"] == 404
    pdf = TextResponse(
        "http://www.site.test/f.pdf",
        body=b"%PDF",
        headers={"Content-Type": "application/pdf"},
        request=Request("http://www.site.test/f.pdf"),
    )
    assert list(spider.parse(pdf)) == []
    assert spider.crawler.stats.get_value("linkwatch/non_html_skipped") == 1


def test_x_robots_tag_nofollow_marks_every_edge():
    spider = make_spider()
    response = html_response("http://www.site.test/", PAGE, **{"X-Robots-Tag": "nofollow"})
    (item,) = [o for o in spider.parse(response) if isinstance(o, dict)]
    assert all(e["nofollow"] for e in item["edges"])


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LINKWATCH_POLITENESS_KEY", "subnet", "must be one of host, domain, ip"),
        ("LINKWATCH_MAX_CRAWL_DELAY", "-1", "LINKWATCH_MAX_CRAWL_DELAY must be 0 or more"),
    ],
)
def test_bad_politeness_settings_are_refused_before_the_crawl(name, value, message):
    profile = Settings()
    profile.setmodule(settings.embedded)
    profile.set(name, value, priority="cmdline")
    with pytest.raises(ArgumentError, match=message):
        BacklinksSpider.check_arguments(
            {"seeds": "http://www.site.test/", "watch": "mysite.test"}, profile
        )
