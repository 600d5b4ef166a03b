"""Freshness in the store: the adaptive recrawl schedule, the pages due, a
304 that confirms a page's edges, and databases made before all of it.
Parametrized over both stores (conftest.py); the crawls that use it are in
test_freshness_e2e.py."""

from __future__ import annotations

import pytest

from crawler.schedule import Schedule, due_at, links_digest
from pipelines.stores import StoreError, Target, schedule_from
from tests.test_store_contract import SCHEMA_0_2, old_mongo_edge, page

MYSITE = Target.parse("mysite.test")
DAY = 24 * 3600
JAN = "2026-01-01T00:00:00Z"
FEB = "2026-02-01T00:00:00Z"
MAR = "2026-03-01T00:00:00Z"
SCHEDULE = Schedule(minimum=DAY, maximum=30 * DAY, initial=7 * DAY, inc_rate=0.4, dec_rate=0.2)


# --- the schedule itself (pure) ------------------------------------------------------


def test_unchanged_pages_drift_out_and_changed_ones_come_back():
    interval = SCHEDULE.first()
    assert interval == 7 * DAY
    quiet = [interval := SCHEDULE.next(interval, changed=False) for _ in range(6)]
    assert quiet[0] == round(7 * DAY * 1.4)
    assert quiet == sorted(quiet) and quiet[-1] == 30 * DAY  # capped at the maximum
    busy = [interval := SCHEDULE.next(interval, changed=True) for _ in range(20)]
    assert busy[0] == 24 * DAY and busy == sorted(busy, reverse=True)
    assert busy[-1] == DAY  # floored at the minimum


def test_a_page_without_a_stored_interval_starts_at_the_initial_one():
    assert SCHEDULE.next(None, changed=True) == SCHEDULE.next(None, changed=False) == 7 * DAY
    assert Schedule(minimum=DAY, maximum=2 * DAY, initial=9 * DAY).first() == 2 * DAY


def test_due_at_adds_the_interval():
    assert due_at("2026-01-31T12:00:00Z", DAY) == "2026-02-01T12:00:00Z"


def test_links_digest_ignores_order_and_sees_every_link_field():
    a = {"target_url": "http://m.test/", "anchor": "A", "alt": "", "nofollow": False}
    a |= {"link_type": "a", "rel": []}
    b = a | {"target_url": "http://m.test/b"}
    assert links_digest([a, b]) == links_digest([b, a])
    for change in ({"anchor": "B"}, {"nofollow": True}, {"rel": ["ugc"]}, {"link_type": "area"}):
        assert links_digest([a | change, b]) != links_digest([a, b]), change
    assert links_digest([a]) != links_digest([a, b])


def test_contradicting_settings_are_refused():
    with pytest.raises(ValueError, match="LINKWATCH_RECRAWL_MIN"):
        schedule_from({"LINKWATCH_RECRAWL_MIN": 10 * DAY, "LINKWATCH_RECRAWL_MAX": DAY})
    assert schedule_from({}) == Schedule()  # the defaults of settings/base.py
    assert schedule_from({"LINKWATCH_RECRAWL_MIN": "3600"}).minimum == 3600


# --- the store keeps the schedule --------------------------------------------------


def linking(url="http://a.test/p", anchor="a link", at=JAN, **kwargs):
    item = page(url, [("http://mysite.test/x", {"anchor": anchor})], at=at)
    return item | {"ip": "192.0.2.1"} | kwargs


def schedule_of(store, url="http://a.test/p"):
    rows = {row["url"]: row for row in store.recrawl_pages(["mysite.test"])}
    row = rows[url]
    return row["recrawl_interval"], row["due_at"]


def test_a_linking_page_is_scheduled_and_its_interval_adapts(store):
    store.schedule = SCHEDULE
    store.write_pages([linking(at=JAN)])
    assert schedule_of(store) == (7 * DAY, "2026-01-08T00:00:00Z")
    store.write_pages([linking(at=FEB)])  # the same links: longer
    interval = round(7 * DAY * 1.4)
    assert schedule_of(store) == (interval, due_at(FEB, interval))
    store.write_pages([linking(anchor="changed", at=MAR)])  # changed links: shorter
    interval = round(interval * 0.8)
    assert schedule_of(store) == (interval, due_at(MAR, interval))


