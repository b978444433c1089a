"""`profile`: where the time goes, per op class, in the manner of ``torch.autograd.profiler.profile``.

    with profile() as prof:
        loss = model(x, y)[1]
        loss.backward()
    print(prof.table())

For every `Function` subclass it counts and times, inclusively:

- forward: ``apply``, i.e. building the node and the NumPy ``forward`` (``kernel_s``: the ``forward`` alone);
- backward: the node's VJP (its ``backward`` with the Tensor ops that runs, and the checks on its result).

An op applied inside a VJP (a composed backward) is counted in that VJP, not again as a forward; an op
applied by the walk itself, outside any VJP (adding two gradients that reach one node), is counted as
``accumulate``. Off (the usual case), it costs one check of ``_active`` per apply and per VJP.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from . import graph

__all__ = ["profile", "OpStats"]

_active: profile | None = None  # the profile being recorded, if any (Function.apply and _vjp check it)


@dataclass
class OpStats:
    """One op class's totals (seconds): forward (apply) and the NumPy part of it, backward (VJP) and the
    NumPy forwards of the ops it ran (all of it for a VJP that ran none: a hand-written NumPy backward),
    and gradient accumulation by the walk."""

    forward_calls: int = 0
    forward_s: float = 0.0
    forward_kernel_s: float = 0.0
    backward_calls: int = 0
    backward_s: float = 0.0
    backward_kernel_s: float = 0.0
    accumulate_calls: int = 0
    accumulate_s: float = 0.0


class profile:
    """Record per op class forward and backward counts and seconds while the block runs (see the module)."""

    def __init__(self) -> None:
        self.stats: dict[str, OpStats] = defaultdict(OpStats)
        self.by_scope: dict[tuple[str, str], float] = defaultdict(float)  # (module scope, "forward"/"backward")
        self.apply_calls = 0  # every apply, at any depth
        self.apply_s = 0.0
        self.kernel_s = 0.0  # NumPy forwards of every apply, at any depth
        self._vjp_depth = 0
        self._prev: profile | None = None

    def __enter__(self) -> profile:
        global _active
        self._prev, _active = _active, self
        return self

    def __exit__(self, *exc: object) -> None:
        global _active
        _active = self._prev

    # -- called by Function.apply and Function._vjp -----------------------------------------------
    def _time_apply(self, cls: Any, inputs: tuple[Any, ...], kwargs: dict[str, Any], scope: str) -> Any:
        kernel = [0.0]
        t0 = time.perf_counter()
        try:
            return cls._apply(inputs, kwargs, kernel)
        finally:
            dt = time.perf_counter() - t0
            self.apply_calls += 1
            self.apply_s += dt
            self.kernel_s += kernel[0]
            if self._vjp_depth == 0:
                s = self.stats[cls.__name__]
                if graph._walk_depth:  # the walk adding up gradients
                    s.accumulate_calls += 1
                    s.accumulate_s += dt
                else:
                    s.forward_calls += 1
                    s.forward_s += dt
                    s.forward_kernel_s += kernel[0]
                    self.by_scope[(scope, "forward")] += dt

    def _time_vjp(self, node: Any, g: Any) -> Any:
        self._vjp_depth += 1
        calls, kernel = self.apply_calls, self.kernel_s
        t0 = time.perf_counter()
        try:
            return node._checked_vjp(g)
        finally:
            dt = time.perf_counter() - t0
            self._vjp_depth -= 1
            if self._vjp_depth == 0:
                s = self.stats[type(node).__name__]
                s.backward_calls += 1
                s.backward_s += dt
                s.backward_kernel_s += dt if self.apply_calls == calls else self.kernel_s - kernel
                self.by_scope[(getattr(node, "scope", ""), "backward")] += dt

    # -- the report -------------------------------------------------------------------------------
    def table(self, per: int = 1) -> str:
        """The totals in milliseconds (divided by ``per``, e.g. the steps run), most expensive op first."""
        header = ["op", "fwd calls", "fwd ms", "fwd numpy ms", "bwd calls", "bwd ms", "bwd numpy ms", "accum ms",
                  "total ms"]
        rows = [header]
        for name, s in sorted(self.stats.items(), key=lambda kv: -_total(kv[1])):
            rows.append([name, f"{s.forward_calls / per:.0f}", *(f"{1e3 * t / per:.2f}" for t in (
                s.forward_s, s.forward_kernel_s)), f"{s.backward_calls / per:.0f}", *(f"{1e3 * t / per:.2f}" for t in (
                    s.backward_s, s.backward_kernel_s, s.accumulate_s, _total(s)))])
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                         for r in rows)


def _total(s: OpStats) -> float:
    return s.forward_s + s.backward_s + s.accumulate_s
