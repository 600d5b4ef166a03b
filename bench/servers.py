"""Redis and FerretDB for the benchmarks: crawler/testing/servers.py's servers, tuned for measuring.

The test suite's RedisServer fsyncs every write (`appendfsync always`), which a
benchmark of CPU cost should not charge to anyone. Here Redis runs as deployed:
with an append-only file fsynced once a second (`everysec`), or with no
persistence at all where only memory is measured.
"""

from __future__ import annotations

from pathlib import Path

from crawler.testing.servers import FerretDBServer, RedisServer, ServerUnavailable

__all__ = ["BenchRedis", "ServerUnavailable", "bench_ferretdb", "bench_redis"]


class BenchRedis(RedisServer):
    def __init__(self, data_dir: Path, appendonly: bool) -> None:
        self.appendonly = appendonly
        super().__init__(data_dir=data_dir, appendfsync="everysec")

    def _argv(self) -> list[str]:
        argv = super()._argv()
        if not self.appendonly:
            argv[argv.index("--appendonly") + 1] = "no"
        return argv


def bench_redis(workdir: Path, appendonly: bool = True) -> BenchRedis:
    """A started redis-server on 127.0.0.1 (use as a context manager to stop it)."""
    return BenchRedis(workdir / "redis", appendonly).start()


def bench_ferretdb(workdir: Path) -> FerretDBServer:
    return FerretDBServer(data_dir=workdir / "ferretdb").start()