def test_a_page_that_lost_its_links_keeps_its_schedule_and_one_that_never_linked_has_none(store):
    store.schedule = SCHEDULE
    store.write_pages([linking(at=JAN), page("http://a.test/plain", [], at=JAN)])
    store.write_pages([page("http://a.test/p", [], at=FEB)])  # the link went: a change
    assert schedule_of(store)[0] == round(7 * DAY * 0.8)
    assert "http://a.test/plain" not in {row["url"] for row in store.recrawl_pages()}


def test_due_pages_are_those_due_by_then_soonest_first(store):
    store.schedule = SCHEDULE
    store.write_pages([linking("http://a.test/1", at=FEB), linking("http://b.test/2", at=JAN)])
    store.write_pages([page("http://c.test/none", [("http://other.test/", {})], at=JAN)])
    due = store.recrawl_pages(["mysite.test"], due_before="2026-01-10T00:00:00Z")
    assert [row["url"] for row in due] == ["http://b.test/2"]
    later = store.recrawl_pages(["mysite.test"], due_before=MAR)
    assert [row["url"] for row in later] == ["http://b.test/2", "http://a.test/1"]
    every = {row["url"] for row in store.recrawl_pages()}  # every watched domain
    assert every == {"http://a.test/1", "http://b.test/2", "http://c.test/none"}
    assert [row["url"] for row in store.recrawl_pages(["mysite.test"], limit=1)] == [
        "http://b.test/2"
    ]


def test_validators_are_stored_and_replaced_by_the_latest_answer(store):
    store.write_pages([linking(at=JAN, etag='"v1"', last_modified="Thu, 01 Jan 2026 00:00:00 GMT")])
    [row] = store.recrawl_pages(["mysite.test"])
    assert (row["etag"], row["last_modified"]) == ('"v1"', "Thu, 01 Jan 2026 00:00:00 GMT")
    store.write_pages([linking(at=FEB, etag='"v2"')])
    [row] = store.recrawl_pages(["mysite.test"])
    assert (row["etag"], row["last_modified"]) == ('"v2"', None)


def test_a_page_stored_before_0_4_is_fetched_whole_once(store):
    # No address: stored by 0.3 or before. Its edges lack placement and context,
    # which a 304 would never bring: no validators until it is fetched again.
    store.write_pages([linking(at=JAN, etag='"v1"', ip=None)])
    [row] = store.recrawl_pages(["mysite.test"])
    assert (row["etag"], row["last_modified"]) == (None, None)
    store.write_pages([linking(at=FEB, etag='"v2"')])
    [row] = store.recrawl_pages(["mysite.test"])
    assert row["etag"] == '"v2"'


def test_a_304_confirms_the_edges_without_losing_or_changing_anything(store):
    store.schedule = SCHEDULE
    nofollowed = page(
        "http://a.test/p",
        [("http://mysite.test/x", {}), ("http://mysite.test/y", {"nofollow": True})],
        at=JAN,
    )
    store.write_pages([nofollowed | {"etag": '"v1"'}])
    store.write_pages([page("http://a.test/p", [("http://mysite.test/x", {})], at=FEB)])
    [(_, y_lost)] = [(e["target_url"], e["lost_at"]) for e in store.lost(MYSITE, JAN)]
    assert y_lost == FEB  # y went: lost; x is live
    interval_before = schedule_of(store)[0]
    not_modified = page("http://a.test/p", [], status=304, at=MAR, title="")
    store.write_pages([not_modified | {"not_modified": True, "domain_links": None}])
    edges = {e["target_url"]: e for e in store.backlinks(MYSITE, state="all")}
    assert edges["http://mysite.test/x"]["last_seen"] == MAR
    assert edges["http://mysite.test/x"]["lost_at"] is None
    assert edges["http://mysite.test/y"]["last_seen"] == JAN  # lost stays lost
    assert edges["http://mysite.test/y"]["lost_reason"] == "link_removed"
    assert edges["http://mysite.test/x"]["source_title"] == "T"  # nothing overwritten
    interval = round(interval_before * 1.4)
    assert schedule_of(store) == (interval, due_at(MAR, interval))


def test_a_304_for_a_page_the_store_does_not_have_writes_nothing(store):
    ghost = page("http://ghost.test/p", [], status=304, at=MAR) | {"not_modified": True}
    store.write_pages([ghost, linking(at=MAR)])
    assert {row["url"] for row in store.recrawl_pages()} == {"http://a.test/p"}
    assert store.fetched_since(["http://ghost.test/p", "http://a.test/p"], JAN) == {
        "http://a.test/p"
    }


