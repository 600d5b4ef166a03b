"""The one-off fetch spiders in-process (`verify`, `targets`): a crawler built by
Scrapy's `get_crawler`, responses built by hand, no network, no store; and what
extraction tells them about a page itself: noindex and its canonical URL.

The end-to-end runs are test_verify.py and test_broken.py; these pin each
callback's contract on its own.
"""

from __future__ import annotations

import orjson
import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError, DNSLookupError, TimeoutError
from twisted.python.failure import Failure

import settings.embedded
from crawler.arguments import ArgumentError
from crawler.extraction import extract_links
from crawler.spiders.fetching import failure_outcome
from crawler.spiders.records import x_robots_says
from crawler.spiders.targets import MAX_HOPS, TargetsSpider
from crawler.spiders.verify import VerifySpider
from crawler.verification import MAX_REDIRECTS, Fetched

# --- what a page says about itself -------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "noindex", "nofollow"),
    [
        ('<meta name="robots" content="noindex">', True, False),
        ('<meta name="ROBOTS" content="NoIndex, NoFollow">', True, True),
        ('<meta name="robots" content="none">', True, True),
        ('<meta name="robots" content="index,follow,noarchive">', False, False),
        ('<meta name="googlebot" content="noindex">', False, False),  # one crawler's
        ("", False, False),
    ],
)
def test_meta_robots_noindex(meta, noindex, nofollow):
    page = extract_links(f"<html><head>{meta}</head><body></body></html>", "http://a.test/")
    assert (page.noindex, page.page_nofollow) == (noindex, nofollow)


@pytest.mark.parametrize(
    ("html", "canonical"),
    [
        ('<link rel="canonical" href="/p?utm_source=x#top">', "http://a.test/p"),
        (
            '<link rel="Canonical" href="http://B.test/x"><link rel=canonical href="/y">',
            "http://b.test/x",
        ),
        (
            '<base href="http://c.test/dir/"><link rel="canonical" href="page">',
            "http://c.test/dir/page",
        ),
        (
            '<link rel="canonical" href="javascript:void(0)"><link rel="canonical" href="/z">',
            "http://a.test/z",
        ),
        # An earlier <a> to the same URL wins the link; the canonical is still known.
        ('<a href="/same">x</a><link rel="canonical" href="/same">', "http://a.test/same"),
        ('<link rel="alternate" href="/other">', None),
    ],
)
def test_the_canonical_url(html, canonical):
    assert extract_links(html, "http://a.test/page").canonical == canonical


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ([b"noindex"], True),
        ([b"NOINDEX, nofollow"], True),
        ([b"none"], True),
        ([b"noarchive", b"noindex"], True),
        ([b"googlebot: noindex"], False),
        ([b"noarchive"], False),
        ([], False),
    ],
)
def test_x_robots_tag_noindex(values, says):
    response = Response("http://a.test/", headers={"X-Robots-Tag": values})
    assert x_robots_says(response, ("noindex", "none")) is says


# --- why a request got no response -----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind", "fragment"),
    [
        (IgnoreRequest("Forbidden by robots.txt"), "robots_blocked", "disallows"),
        (IgnoreRequest("robots.txt: robots unavailable"), "robots_blocked", "unavailable"),
        (IgnoreRequest("robots.txt: crawl delay too long"), "robots_blocked", "crawl delay"),
        (IgnoreRequest("robots.txt: robots unreachable"), "unreachable", "no answer"),
        (IgnoreRequest("loopback address: 127.0.0.1"), "unreachable", "SSRF guard"),
        (DNSLookupError("nope.test"), "unreachable", "DNS"),
        (ConnectionRefusedError(), "unreachable", "refused"),
        (TimeoutError(), "unreachable", "timed out"),
        (ValueError("odd"), "unreachable", "ValueError: odd"),
    ],
)
def test_failure_outcome(error, kind, fragment):
    got_kind, why = failure_outcome(Failure(error))
    assert got_kind == kind and fragment in why


# --- the spiders -------------------------------------------------------------------------------


def make_spider(cls, tmp_path, **arguments):
    profile = Settings()
    profile.setmodule(settings.embedded)
    options = {**profile.copy_to_dict(), "TWISTED_REACTOR_ENABLED": False}
    crawler = get_crawler(cls, options)
    crawler.stats.open_spider()
    spider = cls.from_crawler(crawler, out=str(tmp_path / "out.jsonl"), **arguments)
    spider._open_out()
    return spider


def outcomes(spider) -> list[dict]:
    spider._close_out()
    return [orjson.loads(line) for line in open(spider.arguments.out, "rb")]


def response(url, body=b"", status=200, method="GET", meta=None, **headers) -> Response:
    request = Request(url, method=method, meta=meta or {"linkwatch_hops": 0})
    headers.setdefault("Content-Type", "text/html; charset=utf-8")
    return HtmlResponse(url, status=status, body=body, request=request, headers=headers)


def test_verify_records_a_page_and_yields_its_item(tmp_path):
    spider = make_spider(VerifySpider, tmp_path, urls="http://blog.test/p", watch="mysite.test")
    body = (
        b'<title>P</title><meta name="robots" content="noindex">'
        b'<link rel="canonical" href="http://blog.test/original">'
        b'<a href="http://mysite.test/x" rel="nofollow">Mine</a><a href="http://other.test/">x</a>'
    )
    (item,) = spider.parse(response("http://blog.test/p", body))
    assert item["watch"] == ["mysite.test"] and item["title"] == "P"
    assert [e["target_url"] for e in item["edges"]] == ["http://mysite.test/x"]
    assert item["domain_links"] == {"mysite.test": 1, "other.test": 1}
    (record,) = outcomes(spider)
    fetched = Fetched.from_dict(record)
    assert (fetched.status, fetched.noindex, fetched.canonical) == (
        200,
        True,
        "http://blog.test/original",
    )
    assert [(link.url, link.anchor, link.rel) for link in fetched.links] == [
        ("http://mysite.test/x", "Mine", ("nofollow",))
    ]


