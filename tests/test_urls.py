"""The canonical URL form (crawler/urls.py), against the rules and three corpora.

Corpora in tests/data (licences in tests/data/licenses):
- whatwg_url/urltestdata.json: web-platform-tests, BSD-3-Clause.
- canonicalization/safebrowsing_v4_doc.json: Google Safe Browsing v4 "URLs and
  Hashing" test list (Google, CC BY 4.0), as transcribed in nlnwa/whatwg-url
  (Apache-2.0).
- canonicalization/w3lib_canonicalize_url.json: w3lib 2.5.0 tests, BSD-3-Clause.
- canonicalization/url_normalize_cases.json: url-normalize 3.1.0 tests, MIT.
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import ada_url
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crawler.urls import (
    DEFAULT_STRIP_PARAMS,
    RejectedURL,
    URLNormalizer,
    normalize_url,
    url_host,
)
from settings import base as base_settings

DATA = Path(__file__).parent / "data"


def rejection(url: str, base: str | None = None) -> str:
    """The reason ``url`` is rejected, or "accepted: <result>"."""
    try:
        return f"accepted: {normalize_url(url, base)}"
    except RejectedURL as exc:
        return exc.reason


# --- the rules, one by one -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host lower-case
        ("HTTP://Example.COM/Path", "http://example.com/Path"),
        # IDN host in punycode
        ("https://Bücher.de/", "https://xn--bcher-kva.de/"),
        ("http://пример.рф/", "http://xn--e1afmkfd.xn--p1ai/"),
        # trailing dot of the host removed, also before a port
        ("http://example.com./", "http://example.com/"),
        ("http://example.com.:8080/", "http://example.com:8080/"),
        # default port dropped, other ports kept
        ("http://example.com:80/", "http://example.com/"),
        ("https://example.com:443/", "https://example.com/"),
        ("http://example.com:443/", "http://example.com:443/"),
        ("https://example.com:8443/a", "https://example.com:8443/a"),
        # fragment dropped
        ("http://example.com/a#top", "http://example.com/a"),
        ("http://example.com/a?q=1#", "http://example.com/a?q=1"),
        # dot segments resolved, also percent-encoded ones
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/%2e%2E/c", "http://example.com/c"),
        # empty path becomes /
        ("http://example.com", "http://example.com/"),
        ("http://example.com?q", "http://example.com/?q"),
        # percent-encoding: required escapes added, unreserved ones decoded,
        # the others upper-cased
        ("http://example.com/a b/é", "http://example.com/a%20b/%C3%A9"),
        ("http://example.com/%7euser/%41%2d%2E%5f%30", "http://example.com/~user/A-._0"),
        ("http://example.com/%c3%a9?x=%c3%a9", "http://example.com/%C3%A9?x=%C3%A9"),
        ("http://example.com/a%2fb%3F%23", "http://example.com/a%2Fb%3F%23"),
        # a "%" that starts no escape is encoded
        ("http://example.com/100%", "http://example.com/100%25"),
        ("http://example.com/%zz?q=%", "http://example.com/%25zz?q=%25"),
        ("http://example.com/%%341", "http://example.com/%2541"),
        # + and %20 are kept apart
        ("http://example.com/a+b?q=a+b&r=a%20b", "http://example.com/a+b?q=a+b&r=a%20b"),
        # query order kept; tracking parameters removed
        ("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"),
        (
            "http://example.com/?utm_source=x&id=7&utm_medium=y&gclid=z&fbclid=w",
            "http://example.com/?id=7",
        ),
        ("http://example.com/?utm_campaign", "http://example.com/"),
        ("http://example.com/?utm%5Fsource=x&id=7", "http://example.com/?id=7"),
        # names compared case-sensitively, whole names only
        ("http://example.com/?UTM_SOURCE=x&gclidx=1", "http://example.com/?UTM_SOURCE=x&gclidx=1"),
        ("http://example.com/?utm=1&xutm_source=2", "http://example.com/?utm=1&xutm_source=2"),
        # empty query dropped; empty parameters dropped
        ("http://example.com/?", "http://example.com/"),
        ("http://example.com/a?&&", "http://example.com/a"),
        ("http://example.com/?&a=1&&b=2&", "http://example.com/?a=1&b=2"),
        # userinfo dropped
        ("http://user:secret@example.com/", "http://example.com/"),
        ("http://user@example.com:8080/", "http://example.com:8080/"),
        # IP literals as WHATWG writes them
        ("http://0x7f.1/", "http://127.0.0.1/"),
        ("http://[2001:DB8:0:0::1]:80/", "http://[2001:db8::1]/"),
        ("http://[::ffff:1.2.3.4]/", "http://[::ffff:102:304]/"),
        # whitespace handling is WHATWG's
        ("  http://example.com/a\tb\n  ", "http://example.com/ab"),
    ],
)
def test_rules(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


@pytest.mark.parametrize(
    ("href", "base", "expected"),
    [
        ("c", "http://example.com/a/b", "http://example.com/a/c"),
        ("../c?d#e", "http://example.com/a/b/x", "http://example.com/a/c?d"),
        ("/c", "http://example.com:8080/a/b?q", "http://example.com:8080/c"),
        ("?q=2", "http://example.com/a/b?q=1#f", "http://example.com/a/b?q=2"),
        ("#frag", "http://example.com/a?utm_source=x&id=1#f", "http://example.com/a?id=1"),
        ("//other.org/x", "https://example.com/a", "https://other.org/x"),
        ("/\\other.org/x", "https://example.com/a", "https://other.org/x"),
        ("http:x", "http://example.com/a/b", "http://example.com/a/x"),
        ("https:x", "http://example.com/a/b", "https://x/"),
        ("HTTPS://Other.org", "http://example.com/a", "https://other.org/"),
        (" c ", "http://example.com/a/b", "http://example.com/a/c"),
        ("c\td", "http://example.com/a/b", "http://example.com/a/cd"),
        ("1a:b", "http://example.com/a/b", "http://example.com/a/1a:b"),
        ("c", "http://user:pw@example.com./a/", "http://example.com/a/c"),
    ],
)
def test_resolution_against_base(href: str, base: str, expected: str) -> None:
    assert normalize_url(href, base) == expected


@pytest.mark.parametrize(
    ("url", "base", "reason"),
    [
        ("", "http://example.com/", "empty"),
        (" \t\n", "http://example.com/", "empty"),
        ("javascript:void(0)", "http://example.com/", "not_http"),
        ("JavaScript:alert(1)", None, "not_http"),
        ("java\tscript:alert(1)", "http://example.com/", "not_http"),
        ("mailto:someone@example.com", "http://example.com/", "not_http"),
        ("tel:+1-555-0100", "http://example.com/", "not_http"),
        ("data:text/html,<p>hi", "http://example.com/", "not_http"),
        ("ftp://example.com/file", None, "not_http"),
        ("ws://example.com/", None, "not_http"),
        ("file:///etc/passwd", None, "not_http"),
        ("ftp://[broken/", None, "not_http"),
        ("page.html", "ftp://example.com/dir/", "not_http"),
        ("#top", "mailto:x@example.com", "not_http"),
        ("/relative/without/base", None, "malformed"),
        ("http://exa mple.com/", None, "malformed"),
        ("http://example.com:99999/", None, "malformed"),
        ("http://[::1/", None, "malformed"),
        ("http://", None, "malformed"),
        ("http://./", None, "no_host"),
        ("http://a..b/", None, "bad_host"),
        ("http://.example.com/", None, "bad_host"),
        ("http://example.com../", None, "bad_host"),
        ("http://example.com/" + "a" * 2100, None, "too_long"),
    ],
)
def test_rejections(url: str, base: str | None, reason: str) -> None:
    assert rejection(url, base) == reason


def test_rejected_url_is_a_value_error_with_reason() -> None:
    with pytest.raises(ValueError, match="not_http") as info:
        normalize_url("mailto:x@example.com")
    assert info.value.reason == "not_http"
    assert info.value.url == "mailto:x@example.com"


def test_max_length_counts_the_canonical_form() -> None:
    short = URLNormalizer(max_length=30)
    thirty = "http://example.com/" + "a" * 11
    assert short(thirty) == thirty
    # Longer as written, 30 characters once the tracking parameter is gone.
    assert short(thirty + "?utm_id=1#fragment") == thirty
    with pytest.raises(RejectedURL, match="too_long"):
        short(thirty + "a")


def test_strip_params_configurable() -> None:
    assert DEFAULT_STRIP_PARAMS == (
        "utm_*", "gclid", "dclid", "gbraid", "wbraid", "fbclid", "msclkid",
        "yclid", "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi",
    )  # fmt: skip
    # The crawl's default (settings) and the normalizer's are one list.
    assert list(DEFAULT_STRIP_PARAMS) == base_settings.LINKWATCH_STRIP_PARAMS
    custom = URLNormalizer(strip_params=["sid", "ref_*"])
    url = "http://example.com/?sid=1&ref_a=2&ref=3&utm_source=4&sidx=5"
    assert custom(url) == "http://example.com/?ref=3&utm_source=4&sidx=5"
    keep_all = URLNormalizer(strip_params=())
    assert keep_all("http://example.com/?utm_source=4&&") == "http://example.com/?utm_source=4"
    strip_all = URLNormalizer(strip_params=["*"])
    assert strip_all("http://example.com/a?x=1&y") == "http://example.com/a"
    with pytest.raises(ValueError, match="only at the end"):
        URLNormalizer(strip_params=["utm_*_id"])


def test_url_host() -> None:
    assert url_host("http://example.com/") == "example.com"
    assert url_host("https://example.com:8443/a?b") == "example.com"
    assert url_host("http://[2001:db8::1]:8080/") == "[2001:db8::1]"
    assert url_host("http://[::1]/") == "[::1]"
    assert url_host("https://127.0.0.1/x:y") == "127.0.0.1"


def test_lone_surrogates_become_replacement_characters() -> None:
    # WHATWG takes a USVString: a lone surrogate is U+FFFD.
    assert normalize_url("http://example.com/\ud800") == "http://example.com/%EF%BF%BD"
    assert normalize_url("\udfff", "http://example.com/") == "http://example.com/%EF%BF%BD"


def test_memo_keeps_what_the_fragment_cut_would_change() -> None:
    normalizer = URLNormalizer()
    # Same text before "#", but a space there is inside the path, not trailing.
    assert normalizer("http://example.com/a #f") == "http://example.com/a%20"
    assert normalizer("http://example.com/a ") == "http://example.com/a"
    assert normalizer("http://example.com/a#f") == "http://example.com/a"
    assert normalizer("http://example.com/a #g") == "http://example.com/a%20"
    assert normalizer("http://example.com/?utm_source=x#f") == "http://example.com/"
    assert normalizer("http://example.com/?utm_source=x") == "http://example.com/"


def test_base_memo_is_bounded_and_correct_after_eviction() -> None:
    normalizer = URLNormalizer()
    for i in range(200):
        assert normalizer("x", f"http://h{i}.example/d/p") == f"http://h{i}.example/d/x"
    assert len(normalizer._bases) <= 64
    assert normalizer("#f", "http://h0.example/d/p") == "http://h0.example/d/p"


# --- WHATWG URL test suite (web-platform-tests) ---------------------------------------

UNRESERVED = set(string.ascii_letters + string.digits + "-._~")
TRACKING = {
    "gclid", "dclid", "gbraid", "wbraid", "fbclid", "msclkid",
    "yclid", "mc_cid", "mc_eid", "igshid", "_hsenc", "_hsmi",
}  # fmt: skip


def fix_escapes(text: str) -> str:
    """Rule 6, written independently of the module, character by character."""
    out = []
    i = 0
    while i < len(text):
        pair = text[i + 1 : i + 3]
        if text[i] != "%":
            out.append(text[i])
            i += 1
        elif len(pair) == 2 and all(c in string.hexdigits for c in pair):
            char = chr(int(pair, 16))
            out.append(char if char in UNRESERVED else "%" + pair.upper())
            i += 3
        else:
            out.append("%25")
            i += 1
    return "".join(out)


def whatwg_plus_our_rules(case: dict) -> str:
    """WPT's expected URL, from its components, with our extra rules applied."""
    host = case["hostname"].removesuffix(".")
    port = f":{case['port']}" if case["port"] else ""
    params = [
        p
        for p in fix_escapes(case["search"][1:]).split("&")
        if p and not ((name := p.split("=")[0]).startswith("utm_") or name in TRACKING)
    ]
    query = "?" + "&".join(params) if params else ""
    return f"{case['protocol']}//{host}{port}{fix_escapes(case['pathname'])}{query}"


