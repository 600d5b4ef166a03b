"""Fuzzing the two functions every byte of the web goes through.

``normalize_url`` (crawler/urls.py) and ``extract_links`` (crawler/extraction.py)
get over 10,000 generated inputs per run, shaped like what hostile pages hold:
invalid, over-long, IDN, IPv4 in odd notations, IPv6 literals, userinfo, odd
ports, dot segments, bad percent-escapes, controls, broken markup, arbitrary
bytes in any declared charset. The invariants:

- nothing but RejectedURL ever comes out of the normalizer, and no exception
  out of the extractor;
- a canonical URL is a fixed point (idempotence), is http(s) with a host to
  a WHATWG parser, and fits the length limit;
- every link the extractor returns is canonical, and so is its base URL.

Hypothesis draws structured inputs (and shrinks a failure to a small one);
drawing costs it milliseconds an input, against microseconds for the
functions under test, so the batch tests draw a seed and build dozens of
inputs from the same tables with ``random.Random(seed)`` (a failure names
its seed).
"""

from __future__ import annotations

import random

import ada_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.extraction import ANCHOR_MAX_CHARS, extract_links
from crawler.urls import RejectedURL, URLNormalizer, normalize_url, url_host

MAX_LENGTH = 300  # small, so generated URLs cross it often
short = URLNormalizer(max_length=MAX_LENGTH)


def fuzz(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def assert_canonical(url: str, normalizer: URLNormalizer = normalize_url) -> None:
    assert normalizer(url) == url, f"not idempotent: {url!r}"
    parsed = ada_url.parse_url(url, attributes=("href", "protocol", "hostname"))
    assert parsed["href"] == url, f"a WHATWG parser reads {url!r} as {parsed['href']!r}"
    assert parsed["protocol"] in ("http:", "https:"), url
    assert parsed["hostname"] and url_host(url) == parsed["hostname"], url
    assert "#" not in url and "@" not in url.split("/", 3)[2], url
    assert len(url) <= normalizer.max_length, url


def normalized(url: str, base: str | None = None, normalizer=normalize_url) -> str | None:
    """The canonical form, or None if refused; any other exception fails the test."""
    try:
        return normalizer(url, base)
    except RejectedURL as exc:
        assert isinstance(exc.reason, str) and exc.reason
        return None


# --- what URLs are made of ----------------------------------------------------------------

SCHEMES = (
    "http://", "https://", "HTTP://", "hTtPs://", "http:", "http:/", "http:\\\\", "https:///",
    "//", "", "ftp://", "javascript:", "mailto:", "data:text/html,", "ws://", " http://",
    "\thttp://", "ht\ntp://", "file:///",
)  # fmt: skip
USERINFOS = ("", "", "", "user@", "user:pass@", ":@", "@", "a@b@", "%40:%3A@", "ü:ß@")
HOSTS = (
    "example.com", "EXAMPLE.COM.", "a.b.c.d.e", "xn--bcher-kva.de", "Bücher.de", "münchen.test",
    "ДОМЕН.рф", "faß.de", "exa mple.com", "ex%41mple.com", "a..b", ".a", "a.", "..", ".",
    "-a-.com", "a_b.com", "xn--.com", "xn--zz.com", "localhost", "0", "0x7f.1", "0177.0.1",
    "2130706433", "4294967296", "127.0.0.1.", "256.0.0.1", "1.2.3", "09.1.1.1", "[::1]",
    "[::ffff:127.0.0.1]", "[2001:DB8::1]", "[fe80::1%25eth0]", "[::1", "::1]",
    "[1:2:3:4:5:6:7:8:9]", "[v1.x]", "", "%", "\u200b", "a\u0000b", "\U0001f600.com",
)  # fmt: skip
PORTS = (
    "", "", "", ":80", ":443", ":8080", ":0", ":00080", ":65535", ":65536", ":99999", ":", ":-1",
    ":8o", ": 80", ":80:80",
)  # fmt: skip
PIECES = (
    "a", "Z", "0", "-", ".", "..", "%2e", "%2E%2e", "/.", "/..", "/../..", "~", "_", "%", "%2",
    "%zz", "%%341", "%7e", "%41", "%c3%a9", "%C3", "%ff", "%00", "%20", "+", "é", "ü",
    "\U0001f600", " ", "\t", "\n", "\r", "\x00", "\x7f", "\ud800", "?", "#", "&", "&&", "=", ";",
    ":", "@", "//", "\\", "'", '"', "<", ">", "^", "|", "`", "{", "}", "[", "]", "utm_source=x",
    "gclid=1", "UTM_x=1", "utm_", "fbclid", "x" * 50, "/" * 5, "/",  "/", "/",
)  # fmt: skip
SEPARATORS = ("/", "/", "", "?", "#", "\\")
RELATIVE_PREFIXES = ("", "/", "//", "?", "#", "./", "../", "../../../", "x:", ":", "\\\\", " ")
BASES = (
    "http://example.com/a/b/c.html?x=1#f", "https://u:p@example.com.:8443/dir/", "http://[::1]/",
    "http://0x7f.1/x/", "http://example.com/%7Ex/%zz/p?utm_source=1", "https://xn--bcher-kva.de",
    "ftp://example.com/a/", "about:blank", "not a url", "",
)  # fmt: skip

TAILS = st.lists(st.sampled_from(PIECES), max_size=16).map("".join)
ABSOLUTE = st.builds(
    lambda scheme, auth, host, port, separator, tail, repeat: (
        f"{scheme}{auth}{host}{port}{separator}{tail * repeat}"
    ),
    st.sampled_from(SCHEMES),
    st.sampled_from(USERINFOS),
    st.one_of(
        st.sampled_from(HOSTS),
        st.text(max_size=12),
        st.lists(st.sampled_from(["a", "xn--a", "0", "09", "0x", "-", "é", "ß"]), max_size=6).map(
            ".".join
        ),
    ),
    st.sampled_from(PORTS),
    st.sampled_from(SEPARATORS),
    TAILS,
    st.sampled_from([1, 1, 1, 2, 40]),  # sometimes far over the length limit
)
RELATIVE = st.builds(lambda prefix, tail: prefix + tail, st.sampled_from(RELATIVE_PREFIXES), TAILS)
ANY_BASE = st.one_of(st.sampled_from(BASES), ABSOLUTE)


def random_url(rnd: random.Random) -> str:
    """An absolute or relative URL from the same tables, drawn with ``rnd``."""
    tail = "".join(rnd.choice(PIECES) for _ in range(rnd.randrange(17)))
    if rnd.random() < 0.1:
        tail *= 40
    if rnd.random() < 0.4:
        return rnd.choice(RELATIVE_PREFIXES) + tail
    host = rnd.choice(HOSTS)
    if rnd.random() < 0.15:
        host = "".join(chr(rnd.randrange(0x20, 0x3000)) for _ in range(rnd.randrange(8)))
    return (
        rnd.choice(SCHEMES)
        + rnd.choice(USERINFOS)
        + host
        + rnd.choice(PORTS)
        + rnd.choice(SEPARATORS)
        + tail
    )


# --- URLs ----------------------------------------------------------------------------------


@fuzz(500)
@given(ABSOLUTE)
def test_absolute_urls(url):
    for normalizer in (normalize_url, short):
        canonical = normalized(url, normalizer=normalizer)
        if canonical is not None:
            assert_canonical(canonical, normalizer)


@fuzz(500)
@given(RELATIVE, ANY_BASE)
def test_relative_urls_against_any_base(href, base):
    canonical = normalized(href, base)
    if canonical is not None:
        assert_canonical(canonical)
        # A fresh normalizer gives the same answer: its memos change nothing.
        assert URLNormalizer()(href, base) == canonical


@fuzz(500)
@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=40)))
def test_any_text(url, base):
    canonical = normalized(url, base)
    if canonical is not None:
        assert_canonical(canonical)


