"""The dashboard tests' crawled store and running server, once per module and store:
a real crawl of the fixture web (version 1, then 2, ranked) into SQLite or MongoDB,
and `linkwatch serve` over it."""

from __future__ import annotations

import pytest

from pipelines.stores import open_store
from tests.support.browser import DashboardServer, crawled_location


@pytest.fixture(scope="module", params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
def location(request, tmp_path_factory):
    mongo_uri = request.getfixturevalue("mongo_uri") if request.param == "mongo" else None
    crawled = crawled_location(request.param, tmp_path_factory.mktemp(request.param), mongo_uri)
    yield crawled
    crawled.drop()


@pytest.fixture(scope="module")
def server(location):
    with DashboardServer(location.env()) as running:
        yield running


@pytest.fixture(scope="module")
def store(location):
    """The crawled store, read-only (this directory's: not tests/conftest.py's empty one)."""
    with open_store(location.env(), readonly=True, create=False) as opened:
        yield opened
