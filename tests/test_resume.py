"""Resumable embedded crawls: the journal (crawler/frontier/journal.py) on its
own, the scheduler and its middlewares in-process (crawler/frontier/resumable.py),
and real `scrapy crawl` processes stopped mid-way (SIGKILL, SIGTERM, Ctrl-C)
then run again with the same command, on both stores: the second run stores
exactly the ground truth and fetches no page the first one stored."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import datetime
from types import SimpleNamespace

import pymongo
import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

import settings.embedded
from crawler.frontier import journal as journal_module
from crawler.frontier import resumable
from crawler.frontier.journal import Journal, JournalError, crawl_key
from crawler.frontier.resumable import (
    JournalSpiderMiddleware,
    ResumableScheduler,
    frontier_file,
)
from crawler.items import utc_now
from crawler.spiders.backlinks import BacklinksSpider
from crawler.testing.fixtureweb import FixtureServer, build_web
from crawler.urls import normalize_url
from pipelines.stores import open_store
from tests.support.crawling import (
    ROOT,
    assert_clean_log,
    assert_edges_equal,
    crawl_command,
    crawl_env,
    run_crawl,
    sqlite_edges,
)

T0 = "2026-01-01T00:00:00Z"
T1 = "2026-01-02T00:00:00Z"


# --- the journal --------------------------------------------------------------------------


def test_a_reopened_journal_resumes_its_queue_and_seen_set(tmp_path):
    path = str(tmp_path / "f.db")
    journal = Journal(path, "k", started_at=T0)
    assert not journal.crawl.resumed
    for url in ("http://a.test/", "http://a.test/1", "http://a.test/2"):
        journal.enqueue(url, b'{"url": "%s"}' % url.encode())
    journal.done("http://a.test/")
    journal.enqueue("http://a.test/1", b"ignored: known")
    journal.flush()
    journal.close()

    again = Journal(path, "k", started_at=T1)
    assert again.crawl.resumed and again.crawl.started_at == T0
    assert dict(again.urls()) == {
        "http://a.test/": True,
        "http://a.test/1": False,
        "http://a.test/2": False,
    }
    assert again.queued() == [
        ("http://a.test/1", b'{"url": "http://a.test/1"}'),
        ("http://a.test/2", b'{"url": "http://a.test/2"}'),
    ]
    assert again.counts() == (2, 1)
    again.close()


def test_restart_discards_an_unfinished_crawl(tmp_path):
    path = str(tmp_path / "f.db")
    with contextlib.closing(Journal(path, "k", started_at=T0)) as journal:
        journal.enqueue("http://a.test/", b"{}")
    with contextlib.closing(Journal(path, "k", started_at=T1, restart=True)) as journal:
        assert not journal.crawl.resumed and journal.crawl.discarded
        assert journal.crawl.started_at == T1
        assert list(journal.urls()) == []


def test_a_finished_crawl_is_deleted_and_the_next_one_is_new(tmp_path):
    path = str(tmp_path / "f.db")
    with contextlib.closing(Journal(path, "k", started_at=T0)) as journal:
        journal.enqueue("http://a.test/", b"{}")
        journal.flush()
        journal.enqueue("http://a.test/1", b"{}")
        journal.forget()
    with contextlib.closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT COUNT(*) FROM requests").fetchone() == (0,)
        assert db.execute("SELECT COUNT(*) FROM crawls").fetchone() == (0,)
    with contextlib.closing(Journal(path, "k", started_at=T1)) as journal:
        assert not journal.crawl.resumed and not journal.crawl.discarded
        assert journal.crawl.started_at == T1


def test_a_crash_keeps_what_was_flushed_and_nothing_else(tmp_path):
    path = str(tmp_path / "f.db")
    code = f"""
import os
from crawler.frontier.journal import Journal
journal = Journal({path!r}, "k", started_at={T0!r})
journal.enqueue("http://a.test/", b"{{}}")
journal.enqueue("http://a.test/1", b"{{}}")
journal.flush()
journal.done("http://a.test/")
journal.enqueue("http://a.test/2", b"{{}}")
os._exit(0)  # as a SIGKILL: no close, no flush
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    with contextlib.closing(Journal(path, "k", started_at=T1)) as journal:
        assert journal.crawl.resumed
        assert dict(journal.urls()) == {"http://a.test/": False, "http://a.test/1": False}


def test_crawls_of_other_keys_share_a_file_untouched(tmp_path):
    path = str(tmp_path / "f.db")
    one = Journal(path, "one", started_at=T0)
    two = Journal(path, "two", started_at=T1)
    one.enqueue("http://a.test/", b"{}")
    two.enqueue("http://b.test/", b"{}")
    one.flush()
    two.flush()
    one.forget()
    one.close()
    assert [url for url, _ in two.queued()] == ["http://b.test/"]
    two.close()


