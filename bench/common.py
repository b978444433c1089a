"""Shared by the benchmarks: how busy the machine was, which engine revision was measured, one timed
training step, and cProfile output that reads well."""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import re
import subprocess
import time
from typing import Any


class OtherLoad:
    """How busy the machine was with *other* processes while timing (Linux ``/proc/stat``).

    The machine has few cores and is shared; a test run elsewhere can slow a step several-fold.
    ``fraction`` is the share of all CPUs that other processes used between ``start`` and ``stop``.
    The benchmarks run on one thread, so it warns only when others took more than one CPU of two.
    ``children=True`` counts the CPU of this process's finished children as its own (a measurement
    that runs in a subprocess). Use ``start``/``stop``, or ``with OtherLoad() as load:``.
    """

    def __init__(self, warn_at: float = 0.5, children: bool = False) -> None:
        self.fraction: float | None = None
        self.warn_at = warn_at
        self.children = children

    def __enter__(self) -> OtherLoad:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

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
        self._busy0, self._self0, self._wall0 = self._busy_seconds(), _cpu_seconds(self.children), time.perf_counter()

    def stop(self) -> None:
        busy = self._busy_seconds()
        if busy is None or self._busy0 is None:
            return
        wall = time.perf_counter() - self._wall0
        others = (busy - self._busy0) - (_cpu_seconds(self.children) - self._self0)
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


def _cpu_seconds(children: bool = False) -> float:
    t = os.times()
    return t.user + t.system + (t.children_user + t.children_system if children else 0.0)


def timed_step(engine: Any, times: dict[str, list[float]]) -> None:
    """One ``forward``, ``backward``, ``update`` of ``engine``; appends each phase's seconds and the
    whole step's to ``times["forward"]`` ... ``times["step"]``."""
    t0 = time.perf_counter()
    engine.forward()
    t1 = time.perf_counter()
    engine.backward()
    t2 = time.perf_counter()
    engine.update()
    t3 = time.perf_counter()
    times["forward"].append(t1 - t0)
    times["backward"].append(t2 - t1)
    times["update"].append(t3 - t2)
    times["step"].append(t3 - t0)


def print_profile(prof: cProfile.Profile, title: str, top: int) -> None:
    """The ``top`` rows of ``prof`` by own time and by cumulative time, each under ``title``."""
    for key in ("tottime", "cumulative"):
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
        lines = short_paths(buf.getvalue()).splitlines()
        start = next(i for i, line in enumerate(lines) if "ncalls" in line)
        print(f"\n{title}, top {top} by {key}:")
        print("\n".join(lines[start - 3:start] + lines[start:]))


def short_paths(text: str) -> str:
    """pstats paths relative to the repo (``tinygrad_tx/scalar.py`` and ``bench/scalar.py`` stay
    distinct, which ``strip_dirs`` would merge), and installed packages without site-packages."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    text = re.sub(r"\S*site-packages" + re.escape(os.sep), "", text)
    return text.replace(root, "")
