"""python -m crawler.testing.fixtureweb: serve the fixture web, or print its truth.

    serve  [--port 0] [--port-file F] [--access-log F] [--delay S] [--no-validators]
           [web options]
    truth  --out F [--no-sitemaps] [web options]
                                        JSON: seeds, watch, edges, pages, never_fetch,
                                        sitemaps (version 2 adds "changes", relative
                                        to version 1); --no-sitemaps: of a crawl
                                        with -a sitemaps=false
    seeds  [web options]                comma-separated seeds, for a shell
    watch  [web options]                comma-separated watched domains

web options: --version 1|2, --pages N (default 150), --seed N (default 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from .generator import build_web, truth_changes
from .server import FixtureServer


def _web_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", type=int, default=1, choices=(1, 2), help="web version")
    p.add_argument("--pages", type=int, default=150, help="about how many pages a crawl fetches")
    p.add_argument("--seed", type=int, default=0, help="seed of the generated pages")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crawler.testing.fixtureweb", description="The linkwatch fixture web."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web as an HTTP proxy on 127.0.0.1")
    _web_options(serve)
    serve.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    serve.add_argument("--port-file", type=Path, help="write the port to this file once listening")
    serve.add_argument("--access-log", type=Path, help="append one JSON line per request")
    serve.add_argument("--delay", type=float, default=0.0, help="seconds of latency per request")
    serve.add_argument(
        "--no-validators",
        dest="validators",
        action="store_false",
        help="no ETag nor Last-Modified, never a 304",
    )
    truth = sub.add_parser("truth", help="write the ground truth as JSON")
    _web_options(truth)
    truth.add_argument("--out", required=True, help="output file ('-' for stdout)")
    truth.add_argument(
        "--no-sitemaps",
        dest="sitemaps",
        action="store_false",
        help="the truth of a crawl that does not read sitemaps",
    )
    for name in ("seeds", "watch"):
        _web_options(sub.add_parser(name, help=f"print the {name} as a comma list"))
    return parser


async def _serve(args: argparse.Namespace) -> None:
    web = build_web(version=args.version, pages=args.pages, seed=args.seed)
    server = FixtureServer(
        web,
        port=args.port,
        access_log=args.access_log,
        delay=args.delay,
        validators=args.validators,
    )
    await server.start_async()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if args.port_file is not None:  # atomically: a poller never reads half a number
        tmp = args.port_file.with_name(args.port_file.name + ".tmp")
        tmp.write_text(f"{server.port}\n")
        os.replace(tmp, args.port_file)
    print(f"fixture web on {server.proxy_url} (proxy)", flush=True)
    try:
        await stop.wait()
    finally:
        await server.close_async()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.pages < 1:
        print("error: --pages must be at least 1", file=sys.stderr)
        return 2
    if args.command == "serve":
        try:
            asyncio.run(_serve(args))
        except OSError as exc:
            print(f"error: cannot serve: {exc}", file=sys.stderr)
            return 1
        return 0
    sitemaps = getattr(args, "sitemaps", True)
    web = build_web(version=args.version, pages=args.pages, seed=args.seed, sitemaps=sitemaps)
    if args.command == "seeds":
        print(",".join(web.seeds))
    elif args.command == "watch":
        print(",".join(web.watch))
    else:
        truth = web.truth()
        if args.version >= 2:
            truth["changes"] = truth_changes(build_web(1, args.pages, args.seed, sitemaps), web)
        text = json.dumps(truth, ensure_ascii=False, indent=1) + "\n"
        if args.out == "-":
            sys.stdout.write(text)
        else:
            Path(args.out).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
