"""`linkwatch serve`: the dashboard (crawler/dashboard) on a local web server.

Resolves the store as every command does (--store, LINKWATCH_STORE,
MONGO_URI, LINKWATCH_DB: crawler/cli/common.py), checks it opens read-only,
then runs uvicorn. Loopback by default; any other address needs a token.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from typing import TYPE_CHECKING

from crawler.cli.common import Failure, UsageError, describe, open_for_reading, store_options
from crawler.cli.shared_crawl import redis_options

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_PORT = 8765
TOKEN_ENV = "LINKWATCH_SERVE_TOKEN"
# A token of at least this many characters, from a cookie-safe alphabet.
MIN_TOKEN = 16


def configure(parser: argparse.ArgumentParser) -> None:
    describe(
        parser,
        "Serve a read-only web dashboard of the store: an overview per watched "
        "domain with charts, the backlinks table with filters, sorts and CSV/JSON "
        "export, referring domains, anchors, lost links, broken targets, the "
        "competitor gap and the toxic review, and their JSON API under /api/. It "
        "listens on 127.0.0.1 only, unless --host names another address; then a "
        f"token is required (--token-file or ${TOKEN_ENV}), which a browser "
        "sends once as ?token=... (kept in a cookie) and a script as "
        "`Authorization: Bearer ...`.",
        (
            "linkwatch serve                                   # http://127.0.0.1:8765",
            "linkwatch serve --port 9000 --db crawl.db",
            "openssl rand -hex 32 > /etc/linkwatch/token",
            "linkwatch serve --host 0.0.0.0 --token-file /etc/linkwatch/token",
            "curl -H \"Authorization: Bearer $(cat token)\" 'http://host:8765/api/backlinks?domain=mysite.com'",
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other needs a token)",
    )
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help=f"file holding the access token (default: ${TOKEN_ENV}); "
        f"at least {MIN_TOKEN} characters of letters, digits, - or _",
    )
    parser.add_argument(
        "--cache-seconds",
        type=float,
        default=60.0,
        metavar="S",
        help="keep whole-profile views (referring domains, anchors, toxic...) this long (60)",
    )
    store_options(parser)
    redis_options(parser)
    parser.set_defaults(run=run)


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535: {text!r}")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def read_token(path: str | None, env: Mapping[str, str]) -> str | None:
    """The token of --token-file, else of the environment; None when neither."""
    if path:
        try:
            text = open(path, encoding="utf-8").read().strip()  # noqa: SIM115
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UsageError(f"--token-file: cannot read {path}: {reason}") from None
        source = "--token-file"
    else:
        text = (env.get(TOKEN_ENV) or "").strip()
        source = f"${TOKEN_ENV}"
        if not text:
            return None
    if len(text) < MIN_TOKEN:
        raise UsageError(f"{source}: a token has at least {MIN_TOKEN} characters")
    if not all(c.isascii() and (c.isalnum() or c in "-_.~") for c in text):
        raise UsageError(f"{source}: a token is letters, digits, -, _, . or ~")
    return text


def run(args: argparse.Namespace) -> int:
    token = read_token(args.token_file, os.environ)
    loopback = is_loopback(args.host)
    if not loopback and token is None:
        raise UsageError(
            f"--host {args.host}: another machine could read the store; "
            f"give a token (--token-file or ${TOKEN_ENV})"
        )
    if args.cache_seconds < 0:
        raise UsageError("--cache-seconds: must be 0 or more")
    from pipelines.stores import mask_uri, store_uri

    settings = {
        "LINKWATCH_STORE": args.store,
        "LINKWATCH_DB": args.db,
        "MONGO_URI": args.mongo_uri,
        "MONGO_DATABASE": args.mongo_database,
    }
    uri = store_uri(settings)
    _check_exists(uri)
    with open_for_reading(args):  # fails now, one line, rather than on the first request
        pass
    label = mask_uri(uri)
    from crawler.cli.toxic_rules import environment_rules
    from crawler.dashboard.app import create_app

    rules, whitelist = environment_rules()  # as `linkwatch toxic`: $LINKWATCH_WHITELIST...
    app = create_app(
        settings,
        rules=rules,
        whitelist=whitelist,
        token=token,
        loopback_only=loopback,  # a token too: the Host check stays on loopback
        store_label=label,
        redis_url=args.redis_url,
        redis_prefix=args.prefix,
        cache_seconds=args.cache_seconds,
    )
    return serve(app, args.host, args.port, label, token is not None)


def _check_exists(uri: str) -> None:
    """No store to show is a mistake in the command line (exit 2), not a failure."""
    from pipelines.stores import StoreURIError
    from pipelines.stores.uri import sqlite_path

    if uri.lower().startswith("sqlite:"):
        try:
            path = sqlite_path(uri)
        except StoreURIError as exc:
            raise UsageError(str(exc)) from None
        if not os.path.isfile(path):
            raise UsageError(
                f"no linkwatch database at {path}: crawl first, or name the store "
                "(--store, --db, --mongo-uri; $LINKWATCH_STORE)"
            )


def serve(app: object, host: str, port: int, label: str, with_token: bool) -> int:
    import socket

    import uvicorn

    shown = f"[{host}]" if ":" in host else host
    try:  # taken or forbidden: one line now, not uvicorn's traceback
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host.strip("[]"), port))
    except OSError as exc:
        raise Failure(f"cannot listen on {shown}:{port}: {exc.strerror or exc}") from None
    print(
        f"linkwatch serve: http://{shown}:{port}/ (store {label}, read-only"
        + (", token required)" if with_token else ")"),
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app, host=host.strip("[]"), port=port, log_level="warning", server_header=False
    )
    uvicorn.Server(config).run()
    return 0
