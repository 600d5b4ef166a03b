"""Where alerts go, each channel named by a URI whose scheme chooses it
(CHANNELS, as Scrapy chooses a feed storage by scheme):

    https://hooks.example.com/...   a webhook: the message's JSON payload
                                    (message.py), POSTed; any 2xx is delivered
    smtp://[user:pass@]host[:port]/?from=ADDR&to=ADDR[&to=ADDR][&tls=starttls|ssl|none]
                                    a mail with a plain-text and an HTML part
    file:PATH, file:///abs/path     the JSON payload appended as one line

Webhooks go through urllib (stdlib): one POST per message needs no HTTP
library, and urllib brings proxies from the environment and certificate checks
by default. Redirects are refused, not followed: urllib would follow a 301/302
of a POST as a GET without the body and report success.

Mail goes through smtplib: `tls=ssl` connects over TLS (default port 465),
`tls=starttls` upgrades a plain connection (587), none of them is plain SMTP (25),
for a relay on the same machine or network. A password is sent only over TLS
unless `tls=none` says so explicitly. `to` may be repeated or comma-separated.

A channel is known to the store by `id`: the scheme and a digest of the URI
without its password, so a changed password keeps the channel's delivery
state and no credential reaches the store. What users see is `label`: the URI
with its password masked (crawler/credentials.py) and, for a webhook, its path
and query hidden too, since Slack, Discord and most others keep the secret there.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from crawler import __version__
from crawler.credentials import mask_url

if TYPE_CHECKING:
    from crawler.alerts.message import Message

# Seconds a channel may take to answer before the send counts as failed.
TIMEOUT = 30.0
SMTP_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


class ChannelURIError(ValueError):
    """A channel URI the user got wrong: one line (the URI masked), exit 2."""


class DeliveryError(Exception):
    """A channel did not take a message: the reason, on one line."""


class Channel(ABC):
    """One destination of alerts."""

    id: str  # what the store knows it by: no credentials
    label: str  # what users see: credentials masked

    @classmethod
    def from_uri(cls, uri: str) -> Channel:
        """The channel a URI of its scheme names (CHANNELS); raises ChannelURIError."""
        raise NotImplementedError(f"{cls.__name__} is not named by a URI")

    @abstractmethod
    def send(self, message: Message) -> str:
        """Deliver one message; raises DeliveryError. Returns a warning about a
        message delivered in part ('' if none): it counts as delivered."""


def channel_id(scheme: str, *parts: str) -> str:
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"{scheme}-{digest[:20]}"


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- webhooks ------------------------------------------------------------------------


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx then ends as an HTTPError


class Webhook(Channel):
    """A JSON POST of the message's payload to an incoming-webhook URL."""

    opener = urllib.request.build_opener(_RefuseRedirects)

    def __init__(self, url: str, user: str | None = None, password: str | None = None) -> None:
        self.url = url  # without userinfo
        self.auth = None
        if user is not None:
            token = base64.b64encode(f"{user}:{password or ''}".encode()).decode()
            self.auth = f"Basic {token}"
        parts = urlsplit(url)
        self.id = channel_id("webhook", url, user or "")
        hidden = "/..." if parts.path.strip("/") or parts.query else "/"
        who = f"{user}:***@" if user is not None else ""
        self.label = f"{parts.scheme}://{who}{parts.netloc}{hidden}"

    @classmethod
    def from_uri(cls, uri: str) -> Webhook:
        parts = urlsplit(uri)
        if not parts.hostname:
            raise ChannelURIError(f"webhook {mask_url(uri)!r}: no host")
        netloc = parts.netloc.rpartition("@")[2]
        url = parts._replace(netloc=netloc, fragment="").geturl()
        user = unquote(parts.username) if parts.username is not None else None
        password = unquote(parts.password) if parts.password is not None else None
        return cls(url, user, password)

    def send(self, message: Message) -> str:
        headers = {"Content-Type": "application/json", "User-Agent": f"linkwatch/{__version__}"}
        if self.auth:
            headers["Authorization"] = self.auth
        body = orjson.dumps(message.payload)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                response.read(4096)
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                raise DeliveryError(
                    f"HTTP {exc.code}: the webhook redirects elsewhere; give the URI it "
                    "moved to (a redirected POST would lose its body)"
                ) from None
            detail = one_line(exc.read(1000).decode("utf-8", "replace")) if exc.fp else ""
            raise DeliveryError(
                f"HTTP {exc.code} {exc.reason}" + (f": {detail}" if detail else "")
            ) from None
        except urllib.error.URLError as exc:
            raise DeliveryError(f"cannot reach {urlsplit(self.url).netloc}: {exc.reason}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise DeliveryError(
                f"{urlsplit(self.url).netloc}: {exc or type(exc).__name__}"
            ) from None
        return ""


# --- mail --------------------------------------------------------------------------


