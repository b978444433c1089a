"""What would speed the engine up: measured prototypes of candidate changes (not the engine itself).

Each variant is built beside the engine, from its public API, and must give the same gradients as
the engine; then both are timed on the workload of ``bench/scalar.py`` or ``bench/tensor.py``.
The numbers back the suggestions in the benchmark report; nothing here is imported by tinygrad_tx.

Scalar (two-moons MLP step, 65,818 nodes):

- ``Value-only walk``: the engine's sort and chain-rule loop written for `Value` alone, reading
  the node's slots inline instead of calling the node protocol: what sharing one backward
  algorithm with the tensor engine costs the scalar engine.

Tensor (MLP 784-256-256-10 step, via `tinygrad_tx.Function`):

- ``fused linear``: one ``Linear`` primitive (``x Wᵀ + b``; VJPs ``g W``, ``gᵀ x``, ``Σ_rows g``)
  instead of Permute + Matmul + Expand + Add and their backward ops.
- ``C-order grads``: a leaf's gradient stored C-contiguous. Today a weight used as ``W.T`` gets
  its gradient in the transposed (F-ordered) layout, so the SGD update runs strided. (Copying
  into C order just moves that cost into backward.)
- ``matmul VJP layout``: Matmul's VJP for a transposed operand (``W.T``) computed as ``(ȳᵀ a)ᵀ``,
  so ``W̄`` is born C-ordered: no strided copy and no strided update.
- ``fused CE``: one log-softmax + NLL primitive (VJP ``(softmax - onehot) / B``) instead of
  Amax, Expand, Neg, Add, Exp, Sum, Log, GetItem, Sum, Div.

Run from the repo root: ``.venv/bin/python bench/variants.py`` (about a minute) or ``--quick``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

# bench/scalar.py is imported here; bench/tensor.py only later, because it brings torch, whose
# objects would make every garbage collection in the scalar runs slower.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import scalar as sb  # noqa: E402

import tinygrad_tx as tg  # noqa: E402
from tinygrad_tx import Function, Value  # noqa: E402
from tinygrad_tx.autograd import _EMIT  # noqa: E402


# ------------------------------------------------------------------------------ scalar variants
def value_only_backward(root: Value) -> None:
    """``root.backward()`` with the sort and the chain-rule loop written for `Value` alone.

    The same algorithm as ``autograd.run_backward`` (post-order DFS with a marker, then the
    reverse walk with in-flight gradients on the nodes), but reading ``_p0``/``_p1``/``_d0``/
    ``_d1`` inline instead of calling the node protocol (``_push_parents``, ``_backprop``).
    The difference in time is what sharing one algorithm between the two engines costs.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    order: list[Value] = []
    seen: set[Value] = set()
    waiting: list[Value] = []
    stack: list[Any] = [root]
    emit = _EMIT
    while stack:
        node = stack.pop()
        if node is emit:
            order.append(waiting.pop())
            continue
        if node in seen:
            continue
        seen.add(node)
        waiting.append(node)
        stack.append(emit)
        p0 = node._p0
        if p0 is not None:
            if node._d0 is None:
                raise RuntimeError("released")
            if p0 not in seen:
                stack.append(p0)
            p1 = node._p1
            if p1 is not None and p1 not in seen:
                stack.append(p1)
    root._g = 1.0
    for node in reversed(order):
        g = node._g
        if g is None:
            continue
        node._g = None
        node.grad += g
        p0 = node._p0
        if p0 is not None:
            g0 = p0._g
            p0._g = node._d0 * g if g0 is None else g0 + node._d0 * g
            p1 = node._p1
            if p1 is not None:
                g1 = p1._g
                p1._g = node._d1 * g if g1 is None else g1 + node._d1 * g
            node._d0 = node._d1 = None
    if was_enabled:
        gc.enable()


def scalar_model(seed: int) -> sb.MLP:
    random.seed(seed)
    return sb.MLP(2, [16, 16, 1])


