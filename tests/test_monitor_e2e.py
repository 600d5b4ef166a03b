"""`linkwatch monitor` end to end, on both stores, run from outside the
project directory as a timer would run it: a full crawl of the fixture web
(v1), then monitor runs that recrawl what is due (a real `scrapy crawl
backlinks -a recrawl=due` child process) and send alerts to a file.

1. Nothing is due right after the crawl: the recrawl fetches nothing, exits 0,
   and the first send is each domain's summary.
2. Every linking page made due and the web changed to v2: the recrawl fetches
   them, and the alert lists exactly the links the ground truth says are lost,
   with their reasons.
3. With REDIS_URL set, monitor only sends (the workers keep the profile fresh):
   no crawl, and nothing new to send.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import orjson
import pymongo
import pytest

from crawler.testing.fixtureweb import FixtureServer, build_web, truth_changes
from tests.support.crawling import TEST_SETTINGS, crawl_env
from tests.test_recrawl_e2e import Location, crawl

pytestmark = pytest.mark.e2e

STORE_ENV = ("LINKWATCH_DB", "LINKWATCH_STORE", "MONGO_URI", "MONGO_DATABASE", "LINKWATCH_ALERTS")


def make_everything_due(location: Location) -> None:
    """Every stored page due for a recrawl (time passing, without the wait)."""
    if location.kind == "sqlite":
        with sqlite3.connect(location.db_path) as db:
            db.execute("UPDATE pages SET due_at = '2020-01-01T00:00:00Z'")
        return
    with pymongo.MongoClient(location.mongo_uri) as client:
        client[location.database].pages.update_many(
            {}, {"$set": {"due_at": datetime(2020, 1, 1, tzinfo=UTC)}}
        )


def monitor(location: Location, web, out, cwd, **env: str) -> subprocess.CompletedProcess[str]:
    """`linkwatch monitor` with the store in its options (not in the environment)."""
    settings = [arg for name, value in TEST_SETTINGS.items() for arg in ("-s", f"{name}={value}")]
    argv = [sys.executable, "-m", "crawler.cli", "monitor", "--settle", "0",
            "--to", f"file:{out}", *settings, *location.cli_options()]  # fmt: skip
    with FixtureServer(web) as server:
        environment = {k: v for k, v in crawl_env(server.proxy_url).items() if k not in STORE_ENV}
        return subprocess.run(
            argv,
            cwd=cwd,
            env=environment | env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def watched(request, tmp_path_factory):
    """The three monitor runs of one store: (process, the alerts it appended)."""
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    location = Location(request.param, tmp_path_factory.mktemp(request.param), mongo_uri)
    elsewhere = tmp_path_factory.mktemp("elsewhere")  # no scrapy.cfg here
    out = elsewhere / "alerts.jsonl"
    runs = []

    def run(web, **env):
        before = len(out.read_bytes().splitlines()) if out.exists() else 0
        result = monitor(location, web, out, elsewhere, **env)
        lines = out.read_bytes().splitlines() if out.exists() else []
        runs.append((result, [orjson.loads(line) for line in lines[before:]]))

    try:
        crawl(build_web(version=1), location)
        time.sleep(1)
        run(build_web(version=1))
        make_everything_due(location)
        time.sleep(1)
        run(build_web(version=2))
        time.sleep(1)
        run(build_web(version=2), REDIS_URL="redis://127.0.0.1:9/0")
        yield runs
    finally:
        location.drop()


def test_nothing_due_fetches_nothing_and_the_first_send_is_a_summary(watched):
    result, alerts = watched[0]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "monitor: recrawling the due pages linking to every watched domain" in result.stderr
    assert "monitor: recrawl finished (exit status 0)" in result.stderr
    assert "Traceback" not in result.stderr
    assert alerts and {a["kind"] for a in alerts} == {"summary"}


def test_a_recrawl_of_the_due_pages_sends_exactly_the_lost_links(watched):
    result, alerts = watched[1]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "monitor: recrawl finished (exit status 0)" in result.stderr
    assert "crawl finished: " in result.stderr, "the crawl's progress is shown"
    changes = truth_changes(build_web(version=1), build_web(version=2))
    lost = Counter(
        (c["source_url"], c["target_url"], c["lost_reason"])
        for c in changes
        if c["state"] == "lost"
    )
    got = Counter(
        (e["source_url"], e["target_url"], e["lost_reason"])
        for a in alerts
        if a["kind"] == "changes"
        for e in a["lost"]
    )
    assert got == lost


def test_with_redis_monitor_only_sends(watched):
    result, alerts = watched[2]
    assert result.returncode == 0, result.stderr[-3000:]
    assert "sending alerts only" in result.stderr
    assert "recrawling" not in result.stderr
    assert alerts == []
