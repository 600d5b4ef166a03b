"""Running a spider from a `linkwatch` command: `verify` and `broken` fetch
through Scrapy, and read what the spider wrote when it ends.

The spider runs as a child process, `python -m scrapy crawl NAME -a ... -s ...`,
with SCRAPY_SETTINGS_MODULE=settings.embedded (so it runs from any directory)
and the store the command's options name as LINKWATCH_STORE. Not in-process
with CrawlerProcess, because:

- it is exactly the crawl a user runs by hand: the project's settings, our
  `crawl` command (arguments checked before anything starts), robots.txt, the
  SSRF guard, the per-host politeness, the proxy from the environment;
- Twisted's reactor starts once per process and Scrapy takes over signals
  and logging: a command called twice in one process (the tests call `main`)
  could not crawl twice, and a crawl's Ctrl-C handling would be ours to redo;
- the command itself never imports Scrapy (the CLI's rule: only the chosen
  command's imports, Scrapy only in the process that crawls).

It costs a second of start-up. The child's log goes to our stderr as it runs
(LOG_LEVEL WARNING unless `-s` says otherwise); its outcome comes back as the
JSON lines file the spider writes (crawler/spiders/fetching.py). REDIS_URL is
not passed on: a check is a crawl of its own, never a worker of a shared one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import orjson

from crawler.cli.common import Failure, UsageError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Mapping
    from pathlib import Path

# Settings a check sets unless -s says otherwise: only warnings and errors.
DEFAULT_SETTINGS = {"LOG_LEVEL": "WARNING"}


def settings_option(
    parser: argparse.ArgumentParser, defaults: Mapping[str, str] = DEFAULT_SETTINGS
) -> None:
    """`-s NAME=VALUE`, as `scrapy crawl -s` takes it, repeatable."""
    given = ", ".join(f"{name}={value}" for name, value in defaults.items())
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="a crawl setting, as `scrapy crawl -s` takes it; repeat for more "
        f"(e.g. -s CONCURRENT_REQUESTS_PER_DOMAIN=2; default {given})",
    )


def parse_settings(
    pairs: list[str], defaults: Mapping[str, str] = DEFAULT_SETTINGS
) -> dict[str, str]:
    """The crawl's settings: the defaults, then `-s` in order."""
    settings = dict(defaults)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-s {pair!r}: use NAME=VALUE")
        settings[name.strip()] = value
    return settings


def spider_command(
    spider: str, arguments: Mapping[str, str], settings: Mapping[str, str]
) -> list[str]:
    argv = [sys.executable, "-m", "scrapy", "crawl", spider]
    for name, value in arguments.items():
        argv += ["-a", f"{name}={value}"]
    for name, value in settings.items():
        argv += ["-s", f"{name}={value}"]
    return argv


def spider_env(args: argparse.Namespace) -> dict[str, str]:
    """Our environment, the embedded profile, and the store the options chose,
    as one URI (it wins over LINKWATCH_DB and MONGO_URI); UsageError for a
    store URI no store implements, so call it before anything is fetched."""
    from pipelines.stores import StoreURIError, store_class, store_uri  # imports tldextract

    uri = store_uri(
        {"LINKWATCH_STORE": args.store, "MONGO_URI": args.mongo_uri, "LINKWATCH_DB": args.db}
    )
    try:
        store_class(uri)
    except StoreURIError as exc:
        raise UsageError(str(exc)) from None
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env["SCRAPY_SETTINGS_MODULE"] = "settings.embedded"
    env["LINKWATCH_STORE"] = uri
    env["MONGO_DATABASE"] = args.mongo_database
    return env


def run_spider(
    spider: str,
    arguments: Mapping[str, str],
    settings: Mapping[str, str],
    env: Mapping[str, str],
) -> None:
    """Run the spider to its end, in `env` (`spider_env`); Failure (exit 1) if
    it did not finish well, UsageError (exit 2) if the crawl refused its
    settings (it said why)."""
    try:
        process = subprocess.Popen(spider_command(spider, arguments, settings), env=env)
    except OSError as exc:
        raise Failure(f"cannot start the crawl: {exc.strerror or exc}") from None
    try:
        status = process.wait()
    except KeyboardInterrupt:
        process.wait()  # it got the same Ctrl-C: let it store what it fetched
        raise
    if status == 2:
        raise UsageError("the crawl refused its settings (see above)")
    if status != 0:
        how = f"killed by signal {-status}" if status < 0 else f"exit status {status}"
        raise Failure(f"the crawl failed ({how}; see above)")


def read_outcomes(path: Path) -> Iterator[dict]:
    """The JSON lines a spider wrote (none if it wrote no file)."""
    if not path.exists():
        return
    with path.open("rb") as lines:
        for line in lines:
            if line.strip():
                yield orjson.loads(line)
