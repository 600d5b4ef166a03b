"""The journal of an embedded crawl: its queue and seen-set in a SQLite file,
so the same command resumes it after Ctrl-C, SIGKILL or a power cut.

One file holds any number of crawls, each under its crawl key (`crawl_key`:
a digest of what the command asked for). A crawl is a `crawls` row (its key
and when it started, "%Y-%m-%dT%H:%M:%SZ" UTC) and a `requests` row per URL
it ever queued: the request as JSON (crawler/frontier/serializer.py) and its
state, `queued` until the page is done, then `done`. Every URL of a crawl,
done or not, is its seen-set.

Writes are batched: `enqueue` and `done` only append to memory, and `flush`
writes everything appended so far in one transaction, in the order it came
(a page's links are never behind its done mark). A flush is durable when it
returns (WAL, synchronous=FULL: the journal must be at least as durable as the
store it runs beside); what was not flushed is lost with the process, as a
crash would lose it.

Threads: `enqueue` and `done` are called on the crawl's thread and take only a
short lock around two lists; `flush` may be called from any thread (the store's
writer thread calls it before each batch it commits) and holds a second lock
for the connection while it writes, so the crawl's thread never waits for the
disk. Pure: sqlite3 and threading, no Scrapy, no clock (the caller says when a
crawl started).
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

# The format of the file (PRAGMA user_version); a newer one is refused.
VERSION = 1
# Seconds a flush waits for another process writing the same file.
BUSY_TIMEOUT = 30.0

QUEUED = "queued"
DONE = "done"

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS crawls (
        key TEXT PRIMARY KEY,
        started_at TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS requests (
        crawl TEXT NOT NULL,
        url TEXT NOT NULL,
        state TEXT NOT NULL,
        request BLOB NOT NULL,
        PRIMARY KEY (crawl, url)
    )""",
)


