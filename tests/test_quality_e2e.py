"""End to end on both stores: a real crawl of the fixture web's link-quality
sites (crawler/testing/fixtureweb/profiles.py, ``_quality``: www.lightblog.test,
lampforum.test and lampdeals.test, all linking to lumen.test), then what every
new per-edge and per-page fact says, read from the store and through
`linkwatch anchors | refdomains | backlinks | explain | report`.

Every expectation below is written by hand from the markup in profiles.py,
never computed with crawler/placement.py, crawler/intelligence/anchors.py or
crawler/intelligence/quality.py: each edge's placement, anchor class and
context (the collapsed text of the link's nearest block element, whole when it
is at most 150 characters), each page's language, the sitewide referrer.

The crawl goes through the fixture web's proxy, so every page's address is the
proxy's, 127.0.0.1 (README, "Network diversity"): the three referring domains
are one IP in one subnet. Only the quality sites are crawled (their seeds,
lumen.test watched): nothing else links to lumen.test, and the crawl is short.
"""

from __future__ import annotations

import contextlib
import io
from html.parser import HTMLParser

import orjson
import pytest

from crawler.testing.fixtureweb import build_web
from crawler.testing.fixtureweb.model import QUALITY_TARGET, netloc, registered_domain
from crawler.testing.fixtureweb.profiles import (
    QUALITY_KEYWORDS,
    QUALITY_SEEDS,
    QUALITY_SITEWIDE_PAGES,
)
from tests.support.crawling import assert_edges_equal, edge_key
from tests.test_intelligence_e2e import json_lines, linkwatch, location_settings
from tests.test_recrawl_e2e import Location, crawl

pytestmark = pytest.mark.e2e

T = f"http://{QUALITY_TARGET}"
BLOG = "http://www.lightblog.test"
FORUM = "http://lampforum.test"
DEALS = "http://lampdeals.test"
DEALS_PAGES = [f"{DEALS}/"] + [f"{DEALS}/p/{k}.html" for k in range(1, QUALITY_SITEWIDE_PAGES)]
REFERRERS = ("lampdeals.test", "lampforum.test", "lightblog.test")

# The long paragraph of the blog's article: its context is a window of it.
LONG = (
    "We tested twelve lamps this winter, on a small desk by a north window, from the "
    "cheapest clip-on to the dearest brass arm. The desk lamp we kept is quiet, warm and "
    "bright enough for reading late; the others went back to the shop within a week, most "
    "of them for flicker or glare."
)
# (source, target) -> placement, anchor, alt, anchor class, nofollow, context
# (LONG: a window of that paragraph around the anchor).
EDGES: dict[tuple[str, str], tuple[str, str, str, str, bool, str]] = {
    (f"{BLOG}/", f"{T}/"): (
        "header", "Lumen", "", "brand", False, "Lichtblog, mit Lumen beleuchtet"
    ),
    (f"{BLOG}/", f"{T}/blog"): ("nav", "Read more", "", "generic", False, "Read more"),
    (f"{BLOG}/", f"{T}/desk-lamp"): ("content", "desk lamp", "", "exact", False, LONG),
    (f"{BLOG}/", f"{T}/catalogue"): (
        "content", "http://lumen.test/catalogue", "", "url", False,
        "Their catalogue: http://lumen.test/catalogue",
    ),
    (f"{BLOG}/", f"{T}/logo"): ("content", "", "Lumen logo", "image", False, "Photo: the shop"),
    (f"{BLOG}/", f"{T}/small"): (
        "content", "a small lamp for the desk", "", "partial", False,
        "One that suits a small desk: a small lamp for the desk.",
    ),
    (f"{BLOG}/", f"{T}/empty"): (
        "content", "", "", "empty", False, "An empty link: and nothing in it."
    ),
    (f"{BLOG}/", f"{T}/history"): (
        "content", "the history of electric light", "", "other", False,
        "More about the history of electric light.",
    ),
    (f"{BLOG}/", f"{T}/reading-light"): (
        "sidebar", "Reading Light", "", "exact", False, "Our partner for Reading Light lamps."
    ),
    (f"{BLOG}/", f"{T}/shop"): (
        "comment", "click here", "", "generic", True,
        "Great post! I bought mine there, click here.",
    ),
    (f"{BLOG}/", f"{T}/impressum"): (
        "footer", "Lumen Leuchten", "", "brand", False, "© Lichtblog · Lampen von Lumen Leuchten"
    ),
    (f"{BLOG}/about.html", f"{T}/"): (
        "content", "a lamp maker", "", "other", False, "Anna reviews lamps for a lamp maker."
    ),
    (f"{FORUM}/", f"{T}/forum"): ("sidebar", "Lumen forum", "", "brand", False, "Lumen forum"),
    (f"{FORUM}/", f"{T}/lampes"): (
        "content", "https://lumen.test/lampes", "", "url", False,
        "Bonjour ! Voir https://lumen.test/lampes pour les lampes.",
    ),
    **{
        (url, f"{T}/"): ("footer", "Lumen lamps", "", "brand", False, "Lamps by Lumen lamps")
        for url in DEALS_PAGES
    },
}  # fmt: skip
# Each page's language: <html lang="de">; none at all; only Content-Language
# ("fr-CA, en": its first tag, lower-case); the default template's "en".
LANGS = {
    f"{BLOG}/": "de",
    f"{BLOG}/about.html": None,
    f"{FORUM}/": "fr-ca",
    **dict.fromkeys(DEALS_PAGES, "en"),
}
# lampdeals.test: 5 of its 5 pages link to lumen.test (sitewide: >= 80% and >= 5
# pages), so the toxic rule sitewide_links (weight 15) fires, and only that.
SITEWIDE = {"lampdeals.test": True, "lampforum.test": False, "lightblog.test": False}
TOXIC = {"lampdeals.test": 15, "lampforum.test": 0, "lightblog.test": 0}
# The quality's toxic factor leaves sitewide_links to the sitewide term.
QUALITY_TOXIC = dict.fromkeys(TOXIC, 0)
EDGE_COUNTS = {"lampdeals.test": 5, "lampforum.test": 2, "lightblog.test": 12}
# The score's points (README, "Link quality"), by hand.
PLACEMENT_POINTS = {"content": 20, "sidebar": 8, "nav": 6, "header": 6, "footer": 4, "comment": 2}
ANCHOR_POINTS = {
    "brand": 10, "exact": 10, "partial": 10, "other": 10, "url": 8, "image": 8, "generic": 4,
    "empty": 2,
}  # fmt: skip