class Mail(Channel):
    """A mail to one or more addresses through an SMTP server."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        tls: str = "none",
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.tls = host, port, tls
        self.sender, self.recipients = sender, recipients
        self.user, self.password = user, password
        self.id = channel_id(
            "smtp", host, str(port), user or "", sender, ",".join(sorted(recipients)), tls
        )
        who = f"{user}:***@" if user else ""
        self.label = f"smtp://{who}{host}:{port} to {', '.join(recipients)}"

    @classmethod
    def from_uri(cls, uri: str) -> Mail:
        parts = urlsplit(uri)
        where = f"smtp URI {mask_url(uri)!r}"
        query = parse_qs(parts.query)
        unknown = set(query) - {"from", "to", "tls"}
        if unknown:
            raise ChannelURIError(f"{where}: unknown parameter {sorted(unknown)[0]!r}")
        sender = query.get("from", [""])[-1].strip()
        recipients = [a.strip() for v in query.get("to", []) for a in v.split(",") if a.strip()]
        tls = query["tls"][-1].lower() if "tls" in query else None
        problem = _mail_problem(parts.hostname, sender, recipients, tls, parts.password)
        if problem:
            raise ChannelURIError(f"{where}: {problem}")
        tls = tls or "none"
        try:
            port = parts.port or SMTP_PORTS[tls]
        except ValueError:
            raise ChannelURIError(f"{where}: the port is not a number up to 65535") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname or "", port, sender, recipients, tls, user, password)

    def send(self, message: Message) -> str:
        mail = email_message(message, self.sender, self.recipients)
        try:
            with self._connect() as smtp:
                if self.user:
                    smtp.login(self.user, self.password or "")
                refused = smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"{self.host}: login refused ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"{self.host} refused {refusals(exc.recipients)}") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"{self.host}: {exc.smtp_code} {one_line(_text(exc.smtp_error))}"
            ) from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise DeliveryError(f"{self.host}:{self.port}: {exc or type(exc).__name__}") from None
        # Taken for the others: sending again would repeat it to them.
        return f"{self.host} refused {refusals(refused)}; the others got it" if refused else ""

    def _connect(self) -> smtplib.SMTP:
        if self.tls == "ssl":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
        if self.tls == "starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


def _mail_problem(
    host: str | None, sender: str, recipients: list[str], tls: str | None, password: str | None
) -> str:
    """What is wrong with an smtp URI's parts ('' if nothing); `tls` None: not given."""
    if not host:
        return "no host"
    if "@" not in sender:
        return "needs from=ADDRESS"
    if not recipients or any("@" not in a for a in recipients):
        return "needs to=ADDRESS (repeat to=, or separate addresses by commas)"
    if tls is not None and tls not in SMTP_PORTS:
        return f"tls={tls}: use tls=starttls, tls=ssl or tls=none"
    if password and tls is None:
        return "a password goes only over TLS: add tls=starttls or tls=ssl (tls=none: in clear)"
    return ""


def refusals(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address} ({code} {one_line(_text(answer), 80)})"
        for address, (code, answer) in sorted(recipients.items())
    )


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def email_message(message: Message, sender: str, recipients: list[str]) -> EmailMessage:
    """The message as a mail: plain text first, HTML as the alternative."""
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = sender
    mail["To"] = ", ".join(recipients)
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid("linkwatch", domain=sender.rpartition("@")[2] or "localhost")
    # RFC 3834: an automatic message; vacation responders do not answer it.
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text)
    mail.add_alternative(message.html, subtype="html")
    return mail


# --- files -------------------------------------------------------------------------


class File(Channel):
    """JSON lines appended to a file: one message, one line, one write."""

    def __init__(self, path: Path, shown: str) -> None:
        self.path = path
        self.id = channel_id("file", str(path))
        self.label = f"file:{shown}"

    @classmethod
    def from_uri(cls, uri: str) -> File:
        rest = uri[len("file:") :]
        if rest.startswith("//"):
            parts = urlsplit(uri)
            if parts.netloc not in ("", "localhost"):
                raise ChannelURIError(f"file URI {uri!r}: only local files (file:///path)")
            rest = unquote(parts.path)
        if not rest or rest.endswith("/"):
            raise ChannelURIError(f"file URI {uri!r}: no file name (file:alerts.jsonl)")
        return cls(Path(rest).expanduser().resolve(), rest)

    def send(self, message: Message) -> str:
        line = orjson.dumps(message.payload) + b"\n"
        try:
            # O_APPEND and one write: lines of concurrent writers do not interleave.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return ""


# --- choosing a channel by scheme --------------------------------------------------------

CHANNELS: dict[str, type[Channel]] = {
    "http": Webhook,
    "https": Webhook,
    "smtp": Mail,
    "file": File,
}
# A comma that starts another URI in LINKWATCH_ALERTS (not one inside a to= list).
_SCHEMES = "|".join(map(re.escape, CHANNELS))
_NEXT_URI = re.compile(rf",\s*(?=(?:{_SCHEMES}):)", re.IGNORECASE)


def parse_channel(uri: str) -> Channel:
    """The channel a URI names, by its scheme; ChannelURIError if none."""
    uri = uri.strip()
    scheme = uri.partition(":")[0].lower() if ":" in uri else ""
    kind = CHANNELS.get(scheme)
    if kind is None:
        raise ChannelURIError(
            f"alert channel {mask_url(uri)!r}: unknown scheme (use https://..., "
            "smtp://host/?from=...&to=... or file:PATH)"
        )
    return kind.from_uri(uri)


def split_uris(value: str) -> list[str]:
    """The URIs of a comma-separated list (LINKWATCH_ALERTS); a comma inside a
    URI stays, unless a channel scheme follows it."""
    return [uri.strip() for uri in _NEXT_URI.split(value) if uri.strip()]
