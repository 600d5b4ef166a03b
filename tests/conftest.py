"""Shared fixtures: stores, real servers, the fixture web and crawl runs.

Servers are real (Debian's redis-server, FerretDB for the MongoDB wire
protocol). REDIS_URL / MONGO_URI point the tests at a user's own servers;
otherwise tests start their own on free loopback ports. Where CI is set, a
missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os

import pytest

from crawler.testing import servers

IN_CI = bool(os.environ.get("CI"))


@pytest.fixture(scope="session", autouse=True)
def _private_state_home(tmp_path_factory):
    """Crawls the tests run into MongoDB keep their journal in the XDG state
    directory (crawler/frontier/resumable.py): a temporary one, not the user's."""
    previous = os.environ.get("XDG_STATE_HOME")
    os.environ["XDG_STATE_HOME"] = str(tmp_path_factory.mktemp("state"))
    yield
    if previous is None:
        os.environ.pop("XDG_STATE_HOME", None)
    else:
        os.environ["XDG_STATE_HOME"] = previous


def _unavailable(exc: Exception) -> None:
    if IN_CI:
        pytest.fail(f"server needed in CI: {exc}", pytrace=False)
    pytest.skip(str(exc))


@pytest.fixture(scope="session")
def redis_server():
    """The session's Redis: the user's REDIS_URL, or one started on a free port."""
    try:
        server = servers.redis_url_or_start()
    except servers.ServerUnavailable as exc:
        _unavailable(exc)
    with server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server):
    return redis_server.url


@pytest.fixture(scope="session")
def mongo_server():
    """The session's MongoDB: the user's MONGO_URI, or FerretDB on a free port."""
    try:
        server = servers.mongo_uri_or_start()
    except servers.ServerUnavailable as exc:
        _unavailable(exc)
    with server:
        yield server


@pytest.fixture(scope="session")
def mongo_uri(mongo_server):
    return mongo_server.url


STORES = ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)]


@pytest.fixture
def mongo_database(request, mongo_uri):
    """A fresh database on the MongoDB server for one test, dropped afterwards."""
    import uuid

    import pymongo

    name = f"lwtest_{uuid.uuid4().hex[:12]}"
    yield name
    client = pymongo.MongoClient(mongo_uri)
    try:
        client.drop_database(name)
    finally:
        client.close()


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    from pipelines.stores import open_store

    if request.param == "mongo":
        settings = {
            "MONGO_URI": request.getfixturevalue("mongo_uri"),
            "MONGO_DATABASE": request.getfixturevalue("mongo_database"),
        }
    else:
        settings = {"LINKWATCH_DB": str(tmp_path / "linkwatch.db")}
    with open_store(settings) as opened:
        yield opened
