"""What would speed the engine up: measured prototypes of candidate changes (not the engine itself).

Each variant is built beside the engine, from its public API, and must give the same gradients as
the engine; then both are timed on the workload of ``bench/scalar.py`` or ``bench/tensor.py``.
The numbers back the suggestions in the benchmark report; nothing here is imported by tinygrad_tx.

Scalar (two-moons MLP step, 65,818 nodes). The engine keeps a speed trick only if it saves at least
10% of a step; these are the ones it leaves out, so that its code reads like the idea. In parentheses,
what each saved of the instructions of a step (``valgrind --tool=callgrind``, the mean of 4 steps
after a warmup; the wall times this prints are noisier on a shared machine):

- ``Value-only walk``: the engine's sort and chain-rule loop written for `Value` alone, reading
  the node's slots inline instead of calling the node protocol: what sharing one backward
  algorithm with the tensor engine costs the scalar engine.
- ``inline add/mul``: ``__add__`` and ``__mul__`` build their node in place instead of calling
  ``_node`` (4.3%).
- ``grad-mode count``: a process-wide count of the threads with grad mode off, so that a node
  skips the thread-local read while it is 0 (2.6%; grad_mode.py kept it as ``_ThreadsNotRecording``).
- ``float fast path``: ``Value(x)`` and the operators take a float or an int before the
  ``numbers.Real`` check (0.6%).
- ``empty label slot``: a node leaves ``label`` unset instead of storing "" (0.7%).
- ``sort aliases``: ``topological_order`` calls ``stack.pop`` and the like through local
  aliases (0.04%; 4.4% while the sort passed each node a bound ``stack.append``, made anew per
  node, where it now passes ``stack``).
- ``gc paused in walk``: the garbage collector off during the backward walk (nothing: -0.1% here,
  0.1% of the GPT step of ``bench/train_step.py``, tiny; the walk makes no GC-tracked objects for
  `Value`, and few for `Tensor`).
- ``parents in a tuple``: for comparison, the layout the engine does not use: a node's parents
  in a tuple, as micrograd keeps them, which doubles the objects the collector scans (17% more
  instructions, and 1.3-1.9x the time: why `Value` keeps its parents in two slots).

Tensor (MLP 784-256-256-10 step, via `tinygrad_tx.Function`), ``gc paused in walk`` and ``sort aliases``
again, and:

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
from tinygrad_tx import Function, Value, scalar  # noqa: E402
from tinygrad_tx.autograd import _EMIT, _grad_mode, graph  # noqa: E402
from tinygrad_tx.scalar import _real  # noqa: E402


# ------------------------------------------------------------------------------ scalar variants
# Each variant is a context manager: while it is active the engine runs with one change, and it yields
# the class the model is built of (`Value`, but for "parents in a tuple").
@contextlib.contextmanager
def patched(target: Any, **attrs: Any) -> Iterator[None]:
    """Set ``target.name = value`` for each of ``attrs`` while active (a module's function, a class's method)."""
    saved = {name: getattr(target, name) for name in attrs}
    for name, value in attrs.items():
        setattr(target, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(target, name, value)


@contextlib.contextmanager
def engine() -> Iterator[type]:
    yield Value


def value_only_backward(root: Value, gradient: float = 1.0, retain_graph: bool = False) -> None:
    """``root.backward()`` with the sort and the chain-rule loop written for `Value` alone.

    The same algorithm as ``autograd.run_backward`` (post-order DFS with a marker, then the
    reverse walk with in-flight gradients on the nodes), but reading ``_p0``/``_p1``/``_d0``/
    ``_d1`` inline instead of calling the node protocol (``_push_parents``, ``_backprop``).
    The difference in time is what sharing one algorithm between the two engines costs.
    """
    order: list[Value] = []
    seen: set[Value] = set()
    waiting: list[Value] = []
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _EMIT:
            order.append(waiting.pop())
            continue
        if node in seen:
            continue
        seen.add(node)
        waiting.append(node)
        stack.append(_EMIT)
        p0 = node._p0
        if p0 is not None:
            if node._d0 is None:
                raise RuntimeError("released")
            if p0 not in seen:
                stack.append(p0)
            p1 = node._p1
            if p1 is not None and p1 not in seen:
                stack.append(p1)
    root._g = gradient
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


@contextlib.contextmanager
def value_only_walk() -> Iterator[type]:
    with patched(Value, backward=value_only_backward):
        yield Value


def _inline_add(self: Value, other: Any) -> Value:
    """``Value.__add__`` building its node in place: `scalar._node` written out."""
    if not isinstance(other, Value):
        other = Value(scalar._real(other, "+"))
    out = object.__new__(Value)
    out.data = self.data + other.data
    out.grad = 0.0
    out._op = "+"
    out._g = None
    out.label = ""
    if _grad_mode.enabled:
        out._p0 = self
        out._d0 = 1.0
        out._p1 = other
        out._d1 = 1.0
    else:
        out._p0 = out._p1 = None
        out._d0 = out._d1 = 0.0
    return out


def _inline_mul(self: Value, other: Any) -> Value:
    """``Value.__mul__`` building its node in place."""
    if not isinstance(other, Value):
        other = Value(scalar._real(other, "*"))
    a, b = self.data, other.data
    out = object.__new__(Value)
    out.data = a * b
    out.grad = 0.0
    out._op = "*"
    out._g = None
    out.label = ""
    if _grad_mode.enabled:
        out._p0 = self
        out._d0 = b
        out._p1 = other
        out._d1 = a
    else:
        out._p0 = out._p1 = None
        out._d0 = out._d1 = 0.0
    return out


@contextlib.contextmanager
def inline_add_mul() -> Iterator[type]:
    """add and mul (what every neuron is made of) build their node in place: one Python call fewer per node."""
    with patched(Value, __add__=_inline_add, __mul__=_inline_mul):
        yield Value


class _ThreadsNotRecording:
    count = 0  # threads with grad mode off (grad_mode would count them, under a lock, on every mode change)


_not_recording = _ThreadsNotRecording()


def _node_with_mode_count(data: float, op: str, a: Value, da: float, b: Value | None = None,
                          db: float = 0.0) -> Value:
    """`scalar._node` that reads the thread-local grad mode only when some thread has it off."""
    out = object.__new__(Value)
    out.data = data
    out.grad = 0.0
    out._op = op
    out._g = None
    out.label = ""
    if _not_recording.count == 0 or _grad_mode.enabled:
        out._p0 = a
        out._d0 = da
        out._p1 = b
        out._d1 = db
    else:
        out._p0 = out._p1 = None
        out._d0 = out._d1 = 0.0
    return out


@contextlib.contextmanager
def grad_mode_count() -> Iterator[type]:
    """A process-wide count of the threads with grad mode off, so that a node skips the thread-local read
    (~70 ns) while it is 0. (The workload never leaves grad mode, so the count stays 0 here.)"""
    with patched(scalar, _node=_node_with_mode_count):
        yield Value


def _real_fast(x: object, op: str) -> float:
    cls = type(x)
    if cls is float:
        return x  # type: ignore[return-value]
    if cls is int:
        return float(x)  # type: ignore[arg-type]
    return _real(x, op)


def _init_fast(self: Value, data: Any, label: str = "") -> None:
    if type(data) is not float:
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use it directly")
        data = _real(data, "Value(data)")
    self.data = data
    self.grad = 0.0
    self._op = ""
    self._p0 = self._p1 = None
    self._d0 = self._d1 = 0.0
    self._g = None
    self.label = label


@contextlib.contextmanager
def float_fast_path() -> Iterator[type]:
    """``Value(x)`` and the operators' ``_real(x)`` take a float or an int before the ``numbers.Real`` check."""
    with patched(scalar, _real=_real_fast), patched(Value, __init__=_init_fast):
        yield Value


