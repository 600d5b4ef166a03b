"""The fixture web: determinism, a self-consistent truth, and the proxy server."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest

from crawler.testing.fixtureweb import (
    LOST_REASONS,
    MAX_DEPTH,
    FixtureServer,
    build_web,
    canonical_target,
    max_concurrency,
    route,
    truth_changes,
)
from crawler.testing.fixtureweb.__main__ import main as cli_main
from crawler.testing.fixtureweb.model import seed_url

ROOT = Path(__file__).resolve().parents[1]
EDGE_KEYS = {
    "source_url",
    "target_url",
    "source_domain",
    "target_domain",
    "anchor",
    "alt",
    "rel",
    "nofollow",
    "link_type",
    "source_title",
    "source_status",
}


@pytest.fixture(scope="module")
def web():
    return build_web()


@pytest.fixture(scope="module")
def web2():
    return build_web(version=2)


def edges_by_key(web):
    return {(e["source_url"], e["target_url"]): e for e in web.truth_edges}


# --------------------------------------------------------------------------- generator


def test_deterministic():
    a, b = build_web(pages=300, seed=7), build_web(pages=300, seed=7)
    assert a.truth() == b.truth()
    for url in a.truth_pages:
        assert a.responses[url] == b.responses[url]
    other = build_web(pages=300, seed=8)
    assert other.truth_edges != a.truth_edges
    assert other.seeds == a.seeds and other.watch == a.watch


@pytest.mark.parametrize("pages", [150, 1000])
def test_pages_scales_the_web(pages):
    web = build_web(pages=pages)
    assert abs(len(web.truth_pages) - pages) <= 0.05 * pages
    assert max(web.depths.values()) == MAX_DEPTH


def test_edge_records(web):
    assert web.truth_edges
    for e in web.truth_edges:
        assert set(e) == EDGE_KEYS
        assert e["link_type"] in ("a", "area", "canonical", "frame", "meta_refresh", "redirect")
        assert isinstance(e["rel"], list) and isinstance(e["nofollow"], bool)
        assert e["rel"] == [t.lower() for t in dict.fromkeys(e["rel"])]
        assert len(e["anchor"]) <= 300 and e["anchor"] == " ".join(e["anchor"].split())
        assert re.fullmatch(r"https?://[a-z0-9.:-]+/\S*", e["target_url"]), e
        assert "#" not in e["target_url"] and "utm_" not in e["target_url"]
        for field in ("source_url", "target_url"):
            host = e[field].split("/")[2].split(":")[0]
            domain = e[field.replace("url", "domain")]
            assert host == domain or host.endswith("." + domain)


def test_truth_is_consistent(web):
    pages = set(web.truth_pages)
    seen = set()
    for e in web.truth_edges:
        key = (e["source_url"], e["target_url"])
        assert key not in seen, key  # one edge per (source, target)
        seen.add(key)
        assert e["source_url"] in pages
        page = web.page(e["source_url"])
        resp = web.responses[e["source_url"]]
        assert resp.status == e["source_status"] == page.status
        link = next(lk for lk in page.links if lk.target == e["target_url"])
        if e["link_type"] == "redirect":
            assert dict(resp.headers)["Location"] == link.written
            assert e["source_title"] == "" and not e["nofollow"]
        else:
            assert link.written in resp.body.decode(page.charset), key
    never = set(web.never_fetch)
    assert not never & pages
    for url in never:
        assert url in web.responses, url  # it exists: fetching it would be seen


def test_never_fetch_covers_each_reason(web):
    never = set(web.never_fetch)
    assert {
        "http://www.alpha.test/private/secret.html",  # robots
        "http://beta.test/administrator.html",  # robots, prefix match of /admin
        "http://blog.alpha.test/drafts/wip.html",
        "http://delta.test/level4.html",  # depth 4
        "http://delta.test/level4b.html",  # redirect from a depth-3 page
        "http://delta.test/level4c.html",  # meta refresh on a depth-3 page
        "http://mysite.test/",  # watched, not a seed
        "https://competitor.test/",  # https: would be a CONNECT
        "http://other.test/",  # unwatched
        "http://news.zeta.test/hidden/index.html",
    } <= never
    for url in web.truth_pages:
        assert web.is_seed_domain(url)


def test_robots_rules_match_the_disallowed_pages(web):
    def disallowed(url):
        host, path = route(url, None)
        resp = web.responses.get(host, "/robots.txt")
        if resp is None or resp.status != 200:
            return False
        rules = re.findall(r"(?m)^Disallow:[ \t]*(\S+)", resp.body.decode())
        return any(path.startswith(rule) for rule in rules)

    for url in web.truth_pages:
        assert not disallowed(url), url
    for url in web.never_fetch:
        page = web.page(url)
        if page is not None and web.is_seed_domain(url):
            assert page.disallowed == disallowed(url), url
            assert page.disallowed or web.depths.get(url) is None


def test_fetched_pages_do_not_depend_on_crawl_order(web, web2):
    """Scrapy's scheduler is not BFS and drops a URL it has seen, whatever its
    depth: a follow to a page that a shorter path reaches too is fine only if
    that page is surely scheduled first (a seed, a dominator, a child of a
    dominator) or has nothing to follow."""
    for w in (web, web2):
        depths = w.depths
        follows = {u: [t for t in w.page(u).follows if t in depths] for u in depths}
        parents: dict[str, set[str]] = {u: set() for u in depths}
        for u, ts in follows.items():
            for t in ts:
                if depths[t] == depths[u] + 1:
                    parents[t].add(u)
        dominators: dict[str, set[str]] = {}
        for u in sorted(depths, key=depths.get):
            ps = [dominators[p] for p in parents[u]]
            dominators[u] = {u} | (set.intersection(*ps) if ps else set())
        for u, ts in follows.items():
            if depths[u] >= MAX_DEPTH:
                continue
            for t in ts:
                ok = (
                    depths[t] in (0, depths[u] + 1)  # seeds are scheduled first
                    or t in dominators[u]
                    or parents[t] & dominators[u]  # scheduled before u was found
                    or not follows[t]
                )
                assert ok, (w.version, u, t)


def test_tricky_cases(web):
    e = edges_by_key(web)
    a = "http://www.alpha.test"

    def edge(src, dst, **expected):
        got = e[(src, dst)]
        assert {k: got[k] for k in expected} == expected, (src, dst, got)

    edge(
        f"{a}/hosts.html",
        "http://xn--bcher-kva.test/stra%C3%9Fe",
        target_domain="xn--bcher-kva.test",
    )
    edge(f"{a}/hosts.html", "http://blog.alice.pages.test/x", target_domain="pages.test")
    edge(f"{a}/hosts.html", "http://mysite.test:8080/alt-port", target_domain="mysite.test")
    edge(f"{a}/hosts.html", "https://mysite.test/tls")
    assert not any(t[1].startswith("http://bob.pages.test") for t in e)
    edge(f"{a}/base-abs.html", "http://mysite.test/docs/later.html", link_type="meta_refresh")
    edge(f"{a}/base-abs.html", "http://mysite.test/docs/embed", link_type="frame", anchor="")
    edge(f"{a}/rels.html", "http://mysite.test/r3", rel=["nofollow", "noopener", "noreferrer"])
    edge(f"{a}/rels.html", "http://mysite.test/r8", nofollow=False)
    edge(f"{a}/image-map.html", "http://mysite.test/area1", link_type="area", alt="Area One")
    edge(f"{a}/frameset.html", "http://mysite.test/frame-right", link_type="frame")
    edge(f"{a}/canonical.html", "http://mysite.test/canonical-target", rel=["canonical"])
    edge(f"{a}/dupes.html", "http://mysite.test/dup", anchor="First text", rel=["ugc"])
    edge(f"{a}/dupes.html", "http://mysite.test/dup2", link_type="frame")
    edge(f"{a}/robots-meta/none.html", "http://mysite.test/meta-none", nofollow=True)
    edge(f"{a}/xrobots/nofollow.html", "http://mysite.test/xrobots-nofollow", nofollow=True)
    edge(f"{a}/xrobots/noindex.html", "http://mysite.test/xrobots-noindex", nofollow=False)
    edge("http://shop.alpha.test:8080/", "http://mysite.test/from-port", source_domain="alpha.test")
    edge(
        "http://beta.test/go/mysite",
        "http://mysite.test/landing",
        link_type="redirect",
        source_status=301,
        source_title="",
    )
    edge("http://beta.test/go/chain2", "http://competitor.test/chain-end", source_status=302)
    edge("http://delta.test/go/deep-watched", "http://competitor.test/deep-redirect")
    edge("http://beta.test/refresh/watched.html", "http://mysite.test/refreshed")
    edge("http://www.epsilon.test/missing.html", "http://mysite.test/from-404", source_status=404)
    edge("http://www.epsilon.test/latin1.html", "http://mysite.test/caf%C3%A9")
    edge(
        "http://www.epsilon.test/two-titles.html",
        "http://mysite.test/two-titles",
        source_title="First title",
    )
    edge("http://blog.gamma.test/post/1", "http://blog.gamma.test/post/1", anchor="Comments")
    assert len(e[(f"{a}/long-anchor.html", "http://mysite.test/long")]["anchor"]) == 300
    # Fetched but not parsed; redirect bodies are not parsed either.
    for path in ("/doc.pdf", "/logo.png", "/notes.txt", "/nowhere.html"):
        assert f"http://www.epsilon.test{path}" in web.truth_pages
    targets = {t for _, t in e}
    for absent in (
        "in-pdf",
        "in-text",
        "in-redirect-body",
        "in-iframe",
        "srcdoc",
        "depth-4",
        "style.css",
    ):
        assert not any(absent in t for t in targets), absent
    assert not any("from-private" in t or "from-draft" in t for t in targets)


def test_large_web_is_lazy():
    web = build_web(pages=20_000)
    resp = web.responses["http://news.zeta.test/p/6000.html"]
    assert resp.status == 200 and b"Zeta News page 6000" in resp.body
    assert "http://news.zeta.test/p/99999.html" in web.responses  # a 404 page
    assert web.responses["http://news.zeta.test/p/99999.html"].status == 404


# --------------------------------------------------------------------------- version 2


def test_v2_changes(web, web2):
    changes = truth_changes(web, web2)
    v1 = [c for c in changes if c["state"] != "new"]
    assert [(c["source_url"], c["target_url"]) for c in v1] == list(edges_by_key(web))
    reasons = Counter(c["lost_reason"] for c in v1 if c["state"] == "lost")
    assert set(reasons) == set(LOST_REASONS)
    assert set(web.truth_pages) <= set(web2.truth_pages)  # every v1 source is recrawled
    by = {(c["source_url"], c["target_url"]): c for c in changes}
    a = "http://www.alpha.test"
    e2 = edges_by_key(web2)
    expected = {
        (f"{a}/about.html", "http://www.mysite.test/team"): "link_removed",
        ("http://beta.test/refresh/watched.html", "http://mysite.test/refreshed"): "link_removed",
        (f"{a}/anchors.html", "http://mysite.test/img1"): "page_gone",
        (
            "http://www.epsilon.test/latin1-meta.html",
            "http://competitor.test/latin-meta",
        ): "page_gone",
        (f"{a}/long-anchor.html", "http://mysite.test/long"): "redirected",
        (f"{a}/canonical.html", "http://competitor.test/in-body"): "redirected",
        (f"{a}/rels.html", "http://mysite.test/r6"): "became_nofollow",
        (f"{a}/robots-meta/noindex.html", "http://mysite.test/meta-noindex"): "became_nofollow",
    }
    for key, reason in expected.items():
        assert by[key]["state"] == "lost" and by[key]["lost_reason"] == reason, key
        if reason == "became_nofollow":
            assert e2[key]["nofollow"] is True
    for key in [
        (f"{a}/about.html", "http://competitor.test/about-ref"),  # nofollow in both
        ("http://www.epsilon.test/missing.html", "http://mysite.test/from-404"),  # 404 in both
        ("http://blog.gamma.test/post/1", "http://blog.gamma.test/"),  # anchor changed
    ]:
        assert by[key]["state"] == "live", key
    new = {k for k, c in by.items() if c["state"] == "new"}
    assert (f"{a}/about.html", "http://mysite.test/new-in-v2") in new
    assert (f"{a}/long-anchor.html", "http://mysite.test/long-anchor-moved") in new
    assert f"{a}/new-page.html" in web2.truth_pages
    assert new == set(e2) - set(edges_by_key(web))


def test_v2_bulk_changes_keep_the_tree():
    v1, v2 = build_web(pages=2000, seed=1), build_web(version=2, pages=2000, seed=1)
    assert set(v1.truth_pages) <= set(v2.truth_pages)
    reasons = Counter(c["lost_reason"] for c in truth_changes(v1, v2) if c["state"] == "lost")
    assert set(reasons) == set(LOST_REASONS)


# --------------------------------------------------------------------------- server


def http(port, raw: bytes, *, reads: int = 1) -> list[tuple[int, dict, bytes]]:
    """Send raw bytes on one connection; read ``reads`` responses."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(raw)
        f = s.makefile("rb")
        for _ in range(reads):
            status = int(f.readline().split()[1])
            headers = {}
            while (line := f.readline()) not in (b"\r\n", b""):
                k, _, v = line.decode("latin-1").partition(":")
                headers[k.strip().lower()] = v.strip()
            bodiless = raw.startswith(b"HEAD ") or status == 304
            length = 0 if bodiless else int(headers["content-length"])
            out.append((status, headers, f.read(length)))
    return out


