"""Registered domains and the watch list (crawler/domains.py).

tests/data/psl/test_psl.txt is the Public Suffix List's own test file
(publicsuffix/list tests/test_psl.txt), dedicated to the public domain (CC0)
in its header.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.domains import (
    _EXTRACT,
    _PLAIN_NAME,
    WatchList,
    _host_name,
    clean_domain,
    public_suffix,
    registered_domain,
)
from crawler.urls import normalize_url, url_host

ROOT = Path(__file__).parent.parent
PSL_TESTS = ROOT / "tests" / "data" / "psl" / "test_psl.txt"


def psl_vectors() -> list[tuple[str, str | None]]:
    """The checkPublicSuffix(input, expected) calls, null input left out."""
    call = re.compile(r"^checkPublicSuffix\((null|'[^']*'), (null|'[^']*')\);$", re.MULTILINE)
    vectors = []
    for host, expected in call.findall(PSL_TESTS.read_text(encoding="utf-8")):
        if host != "null":
            vectors.append((host[1:-1], None if expected == "null" else expected[1:-1]))
    return vectors


def test_psl_vectors() -> None:
    """Every vector holds: null means "a public suffix itself, or not a host"."""
    wrong = []
    for host, expected in psl_vectors():
        try:
            got: str | None = registered_domain(host)
            if got == public_suffix(host):
                got = None
        except ValueError:
            got = None
        # The list's vectors are in Unicode; we answer in punycode.
        want = None if expected is None else expected.encode("idna").decode("ascii")
        if got != want:
            wrong.append((host, want, got))
    assert wrong == []
    assert len(psl_vectors()) == 77


# Where tldextract alone (same snapshot, private section on) disagrees with the
# list's algorithm, and why registered_domain does not.
TLDEXTRACT_DEVIATIONS = {
    # It keeps the input's case; registered_domain lower-cases first.
    "example.COM": "example.COM",
    "WwW.example.COM": "example.COM",
    # It ignores a leading dot; an empty label makes registered_domain refuse the host.
    ".example.com": "example.com",
    # It has no implicit "*" rule for unlisted TLDs; registered_domain applies it.
    "example.example": None,
    "b.example.example": None,
    "a.b.example.example": None,
}


def test_tldextract_deviations_are_the_known_ones() -> None:
    deviations = {}
    for host, expected in psl_vectors():
        parts = _EXTRACT(host)
        got = f"{parts.domain}.{parts.suffix}" if parts.domain and parts.suffix else None
        if got != expected:
            deviations[host] = got
    assert deviations == TLDEXTRACT_DEVIATIONS


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        # the private section counts
        ("alice.github.io", "alice.github.io"),
        ("bob.github.io", "bob.github.io"),
        ("www.alice.github.io", "alice.github.io"),
        ("foo.blogspot.com", "foo.blogspot.com"),
        # unlisted TLDs: the last label is the suffix
        ("blog.mysite.test", "mysite.test"),
        ("mysite.test", "mysite.test"),
        ("a.b.svc.internal", "svc.internal"),
        ("app.localhost", "app.localhost"),
        # a public suffix is its own registered domain
        ("github.io", "github.io"),
        ("co.uk", "co.uk"),
        ("com", "com"),
        ("test", "test"),
        ("localhost", "localhost"),
        # PSL wildcards and exceptions
        ("a.b.c.kawasaki.jp", "b.c.kawasaki.jp"),
        ("www.city.kawasaki.jp", "city.kawasaki.jp"),
        # case, port, trailing dot, IDN
        ("Blog.MySite.CO.UK.", "mysite.co.uk"),
        ("mysite.com:8443", "mysite.com"),
        ("MYSITE.com.:80", "mysite.com"),
        ("www.Bücher.de", "xn--bcher-kva.de"),
        ("www.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("食狮.公司.cn", "xn--85x722f.xn--55qx5d.cn"),
        # IP literals are their own
        ("93.184.216.34", "93.184.216.34"),
        ("127.0.0.1:8080", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("[2001:DB8::1]", "[2001:db8::1]"),
        ("[::1]:8080", "[::1]"),
        ("::1", "[::1]"),
    ],
)
def test_registered_domain(host: str, expected: str) -> None:
    assert registered_domain(host) == expected


@pytest.mark.parametrize(
    "host",
    ["", " ", "a b.com", "a.com/path", "user@a.com", "a..b.com", ".a.com", "a.com:x", "[::1"],
)
def test_registered_domain_refuses_non_hosts(host: str) -> None:
    with pytest.raises(ValueError, match="not a host name"):
        registered_domain(host)


LABEL = st.text("abxnz019_-", min_size=1, max_size=6)
NAMES = st.builds(
    lambda labels, last: ".".join([*labels, last]),
    st.lists(st.one_of(LABEL, st.just("xn--bcher-kva"), st.just("xn--a")), max_size=3),
    st.one_of(st.builds(str.__add__, st.sampled_from("az_-"), LABEL), st.just("xn--p1ai")),
)


@settings(max_examples=100, deadline=None, database=None)
@given(NAMES)
def test_plain_name_shortcut_matches_whatwg(name: str) -> None:
    """Names taken as they are must be what WHATWG host parsing makes of them."""
    assert _PLAIN_NAME.fullmatch(name)
    try:
        parsed = url_host(normalize_url(f"http://{name}/"))
    except ValueError:
        parsed = None
    assert _host_name(name) == (name if "xn--" not in name else parsed)
    if "xn--" not in name:
        assert parsed == name


def test_registered_domain_is_memoized() -> None:
    info = registered_domain.cache_info()
    assert info.maxsize is not None and info.maxsize >= 100_000
    registered_domain("memo.example.org")
    hits = registered_domain.cache_info().hits
    registered_domain("memo.example.org")
    assert registered_domain.cache_info().hits == hits + 1


def test_suffix_list_is_never_fetched_nor_cached_on_disk(tmp_path: Path) -> None:
    """With no network and an empty HOME, the bundled snapshot answers and no file is written."""
    code = (
        "import socket\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError('network used')\n"
        "socket.socket.connect = socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from crawler.domains import registered_domain\n"
        "assert registered_domain('a.b.example.co.uk') == 'example.co.uk'\n"
        "assert registered_domain('x.alice.github.io') == 'alice.github.io'\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TLDEXTRACT")}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=120)
    assert list(tmp_path.iterdir()) == []


# --- user-given domains ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("mysite.com", "mysite.com"),
        ("  MySite.COM.  ", "mysite.com"),
        ("https://Blog.MySite.com:8443/path?q=1#x", "blog.mysite.com"),
        ("http://mysite.com", "mysite.com"),
        ("//mysite.com/", "mysite.com"),
        ("mysite.com/some/page", "mysite.com"),
        ("mysite.com:8080", "mysite.com"),
        ("Bücher.de", "xn--bcher-kva.de"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("alice.github.io", "alice.github.io"),
        ("blog.mysite.test", "blog.mysite.test"),
        ("93.184.216.34", "93.184.216.34"),
    ],
)
def test_clean_domain(entry: str, expected: str) -> None:
    assert clean_domain(entry) == expected


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "empty domain"),
        ("   ", "empty domain"),
        ("my site.com", "space inside domain"),
        ("com", "'com' is a public suffix"),
        ("co.uk", "'co.uk' is a public suffix"),
        ("github.io", "'github.io' is a public suffix"),
        ("test", "'test' is a public suffix"),
        ("*.mysite.com", "no wildcards"),
        ("user@mysite.com", "not a domain"),
        ("a..b.com", "not a valid domain name"),
        ("a\u05d0.com", "not a valid domain name"),  # Bidi rule: invalid IDN
        ("a\u200db.com", "not a valid domain name"),  # ZWJ out of context
        ("mysite.com:port", "not a valid domain name"),
    ],
)
def test_clean_domain_refuses_junk(entry: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        clean_domain(entry)
    assert "\n" not in str(info.value)


# --- the watch list -------------------------------------------------------------------------


def test_watch_list_registered_domain_entry() -> None:
    watch = WatchList(["mysite.com"])
    for host in (
        "mysite.com",
        "blog.mysite.com",
        "MYSITE.com.",
        "mysite.com:8443",
        "a.b.mysite.com",
    ):
        assert watch.match(host) == "mysite.com", host
    for host in ("mysite.com.evil.net", "notmysite.com", "mysite.co", "com", "evil.net"):
        assert watch.match(host) is None, host


def test_watch_list_deeper_host_entry() -> None:
    watch = WatchList(["blog.mysite.com"])
    assert watch.match("blog.mysite.com") == "blog.mysite.com"
    assert watch.match("x.blog.mysite.com") == "blog.mysite.com"
    assert watch.match("mysite.com") is None
    assert watch.match("shop.mysite.com") is None
    assert watch.match("xblog.mysite.com") is None


def test_watch_list_most_specific_entry_wins() -> None:
    watch = WatchList(["mysite.com", "blog.mysite.com"])
    assert watch.match("x.blog.mysite.com") == "blog.mysite.com"
    assert watch.match("blog.mysite.com") == "blog.mysite.com"
    assert watch.match("shop.mysite.com") == "mysite.com"


def test_watch_list_idn_in_both_forms() -> None:
    for entry in ("bücher.de", "xn--bcher-kva.de", "BÜCHER.de"):
        watch = WatchList([entry])
        assert watch.entries == ("xn--bcher-kva.de",)
        assert watch.match("www.bücher.de") == "xn--bcher-kva.de"
        assert watch.match("www.xn--bcher-kva.de") == "xn--bcher-kva.de"
        assert watch.match("bucher.de") is None


def test_watch_list_private_suffixes_separate_sites() -> None:
    watch = WatchList(["alice.github.io"])
    assert watch.match("alice.github.io") == "alice.github.io"
    assert watch.match("docs.alice.github.io") == "alice.github.io"
    assert watch.match("bob.github.io") is None
    assert watch.match("github.io") is None
    # A registered-domain entry covers hosts whose registered domain it is:
    # buckets under the public suffix s3.amazonaws.com belong to their owners.
    aws = WatchList(["amazonaws.com"])
    assert aws.match("console.amazonaws.com") == "amazonaws.com"
    assert aws.match("bucket.s3.amazonaws.com") is None


def test_watch_list_unlisted_tlds_and_ips() -> None:
    watch = WatchList(["mysite.test", "10.0.0.1", "[::1]"])
    assert watch.match("blog.mysite.test") == "mysite.test"
    assert watch.match("othersite.test") is None
    assert watch.match("10.0.0.1:8080") == "10.0.0.1"
    assert watch.match("10.0.0.2") is None
    assert watch.match("[::1]") == "[::1]"


def test_watch_list_container_protocol() -> None:
    watch = WatchList(["b.org", "a.com", "A.com.", "blog.c.net"])
    assert watch.entries == ("a.com", "b.org", "blog.c.net")
    assert len(watch) == 3
    assert list(watch) == ["a.com", "b.org", "blog.c.net"]
    assert "www.a.com" in watch
    assert "c.net" not in watch
    assert 42 not in watch
    assert len(WatchList()) == 0
    assert WatchList().match("a.com") is None


def test_watch_list_non_hosts_do_not_match() -> None:
    watch = WatchList(["mysite.com"])
    for host in ("", "mysite .com", "a..mysite.com", "mysite.com/x", "user@mysite.com"):
        assert watch.match(host) is None, host


def test_watch_list_refuses_junk_entries() -> None:
    with pytest.raises(ValueError, match="public suffix"):
        WatchList(["mysite.com", "github.io"])
