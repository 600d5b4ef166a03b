"""The test servers themselves: start, stop, restart with data kept, and a user's own URL."""

from __future__ import annotations

import os
import socket
import stat
from typing import TYPE_CHECKING

import pytest

from crawler.testing.servers import (
    ExternalServer,
    FerretDBServer,
    RedisServer,
    ServerUnavailable,
    find_binary,
    mongo_uri_or_start,
    redis_url_or_start,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def _server(cls: type[RedisServer] | type[FerretDBServer]) -> RedisServer | FerretDBServer:
    try:
        return cls()
    except ServerUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with _server(RedisServer) as server:
        yield server


@pytest.fixture
def ferretdb() -> Iterator[FerretDBServer]:
    with _server(FerretDBServer) as server:
        yield server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- Redis ----------------------------------------------------------------------------


@pytest.mark.redis
def test_redis_restart_keeps_data_port_and_url(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.rpush("q", "a", "b")
    url, pid = redis_server.url, redis_server.pid

    redis_server.stop()
    assert not redis_server.running
    with pytest.raises(Exception, match=r"(?i)connect"):
        client.ping()

    redis_server.start()
    assert redis_server.url == url
    assert redis_server.pid != pid
    assert client.lrange("q", 0, -1) == [b"a", b"b"]


@pytest.mark.redis
def test_redis_kill_loses_no_acknowledged_write(redis_server: RedisServer) -> None:
    client = redis_server.client()
    for i in range(200):
        client.set(f"k{i}", i)
    with client.pipeline() as pipe:
        for i in range(2000):
            pipe.lpush("frontier", i)
        pipe.execute()

    redis_server.kill()
    redis_server.start()

    assert client.get("k199") == b"199"
    assert client.llen("frontier") == 2000


@pytest.mark.redis
def test_redis_config_loopback_aof_no_rdb(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = redis_server.client(decode_responses=True).config_get("*")
    assert config["bind"] == "127.0.0.1"
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "always"
    assert config["save"] == ""
    assert config["dir"] == str(redis_server.data_dir)

    monkeypatch.chdir(tmp_path)
    server = RedisServer()
    with server:
        server.client().set("x", 1)
        server.stop()
        assert not (server.data_dir / "dump.rdb").exists()
    assert list(tmp_path.iterdir()) == []
    assert not server.data_dir.exists()


# -- FerretDB -------------------------------------------------------------------------


@pytest.mark.mongo
def test_ferretdb_restart_and_kill_keep_documents(ferretdb: FerretDBServer) -> None:
    url = ferretdb.url
    with ferretdb.client() as client:
        client.lw.edges.insert_many([{"n": i} for i in range(50)])
    ferretdb.stop()
    assert not ferretdb.running
    ferretdb.start()
    assert ferretdb.url == url
    with ferretdb.client() as client:
        assert client.lw.edges.count_documents({}) == 50
        client.lw.edges.insert_one({"n": 50})

    ferretdb.kill()
    ferretdb.start()
    with ferretdb.client() as client:
        assert client.lw.edges.count_documents({}) == 51


@pytest.mark.mongo
def test_ferretdb_writes_only_into_its_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with _server(FerretDBServer) as server, server.client() as client:
        client.lw.pages.insert_one({"url": "https://example.com/"})
    assert list(tmp_path.iterdir()) == []


# -- a user's own server ----------------------------------------------------------------


@pytest.mark.redis
def test_redis_url_env_is_honoured_and_never_stopped(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    with redis_url_or_start() as handle:
        assert isinstance(handle, ExternalServer)
        assert handle.url == redis_server.url
        with pytest.raises(ServerUnavailable, match="REDIS_URL"):
            handle.stop()
    assert redis_server.client().ping()


@pytest.mark.mongo
def test_mongo_uri_env_is_honoured_and_never_stopped(
    ferretdb: FerretDBServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MONGO_URI", ferretdb.url)
    with mongo_uri_or_start() as handle:
        assert isinstance(handle, ExternalServer)
        assert handle.url == ferretdb.url
        with pytest.raises(ServerUnavailable, match="MONGO_URI"):
            handle.kill()
    with ferretdb.client() as client:
        assert client.admin.command("ping")["ok"] == 1


def test_unreachable_env_url_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _closed_port()
    monkeypatch.setenv("REDIS_URL", f"redis://:secret@127.0.0.1:{port}/0")
    with pytest.raises(ServerUnavailable, match=r"^REDIS_URL=redis://:\*\*\*@127") as info:
        redis_url_or_start()
    assert "secret" not in str(info.value)


@pytest.mark.redis
@pytest.mark.mongo
def test_without_env_our_servers_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("MONGO_URI", raising=False)
    try:
        redis_handle = redis_url_or_start()
        mongo_handle = mongo_uri_or_start()
    except ServerUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    with redis_handle, mongo_handle:
        assert isinstance(redis_handle, RedisServer)
        assert isinstance(mongo_handle, FerretDBServer)
        assert redis_handle.running and mongo_handle.running
    assert not redis_handle.running and not mongo_handle.running


# -- finding binaries ---------------------------------------------------------------------


def _executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_find_binary_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on_path = _executable(tmp_path / "path" / "ferretdb")
    cached = _executable(tmp_path / "cache" / "linkwatch" / "bin" / "ferretdb")
    explicit = _executable(tmp_path / "mine" / "ferretdb-1.24")
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    monkeypatch.setenv("LINKWATCH_FERRETDB", str(explicit))
    assert find_binary("ferretdb") == str(explicit)
    monkeypatch.delenv("LINKWATCH_FERRETDB")
    assert find_binary("ferretdb") == str(cached)
    cached.unlink()
    assert find_binary("ferretdb") == str(on_path)
    on_path.unlink()
    assert find_binary("ferretdb") is None

    monkeypatch.setenv("LINKWATCH_FERRETDB", str(tmp_path / "nowhere"))
    with pytest.raises(ServerUnavailable, match="LINKWATCH_FERRETDB"):
        find_binary("ferretdb")


def test_missing_binaries_name_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("LINKWATCH_FERRETDB", "LINKWATCH_REDIS_SERVER"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    with pytest.raises(ServerUnavailable, match=r"install-test-servers\.sh") as info:
        FerretDBServer()
    assert "\n" not in str(info.value)
    with pytest.raises(ServerUnavailable, match="apt-get install -y redis-server"):
        RedisServer()