def test_verify_follows_a_redirect_on_the_site_only(tmp_path):
    spider = make_spider(VerifySpider, tmp_path, urls="http://www.blog.test/a", watch="mysite.test")
    out = list(
        spider.parse(response("http://www.blog.test/a", status=301, Location="http://blog.test/b"))
    )
    request, item = out
    assert request.url == "http://blog.test/b" and request.meta["linkwatch_hops"] == 1
    assert item["status"] == 301 and item["edges"] == []
    off_site = list(
        spider.parse(response("http://blog.test/c", status=302, Location="http://mysite.test/"))
    )
    (item,) = off_site  # not followed, but a redirect into a watched domain is an edge
    assert [(e["target_url"], e["link_type"]) for e in item["edges"]] == [
        ("http://mysite.test/", "redirect")
    ]
    last = {"linkwatch_hops": MAX_REDIRECTS}
    assert (
        len(
            list(spider.parse(response("http://blog.test/d", status=301, meta=last, Location="/e")))
        )
        == 1
    )
    assert [(r["url"], r["location"]) for r in outcomes(spider)] == [
        ("http://www.blog.test/a", "http://blog.test/b"),
        ("http://blog.test/c", "http://mysite.test/"),
        ("http://blog.test/d", "http://blog.test/e"),
    ]


def test_verify_records_a_failure_and_a_page_that_is_not_html(tmp_path):
    spider = make_spider(VerifySpider, tmp_path, urls="http://blog.test/p", watch="mysite.test")
    pdf = response("http://blog.test/f.pdf", b"%PDF", **{"Content-Type": "application/pdf"})
    assert list(spider.parse(pdf)) == []
    failure = Failure(IgnoreRequest("Forbidden by robots.txt"))
    failure.request = Request("http://blog.test/p")
    spider.failed(failure)
    first, second = outcomes(spider)
    assert (first["html"], second["error"]) == (False, "robots_blocked")


def test_targets_head_first_get_to_confirm_an_error(tmp_path):
    spider = make_spider(TargetsSpider, tmp_path, urls="http://mysite.test/a")
    meta = {"linkwatch_target": "http://mysite.test/a", "linkwatch_hops": 0}
    assert list(spider.checked(response("http://mysite.test/a", method="HEAD", meta=meta))) == []
    (get,) = spider.checked(response("http://mysite.test/a", status=405, method="HEAD", meta=meta))
    assert (get.method, get.url, get.meta["linkwatch_hops"]) == ("GET", "http://mysite.test/a", 0)
    assert list(spider.checked(response("http://mysite.test/a", status=404, meta=meta))) == []
    (follow,) = spider.checked(
        response("http://mysite.test/a", status=301, method="HEAD", meta=meta, Location="/b")
    )
    assert (follow.method, follow.url, follow.meta) == (
        "HEAD",
        "http://mysite.test/b",
        {**meta, "linkwatch_hops": 1},
    )
    too_far = {**meta, "linkwatch_hops": MAX_HOPS}
    assert (
        list(
            spider.checked(
                response("http://mysite.test/z", status=302, meta=too_far, Location="/y")
            )
        )
        == []
    )
    records = outcomes(spider)
    assert [(r["status"], r["method"], r["error"]) for r in records] == [
        (200, "HEAD", None),
        (404, "GET", None),
        (302, "GET", "redirect_limit"),
    ]
    assert records[0]["url"] == "http://mysite.test/a" and records[0]["checked_at"].endswith("Z")


def test_targets_a_head_without_answer_is_asked_with_get_a_refusal_is_not(tmp_path):
    spider = make_spider(TargetsSpider, tmp_path, urls="http://mysite.test/a")
    meta = {"linkwatch_target": "http://mysite.test/a", "linkwatch_hops": 0}
    dropped = Failure(ConnectionRefusedError())
    dropped.request = Request("http://mysite.test/a", method="HEAD", meta=meta)
    (get,) = spider.failed(dropped)
    assert get.method == "GET"
    refused = Failure(IgnoreRequest("Forbidden by robots.txt"))
    refused.request = Request("http://mysite.test/a", method="HEAD", meta=meta)
    assert list(spider.failed(refused)) == []
    (record,) = outcomes(spider)
    assert (record["status"], record["error"]) == (None, "robots_blocked")


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"urls": "http://a.test/", "colour": "red"}, "unknown spider argument 'colour'"),
        ({"urls": "http://a.test/"}, "out"),
        ({"urls": "ftp://a.test/", "out": "x.jsonl"}, "urls: "),
        ({"out": "x.jsonl"}, "urls"),
        ({"urls": "http://a.test/", "out": "/nonexistent/dir/x.jsonl"}, "no directory"),
    ],
)
def test_bad_arguments_are_one_line(arguments, fragment):
    with pytest.raises(ArgumentError, match=fragment) as raised:
        TargetsSpider.check_arguments(arguments, Settings())
    assert "\n" not in str(raised.value)


def test_verify_needs_a_watch_list():
    with pytest.raises(ArgumentError, match="watch"):
        VerifySpider.check_arguments({"urls": "http://a.test/", "out": "x.jsonl"}, Settings())