def test_a_flush_that_fails_keeps_its_entries_for_the_next(tmp_path, monkeypatch):
    monkeypatch.setattr(journal_module, "BUSY_TIMEOUT", 0.1)
    path = str(tmp_path / "f.db")
    journal = Journal(path, "k", started_at=T0)
    journal.enqueue("http://a.test/", b"{}")
    journal.done("http://a.test/")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the file
    with pytest.raises(JournalError) as failed:
        journal.flush()
    assert failed.value.transient
    other.execute("ROLLBACK")
    other.close()
    journal.flush()
    assert dict(journal.urls()) == {"http://a.test/": True}
    journal.close()


def test_the_crawl_key_is_the_parsed_arguments_and_the_store():
    a = crawl_key("backlinks", {"seeds": ["http://a.test/"], "depth": 3}, "/x/lw.db")
    assert a == crawl_key("backlinks", {"depth": 3, "seeds": ["http://a.test/"]}, "/x/lw.db")
    assert a != crawl_key("backlinks", {"seeds": ["http://a.test/"], "depth": 2}, "/x/lw.db")
    assert a != crawl_key("backlinks", {"seeds": ["http://a.test/"], "depth": 3}, "/y/lw.db")


def test_the_journal_file_sits_beside_a_sqlite_store():
    assert frontier_file({"LINKWATCH_DB": "data/lw.db"}) == "data/lw.frontier.db"
    assert frontier_file({"LINKWATCH_STORE": "sqlite:////v/links"}) == "/v/links.frontier.db"
    state = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    assert frontier_file({"MONGO_URI": "mongodb://h/"}) == f"{state}/linkwatch/frontier.db"
    assert frontier_file({"LINKWATCH_DB": "lw.db", "LINKWATCH_FRONTIER_FILE": "f.db"}) == "f.db"


# --- the scheduler and its middlewares, in-process ---------------------------------------------


class NoLoop:
    """LoopingCall without a reactor: the periodic flush is not under test here."""

    running = False

    def __init__(self, call):
        pass

    def start(self, interval, now=True):
        pass


def make_spider(db, restart: str = "false", **settings_dict) -> BacklinksSpider:
    profile = Settings()
    profile.setmodule(settings.embedded)
    options = {
        **profile.copy_to_dict(),
        "TWISTED_REACTOR_ENABLED": False,
        # The default one asks the engine's downloader, and there is no engine here.
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
        "LINKWATCH_DB": str(db),
        **settings_dict,
    }
    crawler = get_crawler(BacklinksSpider, options)
    crawler.stats.open_spider()
    return BacklinksSpider.from_crawler(
        crawler,
        seeds="http://www.site.test/",
        watch="mysite.test",
        max_pages_per_domain="5",
        restart=restart,
    )


def stored_page(url: str) -> dict:
    return {
        "url": url,
        "status": 200,
        "title": "",
        "fetched_at": utc_now(),
        "domain": "site.test",
        "outlinks": 0,
        "edges": [],
        "domain_links": {},
        "watch": ["mysite.test"],
    }


def drain(scheduler) -> list[Request]:
    requests = []
    while (request := scheduler.next_request()) is not None:
        requests.append(request)
    return requests


def test_the_scheduler_resumes_seen_set_caps_and_queue_but_not_stored_pages(tmp_path, monkeypatch):
    monkeypatch.setattr(resumable, "LoopingCall", NoLoop)
    db = tmp_path / "lw.db"
    spider = make_spider(db)
    scheduler = ResumableScheduler.from_crawler(spider.crawler)
    scheduler.open(spider)
    home = spider.follow_request("http://www.site.test/", 0)
    stored = spider.follow_request("http://www.site.test/stored", 1)
    recrawl = spider.known_page_request("http://www.site.test/old", 1, ('"v1"', None))
    for request in (home, stored, recrawl):
        assert scheduler.enqueue_request(request)
    scheduler.checkpoint()
    scheduler.page_done(home.url)
    with open_store({"LINKWATCH_DB": str(db)}) as store:  # stored; its done mark is lost
        store.write_pages([stored_page(stored.url)])
    scheduler.close("shutdown")

    again = make_spider(db)
    resumed = ResumableScheduler.from_crawler(again.crawler)
    resumed.open(again)
    assert again.requested == {home.url, stored.url, recrawl.url}
    assert again.pages_per_domain == {"site.test": 3}
    (request,) = drain(resumed)
    assert request.url == recrawl.url and request.dont_filter
    assert request.callback == again.parse and request.errback == again.fetch_failed
    assert request.meta == recrawl.meta and request.priority == recrawl.priority
    assert request.headers.get("If-None-Match") == b'"v1"'
    resumed.close("finished")
    with contextlib.closing(sqlite3.connect(tmp_path / "lw.frontier.db")) as journal:
        assert journal.execute("SELECT COUNT(*) FROM requests").fetchone() == (0,)