def _node_without_label(data: float, op: str, a: Value, da: float, b: Value | None = None,
                        db: float = 0.0) -> Value:
    """`scalar._node` leaving the ``label`` slot empty (a ``label`` property would then read it as "")."""
    out = object.__new__(Value)
    out.data = data
    out.grad = 0.0
    out._op = op
    out._g = None
    if _grad_mode.enabled:
        out._p0 = a
        out._d0 = da
        out._p1 = b
        out._d1 = db
    else:
        out._p0 = out._p1 = None
        out._d0 = out._d1 = 0.0
    return out


@contextlib.contextmanager
def empty_label_slot() -> Iterator[type]:
    """A node leaves its ``label`` slot empty instead of storing "" (one store fewer per node)."""
    with patched(scalar, _node=_node_without_label):
        yield Value


def topological_order_with_aliases(roots: Any) -> list[Any]:
    """`autograd.topological_order` with its bound methods held in locals (``push = stack.append``, ...)."""
    order: list[Any] = []
    seen: set[Any] = set()
    waiting: list[Any] = []
    stack: list[Any] = list(roots)
    emit = _EMIT
    push, pop, mark, wait, emit_node = stack.append, stack.pop, seen.add, waiting.append, order.append
    while stack:
        node = pop()
        if node is emit:
            emit_node(waiting.pop())
            continue
        if node in seen:
            continue
        mark(node)
        wait(node)
        push(emit)
        node._push_parents(stack, seen)
    return order


