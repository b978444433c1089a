"""Shared by the benchmarks: how busy the machine was, and which engine revision was measured."""

from __future__ import annotations

import os
import subprocess
import time


class OtherLoad:
    """How busy the machine was with *other* processes while timing (Linux ``/proc/stat``).

    The machine has few cores and is shared; a test run elsewhere can slow a step several-fold.
    ``fraction`` is the share of all CPUs that other processes used between ``start`` and ``stop``.
    This benchmark runs on one thread, so it warns only when others took more than one CPU of two.
    """

    def __init__(self, warn_at: float = 0.5) -> None:
        self.fraction: float | None = None
        self.warn_at = warn_at

    @staticmethod
    def _busy_seconds() -> float | None:
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle = fields[3] + fields[4]  # idle + iowait
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self._busy0, self._self0, self._wall0 = self._busy_seconds(), _cpu_seconds(), time.perf_counter()

    def stop(self) -> None:
        busy = self._busy_seconds()
        if busy is None or self._busy0 is None:
            return
        wall = time.perf_counter() - self._wall0
        others = (busy - self._busy0) - (_cpu_seconds() - self._self0)
        self.fraction = max(0.0, others / (wall * (os.cpu_count() or 1)))

    def report(self) -> str:
        if self.fraction is None:
            return "other processes' CPU use: unknown (no /proc/stat)"
        busy = self.fraction > self.warn_at
        warn = "  <- WARNING: the machine was busy; the times are not trustworthy" if busy else ""
        return f"other processes used {self.fraction:.0%} of the CPUs while timing{warn}"


def engine_revision() -> str:
    """The git commit of the checkout being measured, marked ``+dirty`` if tinygrad_tx/ has changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "tinygrad_tx"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (head or "unknown") + ("+dirty" if dirty else "")


def _cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system
