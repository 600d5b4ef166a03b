"""`linkwatch verify`: every status on a page built for it, on both stores.

The rows' decision is pure (crawler/verification.py) and tested here with
hand-built records first; then `linkwatch verify` runs as a process against a
small local web (served by the fixture web's proxy server, nothing leaves
127.0.0.1) with a page for each status, and must give each row its status,
fetch each page once, store the pages' edges as a crawl does, and exit 1.
Last, the misuses: bad rows are named by line, exit 2, nothing fetched.
"""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest

from crawler.extraction import Link
from crawler.testing.fixtureweb import FixtureServer
from crawler.verification import Fetched, Row, RowsError, read_rows, verify
from tests.support.crawling import ROOT, TEST_SETTINGS, crawl_env
from tests.support.localweb import LocalWeb, html
from tests.test_recrawl_e2e import Location

# --- reading rows ------------------------------------------------------------------------


def test_a_links_file_gives_rows_with_their_lines():
    rows = read_rows(
        "\ufeffSource_URL, Target ,anchor,follow\n"
        "https://Blog.Example.org/a#x,https://MySite.com/p?utm_source=x,My  Site,true\n"
        "\n"
        "news.example.net,mysite.com,,\n"
        'https://c.example/,blog.mysite.com,"quoted, anchor",no\n'
    )
    assert rows.problems == []
    assert rows.rows == [
        Row(2, "https://blog.example.org/a", "https://mysite.com/p", "My  Site", True),
        Row(4, "http://news.example.net/", "mysite.com", None, None),
        Row(5, "https://c.example/", "blog.mysite.com", "quoted, anchor", None),
    ]
    assert rows.source_pages == [r.source_url for r in rows.rows]
    assert rows.watch == ["mysite.com"]


def test_bad_rows_are_named_by_line():
    rows = read_rows(
        "source_url,target,follow\n"
        "ftp://a.example/,mysite.com,\n"
        "https://a.example/,com,\n"
        "https://a.example/,mysite.com,maybe\n"
        ",mysite.com,\n"
        "https://a.example/,javascript:alert(1)://x,\n"
        "https://a.example/,mysite.com,true,extra\n"
        "https://ok.example/,mysite.com,yes\n"
    )
    lines = [line for line, _ in rows.problems]
    assert lines == [2, 3, 4, 5, 6, 7]
    why = dict(rows.problems)
    assert "source_url" in why[2] and "ftp://a.example/" in why[2]
    assert "target" in why[3] and "public suffix" in why[3]
    assert "follow" in why[4] and "maybe" in why[4]
    assert why[5] == "source_url: empty"
    assert "target" in why[6]
    assert "4 cells" in why[7]
    assert [row.line for row in rows.rows] == [8]


@pytest.mark.parametrize(
    ("text", "domain", "message"),
    [
        ("address,where\nhttps://a.example/,x\n", None, "source_url,target"),
        ("source_url,target,achor\n", None, "unknown column 'achor'"),
        ("source_url,target,target\n", None, "twice"),
        ("source_url,target\n", "mysite.com", "--domain"),
        ("Linking page,Last crawled\nhttps://a.example/,2026-01-01\n", None, "--domain"),
        ("Site,Linking pages,Target pages\na.example,3,1\n", "mysite.com", "Top linking sites"),
        ("Target page,Incoming links,Linking sites\n", "mysite.com", "your own pages"),
    ],
)
def test_a_file_that_is_neither_is_refused_in_one_line(text, domain, message):
    with pytest.raises(RowsError, match=message) as raised:
        read_rows(text, domain)
    assert "\n" not in str(raised.value)


def test_a_search_console_export_expects_each_page_to_link_to_the_domain():
    rows = read_rows(
        "Linking page,Last crawled\n"
        "https://blog.example.org/a,2026-11-01\n"
        "not a page,2026-11-01\n"
        "https://blog.example.org/a,2026-11-02\n",
        "mysite.com",
    )
    assert rows.kind == "Search Console export"
    assert rows.rows == [Row(None, "https://blog.example.org/a", "mysite.com")]
    assert [line for line, _ in rows.problems] == [3]


# --- the decision, record by record ---------------------------------------------------------

PAGE = "http://blog.example.org/post"
TARGET = "http://mysite.test/product"


