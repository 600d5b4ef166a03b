"""`linkwatch broken`: the targets of live backlinks that answer 404, 410 or 5xx,
strongest referring domain first, on both stores.

First the pure part (crawler/intelligence/broken.py) and the stores' cache of
checks; then, end to end: a store holding backlinks into mysite.test, a local
web (the fixture web's proxy server) where mysite.test's pages answer what
their names say, and `linkwatch broken` as a process, run three times (fresh,
cached, --max-age 0), with `linkwatch report` before and after.
"""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser

import orjson
import pytest

from crawler.intelligence.broken import TargetLinks, broken_targets, due, is_broken
from crawler.items import new_edge, new_page
from crawler.testing.fixtureweb import FixtureServer
from tests.support.crawling import ROOT, TEST_SETTINGS, crawl_env
from tests.support.localweb import LocalWeb, html
from tests.test_recrawl_e2e import Location

# --- the pure part -------------------------------------------------------------------------


def edge(source_url: str, target_url: str) -> dict:
    return {"source_url": source_url, "target_url": target_url, "source_domain": domain(source_url)}


def domain(url: str) -> str:
    return url.split("/")[2]


def check(url: str, status: int | None, final_url: str | None = None, at="2026-12-01T00:00:00Z"):
    error = None if status is not None else "unreachable"
    return {
        "url": url,
        "status": status,
        "final_url": final_url or url,
        "checked_at": at,
        "error": error,
    }


@pytest.mark.parametrize(
    ("status", "broken"),
    [
        (200, False),
        (301, False),
        (404, True),
        (410, True),
        (429, False),
        (500, True),
        (503, True),
        (None, False),
    ],
)
def test_broken_means_4xx_or_5xx_but_429(status, broken):
    assert is_broken(check("http://m.test/", status)) is broken


def test_due_means_never_checked_or_too_long_ago():
    checks = {
        "http://m.test/a": check("http://m.test/a", 200, at="2026-12-01T00:00:01Z"),
        "http://m.test/b": check("http://m.test/b", 404, at="2026-12-01T00:00:00Z"),  # a day: due
    }
    urls = ["http://m.test/a", "http://m.test/b", "http://m.test/c"]
    assert due(urls, checks, "2026-12-02T00:00:00Z", 86400) == urls[1:]
    assert due(urls, checks, "2026-12-02T00:00:00Z", 0) == urls
    assert due(urls, checks, "2026-12-02T00:00:00Z", 7 * 86400) == ["http://m.test/c"]


def test_broken_targets_are_strongest_first_with_their_counts():
    links = TargetLinks()
    for source, target in [
        ("http://a.test/1", "http://m.test/x"),
        ("http://a.test/2", "http://m.test/x"),
        ("http://b.test/1", "http://m.test/x"),
        ("http://b.test/1", "http://m.test/y"),
        ("http://z.test/1", "http://m.test/z"),
        ("http://a.test/1", "http://m.test/ok"),
    ]:
        links.add(edge(source, target))
    checks = {
        "http://m.test/x": check("http://m.test/x", 404),
        "http://m.test/y": check("http://m.test/y", 410, "http://m.test/y2"),
        "http://m.test/z": check("http://m.test/z", 500),
        "http://m.test/ok": check("http://m.test/ok", 200),
    }
    authority = {"a.test": {"pagerank": 40.0}, "b.test": {"pagerank": 60.0}}
    rows = broken_targets(links, checks, authority)
    assert [(r["target_url"], r["strongest_domain"], r["authority"]) for r in rows] == [
        ("http://m.test/x", "b.test", 60.0),  # b.test beats a.test's two pages
        ("http://m.test/y", "b.test", 60.0),  # same authority, fewer referring domains
        ("http://m.test/z", "z.test", None),  # unranked last
    ]
    assert (rows[0]["linking_pages"], rows[0]["refdomains"], rows[0]["final_url"]) == (3, 2, None)
    assert rows[1]["final_url"] == "http://m.test/y2"


# --- the stores' cache ------------------------------------------------------------------------


def test_the_checks_cache_keeps_the_latest_check_per_url(store):
    first = {
        "url": "http://mysite.test/a",
        "domain": "mysite.test",
        "status": 404,
        "final_url": "http://mysite.test/a",
        "redirects": 0,
        "method": "GET",
        "error": None,
        "checked_at": "2026-12-01T00:00:00Z",
    }
    unanswered = {
        **first,
        "url": "http://mysite.test/b",
        "final_url": "http://mysite.test/b",
        "status": None,
        "method": "HEAD",
        "error": "robots_blocked",
    }
    assert store.target_checks(["http://mysite.test/a"]) == {}
    assert store.write_target_checks([first, unanswered]) == 2
    again = {**first, "status": 200, "method": "HEAD", "checked_at": "2026-12-02T00:00:00Z"}
    store.write_target_checks([again])
    urls = ["http://mysite.test/a", "http://mysite.test/b", "http://mysite.test/never"]
    assert store.target_checks(urls) == {
        "http://mysite.test/a": again,
        "http://mysite.test/b": unanswered,
    }
    many = [
        {**first, "url": f"http://mysite.test/{i}", "final_url": f"http://mysite.test/{i}"}
        for i in range(1200)
    ]
    store.write_target_checks(many)
    assert len(store.target_checks(m["url"] for m in many)) == 1200


