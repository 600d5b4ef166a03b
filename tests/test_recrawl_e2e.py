"""End to end on both stores: real `scrapy crawl backlinks` processes crawl the
fixture web, then its second version, and the store must hold what changed:
every edge of the first crawl live, or lost with the reason the ground truth
(`truth_changes`) gives, and the second version's new edges. `linkwatch
recrawl` must name exactly the pages that link to a domain, and a depth-0
crawl of those pages alone must update that domain's edges the same way.

The first crawl must store exactly the ground truth; on MongoDB the domains
collection must count each watched domain's live backlinks and referring
domains."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import datetime

import pymongo
import pytest

from crawler.testing.fixtureweb import FixtureServer, build_web, truth_changes
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

RECRAWLED = "mysite.test"  # the watched domain whose linking pages are recrawled


@pytest.fixture(scope="module")
def v1():
    return build_web(version=1)


@pytest.fixture(scope="module")
def v2():
    return build_web(version=2)


@pytest.fixture(scope="module")
def changes(v1, v2):
    return {edge_key(c): c for c in truth_changes(v1, v2)}


class Location:
    """Where a crawl stores and `linkwatch` reads: a SQLite file or a MongoDB database."""

    def __init__(self, kind: str, tmp, mongo_uri: str | None) -> None:
        self.kind = kind
        self.db_path = tmp / "linkwatch.db"
        self.mongo_uri = mongo_uri
        self.database = f"lwe2e_{uuid.uuid4().hex[:12]}"

    def env(self) -> dict[str, str]:
        if self.kind == "mongo":
            return {"MONGO_URI": self.mongo_uri, "MONGO_DATABASE": self.database}
        return {"LINKWATCH_DB": str(self.db_path)}

    def cli_options(self) -> list[str]:
        if self.kind == "mongo":
            return ["--mongo-uri", self.mongo_uri, "--mongo-database", self.database]
        return ["--db", str(self.db_path)]

    def edges(self) -> list[dict]:
        """Every stored edge, with the fields of `sqlite_edges`."""
        if self.kind == "sqlite":
            return sqlite_edges(self.db_path)
        with pymongo.MongoClient(self.mongo_uri, tz_aware=True) as client:
            rows = list(client[self.database].edges.find({}, {"_id": 0}))
        for row in rows:
            for name in ("first_seen", "last_seen", "lost_at"):
                if isinstance(row.get(name), datetime):
                    row[name] = row[name].strftime("%Y-%m-%dT%H:%M:%SZ")
        return rows

    def domains(self) -> dict[str, dict]:
        with pymongo.MongoClient(self.mongo_uri) as client:
            return {doc["_id"]: doc for doc in client[self.database].domains.find()}

    def drop(self) -> None:
        if self.kind == "mongo":
            with pymongo.MongoClient(self.mongo_uri) as client:
                client.drop_database(self.database)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def kind(request):
    return request.param


@pytest.fixture(scope="module")
def new_location(kind, request, tmp_path_factory):
    """Makes empty store locations of this module's store kind; drops them after."""
    mongo_uri = request.getfixturevalue("mongo_uri") if kind == "mongo" else None
    made: list[Location] = []

    def make() -> Location:
        made.append(Location(kind, tmp_path_factory.mktemp(kind), mongo_uri))
        return made[-1]

    yield make
    for location in made:
        location.drop()


def crawl(web, location: Location, **spider_args: str) -> None:
    args = {"seeds": ",".join(web.seeds), "watch": ",".join(web.watch), **spider_args}
    with FixtureServer(web) as server:
        result = run_crawl(args, crawl_env(server.proxy_url, **location.env()))
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean_log(result.stderr)


@pytest.fixture(scope="module")
def recrawled(v1, v2, new_location):
    """A full crawl of v1, then one of v2 into the same store; edges after each."""
    location = new_location()
    crawl(v1, location)
    after_v1 = location.edges()
    domains_v1 = location.domains() if location.kind == "mongo" else None
    crawl(v2, location)
    return location, after_v1, domains_v1


def test_the_first_crawl_stores_exactly_the_ground_truth(v1, recrawled):
    location, after_v1, domains = recrawled
    assert_edges_equal(after_v1, v1.truth_edges)
    assert all(e["lost_at"] is None for e in after_v1)
    if location.kind == "mongo":
        # domains: live backlinks and referring domains of every target domain
        edges, refdomains = defaultdict(int), defaultdict(set)
        for e in v1.truth_edges:
            edges[e["target_domain"]] += 1
            refdomains[e["target_domain"]].add(e["source_domain"])
        counted = {d: (domains.get(d, {}).get("backlinks"), domains.get(d, {}).get("refdomains"))
                   for d in edges}  # fmt: skip
        assert counted == {d: (edges[d], len(refdomains[d])) for d in edges}


def test_a_recrawl_marks_every_change_live_lost_or_new(recrawled, changes):
    location, _, _ = recrawled
    stored = {edge_key(e): e for e in location.edges()}
    assert_states(stored, changes.values())
    kinds = {(c["state"], c["lost_reason"]) for c in changes.values()}
    assert {("live", None), ("new", None)} <= kinds
    assert {reason for _, reason in kinds if reason} == {
        "link_removed",
        "page_gone",
        "became_nofollow",
        "redirected",
    }, "the fixture web should exercise every lost reason"