# Where we reject what WHATWG accepts, and why.
WPT_REJECTED = {
    # An empty href is the document itself: nothing to learn from it.
    ("", "http://example.org/foo/bar"): "empty",
    ("  \t", "http://example.org/foo/bar"): "empty",
    ("", "http://user:pass@example.org:21/smth"): "empty",
    ("", "file:///test?test#test"): "empty",
    ("", "non-spec:/..//p"): "empty",
    # Hosts with an empty label: DNS cannot resolve them.
    ("http://./", None): "no_host",
    ("http://../", None): "bad_host",
    ("http://foo.09..", None): "bad_host",
}


def wpt_cases() -> list[dict]:
    data = json.loads((DATA / "whatwg_url" / "urltestdata.json").read_text(encoding="utf-8"))
    return [case for case in data if isinstance(case, dict)]


def test_whatwg_cases_modulo_our_rules() -> None:
    mismatches = []
    counts = {"http": 0, "other": 0, "failure": 0, "rejected": 0}
    for case in wpt_cases():
        url, base = case["input"], case["base"]
        got = rejection(url, base)
        if (url, base) in WPT_REJECTED:
            expected = WPT_REJECTED[(url, base)]
            counts["rejected"] += 1
        elif case.get("failure"):
            # Any reason will do, as long as the URL is refused.
            expected = got if not got.startswith("accepted") else "a rejection"
            counts["failure"] += 1
        elif case["protocol"] in ("http:", "https:"):
            expected = "accepted: " + whatwg_plus_our_rules(case)
            counts["http"] += 1
        else:
            expected = "not_http"
            counts["other"] += 1
        if got != expected:
            mismatches.append((url, base, expected, got))
    assert mismatches == []
    assert counts == {"http": 241, "other": 375, "failure": 267, "rejected": 8}


