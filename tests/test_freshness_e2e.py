"""Recrawls end to end, on both stores: real `scrapy crawl backlinks -a
recrawl=...` processes against the fixture web, counted by its server.

- `-a recrawl=all` over an unchanged web sends every page's validators back;
  the server answers 304, no edge is lost, and last_seen moves.
- After the web changes (version 2), pages whose links changed get a shorter
  interval and the others a longer one.
- `-a recrawl=due` fetches exactly the pages due, and nothing else.
- `linkwatch recrawl DOMAIN --due` lists those same pages.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime

import pymongo
import pytest

from crawler.schedule import links_digest
from crawler.testing.fixtureweb import FixtureServer, build_web
from crawler.testing.fixtureweb.generator import _edge
from tests.support.crawling import ROOT, assert_clean_log, crawl_env, run_crawl
from tests.test_recrawl_e2e import Location

pytestmark = pytest.mark.e2e

DAY = 24 * 3600
PAST = "2020-01-01T00:00:00Z"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def location(request, tmp_path_factory):
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    made = Location(request.param, tmp_path_factory.mktemp(request.param), mongo_uri)
    yield made
    made.drop()


@pytest.fixture(scope="module")
def v1():
    return build_web(version=1)


@pytest.fixture(scope="module")
def v2():
    return build_web(version=2)


def crawl(web, location, access_log=None, **spider_args):
    """A crawl of `web` into the location: seeds and watch, unless it is a recrawl."""
    if "recrawl" not in spider_args:
        spider_args = {"seeds": ",".join(web.seeds), "watch": ",".join(web.watch)} | spider_args
    with FixtureServer(web, access_log=access_log) as server:
        result = run_crawl(spider_args, crawl_env(server.proxy_url, **location.env()))
        log = server.access_log_entries() if access_log else []
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean_log(result.stderr)
    return result, [entry for entry in log if not entry["path"].endswith("/robots.txt")]


def pages(location) -> dict[str, dict]:
    """Every stored page's schedule and validators, by URL."""
    fields = ("recrawl_interval", "due_at", "etag", "fetched_at", "status")
    if location.kind == "sqlite":
        db = sqlite3.connect(location.db_path)
        db.row_factory = sqlite3.Row
        rows = db.execute(f"SELECT url, {', '.join(fields)} FROM pages").fetchall()
        db.close()
        return {row["url"]: dict(row) for row in rows}
    with pymongo.MongoClient(location.mongo_uri) as client:
        docs = client[location.database].pages.find({}, dict.fromkeys(fields, 1))
        return {doc.pop("_id"): doc for doc in docs}


def make_due(location, urls) -> None:
    """Move these pages' due time into the past (time passing, without the wait)."""
    if location.kind == "sqlite":
        with sqlite3.connect(location.db_path) as db:
            db.executemany("UPDATE pages SET due_at = ? WHERE url = ?", [(PAST, u) for u in urls])
        return
    with pymongo.MongoClient(location.mongo_uri) as client:
        client[location.database].pages.update_many(
            {"_id": {"$in": list(urls)}}, {"$set": {"due_at": datetime(2020, 1, 1, tzinfo=UTC)}}
        )


def linking_pages(web) -> set[str]:
    return {edge["source_url"] for edge in web.truth_edges}


@pytest.fixture(scope="module")
def first_crawl(v1, location):
    crawl(v1, location)
    return {key: dict(edge) for key, edge in edges_by_key(location).items()}, pages(location)


def edges_by_key(location):
    return {(e["source_url"], e["target_url"]): e for e in location.edges()}


def test_every_linking_page_gets_validators_and_a_schedule(v1, first_crawl):
    _, stored = first_crawl
    linking = linking_pages(v1)
    assert linking and linking <= stored.keys()
    assert {stored[url]["recrawl_interval"] for url in linking} == {7 * DAY}
    ok = [url for url in linking if stored[url]["status"] == 200]
    assert ok and all(stored[url]["etag"] for url in ok), "the fixture web sends ETags"
    plain = [url for url, page in stored.items() if url not in linking]
    assert plain and all(stored[url]["recrawl_interval"] is None for url in plain)