@contextlib.contextmanager
def sort_aliases() -> Iterator[type]:
    """The topological sort calls its lists' and set's methods through local aliases (no attribute lookups)."""
    with patched(graph, topological_order=topological_order_with_aliases):
        yield Value


_engine_walk = graph._walk


def _walk_gc_paused(*args: Any, **kwargs: Any) -> Any:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _engine_walk(*args, **kwargs)
    finally:
        if was_enabled:
            gc.enable()


@contextlib.contextmanager
def gc_paused_walk() -> Iterator[type]:
    """The garbage collector paused during the backward walk (the walk creates no reference cycles)."""
    with patched(graph, _walk=_walk_gc_paused):
        yield Value


class TupleValue:
    """`Value` with its parents in a tuple (``_prev``), as micrograd keeps them: two GC-tracked objects per
    node instead of one. Only what the workload uses (+, * and relu, as the engine computes them), with the
    same node protocol, so the engine's own walk runs it."""

    __slots__ = ("data", "grad", "_op", "_prev", "_d0", "_d1", "_g", "label", "__weakref__")

    def __init__(self, data: float, label: str = "") -> None:
        self.data, self.grad, self._op, self._prev = _real(data, "Value(data)"), 0.0, "", ()
        self._d0 = self._d1 = 0.0
        self._g, self.label = None, label

    def _push_parents(self, stack: list[Any], seen: set[Any]) -> None:
        if self._prev and self._d0 is None:
            raise RuntimeError("released")
        for p in self._prev:
            if p not in seen:
                stack.append(p)

    def _backprop(self, g: float, store: bool, release: bool) -> None:
        if store:
            self.grad += g
        prev = self._prev
        if not prev:
            return
        p0 = prev[0]
        g0 = p0._g
        p0._g = self._d0 * g if g0 is None else g0 + self._d0 * g
        if len(prev) == 2:
            p1 = prev[1]
            g1 = p1._g
            p1._g = self._d1 * g if g1 is None else g1 + self._d1 * g
        if release:
            self._d0 = self._d1 = None

    def _release(self) -> None:
        if self._prev:
            self._d0 = self._d1 = None

    def __add__(self, other: Any) -> TupleValue:
        if not isinstance(other, TupleValue):
            other = TupleValue(other)
        return _tuple_node(self.data + other.data, "+", (self, other), 1.0, 1.0)

    def __mul__(self, other: Any) -> TupleValue:
        if not isinstance(other, TupleValue):
            other = TupleValue(other)
        a, b = self.data, other.data
        return _tuple_node(a * b, "*", (self, other), b, a)

    def __radd__(self, other: Any) -> TupleValue:
        return TupleValue(other) + self

    def __rmul__(self, other: Any) -> TupleValue:
        return TupleValue(other) * self

    def relu(self) -> TupleValue:
        a = self.data
        if a > 0 or a != a:
            return _tuple_node(a, "relu", (self,), 1.0)
        return _tuple_node(0.0 if a < 0 else a, "relu", (self,), scalar._ZERO)

    def backward(self) -> None:
        graph.run_backward([self], [1.0])


def _tuple_node(data: float, op: str, prev: tuple[TupleValue, ...], d0: float, d1: float = 0.0) -> TupleValue:
    out = object.__new__(TupleValue)
    out.data = data
    out.grad = 0.0
    out._op = op
    out._g = None
    out.label = ""
    if _grad_mode.enabled:
        out._prev = prev
        out._d0 = d0
        out._d1 = d1
    else:
        out._prev = ()
        out._d0 = out._d1 = 0.0
    return out


@contextlib.contextmanager
def parents_in_a_tuple() -> Iterator[type]:
    with patched(sb, Value=TupleValue):  # bench/scalar.py's MLP makes its weights of sb.Value
        yield TupleValue


SCALAR_VARIANTS: dict[str, Any] = {
    "engine": engine,
    "Value-only walk": value_only_walk,
    "inline add/mul": inline_add_mul,
    "grad-mode count": grad_mode_count,
    "float fast path": float_fast_path,
    "empty label slot": empty_label_slot,
    "sort aliases": sort_aliases,
    "gc paused in walk": gc_paused_walk,
    "parents in a tuple": parents_in_a_tuple,
}


