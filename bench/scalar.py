"""Scalar engine benchmark: micrograd's two-moons MLP step, tinygrad_tx `Value` against `micrograd`.

The workload is the training step of micrograd's ``demo.ipynb``: an MLP 2-16-16-1 (ReLU neurons,
a linear last layer) on 100 two-moons points, SVM max-margin loss ``relu(1 - y·score)`` averaged,
plus L2 regularisation ``1e-4 · Σ p²``, then ``zero_grad``, ``backward`` and an SGD update. The
graph is built from scratch every step (about 66k nodes), which is what a scalar engine costs.

Both engines start from the same weights and the same data, so step 0 must give the same loss and
the same gradients: that is checked and printed before anything is timed.

This prints ratios; it is not a test. Run from the repo root::

    .venv/bin/python bench/scalar.py            # ~20 s
    .venv/bin/python bench/scalar.py --quick    # a few seconds
    .venv/bin/python bench/scalar.py --profile  # plus cProfile of the tinygrad_tx step

The profile is also printed, unasked, whenever the tinygrad_tx step misses its 100 ms target. The
machine is small and shared: the run reports how much CPU other processes took meanwhile.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import math
import random
import statistics
import sys
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
from common import OtherLoad, engine_revision, print_profile  # bench/common.py (scripts run from bench/)
from micrograd.engine import Value as MgValue
from micrograd.nn import MLP as MgMLP

from tinygrad_tx import Value
from tinygrad_tx.autograd import topological_order

# micrograd's topological sort is recursive (build_topo calls itself once per level of the graph).
# The loss's graph is a few hundred nodes deep here (each neuron is a chain of nin + 1 additions,
# and the data-loss and regularisation sums are chains of 100 and 337 additions), and micrograd
# fails at a chain depth of ~497 under Python's default limit of 1000, so raise it.
# tinygrad_tx's sort is iterative and needs none of this.
sys.setrecursionlimit(10000)

TARGET_MS = 100.0  # the target for one tinygrad_tx step


# ---------------------------------------------------------------------------------------- data
def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int = 1337) -> tuple[np.ndarray, np.ndarray]:
    """sklearn's ``make_moons(n_samples, noise=noise)`` (shuffled), in NumPy only; labels are 0/1."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    t_out = np.linspace(0, np.pi, n_out)
    t_in = np.linspace(0, np.pi, n_in)
    outer = np.stack([np.cos(t_out), np.sin(t_out)], axis=1)
    inner = np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], axis=1)
    X = np.concatenate([outer, inner])
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    order = rng.permutation(n_samples)
    X, y = X[order], y[order]
    X = X + rng.normal(scale=noise, size=X.shape)
    return X, y


# ------------------------------------------------------------------- the MLP on tinygrad_tx.Value
class Neuron:
    """micrograd.nn.Neuron on tinygrad_tx: ``relu(b + Σ w_i x_i)`` (linear if not ``nonlin``).

    The weights are drawn exactly as micrograd draws them (``random.uniform(-1, 1)`` per weight,
    bias 0), so after ``random.seed(s)`` both libraries build the same network.
    """

    def __init__(self, nin: int, nonlin: bool = True) -> None:
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x: list[Value]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)  # same summation order as micrograd
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return self.w + [self.b]