def test_fetched_since_names_the_pages_stored_at_or_after_a_time(store):
    store.write_pages([linking("http://a.test/1", at=JAN), linking("http://a.test/2", at=FEB)])
    urls = ["http://a.test/1", "http://a.test/2", "http://a.test/never"]
    assert store.fetched_since(urls, FEB) == {"http://a.test/2"}
    assert store.fetched_since(urls, JAN) == {"http://a.test/1", "http://a.test/2"}
    assert store.fetched_since([], JAN) == set()


# --- databases made by linkwatch 0.2 -------------------------------------------------


def test_a_sqlite_database_made_by_0_2_migrates_in_place_and_gets_a_schedule(tmp_path):
    import sqlite3

    from pipelines.stores.sqlite import SQLiteStore

    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(SCHEMA_0_2)
    db.close()
    with SQLiteStore(path, readonly=True) as old:  # not migrated: every linking page is due
        [row] = old.recrawl_pages(["mysite.test"], due_before=JAN)
        assert row["url"] == "http://a.test/1" and row["due_at"] is None
    with SQLiteStore(path) as store:
        store.schedule = SCHEDULE
        [row] = store.recrawl_pages(["mysite.test"], due_before=JAN)
        assert row["recrawl_interval"] is None
        store.write_pages([linking("http://a.test/1", at=FEB, etag='"e"')])
        assert schedule_of(store, "http://a.test/1") == (7 * DAY, due_at(FEB, 7 * DAY))
        [edge] = store.backlinks(MYSITE)
        assert edge["first_seen"] == "2025-01-01T00:00:00Z"
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(pages)")}
    assert {"etag", "last_modified", "links_digest", "recrawl_interval", "due_at"} <= columns


@pytest.mark.mongo
def test_a_mongodb_database_made_by_0_2_gains_the_schedule(mongo_uri, mongo_database):
    """Documents as linkwatch 0.2 wrote them (no validators, no schedule, no due index)."""
    from datetime import UTC, datetime

    import pymongo

    from pipelines.stores.mongo import MongoStore

    old = datetime(2025, 1, 1, tzinfo=UTC)
    with pymongo.MongoClient(mongo_uri) as client:
        db = client[mongo_database]
        db.pages.insert_one(
            {"_id": "http://a.test/1", "domain": "a.test", "status": 200, "title": "Old"}
            | {"outlinks": 1, "edges": 1, "fetched_at": old, "first_fetched": old}
            | {"live_links": [{"domain": "mysite.test", "edges": 1}]}
        )
        db.edges.insert_one(old_mongo_edge(old))
    store = MongoStore(mongo_uri, mongo_database)
    try:
        store.schedule = SCHEDULE
        [row] = store.recrawl_pages(["mysite.test"], due_before=JAN)
        assert row["url"] == "http://a.test/1" and row["due_at"] is None
        store.write_pages([linking("http://a.test/1", at=FEB, etag='"e"')])
        assert schedule_of(store, "http://a.test/1") == (7 * DAY, due_at(FEB, 7 * DAY))
        [edge] = store.backlinks(MYSITE)
        assert edge["first_seen"] == "2025-01-01T00:00:00Z" and edge["last_seen"] == FEB
        names = {index["name"] for index in store.page_collection.list_indexes()}
        assert "by_due" in names
    finally:
        store.close()


def test_a_store_with_contradicting_schedule_settings_does_not_open(tmp_path):
    from pipelines.stores import open_store

    settings = {"LINKWATCH_DB": str(tmp_path / "x.db"), "LINKWATCH_RECRAWL_MAX": 1}
    with pytest.raises(StoreError, match="LINKWATCH_RECRAWL_MIN"):
        open_store(settings)


# --- the spider: conditional requests, 304s, validators ------------------------------


def recrawl_spider(tmp_path, **settings_dict):
    from tests.test_spider_unit import make_spider

    return make_spider(LINKWATCH_DB=str(tmp_path / "x.db"), **settings_dict)


def test_a_recrawl_request_is_conditional_on_the_stored_validators(tmp_path):
    spider = recrawl_spider(tmp_path)
    validators = ('"abc"', "Thu, 01 Jan 2026 00:00:00 GMT")
    request = spider.known_page_request("http://a.test/p", 0, validators)
    assert request.headers[b"If-None-Match"] == b'"abc"'
    assert request.headers[b"If-Modified-Since"] == b"Thu, 01 Jan 2026 00:00:00 GMT"
    assert request.dont_filter and request.meta["linkwatch_recrawl"]
    assert b"If-None-Match" not in spider.known_page_request("http://a.test/q", 0, None).headers
    off = recrawl_spider(tmp_path, LINKWATCH_CONDITIONAL_GET=False)
    assert not off.known_page_request("http://a.test/p", 0, validators).headers