URL_BATCH = 40


SEEDS = st.integers(min_value=0, max_value=2**64)


@fuzz(300)  # 12,000 URLs
@given(SEEDS)
def test_url_batches(seed):
    rnd = random.Random(seed)
    normalizer = URLNormalizer(max_length=rnd.choice([MAX_LENGTH, 2048]))
    for _ in range(URL_BATCH):
        url = random_url(rnd)
        base = rnd.choice((None, rnd.choice(BASES), random_url(rnd)))
        canonical = normalized(url, base, normalizer)
        if canonical is not None:
            assert_canonical(canonical, normalizer)


# --- HTML ----------------------------------------------------------------------------------

TAGS = (
    "a", "A", "area", "link", "base", "iframe", "frame", "meta", "img", "title", "div", "p",
    "table", "td", "noscript", "script", "style", "template", "svg", "math", "textarea", "b",
)  # fmt: skip
ATTRIBUTE_NAMES = ("href", "HREF", "src", "rel", "alt", "content", "name", "http-equiv", "x")
ATTRIBUTE_VALUES = ("nofollow", "NoFollow ugc", "canonical", "robots", "refresh", "0;url=/x")
QUOTES = ('"', "'", "")
ODDITIES = (
    "<!--", "-->", "<!DOCTYPE html>", "<![CDATA[", "]]>", "</", "<", ">", "&amp;", "&#0;",
    "&#x110000;", "\x00", "\ufeff", "<meta charset=utf-16>", "<meta charset=x-bogus>",
    "<meta http-equiv=content-type content='text/html; charset=shift_jis'>",
)  # fmt: skip
CHARSETS = (
    None, "utf-8", "UTF8", "iso-8859-1", "windows-1252", "shift_jis", "utf-16", "utf-16-be",
    "utf-7", "x-user-defined", "no-such-charset", "base64", "",
)  # fmt: skip
PAGE_URLS = (
    "http://example.com/", "https://example.com/a/b.html?q=1", "http://[::1]:8080/x/",
    "http://xn--bcher-kva.de/%C3%A4/",
)  # fmt: skip