def test_whatwg_output_reparses_to_itself() -> None:
    for case in wpt_cases():
        try:
            canonical = normalize_url(case["input"], case["base"])
        except RejectedURL:
            continue
        assert ada_url.parse_url(canonical, attributes=("href",))["href"] == canonical
        assert normalize_url(canonical) == canonical


# --- other canonicalizers: where we agree, and where we differ on purpose -------------


def corpus(name: str) -> list[dict]:
    path = DATA / "canonicalization" / name
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def compare(cases: list[dict], differ: dict[str, str]) -> tuple[int, list[tuple]]:
    """Cases agreeing with the corpus, and failures: a case listed in ``differ``
    must give the listed result instead, any other the corpus's."""
    agree = 0
    wrong = []
    for case in cases:
        url = case["input"]
        got = rejection(url).removeprefix("accepted: ")
        if url in differ:
            if got != differ[url]:
                wrong.append((url, "differ", differ[url], got))
            continue
        expected = case["expected"] if not case.get("expect_error") else got
        if case.get("expect_error") and got.startswith("http"):
            expected = "a rejection"
        if got == expected:
            agree += 1
        else:
            wrong.append((url, "agree", expected, got))
    return agree, wrong


SAFE_BROWSING_DIFFERS = {
    # Safe Browsing unescapes until stable; "%25" is a literal "%" to us, and
    # only escapes of unreserved characters are decoded.
    "http://host/%25%32%35": "http://host/%2525",
    "http://host/%25%32%35%25%32%35": "http://host/%2525%2525",
    "http://host/%2525252525252525": "http://host/%2525252525252525",
    "http://host/asdf%25%32%35asd": "http://host/asdf%2525asd",
    "http://host/%%%25%32%35asd%%": "http://host/%25%25%2525asd%25%25",
    # WHATWG refuses "#", "%20" and spaces in a host.
    "http://host%23.com/%257Ea%2521b%2540c%2523d%2524e%25f%255E00%252611%252A22%252833"
    "%252944_55%252B": "malformed",
    "http:// leadingspace.com/": "malformed",
    "http://%20leadingspace.com/": "malformed",
    # No scheme, no guess (a bare seed domain gets http:// from the command line).
    "www.google.com/": "malformed",
    "www.google.com": "malformed",
    "%20leadingspace.com/": "malformed",
    # Empty labels are refused, not collapsed.
    "http://www.google.com.../": "bad_host",
    # The contract drops an empty query.
    "http://www.google.com/q?": "http://www.google.com/q",
    # Non-default ports name another server; "//" may be another resource.
    "http://www.gotaport.com:1234/": "http://www.gotaport.com:1234/",
    "http://host.com//twoslashes?more//slashes": "http://host.com//twoslashes?more//slashes",
}


