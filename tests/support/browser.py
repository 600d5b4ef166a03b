"""The dashboard under test: a real uvicorn server on a free loopback port in
a thread (`DashboardServer`), requests to it (`get`), and Debian's chromium
driven through chromium-driver (`chromium_driver`).

Where CI is set a missing chromium or chromium-driver fails the test (as a
missing Redis does, tests/conftest.py); elsewhere it is a skip that says
what to install.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

IN_CI = bool(os.environ.get("CI"))
CHROMIUM = ("chromium", "chromium-browser")
CHROMEDRIVER = "chromedriver"


class DashboardServer:
    """`create_app(settings, **options)` served by uvicorn on 127.0.0.1."""

    def __init__(self, settings: dict[str, str], **options: Any) -> None:
        import uvicorn

        from crawler.dashboard.app import create_app

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.app = create_app(settings, store_label="test store", **options)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> DashboardServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def get(
        self, path: str, headers: dict[str, str] | None = None, method: str = "GET"
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of a request; redirects are not followed."""
        request = urllib.request.Request(self.base + path, headers=headers or {}, method=method)
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=60) as answer:
                return answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser needed in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def chromium_driver() -> Any:
    """A headless chromium through chromium-driver (Debian's packages)."""
    binary = next((shutil.which(name) for name in CHROMIUM if shutil.which(name)), None)
    driver = shutil.which(CHROMEDRIVER)
    if binary is None or driver is None:
        _missing(
            "chromium and chromium-driver are needed (apt-get install chromium chromium-driver, "
            "or make servers)"
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        # Nothing leaves the machine: no proxy lookups, no component updates.
        "--no-proxy-server",
        "--disable-background-networking",
        "--disable-component-update",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


# --- the store the dashboard tests read ------------------------------------------------------

MYSITE = "mysite.test"


def crawled_location(kind: str, tmp_path: Any, mongo_uri: str | None) -> Any:
    """The fixture web crawled at version 1 then 2 (so some edges are lost, with
    reasons), ranked, one target URL of MYSITE checked as broken (404): every
    view has rows. The Location (tests/test_recrawl_e2e.py) holds its settings."""
    import subprocess
    import sys

    from crawler.testing.fixtureweb import build_web
    from pipelines.stores import Target, open_store
    from tests.support.crawling import ROOT
    from tests.test_recrawl_e2e import Location, crawl

    location = Location(kind, tmp_path, mongo_uri)
    crawl(build_web(version=1), location)
    crawl(build_web(version=2), location)
    ranked = subprocess.run(
        [sys.executable, "-m", "crawler.cli", "rank", *location.cli_options()],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ranked.returncode == 0, ranked.stderr
    with open_store(location.env()) as store:
        live = next(iter(store.backlinks(Target.parse(MYSITE))))
        store.write_target_checks(
            [
                {
                    "url": live["target_url"],
                    "domain": MYSITE,
                    "status": 404,
                    "final_url": live["target_url"],
                    "redirects": 0,
                    "method": "GET",
                    "error": None,
                    "checked_at": "2026-01-01T00:00:00Z",
                }
            ]
        )
    return location


def store_settings(location: Any) -> dict[str, str]:
    return location.env()