# --- linkwatch broken on a local web --------------------------------------------------------

M = "http://mysite.test"


def page(status: int, location: str | None = None):
    headers = (("Location", location),) if location else ()
    return html(f"<!DOCTYPE html><title>{status}</title>", status=status, headers=headers)


WEB = LocalWeb(
    {
        f"{M}/robots.txt": html("User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
        f"{M}/ok": page(200),
        f"{M}/missing": page(404),
        f"{M}/gone": page(410),
        f"{M}/error": page(500),
        f"{M}/unavailable": page(503),
        f"{M}/busy": page(429),
        f"{M}/moved": page(301, "/missing"),
        f"{M}/moved-ok": page(301, f"{M}/ok"),
        f"{M}/no-head": page(200),
        f"{M}/no-head-gone": page(404),
        f"{M}/private/page": page(404),
        f"{M}/lost-missing": page(404),
        "http://blog.mysite.test/gone": page(410),
        "http://competitor.test/missing": page(404),
    }
)
# Live backlinks: linking page -> target URLs. d.test's link is lost, e.test's
# is into another domain: neither target may be asked.
LINKS = {
    "http://a.test/1": [f"{M}/missing", f"{M}/gone", f"{M}/ok", f"{M}/moved"],
    "http://a.test/2": [f"{M}/missing"],
    "http://b.test/1": [f"{M}/missing", f"{M}/error", f"{M}/no-head-gone"],
    "http://c.test/1": [
        f"{M}/gone",
        f"{M}/unavailable",
        "http://blog.mysite.test/gone",
        f"{M}/no-head",
        f"{M}/moved-ok",
        f"{M}/private/page",
        f"{M}/busy",
    ],
    "http://e.test/1": ["http://competitor.test/missing"],
}
AUTHORITY = {"c.test": 80.0, "a.test": 50.0, "b.test": 20.0}
# (target, status, linking pages, referring domains, strongest referring domain), in order
BROKEN = [
    (f"{M}/gone", 410, 2, 2, "c.test"),
    ("http://blog.mysite.test/gone", 410, 1, 1, "c.test"),
    (f"{M}/unavailable", 503, 1, 1, "c.test"),
    (f"{M}/missing", 404, 3, 2, "a.test"),
    (f"{M}/moved", 404, 1, 1, "a.test"),
    (f"{M}/error", 500, 1, 1, "b.test"),
    (f"{M}/no-head-gone", 404, 1, 1, "b.test"),
]


class HeadRefusingServer(FixtureServer):
    """The local web, where the /no-head pages answer HEAD with 405."""

    def _answer(self, method, routed, request):
        if method == "HEAD" and routed is not None and routed[1].startswith("/no-head"):
            return 405, (("Allow", "GET"),), b""
        return super()._answer(method, routed, request)


def item(url: str, targets: list[str], at: str) -> dict:
    page_item = new_page(
        url=url,
        domain=domain(url),
        status=200,
        title="",
        outlinks=len(targets),
        edges=[],
        fetched_at=at,
        domain_links={},
        watch=None,
    )
    for target in targets:
        host = domain(target)
        page_item["edges"].append(
            new_edge(
                source_url=url,
                target_url=target,
                source_domain=page_item["domain"],
                target_domain=host.removeprefix("blog."),
                target_host=host,
                anchor="",
                alt="",
                rel=[],
                nofollow=False,
                link_type="a",
                placement="content",
                context="",
                source_title="",
                source_status=200,
            )
        )
    return page_item


def load_store(location: Location) -> None:
    from pipelines.stores import open_store

    with open_store(location.env()) as store:
        store.write_pages(
            [item(url, targets, "2026-11-01T00:00:00Z") for url, targets in LINKS.items()]
        )
        store.write_pages([item("http://d.test/1", [f"{M}/lost-missing"], "2026-11-01T00:00:00Z")])
        store.write_pages([item("http://d.test/1", [], "2026-11-02T00:00:00Z")])  # its link is lost
        rows = [
            {"domain": d, "pagerank": r, "harmonic": r, "pagerank_raw": r / 100, "harmonic_raw": r}
            for d, r in AUTHORITY.items()
        ]
        store.write_authority(rows, "2026-11-03T00:00:00Z")


def linkwatch(*argv: str, env: dict) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, (argv, result.stderr[-3000:])
    assert "Traceback" not in result.stderr
    return result


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def report_text(location: Location, out, env) -> str:
    linkwatch("report", "mysite.test", "--out", str(out), *location.cli_options(), env=env)
    parser = Text()
    parser.feed((out / "index.html").read_text(encoding="utf-8"))
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def checked(request, tmp_path_factory):
    """Three runs of `linkwatch broken` (fresh, cached, --max-age 0), each with
    the requests it made, and the report before and after."""
    tmp = tmp_path_factory.mktemp(f"broken-{request.param}")
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    location = Location(request.param, tmp, mongo_uri)
    settings = [opt for name, value in TEST_SETTINGS.items() for opt in ("-s", f"{name}={value}")]
    argv = ["broken", "mysite.test", "--format", "json", *settings, *location.cli_options()]
    runs = []
    try:
        load_store(location)
        with HeadRefusingServer(WEB) as server:
            env = crawl_env(server.proxy_url)
            before = report_text(location, tmp / "before", env)
            for extra in ([], [], ["--max-age", "0"]):
                seen = len(server.access_log_entries())
                result = linkwatch(*argv, *extra, env=env)
                runs.append((result, server.access_log_entries()[seen:]))
            after = report_text(location, tmp / "after", env)
        yield location, runs, before, after
    finally:
        location.drop()


def rows_of(result) -> list[dict]:
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def test_exactly_the_targets_answering_404_410_or_5xx_strongest_first(checked):
    _, runs, _, _ = checked
    rows = rows_of(runs[0][0])
    got = [
        (r["target_url"], r["status"], r["linking_pages"], r["refdomains"], r["strongest_domain"])
        for r in rows
    ]
    assert got == BROKEN
    assert rows[0]["authority"] == 80.0 and rows[0]["checked_at"].endswith("Z")
    moved = next(r for r in rows if r["target_url"] == f"{M}/moved")
    assert moved["final_url"] == f"{M}/missing"
    stderr = runs[0][0].stderr
    assert "checking 12 of 12 target URLs" in stderr
    assert "12 target URLs of mysite.test: 7 broken, 1 without an answer" in stderr


def test_head_first_and_get_only_to_confirm_an_error(checked):
    _, runs, _, _ = checked
    requests = [
        (e["method"], e["host"], e["path"]) for e in runs[0][1] if e["path"] != "/robots.txt"
    ]
    assert ("HEAD", "mysite.test", "/ok") in requests
    assert ("GET", "mysite.test", "/ok") not in requests
    for path in ("/missing", "/gone", "/no-head", "/no-head-gone", "/busy"):
        assert ("GET", "mysite.test", path) in requests, path
    # Not live, not this domain's, or forbidden by robots.txt: never asked.
    asked = {(host, path) for _, host, path in requests}
    assert not asked & {
        ("mysite.test", "/lost-missing"),
        ("competitor.test", "/missing"),
        ("mysite.test", "/private/page"),
    }


def test_checks_are_cached_until_max_age(checked):
    _, runs, _, _ = checked
    (first, _), (cached, cached_requests), (again, again_requests) = runs
    assert cached_requests == [], "a target checked within --max-age is not asked again"
    assert rows_of(cached) == rows_of(first)
    assert "checking" not in cached.stderr
    assert any(e["method"] == "HEAD" for e in again_requests), "--max-age 0 checks again"
    assert [r["target_url"] for r in rows_of(again)] == [b[0] for b in BROKEN]
    assert all(
        a["checked_at"] >= f["checked_at"]
        for a, f in zip(rows_of(again), rows_of(first), strict=True)
    )


def test_the_report_shows_the_cached_checks(checked):
    _, _, before, after = checked
    assert "Not checked yet: run linkwatch broken mysite.test" in before
    assert "Not checked yet" not in after
    section = after[after.index("Broken target pages") :]
    for target, status, *_ in BROKEN:
        assert target in section and str(status) in section
    assert f"{M}/ok " not in section


# --- mistakes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["broken"], "DOMAIN"),
        (["broken", "com"], "public suffix"),
        (["broken", "mysite.test", "--max-age", "soon"], "--max-age"),
        (["broken", "mysite.test", "-s", "NOEQUALS"], "NAME=VALUE"),
        (["broken", "mysite.test", "--store", "redis://x"], "redis"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(argv, fragment, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv, "--db", str(tmp_path / "lw.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr


def test_no_store_is_exit_1_before_anything_is_fetched(tmp_path):
    argv = ["broken", "mysite.test", "--db", str(tmp_path / "none.db")]
    env = crawl_env("http://127.0.0.1:9")
    result = subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "no linkwatch database" in result.stderr
    assert "checking" not in result.stderr and "Traceback" not in result.stderr
