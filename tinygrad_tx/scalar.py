"""`Value`: the scalar engine. micrograd's idea, on the shared backward algorithm.

Every operation creates a new `Value` (``_node``) that remembers its (at most two) parents and the
local derivatives ``d out / d parent``, computed in the forward pass: ``_p0``/``_d0`` and
``_p1``/``_d1`` (read them together as ``_prev`` and ``local_derivatives``). For scalars the
Jacobian of an op is just those numbers, so the vector-Jacobian product is a multiplication:
``parent.grad += local · out.grad`` (``_backprop``). That is the whole chain rule.

Two kinds of local derivative are floats that multiply exactly as PyTorch's backward formulas do:

- ``_ZERO``: where the local derivative is zero by definition (relu at a <= 0, ``a ** 0``),
  ``_ZERO · g`` is exactly 0, so an inf or nan gradient arriving there stays out of the graph
  (PyTorch's ``where(mask, 0, g)``) instead of becoming ``0 · inf = nan``.
- ``_Reciprocal(b)``: where the local derivative is ``1/b`` (``log a``: 1/a; ``a / b``: 1/b),
  ``_Reciprocal(b) · g`` divides, ``g / b``, as PyTorch does: ``1/b`` overflows for a subnormal b
  (|b| < 2⁻¹⁰²²) where ``g / b`` may not (``0 / 1e-320`` is 0, ``0 · inf`` is nan).

Subtraction is derived (``a - b = a + (-b)``, the same bits in IEEE arithmetic), so add, mul,
truediv, pow, neg, exp, log, tanh, sigmoid, relu, max, min and abs carry the derivatives. Division is a primitive
rather than ``a * b**-1``, which overflows where ``a / b`` does not (``1e-320 / 1e-320`` is 1,
``1e-320 ** -1`` is inf).

Invalid math follows IEEE float arithmetic, exactly as NumPy and PyTorch do, instead of raising
Python's ``ValueError``/``ZeroDivisionError``/``OverflowError``: ``log(0) = -inf``,
``log(-1) = nan``, ``0 ** -1 = inf``, ``1 / 0 = inf``, ``(-8) ** (1/3) = nan`` (never a complex
number), ``exp(1000) = inf``, ``relu(nan) = nan``, for the values and for their derivatives. The
values are honest (they are what float math gives) and they propagate, so a nan in the loss is
visible rather than replaced by a wrong finite number. Use ``math.isfinite(v.data)`` to check.
``tests/test_edges_scalar_nn.py`` checks every op against PyTorch on such values.

A `Value` takes real numbers only: a Python int, float or bool, or a NumPy real scalar or 0-d
array (as ``float()`` takes them, and as PyTorch takes them next to a tensor). Anything else (a
str, None, a complex number, an array of several numbers, a `Tensor`) is a TypeError naming the op:
a `Tensor` would have its gradient dropped, so the two engines are never mixed silently.

Unlike micrograd, a `Value` holds no closure, so building a graph creates no reference cycles:
everything is freed by reference counting the moment it is dropped. Each node is also a single
object (its parents sit in two slots, not in a tuple), which halves what Python's garbage
collector has to scan while a graph is alive. ``bench/scalar.py`` measures micrograd's two-moons
step (65,818 nodes): see the README for the numbers; ``bench/variants.py`` measures the speed
tricks this file does without. `Value` is first-order: its derivatives are plain floats (use
`Tensor` and ``grad(create_graph=True)`` for higher-order derivatives). In forward mode (inside
``autograd.forward_ad.dual_level()``, ``make_dual(Value(3.0), 1.0)``) the same local derivatives multiply
tangents on the way forward: ``v.tangent`` is the directional derivative (`_node_with_tangent`).
"""

from __future__ import annotations

import math
import numbers

from .autograd import _freed_message, _grad_mode, forward_ad, run_backward

__all__ = ["Value"]

Number = int | float
_EXP_MAX = 709.782712893384  # math.exp overflows above log(DBL_MAX)
_MIX = ("cannot mix a Value (the scalar engine) and a Tensor in '{op}': use Tensor(v.data) for the value, "
        "or t.item() for a one-element tensor")