def link(url=TARGET, anchor="Great Product", rel=(), nofollow=False, link_type="a", alt=""):
    return Link(url, link_type, tuple(rel), anchor, alt, nofollow)


def status_of(row, *records):
    [result] = verify([row], {record.url: record for record in records})
    return result


def page(url=PAGE, *links, **fields):
    return Fetched(url, 200, links=links, **fields)


@pytest.mark.parametrize(
    ("row", "records", "status"),
    [
        (Row(1, PAGE, TARGET), [page(PAGE, link())], "ok"),
        # https and http name one page; the page's own URL as canonical is fine
        (Row(1, PAGE, "https://mysite.test/product"), [page(PAGE, link(), canonical=PAGE)], "ok"),
        (Row(1, PAGE, "mysite.test"), [page(PAGE, link("http://www.mysite.test/"))], "ok"),
        (Row(1, PAGE, "blog.mysite.test"), [page(PAGE, link())], "link_not_found"),
        (
            Row(1, PAGE, "mysite.test"),
            [page(PAGE, link("http://notmysite.test/"))],
            "link_not_found",
        ),
        (Row(1, PAGE, TARGET), [page(PAGE, link(link_type="canonical"))], "link_not_found"),
        (Row(1, PAGE, TARGET), [Fetched(PAGE, 200, html=False)], "link_not_found"),
        (Row(1, PAGE, TARGET), [], "unreachable"),
        (Row(1, PAGE, TARGET), [Fetched(PAGE, error="unreachable")], "unreachable"),
        (Row(1, PAGE, TARGET), [Fetched(PAGE, error="robots_blocked")], "robots_blocked"),
        (Row(1, PAGE, TARGET), [Fetched(PAGE, 410, links=(link(),))], "page_gone"),
        (Row(1, PAGE, TARGET), [Fetched(PAGE, 301, location="http://other.test/")], "redirected"),
        (Row(1, PAGE, TARGET), [Fetched(PAGE, 302)], "redirected"),
        (
            Row(1, PAGE, TARGET),
            [
                Fetched(PAGE, 301, location="https://example.org/p"),
                page("https://example.org/p", link()),
            ],
            "ok",
        ),
        (  # a loop on the site
            Row(1, PAGE, TARGET),
            [Fetched(PAGE, 301, location=PAGE + "2"), Fetched(PAGE + "2", 301, location=PAGE)],
            "redirected",
        ),
        (Row(1, PAGE, TARGET), [page(PAGE, link(), noindex=True)], "noindex"),
        (
            Row(1, PAGE, TARGET),
            [page(PAGE, link(), canonical=PAGE + "?p=1")],
            "canonical_elsewhere",
        ),
        (Row(1, PAGE, TARGET, follow=True), [page(PAGE, link(nofollow=True))], "nofollow"),
        (Row(1, PAGE, TARGET), [page(PAGE, link(nofollow=True))], "ok"),
        (Row(1, PAGE, TARGET, anchor="great  PRODUCT "), [page(PAGE, link())], "ok"),
        (Row(1, PAGE, TARGET, anchor="Logo"), [page(PAGE, link(anchor="", alt="logo"))], "ok"),
        (Row(1, PAGE, TARGET, anchor="Buy now"), [page(PAGE, link())], "wrong_anchor"),
        # the order: a missing link before noindex; noindex before the link's faults
        (Row(1, PAGE, TARGET), [page(PAGE, noindex=True)], "link_not_found"),
        (
            Row(1, PAGE, TARGET, anchor="x", follow=True),
            [page(PAGE, link(nofollow=True), noindex=True, canonical=PAGE + "x")],
            "noindex",
        ),
        (
            Row(1, PAGE, TARGET, anchor="x", follow=True),
            [page(PAGE, link(nofollow=True))],
            "nofollow",
        ),
    ],
)
def test_each_status(row, records, status):
    assert status_of(row, *records).status == status


def test_of_several_links_the_one_that_meets_the_expectations_speaks():
    row = Row(3, PAGE, "mysite.test", anchor="My Site", follow=True)
    links = (
        link("http://mysite.test/a", "My Site", rel=("nofollow",), nofollow=True),
        link("http://mysite.test/b", "elsewhere"),
        link("http://mysite.test/c", "my site", rel=("noopener",)),
    )
    result = status_of(row, page(PAGE, *links))
    assert (result.status, result.found_url, result.rel) == (
        "ok",
        "http://mysite.test/c",
        ("noopener",),
    )
    partial = status_of(row, page(PAGE, *links[:2]))
    assert (partial.status, partial.found_url) == ("nofollow", "http://mysite.test/a")
    assert partial.as_row()["rel"] == ["nofollow"] and partial.detail == "rel=nofollow"


