"""`Value`: the scalar engine. micrograd's idea, on the shared backward algorithm.

Every operation creates a new `Value` that remembers its (at most two) parents and the local
derivatives ``d out / d parent``, computed in the forward pass: ``_p0``/``_d0`` and ``_p1``/``_d1``
(read them together as ``_prev`` and ``local_derivatives``). For scalars the Jacobian of an op is
just those numbers, so the vector-Jacobian product is a multiplication:
``parent.grad += local * out.grad``. That is the whole chain rule.

Subtraction and division are derived (``a - b = a + (-b)``, ``a / b = a * b**-1``), so only
add, mul, pow, neg, exp, log, tanh, sigmoid and relu carry derivatives.

Invalid math follows IEEE float arithmetic, exactly as NumPy and PyTorch do, instead of raising
Python's ``ValueError``/``ZeroDivisionError``: ``log(0) = -inf``, ``log(-1) = nan``,
``0 ** -1 = inf``, ``(-8) ** (1/3) = nan`` (never a complex number), ``exp(1000) = inf``. The
values are honest (they are what float math gives) and they propagate, so a nan in the loss is
visible rather than replaced by a wrong finite number. Use ``math.isfinite(v.data)`` to check.

Unlike micrograd, a `Value` holds no closure, so building a graph creates no reference cycles:
everything is freed by reference counting the moment it is dropped. Each node is also a single
object (its parents sit in two slots, not in a tuple), which halves what Python's garbage
collector has to scan while a graph is alive. ``bench/scalar.py`` measures micrograd's two-moons
step (65,818 nodes): see the README for the numbers. `Value` is first-order: its derivatives are
plain floats (use `Tensor` and ``grad(create_graph=True)`` for higher-order derivatives).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .autograd import _freed_message, _grad_mode, _not_recording, run_backward

__all__ = ["Value"]

Number = int | float
_new = object.__new__
_EXP_MAX = 709.782712893384  # math.exp overflows above log(DBL_MAX)


# IEEE versions of the math functions: what float math gives, never an exception.
def _exp(x: float) -> float:
    return math.exp(x) if x < _EXP_MAX else (math.inf if x == x else x)


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)  # also log(inf) = inf
    return -math.inf if x == 0 else math.nan


def _pow(a: float, b: float) -> float:
    try:
        r = a**b
    except ZeroDivisionError:  # 0.0 ** negative
        odd_integer = b == int(b) and int(b) % 2 == 1
        return math.copysign(math.inf, a) if odd_integer else math.inf
    except OverflowError:
        return math.inf if a > 0 or (b == int(b) and int(b) % 2 == 0) else -math.inf
    return math.nan if isinstance(r, complex) else float(r)


class Value:
    """A scalar that remembers how it was computed, so that ``backward()`` can differentiate it.

    >>> x = Value(3.0, label="x"); y = Value(-4.0, label="y")
    >>> f = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)
    >>> f.backward(); round(x.grad, 6), round(y.grad, 6)
    (2.05957, 1.592233)
    """

    __slots__ = ("data", "grad", "_op", "_p0", "_p1", "_d0", "_d1", "_g", "_label", "__weakref__")

    def __init__(self, data: Number, label: str = "") -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use it directly")
        self.data = float(data)
        self.grad = 0.0
        self._op = ""
        self._p0 = self._p1 = None  # a leaf: no parents
        self._d0 = self._d1 = 0.0
        self._g = None
        if label:
            self._label = label

    @property
    def label(self) -> str:
        """A name, shown when the graph is drawn ("" unless one was given)."""
        return getattr(self, "_label", "")  # most nodes never get one, so the slot starts empty

    @label.setter
    def label(self, name: str) -> None:
        self._label = name

    @property
    def _freed(self) -> bool:
        """True once a backward released the local derivatives saved for it."""
        return self._d0 is None

    @property
    def _prev(self) -> tuple[Value, ...]:
        """The parents: the values this one was computed from (empty for a leaf)."""
        p0, p1 = self._p0, self._p1
        return () if p0 is None else (p0,) if p1 is None else (p0, p1)

    @property
    def local_derivatives(self) -> tuple[float, ...]:
        """d self / d parent for each parent in ``_prev`` (what the chain rule multiplies by)."""
        return (self._d0, self._d1)[: len(self._prev)]

    # -- the node protocol used by autograd.run_backward ---------------------------------------
    def _push_parents(self, push: Callable[[Value], None], seen: set[Value]) -> None:
        p0 = self._p0
        if p0 is not None:
            if self._d0 is None:
                raise RuntimeError(_freed_message(self))
            if p0 not in seen:
                push(p0)
            p1 = self._p1
            if p1 is not None and p1 not in seen:
                push(p1)

    def _backprop(self, g: float, store: bool, release: bool) -> None:
        """The chain rule at this node: ``parent._g += d(self)/d(parent) · g`` for each parent."""
        if store:
            self.grad += g
        p0 = self._p0
        if p0 is None:
            return
        g0 = p0._g
        p0._g = self._d0 * g if g0 is None else g0 + self._d0 * g
        p1 = self._p1
        if p1 is not None:
            g1 = p1._g
            p1._g = self._d1 * g if g1 is None else g1 + self._d1 * g
        if release:
            self._d0 = self._d1 = None  # the values saved for backward are released

    def _release(self) -> None:
        if self._p0 is not None:
            self._d0 = self._d1 = None

    def _op_name(self) -> str:
        return self._op or "leaf"

    # -- primitives: forward value and local derivatives ---------------------------------------
    # add and mul are what every neuron is made of, so they build their node in place: this is
    # `_node` written out (one Python call fewer per node: ~7 ms of an ~85 ms step in bench/scalar.py).
    def __add__(self, other: Value | Number) -> Value:
        """out = a + b.   d out/da = 1, d out/db = 1 (add distributes the gradient)."""
        if not isinstance(other, Value):
            other = Value(other)
        out = _new(Value)
        out.data = self.data + other.data
        out.grad = 0.0
        out._op = "+"
        out._g = None
        if _not_recording.count == 0 or _grad_mode.enabled:  # (fast is_grad_enabled())
            out._p0 = self
            out._d0 = 1.0
            out._p1 = other
            out._d1 = 1.0
        else:
            out._p0 = out._p1 = None
            out._d0 = out._d1 = 0.0
        return out

    def __mul__(self, other: Value | Number) -> Value:
        """out = a * b.   d out/da = b, d out/db = a (mul swaps the inputs)."""
        if not isinstance(other, Value):
            other = Value(other)
        a, b = self.data, other.data
        out = _new(Value)
        out.data = a * b
        out.grad = 0.0
        out._op = "*"
        out._g = None
        if _not_recording.count == 0 or _grad_mode.enabled:  # (fast is_grad_enabled())
            out._p0 = self
            out._d0 = b
            out._p1 = other
            out._d1 = a
        else:
            out._p0 = out._p1 = None
            out._d0 = out._d1 = 0.0
        return out

    def __pow__(self, other: Value | Number) -> Value:
        """out = a ** b.   d out/da = b a^(b-1);  d out/db = out · ln a (0 where a = 0, b >= 0)."""
        a = self.data
        if not isinstance(other, Value):
            b = float(other)
            out = _pow(a, b)
            return _node(out, f"**{other:g}", self, b * _pow(a, b - 1.0), None, 0.0)
        b = other.data
        out = _pow(a, b)
        d_b = 0.0 if (a == 0.0 and b >= 0.0) else out * _log(a)
        return _node(out, "**", self, b * _pow(a, b - 1.0), other, d_b)

    def __neg__(self) -> Value:
        """out = -a.   d out/da = -1."""
        return _node(-self.data, "neg", self, -1.0, None, 0.0)

    def neg(self) -> Value:
        """out = -a (the same as ``-a``)."""
        return -self

    def exp(self) -> Value:
        """out = e^a.   d out/da = out."""
        out = _exp(self.data)
        return _node(out, "exp", self, out, None, 0.0)

    def log(self) -> Value:
        """out = ln a.   d out/da = 1/a."""
        a = self.data
        d = 1.0 / a if a != 0.0 else math.inf
        return _node(_log(a), "log", self, d, None, 0.0)

    def tanh(self) -> Value:
        """out = tanh a.   d out/da = 1 - out²."""
        t = math.tanh(self.data)
        return _node(t, "tanh", self, 1.0 - t * t, None, 0.0)

    def sigmoid(self) -> Value:
        """out = σ(a) = 1 / (1 + e^-a).   d out/da = σ(a) (1 - σ(a))."""
        s = 1.0 / (1.0 + _exp(-self.data))
        return _node(s, "σ", self, (1.0 - s) * s, None, 0.0)

    def relu(self) -> Value:
        """out = max(a, 0).   d out/da = 1 if a > 0 else 0 (the gradient at 0 is 0, as in PyTorch)."""
        a = self.data
        return _node(a if a > 0 else 0.0, "relu", self, 1.0 if a > 0 else 0.0, None, 0.0)

    # -- derived operations ---------------------------------------------------------------------
    def __sub__(self, other: Value | Number) -> Value:
        return self + (-other)

    def __truediv__(self, other: Value | Number) -> Value:
        return self * other**-1

    def __radd__(self, other: Number) -> Value:
        return Value(other) + self

    def __rsub__(self, other: Number) -> Value:
        return Value(other) + (-self)

    def __rmul__(self, other: Number) -> Value:
        return Value(other) * self

    def __rtruediv__(self, other: Number) -> Value:
        return Value(other) * self**-1

    def __rpow__(self, other: Number) -> Value:
        return Value(other) ** self

    # -- backward ----------------------------------------------------------------------------
    def backward(self, gradient: Number = 1.0, retain_graph: bool = False) -> None:
        """Accumulate ``d self / d v`` into ``v.grad`` for every ``v`` this value depends on.

        Gradients add up across calls (``+=``): reset them with ``v.grad = 0.0``. The values saved
        for backward are released afterwards unless ``retain_graph=True``.
        """
        run_backward([self], [float(gradient)], retain_graph=retain_graph)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    # Values are graph nodes: compare them by identity, hash them by identity.
    __hash__ = object.__hash__


def _node(data: float, op: str, p0: Value, d0: float, p1: Value | None, d1: float) -> Value:
    """A new graph node: ``data``, computed by ``op`` from ``p0`` (and ``p1``), with the local
    derivatives ``d0 = d data/d p0`` and ``d1 = d data/d p1``. Under ``no_grad`` it is a leaf."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._op = op
    out._g = None
    if _not_recording.count == 0 or _grad_mode.enabled:  # (fast is_grad_enabled())
        out._p0 = p0
        out._d0 = d0
        out._p1 = p1
        out._d1 = d1
    else:
        out._p0 = out._p1 = None
        out._d0 = out._d1 = 0.0
    return out
