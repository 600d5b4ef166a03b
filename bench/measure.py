"""Measuring child processes: CPU (user + system), peak RSS, wall time.

A crawl runs as its own process; the fixture server and the databases run in
others, so the crawler's CPU is exactly what `wait4` reports for its process
(and any children it waited for). Long-running servers (redis-server) are
measured by the difference of their CPU times around a run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass(slots=True)
class ProcessRun:
    """What one finished child process cost."""

    argv: list[str]
    returncode: int
    wall: float  # seconds, start to exit
    cpu: float  # user + system seconds of the process and the children it reaped
    # Bytes, ru_maxrss: it also counts the parent's memory the child had between
    # fork and exec, so a crawler's own peak comes from its VmHWM (statsdump.py).
    max_rss: int
    log: Path
    timed_out: bool = False
    rss_samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, bytes)
    started: float = 0.0  # time.monotonic() at start

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.strip().splitlines()[-lines:])


class Child:
    """A started child process, to be measured when it ends (see `finish`)."""

    def __init__(
        self,
        argv: Sequence[str],
        log: Path,
        env: dict[str, str] | None = None,
        cwd: Path = ROOT,
        sample_rss: float = 0.0,
    ) -> None:
        self.argv = list(argv)
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        self.started = time.monotonic()
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=cwd,
            )
        self.samples: list[tuple[float, int]] = []
        self._sampling = sample_rss > 0
        self._sampler: threading.Thread | None = None
        if self._sampling:
            self._sampler = threading.Thread(
                target=self._sample, args=(sample_rss,), name="rss-sampler", daemon=True
            )
            self._sampler.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _sample(self, interval: float) -> None:
        try:
            process = psutil.Process(self.proc.pid)
            while self._sampling:
                self.samples.append((time.monotonic(), process.memory_info().rss))
                time.sleep(interval)
        except (psutil.Error, OSError):
            pass

    def finish(self, timeout: float, stalled: Callable[[], bool] | None = None) -> ProcessRun:
        """Wait for the exit and measure it; kill the process after `timeout` s, or
        as soon as `stalled()` says it no longer does anything useful."""
        timed_out = False
        deadline = self.started + timeout
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline or (stalled is not None and stalled()):
                timed_out = True
                self.proc.kill()
                pid, status, usage = os.wait4(self.proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.monotonic() - self.started
        self._sampling = False
        if self._sampler is not None:
            self._sampler.join(2)
        returncode = os.waitstatus_to_exitcode(status)
        self.proc.returncode = returncode  # reaped here, not by Popen
        return ProcessRun(
            argv=self.argv,
            returncode=returncode,
            wall=wall,
            cpu=usage.ru_utime + usage.ru_stime,
            max_rss=usage.ru_maxrss * 1024,
            log=self.log,
            timed_out=timed_out,
            rss_samples=self.samples,
            started=self.started,
        )


def run_measured(
    argv: Sequence[str],
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    sample_rss: float = 0.0,
) -> ProcessRun:
    return Child(argv, log, env=env, sample_rss=sample_rss).finish(timeout)


class Quiet:
    """Callable: True once a file (an access log) has not grown for `seconds`."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self.size = -1
        self.since = time.monotonic()

    def __call__(self) -> bool:
        try:
            size = self.path.stat().st_size
        except OSError:
            size = -1
        now = time.monotonic()
        if size != self.size:
            self.size, self.since = size, now
        return now - self.since > self.seconds


def process_cpu(pid: int) -> float:
    """User + system CPU seconds a running process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


class CPUDelta:
    """CPU a long-running server spends between `start()` and `stop()`."""

    def __init__(self, pid: int | None) -> None:
        self.pid = pid
        self.begin = 0.0
        self.value = 0.0

    def __enter__(self) -> CPUDelta:
        self.begin = process_cpu(self.pid) if self.pid else 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.value = (process_cpu(self.pid) - self.begin) if self.pid else 0.0


# --- summaries -------------------------------------------------------------------


def median_range(values: Sequence[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def fmt_range(values: Sequence[float], fmt: str = "{:.3g}", unit: str = "") -> str:
    """`median [min-max]`, or the one value when there is only one."""
    if not values:
        return "—"
    med, low, high = median_range(values)
    if len(values) == 1 or low == high:
        return fmt.format(med) + unit
    return f"{fmt.format(med)}{unit} [{fmt.format(low)}-{fmt.format(high)}]"


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Ratios of runs made side by side (run i of one with run i of the other)."""
    return [n / d for n, d in zip(numerators, denominators, strict=False) if d]


def mib(value: float) -> float:
    return value / (1024 * 1024)


def rotated(names: Sequence[str], i: int) -> list[str]:
    """`names` starting at the i-th: repeat i runs the sides in this order, so a slow
    stretch of a shared machine does not always hit the same side."""
    k = i % len(names) if names else 0
    return [*names[k:], *names[:k]]


def budgeted(repeat: int, budget: float | None, minimum: int = 2) -> Iterator[int]:
    """0 .. repeat-1, but past `minimum` repeats only while one more is expected to end
    within `budget` seconds of the first (so `make bench` keeps to its 15 minutes while
    the crawler is slow; once it is fast, every repeat fits)."""
    begin = time.monotonic()
    for i in range(repeat):
        if budget is not None and i >= minimum:
            spent = time.monotonic() - begin
            if spent + spent / i > budget:
                print(f"  (repeats {i + 1}-{repeat} skipped: over the {budget:.0f} s budget)")
                return
        yield i