def test_restart_true_and_resume_off(tmp_path, monkeypatch):
    monkeypatch.setattr(resumable, "LoopingCall", NoLoop)
    db = tmp_path / "lw.db"
    spider = make_spider(db)
    scheduler = ResumableScheduler.from_crawler(spider.crawler)
    scheduler.open(spider)
    scheduler.enqueue_request(spider.follow_request("http://www.site.test/", 0))
    scheduler.close("shutdown")

    off = make_spider(tmp_path / "other.db", LINKWATCH_RESUME=False)
    plain = ResumableScheduler.from_crawler(off.crawler)
    plain.open(off)
    assert plain.journal is None
    plain.close("shutdown")
    assert not (tmp_path / "other.frontier.db").exists()

    spider = make_spider(db, restart="true")
    scheduler = ResumableScheduler.from_crawler(spider.crawler)
    scheduler.open(spider)
    assert scheduler.journal.crawl.discarded and spider.requested == set()
    assert drain(scheduler) == []
    scheduler.close("shutdown")


def test_the_middlewares_are_off_without_the_resumable_scheduler():
    crawler = get_crawler(
        settings_dict={
            "SCHEDULER": "crawler.frontier.scheduler.FrontierScheduler",
            "TWISTED_REACTOR_ENABLED": False,
        }
    )
    with pytest.raises(NotConfigured):
        JournalSpiderMiddleware.from_crawler(crawler)
    crawler = get_crawler(
        settings_dict={
            "SCHEDULER": "crawler.frontier.resumable.ResumableScheduler",
            "LINKWATCH_RESUME": False,
            "TWISTED_REACTOR_ENABLED": False,
        }
    )
    with pytest.raises(NotConfigured):
        JournalSpiderMiddleware.from_crawler(crawler)


class FakeScheduler:
    journal = object()

    def __init__(self):
        self.done: list[str] = []

    def page_done(self, url):
        self.done.append(url)


def test_a_page_is_done_once_its_last_item_passed_the_pipelines():
    scheduler = FakeScheduler()
    middleware = JournalSpiderMiddleware(
        SimpleNamespace(engine=SimpleNamespace(scheduler=scheduler))
    )

    def response(url):
        return HtmlResponse(url, body=b"", request=Request(url))

    page, empty, failing = (response(f"http://a.test/{n}") for n in ("page", "empty", "failing"))
    items = [{"n": 1}, {"n": 2}]
    out = list(middleware.process_spider_output(page, iter([Request("http://a.test/x"), *items])))
    assert len(out) == 3 and scheduler.done == []
    list(middleware.process_spider_output(empty, iter([Request("http://a.test/y")])))
    assert scheduler.done == [empty.url]
    middleware.item_done(items[0], response=page)
    assert scheduler.done == [empty.url]
    middleware.item_done(items[1], response=page)
    assert scheduler.done == [empty.url, page.url]
    list(middleware.process_spider_output(failing, iter([{"n": 3}])))
    middleware.item_failed({"n": 3}, response=failing)
    assert scheduler.done == [empty.url, page.url]  # stays queued: a resume fetches it
    assert middleware.pending == {}


# --- end to end -------------------------------------------------------------------------------

# Seconds of latency per response: the fixture web takes several seconds to
# crawl, long enough to stop the crawl mid-way.
DELAY = 0.3
# Pages stored before the first run is stopped.
MIDWAY = 30


@pytest.fixture(scope="module")
def web():
    return build_web(version=1)


class Place:
    """Where a crawl stores: a SQLite file (the journal beside it, by default)
    or a MongoDB database (the journal in the test's directory)."""

    def __init__(self, kind: str, tmp, mongo_uri: str | None = None) -> None:
        self.kind = kind
        self.tmp = tmp
        self.db_path = tmp / "linkwatch.db"
        self.mongo_uri = mongo_uri
        self.database = f"lwresume_{uuid.uuid4().hex[:12]}"
        if kind == "sqlite":
            self.journal = tmp / "linkwatch.frontier.db"
        else:
            self.journal = tmp / "frontier.db"

    def env(self) -> dict[str, str]:
        if self.kind == "mongo":
            return {"MONGO_URI": self.mongo_uri, "MONGO_DATABASE": self.database}
        return {"LINKWATCH_DB": str(self.db_path)}

    def settings(self) -> dict[str, str]:
        return {"LINKWATCH_FRONTIER_FILE": str(self.journal)} if self.kind == "mongo" else {}

    def page_urls(self) -> set[str]:
        if self.kind == "mongo":
            with pymongo.MongoClient(self.mongo_uri) as client:
                return {doc["_id"] for doc in client[self.database].pages.find({}, {"_id": 1})}
        try:
            with contextlib.closing(sqlite3.connect(self.db_path, timeout=0.5)) as db:
                return {row[0] for row in db.execute("SELECT url FROM pages")}
        except sqlite3.Error:
            return set()  # not made yet

    def edges(self) -> list[dict]:
        if self.kind == "sqlite":
            return sqlite_edges(self.db_path)
        with pymongo.MongoClient(self.mongo_uri, tz_aware=True) as client:
            rows = list(client[self.database].edges.find({}, {"_id": 0}))
        for row in rows:
            for name in ("first_seen", "last_seen", "lost_at"):
                if isinstance(row.get(name), datetime):
                    row[name] = row[name].strftime("%Y-%m-%dT%H:%M:%SZ")
        return rows

    def journal_rows(self) -> int:
        with contextlib.closing(sqlite3.connect(self.journal)) as db:
            (rows,) = db.execute(
                "SELECT (SELECT COUNT(*) FROM requests) + (SELECT COUNT(*) FROM crawls)"
            ).fetchone()
        return rows

    def drop(self) -> None:
        if self.kind == "mongo":
            with pymongo.MongoClient(self.mongo_uri) as client:
                client.drop_database(self.database)


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def place(request, tmp_path):
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    made = Place(request.param, tmp_path, mongo_uri)
    yield made
    made.drop()


