"""Shared fixtures: stores, real servers, the fixture web and crawl runs.

Servers are real (Debian's redis-server, FerretDB for the MongoDB wire
protocol). REDIS_URL / MONGO_URI point the tests at a user's own servers;
otherwise tests start their own on free loopback ports. Where CI is set, a
missing server fails the run instead of skipping.
"""

from __future__ import annotations

import os

import pytest

from tests import servers

IN_CI = bool(os.environ.get("CI"))


def _unavailable(exc: Exception) -> None:
    if IN_CI:
        pytest.fail(f"server needed in CI: {exc}", pytrace=False)
    pytest.skip(str(exc))


@pytest.fixture(scope="session")
def redis_url():
    try:
        with servers.redis_url_or_start() as url:
            yield url
    except servers.ServerUnavailable as exc:
        _unavailable(exc)


@pytest.fixture(scope="session")
def mongo_uri():
    try:
        with servers.mongo_uri_or_start() as uri:
            yield uri
    except servers.ServerUnavailable as exc:
        _unavailable(exc)


STORES = ["sqlite"]


@pytest.fixture(params=STORES)
def store(request, tmp_path):
    from pipelines.stores import open_store

    if request.param == "sqlite":
        settings = {"LINKWATCH_DB": str(tmp_path / "linkwatch.db")}
    with open_store(settings) as opened:
        yield opened