class JournalError(Exception):
    """The journal could not be read or written; `transient`: another
    process holds the file (retrying may help), else the disk refused."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def journal_error(exc: sqlite3.Error) -> JournalError:
    text = str(exc)
    return JournalError(text, transient="locked" in text or "busy" in text)


def crawl_key(spider: str, arguments: Mapping[str, Any], store: str = "") -> str:
    """The key of a crawl: the same spider, arguments and store give the same
    key (argument order and spelling aside: they are parsed values)."""
    text = orjson.dumps(
        {"spider": spider, "arguments": dict(arguments), "store": store},
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(text).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Crawl:
    """A crawl in the journal: its key, when it started, and whether it was
    there before this process (an unfinished crawl to resume)."""

    key: str
    started_at: str
    resumed: bool
    # An unfinished crawl of the key was discarded (restart).
    discarded: bool = False


class Journal:
    """One crawl's queue and seen-set in a journal file; see the module docstring.

    Opening it starts the crawl under `key` at `started_at`, or resumes the
    unfinished one of that key (keeping its start); `restart` discards an
    unfinished one first.
    """

    def __init__(self, path: str, key: str, *, started_at: str, restart: bool = False) -> None:
        self.path = path
        self.key = key
        # Appended on the crawl's thread, taken by `flush` (under `_buffer_lock`).
        self._queued: list[tuple[str, str, bytes]] = []
        self._done: list[tuple[str, str]] = []
        self._buffer_lock = threading.Lock()
        # The connection, used by one flush (or read) at a time.
        self._io_lock = threading.Lock()
        self.closed = False
        try:
            self.db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise journal_error(exc) from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            # One transaction: a new file is made in one write.
            with self._transaction():
                self._prepare()
                self.crawl = self._begin(started_at, restart)
        except sqlite3.Error as exc:
            self.db.close()
            raise journal_error(exc) from None
        except JournalError:
            self.db.close()
            raise

    def _prepare(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > VERSION:
            raise JournalError(
                f"{self.path} was written by a newer linkwatch (format {version})",
                transient=False,
            )
        for statement in SCHEMA:
            self.db.execute(statement)
        if version < VERSION:
            self.db.execute(f"PRAGMA user_version = {VERSION}")

    def _begin(self, started_at: str, restart: bool) -> Crawl:
        discarded = self._delete() if restart else False
        row = self.db.execute(
            "SELECT started_at, EXISTS (SELECT 1 FROM requests WHERE crawl = ?) "
            "FROM crawls WHERE key = ?",
            (self.key, self.key),
        ).fetchone()
        if row is not None and row[1]:
            return Crawl(self.key, row[0], resumed=True)
        # New, or one that stopped before it queued anything: it starts now.
        self.db.execute(
            "INSERT OR REPLACE INTO crawls (key, started_at) VALUES (?, ?)",
            (self.key, started_at),
        )
        return Crawl(self.key, started_at, resumed=False, discarded=discarded)

    # --- reading (at the start of a crawl) -------------------------------------------

    def urls(self) -> Iterator[tuple[str, bool]]:
        """Every URL of the crawl (its seen-set), and whether its page is done;
        the connection is held until the iteration ends."""
        with self._io_lock:
            for url, done in self.db.execute(
                "SELECT url, state = ? FROM requests WHERE crawl = ?", (DONE, self.key)
            ):
                yield url, bool(done)

    def queued(self) -> list[tuple[str, bytes]]:
        """The requests not done yet, in the order they were queued: (URL, JSON)."""
        with self._io_lock:
            return self.db.execute(
                "SELECT url, request FROM requests WHERE crawl = ? AND state = ? ORDER BY rowid",
                (self.key, QUEUED),
            ).fetchall()

    def counts(self) -> tuple[int, int]:
        """(requests queued, requests done), as flushed."""
        with self._io_lock:
            row = self.db.execute(
                "SELECT COALESCE(SUM(state = ?), 0), COALESCE(SUM(state = ?), 0) "
                "FROM requests WHERE crawl = ?",
                (QUEUED, DONE, self.key),
            ).fetchone()
        return int(row[0]), int(row[1])

    # --- writing: batched ------------------------------------------------------------

    def enqueue(self, url: str, request: bytes) -> None:
        """A new request of the crawl (kept as it is if the URL is known); written
        by the next flush."""
        with self._buffer_lock:
            self._queued.append((self.key, url, request))

    def done(self, url: str) -> None:
        """The page of `url` is done; written by the next flush, after every
        request enqueued before."""
        with self._buffer_lock:
            self._done.append((self.key, url))

    @property
    def pending(self) -> int:
        """Entries appended and not flushed yet."""
        return len(self._queued) + len(self._done)

    def flush(self) -> None:
        """Write everything appended so far, durably, in one transaction; on
        failure it stays appended for the next flush (JournalError)."""
        with self._io_lock:
            if self.closed:
                return  # a flush that came too late: close() flushed
            with self._buffer_lock:
                queued, self._queued = self._queued, []
                done, self._done = self._done, []
            if not queued and not done:
                return
            try:
                with self._transaction():
                    self.db.executemany(
                        "INSERT OR IGNORE INTO requests (crawl, url, state, request) "
                        f"VALUES (?, ?, '{QUEUED}', ?)",
                        queued,
                    )
                    self.db.executemany(
                        f"UPDATE requests SET state = '{DONE}' WHERE crawl = ? AND url = ?", done
                    )
            except sqlite3.Error as exc:
                with self._buffer_lock:
                    self._queued[:0] = queued
                    self._done[:0] = done
                raise journal_error(exc) from None

    def forget(self) -> None:
        """Delete the crawl (it finished): the next one under its key is new.
        What was appended and not flushed is dropped with it."""
        with self._io_lock:
            with self._buffer_lock:
                self._queued, self._done = [], []
            try:
                with self._transaction():
                    self._delete()
            except sqlite3.Error as exc:
                raise journal_error(exc) from None

    def close(self) -> None:
        """Flush, then close the file (closed even if the flush fails)."""
        try:
            self.flush()
        finally:
            with self._io_lock:
                self.closed = True
                self.db.close()

    # --- helpers ---------------------------------------------------------------------

    def _delete(self) -> bool:
        """Delete the crawl; True if it had requests."""
        deleted = self.db.execute("DELETE FROM requests WHERE crawl = ?", (self.key,)).rowcount
        self.db.execute("DELETE FROM crawls WHERE key = ?", (self.key,))
        return deleted > 0

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on an exception: the write lock
    is taken at the start, so two processes on one file wait, never deadlock."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                self.db.execute("COMMIT")
        finally:
            # A failed statement or COMMIT (a full disk) may have ended it already.
            if self.db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