def crawl_args(web, **extra: str) -> dict[str, str]:
    return {"seeds": ",".join(web.seeds), "watch": ",".join(web.watch), **extra}


def page_fetches(server) -> set[str]:
    """The pages a server was asked for (robots.txt aside), as canonical URLs."""
    return {
        normalize_url(entry["url"])
        for entry in server.access_log_entries()
        if entry["url"] and not entry["path"].startswith("/robots.txt")
    }


def stop_midway(web, place: Place, sig: signal.Signals) -> set[str]:
    """Crawl the fixture web and send `sig` once MIDWAY pages are stored;
    returns the pages stored when the crawl has ended."""
    log = place.tmp / f"stopped-{sig.name}.log"
    with FixtureServer(web, delay=DELAY) as server, log.open("w") as output:
        env = crawl_env(server.proxy_url, **place.env())
        argv = crawl_command(crawl_args(web), place.settings())
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            deadline = time.monotonic() + 90
            while len(place.page_urls()) < MIDWAY:
                assert proc.poll() is None, f"the crawl ended early:\n{log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, "no pages stored"
                time.sleep(0.05)
            proc.send_signal(sig)
            proc.wait(60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stored = place.page_urls()
    assert set(web.truth_pages) - stored, "the crawl was not stopped mid-way"
    if sig != signal.SIGKILL:
        assert proc.returncode == 0, log.read_text()[-3000:]
        assert "for the same command to resume" in log.read_text()
    return stored


def crawl_again(web, place: Place, **extra: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """The same command again (plus `extra` arguments); its log and the pages it fetched."""
    with FixtureServer(web) as server:
        env = crawl_env(server.proxy_url, **place.env())
        result = run_crawl(crawl_args(web, **extra), env, place.settings())
        fetched = page_fetches(server)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean_log(result.stderr)
    return result, fetched


@pytest.mark.e2e
def test_a_killed_crawl_resumes_and_fetches_no_stored_page_again(web, place):
    stored = stop_midway(web, place, signal.SIGKILL)
    result, fetched = crawl_again(web, place)
    assert "resuming crawl" in result.stderr
    assert not stored & fetched, f"stored pages fetched again: {sorted(stored & fetched)[:5]}"
    assert_edges_equal(place.edges(), web.truth_edges)
    assert place.journal_rows() == 0


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_a_crawl_stopped_by_sigterm_or_ctrl_c_resumes(web, place, sig):
    stored = stop_midway(web, place, sig)
    result, fetched = crawl_again(web, place)
    assert "resuming crawl" in result.stderr
    assert not stored & fetched, f"stored pages fetched again: {sorted(stored & fetched)[:5]}"
    assert_edges_equal(place.edges(), web.truth_edges)


@pytest.mark.e2e
def test_restart_true_starts_the_crawl_over(web, place):
    stored = stop_midway(web, place, signal.SIGKILL)
    result, fetched = crawl_again(web, place, restart="true")
    assert "an unfinished one discarded (restart)" in result.stderr
    assert "resuming" not in result.stderr
    assert stored <= fetched
    assert_edges_equal(place.edges(), web.truth_edges)


@pytest.mark.e2e
def test_a_finished_crawl_leaves_nothing_pending_and_the_same_command_starts_anew(web, place):
    first, _ = crawl_again(web, place)
    assert "new crawl" in first.stderr and "the next run is a new crawl" in first.stderr
    assert place.journal_rows() == 0
    second, fetched = crawl_again(web, place)
    assert "new crawl" in second.stderr and "resuming" not in second.stderr
    assert place.page_urls() <= fetched