def _real(x: object, op: str) -> float:
    """``x`` as a float if it is a real number (see the module docstring), else a TypeError naming ``op``
    (an operator such as ``"+"``, or a call such as ``"Value(data)"``)."""
    if isinstance(x, numbers.Real):  # int, float, bool, Fraction, NumPy's int and float scalars
        try:
            return float(x)
        except OverflowError:  # an int beyond the float range (as PyTorch, an error: no silent inf)
            raise OverflowError(f"{_where(op)}: {_what(x)} is too large for a float") from None
    from .tensor import Tensor  # (imported here: tensor.py imports this module)

    if isinstance(x, Tensor):  # (a 0-d one too: its gradient would be dropped)
        raise TypeError(_MIX.format(op=op))
    if getattr(x, "ndim", None) == 0 and getattr(getattr(x, "dtype", None), "kind", None) in ("b", "i", "u", "f"):
        return float(x)  # numpy.bool_, or a 0-d NumPy array of bool, int or float
    expected = "a real number" if "(" in op else "a Value or a real number"
    raise TypeError(f"{_where(op)}: expected {expected} (int, float, bool, or a NumPy real scalar or 0-d array), "
                    f"got {_what(x)}")


def _where(op: str) -> str:
    return op if "(" in op else f"Value '{op}'"


def _what(x: object) -> str:
    """``x``'s type for an error message: "str", "numpy.ndarray of shape (2,) and dtype float64", "an int of 401
    digits"."""
    cls = type(x)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"
    if isinstance(x, int):
        return f"an int of {len(str(abs(x)))} digits"
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    return f"{name} of shape {tuple(shape)} and dtype {dtype}" if isinstance(shape, tuple) else name


# IEEE versions of the math functions: what float math gives, never an exception.
def _exp(x: float) -> float:
    return math.exp(x) if x < _EXP_MAX else (math.inf if x == x else x)


def _log(x: float) -> float:
    if x > 0:
        return math.log(x)  # also log(inf) = inf
    return -math.inf if x == 0 else math.nan


def _div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:  # a / ±0: ±inf, or nan for 0/0 and nan/0
        return math.nan if a == 0 or a != a else math.copysign(math.inf, a) * math.copysign(1.0, b)


def _pow(a: float, b: float) -> float:
    try:
        return math.pow(a, b)  # C's pow: pow(1, nan) = pow(nan, 0) = 1, pow(-inf, 0.5) = inf, ...
    except ValueError:  # 0 ** negative: ±inf (-0.0 ** odd keeps the sign); negative ** non-integer: nan
        if a == 0:
            return math.copysign(math.inf, a) if b % 2.0 == 1.0 else math.inf
        return math.nan
    except OverflowError:  # |a ** b| beyond the float range: negative only for a < 0 and an odd b
        return -math.inf if a < 0 and b % 2.0 == 1.0 else math.inf


class _Zero(float):
    """The float 0.0 as a local derivative that is zero by definition (relu at a <= 0, ``a ** 0``):
    ``_ZERO · g`` is exactly 0 for every g, inf and nan included, as PyTorch's ``where(mask, 0, g)``
    (a plain ``0.0 · inf`` would be nan)."""

    __slots__ = ()

    def __mul__(self, g: float) -> float:
        return 0.0

    __rmul__ = __mul__


_ZERO = _Zero(0.0)


class _Reciprocal(float):
    """The local derivative ``1/b`` (a float equal to it) that remembers ``b``: ``_Reciprocal(b) · g``
    is ``g / b``, as PyTorch's formulas compute it. ``1/b`` overflows for a subnormal b where ``g / b``
    may not: ``0 / 1e-320`` is 0, but ``0 · (1/1e-320) = 0 · inf`` is nan."""

    __slots__ = ("b",)

    def __new__(cls, b: float) -> _Reciprocal:
        self = super().__new__(cls, _div(1.0, b))
        self.b = b
        return self

    def __mul__(self, g: float) -> float:
        return _div(g, self.b)

    __rmul__ = __mul__

    def __reduce__(self) -> tuple[type, tuple[float]]:  # (copy and pickle: rebuilt from b, not from 1/b)
        return _Reciprocal, (self.b,)


