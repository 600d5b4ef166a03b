"""Real Redis and FerretDB (MongoDB wire protocol) servers for the test suite.

Tests run against real servers, not fakes: ``RedisServer`` runs Debian's ``redis-server``,
``FerretDBServer`` runs FerretDB v1 with its SQLite backend. Each listens on a free port of
127.0.0.1 only and keeps its data in a private directory, so ``stop()`` then ``start()`` (or
``kill()`` then ``start()``) brings back the same server on the same port with the same data:
that is how tests prove a crawl loses nothing when a server goes away mid-crawl.

``redis_url_or_start()`` and ``mongo_uri_or_start()`` honour a user's own server named by
``REDIS_URL`` / ``MONGO_URI``; such a server is used as is and never stopped. A missing binary
raises ``ServerUnavailable`` with a one-line message naming the install command
(``deploy/install-test-servers.sh``); conftest.py decides whether that skips or fails.

Plain module, no pytest: servers are started and stopped by the caller, also as context
managers. Servers still running when the interpreter exits are stopped by ``atexit``, and on
Linux they receive SIGTERM should the test process die (PR_SET_PDEATHSIG; it fires when the
*thread* that started the server ends, so start servers from the main thread).

Over 400 lines: two servers' whole lifecycle (find or build the binary, start on a
free port, wait, stop, restart on the same data) share one base class here.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pymongo
import redis

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self

INSTALL_SCRIPT = "deploy/install-test-servers.sh"
FERRETDB_VERSION = "v1.24.2"

# Why /dev/shm: `appendfsync always` and SQLite's commits fsync on every write; on tmpfs that
# costs nothing, while data still outlives a server restart. Used only when roomy enough
# (a container's default /dev/shm is 64 MB; Redis rewrites its AOF only past 64 MB).
_SHM = Path("/dev/shm")
_SHM_MIN_FREE = 1 << 30

_START_TIMEOUT = 30.0
_STOP_TIMEOUT = 15.0


class ServerUnavailable(RuntimeError):
    """A server the tests need cannot be had: binary missing, or the user's server is down.

    The message is one line and says how to fix it.
    """


class ServerFailed(RuntimeError):
    """A server binary is there but would not start (the message ends with its log)."""


def find_binary(name: str) -> str | None:
    """Return the path of executable ``name``, or None.

    Looks at env ``LINKWATCH_<NAME>`` (``ferretdb`` → ``LINKWATCH_FERRETDB``,
    ``redis-server`` → ``LINKWATCH_REDIS_SERVER``), then
    ``${XDG_CACHE_HOME:-~/.cache}/linkwatch/bin/<name>``, then ``PATH``. An env variable
    naming something that is not an executable file raises ``ServerUnavailable``.
    """
    env_var = "LINKWATCH_" + name.upper().replace("-", "_")
    explicit = os.environ.get(env_var)
    if explicit:
        if _is_executable(Path(explicit)):
            return explicit
        raise ServerUnavailable(f"{env_var}={explicit} is not an executable file")
    cached = cache_bin_dir() / name
    if _is_executable(cached):
        return str(cached)
    return shutil.which(name)


def cache_bin_dir() -> Path:
    """Where deploy/install-test-servers.sh puts the binaries it builds."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "linkwatch" / "bin"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _default_base_dir() -> str:
    override = os.environ.get("LINKWATCH_TEST_TMPDIR")
    if override:
        return override
    with contextlib.suppress(OSError):
        stat = os.statvfs(_SHM)
        if stat.f_bavail * stat.f_frsize >= _SHM_MIN_FREE and os.access(_SHM, os.W_OK):
            return str(_SHM)
    return tempfile.gettempdir()


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if _libc is not None:
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


# Servers not yet closed: at exit, kill them and remove the directories we made.
_unclosed: set[_ManagedServer] = set()


@atexit.register
def _clean_up_at_exit() -> None:
    for server in list(_unclosed):
        server.kill()
        server.close()


