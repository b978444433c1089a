"""What would speed the engine up: measured prototypes of candidate changes (not the engine itself).

Each variant is built beside the engine, from its public API, and must give the same gradients as
the engine; then both are timed on the workload of ``bench/scalar.py`` or ``bench/tensor.py``.
The numbers back the suggestions in the benchmark report; nothing here is imported by tinygrad_tx.

Scalar (two-moons MLP step, 65,818 nodes):

- ``inline ops``: ``__add__``/``__mul__``/``relu`` fill the new node's slots themselves instead of
  calling the ``Value._result`` helper (one Python call fewer per node).
- ``specialised walk``: a backward loop for `Value` only: no ``_vjp`` tuple, no ``_receive`` or
  ``_release`` method call per node (same topological sort, same pending-gradient dict).
- ``slots, no tuples``: parents in two slots instead of a ``_prev`` tuple, so each node is one
  GC-tracked object instead of two, plus the specialised walk.

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
from tinygrad_tx.autograd import topological_order  # noqa: E402

_new = object.__new__


# ------------------------------------------------------------------------------ scalar variants
class InlineValue(Value):
    """The engine's node layout; the ops fill the new node's slots inline (no ``_result`` call)."""

    __slots__ = ()

    def __add__(self, other: Any) -> InlineValue:
        if type(other) is not InlineValue:
            other = InlineValue(other)
        out = _new(InlineValue)
        out.data, out.grad, out.label, out._op, out._freed = self.data + other.data, 0.0, "", "+", False
        out._prev, out._d0, out._d1 = (self, other), 1.0, 1.0
        return out

    def __mul__(self, other: Any) -> InlineValue:
        if type(other) is not InlineValue:
            other = InlineValue(other)
        a, b = self.data, other.data
        out = _new(InlineValue)
        out.data, out.grad, out.label, out._op, out._freed = a * b, 0.0, "", "*", False
        out._prev, out._d0, out._d1 = (self, other), b, a
        return out

    def __radd__(self, other: Any) -> InlineValue:
        return InlineValue(other) + self

    def __rmul__(self, other: Any) -> InlineValue:
        return InlineValue(other) * self

    def relu(self) -> InlineValue:
        a = self.data
        out = _new(InlineValue)
        out.data, out.grad, out.label, out._op, out._freed = (a if a > 0 else 0.0), 0.0, "", "relu", False
        out._prev, out._d0, out._d1 = (self,), (1.0 if a > 0 else 0.0), 0.0
        return out


def specialised_walk(root: Any) -> None:
    """``root.backward()`` for Values: the engine's sort, then a loop with the VJP written inline."""
    was_enabled = gc.isenabled()
    gc.disable()
    order = topological_order([root])
    pending = {root: 1.0}
    take, look = pending.pop, pending.get
    for node in reversed(order):
        g = take(node, None)
        parents = node._prev
        if g is not None:
            node.grad += g
            if parents:
                p = parents[0]
                prev, d = look(p), node._d0 * g
                pending[p] = d if prev is None else prev + d
                if len(parents) == 2:
                    p = parents[1]
                    prev, d = look(p), node._d1 * g
                    pending[p] = d if prev is None else prev + d
        if parents:
            node._freed = True
    if was_enabled:
        gc.enable()


