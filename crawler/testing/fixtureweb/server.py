"""Serve a FixtureWeb over HTTP/1.1 the way a forward proxy sees traffic.

Scrapy reaches the fixture web through ``http_proxy=http://127.0.0.1:PORT``, so
requests arrive in absolute form (``GET http://blog.alpha.test/x HTTP/1.1``);
the server routes on the URL's host (or on the Host header for origin-form
requests), so any host name works without DNS. Keep-alive; ``CONNECT`` (what an
https fetch through a proxy sends) is answered 405; an unknown host 404.

Routing is lenient the way a real server is: the request-target is brought to
canonical form before lookup (host case, ``:80``, fragment, dot segments,
escapes of unreserved characters, utm_*/gclid/fbclid parameters), so a crawler
that requests a non-canonical spelling still reaches the page, and the access
log's ``url`` shows which page it was (``path`` keeps what was sent).

Conditional requests (RFC 9110 section 13.2.2): a response that carries an
``ETag`` is answered ``304 Not Modified`` (no body, the ETag repeated) when the
request's ``If-None-Match`` names it (weak comparison; ``*`` matches any), or,
without an If-None-Match, when its ``If-Modified-Since`` is at or after the
``Last-Modified``. ``validators=False`` drops both headers and never answers
304: a server without validators, the baseline of a benchmark.

Access log: one JSON object per request (``method``, ``host``, ``path``,
``url``, ``status``, ``bytes`` of body sent, ``conditional``: whether it had an
If-None-Match, ``start``, ``end``; times from ``time.monotonic()``, which is
system-wide, so entries of a server process compare with a test's clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .generator import FixtureWeb

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_TRACKING = frozenset({"gclid", "fbclid"})
_MAX_HEAD = 64 * 1024
_VALIDATORS = frozenset(("etag", "last-modified"))
# Sent with a 304 when the 200 would carry them (RFC 9110 section 15.4.5).
_KEPT_BY_304 = frozenset(("etag", "cache-control", "expires", "vary", "content-location"))


def _fix_escapes(text: str) -> str:
    def sub(m: re.Match[str]) -> str:
        ch = chr(int(m.group(1), 16))
        return ch if ch in _UNRESERVED else "%" + m.group(1).upper()

    text = _ESCAPE.sub(sub, text)
    if not text.isascii() or " " in text:  # raw bytes on the request line
        text = "".join(c if c.isascii() and c != " " else f"%{ord(c):02X}" for c in text)
    return text


def _remove_dot_segments(path: str) -> str:
    segments = path.split("/")[1:]
    out: list[str] = []
    for seg in segments:
        if seg == "..":
            if out:
                out.pop()
        elif seg != ".":
            out.append(seg)
    if segments and segments[-1] in (".", ".."):
        out.append("")
    return "/" + "/".join(out)


def canonical_target(target: str) -> str:
    """Path and query of a request-target in the web's canonical form."""
    target = target.split("#", 1)[0]
    path, sep, query = target.partition("?")
    path = _remove_dot_segments(_fix_escapes(path or "/"))
    if not sep:
        return path
    params = [
        p
        for p in query.split("&")
        if not (
            p.split("=", 1)[0].lower().startswith("utm_") or p.split("=", 1)[0].lower() in _TRACKING
        )
    ]
    query = "&".join(params)
    return f"{path}?{_fix_escapes(query)}" if query else path


def route(target: str, host_header: str | None) -> tuple[str, str] | None:
    """``(host, path)`` a request is for: the routed netloc (lower-case, default
    port dropped) and the canonical path; None if it names no host."""
    scheme = "http"
    if "://" in target:
        scheme, rest = target.split("://", 1)
        scheme = scheme.lower()
        cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
        netloc, target = rest[:cut], rest[cut:]
        if not target.startswith("/"):
            target = "/" + target
    elif target.startswith("/") and host_header:
        netloc = host_header
    else:
        return None
    netloc = netloc.rsplit("@", 1)[-1].lower()
    host, colon, port = netloc.rpartition(":")
    if not colon or "]" in port:
        host, port = netloc, ""
    host = host.rstrip(".")
    if not host:
        return None
    default_port = "80" if scheme == "http" else "443"
    netloc = host if port in ("", default_port) else f"{host}:{port}"
    return netloc, canonical_target(target)