class Value:
    """A scalar that remembers how it was computed, so that ``backward()`` can differentiate it.

    >>> x = Value(3.0, label="x"); y = Value(-4.0, label="y")
    >>> f = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)
    >>> f.backward(); round(x.grad, 6), round(y.grad, 6)
    (2.05957, 1.592233)
    """

    # parents in two slots, not a tuple: one GC-tracked object per node (a tuple: 1.3-1.9x the step, bench/variants.py)
    __slots__ = ("data", "grad", "_op", "_p0", "_p1", "_d0", "_d1", "_g", "label", "__weakref__")
    __array_ufunc__ = None  # NumPy defers to Value's operators: `array * v` is refused, not an array of Values

    def __init__(self, data: Number, label: str = "") -> None:
        if isinstance(data, Value):
            raise TypeError("Value(data): data is already a Value; use it directly")
        self.data = _real(data, "Value(data)")
        self.grad = 0.0
        self._op = ""
        self._p0 = self._p1 = None  # a leaf: no parents
        self._d0 = self._d1 = 0.0
        self._g = None  # the gradient in flight during a backward pass
        self.label = label  # a name, shown when the graph is drawn

    @property
    def tangent(self) -> float | None:
        """In forward mode (inside ``forward_ad.dual_level()``), the directional derivative this value
        carries: ``make_dual(x, 1.0)`` seeds it, every op passes it on (``ẏ = da · ȧ + db · ḃ``); else None."""
        return _tangents.get(self)

    def _make_dual(self, tangent: Number) -> Value:
        """``forward_ad.make_dual(v, tangent)`` for a `Value`: the same value (connected to ``v`` for
        reverse mode) carrying ``tangent``."""
        dual = _node(self.data, "dual", self, 1.0)
        _tangents[dual] = _real(tangent, "make_dual(tangent)")
        return dual

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
    def _push_parents(self, stack: list[Value], seen: set[Value]) -> None:
        p0 = self._p0
        if p0 is not None:
            if self._d0 is None:
                raise RuntimeError(_freed_message(self))
            if p0 not in seen:
                stack.append(p0)
            p1 = self._p1
            if p1 is not None and p1 not in seen:
                stack.append(p1)

    def _backprop(self, g: float, store: bool, release: bool) -> None:
        """The chain rule at this node: ``parent._g += d(self)/d(parent) · g`` for each parent (a `_ZERO`
        or `_Reciprocal` local derivative makes that product exact: see the module docstring)."""
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
    def __add__(self, other: Value | Number) -> Value:
        """out = a + b.   d out/da = 1, d out/db = 1 (add distributes the gradient)."""
        if not isinstance(other, Value):
            other = Value(_real(other, "+"))
        return _node(self.data + other.data, "+", self, 1.0, other, 1.0)

    def __mul__(self, other: Value | Number) -> Value:
        """out = a * b.   d out/da = b, d out/db = a (mul swaps the inputs)."""
        if not isinstance(other, Value):
            other = Value(_real(other, "*"))
        a, b = self.data, other.data
        return _node(a * b, "*", self, b, other, a)

    def __truediv__(self, other: Value | Number) -> Value:
        """out = a / b.   d out/da = 1/b (applied as g / b: see _Reciprocal), d out/db = -out/b."""
        if not isinstance(other, Value):
            other = Value(_real(other, "/"))
        b = other.data
        out = _div(self.data, b)
        return _node(out, "/", self, _Reciprocal(b), other, -_div(out, b))

    def __pow__(self, other: Value | Number) -> Value:
        """out = a ** b.   d out/da = b a^(b-1), exactly 0 where b = 0 (see _ZERO);
        d out/db = out · ln a, 0 where a = 0 and b >= 0 (no nan from 0 · log 0, as in PyTorch)."""
        a = self.data
        if isinstance(other, Value):
            b, exponent, op = other.data, other, "**"
        else:
            b = _real(other, "**")
            exponent, op = None, f"**{b:g}"
        out = _pow(a, b)
        d_a = _ZERO if b == 0.0 else b * _pow(a, b - 1.0)  # a ** 0 = 1 for every a, even inf and nan
        d_b = 0.0 if exponent is None or (a == 0.0 and b >= 0.0) else out * _log(a)
        return _node(out, op, self, d_a, exponent, d_b)

    def __neg__(self) -> Value:
        """out = -a.   d out/da = -1."""
        return _node(-self.data, "neg", self, -1.0)

    def neg(self) -> Value:
        """out = -a (the same as ``-a``)."""
        return -self

    def exp(self) -> Value:
        """out = e^a.   d out/da = out."""
        out = _exp(self.data)
        return _node(out, "exp", self, out)

    def log(self) -> Value:
        """out = ln a.   d out/da = 1/a (applied as g / a: see _Reciprocal)."""
        a = self.data
        return _node(_log(a), "log", self, _Reciprocal(a))

    def tanh(self) -> Value:
        """out = tanh a.   d out/da = 1 - out² = (1 - out)(1 + out) (factored: no cancellation near ±1)."""
        t = math.tanh(self.data)
        return _node(t, "tanh", self, (1.0 - t) * (1.0 + t))

    def sigmoid(self) -> Value:
        """out = σ(a) = 1 / (1 + e^-a).   d out/da = σ(a) (1 - σ(a))."""
        s = 1.0 / (1.0 + _exp(-self.data))
        return _node(s, "σ", self, (1.0 - s) * s)

    def relu(self) -> Value:
        """out = max(a, 0).   d out/da = 1 if a > 0, else exactly 0 (see _ZERO); the gradient at 0 is 0,
        relu(-0.0) = -0.0 and relu(nan) = nan with gradient 1, as in PyTorch."""
        a = self.data
        if a > 0 or a != a:
            return _node(a, "relu", self, 1.0)
        return _node(0.0 if a < 0 else a, "relu", self, _ZERO)

    def max(self, other: Value | Number) -> Value:
        """out = max(a, b).   d out/da = 1 if a > b, d out/db = 1 if b > a (max routes the gradient to the
        winner; the loser gets exactly 0, see _ZERO). A tie splits it: 1/2 each. A nan in either input gives
        nan with derivative 1 to both, as ``torch.maximum``.

        Python's ``max(a, b)`` uses the comparisons instead and returns the winning `Value` itself: no node,
        the whole gradient to that one."""
        if not isinstance(other, Value):
            other = Value(_real(other, "max"))
        a, b = self.data, other.data
        if a > b:
            return _node(a, "max", self, 1.0, other, _ZERO)
        if b > a:
            return _node(b, "max", self, _ZERO, other, 1.0)
        if a == b:
            return _node(a, "max", self, 0.5, other, 0.5)
        return _node(math.nan, "max", self, 1.0, other, 1.0)

    maximum = max  # (torch's name for the elementwise max of two)

    def min(self, other: Value | Number) -> Value:
        """out = min(a, b).   d out/da = 1 if a < b, d out/db = 1 if b < a, exactly 0 for the other; a tie
        splits it, 1/2 each; a nan gives nan with derivative 1 to both (as ``torch.minimum``)."""
        if not isinstance(other, Value):
            other = Value(_real(other, "min"))
        a, b = self.data, other.data
        if a < b:
            return _node(a, "min", self, 1.0, other, _ZERO)
        if b < a:
            return _node(b, "min", self, _ZERO, other, 1.0)
        if a == b:
            return _node(a, "min", self, 0.5, other, 0.5)
        return _node(math.nan, "min", self, 1.0, other, 1.0)

    minimum = min

    def abs(self) -> Value:
        """out = |a|.   d out/da = sign(a): 1 for a > 0, -1 for a < 0, 0 at 0 (a plain 0, so an infinite
        upstream gradient gives nan there, as in PyTorch) and at nan."""
        a = self.data
        return _node(abs(a), "abs", self, 1.0 if a > 0 else (-1.0 if a < 0 else 0.0))

    __abs__ = abs

    # Comparisons compare the data and return plain booleans (no graph: a comparison has no derivative), so
    # ``if a > b`` and Python's ``max(a, b)`` work. ``==`` and ``!=`` stay identity: a Value is a graph node,
    # kept in sets and dicts by the engine (compare ``a.data == b.data`` for the numbers).
    def __lt__(self, other: Value | Number) -> bool:
        return self.data < (other.data if isinstance(other, Value) else _real(other, "<"))

    def __le__(self, other: Value | Number) -> bool:
        return self.data <= (other.data if isinstance(other, Value) else _real(other, "<="))

    def __gt__(self, other: Value | Number) -> bool:
        return self.data > (other.data if isinstance(other, Value) else _real(other, ">"))

    def __ge__(self, other: Value | Number) -> bool:
        return self.data >= (other.data if isinstance(other, Value) else _real(other, ">="))

    # -- derived operations ---------------------------------------------------------------------
    def __sub__(self, other: Value | Number) -> Value:
        if not isinstance(other, Value):
            return self + Value(-_real(other, "-"))
        return self + (-other)

    def __radd__(self, other: Number) -> Value:
        return Value(_real(other, "+")) + self

    def __rsub__(self, other: Number) -> Value:
        return Value(_real(other, "-")) + (-self)

    def __rmul__(self, other: Number) -> Value:
        return Value(_real(other, "*")) * self

    def __rtruediv__(self, other: Number) -> Value:
        return Value(_real(other, "/")) / self

    def __rpow__(self, other: Number) -> Value:
        return Value(_real(other, "**")) ** self

    # -- backward ----------------------------------------------------------------------------
    def backward(self, gradient: Number = 1.0, retain_graph: bool = False) -> None:
        """Accumulate ``d self / d v`` into ``v.grad`` for every ``v`` this value depends on.

        Gradients add up across calls (``+=``): reset them with ``v.grad = 0.0``. The values saved
        for backward are released afterwards unless ``retain_graph=True``.
        """
        run_backward([self], [_real(gradient, "backward(gradient)")], retain_graph=retain_graph)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label})"

    # Values are graph nodes: compare them by identity, hash them by identity.
    __hash__ = object.__hash__


