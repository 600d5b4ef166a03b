"""A progress line on stderr for the long commands (rank, report, export).

On a terminal the line is rewritten in place, at most once a second. When
stderr is not a terminal (a pipe, a log file, a test) nothing is written,
unless the command was given --progress: then each update is a line of its
own, still at most one a second, so a log shows the work moving.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

INTERVAL = 1.0


class Progress:
    """`update(stage, done, total)` as often as convenient; `close()` at the end."""

    def __init__(
        self,
        command: str,
        *,
        force: bool = False,
        stream: TextIO | None = None,
        interval: float = INTERVAL,
    ) -> None:
        self.command = command
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.enabled = self.tty or force
        self.interval = interval
        self.last = 0.0
        self.shown = False
        self.stage = ""

    def update(self, stage: str, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        finished = bool(total) and done >= total
        if now - self.last < self.interval and not finished:
            return
        self.last, self.stage = now, stage
        if total:
            text = f"{self.command}: {stage} {done:,}/{total:,} ({100 * done / total:.0f}%)"
        else:
            text = f"{self.command}: {stage} {done:,}"
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.shown = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def stage_callback(self, stage: str):
        """update() for one stage, as `callback(done, total)`."""
        return lambda done, total=None: self.update(stage, done, total)

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False
