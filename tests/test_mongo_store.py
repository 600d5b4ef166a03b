"""The MongoDB store only: the domains collection's counters, its indexes and
what the server does with them (explain). The contract every store keeps is
test_store_contract.py's."""

from __future__ import annotations

import pytest
from pymongo.monitoring import CommandListener

from pipelines.stores import Target
from tests.test_store_contract import APR, FEB, MAR, MYSITE, page, ranks


@pytest.fixture
def mongo_store(mongo_uri, mongo_database):
    from pipelines.stores.mongo import MongoStore

    recorder = ReadRecorder()
    with MongoStore(mongo_uri, mongo_database, event_listeners=[recorder]) as opened:
        opened.recorder = recorder
        yield opened


@pytest.mark.mongo
def test_domains_count_live_backlinks_and_refdomains_after_each_batch(mongo_store):
    store = mongo_store

    def counts(domain):
        doc = store.domain_collection.find_one({"_id": domain}) or {}
        return doc.get("backlinks"), doc.get("refdomains")

    def by_queries(target):
        return len(list(store.backlinks(target))), len(list(store.refdomains(target)))

    competitor = Target.parse("competitor.test")
    store.write_pages(
        [
            page("http://a.test/1", [("http://mysite.test/x", {}), ("http://mysite.test/y", {})]),
            page("http://a.test/2", [("http://blog.mysite.test/", {"nofollow": True})]),
            page(
                "http://b.test/1",
                [("http://mysite.test/x", {}), ("http://competitor.test/", {})],
            ),
        ]
    )
    assert counts("mysite.test") == (4, 2) == by_queries(MYSITE)
    assert counts("competitor.test") == (1, 1) == by_queries(competitor)
    assert store.domain_collection.find_one({"_id": "a.test"})["pages_crawled"] == 2
    assert counts("a.test") == (None, None), "a source-only domain has no link counts"

    # a.test loses every link to mysite.test; competitor.test is not touched.
    store.write_pages(
        [
            page("http://a.test/1", [], at=FEB),
            page("http://a.test/2", [], status=404, at=FEB),
        ]
    )
    assert counts("mysite.test") == (1, 1) == by_queries(MYSITE)
    assert counts("competitor.test") == (1, 1)
    assert store.domain_collection.find_one({"_id": "a.test"})["pages_crawled"] == 2

    store.write_pages([page("http://b.test/1", [("http://competitor.test/", {})], at=MAR)])
    assert counts("mysite.test") == (0, 0) == by_queries(MYSITE)
    store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})], at=APR)])
    assert counts("mysite.test") == (1, 1) == by_queries(MYSITE)

    # A crawl that watched mysite.test only decides about links into it: the
    # page's link to competitor.test, gone from this crawl's item, stays live.
    watched = page("http://b.test/1", [], at="2026-05-01T00:00:00Z")
    watched["watch"] = ["mysite.test"]
    store.write_pages([watched])
    store.write_pages([page("http://c.test/1", [("http://competitor.test/", {})])])
    assert counts("competitor.test") == (2, 2) == by_queries(competitor)
    # A followed link that turns nofollow is a lost (followed) backlink.
    store.write_pages(
        [
            page(
                "http://a.test/1",
                [("http://mysite.test/x", {"nofollow": True})],
                at="2026-06-01T00:00:00Z",
            )
        ]
    )
    assert counts("mysite.test") == (0, 0) == by_queries(MYSITE)


@pytest.mark.mongo
def test_domain_counters_wait_for_the_recount_interval_and_the_close(mongo_uri, mongo_database):
    from pipelines.stores.mongo import MongoStore

    with MongoStore(mongo_uri, mongo_database, recount_interval=3600) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})])])
        assert store.domain_collection.find_one({"_id": "mysite.test"}) is None
    with MongoStore(mongo_uri, mongo_database) as store:
        doc = store.domain_collection.find_one({"_id": "mysite.test"})
        assert (doc["backlinks"], doc["refdomains"]) == (1, 1)


@pytest.mark.mongo
def test_pages_stored_before_live_links_are_counted_from_their_edges(mongo_uri, mongo_database):
    from pipelines.stores.mongo import MongoStore

    with MongoStore(mongo_uri, mongo_database) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})])])
        store.page_collection.update_many({}, {"$unset": {"live_links": ""}})  # an older store
    with MongoStore(mongo_uri, mongo_database) as store:
        store.write_pages([page("http://b.test/1", [("http://mysite.test/y", {})])])
        doc = store.domain_collection.find_one({"_id": "mysite.test"})
        assert (doc["backlinks"], doc["refdomains"]) == (2, 2)


