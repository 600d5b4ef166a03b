"""End to end on the embedded default: real `scrapy crawl backlinks` processes
crawl the fixture web through its proxy; the SQLite store must hold exactly the
ground truth, and robots-disallowed or off-limits pages must never be fetched."""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest

from crawler.testing.fixtureweb import FixtureServer, build_web
from tests.support.crawling import (
    ROOT,
    assert_clean_log,
    assert_edges_equal,
    crawl_env,
    edge_key,
    run_crawl,
    sqlite_edges,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web():
    return build_web(version=1)


@pytest.fixture(scope="module")
def crawled(web, tmp_path_factory):
    """One crawl of the fixture web, shared by the tests that inspect it."""
    tmp = tmp_path_factory.mktemp("crawl")
    db = tmp / "linkwatch.db"
    with FixtureServer(web, access_log=tmp / "access.log") as server:
        result = run_crawl(
            {"seeds": ",".join(web.seeds), "watch": ",".join(web.watch)},
            crawl_env(server.proxy_url, LINKWATCH_DB=str(db)),
        )
        fetched = server.access_log_entries()
    return result, db, fetched


def test_crawl_stores_exactly_the_ground_truth(web, crawled):
    result, db, _ = crawled
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean_log(result.stderr)
    assert_edges_equal(sqlite_edges(db), web.truth_edges)


def test_crawl_fetches_every_expected_page_and_nothing_off_limits(web, crawled):
    _, _, fetched = crawled
    urls = {f"http://{e['host']}{e['path']}" for e in fetched}
    never = set(web.never_fetch)
    assert not urls & never, f"fetched pages it must not: {sorted(urls & never)[:5]}"
    missing = set(web.truth_pages) - {_canonical_fetch(u) for u in urls}
    assert not missing, f"pages never fetched: {sorted(missing)[:5]}"


def _canonical_fetch(url: str) -> str:
    return url.replace(":80/", "/")


def test_a_second_crawl_updates_last_seen_without_new_records(web, crawled, tmp_path):
    _, db, _ = crawled
    before = {edge_key(e): e for e in sqlite_edges(db)}
    with FixtureServer(web) as server:
        result = run_crawl(
            {"seeds": ",".join(web.seeds), "watch": ",".join(web.watch)},
            crawl_env(server.proxy_url, LINKWATCH_DB=str(db)),
        )
    assert result.returncode == 0, result.stderr[-3000:]
    after = {edge_key(e): e for e in sqlite_edges(db)}
    assert after.keys() == before.keys()
    assert all(after[k]["first_seen"] == before[k]["first_seen"] for k in after)
    assert all(after[k]["last_seen"] >= before[k]["last_seen"] for k in after)


def test_cli_reports_what_the_crawl_stored(web, crawled):
    _, db, _ = crawled
    watched = web.watch[0]
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "crawler.cli",
            "backlinks",
            watched,
            "--format",
            "json",
            "--db",
            str(db),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    printed = [orjson.loads(line) for line in out.splitlines()]
    expected = [e for e in web.truth_edges if e["target_domain"] == watched]
    assert sorted(map(edge_key, printed)) == sorted(map(edge_key, expected))
    assert all(e["first_seen"].endswith("Z") for e in printed)

    table = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "refdomains", watched, "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    domains = {e["source_domain"] for e in expected}
    assert {line.split()[0] for line in table.splitlines()[2:]} == domains


JSON = ("--format", "json")


def test_summary_counts_the_truth(web, crawled):
    """`linkwatch summary` (what `make demo` ends with) agrees with the ground truth."""
    _, db, _ = crawled
    out = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "summary", "mysite.test", "--db", str(db), *JSON],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (row,) = [orjson.loads(line) for line in out.splitlines()]
    truth = [e for e in web.truth_edges if e["target_domain"] == "mysite.test"]
    assert row["backlinks"] == len(truth)
    assert row["followed"] == sum(not e["nofollow"] for e in truth)
    assert row["refdomains"] == len({e["source_domain"] for e in truth})
    assert row["lost"] == 0
    assert len(row["strongest"]) == min(5, row["refdomains"])
