"""crawler/extraction.py against docs/edge-semantics.md and the conformance corpora.

The corpora (tests/data/link_extraction, provenance in its README.txt) are run
as far as our contract agrees with their source; every deliberate difference
is listed next to the cases it touches, with the reason.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extraction import (
    ANCHOR_MAX_CHARS,
    Link,
    PageLinks,
    extract_links,
    parse_meta_refresh,
)
from crawler.urls import RejectedURL, URLNormalizer, normalize_url

DATA = Path(__file__).parent / "data" / "link_extraction"
PAGE = "http://example.test/dir/page.html"


def load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["cases"]


def extract(html: str | bytes, page: str = PAGE, **kwargs) -> PageLinks:
    return extract_links(html, page, **kwargs)


def urls(html: str | bytes, page: str = PAGE, **kwargs) -> list[str]:
    return [link.url for link in extract(html, page, **kwargs).links]


def only_link(html: str | bytes, **kwargs) -> Link:
    found = extract(html, **kwargs).links
    assert len(found) == 1, found
    return found[0]


# --- link sources -----------------------------------------------------------------


def test_every_link_type_in_document_order():
    page = extract(
        """<html><head>
        <link rel="stylesheet" href="/style.css">
        <link rel="canonical" href="http://example.test/canonical">
        <meta http-equiv="refresh" content="5; url=/refreshed">
        </head><body>
        <a href="/a">A</a>
        <map name="m"><area href="/area" alt="Area"></map>
        <iframe src="http://other.test/embed"></iframe>
        </body></html>"""
    )
    assert [(link.url, link.link_type) for link in page.links] == [
        ("http://example.test/canonical", "canonical"),
        ("http://example.test/refreshed", "meta_refresh"),
        ("http://example.test/a", "a"),
        ("http://example.test/area", "area"),
        ("http://other.test/embed", "frame"),
    ]
    assert page.skipped == {}


def test_frames_of_a_frameset():
    page = extract('<frameset><frame src="left.html"><frame src="//other.test/r"></frameset>')
    assert [(link.url, link.link_type) for link in page.links] == [
        ("http://example.test/dir/left.html", "frame"),
        ("http://other.test/r", "frame"),
    ]


@pytest.mark.parametrize(
    "html",
    [
        '<link rel="stylesheet" href="/s.css">',
        '<link rel="alternate" hreflang="de" href="/de/">',
        '<link rel="icon preload" href="/i.png">',
        '<link rel="canonical">',  # no href
        "<a name=top>anchor without href</a>",
        '<a data-href="/x">no href attribute</a>',
        '<a content="x">an element found by its content attribute</a>',
        '<img src="/i.png" alt="not a link"><script src="/s.js"></script>',
        "<iframe srcdoc='<a href=/inner>x</a>'></iframe>",
        '<base href="/other/"><meta name="description" content="/not/a/link">',
    ],
)
def test_elements_that_are_not_links(html):
    page = extract(html)
    assert page.links == []
    assert page.skipped == {}


def test_svg_and_mathml_a_elements_are_links_too():
    assert urls('<svg><a href="/s">s</a></svg><math><a href="/m">m</a></math>') == [
        "http://example.test/s",
        "http://example.test/m",
    ]


def test_returns_internal_and_external_links():
    assert urls('<a href="/in">x</a><a href="https://elsewhere.test/out">y</a>') == [
        "http://example.test/in",
        "https://elsewhere.test/out",
    ]


# --- base URL ---------------------------------------------------------------------


def test_without_base_the_page_url_is_the_base():
    page = extract('<a href="x.html">x</a><a href="../up.html">u</a>')
    assert page.base_url == PAGE
    assert [link.url for link in page.links] == [
        "http://example.test/dir/x.html",
        "http://example.test/up.html",
    ]


def test_absolute_base():
    page = extract('<base href="https://cdn.test/root/"><a href="x.html">x</a>')
    assert page.base_url == "https://cdn.test/root/"
    assert page.links[0].url == "https://cdn.test/root/x.html"


def test_relative_base_is_resolved_against_the_page_url():
    page = extract('<base href="../other/sub/"><a href="x.html">x</a><a href="/abs">a</a>')
    assert page.base_url == "http://example.test/other/sub/"
    assert [link.url for link in page.links] == [
        "http://example.test/other/sub/x.html",
        "http://example.test/abs",
    ]


def test_base_applies_to_every_link_type_even_those_before_it():
    page = extract(
        """<link rel=canonical href="c"><meta http-equiv=refresh content="0;url=r">
        <base href="http://base.test/b/">
        <a href="a">a</a><area href="ar"><iframe src="f"></iframe>"""
    )
    assert [link.url for link in page.links] == [
        "http://base.test/b/c",
        "http://base.test/b/r",
        "http://base.test/b/a",
        "http://base.test/b/ar",
        "http://base.test/b/f",
    ]


def test_base_in_body_applies_to_the_whole_document():
    page = extract('<a href="x">x</a><p><base href="http://late.test/"></p>')
    assert page.links[0].url == "http://late.test/x"


@pytest.mark.parametrize(
    ("html", "base"),
    [
        # The first <base> WITH an href wins; one without href is skipped.
        ('<base target="_blank"><base href="/first/"><base href="/second/">', "/first/"),
        # An empty href resolves to the page itself: it is the base (HTML).
        ('<base href=""><base href="/second/">', PAGE),
        ('<base href="  "><base href="/second/">', PAGE),
        ("<base href><base href='/second/'>", PAGE),
        # A base that has no http(s) form leaves the page URL as base.
        ('<base href="javascript:alert(1)"><base href="/second/">', PAGE),
        ('<base href="ftp://files.test/"><base href="/second/">', PAGE),
        ('<base href="http://[bad/"><base href="/second/">', PAGE),
        # Its fragment is dropped; tracking parameters are removed (canonical form).
        ('<base href="/b/?utm_source=x#frag">', "/b/"),
    ],
)
def test_which_base_counts(html, base):
    expected = normalize_url(base, PAGE)
    page = extract(html + '<a href="x">x</a>')
    assert page.base_url == expected
    assert page.links[0].url == normalize_url("x", expected)


def test_fragment_only_href_is_the_base_itself():
    page = extract('<base href="/b/?q=1"><a href="#top">top</a><a href="#">t</a>')
    assert [link.url for link in page.links] == ["http://example.test/b/?q=1"]


# --- rel and nofollow ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rel", "tokens", "nofollow"),
    [
        (None, (), False),
        ("", (), False),
        ("nofollow", ("nofollow",), True),
        ("NoFollow", ("nofollow",), True),
        ("external NOFOLLOW", ("external", "nofollow"), True),
        ("  ugc\tnofollow\nsponsored  ", ("ugc", "nofollow", "sponsored"), True),
        ("noopener noopener Noopener", ("noopener",), False),
        ("nofollow, external", ("nofollow,", "external"), False),  # commas do not separate
        ("sponsored ugc", ("sponsored", "ugc"), False),
        ("no-follow", ("no-follow",), False),
    ],
)
def test_rel_tokens(rel, tokens, nofollow):
    attribute = "" if rel is None else f' rel="{rel}"'
    link = only_link(f'<a href="/x"{attribute}>x</a>')
    assert link.rel == tokens
    assert link.nofollow is nofollow


def test_rel_of_area_and_canonical():
    page = extract(
        '<link rel="Canonical  NOFOLLOW canonical" href="/c"><area href="/a" rel="nofollow">'
    )
    canonical, area = page.links
    assert canonical.rel == ("canonical", "nofollow")
    assert canonical.nofollow is True
    assert area.rel == ("nofollow",)
    assert area.nofollow is True


def test_frames_and_refresh_have_no_rel():
    page = extract('<meta http-equiv="refresh" content="0;url=/r"><iframe src="/f" rel="x">')
    assert [(link.rel, link.nofollow) for link in page.links] == [((), False), ((), False)]


@pytest.mark.parametrize(
    ("meta", "page_nofollow"),
    [
        ('<meta name="robots" content="nofollow">', True),
        ('<meta name="ROBOTS" content="NoIndex,NoFollow">', True),
        ('<meta name="Robots" content="noindex, nofollow">', True),
        ('<meta name="robots" content="none">', True),
        ('<meta name="robots" content="NONE">', True),
        ('<meta name="robots" content="noindex">', False),
        ('<meta name="robots" content="index, follow">', False),
        ('<meta name="robots" content="nofollowing">', False),
        ('<meta name="googlebot" content="nofollow">', False),  # only "robots"
        ('<meta http-equiv="robots" content="nofollow">', False),
        ('<meta name="description" content="none">', False),
    ],
)
def test_meta_robots(meta, page_nofollow):
    page = extract(f"<head>{meta}</head><body><a href=/x>x</a><a href=/y rel=nofollow>y</a>")
    assert page.page_nofollow is page_nofollow
    assert [link.nofollow for link in page.links] == [page_nofollow, True]


def test_meta_robots_anywhere_covers_every_link():
    page = extract('<a href="/x">x</a><iframe src="/f"></iframe><meta name=robots content=none>')
    assert page.page_nofollow is True
    assert all(link.nofollow for link in page.links)
    assert len(page.links) == 2


def test_x_robots_tag_nofollow_from_the_caller():
    page = extract('<a href="/x">x</a><meta http-equiv=refresh content="1;/r">', nofollow=True)
    assert page.page_nofollow is True
    assert [(link.link_type, link.nofollow) for link in page.links] == [
        ("a", True),
        ("meta_refresh", True),
    ]
    assert extract('<a href="/x">x</a>', nofollow=False).links[0].nofollow is False


# --- anchor and alt -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("inner", "anchor"),
    [
        ("plain", "plain"),
        ("  \n\t padded \r\n ", "padded"),
        ("one  \n two\t\tthree", "one two three"),
        ("<b>bold</b> <i>and <em>nested</em></i>", "bold and nested"),
        ("<span>a</span><span>b</span>", "ab"),  # text content: no space invented
        ("<img src=x.png alt=picture>", ""),
        ("", ""),
        ("&amp; &lt;tag&gt; &eacute;", "& <tag> \u00e9"),
        # Only ASCII whitespace collapses (HTML's rule): a no-break space stays.
        ("next&nbsp;\u00bb", "next\u00a0\u00bb"),
    ],
)
def test_anchor_text(inner, anchor):
    assert only_link(f'<a href="/x">{inner}</a>').anchor == anchor


def test_anchor_is_capped_at_300_characters():
    words = " ".join(f"w{i:04d}x" for i in range(100))  # 699 characters, 7 per word
    anchor = only_link(f'<a href="/x">\n  {words}</a>').anchor
    assert len(anchor) == ANCHOR_MAX_CHARS == 300
    assert anchor == words[:300]


def test_cap_applies_after_collapsing_and_does_not_leave_a_trailing_space():
    text = "x" * 299 + "   \n   " + "y" * 50
    anchor = only_link(f'<a href="/x">{text}</a>').anchor
    assert anchor == "x" * 299  # "x"*299 + " " cut at 300, then stripped


def test_anchor_only_for_a():
    page = extract('<area href="/ar" alt="alt">text<iframe src="/f">iframe text</iframe>')
    assert [link.anchor for link in page.links] == ["", ""]


@pytest.mark.parametrize(
    ("inner", "alt"),
    [
        ('<img src="i.png" alt="Logo">', "Logo"),
        ('<img src="i.png" alt="  Our \n  logo ">', "Our logo"),
        ('<img src="i.png" alt=""><img src="j.png" alt="Second">', "Second"),
        ('<img src="i.png" alt="   "><img src="j.png" alt="Second">', "Second"),
        ('<img src="i.png"><span><img alt="Deep"></span>', "Deep"),
        ('<img alt="First"><img alt="Second">', "First"),
        ("text only", ""),
        ('<img src="i.png" title="not alt">', ""),
    ],
)
def test_alt_of_the_first_image_with_one(inner, alt):
    assert only_link(f'<a href="/x">{inner}</a>').alt == alt


def test_alt_of_images_outside_the_link_does_not_count():
    page = extract('<img alt="before"><a href="/x">x</a><img alt="after"><a href="/y">y</a>')
    assert [link.alt for link in page.links] == ["", ""]


def test_alt_belongs_to_the_link_that_wins():
    page = extract('<a href="/x">text</a><a href="/x"><img alt="later duplicate"></a>')
    assert [(link.anchor, link.alt) for link in page.links] == [("text", "")]


def test_area_alt():
    page = extract('<map><area href="/a" alt="  Map \n region "><area href="/b"></map>')
    assert [(link.link_type, link.alt, link.anchor) for link in page.links] == [
        ("area", "Map region", ""),
        ("area", "", ""),
    ]


# --- skipped hrefs ------------------------------------------------------------------


def test_skipped_hrefs_are_counted_by_reason():
    page = extract(
        """<a href="javascript:void(0)">j</a>
        <a href="  JavaScript:go()">j2</a>
        <a href="java&#10;script:alert(1)">newline inside the scheme</a>
        <a href="mailto:me@example.test">m</a>
        <a href="tel:+123">t</a>
        <a href="data:text/html,hi">d</a>
        <a href="ftp://files.test/f">f</a>
        <a href="ws://socket.test/">w</a>
        <a href="c:\\windows">drive letter</a>
        <a href="">empty</a>
        <a href=" \t\n">blank</a>
        <a href>valueless</a>
        <a href="http://[example.test/x">bad host</a>
        <a href="http://example.test:99999/">bad port</a>
        <link rel=canonical href="mailto:x@y">
        <iframe src="about:blank"></iframe>
        <meta http-equiv="refresh" content="0; url=javascript:x()">
        <a href="/ok">ok</a>"""
    )
    assert page.skipped == {
        "javascript": 4,
        "mailto": 2,
        "tel": 1,
        "data": 1,
        "not_http": 4,
        "empty": 3,
        "malformed": 2,
    }
    assert [link.url for link in page.links] == ["http://example.test/ok"]


def test_every_occurrence_of_a_skipped_href_counts():
    page = extract('<a href="mailto:a@b">1</a><a href="mailto:a@b">2</a><a href="#x">3</a>')
    assert page.skipped == {"mailto": 2}
    assert len(page.links) == 1


def test_reason_of_the_normalizer_is_the_skip_reason():
    strict = URLNormalizer(max_length=30)
    page = extract('<a href="/short">s</a><a href="/' + "x" * 40 + '">l</a>', normalize=strict)
    assert page.skipped == {"too_long": 1}
    assert [link.url for link in page.links] == ["http://example.test/short"]


def test_a_normalizer_error_without_reason_is_malformed():
    def picky(url: str, base: str | None = None) -> str:
        if "bad" in url:
            raise ValueError("no")
        return normalize_url(url, base)

    page = extract('<a href="/bad">b</a><a href="/good">g</a>', normalize=picky)
    assert page.skipped == {"malformed": 1}
    assert len(page.links) == 1


# --- deduplication ------------------------------------------------------------------


def test_same_target_twice_first_occurrence_wins():
    page = extract(
        """<a href="/t" rel="ugc">first</a>
        <a href="http://EXAMPLE.test:80/t#frag" rel="nofollow">second</a>
        <a href="/t?utm_source=news"><img alt="third"></a>
        <area href="/t" alt="fourth">"""
    )
    assert page.links == [Link("http://example.test/t", "a", ("ugc",), "first", "", False)]


def test_first_occurrence_wins_across_link_types():
    page = extract(
        '<link rel="canonical" href="/p"><a href="/p">text</a><iframe src="/p"></iframe>'
    )
    assert page.links == [Link("http://example.test/p", "canonical", ("canonical",))]


def test_query_order_makes_different_targets():
    assert urls('<a href="/p?a=1&b=2">1</a><a href="/p?b=2&a=1">2</a>') == [
        "http://example.test/p?a=1&b=2",
        "http://example.test/p?b=2&a=1",
    ]


# --- URL forms (through crawler/urls.py) --------------------------------------------


@pytest.mark.parametrize(
    ("href", "url"),
    [
        ("HTTP://WWW.Example.TEST/Path", "http://www.example.test/Path"),
        ("http://b\u00fccher.example/", "http://xn--bcher-kva.example/"),
        ("http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"),
        ("http://example.test:80/", "http://example.test/"),
        ("https://example.test:443/", "https://example.test/"),
        ("http://example.test:8080/", "http://example.test:8080/"),
        ("https://example.test:80/", "https://example.test:80/"),
        ("http://example.test./a", "http://example.test/a"),
        ("/a/b#section", "http://example.test/a/b"),
        ("x.html#", "http://example.test/dir/x.html"),
        ("./a/../b/./c", "http://example.test/dir/b/c"),
        ("//Other.TEST/p", "http://other.test/p"),
        ("?q=1", "http://example.test/dir/page.html?q=1"),
        ("/caf\u00e9 menu", "http://example.test/caf%C3%A9%20menu"),
        ("/%7euser/%2f", "http://example.test/~user/%2F"),
        ("\\\\other.test\\p", "http://other.test/p"),
        ("  /padded\n ", "http://example.test/padded"),
        ("http:same-scheme-relative", "http://example.test/dir/same-scheme-relative"),
    ],
)
def test_targets_are_canonical(href, url):
    link = only_link(f'<a href="{href}">x</a>')
    assert link.url == url


def test_https_page_resolves_scheme_relative_links_to_https():
    assert urls('<a href="//cdn.test/x">x</a>', page="https://example.test/") == [
        "https://cdn.test/x"
    ]


# --- title --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "title"),
    [
        ("<title>  A \n  Title\t</title>", "A Title"),
        ("<title>First</title><title>Second</title>", "First"),
        ("<title></title><title>Second</title>", ""),
        ("<title>&amp; <b>not a tag</b></title>", "& <b>not a tag</b>"),
        ("<p>no title</p>", ""),
    ],
)
def test_title(html, title):
    assert extract(html).title == title


# --- meta refresh -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "url"),
    [
        ("0;URL='http://x.test/a'", "http://x.test/a"),
        ("0; url=http://x.test/a", "http://x.test/a"),
        ("5; url=x", "x"),
        ('5;URL = "x y" trailing', "x y"),
        ("0; url='x", "x"),  # unterminated quote: to the end
        ("  3 ,  url=x", "x"),
        ("3 url=x", "x"),
        ("0.5; url=x", "x"),
        (".5;url=x", "x"),
        ("1.2.3;x", "x"),
        ("0; x", "x"),  # "url=" is optional
        ("0;'x'", "x"),
        ("0; urlx", "urlx"),
        ("0; url x", "url x"),
        ("0; URL=  x  ", "x"),
        ("url=x", "x"),  # no delay: accepted (a leniency beyond the standard)
        ("URL = 'x'", "x"),
        ("5", None),
        ("5;", None),
        ("0; url=", None),
        ("0; url=''", None),
        ("", None),
        ("   ", None),
        ("soon; url=x", None),
        ("x", None),
        ("urlx", None),
        ("-1; url=x", None),
        ("0url=x", None),
        ("0:x", None),
    ],
)
def test_parse_meta_refresh(content, url):
    assert parse_meta_refresh(content) == url


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ('<meta http-equiv="refresh" content="0;URL=\'/new\'">', ["http://example.test/new"]),
        (
            '<META HTTP-EQUIV="Refresh" CONTENT="5; url=other.html">',
            ["http://example.test/dir/other.html"],
        ),
        ('<meta http-equiv="refresh" content="5">', []),
        ('<meta http-equiv="refresh">', []),
        ('<meta name="refresh" content="0;url=/no">', []),
    ],
)
def test_meta_refresh_links(meta, expected):
    page = extract(meta)
    assert [link.url for link in page.links] == expected
    assert all(link.link_type == "meta_refresh" for link in page.links)
    assert page.skipped == {}


# --- broken input -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (b"", []),
        (b"   ", []),
        (b"just text, no markup", []),
        (b'<a href="/x">unclosed <b>tags <i>everywhere', ["http://example.test/x"]),
        (b'<a href="/x"<b>junk</a>', ["http://example.test/x"]),  # "<b" is an attribute
        (b'<a href="/x', []),  # attribute value never ends: the tag is dropped (EOF)
        (
            b"<a href=/x><a href=/y>a inside a</a></a>",
            ["http://example.test/x", "http://example.test/y"],
        ),
        (
            b"<table><a href=/t>foster-parented</a><tr><td>c</td></tr></table>",
            ["http://example.test/t"],
        ),
        (
            b"</p></div><a href=/x>x</body></html><a href=/y>",
            ["http://example.test/x", "http://example.test/y"],
        ),
        (b"<!-- <a href=/commented>x</a> --><a href=/real>r</a>", ["http://example.test/real"]),
        (b"<script>document.write('<a href=/js>')</script>", []),
        (b"<textarea><a href=/raw>x</a></textarea>", []),
        (b"<noscript><a href=/ns>no script</a></noscript>", ["http://example.test/ns"]),
        (b"<div>" * 5000 + b"<a href=/deep>d</a>", ["http://example.test/deep"]),
        (b"<![CDATA[<a href=/c>]]><a href=/after>a</a>", ["http://example.test/after"]),
        (b"\xef\xbb\xbf<a href=/bom>utf-8 bom</a>", ["http://example.test/bom"]),
    ],
)
def test_broken_html_never_raises(html, expected):
    assert urls(html) == expected


def test_nul_bytes():
    page = extract(b'<title>a\x00b</title><a href="/a\x00b" rel="no\x00follow">x\x00y</a>\x00')
    link = page.links[0]
    # The HTML parser makes a NUL in an attribute U+FFFD and drops it from text.
    assert link.url == "http://example.test/a%EF%BF%BDb"
    assert link.rel == ("no\ufffdfollow",)
    assert link.anchor == "xy"
    assert page.title == "a\ufffdb"


def test_invalid_utf8_becomes_replacement_characters():
    body = b'<a href="/caf\xe9">caf\xe9 \xff\xfe</a><a href="/ok">ok</a>'
    page = extract(body, encoding="utf-8")
    assert [(link.url, link.anchor) for link in page.links] == [
        ("http://example.test/caf%EF%BF%BD", "caf\ufffd \ufffd\ufffd"),
        ("http://example.test/ok", "ok"),
    ]


def test_str_body_with_lone_surrogates():
    assert urls('<a href="/s\ud800">x\udfff</a>') == ["http://example.test/s"]


# --- encodings ----------------------------------------------------------------------


def test_latin1_page_with_declared_charset():
    sample = (DATA / "scrapy_sample_data" / "linkextractor_latin1.html").read_text("utf-8")
    page = extract(sample.encode("latin-1"), page="http://example.com/")
    assert [(link.url, link.anchor, link.alt) for link in page.links] == [
        ("http://example.com/sample_%C3%B1.html", "", "sample2"),
        ("http://example.com/sample_%C3%A1.html", "sample \u00e1 text", ""),
        ("http://example.com/sample_%C3%B6.html?price=%C2%A332&%C2%B5=unit", "", "sample3"),
    ]


def test_wrong_meta_charset_is_believed_unless_the_header_says_otherwise():
    # Scrapy's "latin1" sample is UTF-8 bytes under a latin-1 declaration: read as
    # declared (windows-1252), as a browser does, unless the HTTP charset is given.
    body = (DATA / "scrapy_sample_data" / "linkextractor_latin1.html").read_bytes()
    assert extract(body, page="http://example.com/").links[1].anchor == "sample \u00c3\u00a1 text"
    assert extract(body, page="http://example.com/", encoding="utf-8").links[1].anchor == (
        "sample \u00e1 text"
    )


def test_undeclared_utf8_page():
    body = (DATA / "scrapy_sample_data" / "linkextractor_noenc.html").read_bytes()
    page = extract(body, page="http://example.com/")
    assert [(link.url, link.anchor) for link in page.links] == [
        ("http://example.com/sample_%C3%B1.html", ""),
        ("http://example.com/sample_%E2%82%AC.html", "sample \u20ac text"),
    ]


def test_header_charset_wins_over_meta():
    body = '<meta charset="utf-8"><a href="/\u00e9">\u00e9t\u00e9</a>'.encode("latin-1")
    assert only_link(body, encoding="ISO-8859-1").anchor == "\u00e9t\u00e9"
    # With no header, the (wrong) meta declaration is believed: U+FFFD, no error.
    assert only_link(body).anchor == "\ufffdt\ufffd"


def test_meta_charset_is_used_without_header():
    body = '<meta charset="windows-1251"><a href="/x">\u041f\u0440\u0438\u0432\u0435\u0442</a>'
    assert only_link(body.encode("cp1251")).anchor == "\u041f\u0440\u0438\u0432\u0435\u0442"


def test_undeclared_non_utf8_is_read_as_windows_1252():
    body = '<a href="/\u20ac">\u201cquoted\u201d caf\u00e9</a>'.encode("cp1252")
    link = only_link(body)
    assert link.anchor == "\u201cquoted\u201d caf\u00e9"
    assert link.url == "http://example.test/%E2%82%AC"


@pytest.mark.parametrize("label", ["base64", "rot13", "no-such-charset", "", " UTF-8 ", '"utf8"'])
@pytest.mark.parametrize("meta", ["utf-16", "utf16", "utf32", "x-user-defined", "bogus", "base64"])
def test_odd_charset_labels_never_raise(label, meta):
    body = f'<meta charset="{meta}"><a href="/x">caf\u00e9</a>'.encode()
    link = only_link(body, encoding=label or None)
    assert link.url == "http://example.test/x"


def test_utf16_with_bom():
    body = '<a href="/\u00e9">\u00e9</a>'.encode("utf-16")
    assert only_link(body).url == "http://example.test/%C3%A9"
    assert only_link(body, encoding="latin-1").anchor == "\u00e9"  # the BOM wins


def test_a_wrong_utf16_header_gives_garbage_not_an_error():
    assert extract(b'<a href="/x">x</a>', encoding="utf-16").links == []


@pytest.mark.parametrize("codec", ["shift_jis", "iso2022_jp", "gb18030", "koi8-r"])
def test_charset_from_header(codec):
    text = '<a href="/p">\u793e</a>' if codec != "koi8-r" else '<a href="/p">\u0436</a>'
    body = text.encode(codec)
    assert only_link(body, encoding=codec).anchor == text[13:14]


# --- the normalizer contract (what makes extraction fast) ---------------------------


class RecordingNormalizer:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def __call__(self, url: str, base: str | None = None) -> str:
        self.calls.append((url, base))
        return normalize_url(url, base)


def test_absolute_hrefs_need_no_base_and_each_href_is_normalized_once():
    recorder = RecordingNormalizer()
    page = extract(
        """<a href="http://a.test/x">1</a><a href="http://a.test/x">2</a>
        <a href="https://a.test/y#one">3</a><a href="https://a.test/y#two">4</a>
        <a href="rel.html#a">5</a><a href="rel.html#b">6</a><a href="rel.html">7</a>
        <a href="#top">8</a><a href="#bottom">9</a>
        <a href="mailto:x@y">10</a><a href="javascript:x">11</a>""",
        normalize=recorder,
    )
    assert sorted(recorder.calls, key=str) == sorted(
        [
            ("http://a.test/x", None),
            ("https://a.test/y", None),
            ("rel.html", PAGE),
            ("#", PAGE),
        ],
        key=str,
    )
    assert len(page.links) == 4


def test_hrefs_are_resolved_against_the_base_not_the_page():
    recorder = RecordingNormalizer()
    extract('<base href="/b/"><a href="x">x</a>', normalize=recorder)
    assert recorder.calls == [("/b/", PAGE), ("x", "http://example.test/b/")]


# --- conformance: Scrapy's LinkExtractor -------------------------------------------

SCRAPY_CASES = {case["id"]: case for case in load("scrapy_linkextractor_cases.json")}

# Non-default options that change nothing here: restrict_xpaths selecting every link of
# the page (16, 17, 22, 26), attrs="href" (27) and unique=True (58), both defaults. The
# other non-default cases need Scrapy-only options (allow/deny, tags/attrs, restrict_*,
# process_value, canonicalize, restrict_text) and do not apply.
SCRAPY_AS_DEFAULT = {16, 17, 22, 26, 27, 58}

# Deliberate differences: case id -> (reason, the links we return: url, anchor, nofollow).
SCRAPY_DIFFERENCES: dict[int, tuple[str, list[tuple[str, str, bool]]]] = {
    16: (
        "the query is percent-encoded as UTF-8 for every page (WHATWG URL parser, one "
        "canonical form); Scrapy encodes it in the page's encoding (%A4 for \u20ac in "
        "iso8859-15)",
        [("http://example.org/%E2%99%A5/you?c=%E2%82%AC", "text", False)],
    ),
    23: (
        "no file-extension filter: a link to photo.jpg is still a backlink (Scrapy's "
        "deny_extensions drops it)",
        [
            ("http://example.org/page.html", "asd", False),
            ("http://example.org/photo.jpg", "", False),
        ],
    ),
    47: ("only http(s) links: ftp:// is skipped (counted as not_http)", []),
    58: (
        "query parameter order is kept: ?b=2&a=1 and ?a=1&b=2 are two targets (Scrapy "
        "dedupes on w3lib's canonical form, which sorts the query)",
        [
            ("http://example.com/page.html?b=2&a=1", "1", False),
            ("http://example.com/page.html?a=1&b=2", "2", False),
        ],
    ),
}

# Scrapy keeps the fragment in the URL, so "sample3.html#foo" is its own link; our
# canonical URL drops it, and the link folds into the earlier "sample3.html".
SCRAPY_FOLDED_BY_FRAGMENT = {1: 1, 2: 1, 27: 1}

SCRAPY_RUN = sorted(
    case_id
    for case_id, case in SCRAPY_CASES.items()
    if case["default_config"] or case_id in SCRAPY_AS_DEFAULT
)


def scrapy_body(case: dict) -> bytes:
    if case.get("body_file"):
        return (DATA / case["body_file"]).read_bytes()
    return base64.b64decode(case["body_b64"])


def test_scrapy_case_selection():
    # Guards the lists above against a changed data file.
    assert len(SCRAPY_RUN) == 20
    assert set(SCRAPY_DIFFERENCES) | set(SCRAPY_FOLDED_BY_FRAGMENT) <= set(SCRAPY_RUN)


@pytest.mark.parametrize("case_id", SCRAPY_RUN)
def test_scrapy_linkextractor_cases(case_id):
    case = SCRAPY_CASES[case_id]
    page_url = normalize_url(case["response_url"])
    page = extract_links(scrapy_body(case), page_url, encoding=case["response_encoding"])
    ours = [(link.url, link.anchor, link.nofollow) for link in page.links]
    if case_id in SCRAPY_DIFFERENCES:
        expected = SCRAPY_DIFFERENCES[case_id][1]
    else:
        expected, seen = [], set()
        for link in case["expected_links"]:
            url = normalize_url(link["url"])
            if url not in seen:
                seen.add(url)
                expected.append((url, link["text"], link["nofollow"]))
        folded = len(case["expected_links"]) - len(expected)
        assert folded == SCRAPY_FOLDED_BY_FRAGMENT.get(case_id, 0)
    assert ours == expected
    assert all(link.link_type in ("a", "area") for link in page.links)


def test_scrapy_sample_page_details():
    body = (DATA / "scrapy_sample_data" / "linkextractor.html").read_bytes()
    page = extract_links(body, "http://example.com/index")
    assert page.title == "Sample page with links for testing LinkExtractor"
    assert page.base_url == "http://example.com/"
    assert [(link.link_type, link.alt) for link in page.links[:2]] == [
        ("area", "sample1"),
        ("a", "sample2"),
    ]


def test_scrapy_sample_without_href():
    body = (DATA / "scrapy_sample_data" / "linkextractor_no_href.html").read_bytes()
    page = extract_links(body, "http://example.com/")
    assert [link.url for link in page.links] == [
        "http://example.com/author/Albert-Einstein",
        "http://example.com/page/1/",
        "http://example.com/page/3/",
        "http://example.com/page/4/",
    ]
    assert page.skipped == {}


# --- conformance: w3lib's <base href> cases ----------------------------------------

W3LIB_CASES = load("w3lib_get_base_url_cases.json")
W3LIB_NO_PAGE_URL = "http://page.test/dir/page.html"


def w3lib_difference(case: dict) -> tuple[str, str] | None:
    """(the base we find, why) where we deliberately differ from w3lib."""
    if case["test"].endswith("test_base_url_in_script") and "<noscript" in case["html"]:
        return (
            "http://evil.example/",
            "we parse as a browser with scripting disabled (we run no scripts), so "
            "<noscript> content is markup and the HTML parser moves a <base> in it into "
            "<head>; w3lib's scanner ignores it",
        )
    if case["test"].endswith("test_get_base_url_non_ascii_compatible"):
        return (
            "https://example.org/path",
            "the UTF-16 byte-order mark decides the encoding; w3lib's '?%FF%FE' comes from "
            "scanning the UTF-16 bytes as text",
        )
    return None


def test_w3lib_differences_are_few():
    assert sum(w3lib_difference(case) is not None for case in W3LIB_CASES) == 4


@pytest.mark.parametrize("case", W3LIB_CASES, ids=[c["test"].split("::")[1] for c in W3LIB_CASES])
def test_w3lib_base_url_cases(case):
    page_url = normalize_url(case["base_url_arg"] or W3LIB_NO_PAGE_URL)
    if case["html_type"] == "bytes":
        page = extract_links(
            bytes.fromhex(case["html_bytes_hex"]), page_url, encoding=case["encoding"]
        )
    else:
        page = extract_links(case["html"], page_url)
    difference = w3lib_difference(case)
    if difference is not None:
        expected = difference[0]
    elif case["expected"]:
        expected = normalize_url(case["expected"])
    else:
        expected = page_url
    assert page.base_url == expected


# --- conformance: html5lib ------------------------------------------------------------

TREE_CASES = load("html5lib_tree_construction_href_cases.json")


@pytest.mark.parametrize("case", TREE_CASES, ids=[str(c["index"]) for c in TREE_CASES])
def test_html5lib_tree_construction_hrefs(case):
    # Our links are the href-bearing elements in tree order, deduplicated on target.
    expected: list[str] = []
    for element in case["expected_href_elements"]:
        url = normalize_url(element["href"], PAGE)
        if url not in expected:
            expected.append(url)
    assert urls(case["data"]) == expected


def test_adoption_agency_clones_keep_their_own_text():
    page = extract('<a href="blah">aba<table><a href="foo">br<tr><td></td></tr>x</table>aoe')
    # The first "foo" clone holds "br"; "blah" contains both clones ("ababrx").
    assert [(link.url[-4:], link.anchor) for link in page.links] == [
        ("blah", "ababrx"),
        ("/foo", "br"),
    ]


# The tokenizer cases are generic (<h a="...">); these keep each case's markup and
# rename its tag and first attribute so the value is read as an href, a rel or an alt.
TOKENIZER_CASES = [
    case
    for case in load("html5lib_tokenizer_attribute_cases.json")
    if any(
        re.fullmatch("[a-z]+", name)
        for name in case["expected_start_tags_with_attributes"][0]["attributes"]
    )
]
ROLES = {"href": "<a", "rel": '<a href="/x"', "alt": '<area href="/x"'}


def tokenizer_markup(case: dict, role: str) -> tuple[str, str]:
    attributes = case["expected_start_tags_with_attributes"][0]["attributes"]
    name = next(n for n in attributes if re.fullmatch("[a-z]+", n))
    start = re.match(r"<[^\s/>]+", case["input"])
    assert start is not None
    rest = re.sub(
        rf"(?<=[\s/'\"]){name}(?=[\s=/>]|$)", role, case["input"][start.end() :], flags=re.I
    )
    return ROLES[role] + rest, attributes[name]


def test_tokenizer_case_selection():
    assert len(TOKENIZER_CASES) == 47  # 10 have no plain-letter attribute name


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "case",
    TOKENIZER_CASES,
    ids=[f"{c['file'].split('/')[1]}-{c['index']}" for c in TOKENIZER_CASES],
)
def test_html5lib_tokenizer_attribute_values(case, role):
    markup, value = tokenizer_markup(case, role)
    page = extract(markup)
    if role == "href":
        try:
            expected = [normalize_url(value, PAGE)]
        except RejectedURL as exc:
            assert page.skipped == {exc.reason: 1}
            expected = []
        assert [link.url for link in page.links] == expected
    elif role == "rel":
        assert page.links[0].rel == tuple(dict.fromkeys(value.lower().split()))
    else:
        assert page.links[0].alt == " ".join(value.split())


# --- properties -----------------------------------------------------------------------

# fmt: off
FRAGMENTS = [
    '<a href="', '<a href=', '">', "'>", ">", "</a>", "<base href=", "<area href=",
    '<link rel=canonical href="', '<meta http-equiv=refresh content="0;url=', "<iframe src=",
    '<meta name=robots content="nofollow">', '<img alt="', "<title>", "<!--", "-->", "<script>",
    "</script>", "<table>", "<svg>", "javascript:", "mailto:", "http://", "HTTPS://X.test",
    "//o.test", "#", "?", "..", "/", "\\", " ", "\n", "\x00", "\ufffd", "\u00e9", "\ud800",
    "&amp;", "&#0;", "x", "%", "%zz", "[", ":80", "rel=nofollow ", "utm_source=1&",
    "<meta charset=utf16>", '<meta charset="latin-1">',
]
# fmt: on


def check_page(page: PageLinks) -> None:
    seen = set()
    for link in page.links:
        assert link.url.startswith(("http://", "https://"))
        assert normalize_url(link.url) == link.url
        assert link.url not in seen
        seen.add(link.url)
        assert len(link.anchor) <= ANCHOR_MAX_CHARS
        assert link.anchor == link.anchor.strip(" ")
    assert all(count > 0 for count in page.skipped.values())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40))
def test_html_soup_never_raises(parts):
    html = "".join(parts)
    check_page(extract(html))
    check_page(extract(html.encode("utf-8", "surrogatepass"), encoding="utf-8"))


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600), st.sampled_from([None, "utf-8", "latin-1", "utf-16", "bogus"]))
def test_arbitrary_bytes_never_raise(body, encoding):
    check_page(
        extract(b'<a href="/x">' + body + b'</a><a href="' + body + b'">', encoding=encoding)
    )