def source_domain(url: str) -> str:
    return registered_domain(netloc(url))


@pytest.fixture(scope="module")
def web():
    return build_web(version=1)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def crawled(request, web, tmp_path_factory):
    """The quality sites crawled once into one store, lumen.test's keywords
    stored, the domain graph ranked."""
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    location = Location(request.param, tmp_path_factory.mktemp(request.param), mongo_uri)
    try:
        crawl(web, location, seeds=",".join(QUALITY_SEEDS), watch=QUALITY_TARGET)
        options = location.cli_options()
        linkwatch("keywords", QUALITY_TARGET, "add", *QUALITY_KEYWORDS, *options)
        linkwatch("rank", *options)
        yield location
    finally:
        location.drop()


@pytest.fixture(scope="module")
def stored(crawled) -> dict[tuple[str, str], dict]:
    """lumen.test's stored edges, by (source, target)."""
    return {edge_key(e): e for e in crawled.edges() if e["target_domain"] == QUALITY_TARGET}


@pytest.fixture(scope="module")
def by_quality(crawled) -> list[dict]:
    """`backlinks lumen.test --sort quality --format json`."""
    return backlinks(crawled, "--sort", "quality")


def backlinks(location, *options: str) -> list[dict]:
    argv = ("backlinks", QUALITY_TARGET, "--format", "json", *options, *location.cli_options())
    return json_lines(linkwatch(*argv))


# --- the crawl -----------------------------------------------------------------------------


def test_the_fixture_covers_every_placement_class_and_language():
    """The table above is what the task asks for (a check of the test itself)."""
    from crawler.intelligence.anchors import CLASSES
    from crawler.placement import PLACEMENTS

    assert {row[0] for row in EDGES.values()} == set(PLACEMENTS)
    assert {row[3] for row in EDGES.values()} == set(CLASSES)
    assert {"de", "fr-ca", None} <= set(LANGS.values())


def test_the_crawl_stores_exactly_the_quality_sites_truth(web, stored):
    truth = [e for e in web.truth_edges if e["source_domain"] in REFERRERS]
    assert {edge_key(e) for e in truth} == set(EDGES), "profiles.py and this table disagree"
    assert_edges_equal(list(stored.values()), truth)


def test_every_edge_has_its_placement_and_context(stored):
    wrong = {}
    for key, (placement, anchor, alt, _, nofollow, context) in EDGES.items():
        edge = stored[key]
        got = (edge["placement"], edge["anchor"], edge["alt"], edge["nofollow"])
        if got != (placement, anchor, alt, nofollow):
            wrong[key] = ("fields", got)
        if context is LONG:  # a window of at most 150 characters, around the anchor
            ok = anchor in edge["context"] and len(edge["context"]) <= 150
            ok = ok and edge["context"] in LONG and len(edge["context"]) > 100
        else:
            ok = edge["context"] == context and (anchor in context)
        if not ok:
            wrong[key] = ("context", edge["context"])
    assert not wrong, wrong