class SlotValue:
    """A scalar node with its parents in two slots (``_a``, ``_b``): one GC-tracked object per node."""

    __slots__ = ("data", "grad", "label", "_op", "_a", "_b", "_da", "_db")
    __hash__ = object.__hash__

    def __init__(self, data: float, label: str = "") -> None:
        self.data, self.grad, self.label, self._op = float(data), 0.0, label, ""
        self._a = self._b = None
        self._da = self._db = 0.0

    def __add__(self, other: Any) -> SlotValue:
        if type(other) is not SlotValue:
            other = SlotValue(other)
        out = _new(SlotValue)
        out.data, out.grad, out.label, out._op = self.data + other.data, 0.0, "", "+"
        out._a, out._b, out._da, out._db = self, other, 1.0, 1.0
        return out

    def __mul__(self, other: Any) -> SlotValue:
        if type(other) is not SlotValue:
            other = SlotValue(other)
        a, b = self.data, other.data
        out = _new(SlotValue)
        out.data, out.grad, out.label, out._op = a * b, 0.0, "", "*"
        out._a, out._b, out._da, out._db = self, other, b, a
        return out

    def __radd__(self, other: Any) -> SlotValue:
        return SlotValue(other) + self

    def __rmul__(self, other: Any) -> SlotValue:
        return SlotValue(other) * self

    def relu(self) -> SlotValue:
        a = self.data
        out = _new(SlotValue)
        out.data, out.grad, out.label, out._op = (a if a > 0 else 0.0), 0.0, "", "relu"
        out._a, out._b, out._da, out._db = self, None, (1.0 if a > 0 else 0.0), 0.0
        return out

    def backward(self) -> None:
        was_enabled = gc.isenabled()
        gc.disable()
        order: list[SlotValue] = []
        seen: set[SlotValue] = set()
        waiting: list[SlotValue] = []
        stack: list[Any] = [self]
        while stack:
            node = stack.pop()
            if node is None:  # marker: all parents of the innermost waiting node are emitted
                order.append(waiting.pop())
                continue
            if node in seen:
                continue
            seen.add(node)
            waiting.append(node)
            stack.append(None)
            a = node._a
            if a is not None:
                if a not in seen:
                    stack.append(a)
                b = node._b
                if b is not None and b not in seen:
                    stack.append(b)
        pending = {self: 1.0}
        take, look = pending.pop, pending.get
        for node in reversed(order):
            g = take(node, None)
            if g is None:
                continue
            node.grad += g
            a = node._a
            if a is not None:
                prev = look(a)
                pending[a] = node._da * g if prev is None else prev + node._da * g
                b = node._b
                if b is not None:
                    prev = look(b)
                    pending[b] = node._db * g if prev is None else prev + node._db * g
        if was_enabled:
            gc.enable()


def scalar_model(cls: type, seed: int) -> sb.MLP:
    """bench/scalar.py's MLP with every parameter re-created as ``cls`` (same weights)."""
    random.seed(seed)
    model = sb.MLP(2, [16, 16, 1])
    for layer in model.layers:
        for n in layer.neurons:
            n.w = [cls(w.data) for w in n.w]
            n.b = cls(n.b.data)
    return model


def scalar_variants(repeats: int) -> None:
    Xa, ya = sb.make_moons(100, noise=0.1, seed=1337)
    X, y = Xa.tolist(), (ya * 2 - 1).astype(np.float64).tolist()
    variants: list[tuple[str, type, Any]] = [
        ("engine", Value, None),
        ("inline ops", InlineValue, None),
        ("specialised walk", Value, specialised_walk),
        ("inline ops + walk", InlineValue, specialised_walk),
        ("slots, no tuples", SlotValue, None),
    ]

    def step_grads(cls: type, walk: Any) -> list[float]:
        model = scalar_model(cls, 1337)
        loss = sb.loss_fn(model, cls, X, y)
        walk(loss) if walk else loss.backward()
        return [p.grad for p in model.parameters()]

    ref = step_grads(Value, None)
    print("scalar step (ms, median of", repeats, "steps after 1 warmup):")
    print(f"  {'variant':<20} {'same grads':>10} {'gc':>4} {'build':>7} {'backward':>9} {'step':>7} {'/ engine':>9}")
    for gc_on in (True, False):
        base = None
        for name, cls, walk in variants:
            same = step_grads(cls, walk) == ref
            model = scalar_model(cls, 1337)
            build, back = [], []
            gc.collect()
            (gc.enable if gc_on else gc.disable)()
            for k in range(repeats + 1):
                t0 = time.perf_counter()
                loss = sb.loss_fn(model, cls, X, y)
                t1 = time.perf_counter()
                sb.zero_grad(model)
                walk(loss) if walk else loss.backward()
                t2 = time.perf_counter()
                sb.sgd(model, k)
                del loss
                if not gc_on:
                    gc.collect()
                if k:
                    build.append(t1 - t0)
                    back.append(t2 - t1)
            gc.enable()
            b, w = 1e3 * statistics.median(build), 1e3 * statistics.median(back)
            base = base or b + w
            print(f"  {name:<20} {'yes' if same else 'NO':>10} {'on' if gc_on else 'off':>4} {b:7.1f} {w:9.1f} "
                  f"{b + w:7.1f} {(b + w) / base:9.2f}")


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
        p = np.exp(logp.data)
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
        if self.grad is None and g._data.shape == self.shape:
            self.grad = np.array(g._data, dtype=self.dtype, order="C", copy=True)
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
            bd = b.data
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