def test_a_result_carries_what_was_found():
    row = Row(7, PAGE, TARGET, anchor="Buy now", follow=True)
    result = status_of(row, page(PAGE, link(rel=("ugc",))))
    assert result.as_row() == {
        "line": 7,
        "status": "wrong_anchor",
        "source_url": PAGE,
        "target": TARGET,
        "http_status": 200,
        "page_url": PAGE,
        "found_url": TARGET,
        "anchor": "Great Product",
        "rel": ["ugc"],
        "nofollow": False,
        "link_type": "a",
        "detail": "expected 'Buy now'",
        "expected_anchor": "Buy now",
        "expected_follow": True,
    }
    gone = status_of(row, Fetched(PAGE, 404))
    assert (gone.http_status, gone.detail) == (404, "HTTP 404")


def test_a_record_survives_its_json_line():
    record = page(PAGE, link(rel=("nofollow", "ugc"), nofollow=True), noindex=True, canonical=PAGE)
    assert Fetched.from_dict(orjson.loads(orjson.dumps(record))) == record


# --- linkwatch verify on a local web ----------------------------------------------------------

MYSITE = "http://mysite.test"
PRODUCT = f"{MYSITE}/product"


def a(href: str, text: str, rel: str = "") -> str:
    return f'<a href="{href}"{f" rel={rel!r}" if rel else ""}>{text}</a>'


def doc(*body: str, head: str = "") -> str:
    return f"<!DOCTYPE html><title>t</title>{head}<body>{''.join(body)}</body>"


WEB = {
    "http://ok.test/review": html(
        doc(
            a(PRODUCT, "Great  Product"),
            f'<a href="{MYSITE}/"><img src="/logo.png" alt="My Site logo"></a>',
            head='<link rel="canonical" href="http://ok.test/review">',
        )
    ),
    "http://missing.test/post": html(doc(a("http://other.test/", "someone else"))),
    "http://gone.test/old": html(doc(a(PRODUCT, "Great Product")), status=410),
    "http://gone.test/broken": html(doc("oops"), status=500),
    "http://private.test/robots.txt": html(
        "User-agent: *\nDisallow: /secret\n", content_type="text/plain"
    ),
    "http://private.test/secret": html(doc(a(PRODUCT, "Great Product"))),
    "http://moved.test/page": html(
        "", status=301, headers=(("Location", "http://elsewhere.test/page"),)
    ),
    "http://www.hop.test/start": html("", status=301, headers=(("Location", "/middle"),)),
    "http://www.hop.test/middle": html(
        "", status=302, headers=(("Location", "http://hop.test/landing"),)
    ),
    "http://hop.test/landing": html(doc(a(PRODUCT, "Great Product"))),
    "http://noindex.test/meta": html(
        doc(a(PRODUCT, "Great Product"), head='<meta name="robots" content="noindex, follow">')
    ),
    "http://noindex.test/header": html(
        doc(a(PRODUCT, "Great Product")), headers=(("X-Robots-Tag", "noindex"),)
    ),
    "http://noindex.test/other-bot": html(
        doc(a(PRODUCT, "Great Product")), headers=(("X-Robots-Tag", "otherbot: noindex"),)
    ),
    "http://canon.test/copy": html(
        doc(
            a(PRODUCT, "Great Product"),
            head='<link rel="canonical" href="http://canon.test/original">',
        )
    ),
    "http://nofollow.test/ad": html(doc(a(PRODUCT, "Great Product", rel="nofollow sponsored"))),
    "http://anchor.test/list": html(doc(a(PRODUCT, "click here"))),
}
DOWN = "down.test"  # its connections close without an answer

