"""`Value`: the scalar engine. micrograd's idea, on the shared backward algorithm.

Every operation creates a new `Value` that remembers its parents (``_prev``) and the local
derivatives ``d out / d parent`` (``_d0``, ``_d1``), computed in the forward pass. For scalars the
Jacobian of an op is just those numbers, so the vector-Jacobian product is a multiplication:
``parent.grad += local * out.grad``. That is the whole chain rule.

Subtraction and division are derived (``a - b = a + (-b)``, ``a / b = a * b**-1``), so only
add, mul, pow, neg, exp, log, tanh, sigmoid and relu carry derivatives.

Invalid math follows IEEE float arithmetic, exactly as NumPy and PyTorch do, instead of raising
Python's ``ValueError``/``ZeroDivisionError``: ``log(0) = -inf``, ``log(-1) = nan``,
``0 ** -1 = inf``, ``(-8) ** (1/3) = nan`` (never a complex number), ``exp(1000) = inf``. The
values are honest (they are what float math gives) and they propagate, so a nan in the loss is
visible rather than replaced by a wrong finite number. Use ``math.isfinite(v.data)`` to check.

Unlike micrograd, a `Value` holds no closure, so building a graph creates no reference cycles:
everything is freed by reference counting the moment it is dropped. Measured with
``bench/scalar.py`` (micrograd's two-moons step, 65,818 nodes): about 125 ms per step with the
default garbage collector, 97 ms with it off, against micrograd's 650 ms (and 122 ms gc off). The
remaining collector cost is CPython scanning the live graph, and grows with everything else the
process holds. `Value` is first-order: its derivatives are plain
floats (use `Tensor` and ``grad(create_graph=True)`` for higher-order derivatives).
"""

from __future__ import annotations

import math

from .autograd import _grad_mode, run_backward

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

    __slots__ = ("data", "grad", "label", "_op", "_prev", "_d0", "_d1", "_freed", "__weakref__")

    def __init__(
        self,
        data: Number,
        label: str = "",
        _prev: tuple[Value, ...] = (),
        _local: tuple[float, ...] = (),
        _op: str = "",
    ) -> None:
        """``_prev`` and ``_local`` (parents and local derivatives) are for building graph nodes."""
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use it directly")
        self.data = float(data)
        self.grad = 0.0
        self.label = label
        self._op = _op
        self._prev = _prev
        self._d0 = _local[0] if _local else 0.0
        self._d1 = _local[1] if len(_local) > 1 else 0.0
        self._freed = False

    @property
    def local_derivatives(self) -> tuple[float, ...]:
        """d self / d parent for each parent in ``_prev`` (what the chain rule multiplies by)."""
        return (self._d0, self._d1)[: len(self._prev)]

    # -- the node protocol used by autograd.run_backward ---------------------------------------
    def _vjp(self, g: float) -> tuple[float, ...]:
        if len(self._prev) == 1:
            return (self._d0 * g,)
        return (self._d0 * g, self._d1 * g)

    def _receive(self, g: float) -> None:
        self.grad += g

    def _release(self) -> None:
        self._freed = True  # (the saved local derivatives are two floats: nothing worth freeing)

    def _op_name(self) -> str:
        return self._op or "leaf"

    # -- construction helper -----------------------------------------------------------------
    @staticmethod
    def _result(data: float, prev: tuple[Value, ...], d0: float, d1: float, op: str) -> Value:
        out = _new(Value)
        out.data = data
        out.grad = 0.0
        out.label = ""
        out._op = op
        out._freed = False
        out._prev = prev if _grad_mode.enabled else ()
        out._d0 = d0
        out._d1 = d1
        return out

    # -- primitives: forward value and local derivatives ---------------------------------------
    def __add__(self, other: Value | Number) -> Value:
        """out = a + b.   d out/da = 1, d out/db = 1 (add distributes the gradient)."""
        other = other if isinstance(other, Value) else Value(other)
        return Value._result(self.data + other.data, (self, other), 1.0, 1.0, "+")

    def __mul__(self, other: Value | Number) -> Value:
        """out = a * b.   d out/da = b, d out/db = a (mul swaps the inputs)."""
        other = other if isinstance(other, Value) else Value(other)
        return Value._result(self.data * other.data, (self, other), other.data, self.data, "*")

    def __pow__(self, other: Value | Number) -> Value:
        """out = a ** b.   d out/da = b a^(b-1);  d out/db = out · ln a (0 where a = 0, b >= 0)."""
        a = self.data
        if not isinstance(other, Value):
            b = float(other)
            out = _pow(a, b)
            return Value._result(out, (self,), b * _pow(a, b - 1.0), 0.0, f"**{other:g}")
        b = other.data
        out = _pow(a, b)
        d_b = 0.0 if (a == 0.0 and b >= 0.0) else out * _log(a)
        return Value._result(out, (self, other), b * _pow(a, b - 1.0), d_b, "**")

    def __neg__(self) -> Value:
        """out = -a.   d out/da = -1."""
        return Value._result(-self.data, (self,), -1.0, 0.0, "neg")

    def exp(self) -> Value:
        """out = e^a.   d out/da = out."""
        out = _exp(self.data)
        return Value._result(out, (self,), out, 0.0, "exp")

    def log(self) -> Value:
        """out = ln a.   d out/da = 1/a."""
        a = self.data
        d = 1.0 / a if a != 0.0 else math.inf
        return Value._result(_log(a), (self,), d, 0.0, "log")

    def tanh(self) -> Value:
        """out = tanh a.   d out/da = 1 - out²."""
        t = math.tanh(self.data)
        return Value._result(t, (self,), 1.0 - t * t, 0.0, "tanh")

    def sigmoid(self) -> Value:
        """out = σ(a) = 1 / (1 + e^-a).   d out/da = σ(a) (1 - σ(a))."""
        s = 1.0 / (1.0 + _exp(-self.data))
        return Value._result(s, (self,), (1.0 - s) * s, 0.0, "σ")

    def relu(self) -> Value:
        """out = max(a, 0).   d out/da = 1 if a > 0 else 0 (the gradient at 0 is 0, as in PyTorch)."""
        a = self.data
        return Value._result(a if a > 0 else 0.0, (self,), 1.0 if a > 0 else 0.0, 0.0, "relu")

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