# --- anchors -------------------------------------------------------------------------------


def test_anchors_gives_each_anchor_its_class(crawled):
    rows = json_lines(
        linkwatch("anchors", QUALITY_TARGET, "--format", "json", *crawled.cli_options())
    )
    got = {(r["anchor"], r["alt"]): r["class"] for r in rows}
    expected = {(anchor, alt): kind for _, anchor, alt, kind, _, _ in EDGES.values()}
    assert got == expected
    lumen_lamps = next(r for r in rows if r["anchor"] == "Lumen lamps")
    assert (lumen_lamps["edges"], lumen_lamps["refdomains"]) == (QUALITY_SITEWIDE_PAGES, 1)
    # Without the stored keywords, exact and partial anchors are something else.
    bare = json_lines(
        linkwatch(
            "anchors", QUALITY_TARGET, "--keywords", "", "--format", "json",
            *crawled.cli_options(),
        )
    )  # fmt: skip
    assert not {r["class"] for r in bare} & {"exact", "partial"}


# --- pages: language and address -----------------------------------------------------------


def test_each_page_has_its_language_and_the_proxys_address(crawled, web):
    from pipelines.stores import open_store

    pages = [url for url in web.truth_pages if source_domain(url) in REFERRERS]
    assert sorted(pages) == sorted(LANGS)
    with open_store(location_settings(crawled), readonly=True) as store:
        facts = store.page_facts(pages)
        addresses = store.domain_addresses(list(REFERRERS))
    assert {url: facts[url]["lang"] for url in pages} == LANGS
    # Through the fixture web's proxy every page comes from the proxy's address.
    assert {url: facts[url]["ip"] for url in pages} == dict.fromkeys(pages, "127.0.0.1")
    assert addresses == dict.fromkeys(REFERRERS, "127.0.0.1")


# --- refdomains ----------------------------------------------------------------------------


def test_refdomains_shows_address_subnet_sitewide_and_toxic(crawled):
    options = crawled.cli_options()
    rows = json_lines(linkwatch("refdomains", QUALITY_TARGET, "--format", "json", *options))
    got = {r["source_domain"]: (r["ip"], r["subnet"], r["sitewide"], r["toxic"], r["edges"])
           for r in rows}  # fmt: skip
    assert got == {
        d: ("127.0.0.1", "127.0.0.0/24", SITEWIDE[d], TOXIC[d], EDGE_COUNTS[d]) for d in REFERRERS
    }
    groups = json_lines(
        linkwatch("refdomains", QUALITY_TARGET, "--by", "subnet", "--format", "json", *options)
    )
    assert groups == [
        {
            "subnet": "127.0.0.0/24",
            "refdomains": len(REFERRERS),
            "ips": 1,
            "edges": len(EDGES),
            "domains": " ".join(REFERRERS),
        }
    ]


# --- backlinks: quality, sort and filters ---------------------------------------------------


def test_backlinks_by_quality_is_highest_first_with_placement_and_context(by_quality):
    assert {edge_key(r) for r in by_quality} == set(EDGES) and len(by_quality) == len(EDGES)
    qualities = [r["quality"] for r in by_quality]
    assert qualities == sorted(qualities, reverse=True)
    assert all(isinstance(q, int) and 0 <= q <= 100 for q in qualities)
    assert len(set(qualities)) >= 5, "the fixture should spread the scores"
    for row in by_quality:
        placement, _, _, _, _, context = EDGES[edge_key(row)]
        assert row["placement"] == placement, row
        if context is not LONG:
            assert row["context"] == context, row