def _node(data: float, op: str, a: Value, da: float, b: Value | None = None, db: float = 0.0) -> Value:
    """A new graph node: ``data``, computed by ``op`` from ``a`` (and ``b``), with the local derivatives
    ``da = d data/d a`` and ``db = d data/d b``. Under ``no_grad`` it is a leaf."""
    out = object.__new__(Value)
    out.data = data
    out.grad = 0.0
    out._op = op
    out._g = None
    out.label = ""
    if _grad_mode.enabled:
        out._p0 = a
        out._d0 = da
        out._p1 = b
        out._d1 = db
    else:
        out._p0 = out._p1 = None
        out._d0 = out._d1 = 0.0
    return out


# ------------------------------------------------------------------------------- forward mode
# Inside ``forward_ad.dual_level()`` a Value may carry a tangent (kept here, by Value, until the level ends).
_tangents: dict[Value, float] = {}


def _node_with_tangent(data: float, op: str, a: Value, da: float, b: Value | None = None, db: float = 0.0) -> Value:
    """`_node` in forward mode: also ``ẏ = da · ȧ + db · ḃ``, the local derivatives that the reverse mode
    multiplies by ȳ, here multiplying the parents' tangents (a parent without one contributes nothing)."""
    out = _plain_node(data, op, a, da, b, db)
    ta, tb = _tangents.get(a), None if b is None else _tangents.get(b)
    if ta is not None or tb is not None:
        terms = [d * t for d, t in ((da, ta), (db, tb)) if t is not None]  # (d first: _ZERO, _Reciprocal)
        _tangents[out] = terms[0] if len(terms) == 1 else terms[0] + terms[1]
    return out


_plain_node = _node


def _forward_mode(on: bool) -> None:
    """Called by forward_ad when a level starts or ends: every op builds its node with `_node_with_tangent`
    only while forward mode is on (a check in `_node` itself cost 10-20% of bench/scalar.py's step)."""
    global _node
    _node = _node_with_tangent if on else _plain_node
    _tangents.clear()


forward_ad._level_listeners.append(_forward_mode)