def test_safe_browsing_list() -> None:
    cases = [c for c in corpus("safebrowsing_v4_doc.json") if "input_bytes_hex" not in c]
    agree, wrong = compare(cases, SAFE_BROWSING_DIFFERS)
    assert wrong == []
    assert agree == 17


W3LIB_DIFFERS = {
    # w3lib sorts and re-encodes the query; we keep its order and spelling.
    "http://www.example.com/do?c=1&b=2&a=3": "http://www.example.com/do?c=1&b=2&a=3",
    "http://www.example.com/do?c=3&b=5&b=2&a=50": "http://www.example.com/do?c=3&b=5&b=2&a=50",
    "http://www.example.com/do?b=&a=2": "http://www.example.com/do?b=&a=2",
    "http://www.example.com/do?b=&c&a=2": "http://www.example.com/do?b=&c&a=2",
    "http://www.example.com/do?1750,4": "http://www.example.com/do?1750,4",
    "http://www.example.com/do?q=a space&a=1": "http://www.example.com/do?q=a%20space&a=1",
    "http://www.example.com/do?q=a+space&a=1": "http://www.example.com/do?q=a+space&a=1",
    "http://www.example.com/do?q=a%20space&a=1": "http://www.example.com/do?q=a%20space&a=1",
    "http://www.example.com/do?price=£500&a=5&z=3": (
        "http://www.example.com/do?price=%C2%A3500&a=5&z=3"
    ),
    "http://はじめよう.みんな/?query=サ&maxResults=5": (
        "http://xn--p8j9a0d9c9a.xn--q9jyb4c/?query=%E3%82%B5&maxResults=5"
    ),
    # Userinfo is dropped.
    "http://user:pass@www.example.com:81/do?now=1": "http://www.example.com:81/do?now=1",
    "http://user:pass@www.example.com/do?a=1#frag": "http://www.example.com/do?a=1",
    "http://user:pass@[::1]/a": "http://[::1]/a",
    "http://user@例え.jp/path": "http://xn--r8jz45g.jp/path",
    "http://user:pass@例え.jp:8080/p": "http://xn--r8jz45g.jp:8080/p",
    # Relative references need a base; other schemes are not crawled.
    "a#frag": "malformed",
    "a?b=1#frag": "malformed",
    "?b=1": "malformed",
    "sftp://UsEr:PaSsWoRd@www.EXAMPLE.com/": "not_http",
    "mailto:a/../b": "not_http",
    "foo:/a/../b": "not_http",
    # An empty label is refused; a label too long for DNS is still encoded
    # (WHATWG does not check DNS lengths; w3lib leaves the label as it is).
    "http://.éxamplé.com/résumé?q=résumé": "bad_host",
    "http://www." + "éxamplé" * 11 + ".com/résumé?q=résumé": (
        "http://www.xn--xamplxamplxamplxamplxamplxamplxamplxamplxamplxamplxampl-91efafafafafafafaf"
        "afafaf.com/r%C3%A9sum%C3%A9?q=r%C3%A9sum%C3%A9"
    ),
}