class _ManagedServer:
    """A server process we own: fixed port and data directory across restarts."""

    external = False
    _name = "server"

    def __init__(
        self,
        binary: str,
        *,
        port: int | None = None,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.binary = binary
        self._port_fixed = port is not None
        self.port = port if port is not None else _free_port()
        self._own_dir = data_dir is None
        if data_dir is None:
            data_dir = tempfile.mkdtemp(prefix=f"linkwatch-{self._name}-", dir=_default_base_dir())
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.data_dir / f"{self._name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._started_once = False
        self._log_offset = 0
        _unclosed.add(self)

    # -- to be provided by subclasses ------------------------------------------------------
    @property
    def url(self) -> str:
        raise NotImplementedError

    def _argv(self) -> list[str]:
        raise NotImplementedError

    def _answers(self) -> bool:
        raise NotImplementedError

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    # -- lifecycle ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self.running and self._proc else None

    def start(self) -> Self:
        """Start the server (same port and data as before) and wait until it answers."""
        if self.running:
            return self
        # A port picked by _free_port() can be taken before the server binds it: pick
        # another, but only before the first start (restarts must keep their URL).
        attempts = 1 if self._port_fixed or self._started_once else 3
        for attempt in range(attempts):
            try:
                self._start_once()
            except ServerFailed:
                if attempt + 1 == attempts or not self._port_in_use_failure():
                    raise
                self.port = _free_port()
            else:
                self._started_once = True
                return self
        raise AssertionError("unreachable")

    def _start_once(self) -> None:
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                self._argv(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,  # nothing of ours lands in the caller's cwd
                env=self._env(),
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerFailed(
                    f"{self._name} exited with status {self._proc.returncode}: {self.log_tail()}"
                )
            if self._answers():
                return
            time.sleep(0.02)
        self.kill()
        raise ServerFailed(
            f"{self._name} did not answer within {_START_TIMEOUT:.0f} s: {self.log_tail()}"
        )

    def _port_in_use_failure(self) -> bool:
        return "address already in use" in self.log_tail().lower()

    def stop(self) -> None:
        """Shut down gracefully (SIGTERM; SIGKILL after a timeout). Data is kept."""
        self._signal_and_wait(signal.SIGTERM, _STOP_TIMEOUT)

    def kill(self) -> None:
        """SIGKILL: a crash. Data acknowledged before it is kept; nothing is flushed."""
        self._signal_and_wait(signal.SIGKILL, _STOP_TIMEOUT)

    def _signal_and_wait(self, sig: signal.Signals, timeout: float) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        """Stop the server and delete its data directory (if we created it)."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
        _unclosed.discard(self)

    def log_tail(self, lines: int = 5) -> str:
        """The last lines the server logged since its latest start, joined on one line."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:]) or "(empty log)"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.url} {state} dir={self.data_dir}>"


class RedisServer(_ManagedServer):
    """``redis-server`` on 127.0.0.1, with an append-only file so a restart keeps every key.

    ``appendfsync always`` by default: a write is on disk before Redis acknowledges it, so
    even ``kill()`` (SIGKILL) loses nothing. With ``everysec`` a SIGKILL usually loses
    nothing too, but not always (Redis postpones AOF writes while a slow fsync runs), and
    tests that prove "nothing is lost" must not be flaky. No RDB snapshots (``save ""``).
    ``password`` sets ``requirepass``; ``url`` then carries it (``redis://:pw@host:port/0``).
    """

    _name = "redis"

    def __init__(
        self,
        *,
        port: int | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        binary: str | None = None,
        appendfsync: str = "always",
        password: str | None = None,
    ) -> None:
        binary = binary or find_binary("redis-server")
        if binary is None:
            raise ServerUnavailable(
                "redis-server not found: run `apt-get install -y redis-server` "
                f"(or {INSTALL_SCRIPT}), or set REDIS_URL"
            )
        if appendfsync not in {"always", "everysec", "no"}:
            raise ValueError(f"appendfsync must be always, everysec or no: {appendfsync!r}")
        self.appendfsync = appendfsync
        self.password = password
        super().__init__(binary, port=port, data_dir=data_dir)

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def _argv(self) -> list[str]:
        return [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            # Bound to loopback only, so protected mode has nothing left to protect; off,
            # it cannot refuse a test client whatever address it comes from.
            "--protected-mode", "no",
            "--dir", str(self.data_dir),
            "--daemonize", "no",
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", self.appendfsync,
            "--logfile", "",  # stdout, which is our log file
        ] + (["--requirepass", self.password] if self.password else [])  # fmt: skip

    def _answers(self) -> bool:
        client = redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.password,
            socket_connect_timeout=0.5,
            socket_timeout=2,
        )
        try:
            return bool(client.ping())
        except redis.RedisError:  # includes BusyLoadingError while the AOF replays
            return False
        finally:
            client.close()

    def client(self, **kwargs: object) -> redis.Redis:
        """A redis-py client for this server."""
        return redis.Redis.from_url(self.url, **kwargs)


class FerretDBServer(_ManagedServer):
    """FerretDB v1 (MongoDB wire protocol) with its SQLite backend, on 127.0.0.1.

    Runs with telemetry off, its debug HTTP listener off and no ``FERRETDB_*`` variables
    from the environment. Every write is a committed
    SQLite transaction, so a restart, even after ``kill()``, keeps acknowledged documents.
    """

    _name = "ferretdb"

    def __init__(
        self,
        *,
        port: int | None = None,
        data_dir: str | os.PathLike[str] | None = None,
        binary: str | None = None,
    ) -> None:
        binary = binary or find_binary("ferretdb")
        if binary is None:
            raise ServerUnavailable(
                f"ferretdb not found: run {INSTALL_SCRIPT} (builds FerretDB {FERRETDB_VERSION} "
                f"into {cache_bin_dir()}), or set LINKWATCH_FERRETDB or MONGO_URI"
            )
        super().__init__(binary, port=port, data_dir=data_dir)

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def _argv(self) -> list[str]:
        return [
            self.binary,
            "--handler=sqlite",
            f"--sqlite-url=file:{self.data_dir}/",
            f"--state-dir={self.data_dir}",
            f"--listen-addr=127.0.0.1:{self.port}",
            "--telemetry=disable",
            "--debug-addr=-",
            # WARN logs every command FerretDB lacks (pymongo's endSessions, each close).
            "--log-level=ERROR",
        ]

    def _env(self) -> dict[str, str]:
        # FERRETDB_* variables set options too (auth setup, backend URLs): not in tests.
        return {k: v for k, v in os.environ.items() if not k.startswith("FERRETDB_")}

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                pass
        except OSError:
            return False
        try:
            with self.client(serverSelectionTimeoutMS=2000, connectTimeoutMS=1000) as client:
                client.admin.command("hello")
        except pymongo.errors.PyMongoError:
            return False
        return True

    def client(self, **kwargs: object) -> pymongo.MongoClient:
        """A pymongo client for this server."""
        return pymongo.MongoClient(self.url, **kwargs)


class ExternalServer:
    """A server the user named in the environment: used as is, never stopped or restarted.

    Has the same ``url`` / ``close()`` / context-manager surface as the servers we run;
    ``start()``, ``stop()`` and ``kill()`` raise ``ServerUnavailable``, so a test that needs
    to restart its server is skipped rather than taking down the user's.
    """

    external = True
    running = True

    def __init__(self, url: str, env_var: str) -> None:
        self.url = url
        self.env_var = env_var

    def _refuse(self) -> None:
        raise ServerUnavailable(
            f"{self.env_var} names a server these tests do not own; they cannot restart it"
        )

    def start(self) -> Self:
        self._refuse()
        return self

    def stop(self) -> None:
        self._refuse()

    def kill(self) -> None:
        self._refuse()

    def close(self) -> None:
        """Nothing to do: the user's server stays up."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<ExternalServer {self.env_var}={_redact(self.url)}>"


def redis_url_or_start(**kwargs: object) -> RedisServer | ExternalServer:
    """The Redis named by env ``REDIS_URL`` if set (checked with PING), else a started one.

    Keyword arguments go to ``RedisServer``. Call ``close()`` on the result when done.
    """
    url = os.environ.get("REDIS_URL")
    if url:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        try:
            client.ping()
        except redis.RedisError as exc:
            raise ServerUnavailable(
                f"REDIS_URL={_redact(url)} does not answer PING: {exc}"
            ) from None
        finally:
            client.close()
        return ExternalServer(url, "REDIS_URL")
    return RedisServer(**kwargs).start()  # type: ignore[arg-type]


def mongo_uri_or_start(**kwargs: object) -> FerretDBServer | ExternalServer:
    """The MongoDB named by env ``MONGO_URI`` if set (checked with ping), else a FerretDB.

    Keyword arguments go to ``FerretDBServer``. Call ``close()`` on the result when done.
    """
    uri = os.environ.get("MONGO_URI")
    if uri:
        try:
            with pymongo.MongoClient(uri, serverSelectionTimeoutMS=3000) as client:
                client.admin.command("ping")
        except pymongo.errors.PyMongoError as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ServerUnavailable(
                f"MONGO_URI={_redact(uri)} does not answer ping: {first_line}"
            ) from None
        return ExternalServer(uri, "MONGO_URI")
    return FerretDBServer(**kwargs).start()  # type: ignore[arg-type]