def _entity_tags(value: str) -> list[str]:
    """The opaque tags of an If-None-Match list, weak prefixes dropped."""
    tags = []
    for part in value.split(","):
        tag = part.strip()
        tags.append(tag[2:] if tag.startswith("W/") else tag)
    return tags


def not_modified(headers: tuple[tuple[str, str], ...], request: dict[str, str]) -> bool:
    """Whether a 200 with these headers is answered 304 to a request with
    these (lower-case) headers: RFC 9110 section 13.2.2, for GET and HEAD."""
    ours = {k.lower(): v for k, v in headers}
    if "if-none-match" in request:  # it takes precedence over If-Modified-Since
        tag = ours.get("etag")
        if tag is None:
            return False
        tags = _entity_tags(request["if-none-match"])
        return "*" in tags or tag.removeprefix("W/") in tags
    since, modified = request.get("if-modified-since"), ours.get("last-modified")
    if since is None or modified is None:
        return False
    try:
        return parsedate_to_datetime(modified) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False  # not an HTTP date: ignored, as RFC 9110 says


def read_access_log(path: str | Path) -> list[dict[str, Any]]:
    """The entries of an access-log file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def max_concurrency(entries: list[dict[str, Any]]) -> dict[str, int]:
    """Host → the most requests that host was serving at the same time."""
    events: dict[str, list[tuple[float, int]]] = {}
    for e in entries:
        ev = events.setdefault(e["host"], [])
        ev.append((e["start"], 1))
        ev.append((e["end"], -1))
    out: dict[str, int] = {}
    for host, ev in events.items():
        ev.sort()  # at equal times an end (-1) sorts before a start (+1)
        now = best = 0
        for _, step in ev:
            now += step
            best = max(best, now)
        out[host] = best
    return out


class FixtureServer:
    """The fixture web on a local port, as an HTTP proxy.

    Use it as a context manager (pytest: the asyncio loop runs in a background
    thread), or ``await start_async()`` / ``await close_async()`` inside a loop
    (the CLI). ``delay`` adds that many seconds of latency to every response;
    ``validators=False`` serves no ETag nor Last-Modified, and never a 304.
    """

    def __init__(
        self,
        web: FixtureWeb,
        host: str = "127.0.0.1",
        port: int = 0,
        access_log: str | Path | None = None,
        delay: float = 0.0,
        validators: bool = True,
    ) -> None:
        self.web = web
        self.validators = validators
        self.host = host
        self.port = port
        self.access_log = Path(access_log) if access_log is not None else None
        self.delay = delay
        self._entries: list[dict[str, Any]] = []
        self._log_file: Any = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def proxy_env(self) -> dict[str, str]:
        """Environment variables that send a Scrapy process through this server."""
        return {"http_proxy": self.proxy_url, "https_proxy": self.proxy_url}

    def access_log_entries(self) -> list[dict[str, Any]]:
        if self.access_log is not None:
            return read_access_log(self.access_log) if self.access_log.exists() else []
        return list(self._entries)

    # -- asyncio API --------------------------------------------------------------

    async def start_async(self) -> None:
        if self.access_log is not None:
            self._log_file = open(self.access_log, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        self._server = await asyncio.start_server(
            self._on_connect, self.host, self.port, limit=_MAX_HEAD, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def close_async(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    # -- thread API ---------------------------------------------------------------

    def start(self) -> FixtureServer:
        ready = threading.Event()
        error: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:
                error.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.close_async())
                loop.close()

        self._thread = threading.Thread(target=run, name="fixtureweb-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if error:
            raise error[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._thread = None
            self._loop = None

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- HTTP -----------------------------------------------------------------------

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                self._write(writer, "GET", 431, (), b"request head too large\n", close=True)
                return
            except asyncio.IncompleteReadError:
                return
            start = time.monotonic()
            lines = head[:-4].decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                self._write(writer, "GET", 400, (), b"bad request line\n", close=True)
                return
            method, target, version = parts
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = headers.get("content-length", "0")
            if headers.get("transfer-encoding") or not length.isdigit():
                self._write(writer, method, 400, (), b"request bodies are not supported\n", True)
                return
            if int(length):
                await reader.readexactly(int(length))
            connection = headers.get("connection", headers.get("proxy-connection", "")).lower()
            close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")

            routed = None if method == "CONNECT" else route(target, headers.get("host"))
            status, extra, body = self._answer(method, routed, headers)
            close = close or method == "CONNECT"
            if self.delay:
                await asyncio.sleep(self.delay)
            sent = self._write(writer, method, status, extra, body, close)
            await writer.drain()
            self._log(method, target, headers, routed, status, start, sent=sent)
            if close:
                return

    def _answer(
        self, method: str, routed: tuple[str, str] | None, request: dict[str, str]
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        """Status, headers and body of the response to a parsed request."""
        allow = (("Allow", "GET, HEAD"),)
        if method == "CONNECT":  # an https fetch through the proxy
            return 405, allow, b"no CONNECT: the fixture web is plain http\n"
        if method not in ("GET", "HEAD"):
            return 405, allow, b"GET and HEAD only\n"
        if routed is None:
            return 400, (), b"no host in the request\n"
        resp = self.web.responses.get(*routed)
        if resp is None:
            return 404, (), f"unknown host {routed[0]}\n".encode()
        if not self.validators:
            return (
                resp.status,
                tuple(h for h in resp.headers if h[0].lower() not in _VALIDATORS),
                resp.body,
            )
        if resp.status == 200 and not_modified(resp.headers, request):
            return 304, tuple(h for h in resp.headers if h[0].lower() in _KEPT_BY_304), b""
        return resp.status, resp.headers, resp.body

    def _log(
        self,
        method: str,
        target: str,
        headers: dict[str, str],
        routed: tuple[str, str] | None,
        status: int,
        start: float,
        sent: int = 0,
    ) -> None:
        host_header = headers.get("host", "")
        if routed:
            host = routed[0]
        elif method == "CONNECT":  # the target is host:port
            host = target.lower().removesuffix(":443")
        else:
            host = host_header.lower()
        path = target
        if "://" in target:  # absolute form: keep what follows the authority
            rest = target.split("://", 1)[1]
            cut = min((i for i in (rest.find(c) for c in "/?") if i >= 0), default=len(rest))
            path = rest[cut:] or "/"
        entry = {
            "method": method,
            "host": host,
            "path": path,
            "url": f"http://{routed[0]}{routed[1]}" if routed else None,
            "status": status,
            "bytes": sent,
            "conditional": "if-none-match" in headers,
            "start": start,
            "end": time.monotonic(),
        }
        if self._log_file is not None:
            self._log_file.write(json.dumps(entry) + "\n")
        else:
            self._entries.append(entry)

    @staticmethod
    def _write(
        writer: asyncio.StreamWriter,
        method: str,
        status: int,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        close: bool = False,
    ) -> int:
        """Write a response; returns the bytes of body sent."""
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        bodiless = status == 304  # no body, no Content-Length (RFC 9110 section 8.6)
        if not bodiless and all(k.lower() != "content-type" for k, _ in headers):
            headers = (("Content-Type", "text/plain; charset=utf-8"), *headers)
        lines = [f"HTTP/1.1 {status} {reason}", "Server: linkwatch-fixtureweb"]
        lines += [f"{k}: {v}" for k, v in headers]
        if not bodiless:
            lines.append(f"Content-Length: {len(body)}")
        if close:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if method == "HEAD" or bodiless:
            writer.write(head)
            return 0
        writer.write(head + body)
        return len(body)