def logged(server, count: int, has=lambda entries: True) -> list[dict]:
    """The access log once it has ``count`` entries and ``has`` holds of them
    (a response reaches the client a moment before its entry is written, and
    an earlier test's connection may log in between)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        entries = server.access_log_entries()
        if len(entries) >= count and has(entries):
            break
        time.sleep(0.01)
    return entries


def get(target: str, host: str | None = None, extra: str = "") -> bytes:
    h = f"Host: {host}\r\n" if host else ""
    return f"GET {target} HTTP/1.1\r\n{h}{extra}\r\n".encode()


@pytest.fixture(scope="module")
def server(web, tmp_path_factory):
    log = tmp_path_factory.mktemp("fixtureweb") / "access.jsonl"
    with FixtureServer(web, access_log=log) as srv:
        yield srv


def test_server_absolute_form_keep_alive(server, web):
    urls = ["http://www.alpha.test/", "http://shop.alpha.test:8080/item.html"]
    raw = b"".join(get(u, host=u.split("/")[2]) for u in urls)
    responses = http(server.port, raw, reads=2)
    for url, (status, headers, body) in zip(urls, responses, strict=True):
        expected = web.responses[url]
        assert (status, body) == (expected.status, expected.body)
        assert headers["content-type"] == dict(expected.headers)["Content-Type"]


def test_server_routing(server, web):
    port = server.port
    ((status, _, body),) = http(port, get("/about.html", host="www.alpha.test"))
    assert status == 200 and body == web.responses["http://www.alpha.test/about.html"].body
    ((status, headers, _),) = http(port, get("http://beta.test/go/mysite", host="beta.test"))
    assert status == 301 and headers["location"] == "http://mysite.test/landing?utm_source=beta"
    ((status, _, _),) = http(port, get("http://nowhere.example/", host="nowhere.example"))
    assert status == 404
    ((status, _, body),) = http(port, get("http://www.alpha.test/robots.txt"))
    assert status == 200 and b"Disallow: /private/" in body
    ((status, _, _),) = http(port, get("http://blog.gamma.test/robots.txt"))
    assert status == 404
    ((status, _, _),) = http(
        port, b"CONNECT mysite.test:443 HTTP/1.1\r\nHost: mysite.test:443\r\n\r\n"
    )
    assert status == 405
    ((status, headers, _),) = http(port, b"HEAD http://www.alpha.test/ HTTP/1.1\r\n\r\n")
    assert status == 200 and int(headers["content-length"]) > 0
    # A non-canonical spelling reaches the canonical page.
    ((status, _, body),) = http(port, get("http://WWW.alpha.test:80/%7eteam/./?utm_source=x#f"))
    assert status == 200 and body == web.responses["http://www.alpha.test/~team/"].body


def test_server_through_urllib_proxy(server, web):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": server.proxy_url}))
    with opener.open("http://www.epsilon.test/latin1.html", timeout=5) as resp:
        assert resp.headers["Content-Type"] == "text/html; charset=iso-8859-1"
        assert "Crème brûlée" in resp.read().decode("iso-8859-1")


def test_access_log(server):
    before = len(logged(server, 0))
    http(server.port, get("http://delta.test/level1.html?utm_medium=y", host="delta.test"))
    http(server.port, b"CONNECT Competitor.test:443 HTTP/1.1\r\n\r\n")
    entries = logged(
        server,
        before + 2,
        lambda found: {"delta.test", "competitor.test"} <= {e["host"] for e in found[before:]},
    )
    assert server.access_log.read_text().count("\n") == len(entries)
    entry = next(e for e in entries if e["host"] == "delta.test")
    assert entry["path"] == "/level1.html?utm_medium=y"
    assert entry["url"] == "http://delta.test/level1.html"
    assert entry["method"] == "GET" and entry["status"] == 200
    assert entry["start"] <= entry["end"] <= time.monotonic()
    connect = [e for e in entries if e["method"] == "CONNECT"]
    assert {e["host"] for e in connect} >= {"competitor.test"}
    assert all(e["status"] == 405 and e["url"] is None for e in connect)


# --------------------------------------------------------------------------- validators

ABOUT = "http://www.alpha.test/about.html"


def test_html_pages_carry_validators_and_nothing_else_does(web):
    headers = dict(web.responses[ABOUT].headers)
    assert re.fullmatch(r'"[0-9a-f]{32}"', headers["ETag"])
    assert headers["Last-Modified"].endswith(" GMT")
    assert parsedate_to_datetime(headers["Last-Modified"])  # an HTTP date
    other = build_web(pages=300)  # the same hand-written page, another web around it
    assert dict(other.responses[ABOUT].headers) == headers
    for url in (
        "http://www.epsilon.test/doc.pdf",  # not HTML
        "http://beta.test/go/mysite",  # a redirect
        "http://www.epsilon.test/missing.html",  # a 404
        "http://www.alpha.test/robots.txt",
        "http://www.alpha.test/sitemap_index.xml",
    ):
        names = {name for name, _ in web.responses[url].headers}
        assert not names & {"ETag", "Last-Modified"}, url


def test_last_modified_moves_only_for_pages_that_changed(web, web2):
    changed = unchanged = 0
    for url in web.truth_pages:
        if url not in web2.responses or web.page(url).status != 200:
            continue
        before, after = web.responses[url], web2.responses[url]
        if after.status != 200 or "ETag" not in dict(after.headers):
            continue
        first, second = (dict(r.headers)["Last-Modified"] for r in (before, after))
        if before.body == after.body:
            unchanged += 1
            assert second == first and dict(after.headers)["ETag"] == dict(before.headers)["ETag"]
        else:
            changed += 1
            assert parsedate_to_datetime(second) > parsedate_to_datetime(first), url
            assert dict(after.headers)["ETag"] != dict(before.headers)["ETag"]
    assert changed and unchanged


def conditional(target: str, **headers: str) -> bytes:
    extra = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return get(target, extra=extra)


def test_server_answers_304_to_a_matching_if_none_match(server, web):
    tag = dict(web.responses[ABOUT].headers)["ETag"]
    before = len(logged(server, 0))
    # A 304 has no body: the next response on the connection follows at once.
    (status, headers, body), (again, _, page) = http(
        server.port,
        conditional(ABOUT, If_None_Match=tag) + get(ABOUT),
        reads=2,
    )
    assert (status, body, headers["etag"]) == (304, b"", tag)
    assert "content-length" not in headers and "last-modified" not in headers
    assert (again, page) == (200, web.responses[ABOUT].body)
    first, second = logged(server, before + 2)[before:]
    assert (first["status"], first["bytes"], first["conditional"]) == (304, 0, True)
    assert (second["status"], second["bytes"], second["conditional"]) == (200, len(page), False)


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [
        ("{tag}", 304),
        ('"other", W/{tag}', 304),  # a list; weak comparison
        ("*", 304),
        ('"other"', 200),
    ],
)
def test_if_none_match_compares_entity_tags(server, web, if_none_match, status):
    tag = dict(web.responses[ABOUT].headers)["ETag"]
    ((got, _, _),) = http(
        server.port, conditional(ABOUT, If_None_Match=if_none_match.format(tag=tag))
    )
    assert got == status


def test_if_modified_since_counts_only_without_if_none_match(server, web):
    modified = parsedate_to_datetime(dict(web.responses[ABOUT].headers)["Last-Modified"])
    same, later, earlier = (
        format_datetime(modified + timedelta(seconds=s), usegmt=True) for s in (0, 60, -60)
    )
    port = server.port
    assert http(port, conditional(ABOUT, If_Modified_Since=same))[0][0] == 304
    assert http(port, conditional(ABOUT, If_Modified_Since=later))[0][0] == 304
    assert http(port, conditional(ABOUT, If_Modified_Since=earlier))[0][0] == 200
    assert http(port, conditional(ABOUT, If_Modified_Since="yesterday"))[0][0] == 200
    # If-None-Match takes precedence: a stale tag means a new body, whatever the date.
    stale = conditional(ABOUT, If_None_Match='"stale"', If_Modified_Since=later)
    assert http(port, stale)[0][0] == 200
    # Only pages with validators: a 404 stays a 404.
    missing = conditional("http://www.epsilon.test/missing.html", If_Modified_Since=later)
    assert http(port, missing)[0][0] == 404


def test_a_server_without_validators_sends_none_and_never_304(web):
    tag = dict(web.responses[ABOUT].headers)["ETag"]
    with FixtureServer(web, validators=False) as srv:
        ((status, headers, body),) = http(srv.port, conditional(ABOUT, If_None_Match=tag))
        entries = logged(srv, 1)
    assert (status, body) == (200, web.responses[ABOUT].body)
    assert "etag" not in headers and "last-modified" not in headers
    assert (entries[0]["bytes"], entries[0]["conditional"]) == (len(body), True)


# --------------------------------------------------------------------------- sitemaps


def test_sitemaps_are_served_as_the_protocol_writes_them(web):
    index = web.responses["http://www.alpha.test/sitemap_index.xml"]
    assert b"<sitemapindex" in index.body and b"sitemaps/pages.xml.gz" in index.body
    child = web.responses["http://www.alpha.test/sitemaps/pages.xml.gz"]
    assert dict(child.headers)["Content-Type"] == "application/x-gzip"
    xml = gzip.decompress(child.body)
    assert b"<urlset" in xml and b"<loc>http://www.alpha.test/sitemap-only.html</loc>" in xml
    assert b"utm_source=sitemap&amp;utm_medium=xml" in xml and b"<lastmod>" in xml
    assert b"Sitemap: http://www.alpha.test/sitemap_index.xml" in (
        web.responses["http://www.alpha.test/robots.txt"].body
    )
    plain = web.responses["http://beta.test/sitemap.xml"]
    assert b"Sitemap:" not in web.responses["http://beta.test/robots.txt"].body
    assert b"<loc>http://beta.test/listed.html</loc>" in plain.body
    assert web.responses["http://delta.test/sitemap.xml"].status == 404


def test_sitemap_only_pages_are_in_the_truth_only_when_sitemaps_are_read(web):
    off = build_web(sitemaps=False)
    only = {"http://www.alpha.test/sitemap-only.html", "http://beta.test/listed.html"}
    assert set(web.truth_pages) - set(off.truth_pages) == only
    assert all(web.depths[url] == 1 for url in only)
    linked = {t for u in web.truth_pages for t in web.page(u).follows}
    assert not only & linked, "reachable through a sitemap only"
    sources = {e["source_url"] for e in web.truth_edges} - {
        e["source_url"] for e in off.truth_edges
    }
    assert sources == only
    assert only <= set(off.never_fetch)
    never = set(web.never_fetch)
    assert {
        "http://mysite.test/sitemap.xml",  # an index's child on another domain
        "http://mysite.test/listed-in-a-sitemap",  # a urlset's URL on another domain
        "http://other.test/from-beta-sitemap",
        "http://www.alpha.test/sitemaps/deeper.xml",  # listed by an index in an index
        "http://www.alpha.test/too-deep-in-sitemaps.html",
    } <= never
    fetched = web.sitemap_fetches
    assert fetched[:3] == [
        "http://www.alpha.test/sitemap_index.xml",  # robots.txt names it
        "http://www.alpha.test/sitemaps/pages.xml.gz",
        "http://www.alpha.test/sitemaps/nested-index.xml",  # fetched, not followed
    ]
    assert "http://beta.test/sitemap.xml" in fetched and len(fetched) == len(set(fetched))
    hosts = {u.split("/")[2] for u in fetched}
    assert hosts == {seed_url(s).split("/")[2] for s in web.seeds}, "every seed host once"
    assert off.sitemap_fetches == [] and set(off.never_fetch) >= set(web.sitemap_files)


def test_delay_and_concurrency(web):
    delay, n = 0.3, 4
    with FixtureServer(web, delay=delay) as srv:
        threads = [
            threading.Thread(target=http, args=(srv.port, get(f"http://news.zeta.test/p/{i}.html")))
            for i in range(1, n + 1)
        ]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - t0
        entries = logged(srv, n)
    assert len(entries) == n and delay <= elapsed < delay * n
    assert all(e["end"] - e["start"] >= delay for e in entries)
    assert max_concurrency(entries) == {"news.zeta.test": n}


def test_route_and_canonical_target():
    assert route("http://Shop.Alpha.TEST:8080/a/../b?utm_x=1&k=v", None) == (
        "shop.alpha.test:8080",
        "/b?k=v",
    )
    assert route("/x", "Beta.Test:80") == ("beta.test", "/x")
    assert route("*", None) is None
    assert canonical_target("/caf%c3%a9/%7e?gclid=1") == "/caf%C3%A9/~"


# --------------------------------------------------------------------------- CLI


def test_cli_truth_seeds_watch(tmp_path, capsys, web):
    out = tmp_path / "truth.json"
    assert cli_main(["truth", "--out", str(out)]) == 0
    truth = json.loads(out.read_text(encoding="utf-8"))
    assert truth["edges"] == web.truth_edges and truth["pages"] == web.truth_pages
    assert truth["never_fetch"] == web.never_fetch and truth["seeds"] == web.seeds
    assert cli_main(["truth", "--version", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8"))["changes"]
    capsys.readouterr()
    assert cli_main(["seeds"]) == 0 and cli_main(["watch"]) == 0
    seeds, watch = capsys.readouterr().out.splitlines()
    assert seeds.split(",") == web.seeds and watch.split(",") == web.watch


def test_cli_truth_without_sitemaps(tmp_path):
    out = tmp_path / "truth.json"
    assert cli_main(["truth", "--no-sitemaps", "--out", str(out)]) == 0
    truth = json.loads(out.read_text(encoding="utf-8"))
    off = build_web(sitemaps=False)
    assert truth["params"]["sitemaps"] is False and truth["sitemaps"] == []
    assert truth["pages"] == off.truth_pages and truth["edges"] == off.truth_edges


def test_cli_serve(tmp_path):
    port_file, log = tmp_path / "port", tmp_path / "access.jsonl"
    proc = subprocess.Popen(
        [
            *(sys.executable, "-m", "crawler.testing.fixtureweb", "serve", "--pages", "500"),
            *("--port-file", str(port_file), "--access-log", str(log)),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        port = int(port_file.read_text())
        line = proc.stdout.readline()
        assert line.strip() == f"fixture web on http://127.0.0.1:{port} (proxy)"
        ((status, _, _),) = http(port, get("http://eta.test/p/100.html"))
        assert status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    assert json.loads(log.read_text())["url"] == "http://eta.test/p/100.html"
