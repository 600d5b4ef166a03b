"""Hostile pages: broken markup, odd encodings, huge pages and compression bombs.

Every page is extracted, or skipped with a counted reason; none is a spider
error, none makes the crawl's memory grow past a bound. First the pure
functions (crawler/extraction.py, crawler/traps.py), then one real crawl of a
hostile site served by a local proxy (nothing leaves 127.0.0.1).
"""

from __future__ import annotations

import inspect
import sqlite3
import time
import zlib

import brotli
import pytest

import crawler.spiders.backlinks
from crawler.extraction import ANCHOR_MAX_CHARS, extract_links
from crawler.testing.fixtureweb import FixtureServer, Response
from crawler.traps import markup_trap
from tests.support.crawling import crawl_env, sqlite_edges
from tests.support.localweb import LocalWeb, html, page, watched_crawl

try:
    from compression import zstd  # Python 3.14
except ImportError:
    from backports import zstd  # what Scrapy 2.19 itself uses before 3.14

MB = 1 << 20

# --- the extractor -----------------------------------------------------------------------

HOSTILE_BODIES = {
    "unclosed tags": b"<div><p><a href='http://mysite.test/a'>one<b><i><a href=/b>two<table><td>",
    "nul bytes": b"\x00<a href='http://mysite.test/a'>o\x00ne</a>\x00<a\x00 href=/b>two",
    "invalid utf-8": b"<a href='http://mysite.test/a'>caf\xe9 \xff\xfe\x80</a><a href=/b>\xc3(</a>",
    "unclosed comment": b"<a href='http://mysite.test/a'>a</a><!-- <a href=/b>",
    "unclosed script": b"<a href='http://mysite.test/a'>a</a><script>x<a href=/b>",
    "bogus meta charset": b"<meta charset='x-bogus-7'><a href='http://mysite.test/a'>a</a>",
    "utf-7 meta charset": b"<meta charset=utf-7><a href='http://mysite.test/a'>+AGEA-</a>",
    "utf-16 meta, ascii body": b"<meta charset=utf-16><a href='http://mysite.test/a'>a</a>",
    # A byte-order mark wins over any header; the odd last byte is half a character.
    "utf-16 with an odd length": b"\xff\xfe"
    + "<a href='http://mysite.test/a'>a".encode("utf-16-le")
    + b"\x00",
    "10,000 nested a": b"<a href='http://mysite.test/a'>" * 10_000,
    "1 MB href": b"<a href='http://mysite.test/a'>a</a><a href='/" + b"x" * MB + b"'>b</a>",
    "5 MB anchor": b"<a href='http://mysite.test/a'>" + b"word " * MB + b"</a>",
}


@pytest.mark.parametrize("name", list(HOSTILE_BODIES))
@pytest.mark.parametrize("encoding", [None, "utf-8", "iso-8859-1", "utf-16", "no-such-charset"])
def test_hostile_bodies_never_raise(name, encoding):
    links = extract_links(HOSTILE_BODIES[name], "http://hostile.test/", encoding=encoding)
    urls = [link.url for link in links.links]
    if encoding != "utf-16":  # a wrong UTF-16 header makes garbage of any body, not an error
        assert "http://mysite.test/a" in urls, (name, urls)
    assert all(len(link.anchor) <= ANCHOR_MAX_CHARS for link in links.links)


def test_a_href_over_the_length_limit_is_counted_not_kept():
    links = extract_links(HOSTILE_BODIES["1 MB href"], "http://hostile.test/")
    assert links.skipped == {"too_long": 1}