def test_w3lib_canonicalize_url() -> None:
    cases = [
        c
        for c in corpus("w3lib_canonicalize_url.json")
        if c["input_type"] == "str" and not c["kwargs"]
    ]
    agree, wrong = compare(cases, W3LIB_DIFFERS)
    assert wrong == []
    assert agree == 67


URL_NORMALIZE_DIFFERS = {
    # url-normalize composes decoded UTF-8 to NFC; we keep the bytes as sent.
    "http://example.com/?q=C%CC%A7": "http://example.com/?q=C%CC%A7",
    "https://example.com/%FFe%CC%81": "https://example.com/%FFe%CC%81",
    "https://example.com/?q=%FFe%CC%81": "https://example.com/?q=%FFe%CC%81",
    "https://example.com/e%CC%81": "https://example.com/e%CC%81",
    "https://example.com/?q=e%CC%81": "https://example.com/?q=e%CC%81",
    # It rewrites "#!" to "?_escaped_fragment_=" (a retired Google AJAX scheme).
    "http://example.com/#!5753509/hello-world": "http://example.com/",
    # WHATWG strips C0 controls and spaces at both ends, not a no-break space;
    # url-normalize strips any whitespace, but only at the start.
    " http://example.com/path ": "http://example.com/path",
    "\thttp://example.com/path ": "http://example.com/path",
    "\r\nhttp://example.com/path ": "http://example.com/path",
    "\xa0http://example.com/path ": "malformed",
    # Empty labels are refused, not collapsed.
    "https://example.com.\u3002/path": "bad_host",
    "https://example.com\uff0e\uff61/path": "bad_host",
    "https://example.com\u3002./path": "bad_host",
}


