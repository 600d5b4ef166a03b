"""Real local servers that receive alerts, for the tests: an HTTP webhook
receiver and an SMTP server (aiosmtpd), both on 127.0.0.1, each of which can be
told to refuse what it gets (a channel that is down) and to take it again.

    with WebhookReceiver() as hooks:
        hooks.url("team")              # http://127.0.0.1:PORT/team
        hooks.down.add("team")         # POSTs to /team answer 500 until removed
        hooks.moved.add("team")        # ... or a 302 to elsewhere
        hooks.received("team")         # the JSON bodies it took, in order

    with MailServer(login=("bot", "pw")) as mail:   # login: AUTH required (no TLS here)
        mail.uri("me@example.test")    # smtp://127.0.0.1:PORT/?from=...&to=me@...
        mail.down.add("me@example.test")   # RCPT TO: that address answers 451
        mail.received("me@example.test")  # email.message.EmailMessage objects
"""

from __future__ import annotations

import email
import json
import socket
import threading
from collections import defaultdict
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SENDER = "linkwatch@example.test"


class WebhookReceiver:
    """Takes JSON POSTs at /NAME; a name in `down` answers 500 instead."""

    def __init__(self) -> None:
        self.down: set[str] = set()
        self.moved: set[str] = set()
        self._received: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                name = self.path.strip("/")
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if name in receiver.moved:
                    self.send_response(302)
                    self.send_header("Location", "/elsewhere")
                    self.end_headers()
                    return
                if name in receiver.down:
                    self.send_response(500, "Down For The Test")
                    self.end_headers()
                    self.wfile.write(b"the receiver is down")
                    return
                with receiver._lock:
                    receiver._received[name].append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None: ...

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def received(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._received[name])

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class MailServer:
    """An SMTP server (aiosmtpd) that keeps every mail by recipient; an
    address in `down` is refused at RCPT TO with a temporary error."""

    def __init__(self, login: tuple[str, str] | None = None) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.down: set[str] = set()
        self._received: dict[str, list[email.message.EmailMessage]] = defaultdict(list)
        self._lock = threading.Lock()
        self.port = _free_port()
        auth: dict[str, Any] = {}
        if login is not None:

            def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
                given = (auth_data.login.decode(), auth_data.password.decode())
                return AuthResult(success=given == login, handled=False)

            auth = {"authenticator": authenticate, "auth_required": True,
                    "auth_require_tls": False}  # fmt: skip
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port, **auth)

    def uri(self, *recipients: str) -> str:
        to = "&".join(f"to={r}" for r in recipients)
        return f"smtp://127.0.0.1:{self.port}/?from={SENDER}&{to}"

    def received(self, recipient: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return list(self._received[recipient])

    def keep(self, recipients: list[str], content: bytes) -> None:
        message = email.message_from_bytes(content, policy=policy.default)
        with self._lock:
            for recipient in recipients:
                self._received[recipient].append(message)

    def __enter__(self) -> MailServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


class _Handler:
    def __init__(self, server: MailServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.server.down:
            return "451 4.3.0 down for the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.server.keep(list(envelope.rcpt_tos), envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