def scalar_variants(steps: int, rounds: int) -> None:
    Xa, ya = sb.make_moons(100, noise=0.1, seed=1337)
    X, y = Xa.tolist(), (ya * 2 - 1).astype(np.float64).tolist()

    def step_grads(name: str) -> list[float]:
        with SCALAR_VARIANTS[name]() as cls:
            random.seed(1337)
            model = sb.MLP(2, [16, 16, 1])
            loss = sb.loss_fn(model, cls, X, y)
            loss.backward()
        return [p.grad for p in model.parameters()]

    ref = step_grads("engine")
    same = {name: step_grads(name) == ref for name in SCALAR_VARIANTS}
    models: dict[str, Any] = {}
    times: dict[str, dict[str, list[float]]] = {name: {"build": [], "backward": [], "step": []} for name in same}
    turns = random.Random(0)
    for _ in range(rounds):  # the variants take turns (in a new order each round): a busy spell hits them all
        names = list(SCALAR_VARIANTS)
        turns.shuffle(names)
        for name in names:
            with SCALAR_VARIANTS[name]() as cls:
                if name not in models:
                    random.seed(1337)
                    models[name] = sb.MLP(2, [16, 16, 1])
                model, t = models[name], times[name]
                gc.collect()
                for k in range(steps + 1):
                    t0 = time.perf_counter()
                    loss = sb.loss_fn(model, cls, X, y)
                    t1 = time.perf_counter()
                    sb.zero_grad(model)
                    loss.backward()
                    t2 = time.perf_counter()
                    sb.sgd(model, k)
                    del loss
                    t3 = time.perf_counter()
                    if k:  # (the first step of a turn is a warmup)
                        t["build"].append(t1 - t0)
                        t["backward"].append(t2 - t1)
                        t["step"].append(t3 - t0)
    print(f"scalar step (ms, median of {steps * rounds} steps, {rounds} turns per variant, gc on; "
          f"step includes freeing the graph):")
    print(f"  {'variant':<20} {'same grads':>10} {'build':>7} {'backward':>9} {'step':>7} {'/ engine':>9}")
    base = statistics.median(times["engine"]["step"])
    for name, t in times.items():
        b, w, st = (1e3 * statistics.median(t[k]) for k in ("build", "backward", "step"))
        print(f"  {name:<20} {'yes' if same[name] else 'NO':>10} {b:7.1f} {w:9.1f} {st:7.1f} "
              f"{st / (1e3 * base):9.2f}")


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

    original_forward, original_backward = ops.Matmul.__dict__["forward"], ops.Matmul.__dict__["backward"]

    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # b's layout, noted here: Matmul saves b only if a needs a gradient
        ctx.b_transposed = b.ndim == 2 and b.flags.f_contiguous and not b.flags.c_contiguous
        return original_forward.__func__(ctx, a, b)

    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        gb = None
        if db:
            gb = (g.mT @ a).mT if ctx.b_transposed else a.mT @ g
        return (g @ b.mT if da else None), gb

    ops.Matmul.forward = staticmethod(forward)  # type: ignore[method-assign]
    ops.Matmul.backward = staticmethod(backward)  # type: ignore[method-assign]
    try:
        yield
    finally:
        ops.Matmul.forward = original_forward  # type: ignore[method-assign]
        ops.Matmul.backward = original_backward  # type: ignore[method-assign]


@contextlib.contextmanager
def tensor_patches(patch: str) -> Iterator[None]:
    """The patches named by letters: c C-order grads, m layout-aware matmul VJP, g gc paused in the walk,
    a sort aliases."""
    with contextlib.ExitStack() as stack:
        stack.enter_context(c_order_grads("c" in patch))
        stack.enter_context(layout_aware_matmul("m" in patch))
        if "g" in patch:
            stack.enter_context(gc_paused_walk())
        if "a" in patch:
            stack.enter_context(sort_aliases())
        yield


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
    variants = {  # (fused linear, fused CE, patch letters: see tensor_patches)
        "engine": (False, False, ""),
        "gc paused in walk": (False, False, "g"),
        "sort aliases": (False, False, "a"),
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
            with tensor_patches(patch):
                e.forward()
                e.backward()
            grads = [np.asarray(g, np.float64) for g in e.grads()]
            ref = ref or grads
            diffs[name] = max(float(np.max(np.abs(a - b)) / np.max(np.abs(b))) for a, b in zip(grads, ref))
            e.update()
            engines[name] = e
        times: dict[str, list[float]] = {n: [] for n in engines}
        for _ in range(rounds):
            for name, e in engines.items():
                with tensor_patches(e.patch):
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
        scalar_variants(2 if args.quick else 5, 2 if args.quick else 5)
    if args.only in (None, "tensor"):
        tensor_variants(30 if args.quick else 150, 3 if args.quick else 6)
    load.stop()
    print(load.report())


if __name__ == "__main__":
    main()