def assert_states(stored: dict, expected) -> None:
    """Each expected change is stored in its state: live, lost with the reason, or new."""
    wrong = []
    for change in expected:
        edge = stored.get(edge_key(change))
        if edge is None:
            wrong.append((change, "missing"))
        elif change["state"] == "lost":
            if edge["lost_at"] is None or edge["lost_reason"] != change["lost_reason"]:
                wrong.append((change, edge["lost_reason"]))
        elif edge["lost_at"] is not None:
            wrong.append((change, edge["lost_reason"]))
    assert not wrong, f"{len(wrong)} edges in the wrong state, e.g. {wrong[:5]}"


@pytest.fixture(scope="module")
def recrawled_domain(v1, v2, new_location, tmp_path_factory):
    """A full crawl of v1, then `linkwatch recrawl RECRAWLED` and a depth-0 crawl
    of v2 from its seed file: the store, the seed file's lines and the CLI runs."""
    location = new_location()
    crawl(v1, location)
    seeds = tmp_path_factory.mktemp("recrawl") / "recrawl.txt"
    to_file = linkwatch("recrawl", RECRAWLED, "--out", str(seeds), *location.cli_options())
    to_stdout = linkwatch("recrawl", RECRAWLED, "--limit", "3", *location.cli_options())
    lines = seeds.read_text().splitlines() if seeds.exists() else []
    crawl(v2, location, seeds=f"@{seeds}", watch=RECRAWLED, depth="0")
    return location, lines, to_file, to_stdout


def test_recrawl_lists_exactly_the_pages_linking_to_the_domain(v1, recrawled_domain):
    _, lines, to_file, to_stdout = recrawled_domain
    assert to_file.returncode == 0, to_file.stderr
    assert "-a depth=0" in to_file.stderr, "the hint names the crawl to run"
    linking = {e["source_url"] for e in v1.truth_edges if e["target_domain"] == RECRAWLED}
    assert len(lines) == len(set(lines)), "a page listed twice"
    assert set(lines) == linking
    assert to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout.splitlines() == lines[:3]


def test_a_depth_0_crawl_of_the_seed_file_updates_the_domains_edges(recrawled_domain, changes):
    location, lines, _, _ = recrawled_domain
    stored = {edge_key(e): e for e in location.edges()}
    # v1's edges into the domain and the edges into it the recrawled pages have in v2
    expected = [c for key, c in changes.items() if in_domain(key[1], RECRAWLED) and key[0] in lines]
    states = {c["state"] for c in expected}
    assert states == {"live", "lost", "new"}, states
    assert_states(stored, expected)
    lost = linkwatch("lost", RECRAWLED, "--since", "2000-01-01", "--format", "json",
                     *location.cli_options())  # fmt: skip
    assert lost.returncode == 0, lost.stderr
    assert len(lost.stdout.splitlines()) == sum(c["state"] == "lost" for c in expected)


def test_a_depth_0_crawl_leaves_edges_into_unwatched_domains_alone(recrawled_domain):
    location, lines, _, _ = recrawled_domain
    linking = set(lines)
    touched = [
        (e["source_url"], e["target_url"], e["lost_reason"])
        for e in location.edges()
        if e["source_url"] in linking and not in_domain(e["target_url"], RECRAWLED)
    ]
    assert touched, "the recrawled pages link to other watched domains too"
    assert [t for t in touched if t[2] is not None] == []


@pytest.mark.redis
def test_recrawl_pushes_the_pages_into_a_shared_crawl(recrawled_domain, redis_url):
    import redis

    from crawler.frontier.seeding import keys_for, parse_seed_entry

    location, lines, _, _ = recrawled_domain
    prefix = f"lwtest:{uuid.uuid4().hex[:8]}"
    result = linkwatch("recrawl", RECRAWLED, "--redis-url", redis_url, "--redis-prefix", prefix,
                       "--depth", "2", *location.cli_options())  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"{len(lines)} of {len(lines)} pages linking to {RECRAWLED} queued" in result.stdout
    client = redis.Redis.from_url(redis_url)
    key = keys_for(prefix).start_urls
    try:
        seeds = [parse_seed_entry(raw) for raw in client.lrange(key, 0, -1)]
    finally:
        client.delete(key)
        client.close()
    now = linkwatch("recrawl", RECRAWLED, *location.cli_options()).stdout.splitlines()
    assert sorted(now) == sorted(lines)
    assert [s.url for s in seeds] == now, "the order `linkwatch recrawl` prints"
    assert {(s.depth, s.recrawl) for s in seeds} == {(2, True)}


def in_domain(url: str, domain: str) -> bool:
    host = url.split("/")[2].split(":")[0]
    return host == domain or host.endswith("." + domain)


def linkwatch(*argv: str) -> subprocess.CompletedProcess[str]:
    # Only the options name a store or a frontier: none from the caller's environment.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "MONGO_URI", "MONGO_DATABASE", "LINKWATCH_DB")
    }
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
