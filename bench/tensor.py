"""Tensor engine benchmark: an MLP training step in tinygrad_tx, PyTorch eager and hand-written NumPy.

The step: MLP 784-256-256-10 (ReLU), batch 128, softmax cross-entropy written as
``-log_softmax(logits)[arange(B), y].mean()``, backward, plain SGD. All three start from the same
weights and the same batch, in float32 and in float64:

- ``tinygrad_tx``: `Tensor` ops, ``loss.backward()``.
- ``torch``: eager PyTorch on the CPU (``F.linear``, i.e. what ``nn.Linear`` runs), 2 threads.
- ``numpy``: the forward pass and the matrix-form backward recursion of ``tinygrad_tx/manual/seeds.py``
  (``relu_mlp_backward``) written by hand (no graph, no engine): the floor an engine on NumPy can
  reach without fusing.

Before timing, step 0 of the three is compared: loss and every gradient (float64 agrees to ~1e-15;
float32 to ~1e-6). This prints ratios; it is not a test. Run from the repo root::

    .venv/bin/python bench/tensor.py             # ~15 s
    .venv/bin/python bench/tensor.py --quick     # a few seconds
    .venv/bin/python bench/tensor.py --profile   # plus cProfile of the tinygrad_tx step and
                                                 # each engine's fixed cost per step
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import sys
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from common import OtherLoad, engine_revision, print_profile, timed_step  # bench/common.py (scripts run from bench/)

import tinygrad_tx as tg

SIZES = (784, 256, 256, 10)
LR = 0.01
Params = list[np.ndarray]  # [W0, b0, W1, b1, W2, b2], W_l of shape (out, in) as in nn.Linear


# -------------------------------------------------------------------------------------- setup
def make_problem(batch: int, seed: int, sizes: tuple[int, ...] = SIZES) -> tuple[Params, np.ndarray, np.ndarray]:
    """float64 weights (nn.Linear's default init, U(±1/√fan_in)), one batch of inputs and labels."""
    rng = np.random.default_rng(seed)
    params: Params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        params.append(rng.uniform(-bound, bound, size=(fan_out, fan_in)))
        params.append(rng.uniform(-bound, bound, size=(fan_out,)))
    x = rng.standard_normal((batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=batch)
    return params, x, y


class Engine:
    """One implementation of the step, split into phases so each can be timed."""

    name = ""

    def forward(self) -> float:  # builds what backward needs; returns the loss
        raise NotImplementedError

    def backward(self) -> None:
        raise NotImplementedError

    def update(self) -> None:  # SGD, and dropping the gradients (zero_grad)
        raise NotImplementedError

    def grads(self) -> Params:  # after backward, before update
        raise NotImplementedError


# ------------------------------------------------------------------------------- tinygrad_tx
class TinygradTx(Engine):
    name = "tinygrad_tx"

    def __init__(self, params: Params, x: np.ndarray, y: np.ndarray, dtype: Any) -> None:
        self.params = [tg.Tensor(p.astype(dtype), requires_grad=True) for p in params]
        self.x = tg.Tensor(x.astype(dtype))
        self.y = y
        self.rows = np.arange(len(y))

    def forward(self) -> float:
        W0, b0, W1, b1, W2, b2 = self.params
        h = (self.x @ W0.T + b0).relu()
        h = (h @ W1.T + b1).relu()
        logits = h @ W2.T + b2
        self.loss = -logits.log_softmax(-1)[self.rows, self.y].mean()
        return self.loss.item()

    def backward(self) -> None:
        self.loss.backward()
        del self.loss

    def update(self) -> None:
        for p in self.params:
            # A new array, as tinygrad_tx.optim does: a parameter is never updated in place, so a
            # graph that saved the old array keeps it intact. (Costs an allocation per tensor.)
            p.data = p.data - LR * p.grad
            p.grad = None

    def grads(self) -> Params:
        return [p.grad.numpy() for p in self.params]


# ------------------------------------------------------------------------------------- torch
class Torch(Engine):
    name = "torch"

    def __init__(self, params: Params, x: np.ndarray, y: np.ndarray, dtype: Any) -> None:
        tdt = torch.float32 if np.dtype(dtype) == np.float32 else torch.float64
        self.params = [torch.tensor(p, dtype=tdt, requires_grad=True) for p in params]
        self.x = torch.tensor(x, dtype=tdt)
        self.y = torch.tensor(y)
        self.rows = torch.arange(len(y))

    def forward(self) -> float:
        W0, b0, W1, b1, W2, b2 = self.params
        h = F.linear(self.x, W0, b0).relu()
        h = F.linear(h, W1, b1).relu()
        logits = F.linear(h, W2, b2)
        self.loss = -logits.log_softmax(-1)[self.rows, self.y].mean()
        return self.loss.item()

    def backward(self) -> None:
        self.loss.backward()
        del self.loss

    def update(self) -> None:
        with torch.no_grad():
            for p in self.params:
                p -= LR * p.grad
                p.grad = None

    def grads(self) -> Params:
        return [p.grad.numpy() for p in self.params]


# ------------------------------------------------------------------------------------- numpy
class Numpy(Engine):
    """Forward storing everything, then the backward of ``manual/seeds.py``, batched, in row form:
    ``z_l = x_l W_lᵀ + b_l``;  ``dW_l = dz_lᵀ x_l``,  ``db_l = Σ_rows dz_l``,
    ``dz_{l-1} = 1[z_{l-1} > 0] ⊙ (dz_l W_l)``;  softmax-CE: ``dlogits = (softmax - onehot) / B``."""

    name = "numpy"

    def __init__(self, params: Params, x: np.ndarray, y: np.ndarray, dtype: Any) -> None:
        self.params = [p.astype(dtype) for p in params]
        self.x = x.astype(dtype)
        self.y = y
        self.rows = np.arange(len(y))

    def forward(self) -> float:
        W0, b0, W1, b1, W2, b2 = self.params
        z0 = self.x @ W0.T + b0
        x1 = np.maximum(z0, 0)
        z1 = x1 @ W1.T + b1
        x2 = np.maximum(z1, 0)
        logits = x2 @ W2.T + b2
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.saved = (z0, x1, z1, x2, logp)
        return float(-logp[self.rows, self.y].mean())

    def backward(self) -> None:
        W0, b0, W1, b1, W2, b2 = self.params
        z0, x1, z1, x2, logp = self.saved
        del self.saved
        B = len(self.y)
        dz2 = np.exp(logp)  # softmax
        dz2[self.rows, self.y] -= 1.0
        dz2 /= B
        dW2, db2 = dz2.T @ x2, dz2.sum(axis=0)
        dz1 = (dz2 @ W2) * (z1 > 0)
        dW1, db1 = dz1.T @ x1, dz1.sum(axis=0)
        dz0 = (dz1 @ W1) * (z0 > 0)
        dW0, db0 = dz0.T @ self.x, dz0.sum(axis=0)
        self._grads = [dW0, db0, dW1, db1, dW2, db2]

    def update(self) -> None:
        for p, g in zip(self.params, self._grads):
            p -= LR * g
        del self._grads

    def grads(self) -> Params:
        return self._grads


ENGINES: list[type[Engine]] = [TinygradTx, Torch, Numpy]


# -------------------------------------------------------------------------------- correctness
def check(params: Params, x: np.ndarray, y: np.ndarray, dtype: Any) -> list[str]:
    """Step 0 of the three engines: loss and every gradient, compared pairwise.

    ``grad rel`` is the largest, over the six parameter tensors, of max |difference| / max |gradient|.
    """
    results = {}
    for cls in ENGINES:
        eng = cls(params, x, y, dtype)
        loss = eng.forward()
        eng.backward()
        results[cls.name] = (loss, [np.asarray(g, dtype=np.float64) for g in eng.grads()])
    tol = 1e-10 if np.dtype(dtype) == np.float64 else 1e-4
    lines = []
    for a, b in (("tinygrad_tx", "numpy"), ("tinygrad_tx", "torch"), ("torch", "numpy")):
        (loss_a, grads_a), (loss_b, grads_b) = results[a], results[b]
        loss_rel = abs(loss_a - loss_b) / abs(loss_b)
        abs_diff = max(float(np.max(np.abs(ga - gb))) for ga, gb in zip(grads_a, grads_b))
        rel = max(float(np.max(np.abs(ga - gb)) / np.max(np.abs(gb))) for ga, gb in zip(grads_a, grads_b))
        ok = "yes" if loss_rel <= tol and rel <= tol else "NO"
        lines.append(f"{np.dtype(dtype).name:<8} {a + ' vs ' + b:<22} {loss_rel:>13.1e} {abs_diff:>14.1e} "
                     f"{rel:>9.1e}   {ok} ({tol:.0e})")
    return lines


# ------------------------------------------------------------------------------------- timing
def time_engines(params: Params, x: np.ndarray, y: np.ndarray, dtype: Any, steps: int, warmup: int,
                 rounds: int) -> dict[str, dict[str, list[float]]]:
    """Time ``steps`` steps per engine, in ``rounds`` blocks per engine taken in turn.

    Each block starts with ``warmup`` untimed steps. Taking the engines in turn spreads slow drift
    over all of them; the warmup matters because after a switch the previous library's worker
    threads (OpenBLAS, OpenMP) may still be spinning on the 2 cores.
    """
    engines = [cls(params, x, y, dtype) for cls in ENGINES]
    times: dict[str, dict[str, list[float]]] = {
        e.name: {"forward": [], "backward": [], "update": [], "step": []} for e in engines
    }
    per_round = max(1, steps // rounds)
    for _ in range(rounds):
        for e in engines:
            for _ in range(warmup):
                e.forward()
                e.backward()
                e.update()
            t = times[e.name]
            for _ in range(per_round):
                timed_step(e, t)
    return times


def ms(xs: list[float]) -> float:
    return 1e3 * statistics.median(xs)


# ---------------------------------------------------------------------------------- profiling
def profile(params: Params, x: np.ndarray, y: np.ndarray, dtype: Any, steps: int, top: int) -> None:
    eng = TinygradTx(params, x, y, dtype)
    for _ in range(3):
        eng.forward()
        eng.backward()
        eng.update()

    def run() -> None:
        for _ in range(steps):
            eng.forward()
            eng.backward()
            eng.update()

    prof = cProfile.Profile()
    prof.runcall(run)
    print_profile(prof, f"cProfile of {steps} tinygrad_tx steps ({np.dtype(dtype).name}; cProfile inflates "
                        f"Python-heavy code)", top)
    overhead(dtype)


def overhead(dtype: Any, steps: int = 1000) -> None:
    """The same step on a tiny MLP (4-4-4-2, batch 2): the arrays cost nothing, so what is left is
    each engine's fixed cost per step (Python, dispatch, graph bookkeeping)."""
    params, x, y = make_problem(2, 0, sizes=(4, 4, 4, 2))
    print(f"\nfixed cost per step ({np.dtype(dtype).name}, the same graph on a 4-4-4-2 MLP, batch 2; "
          f"median of {steps} steps):")
    for cls in ENGINES:
        e = cls(params, x, y, dtype)
        phases: dict[str, list[float]] = {"forward": [], "backward": [], "update": [], "step": []}
        for _ in range(steps // 10):  # warmup
            e.forward()
            e.backward()
            e.update()
        for _ in range(steps):
            timed_step(e, phases)
        f, b, u = (ms(phases[k]) for k in ("forward", "backward", "update"))
        print(f"  {cls.name:<12} forward {f:6.3f}  backward {b:6.3f}  update {u:6.3f}  step {f + b + u:6.3f} ms")


# --------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300, help="timed steps per engine and dtype (median)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=10, help="blocks per engine, taken in turn")
    parser.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="few steps (a few seconds)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the tinygrad_tx step, then measure each engine's fixed cost per step")
    parser.add_argument("--profile-steps", type=int, default=None, help="steps to profile (default 50)")
    parser.add_argument("--tune-allocator", action="store_true",
                        help="raise glibc's malloc thresholds first (tinygrad_tx.tune_allocator; all engines)")
    parser.add_argument("--top", type=int, default=25, help="rows of the profile")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.warmup, args.rounds = 20, 3, 2
    if args.profile_steps is None:
        args.profile_steps = 10 if args.quick else 50

    torch.set_num_threads(args.threads)
    dtypes = [np.float32, np.float64] if args.dtype == "both" else [np.dtype(args.dtype).type]
    params, x, y = make_problem(args.batch, args.seed)

    malloc: dict[str, Any] = {
        k: os.environ[k] for k in ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_") if k in os.environ
    }
    if args.tune_allocator:
        tune = getattr(tg, "tune_allocator", None)
        malloc["tune_allocator()"] = bool(tune and tune())
    print(f"tinygrad_tx {engine_revision()}, python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), cpus {os.cpu_count()}, "
          f"malloc {malloc or 'default'}")
    print(f"workload: MLP {'-'.join(map(str, SIZES))}, ReLU, batch {args.batch}, log_softmax + index CE, SGD")

    print("\ncheck: step 0 from the same weights and batch (numpy = the hand-derived backward)")
    print(f"{'dtype':<8} {'compare':<22} {'loss rel diff':>13} {'grad max|diff|':>14} {'grad rel':>9}   within")
    for dt in dtypes:
        for line in check(params, x, y, dt):
            print(line)

    print(f"\nms per step: median of {args.steps} steps per engine (min alongside), in {args.rounds} blocks "
          f"per engine taken in turn, each after {args.warmup} warmup steps")
    header = (f"{'dtype':<8} {'engine':<12} {'forward':>8} {'backward':>9} {'update':>7} {'step':>7} "
              f"{'min':>7} {'tinygrad_tx / this':>19}")
    print(header)
    print("-" * len(header))
    summary = []
    load = OtherLoad()
    load.start()
    for dt in dtypes:
        times = time_engines(params, x, y, dt, args.steps, args.warmup, args.rounds)
        ref = ms(times["tinygrad_tx"]["step"])
        for name, t in times.items():
            print(f"{np.dtype(dt).name:<8} {name:<12} {ms(t['forward']):8.2f} {ms(t['backward']):9.2f} "
                  f"{ms(t['update']):7.2f} {ms(t['step']):7.2f} {1e3 * min(t['step']):7.2f} "
                  f"{ref / ms(t['step']):19.2f}")
        summary.append(f"{np.dtype(dt).name}: tinygrad_tx/torch = {ref / ms(times['torch']['step']):.2f}x, "
                       f"tinygrad_tx/numpy = {ref / ms(times['numpy']['step']):.2f}x, "
                       f"numpy/torch = {ms(times['numpy']['step']) / ms(times['torch']['step']):.2f}x")
    load.stop()
    print(load.report())
    print()
    for line in summary:
        print(line)

    if args.profile:
        profile(params, x, y, dtypes[0], args.profile_steps, args.top)


if __name__ == "__main__":
    main()