def test_ten_thousand_links_and_a_ten_megabyte_page_are_extracted():
    many = "".join(f'<a href="http://mysite.test/p{i}">p{i}</a>' for i in range(10_000))
    assert len(extract_links(many.encode(), "http://hostile.test/").links) == 10_000
    # DOWNLOAD_MAXSIZE lets pages up to 10 MB through: they are parsed, in bounded time.
    big = b"<p>filler text " * (10 * MB // 15) + b"<a href='http://mysite.test/end'>end</a>"
    started = time.perf_counter()
    links = extract_links(big, "http://hostile.test/")
    assert [link.url for link in links.links] == ["http://mysite.test/end"]
    assert time.perf_counter() - started < 10


# --- pages built to stall the parser ------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<div>" * 20_000, "deep_nesting"),
        (b"<SECTION><Ul>" * 6_000, "deep_nesting"),
        (
            b"<a " + b" ".join(b"a%d=1" % i for i in range(6_000)) + b" href=/x>x</a>",
            "many_attributes",
        ),
        # Big, legitimate pages
        (b"<div><a href=/x>x</a></div>" * 50_000, None),
        (b"<ul>" + b"<li><a href=/x>x</a>" * 50_000 + b"</ul>", None),
        (b"<p>text" * 30_000 + b"<br>" * 30_000, None),
        (b"<img src='data:image/png;base64," + b"QUJD" * 200_000 + b"=='>", None),
        (b"<div>" * 6_000, None),  # too small to stall anything
    ],
)
def test_markup_traps(body, reason):
    assert markup_trap(body) == reason


def test_the_markup_check_is_cheap_next_to_parsing():
    page_body = b"<div class=x><a href='/p'>link text</a> some text</div>\n" * 1_500  # 84 KB
    started = time.perf_counter()
    for _ in range(200):
        markup_trap(page_body)
    check = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(20):
        extract_links(page_body, "http://hostile.test/")
    parse = (time.perf_counter() - started) * 10
    assert check < parse / 4, (check, parse)


# --- a crawl of a hostile site -------------------------------------------------------------