def test_a_shared_crawls_recrawl_seed_carries_its_validators(tmp_path):
    spider = recrawl_spider(tmp_path)
    request = spider.seed_request("http://a.test/p", 3, True, ('"e"', None))
    assert request.headers[b"If-None-Match"] == b'"e"' and request.dont_filter
    assert not spider.seed_request("http://a.test/q", 0).headers.get(b"If-None-Match")


def test_a_304_to_a_conditional_request_confirms_the_page_unparsed(tmp_path):
    from scrapy import Request
    from scrapy.http import Response

    spider = recrawl_spider(tmp_path)
    request = spider.known_page_request("http://a.test/p", 0, ('"abc"', None))
    response = Response("http://a.test/p", status=304, request=request, headers={"ETag": '"abc"'})
    [item] = list(spider.parse(response))
    assert item["not_modified"] is True and item["edges"] == []
    assert item["domain_links"] is None, "the stored domain links stay"
    assert item["etag"] == '"abc"'
    assert spider.stats.get_value("linkwatch/not_modified") == 1
    unasked = Response("http://a.test/q", status=304, request=Request("http://a.test/q"))
    assert list(spider.parse(unasked)) == []
    assert spider.stats.get_value("linkwatch/not_modified_unasked") == 1


def test_a_page_item_carries_the_responses_validators(tmp_path):
    from tests.test_spider_unit import html_response

    spider = recrawl_spider(tmp_path)
    page = html_response(
        "http://www.site.test/",
        "<a href='http://mysite.test/'>x</a>",
        ETag='"v"',
        **{"Last-Modified": "Thu, 01 Jan 2026 00:00:00 GMT"},
    )
    item = next(o for o in spider.parse(page) if isinstance(o, dict))
    assert (item["etag"], item["last_modified"]) == ('"v"', "Thu, 01 Jan 2026 00:00:00 GMT")
    gone = html_response("http://www.site.test/x", "gone", status=404, ETag='"404"')
    item = next(o for o in spider.parse(gone) if isinstance(o, dict))
    assert item["etag"] is None, "an error page's validators would make its 200 a 304"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"recrawl": "sometimes"}, "recrawl: 'sometimes' is not one of due, all"),
        ({"recrawl": "due", "seeds": "a.test"}, "recrawl=due takes no seeds"),
        ({"recrawl": "all", "depth": "2"}, "recrawl=all takes no depth"),
        ({"recrawl": "due", "expand": "1"}, "recrawl=due takes no expand"),
        ({"seeds": "a.test", "watch": "b.test", "sitemaps": "maybe"}, "sitemaps: not true"),
        ({"seeds": "a.test", "watch": "b.test", "restart": "2"}, "restart: not true"),
    ],
)
def test_freshness_arguments_are_checked(args, message):
    from crawler.arguments import ArgumentError, parse_crawl_arguments

    with pytest.raises(ArgumentError, match=message.replace("(", r"\(")):
        parse_crawl_arguments(args, default_depth=3, default_max_pages=10)


def test_a_recrawl_needs_a_store_and_is_embedded_only(tmp_path):
    from scrapy.settings import Settings

    import settings.embedded
    from crawler.arguments import ArgumentError
    from crawler.spiders.backlinks import BacklinksSpider

    def profile(**overrides):
        built = Settings()
        built.setmodule(settings.embedded)
        built.update(overrides)
        return built

    missing = profile(LINKWATCH_DB=str(tmp_path / "none.db"), LINKWATCH_STORE="", MONGO_URI="")
    with pytest.raises(ArgumentError, match=r"no linkwatch database at .*none\.db"):
        BacklinksSpider.check_arguments({"recrawl": "due"}, missing)
    shared = profile(REDIS_URL="redis://127.0.0.1:1/0")
    with pytest.raises(ArgumentError, match="workers move due pages"):
        BacklinksSpider.check_arguments({"recrawl": "due"}, shared)
    wrong = profile(LINKWATCH_RECRAWL_MIN=100, LINKWATCH_RECRAWL_MAX=10)
    with pytest.raises(ArgumentError, match="LINKWATCH_RECRAWL_MIN"):
        BacklinksSpider.check_arguments({"seeds": "a.test", "watch": "b.test"}, wrong)
