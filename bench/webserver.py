"""The HTTP proxy a benchmark crawls through, in its own process.

Both `python -m bench.corpus serve` (the real pages) and `python -m
crawler.testing.fixtureweb serve` (the generated web) take `--port-file` and
`--access-log`; this starts one, waits for its port, and reads back which
requests it answered, so a run's pages are counted by the server rather than
by the crawler being measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.measure import PYTHON, ROOT


class ServerError(RuntimeError):
    pass


class ProxyServer:
    def __init__(self, module: str, args: list[str], workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="access-", suffix=".log", dir=workdir)
        os.close(fd)
        self.access_log = Path(name)
        self.port_file = self.access_log.with_suffix(".port")
        self.argv = [
            PYTHON,
            "-m",
            module,
            "serve",
            "--port-file",
            str(self.port_file),
            "--access-log",
            str(self.access_log),
            *args,
        ]
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self._offset = 0

    def __enter__(self) -> ProxyServer:
        self.log = self.access_log.with_suffix(".out")
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise ServerError(f"{' '.join(self.argv[1:4])} did not start: {self._tail()}")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _tail(self) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-5:])
        except OSError:
            return "(no output)"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def crawl_env(self, **extra: str) -> dict[str, str]:
        """The environment of a crawler that must go through this server only."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("REDIS_URL", "MONGO_URI", "SCRAPY_SETTINGS_MODULE", "LINKWATCH_DB")
            and not k.lower().endswith("_proxy")
        }
        env.update(http_proxy=self.proxy_url, https_proxy=self.proxy_url, no_proxy="")
        env.update(extra)
        return env

    def new_entries(self) -> list[dict[str, Any]]:
        """Access-log entries written since the previous call."""
        # The server writes a line per request, line-buffered; a run has ended
        # before this is called, so every line of it is complete.
        with self.access_log.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        end = data.rfind(b"\n") + 1
        self._offset += end
        return [json.loads(line) for line in data[:end].splitlines() if line.strip()]


def html_pages(entries: list[dict[str, Any]]) -> set[str]:
    """Distinct URLs answered 200 that are HTML pages (by their path)."""
    return {
        e["url"]
        for e in entries
        if e["status"] == 200 and e["url"] and e["url"].endswith((".html", "/"))
    }