def scalar_variants(repeats: int) -> None:
    Xa, ya = sb.make_moons(100, noise=0.1, seed=1337)
    X, y = Xa.tolist(), (ya * 2 - 1).astype(np.float64).tolist()
    variants: list[tuple[str, Any]] = [("engine", None), ("Value-only walk", value_only_backward)]

    def step_grads(walk: Any) -> list[float]:
        model = scalar_model(1337)
        loss = sb.loss_fn(model, Value, X, y)
        walk(loss) if walk else loss.backward()
        return [p.grad for p in model.parameters()]

    ref = step_grads(None)
    print(f"scalar step (ms, median of {repeats} steps after 1 warmup, gc on; step includes freeing the graph):")
    print(f"  {'variant':<20} {'same grads':>10} {'build':>7} {'backward':>9} {'step':>7} {'/ engine':>9}")
    base = None
    for name, walk in variants:
        same = step_grads(walk) == ref
        model = scalar_model(1337)
        build, back, step = [], [], []
        gc.collect()
        for k in range(repeats + 1):
            t0 = time.perf_counter()
            loss = sb.loss_fn(model, Value, X, y)
            t1 = time.perf_counter()
            sb.zero_grad(model)
            walk(loss) if walk else loss.backward()
            t2 = time.perf_counter()
            sb.sgd(model, k)
            del loss
            t3 = time.perf_counter()
            if k:
                build.append(t1 - t0)
                back.append(t2 - t1)
                step.append(t3 - t0)
        b, w, st = (1e3 * statistics.median(v) for v in (build, back, step))
        base = base or st
        print(f"  {name:<20} {'yes' if same else 'NO':>10} {b:7.1f} {w:9.1f} {st:7.1f} {st / base:9.2f}")


# ------------------------------------------------------------------------------ tensor variants
class Linear(Function):
    """y = x Wᵀ + b.   x̄ = ȳ W,  W̄ = ȳᵀ x,  b̄ = Σ_rows ȳ"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x, W)
        return x @ W.T + b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, W = ctx.saved_tensors
        dx, dW, db = ctx.needs_input_grad
        return (g @ W if dx else None), (g.T @ x if dW else None), (g.sum(0) if db else None)


class SoftmaxCrossEntropy(Function):
    """L = -mean_i log softmax(z_i)[t_i].   z̄ = L̄ (softmax(z) - onehot(t)) / B"""

    @staticmethod
    def forward(ctx: Any, logits: np.ndarray, *, target: np.ndarray) -> np.ndarray:
        shifted = logits - logits.max(axis=1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        ctx.save_for_backward(logp)
        ctx.target = target
        return np.asarray(-logp[np.arange(len(target)), target].mean())

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (logp,) = ctx.saved_tensors
        p = np.exp(logp.detach().numpy())
        p[np.arange(len(ctx.target)), ctx.target] -= 1.0
        p /= len(ctx.target)
        return g * tg.Tensor(p)


@contextlib.contextmanager
def c_order_grads(enabled: bool) -> Iterator[None]:
    """While active, a leaf's first gradient is stored C-contiguous (the engine keeps the layout of
    the incoming gradient, which for a weight used as ``W.T`` is the transposed, F-ordered one, so
    every later elementwise op on ``.grad``, the optimizer's included, runs strided)."""
    if not enabled:
        yield
        return
    original = tg.Tensor._accumulate_grad

    def accumulate(self: Any, g: Any) -> None:
        if self._grad is None and g._data.shape == self.shape:
            self._grad = tg.Tensor._make(np.array(g._data, dtype=self.dtype, order="C", copy=True), False)
        else:
            original(self, g)

    tg.Tensor._accumulate_grad = accumulate  # type: ignore[method-assign]
    try:
        yield
    finally:
        tg.Tensor._accumulate_grad = original  # type: ignore[method-assign]