@pytest.mark.mongo
def test_an_index_with_the_same_name_but_other_keys_is_a_clear_error(mongo_uri, mongo_database):
    import pymongo

    from pipelines.stores import StoreError
    from pipelines.stores.mongo import MongoStore

    with pymongo.MongoClient(mongo_uri) as client:
        client[mongo_database].edges.create_index([("target_domain", 1)], name="by_target")
    with pytest.raises(StoreError, match=r"by_target .* drop the index") as raised:
        MongoStore(mongo_uri, mongo_database)
    assert not raised.value.transient


# Every read the CLI (and the write path) makes, by name.
QUERIES = {
    "backlinks": lambda s: s.backlinks(MYSITE),
    "backlinks --lost": lambda s: s.backlinks(MYSITE, state="lost"),
    "backlinks --all --dofollow": lambda s: s.backlinks(MYSITE, state="all", dofollow=True),
    "backlinks --since": lambda s: s.backlinks(MYSITE, since=FEB),
    "backlinks of a host": lambda s: s.backlinks(Target.parse("blog.mysite.test")),
    "refdomains": lambda s: s.refdomains(MYSITE),
    "anchors": lambda s: s.anchors(MYSITE),
    "new": lambda s: s.new(MYSITE, FEB, limit=10),
    "lost": lambda s: s.lost(MYSITE, FEB),
    "pages": lambda s: s.pages(MYSITE),
    "recrawl": lambda s: s.linking_pages(MYSITE),
    "write a batch": lambda s: s.write_pages(
        [page("http://a.test/1", [("http://mysite.test/x", {})], at=APR)]
    ),
    "write a batch with domain links": lambda s: s.write_pages(
        [page("http://a.test/1", [], at=APR, domain_links={"b.test": 1})]
    ),
    "backlinks --sort authority": lambda s: s.backlinks_by_authority(MYSITE),
    "refdomains with authority": lambda s: s.annotate_authority(s.refdomains(MYSITE)),
    "gap": lambda s: s.linking_domains(["mysite.test", "b.test"]),
    "toxic": lambda s: s.domain_profiles(["a.test", "b.test"], ["mysite.test"]),
}
# Reads of a whole collection by design, so left out of QUERIES: `linkwatch rank`
# reads every pair of the domain graph (domain_graph), watched_domains asks for
# the distinct target domains (an index-only DISTINCT_SCAN on MongoDB), and
# write_authority finds the domains a previous ranking left.
# Reading commands and the fields of theirs an explain needs.
READS = {
    "find": ("find", "filter", "projection", "sort", "limit"),
    "aggregate": ("aggregate", "pipeline", "cursor"),
    "count": ("count", "query"),
    "distinct": ("distinct", "key", "query"),
}