def test_backlinks_filters_by_placement_follow_and_quality(crawled, by_quality):
    quality = {edge_key(r): r["quality"] for r in by_quality}
    footer = backlinks(crawled, "--placement", "footer")
    assert {edge_key(r) for r in footer} == {k for k, v in EDGES.items() if v[0] == "footer"}
    comment = backlinks(crawled, "--placement", "comment")
    assert [edge_key(r) for r in comment] == [(f"{BLOG}/", f"{T}/shop")]
    followed = backlinks(crawled, "--follow")
    assert {edge_key(r) for r in followed} == {k for k, v in EDGES.items() if not v[4]}
    assert not any(r["nofollow"] for r in followed)
    levels = sorted(set(quality.values()))
    minimum = levels[len(levels) // 2]  # some edges above, some below
    good = backlinks(crawled, "--min-quality", str(minimum))
    assert {edge_key(r) for r in good} == {k for k, q in quality.items() if q >= minimum}
    assert 0 < len(good) < len(EDGES)
    assert all(r["quality"] >= minimum for r in good)
    both = backlinks(crawled, "--placement", "content", "--follow", "--min-quality", "1")
    assert {edge_key(r) for r in both} == {
        k for k, v in EDGES.items() if v[0] == "content" and not v[4] and quality[k] >= 1
    }


# --- explain -------------------------------------------------------------------------------


def explain(location, source: str, target: str) -> dict:
    """`linkwatch explain SOURCE TARGET --format json`, in this process (19 edges:
    a process each would cost more than the rest of the module)."""
    from crawler.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["explain", source, target, "--format", "json", *location.cli_options()])
    assert code == 0
    return orjson.loads(out.getvalue())


def test_explain_terms_add_up_to_the_quality_backlinks_shows(crawled, by_quality):
    shown = {edge_key(r): r["quality"] for r in by_quality}
    for (source, target), (placement, anchor, alt, kind, nofollow, _) in EDGES.items():
        record = explain(crawled, source, target)
        domain = source_domain(source)
        assert (record["placement"], record["anchor"], record["alt"]) == (placement, anchor, alt)
        assert record["source_lang"] == LANGS[source]
        assert record["source_ip"] == "127.0.0.1"
        terms = {row["term"]: row for row in record["terms"]}
        authority = record["authority"] or 0.0
        expected = {
            "authority": round(40 * authority / 100, 1),
            "follow": 0 if nofollow else 20,
            "placement": PLACEMENT_POINTS[placement],
            "anchor": ANCHOR_POINTS[kind],
            "sitewide": 2 if SITEWIDE[domain] else 10,
        }
        assert {name: terms[name]["points"] for name in expected} == expected, (source, target)
        assert terms["anchor"]["reads"].startswith(f"{kind}: ")
        assert (
            terms["toxic"]["reads"]
            == f"toxic score {QUALITY_TOXIC[domain]} (without sitewide_links)"
        )
        factor = 1 - QUALITY_TOXIC[domain] / 100
        assert terms["toxic"]["points"] == f"x {factor:.2f}"
        raw = 40 * authority / 100 + sum(v for k, v in expected.items() if k != "authority")
        assert record["quality"] == round(raw * factor) == terms["quality"]["points"]
        assert record["quality"] == shown[(source, target)], (source, target)


def test_explain_shows_the_sitewide_term_at_two_points(crawled):
    for url in DEALS_PAGES:
        terms = {row["term"]: row for row in explain(crawled, url, f"{T}/")["terms"]}
        assert (terms["sitewide"]["points"], terms["sitewide"]["of"]) == (2, 10)
        assert terms["sitewide"]["reads"] == "links from most of its pages"
    terms = {row["term"]: row for row in explain(crawled, f"{BLOG}/", f"{T}/")["terms"]}
    assert (terms["sitewide"]["points"], terms["sitewide"]["reads"]) == (10, "not sitewide")


# --- report --------------------------------------------------------------------------------


class Sections(HTMLParser):
    """The report's h2 sections: each one's text and its table's body rows."""

    def __init__(self):
        super().__init__()
        self.sections: dict[str, dict] = {}
        self._current: str | None = None
        self._in: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] = []
        self._heading: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self._in = "h2"
            self._heading = []
        elif tag == "tbody":
            self._in = "tbody"
        elif tag == "tr" and self._in == "tbody":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "h2":
            self._current = "".join(self._heading).strip()
            self.sections[self._current] = {"text": [], "rows": []}
            self._in = None
        elif tag == "td" and self._row is not None:
            self._row.append("".join(self._cell))
        elif tag == "tr" and self._row is not None:
            self.sections[self._current]["rows"].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in = None

    def handle_data(self, data):
        if self._in == "h2":
            self._heading.append(data)
        elif self._row is not None:
            self._cell.append(data)
        elif self._current is not None:
            self.sections[self._current]["text"].append(data)