def test_url_normalize() -> None:
    differ = dict(URL_NORMALIZE_DIFFERS)
    for case in corpus("url_normalize_cases.json"):
        url, expected = case["input"], case["expected"]
        if url in differ:
            continue
        if not re.match(r"\s*https?:", url, re.IGNORECASE):
            # It defaults the scheme to https and normalizes relative
            # references; we need an http(s) URL or a base.
            differ[url] = "empty" if not url else rejection(url)
            assert differ[url] in ("empty", "malformed", "not_http"), url
        elif "#" in expected:
            differ[url] = expected.partition("#")[0]  # it keeps the fragment
        elif "@" in url:
            differ[url] = re.sub(r"//[^/@]*@", "//", expected)  # and the userinfo
    agree, wrong = compare(corpus("url_normalize_cases.json"), differ)
    assert wrong == []
    assert agree == 57


# --- properties -------------------------------------------------------------------------

HOSTS = st.sampled_from(
    [
        "example.com", "EXAMPLE.com.", "Bücher.de", "xn--bcher-kva.de", "a.b.c.d", "0x7f.1",
        "127.0.0.1", "[::1]", "[2001:DB8::1]", "a..b", ".x", "x..", "%41.com", "ex%2Eample",
        "localhost", "münchen.test.",
    ]
)  # fmt: skip
PIECES = st.sampled_from(
    [
        "a", "Z", "0", "-", ".", "..", "~", "_", "%", "%2", "%2e", "%2E", "%7e", "%41", "%c3%a9",
        "%25", "%zz", "é", " ", "+", "%20", "?", "#", "&", "=", "&&", "utm_source=1",
        "gclid", "utm_", "UTM_x=1", ":", "@", ";", "/", "//", "\\", "\t", "\n", "'", '"', "<",
        "^", "|", "`", "{", "}", "[", "]", "\x00", "\x7f", "\ud800", "\U0001f600",
    ]
)  # fmt: skip
TAILS = st.lists(PIECES, max_size=12).map("".join)
URLS = st.builds(
    lambda scheme, auth, host, port, tail: f"{scheme}://{auth}{host}{port}/{tail}",
    st.sampled_from(["http", "https", "HTTP", "hTtPs"]),
    st.sampled_from(["", "u@", "u:p@", "@", "%40:x@"]),
    HOSTS,
    st.sampled_from(["", ":80", ":443", ":8080", ":", ":0080"]),
    TAILS,
)
BASES = st.sampled_from(
    [
        "http://example.com/a/b/c.html?x=1#f",
        "https://u:p@example.com.:8443/dir/",
        "http://[::1]/",
        "http://example.com/%7Ex/%zz/p?utm_source=1",
        "https://example.com",
        "ftp://example.com/a/",
        "about:blank",
    ]
)
HREFS = st.one_of(
    TAILS,
    st.builds(lambda p, t: p + t, st.sampled_from(["/", "//", "?", "#", "./", "../", "x:"]), TAILS),
    URLS,
    st.text(max_size=20),
)
PROPERTY = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY
@given(URLS)
def test_idempotent(url: str) -> None:
    try:
        once = normalize_url(url)
    except RejectedURL:
        return
    assert normalize_url(once) == once
    # A WHATWG parser reads the canonical form back unchanged...
    assert ada_url.parse_url(once, attributes=("href",))["href"] == once
    # ... and url_host agrees with it.
    assert url_host(once) == ada_url.parse_url(once, attributes=("hostname",))["hostname"]


@PROPERTY
@given(HREFS, BASES)
def test_resolution_shortcuts_agree_with_ada(href: str, base: str) -> None:
    """The string-concatenation shortcuts for relative hrefs give what ada's
    own resolution gives: the same URL, or the same refusal."""
    fresh = URLNormalizer()
    # WHATWG reads a lone surrogate as U+FFFD; ada's Python API cannot encode one.
    usv = href.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    try:
        joined: str | None = ada_url.join_url(base, usv)
    except ValueError:
        joined = None
    try:
        got = fresh(href, base)
    except RejectedURL as exc:
        if href.strip("".join(map(chr, range(0x21)))) and joined is not None:
            with pytest.raises(RejectedURL) as again:
                fresh(joined)
            assert again.value.reason == exc.reason
        return
    assert joined is not None
    assert got == fresh(joined)
    assert fresh(got) == got