@contextlib.contextmanager
def layout_aware_matmul(enabled: bool) -> Iterator[None]:
    """While active, Matmul's VJP for ``b`` is computed as ``(ȳᵀ a)ᵀ`` when ``b`` is a transposed
    (F-ordered) view such as ``W.T``: then ``W̄`` comes out C-ordered, in ``W``'s own layout, with
    no transposed copy anywhere (the engine computes ``aᵀ ȳ`` and stores its transpose)."""
    if not enabled:
        yield
        return
    from tinygrad_tx import ops

    original = ops.Matmul.__dict__["backward"]

    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        gb = None
        if db:
            bd = b._data
            transposed = bd.ndim == 2 and bd.flags.f_contiguous and not bd.flags.c_contiguous
            gb = (g.mT @ a).mT if transposed else a.mT @ g
        return (g @ b.mT if da else None), gb

    ops.Matmul.backward = staticmethod(backward)  # type: ignore[method-assign]
    try:
        yield
    finally:
        ops.Matmul.backward = original  # type: ignore[method-assign]


def tensor_variants(steps: int, rounds: int) -> None:
    import tensor as tb  # bench/tensor.py

    class FusedStep(tb.TinygradTx):
        fuse_linear = False
        fuse_ce = False
        patch = ""

        def forward(self) -> float:
            W0, b0, W1, b1, W2, b2 = self.params

            def lin(x: Any, W: Any, b: Any) -> Any:
                return Linear.apply(x, W, b) if self.fuse_linear else x @ W.T + b

            h = lin(self.x, W0, b0).relu()
            h = lin(h, W1, b1).relu()
            logits = lin(h, W2, b2)
            if self.fuse_ce:
                self.loss = SoftmaxCrossEntropy.apply(logits, target=self.y)
            else:
                self.loss = -logits.log_softmax(-1)[self.rows, self.y].mean()
            return self.loss.item()

    params, x, y = tb.make_problem(128, 0)
    variants = {  # (fused linear, fused CE, patch: "c" C-order gradients, "m" layout-aware matmul VJP)
        "engine": (False, False, ""),
        "C-order grads": (False, False, "c"),
        "matmul VJP layout": (False, False, "m"),
        "fused CE": (False, True, ""),
        "fused linear": (True, False, ""),
        "fused linear + CE": (True, True, ""),
    }
    print(f"\ntensor step (ms, median of {steps} steps, {rounds} blocks per variant taken in turn):")
    print(f"  {'dtype':<8} {'variant':<18} {'grad rel vs engine':>18} {'step':>7} {'/ engine':>9}")
    for dt in (np.float32, np.float64):
        engines: dict[str, Any] = {}
        diffs: dict[str, float] = {}
        ref = None
        for name, (fl, fc, patch) in variants.items():
            e = type(name, (FusedStep,), {"fuse_linear": fl, "fuse_ce": fc, "patch": patch})(params, x, y, dt)
            e.forward()
            with c_order_grads("c" in patch), layout_aware_matmul("m" in patch):
                e.backward()
            grads = [np.asarray(g, np.float64) for g in e.grads()]
            ref = ref or grads
            diffs[name] = max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(grads, ref))
            e.update()
            engines[name] = e
        times: dict[str, list[float]] = {n: [] for n in engines}
        for _ in range(rounds):
            for name, e in engines.items():
                with c_order_grads("c" in e.patch), layout_aware_matmul("m" in e.patch):
                    for _ in range(5):
                        e.forward()
                        e.backward()
                        e.update()
                    for _ in range(max(1, steps // rounds)):
                        t0 = time.perf_counter()
                        e.forward()
                        e.backward()
                        e.update()
                        times[name].append(time.perf_counter() - t0)
        base = statistics.median(times["engine"])
        for name, ts in times.items():
            m = statistics.median(ts)
            print(f"  {np.dtype(dt).name:<8} {name:<18} {diffs[name]:18.1e} {1e3 * m:7.2f} {m / base:9.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", choices=["scalar", "tensor"], default=None)
    args = parser.parse_args(argv)
    load = sb.OtherLoad()
    load.start()
    print(f"tinygrad_tx {sb.engine_revision()}")
    if args.only in (None, "scalar"):
        scalar_variants(3 if args.quick else 11)
    if args.only in (None, "tensor"):
        tensor_variants(30 if args.quick else 150, 3 if args.quick else 6)
    load.stop()
    print(load.report())


if __name__ == "__main__":
    main()
