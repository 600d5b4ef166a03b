"""Who may ask the dashboard what, as one ASGI middleware.

- Read-only: GET and HEAD only; any other method is 405 before a route runs
  (no route writes either: the stores are opened read-only, pool.py).
- A token, when one is set (`--token-file`, LINKWATCH_SERVE_TOKEN; required
  for any address but loopback): `Authorization: Bearer TOKEN`, or a cookie
  set by visiting once with `?token=TOKEN` (then redirected to the same URL
  without it, so it leaves the address bar and the history). Compared with
  hmac.compare_digest: the time taken does not tell how much of a guess was
  right. No token: 401; a wrong one: 403.
- Allowed hosts: bound to loopback without a token, the Host header must name
  loopback (localhost, 127.0.0.1, [::1]): a web page elsewhere cannot reach
  the dashboard through DNS rebinding.
- Headers: a Content-Security-Policy allowing this origin's scripts and styles
  only (no inline script), no framing, no referrer, no sniffing.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

import orjson

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "linkwatch_token"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
READ_METHODS = frozenset({"GET", "HEAD"})


def tokens_match(given: str, expected: str) -> bool:
    """Whether `given` is the token, in time independent of where they differ."""
    return hmac.compare_digest(given.encode(), expected.encode())


class Guard:
    """The middleware: methods, hosts, the token, the headers (module docstring)."""

    def __init__(self, app: ASGIApp, *, token: str | None, loopback_only: bool) -> None:
        self.app = app
        self.token = token
        self.loopback_only = loopback_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            status, message, extra = refusal
            await _answer(send, status, message, extra)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)

    def _refusal(
        self, scope: Scope, headers: dict[str, str]
    ) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        if scope["method"] not in READ_METHODS:
            return 405, "the dashboard is read-only: GET and HEAD only", [(b"allow", b"GET, HEAD")]
        if self.loopback_only and _host_name(headers.get("host", "")) not in LOOPBACK_HOSTS:
            return 403, "this dashboard answers on localhost only", []
        if self.token is None or scope["path"] == "/healthz":
            return None
        pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given_in_query = [value for name, value in pairs if name == "token"]
        if given_in_query:
            if not tokens_match(given_in_query[-1], self.token):
                return 403, "wrong token", []
            # Into a cookie, and out of the address bar: back to this path (as it
            # came, still encoded; never "//host", which a browser reads as another
            # site) with every other parameter.
            rest = urlencode([(k, v) for k, v in pairs if k != "token"])
            raw = scope.get("raw_path") or scope["path"].encode()
            path = "/" + raw.decode("latin-1").lstrip("/")
            location = path + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/"
            return (
                303,
                "signed in",
                [
                    (b"location", location.encode()),
                    (b"set-cookie", cookie.encode()),
                ],
            )
        given = _given_token(headers)
        if given is None:
            return (
                401,
                "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN once",
                [(b"www-authenticate", b'Bearer realm="linkwatch"')],
            )
        if not tokens_match(given, self.token):
            return 403, "wrong token", []
        return None


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0].lower()


def _given_token(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is no token
        return None
    morsel = cookie.get(COOKIE)
    return None if morsel is None else morsel.value


async def _answer(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = orjson.dumps({"error": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra,
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