# (source_url, target, anchor, follow) -> the status, and the found URL where one is expected
ROWS = [
    (("http://ok.test/review", PRODUCT, "great product", "true"), "ok", PRODUCT),
    (("http://ok.test/review", "mysite.test", "", ""), "ok", PRODUCT),
    (("http://ok.test/review", f"{MYSITE}/", "My Site logo", ""), "ok", f"{MYSITE}/"),
    (("http://missing.test/post", "mysite.test", "", ""), "link_not_found", None),
    (("http://gone.test/old", PRODUCT, "", ""), "page_gone", None),
    (("http://gone.test/broken", PRODUCT, "", ""), "page_gone", None),
    ((f"http://{DOWN}/page", PRODUCT, "", ""), "unreachable", None),
    (("http://private.test/secret", PRODUCT, "", ""), "robots_blocked", None),
    (("http://moved.test/page", PRODUCT, "", ""), "redirected", "http://elsewhere.test/page"),
    (("http://www.hop.test/start", PRODUCT, "Great Product", "true"), "ok", PRODUCT),
    (("http://noindex.test/meta", PRODUCT, "", ""), "noindex", PRODUCT),
    (("http://noindex.test/header", PRODUCT, "", ""), "noindex", PRODUCT),
    (("http://noindex.test/other-bot", PRODUCT, "", ""), "ok", PRODUCT),
    (("http://canon.test/copy", PRODUCT, "", ""), "canonical_elsewhere", PRODUCT),
    (("http://nofollow.test/ad", PRODUCT, "", "true"), "nofollow", PRODUCT),
    (("http://anchor.test/list", PRODUCT, "Great Product", ""), "wrong_anchor", PRODUCT),
]


class LocalWebWithADeadHost(FixtureServer):
    """The local web, where every connection to DOWN ends without an answer."""

    def _answer(self, method, routed, request):
        if routed is not None and routed[0] == DOWN:
            raise ConnectionResetError
        return super()._answer(method, routed, request)


