"""Choosing the store by one URI: its forms, the aliases and their precedence,
a wrong URI (one line, exit 2 on the CLI; the crawl ends at its start), and a
crawl that stores the ground truth through LINKWATCH_STORE."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pipelines.stores import (
    StoreURIError,
    mask_uri,
    open_store,
    store_class,
    store_uri,
)
from pipelines.stores.mongo import MongoStore
from pipelines.stores.sqlite import SQLiteStore
from tests.support.crawling import (
    ROOT,
    assert_clean_log,
    assert_edges_equal,
    crawl_env,
    run_crawl,
    sqlite_edges,
)
from tests.test_store_contract import page, targets


def test_the_uri_comes_from_linkwatch_store_then_mongo_uri_then_linkwatch_db():
    assert store_uri({}) == "sqlite:///linkwatch.db"
    assert store_uri({"LINKWATCH_DB": "lw.db"}) == "sqlite:///lw.db"
    assert store_uri({"LINKWATCH_DB": "/srv/lw.db"}) == "sqlite:////srv/lw.db"
    mongo = {"MONGO_URI": "mongodb://m:27017/", "LINKWATCH_DB": "/srv/lw.db"}
    assert store_uri(mongo) == "mongodb://m:27017/"
    assert store_uri({**mongo, "LINKWATCH_STORE": "sqlite:///x.db"}) == "sqlite:///x.db"
    assert store_uri({**mongo, "LINKWATCH_STORE": ""}) == "mongodb://m:27017/"


@pytest.mark.parametrize(
    ("uri", "cls"),
    [
        ("sqlite:///lw.db", SQLiteStore),
        ("sqlite:////var/lib/lw.db", SQLiteStore),
        ("mongodb://u:p@m:27017/?authSource=admin", MongoStore),
        ("mongodb+srv://u:p@cluster.example/", MongoStore),
        ("MongoDB://m/", MongoStore),
    ],
)
def test_the_scheme_chooses_the_store(uri, cls):
    assert store_class(uri) is cls


@pytest.mark.parametrize(
    "uri", ["postgres://u:s3cret@db/x", "redis://:s3cret@r:6379/0", "lw.db", "/abs/lw.db"]
)
def test_an_unknown_scheme_is_a_clear_error_without_the_password(uri):
    with pytest.raises(StoreURIError) as raised:
        open_store({"LINKWATCH_STORE": uri})
    message = str(raised.value)
    assert "\n" not in message and "s3cret" not in message
    assert "sqlite://" in message and "mongodb://" in message


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:///", "sqlite://host/lw.db"])
def test_a_sqlite_uri_names_a_file(uri):
    with pytest.raises(StoreURIError, match="sqlite:///relative"):
        open_store({"LINKWATCH_STORE": uri})


def test_sqlite_uris_relative_and_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with open_store({"LINKWATCH_STORE": "sqlite:///sub/relative.db"}) as store:
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})])])
    assert (tmp_path / "sub" / "relative.db").exists()
    absolute = tmp_path / "absolute.db"
    with open_store({"LINKWATCH_STORE": f"sqlite:///{absolute}"}) as store:
        assert isinstance(store, SQLiteStore) and store.path == str(absolute)
    assert absolute.exists() and str(absolute).startswith("/")
    with open_store({"LINKWATCH_STORE": "sqlite:///sub/relative.db"}, readonly=True) as store:
        assert targets(store) == [("http://a.test/1", "http://mysite.test/x")]


def test_a_store_that_must_exist_is_not_made(tmp_path):
    from pipelines.stores import StoreError

    with pytest.raises(StoreError, match="no linkwatch database"):
        open_store({"LINKWATCH_DB": str(tmp_path / "none.db")}, create=False)
    assert not (tmp_path / "none.db").exists()


@pytest.mark.mongo
def test_a_mongodb_uri_opens_the_link_graph(mongo_uri, mongo_database):
    settings = {"LINKWATCH_STORE": mongo_uri, "MONGO_DATABASE": mongo_database}
    with open_store({**settings, "LINKWATCH_DB": "/nonexistent/lw.db"}) as store:
        assert isinstance(store, MongoStore)
        store.write_pages([page("http://a.test/1", [("http://mysite.test/x", {})])])
    with open_store(settings, readonly=True) as store:
        assert targets(store) == [("http://a.test/1", "http://mysite.test/x")]


@pytest.mark.parametrize(
    ("uri", "masked"),
    [
        (
            "mongodb://lw:s3cret@m:27017/?authSource=admin",
            "mongodb://lw:***@m:27017/?authSource=admin",
        ),
        ("mongodb+srv://lw:p@ss@cluster.example/", "mongodb+srv://lw:***@cluster.example/"),
        ("mongodb://m:27017/", "mongodb://m:27017/"),
        ("sqlite:////srv/lw.db", "sqlite:////srv/lw.db"),
    ],
)
def test_mask_uri(uri, masked):
    assert mask_uri(uri) == masked


# --- the CLI ---------------------------------------------------------------------------

CLI = [sys.executable, "-m", "crawler.cli"]


def cli(*argv, cwd=ROOT):
    drop = ("LINKWATCH_STORE", "MONGO_URI", "MONGO_DATABASE", "LINKWATCH_DB", "REDIS_URL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [*CLI, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize("command", ["backlinks", "refdomains", "export", "rank"])
def test_cli_unknown_scheme_is_one_line_and_exit_2(command):
    argv = [command, "mysite.test"] if command != "rank" else [command]
    if command == "export":
        argv += ["--format", "csv"]
    result = cli(*argv, "--store", "postgres://lw:s3cret@db/x")
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "unknown scheme 'postgres'" in lines[0], result.stderr
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


def test_cli_store_comes_before_db_and_takes_relative_paths(tmp_path):
    for name, source in (("chosen.db", "http://a.test/1"), ("other.db", "http://b.test/1")):
        with open_store({"LINKWATCH_DB": str(tmp_path / name)}) as store:
            store.write_pages([page(source, [("http://mysite.test/x", {})])])
    for store in ("sqlite:///chosen.db", f"sqlite:///{tmp_path / 'chosen.db'}"):
        result = cli(
            "backlinks", "mysite.test", "--format", "csv", "--store", store,
            "--db", str(tmp_path / "other.db"), cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "http://a.test/1" in result.stdout and "http://b.test/1" not in result.stdout
    missing = cli("backlinks", "mysite.test", "--store", "sqlite:///none.db", cwd=tmp_path)
    assert missing.returncode == 1 and "no linkwatch database at none.db" in missing.stderr


def test_every_store_command_takes_store():
    for command in ("backlinks", "refdomains", "anchors", "new", "lost", "pages", "recrawl",
                    "export", "report", "rank", "toxic", "disavow", "gap", "summary"):  # fmt: skip
        result = cli(command, "--help")
        assert result.returncode == 0 and "--store URI" in result.stdout, command


# --- a crawl -----------------------------------------------------------------------------


@pytest.mark.e2e
def test_a_crawl_into_linkwatch_store_stores_the_ground_truth(tmp_path):
    from crawler.testing.fixtureweb import FixtureServer, build_web

    web = build_web(version=1)
    db = tmp_path / "by-uri.db"
    with FixtureServer(web) as server:
        result = run_crawl(
            {"seeds": ",".join(web.seeds), "watch": ",".join(web.watch)},
            crawl_env(server.proxy_url, LINKWATCH_DB=str(tmp_path / "alias.db")),
            settings={"LINKWATCH_STORE": f"sqlite:///{db}"},
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert_clean_log(result.stderr)
    assert not (tmp_path / "alias.db").exists(), "LINKWATCH_STORE comes before LINKWATCH_DB"
    assert_edges_equal(sqlite_edges(db), web.truth_edges)


def test_a_crawl_with_an_unknown_scheme_stops_at_its_start_in_one_line(tmp_path):
    result = run_crawl(
        {"seeds": "http://a.test/", "watch": "mysite.test"},
        crawl_env("http://127.0.0.1:9"),
        settings={"LINKWATCH_STORE": "postgres://lw:s3cret@db/x"},
        timeout=60,
    )
    # A usage error: one line and exit 2, before Scrapy starts anything.
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unknown scheme 'postgres'" in lines[0], result.stderr[-3000:]
    assert "s3cret" not in result.stderr and "Traceback" not in result.stderr