@pytest.fixture(scope="module")
def unchanged_recrawl(v1, location, first_crawl, tmp_path_factory):
    time.sleep(1.1)  # last_seen has a resolution of a second
    log = tmp_path_factory.mktemp("log") / "access.jsonl"
    result, fetched = crawl(v1, location, access_log=log, recrawl="all")
    return result, fetched, edges_by_key(location), pages(location)


def test_recrawl_all_of_an_unchanged_web_is_answered_304_and_loses_nothing(
    v1, first_crawl, unchanged_recrawl
):
    edges_before, pages_before = first_crawl
    result, fetched, edges_after, pages_after = unchanged_recrawl
    linking = linking_pages(v1)
    assert {entry["url"] for entry in fetched} == linking, "exactly the linking pages"
    validated = [e for e in fetched if pages_before[e["url"]]["etag"]]
    assert validated and all(e["status"] == 304 for e in validated)
    assert f"'linkwatch/not_modified': {len(validated)}" in result.stderr
    assert edges_after.keys() == edges_before.keys()
    for key, edge in edges_after.items():
        before = edges_before[key]
        assert edge["lost_at"] == before["lost_at"], key  # nothing lost
        if key[0] in {e["url"] for e in validated} and before["lost_at"] is None:
            assert edge["last_seen"] > before["last_seen"], key  # confirmed
            assert edge["anchor"] == before["anchor"]
    for url in {e["url"] for e in validated}:
        assert pages_after[url]["recrawl_interval"] == round(7 * DAY * 1.4)


def test_a_304_saves_the_bytes_of_the_page(unchanged_recrawl, first_crawl):
    _, fetched, _, _ = unchanged_recrawl
    assert sum(entry["bytes"] for entry in fetched if entry["status"] == 304) == 0


@pytest.fixture(scope="module")
def changed_recrawl(v1, v2, location, unchanged_recrawl):
    before = pages(location)
    crawl(v2, location, recrawl="all")
    return before, pages(location)


def page_digest(web, url):
    page = web.page(url)
    if page is None:
        return links_digest([])
    return links_digest([_edge(page, link) for link in page.links])


def test_changed_pages_get_shorter_intervals_and_unchanged_ones_longer(v1, v2, changed_recrawl):
    before, after = changed_recrawl
    shorter, longer = [], []
    for url in linking_pages(v1):
        v2_page = v2.page(url)
        if v2_page is not None and v2_page.disallowed:
            continue  # robots.txt now forbids it: not fetched, not rescheduled
        old, new = before[url]["recrawl_interval"], after[url]["recrawl_interval"]
        if page_digest(v1, url) != page_digest(v2, url):
            shorter.append(url)
            assert new == round(old * 0.8), url
        else:
            longer.append(url)
            assert new == round(old * 1.4), url
    assert shorter and longer, "the fixture web should change some linking pages, not all"


def linkwatch(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_recrawl_due_fetches_exactly_the_due_pages(v2, location, changed_recrawl, tmp_path):
    _, after = changed_recrawl
    scheduled = sorted(url for url, page in after.items() if page["recrawl_interval"])
    due = {url for url in scheduled[::3] if not getattr(v2.page(url), "disallowed", False)}
    make_due(location, due)
    listed = linkwatch("recrawl", "mysite.test", "--due", *location.cli_options())
    assert listed.returncode == 0, listed.stderr
    linking_mysite = {
        e["source_url"] for e in location.edges() if e["target_domain"] == "mysite.test"
    }
    assert set(listed.stdout.split()) == due & linking_mysite
    _, fetched = crawl(v2, location, access_log=tmp_path / "log.jsonl", recrawl="due")
    assert sorted(entry["url"] for entry in fetched) == sorted(due)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for url, page in pages(location).items():
        if url in due:
            due_at = page["due_at"]
            due_at = due_at if isinstance(due_at, str) else due_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            assert due_at > now, url  # rescheduled
    again = crawl(v2, location, access_log=tmp_path / "again.jsonl", recrawl="due")[1]
    assert again == [], "nothing is due any more"