class Layer:
    def __init__(self, nin: int, nout: int, nonlin: bool = True) -> None:
        self.neurons = [Neuron(nin, nonlin) for _ in range(nout)]

    def __call__(self, x: list[Value]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    def __init__(self, nin: int, nouts: list[int]) -> None:
        sz = [nin] + nouts
        self.layers = [Layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1) for i in range(len(nouts))]

    def __call__(self, x: list[Value]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


# ------------------------------------------------------------------------- the step, as in demo
def loss_fn(model: Any, value_cls: type, X: list[list[float]], y: list[float]) -> Any:
    """The demo's ``loss()`` (full batch): SVM max-margin data loss + 1e-4 L2 regularisation.

    The demo feeds NumPy float64 scalars into ``Value``; here both engines get Python floats
    (``X.tolist()``), which keeps NumPy scalar arithmetic out of both timings.
    """
    inputs = [list(map(value_cls, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def zero_grad(model: Any) -> None:
    for p in model.parameters():
        p.grad = 0.0


def sgd(model: Any, k: int) -> None:
    learning_rate = 1.0 - 0.9 * k / 100
    for p in model.parameters():
        p.data -= learning_rate * p.grad


def count_nodes(root: Any) -> int:
    """Nodes reachable from ``root`` through ``_prev`` (iterative: no recursion limit involved)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        node = stack.pop()
        for parent in node._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def graph_depth(root: Any) -> int:
    """Longest path (in edges) from ``root`` to a leaf, iteratively."""
    depth: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            depth[id(node)] = 1 + max((depth[id(p)] for p in node._prev), default=-1)
            continue
        if id(node) in depth:
            continue
        stack.append((node, True))
        stack.extend((p, False) for p in node._prev if id(p) not in depth)
    return depth[id(root)]


# ------------------------------------------------------------------------------------- timing
class GcTimer:
    """Wall time spent inside the garbage collector, per generation, while ``active`` (gc.callbacks)."""

    def __init__(self) -> None:
        self.active = False
        self.seconds = [0.0, 0.0, 0.0]
        self.count = [0, 0, 0]
        self._t0 = 0.0

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if not self.active:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            g = info["generation"]
            self.seconds[g] += time.perf_counter() - self._t0
            self.count[g] += 1


class StepTimes:
    def __init__(self) -> None:
        self.build: list[float] = []
        self.backward: list[float] = []
        self.update: list[float] = []
        self.free: list[float] = []  # dropping the step's graph (the next step would drop it anyway)
        self.gc: list[float] = []  # seconds inside the collector during the whole step
        self.gc_full: list[int] = []  # full (generation 2) collections during the step

    def total(self) -> list[float]:
        return [a + b + c + d for a, b, c, d in zip(self.build, self.backward, self.update, self.free)]


def time_steps(model: Any, value_cls: type, X: list[list[float]], y: list[float], repeats: int,
               gc_enabled: bool, warmup: int = 1) -> StepTimes:
    """Run ``warmup + repeats`` training steps; time build (forward graph), backward, update (s)."""
    times = StepTimes()
    gc.collect()
    was_enabled = gc.isenabled()
    (gc.enable if gc_enabled else gc.disable)()
    try:
        with GcTimer() as gct:
            for k in range(warmup + repeats):
                gct.seconds, gct.count, gct.active = [0.0, 0.0, 0.0], [0, 0, 0], True
                t0 = time.perf_counter()
                total_loss = loss_fn(model, value_cls, X, y)
                t1 = time.perf_counter()
                zero_grad(model)
                total_loss.backward()
                t2 = time.perf_counter()
                sgd(model, k)
                t3 = time.perf_counter()
                del total_loss  # tinygrad_tx's graph is freed here, by reference counting
                t4 = time.perf_counter()
                gct.active = False
                if not gc_enabled:
                    gc.collect()  # free micrograd's cyclic graph outside the timed region
                if k >= warmup:
                    times.build.append(t1 - t0)
                    times.backward.append(t2 - t1)
                    times.update.append(t3 - t2)
                    times.free.append(t4 - t3)
                    times.gc.append(sum(gct.seconds))
                    times.gc_full.append(gct.count[2])
    finally:
        (gc.enable if was_enabled else gc.disable)()
    gc.collect()
    return times


def backward_split(model: Any, X: list[list[float]], y: list[float], repeats: int) -> tuple[float, float]:
    """tinygrad_tx's backward split into the topological sort and the rest (ms, medians, gc off).

    The rest is the gradient loop of ``run_backward``: one ``_backprop`` step per node, which
    adds the node's VJP into its parents' in-flight gradients (``_g``).
    """
    topo, full = [], []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            total_loss = loss_fn(model, Value, X, y)
            t0 = time.perf_counter()
            topological_order([total_loss])
            t1 = time.perf_counter()
            total_loss.backward()
            t2 = time.perf_counter()
            topo.append(t1 - t0)
            full.append(t2 - t1)
            del total_loss
    finally:
        (gc.enable if was_enabled else gc.disable)()
    gc.collect()
    t, f = med_ms(topo), med_ms(full)
    return t, f - t


def med_ms(xs: Iterable[float]) -> float:
    return 1e3 * statistics.median(list(xs))


# ------------------------------------------------------------------------------ correctness
def check_step0(seed: int, X: list[list[float]], y: list[float]) -> tuple[float, float, float, float, bool]:
    """Build both models from one seed, run one forward + backward, compare loss and gradients.

    Returns (tinygrad_tx loss, micrograd loss, max |Δgrad|, max |Δgrad| / max |grad|, weights_equal).
    """
    random.seed(seed)
    mg = MgMLP(2, [16, 16, 1])
    random.seed(seed)
    tx = MLP(2, [16, 16, 1])
    weights_equal = [p.data for p in mg.parameters()] == [p.data for p in tx.parameters()]
    l_mg = loss_fn(mg, MgValue, X, y)
    l_tx = loss_fn(tx, Value, X, y)
    l_mg.backward()
    l_tx.backward()
    g_mg = np.array([p.grad for p in mg.parameters()], dtype=np.float64)
    g_tx = np.array([p.grad for p in tx.parameters()], dtype=np.float64)
    diff = float(np.max(np.abs(g_mg - g_tx)))
    rel = diff / max(float(np.max(np.abs(g_mg))), 1e-300)
    return l_tx.data, float(l_mg.data), diff, rel, weights_equal


# -------------------------------------------------------------------------------- profiling
def profile_tinygrad(seed: int, X: list[list[float]], y: list[float], steps: int, top: int) -> None:
    random.seed(seed)
    model = MLP(2, [16, 16, 1])

    def run() -> None:
        for k in range(steps):
            total_loss = loss_fn(model, Value, X, y)
            zero_grad(model)
            total_loss.backward()
            sgd(model, k)

    prof = cProfile.Profile()
    prof.runcall(run)
    print_profile(prof, f"cProfile of {steps} tinygrad_tx steps (times are inflated by cProfile)", top)


# -------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed tinygrad_tx steps (median)")
    parser.add_argument("--mg-repeats", type=int, default=7, help="timed micrograd steps, gc off")
    parser.add_argument("--mg-gc-repeats", type=int, default=5, help="timed micrograd steps, gc on")
    parser.add_argument("--seed", type=int, default=1337)
    parser.add_argument("--quick", action="store_true", help="few repeats (a few seconds)")
    parser.add_argument("--profile", action="store_true", help="cProfile the tinygrad_tx step")
    parser.add_argument("--top", type=int, default=20, help="rows of the profile")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.mg_repeats, args.mg_gc_repeats = 5, 3, 1

    Xa, ya = make_moons(100, noise=0.1, seed=args.seed)
    X = Xa.tolist()
    y = (ya * 2 - 1).astype(np.float64).tolist()

    print(f"tinygrad_tx {engine_revision()}, python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"gc thresholds {gc.get_threshold()}")
    print("workload: micrograd demo step, MLP 2-16-16-1, 100 two-moons points, SVM loss + 1e-4 L2, SGD")

    # --- correctness first: same weights, same data, same math.
    l_tx, l_mg, gdiff, grel, same_w = check_step0(args.seed, X, y)
    print("\ncheck (step 0, same initial weights):")
    print(f"  initial weights identical: {same_w}")
    print(f"  loss      tinygrad_tx {l_tx:.17g}   micrograd {l_mg:.17g}   |diff| {abs(l_tx - l_mg):.1e}")
    print(f"  gradients (337 parameters) max |diff| {gdiff:.1e}   relative to max |grad| {grel:.1e}")
    ok = same_w and abs(l_tx - l_mg) <= 1e-12 and grel <= 1e-12
    print(f"  agree to 1e-12: {'yes' if ok else 'NO'}")

    # --- graph size
    random.seed(args.seed)
    tx_model = MLP(2, [16, 16, 1])
    random.seed(args.seed)
    mg_model = MgMLP(2, [16, 16, 1])
    root_tx = loss_fn(tx_model, Value, X, y)
    root_mg = loss_fn(mg_model, MgValue, X, y)
    n_tx, n_mg = count_nodes(root_tx), count_nodes(root_mg)
    d_tx = graph_depth(root_tx)
    del root_tx, root_mg
    gc.collect()
    print(f"\ngraph: tinygrad_tx {n_tx:,} nodes, micrograd {n_mg:,} nodes, depth {d_tx} edges")

    # --- timing. Each engine trains its own model from the same start for warmup + repeats steps.
    load = OtherLoad()
    load.start()
    rows: list[tuple[str, StepTimes]] = []
    rows.append(("tinygrad_tx (gc on)", time_steps(tx_model, Value, X, y, args.repeats, gc_enabled=True)))
    random.seed(args.seed)
    rows.append(("tinygrad_tx (gc off)", time_steps(MLP(2, [16, 16, 1]), Value, X, y, args.repeats,
                                                     gc_enabled=False)))
    rows.append(("micrograd (gc off)", time_steps(mg_model, MgValue, X, y, args.mg_repeats, gc_enabled=False)))
    random.seed(args.seed)
    rows.append(("micrograd (gc on)", time_steps(MgMLP(2, [16, 16, 1]), MgValue, X, y, args.mg_gc_repeats,
                                                 gc_enabled=True)))

    load.stop()
    ref = med_ms(rows[0][1].total())
    print(f"\nms per step, median ({args.repeats} tinygrad_tx / {args.mg_repeats} micrograd gc-off / "
          f"{args.mg_gc_repeats} micrograd gc-on steps, after 1 warmup step each)")
    header = (f"{'engine':<22} {'build':>8} {'backward':>9} {'update':>7} {'free':>6} {'step':>8} {'in gc':>7} "
              f"{'full gc':>7} {'ns/node':>8} {'/ tinygrad_tx':>13}")
    print(header)
    print("-" * len(header))
    for name, t in rows:
        step = med_ms(t.total())
        nodes = n_tx if name.startswith("tinygrad_tx") else n_mg
        print(f"{name:<22} {med_ms(t.build):8.1f} {med_ms(t.backward):9.1f} {med_ms(t.update):7.2f} "
              f"{med_ms(t.free):6.1f} {step:8.1f} {med_ms(t.gc):7.1f} {statistics.median(t.gc_full):7.0f} "
              f"{1e6 * step / nodes:8.0f} {step / ref:13.2f}")
    print("(step = build + backward + update + free, the graph dropped; in gc: ms inside the garbage collector\n"
          " during the step; full gc: generation-2 collections)")
    print(load.report())
    mg_off, mg_on = med_ms(rows[2][1].total()), med_ms(rows[3][1].total())
    print(f"\nratios: micrograd gc-on / tinygrad_tx = {mg_on / ref:.1f}x, "
          f"micrograd gc-off / tinygrad_tx = {mg_off / ref:.2f}x, "
          f"tinygrad_tx gc-on / gc-off = {ref / med_ms(rows[1][1].total()):.2f}x")
    topo_ms, loop_ms = backward_split(tx_model, X, y, 3 if args.quick else 7)
    print(f"tinygrad_tx backward (gc off): topological sort {topo_ms:.1f} ms + gradient loop {loop_ms:.1f} ms")
    verdict = "met" if ref < TARGET_MS else "MISSED"
    print(f"target: tinygrad_tx step well under {TARGET_MS:.0f} ms: {ref:.1f} ms -> {verdict} "
          f"({ref / TARGET_MS:.0%} of the budget)")

    if args.profile or ref >= TARGET_MS:
        if not args.profile:
            print("\ntarget missed: profiling the tinygrad_tx step")
        profile_tinygrad(args.seed, X, y, steps=2 if args.quick else 5, top=args.top)
    if not math.isfinite(ref):
        raise SystemExit(1)


if __name__ == "__main__":
    main()