def deflated(wbits: int, size: int) -> bytes:
    """``size`` bytes of zeros, deflated (raw -15, zlib 15, gzip 31); about 1/230 as big."""
    compressor = zlib.compressobj(1, zlib.DEFLATED, wbits)
    chunk = bytes(MB)
    return b"".join([compressor.compress(chunk) for _ in range(size // MB)] + [compressor.flush()])


def streamed(compressor, flush, size: int) -> bytes:
    """``size`` bytes of zeros through a streaming compressor, a megabyte at a time."""
    chunk = bytes(MB)
    return b"".join([compressor(chunk) for _ in range(size // MB)] + [flush()])


def bomb(encoding: str, body: bytes) -> Response:
    return html(body, headers=(("Content-Encoding", encoding),))


BOMB_SIZE = 128 * MB
ROBOTS = Response(200, (("Content-Type", "text/plain"),), b"User-agent: *\nDisallow: /private/\n")


def hostile_site() -> LocalWeb:
    brotli_out = brotli.Compressor(quality=5)
    zstd_out = zstd.ZstdCompressor()
    pages = {
        "http://hostile.test/unclosed": html(HOSTILE_BODIES["unclosed tags"]),
        "http://hostile.test/nul": html(HOSTILE_BODIES["nul bytes"]),
        "http://hostile.test/invalid-utf8": html(HOSTILE_BODIES["invalid utf-8"]),
        # Declared Latin-1, sent UTF-8: the anchor is garbled, the link is not lost.
        "http://hostile.test/wrong-charset": html(
            "<a href='http://mysite.test/wrong-charset'>café</a>".encode(),
            content_type="text/html; charset=iso-8859-1",
        ),
        "http://hostile.test/bogus-charset": html(
            b"<a href='http://mysite.test/bogus-charset'>x</a>",
            content_type="text/html; charset=x-no-such-thing",
        ),
        "http://hostile.test/many-links": page(
            *(f"http://mysite.test/p{i}" for i in range(10_000))
        ),
        "http://hostile.test/huge": html(b"<p>" + b"x" * (20 * MB) + b"</p>"),
        "http://hostile.test/gzip": bomb("gzip", deflated(31, BOMB_SIZE)),
        "http://hostile.test/deflate": bomb("deflate", deflated(15, BOMB_SIZE)),
        "http://hostile.test/br": bomb(
            "br", streamed(brotli_out.process, brotli_out.finish, BOMB_SIZE)
        ),
        "http://hostile.test/zstd": bomb(
            "zstd", streamed(zstd_out.compress, zstd_out.flush, BOMB_SIZE)
        ),
        "http://hostile.test/deep": html(b"<div>" * 25_000 + b"<a href=http://mysite.test/d>d</a>"),
        "http://hostile.test/attributes": html(
            b"<a " + b" ".join(b"a%d=1" % i for i in range(25_000)) + b" href=/x>x</a>"
        ),
        "http://hostile.test/private/secret": page("http://mysite.test/secret"),
        "http://hostile.test/xrobots": html(
            b"<a href='http://mysite.test/xrobots'>x</a>", headers=(("X-Robots-Tag", "nofollow"),)
        ),
        "http://hostile.test/xrobots-other": html(
            b"<a href='http://mysite.test/xrobots-other'>x</a>",
            headers=(("X-Robots-Tag", "otherbot: nofollow"),),
        ),
        "http://hostile.test/robots.txt": ROBOTS,
    }
    home = [url for url in pages if not url.endswith("robots.txt")]
    pages["http://hostile.test/"] = page(*home)
    return LocalWeb(pages)


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    db = tmp / "lw.db"
    with FixtureServer(hostile_site()) as server:
        run = watched_crawl(
            {"seeds": "hostile.test", "watch": "mysite.test"},
            crawl_env(server.proxy_url, LINKWATCH_DB=str(db)),
            tmp,
            timeout=120,
        )
        requested = {e["path"] for e in server.access_log_entries()}
    edges = {e["target_url"]: e for e in sqlite_edges(db)}
    with sqlite3.connect(db) as connection:
        stored = {url for (url,) in connection.execute("SELECT url FROM pages")}
    return run, edges, stored, requested


def test_the_crawl_ends_normally_with_no_spider_error(hostile_crawl):
    run, _, _, _ = hostile_crawl
    assert run.returncode == 0, run.log[-3000:]
    assert run.stats["finish_reason"] == "finished"
    assert "spider_exceptions/count" not in run.stats
    assert "Traceback" not in run.log and "] ERROR:" not in run.log, run.log[-3000:]


def test_broken_pages_give_their_links(hostile_crawl):
    _, edges, _, _ = hostile_crawl
    for target in ("a", "wrong-charset", "bogus-charset"):
        assert f"http://mysite.test/{target}" in edges, target
    assert edges["http://mysite.test/wrong-charset"]["anchor"] == "cafÃ©"
    assert sum(url.startswith("http://mysite.test/p") for url in edges) == 10_000


def test_oversize_pages_and_bombs_are_cut_off_with_memory_bounded(hostile_crawl):
    run, _, stored, _ = hostile_crawl
    # 20 MB announced: cancelled before the body is read, and counted.
    assert run.stats["linkwatch/fetch_failed/DownloadCancelledError"] == 1
    # 128 MB behind each of gzip, deflate, br and zstd: decoding stops at DOWNLOAD_MAXSIZE.
    assert run.log.count("exceeded DOWNLOAD_MAXSIZE") == 4, run.log[-3000:]
    cut = {f"http://hostile.test/{p}" for p in ("huge", "gzip", "deflate", "br", "zstd")}
    assert not cut & stored
    assert run.stats["peak_rss"] < 300 * MB, run.stats["peak_rss"]
    assert run.max_rss < 300 * MB


def test_robots_txt_and_x_robots_tag_are_obeyed(hostile_crawl):
    run, edges, _, requested = hostile_crawl
    assert "/private/secret" not in requested
    assert run.stats["robotstxt/forbidden"] == 1
    assert "http://mysite.test/secret" not in edges
    assert edges["http://mysite.test/xrobots"]["nofollow"] is True
    assert edges["http://mysite.test/xrobots-other"]["nofollow"] is False


def _spider_source() -> str:
    return inspect.getsource(crawler.spiders.backlinks)


@pytest.mark.xfail(
    "markup_trap" not in _spider_source(),
    reason="the spider does not ask crawler.traps.markup_trap yet (lines for the lead)",
    strict=True,
)
def test_pages_built_to_stall_the_parser_are_skipped_and_counted(hostile_crawl):
    run, _, stored, _ = hostile_crawl
    assert run.stats["linkwatch/pages_skipped/deep_nesting"] == 1
    assert run.stats["linkwatch/pages_skipped/many_attributes"] == 1
    assert "http://hostile.test/deep" not in stored


@pytest.mark.xfail(
    "too_large" not in _spider_source(),
    reason="the spider does not count bodies cut off while decompressed yet (lines for the lead)",
    strict=True,
)
def test_bombs_are_counted(hostile_crawl):
    run, _, _, _ = hostile_crawl
    assert run.stats["linkwatch/fetch_failed/too_large"] == 4