def test_the_report_has_strongest_weakest_and_network_sections(crawled, by_quality, tmp_path):
    out = tmp_path / "report"
    linkwatch("report", QUALITY_TARGET, "--out", str(out), *crawled.cli_options())
    page = Sections()
    page.feed((out / "index.html").read_text(encoding="utf-8"))
    assert {"Strongest links", "Weakest links", "Network diversity"} <= page.sections.keys()
    # 19 edges, fewer than twice the report's 15 a table: the best half above
    # (10, best first), the rest below (worst first); each edge in one table.
    expected = sorted(
        (
            str(r["quality"]),
            r["source_url"],
            r["target_url"],
            r["anchor"] or r["alt"],
            r["placement"],
            "no" if r["nofollow"] else "yes",
        )
        for r in by_quality
    )
    strongest = [tuple(row[:6]) for row in page.sections["Strongest links"]["rows"]]
    weakest = [tuple(row[:6]) for row in page.sections["Weakest links"]["rows"]]
    assert (len(strongest), len(weakest)) == (10, 9)
    assert sorted(strongest + weakest) == expected
    for rows, descending in ((strongest, True), (weakest, False)):
        qualities = [int(row[0]) for row in rows]
        assert qualities == sorted(qualities, reverse=descending)
    assert min(int(row[0]) for row in strongest) >= max(int(row[0]) for row in weakest)
    assert int(strongest[0][0]) == by_quality[0]["quality"]
    assert int(weakest[0][0]) == by_quality[-1]["quality"]
    network = " ".join("".join(page.sections["Network diversity"]["text"]).split())
    assert (
        f"{len(REFERRERS)} referring domains served from 1 IP addresses in 1 subnets "
        "(/24 or /48): 1.0 IPs per subnet"
    ) in network


# --- network diversity from real addresses (no proxy) --------------------------------------

# Referring domains on three loopback addresses, two subnets; each server
# listens on its own address, all on one port; a test resolver
# (crawler/testing/resolver.py) maps the names to them and the crawl goes direct.
NETWORK = {"net-a.test": "127.0.5.1", "net-b.test": "127.0.5.2", "net-c.test": "127.0.9.1"}
NETWORK_TARGET = "netsite.test"


def common_free_port(addresses) -> int:
    """A port free on every one of ``addresses`` (loopback: Linux routes all of 127/8)."""
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind((addresses[0], 0))
            port = probe.getsockname()[1]
        try:
            for address in addresses:
                with socket.socket() as other:
                    other.bind((address, port))
        except OSError:
            continue
        return port
    pytest.skip("no port free on every test address")


def test_refdomains_shows_each_domains_own_address_and_subnet(tmp_path):
    import os

    from crawler.testing.fixtureweb import FixtureServer
    from tests.support.crawling import assert_clean_log, run_crawl
    from tests.support.localweb import LocalWeb, page

    port = common_free_port(list(NETWORK.values()))
    web = LocalWeb(
        {f"http://{name}:{port}/": page(f"http://{NETWORK_TARGET}/{name}") for name in NETWORK}
    )
    proxies = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
    env = {k: v for k, v in os.environ.items() if k.lower() not in proxies}
    env = {k: v for k, v in env.items() if k not in ("REDIS_URL", "MONGO_URI", "LINKWATCH_STORE")}
    env["LINKWATCH_DB"] = str(tmp_path / "network.db")
    settings = {
        "TWISTED_DNS_RESOLVER": "crawler.testing.resolver.LoopbackResolver",
        "LINKWATCH_TEST_HOSTS": ",".join(f"{n}={a}" for n, a in NETWORK.items()),
    }
    seeds = ",".join(f"http://{name}:{port}/" for name in NETWORK)
    with contextlib.ExitStack() as stack:
        servers = {
            name: stack.enter_context(FixtureServer(web, host=address, port=port))
            for name, address in NETWORK.items()
        }
        result = run_crawl({"seeds": seeds, "watch": NETWORK_TARGET}, env, settings)
        served = {
            name: {entry["host"] for entry in server.access_log_entries()}
            for name, server in servers.items()
        }
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean_log(result.stderr)
    # Direct: each server saw only its own host's requests.
    assert served == {name: {f"{name}:{port}"} for name in NETWORK}
    options = ("--db", env["LINKWATCH_DB"], "--format", "json")
    rows = json_lines(linkwatch("refdomains", NETWORK_TARGET, *options))
    assert {r["source_domain"]: (r["ip"], r["subnet"]) for r in rows} == {
        "net-a.test": ("127.0.5.1", "127.0.5.0/24"),
        "net-b.test": ("127.0.5.2", "127.0.5.0/24"),
        "net-c.test": ("127.0.9.1", "127.0.9.0/24"),
    }
    groups = json_lines(linkwatch("refdomains", NETWORK_TARGET, "--by", "subnet", *options))
    assert groups == [
        {"subnet": "127.0.5.0/24", "refdomains": 2, "ips": 2, "edges": 2,
         "domains": "net-a.test net-b.test"},
        {"subnet": "127.0.9.0/24", "refdomains": 1, "ips": 1, "edges": 1, "domains": "net-c.test"},
    ]  # fmt: skip