class ReadRecorder(CommandListener):
    """A pymongo command listener that keeps the reads a store sends."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, dict]] = []

    def started(self, event) -> None:
        fields = READS.get(event.command_name)
        if fields is not None:
            command = {f: event.command[f] for f in fields if f in event.command}
            self.reads.append((event.database_name, command))

    def succeeded(self, event) -> None: ...

    def failed(self, event) -> None: ...


def load_sample_graph(store) -> None:
    store.write_pages(
        [
            page("http://a.test/1", [("http://mysite.test/x", {}), ("http://mysite.test/y", {})]),
            page("http://b.test/1", [("http://blog.mysite.test/", {"nofollow": True})]),
        ]
    )
    store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})], at=MAR)])
    store.write_pages([page("http://b.test/1", [], at=MAR, domain_links={"mysite.test": 1})])
    store.write_authority(ranks(("a.test", 50.0, 50.0)), MAR)


def recorded_reads(store, name):
    """Run one query of QUERIES; every read command it sent, with its collection."""
    load_sample_graph(store)
    store.recorder.reads.clear()
    result = QUERIES[name](store)
    if result is not None:
        list(result)
    reads = []
    for _, command in store.recorder.reads:
        collection = command.get("find") or command.get("aggregate") or command.get("count")
        reads.append((collection or command["distinct"], command))
    assert reads, f"{name}: no read recorded"
    return reads


def filter_of(command: dict) -> dict:
    if "pipeline" in command:
        first = command["pipeline"][0] if command["pipeline"] else {}
        return first.get("$match", {})
    return command.get("filter") or command.get("query") or {}


@pytest.mark.mongo
@pytest.mark.parametrize("name", list(QUERIES))
def test_every_query_filters_on_the_leading_key_of_an_index(mongo_store, name):
    """Server-independent: each read's filter pins (equality or $in) the first
    key of an index of its collection, so a planner can use that index."""
    for collection, command in recorded_reads(mongo_store, name):
        leading = {next(iter(index["key"])) for index in mongo_store.db[collection].list_indexes()}
        pinned = {
            field
            for field, value in filter_of(command).items()
            if not field.startswith("$")
            and (not isinstance(value, dict) or set(value) <= {"$eq", "$in"})
        }
        assert pinned & leading, f"{name}: {collection} filter {filter_of(command)} has no index"


@pytest.mark.mongo
@pytest.mark.parametrize("name", list(QUERIES))
def test_the_server_uses_an_index_for_every_query(mongo_store, name):
    """explain() of each read on the real server: MongoDB must plan an index scan
    and no collection scan. FerretDB 1.x reports its SQLite plan instead; where
    even a plain indexed equality scans (FerretDB 1.24 on SQLite pushes no filter
    but `_id` down to SQL), there is nothing to assert and the test says so."""
    plans = [
        (command, explain(mongo_store.db, command))
        for _, command in recorded_reads(mongo_store, name)
    ]
    if not mongo_store.server_grouping:  # FerretDB
        if not ferretdb_uses_secondary_indexes(mongo_store.db):
            pytest.skip(
                "FerretDB cannot use secondary indexes on this backend (its plan for an "
                "indexed equality is a SCAN); index use is asserted on MongoDB (MONGO_URI)"
            )
        for command, plan in plans:
            lines = plan["queryPlanner"]["Plan"]
            assert any("USING INDEX" in line or "USING COVERING INDEX" in line for line in lines), (
                name,
                command,
                lines,
            )
        return
    for command, plan in plans:
        stages = plan_stages(plan)
        assert stages & INDEX_STAGES, (name, command, stages)
        assert "COLLSCAN" not in stages, (name, command, stages)


INDEX_STAGES = {
    "IXSCAN",
    "IDHACK",
    "COUNT_SCAN",
    "DISTINCT_SCAN",
    "EXPRESS_IXSCAN",
    "EXPRESS_CLUSTERED_IXSCAN",
    "EXPRESS_IDHACK",
}


def explain(db, command: dict) -> dict:
    return db.command("explain", command, verbosity="queryPlanner")


def plan_stages(node) -> set[str]:
    """Every `stage` of the winning plans in a MongoDB explain (classic or SBE,
    find or aggregate, sharded or not); rejected plans are left out."""
    stages: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "rejectedPlans":
                continue
            if key == "stage" and isinstance(value, str):
                stages.add(value)
            else:
                stages |= plan_stages(value)
    elif isinstance(node, list):
        for value in node:
            stages |= plan_stages(value)
    return stages


def ferretdb_uses_secondary_indexes(db) -> bool:
    """The capability check: does an equality on an indexed field plan an index?"""
    probe = db["lw_index_probe"]
    probe.create_index([("k", 1)], name="by_k")
    probe.insert_many([{"k": i % 10} for i in range(50)])
    try:
        lines = explain(db, {"find": probe.name, "filter": {"k": 3}})["queryPlanner"]["Plan"]
    finally:
        probe.drop()
    return any("USING INDEX" in line or "USING COVERING INDEX" in line for line in lines)


def test_the_grouping_strategy_is_chosen_from_the_server_and_shapes_rows_alike():
    """No server needed: MongoDB groups in pipelines (ServerGrouping), FerretDB
    here (ClientGrouping); both yield the same rows from the same edges."""
    from datetime import UTC, datetime

    from pipelines.stores.mongo.grouping import ClientGrouping, ServerGrouping, grouping_for

    day = datetime(2026, 1, 1, tzinfo=UTC)
    edges = [
        {"source_domain": "a.test", "dofollow": 1, "first_seen": day, "last_seen": day},
        {"source_domain": "a.test", "dofollow": 0, "first_seen": day, "last_seen": day},
    ]

    class Edges:
        def __init__(self):
            self.pipelines = []

        def find(self, match, projection):
            return iter(edges)

        def aggregate(self, pipeline):
            self.pipelines.append(pipeline)
            return iter(
                [{"_id": "a.test", "edges": 2, "dofollow": 1, "first_seen": day, "last_seen": day}]
            )

    assert isinstance(grouping_for({"ferretdbVersion": "1.24.0"}, Edges()), ClientGrouping)
    server = grouping_for({"version": "7.0.0"}, Edges())
    assert isinstance(server, ServerGrouping) and server.on_server
    match = {"target_domain": "mysite.test", "lost_at": None}
    rows = list(server.refdomains(match, 5))
    assert rows == list(ClientGrouping(Edges()).refdomains(match, 5))
    assert rows == [
        {
            "source_domain": "a.test",
            "edges": 2,
            "dofollow": 1,
            "first_seen": "2026-01-01T00:00:00Z",
            "last_seen": "2026-01-01T00:00:00Z",
        }
    ]
    [pipeline] = server.edges.pipelines
    assert pipeline[0] == {"$match": match} and pipeline[-1] == {"$limit": 5}