def attribute(name: str, quote: str, value: str) -> str:
    if quote:
        return f" {name}={quote}{value.replace(quote, '')}{quote}"
    return f" {name}={value.replace(' ', '').replace('>', '')}"


ATTRIBUTE = st.builds(
    attribute,
    st.sampled_from(ATTRIBUTE_NAMES),
    st.sampled_from(QUOTES),
    st.one_of(ABSOLUTE, RELATIVE, st.sampled_from(ATTRIBUTE_VALUES)),
)
ELEMENT = st.one_of(
    st.builds(
        lambda tag, attributes, text, close: (
            f"<{tag}{''.join(attributes)}>{text}" + (f"</{tag}>" if close else "")
        ),
        st.sampled_from(TAGS),
        st.lists(ATTRIBUTE, max_size=4),
        st.text(max_size=10),
        st.booleans(),
    ),
    st.sampled_from(ODDITIES),
    st.text(max_size=20),
)


def random_markup(rnd: random.Random) -> str:
    parts = []
    for _ in range(rnd.randrange(40)):
        kind = rnd.random()
        if kind < 0.6:
            tag = rnd.choice(TAGS)
            attributes = "".join(
                attribute(
                    rnd.choice(ATTRIBUTE_NAMES),
                    rnd.choice(QUOTES),
                    random_url(rnd) if rnd.random() < 0.7 else rnd.choice(ATTRIBUTE_VALUES),
                )
                for _ in range(rnd.randrange(4))
            )
            text = rnd.choice(("", "text", " a  b\n", "\x00", "é" * 400))
            parts.append(f"<{tag}{attributes}>{text}" + (f"</{tag}>" if rnd.random() < 0.5 else ""))
        elif kind < 0.85:
            parts.append(rnd.choice(ODDITIES))
        else:
            parts.append("".join(chr(rnd.randrange(1, 0x800)) for _ in range(rnd.randrange(20))))
    return "".join(parts)


def assert_page_links(page_links) -> None:
    assert_canonical(page_links.base_url)
    seen = set()
    for link in page_links.links:
        assert_canonical(link.url)
        assert link.url not in seen, f"{link.url!r} twice"
        seen.add(link.url)
        assert len(link.anchor) <= ANCHOR_MAX_CHARS
        assert link.link_type in ("a", "area", "canonical", "frame", "meta_refresh")
    assert all(isinstance(r, str) and n > 0 for r, n in page_links.skipped.items())


def as_bytes(markup: str, codec: str) -> bytes:
    return markup.encode(codec, "surrogatepass" if codec.startswith("utf") else "replace")


@fuzz(300)
@given(
    st.lists(ELEMENT, max_size=30).map("".join),
    st.sampled_from(CHARSETS),
    st.sampled_from(["utf-8", "latin-1", "utf-16"]),
    st.sampled_from(PAGE_URLS),
    st.booleans(),
)
def test_html_soup(markup, charset, sent_as, page_url, nofollow):
    body = as_bytes(markup, sent_as)
    assert_page_links(extract_links(body, page_url, encoding=charset, nofollow=nofollow))
    assert_page_links(extract_links(markup, page_url))  # as text, lone surrogates and all


@fuzz(300)
@given(st.binary(max_size=2_000), st.sampled_from(CHARSETS), st.sampled_from(PAGE_URLS))
def test_arbitrary_bytes(body, charset, page_url):
    assert_page_links(extract_links(b"<a href='/x'>" + body, page_url, encoding=charset))


HTML_BATCH = 15


@fuzz(100)  # 1,500 pages
@given(SEEDS)
def test_html_batches(seed):
    rnd = random.Random(seed)
    for _ in range(HTML_BATCH):
        markup = random_markup(rnd)
        body = as_bytes(markup, rnd.choice(("utf-8", "latin-1", "utf-16", "shift_jis")))
        charset = rnd.choice(CHARSETS)
        assert_page_links(extract_links(body, rnd.choice(PAGE_URLS), encoding=charset))


def test_the_fuzzing_adds_up_to_ten_thousand_inputs():
    def examples(test) -> int:
        return test._hypothesis_internal_use_settings.max_examples

    inputs = sum(
        examples(test)
        for test in (
            test_absolute_urls,
            test_relative_urls_against_any_base,
            test_any_text,
            test_html_soup,
            test_arbitrary_bytes,
        )
    )
    inputs += examples(test_url_batches) * URL_BATCH + examples(test_html_batches) * HTML_BATCH
    assert inputs >= 10_000