def linkwatch(argv, env, timeout=120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def settings_options() -> list[str]:
    return [option for name, value in TEST_SETTINGS.items() for option in ("-s", f"{name}={value}")]


def write_csv(path, rows) -> None:
    lines = ["source_url,target,anchor,follow"] + [",".join(cells) for cells in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def server():
    with LocalWebWithADeadHost(LocalWeb(WEB)) as running:
        yield running


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def verified(request, server, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"verify-{request.param}")
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    location = Location(request.param, tmp, mongo_uri)
    write_csv(tmp / "links.csv", [cells for cells, _, _ in ROWS])
    before = len(server.access_log_entries())
    env = crawl_env(server.proxy_url)
    argv = ["verify", str(tmp / "links.csv"), "--format", "json", *settings_options()]
    try:
        result = linkwatch([*argv, *location.cli_options()], env)
        fetched = server.access_log_entries()[before:]
        yield location, result, fetched
    finally:
        location.drop()


def test_every_row_gets_its_status_and_what_was_found(verified):
    _, result, _ = verified
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    results = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [r["line"] for r in results] == list(range(2, len(ROWS) + 2))
    got = [(r["source_url"], r["status"]) for r in results]
    assert got == [(cells[0], status) for cells, status, _ in ROWS]
    for r, (_, _, found) in zip(results, ROWS, strict=True):
        assert r["found_url"] == found, r
    by_source = {r["source_url"]: r for r in results}
    assert by_source["http://gone.test/old"]["http_status"] == 410
    assert by_source["http://gone.test/broken"]["http_status"] == 500
    assert by_source["http://nofollow.test/ad"]["rel"] == ["nofollow", "sponsored"]
    assert by_source["http://anchor.test/list"]["anchor"] == "click here"
    assert by_source["http://canon.test/copy"]["detail"] == "canonical: http://canon.test/original"
    assert by_source["http://www.hop.test/start"]["page_url"] == "http://hop.test/landing"
    assert "robots.txt" in by_source["http://private.test/secret"]["detail"]
    assert "linkwatch verify: 16 rows: " in result.stderr


def test_each_page_is_fetched_once_and_robots_txt_is_obeyed(verified):
    _, _, fetched = verified
    pages = [(e["host"], e["path"]) for e in fetched if e["path"] != "/robots.txt"]
    assert pages.count(("ok.test", "/review")) == 1  # three rows, one fetch
    assert ("private.test", "/secret") not in pages
    assert ("elsewhere.test", "/page") not in pages  # an off-site redirect is not followed
    assert ("hop.test", "/landing") in pages
    assert all(e["method"] == "GET" for e in fetched)


def test_the_pages_edges_are_stored_as_a_crawls(verified):
    from pipelines.stores import Target, open_store

    location, _, _ = verified
    settings = location.env()
    with open_store(settings, readonly=True, create=False) as store:
        edges = list(store.backlinks(Target.parse("mysite.test")))
    stored = {(e["source_url"], e["target_url"]) for e in edges}
    assert stored >= {
        ("http://ok.test/review", PRODUCT),
        ("http://ok.test/review", f"{MYSITE}/"),
        ("http://hop.test/landing", PRODUCT),
        ("http://nofollow.test/ad", PRODUCT),
        ("http://gone.test/old", PRODUCT),
    }
    assert not {source for source, _ in stored} & {
        "http://private.test/secret",
        "http://missing.test/post",
    }
    nofollow = next(e for e in edges if e["source_url"] == "http://nofollow.test/ad")
    assert nofollow["nofollow"] and nofollow["rel"] == ["nofollow", "sponsored"]


def test_every_row_ok_is_exit_0_and_a_table(server, tmp_path):
    write_csv(tmp_path / "ok.csv", [cells for cells, status, _ in ROWS if status == "ok"])
    env = crawl_env(server.proxy_url)
    argv = [
        "verify",
        str(tmp_path / "ok.csv"),
        "--db",
        str(tmp_path / "lw.db"),
        *settings_options(),
    ]
    result = linkwatch(argv, env)
    assert result.returncode == 0, result.stderr[-3000:]
    header = result.stdout.splitlines()[0].split()
    assert header[:4] == ["line", "status", "source_url", "target"]
    assert result.stdout.count(" ok ") == 5


def test_a_search_console_export_with_domain(server, tmp_path):
    (tmp_path / "gsc.csv").write_text(
        "Linking page,Last crawled\nhttp://ok.test/review,2026-11-01\nhttp://missing.test/post,2026-11-01\n"
    )
    env = crawl_env(server.proxy_url)
    argv = ["verify", str(tmp_path / "gsc.csv"), "--domain", "MySite.test", "--format", "csv"]
    result = linkwatch([*argv, "--db", str(tmp_path / "lw.db"), *settings_options()], env)
    assert result.returncode == 1, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert lines[0] == "line,status,source_url,target,found_url,anchor,rel,http_status,detail"
    assert lines[1].startswith(",ok,http://ok.test/review,mysite.test,http://mysite.test/product,")
    assert lines[2].startswith(",link_not_found,http://missing.test/post,mysite.test,,")


# --- mistakes ----------------------------------------------------------------------------------


def one_line_error(result, *fragments):
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_bad_rows_are_all_named_and_nothing_is_fetched(tmp_path):
    (tmp_path / "bad.csv").write_text(
        "source_url,target\nhttps://a.example/,com\nhttps://ok.example/,mysite.com\nmailto:x@y,mysite.com\n"
    )
    env = crawl_env("http://127.0.0.1:9")
    result = linkwatch(["verify", str(tmp_path / "bad.csv"), "--db", str(tmp_path / "lw.db")], env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2, result.stderr
    assert "bad.csv line 2: target" in lines[0] and "bad.csv line 4: source_url" in lines[1]
    assert not (tmp_path / "lw.db").exists(), "nothing may be fetched or stored"


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["verify", "{tmp}/none.csv"], ("none.csv", "not found")),
        (["verify", "{tmp}/links.csv", "--domain", "com"], ("--domain", "public suffix")),
        (["verify", "{tmp}/links.csv", "-s", "NOEQUALS"], ("-s", "NAME=VALUE")),
        (["verify", "{tmp}/links.csv", "--store", "redis://x"], ("redis",)),
        (["verify", "{tmp}/links.csv", "--format", "xml"], ("--format",)),
        (["verify", "{tmp}/empty.csv"], ("no rows",)),
    ],
)
def test_mistakes_are_one_line_and_exit_2(argv, fragments, tmp_path):
    write_csv(tmp_path / "links.csv", [("https://a.example/", "mysite.com", "", "")])
    (tmp_path / "empty.csv").write_text("source_url,target\n")
    env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URI", "LINKWATCH_STORE")}
    argv = [arg.format(tmp=tmp_path) for arg in argv]
    one_line_error(linkwatch([*argv, "--db", str(tmp_path / "lw.db")], env), *fragments)
