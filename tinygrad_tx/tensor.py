"""`Tensor`: a NumPy array that records the primitives (``ops.py``) applied to it.

Names and semantics follow PyTorch (``dim``, ``keepdim``, ``transpose(dim0, dim1)``, ``amax``,
``max(dim)`` -> (values, indices), ``masked_fill``, ``cat``/``stack``/``where``), so a snippet moves
between PyTorch and tinygrad_tx by changing the import.

Broadcasting happens in exactly one place, `_broadcast`: operands are expanded to a common shape
with the `Expand` primitive (whose VJP sums over the broadcast dims) before any elementwise
primitive runs. Type promotion also happens in one place, `_result_dtype` (in ``_dtypes.py``, with the other
PyTorch dtype rules; argument normalisation is in ``_args.py``, index conversion in ``_indexing.py``, the
factory functions in ``_factories.py``).

Everything in this file above the primitives is composition: ``a - b`` is ``a + (-b)``, ``mean`` is
``sum / n``, ``softmax`` is ``exp(x - max) / sum``; their gradients come for free.
"""

from __future__ import annotations

import math
from collections import namedtuple
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from . import _dtypes, ops
from ._args import _normalize_dims, _reduction_dims, _shape_arg, _var_args
from ._dtypes import (
    _INT_END,
    _INT_MIN,
    _as_array,
    _check_int_operand,
    _checked_fill_value,
    _integer_power,
    _mixed_engines_message,
    _result_dtype,
    _wrapped_int,
    get_default_dtype,
    set_default_dtype,
)
from ._indexing import _index_arg, _kept_by_assignment, _split_integer_index, _write_at
from .autograd import function as _function
from .autograd import grad  # noqa: F401  (kept for old imports: tensor.grad is autograd.grad)
from .autograd.engine import backward as _backward
from .autograd.function import SavedArray, _guarded, _held
from .autograd.grad_mode import is_grad_enabled
from .scalar import Value

__all__ = [
    "Tensor", "tensor", "cat", "stack", "where", "grad", "manual_seed", "set_default_dtype", "get_default_dtype",
]

Scalar = int | float | bool
ArrayLike = Any
MaxResult = namedtuple("MaxResult", ["values", "indices"])
_NOT_GIVEN: Any = object()  # marks an argument left out (where None would be a value)

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind `randn`, `rand` and dropout."""
    global _rng
    _rng = np.random.default_rng(seed)


def _generator() -> np.random.Generator:
    return _rng


class Tensor:
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None)``: ``data`` is copied. Python floats become
    the default dtype (float32 unless `set_default_dtype` changed it); NumPy arrays keep theirs.
    """

    __slots__ = ("_data", "grad", "requires_grad", "_ctx", "_version", "name", "_g", "__weakref__")
    __array_ufunc__ = None  # make ``ndarray * Tensor`` call Tensor.__rmul__

    _prev: tuple[Any, ...] = ()  # a leaf has no parents (node protocol, see autograd.py)
    _freed = False
    _borrowed = False  # True for `_Borrowed`: it wraps a caller's ndarray without a copy

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None) -> None:
        arr = _as_array(data, None if dtype is None else np.dtype(dtype))
        self._data = arr
        self.grad: np.ndarray | None = None
        self._ctx: Any = None
        self._version = 0
        self.name: str | None = None
        self._g: Tensor | None = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
        """Wrap an array without copying (internal fast path)."""
        t = Tensor.__new__(Tensor)
        t._data = data
        t.grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t._version = 0
        t.name = None
        t._g = None
        return t

    @staticmethod
    def from_numpy(array: np.ndarray) -> Tensor:
        """A tensor that shares memory with ``array`` (no copy), like ``torch.from_numpy``."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
        array = array.view(np.ndarray) if isinstance(array, SavedArray) else array
        return Tensor._make(array, False)

    # ------------------------------------------------------------------------------ attributes
    @property
    def data(self) -> np.ndarray:
        """The underlying array. Assigning a new one counts as modifying the tensor. While a live graph
        has saved it for backward it is read-only (a `SavedArray` view, whose writes say why)."""
        return _guarded(self._data) if _held else self._data

    @data.setter
    def data(self, value: ArrayLike) -> None:
        value = value._data if isinstance(value, Tensor) else value
        if not isinstance(value, np.ndarray):
            value = np.asarray(value, dtype=self._data.dtype)
        elif isinstance(value, SavedArray):
            value = value.view(np.ndarray)
        self._data = value
        self._version += 1

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (not the output of a recorded operation)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Any:
        """The graph node (a `Function` instance) that produced this tensor, or None for a leaf."""
        return self._ctx

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return self.shape
        if self.ndim == 0:
            raise IndexError(f"size: dim {dim} was given but the tensor has no dims (shape ())")
        (d,) = _normalize_dims(dim, self.ndim, "size")
        return self.shape[d]

    def dim(self) -> int:
        return self.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied). Like PyTorch, refused if it requires grad."""
        if self.requires_grad:
            raise RuntimeError(
                "numpy(): this tensor requires grad; use tensor.detach().numpy() (or .data)"
            )
        return _guarded(self._data) if _held else self._data

    def tolist(self) -> Any:
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether gradients are recorded for this leaf tensor (in place; returns self)."""
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; this one has dtype "
                f"{self._data.dtype}. Convert it first, e.g. t.double() or t.float()"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) works on leaves only; use detach() instead")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep this intermediate tensor's gradient in ``.grad`` during backward (leaves always do)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if self._ctx is not None:
            self._ctx._retain(self)
        return self

    def detach(self) -> Tensor:
        """The same data (shared), cut out of the graph."""
        return Tensor._make(self._data, False)

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (its gradient flows to ``self``)."""
        return ops.Clone.apply(self)

    def _node(self) -> Any:
        return self if self._ctx is None else self._ctx

    def _op_name(self) -> str:
        return "leaf"

    # node protocol (see autograd.py): a leaf has no parents and stores what reaches it
    def _push_parents(self, stack: list[Any], seen: set[Any]) -> None:
        pass

    def _backprop(self, g: Tensor, store: bool, release: bool) -> None:
        if store:
            self._accumulate_grad(g)

    def _release(self) -> None:
        pass

    def _accumulate_grad(self, g: Tensor) -> None:
        gd = g._data
        if gd.shape != self.shape:
            raise RuntimeError(f"backward: gradient of shape {gd.shape} for a tensor of shape {self.shape}")
        if self.grad is None:  # an own, C-ordered copy (a transposed weight's gradient arrives strided)
            self.grad = np.array(gd, dtype=self.dtype, copy=True, order="C")
        elif self.grad.flags.writeable:
            self.grad += gd
        else:
            self.grad = self.grad + gd

    # ------------------------------------------------------------------------------ conversion
    def to(self, dtype: Any) -> Tensor:
        """This tensor converted to ``dtype`` (differentiable between floating dtypes)."""
        d = np.dtype(dtype)
        if d == self.dtype:
            return self
        if d.kind == "f" and self.dtype.kind == "f":
            return ops.Cast.apply(self, dtype=d)
        return Tensor._make(self._data.astype(d), False)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    # ------------------------------------------------------------------------------- backward
    def backward(
        self, gradient: ArrayLike | None = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate ``d self / d leaf`` into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is ``dL/d self``; it may be omitted only when self has one element. The graph's
        saved values are released afterwards unless ``retain_graph`` (or ``create_graph``) is set.
        """
        _backward(self, gradient, retain_graph=retain_graph or create_graph, create_graph=create_graph)

    # -------------------------------------------------------------------------- elementwise ops
    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(*_broadcast(self, other, "add"))

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(*_broadcast(other, self, "add"))

    def __sub__(self, other: Any) -> Tensor:
        _refuse_bool_subtraction(self, other)
        a, b = _broadcast(self, other, "sub")
        return ops.Add.apply(a, ops.Neg.apply(b))

    def __rsub__(self, other: Any) -> Tensor:
        _refuse_bool_subtraction(other, self)
        a, b = _broadcast(other, self, "sub")
        return ops.Add.apply(a, ops.Neg.apply(b))

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*_broadcast(self, other, "mul"))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*_broadcast(other, self, "mul"))

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*_broadcast(self, other, "div", floating=True))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*_broadcast(other, self, "div", floating=True))

    def __pow__(self, other: Any) -> Tensor:
        return _power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _power(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.FloorDivide.apply(*_integer_division_operands(self, other, "floor_divide"))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.FloorDivide.apply(*_integer_division_operands(other, self, "floor_divide"))

    def __mod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(*_integer_division_operands(self, other, "remainder"))

    def __rmod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(*_integer_division_operands(other, self, "remainder"))

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    # the method spellings of the operators (``torch.Tensor.add`` etc.)
    def add(self, other: Any, alpha: float = 1) -> Tensor:
        return self + (other * alpha if alpha != 1 else other)

    def sub(self, other: Any, alpha: float = 1) -> Tensor:
        return self - (other * alpha if alpha != 1 else other)

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def neg(self) -> Tensor:
        return ops.Neg.apply(self)

    def floor_divide(self, other: Any) -> Tensor:
        """⌊self / other⌋ (``//``): int64 for integer operands; no derivative, as in PyTorch."""
        return self // other

    def remainder(self, other: Any) -> Tensor:
        """self mod other (``%``) with the sign of ``other``, as Python and PyTorch."""
        return self % other

    def matmul(self, other: Any) -> Tensor:
        return matmul(self, other)

    # -- in place, with PyTorch's rules: ``with no_grad(): p -= lr * p.grad`` updates p itself --------
    def _inplace(self, compute: Any, op: str, operand: Any = None) -> Tensor:
        """Make ``self`` hold ``compute(old self)``. The old array is never written into (a graph
        may have saved it), and the op sees an alias of the old tensor, so what it saves is not the
        tensor being replaced; the version counter tells any other graph that saved self."""
        _refuse_value(operand, op)
        old = Tensor._make(self._data, self.requires_grad)
        old._ctx = self._ctx  # the same graph node as self before the update
        out = compute(old)
        if out.shape != self.shape:
            raise ValueError(f"{op}: a result of shape {out.shape} cannot be stored in place in shape {self.shape}")
        if out.dtype != self.dtype and not (out.dtype.kind == self.dtype.kind == "f"):
            raise TypeError(f"{op}: the result has dtype {out.dtype}, which cannot be stored in a {self.dtype} tensor")
        recording = is_grad_enabled()
        if recording and self.requires_grad and self._ctx is None:
            raise RuntimeError(
                f"{op}: in-place update of a leaf tensor that requires grad would change values the graph "
                f"uses; update parameters inside `with no_grad():` (as optimizers do)"
            )
        if out.dtype != self.dtype:
            out = out.to(self.dtype)
        if recording and self.requires_grad and not out.requires_grad:
            # the new value does not depend on the old one (fill_, zero_, copy_ of a constant): self
            # stays in the graph, and what it was computed from gets a zero gradient (as in PyTorch)
            out = where(True, out, old)
        elif recording and out.requires_grad and out._ctx is None:
            out = ops.Clone.apply(out)  # copy_(a leaf): a node of its own, so the gradient reaches the leaf
        if recording and out.requires_grad:  # self now stands for the new node of the graph
            node = self._ctx
            if node is not None and node._retained is not None and node._retained() is self:
                node._retained = None  # retain_grad follows the tensor: .grad is dL/d(the new value)
                out._ctx._retain(self)
            self._ctx, self.requires_grad = out._ctx, True
        self._data = out._data
        self._version += 1
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old + other, "add_", other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old - other, "sub_", other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old * other, "mul_", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old / other, "div_", other)

    def add_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._inplace(lambda old: old + (other * alpha if alpha != 1.0 else other), "add_", other)

    def sub_(self, other: Any, alpha: float = 1.0) -> Tensor:
        return self._inplace(lambda old: old - (other * alpha if alpha != 1.0 else other), "sub_", other)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old * other, "mul_", other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old / other, "div_", other)

    def zero_(self) -> Tensor:
        return self.fill_(0.0)

    def fill_(self, value: float) -> Tensor:
        _refuse_value(value, "fill_")
        v = _checked_fill_value(value._data.item() if isinstance(value, Tensor) else value, self.dtype, "fill_")
        return self._inplace(lambda old: Tensor._make(np.full(self.shape, v, self.dtype), False), "fill_")

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast, converted to self's dtype) into self; the gradient goes to ``src``,
        and what self was computed from gets 0."""
        _refuse_value(src, "copy_")
        if isinstance(src, (bool, int, float)):  # converted as an operand is: integers wrap (PyTorch)
            s = _to_tensor(src, self.dtype, "copy_")
        else:  # (straight to self's dtype, not through float32 first)
            s = src if isinstance(src, Tensor) else Tensor(src, dtype=self.dtype)
        if s.dtype != self.dtype:
            s = s.to(self.dtype)
        return self._inplace(lambda old: where(True, s, old), "copy_")

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    # floating-point functions: integer and bool tensors enter as the default dtype (as PyTorch)
    def exp(self) -> Tensor:
        return ops.Exp.apply(_floating(self))

    def log(self) -> Tensor:
        return ops.Log.apply(_floating(self))

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(_floating(self))

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(_floating(self))

    def relu(self) -> Tensor:
        if self._data.dtype == bool:
            raise TypeError(f"relu: bool tensors are not supported, as in PyTorch (shape {self.shape}); "
                            f"convert first, e.g. t.float()")
        return ops.Relu.apply(self)

    def erf(self) -> Tensor:
        return ops.Erf.apply(_floating(self))

    def sin(self) -> Tensor:
        return ops.Sin.apply(_floating(self))

    def cos(self) -> Tensor:
        return ops.Cos.apply(_floating(self))

    def sqrt(self) -> Tensor:
        return self**0.5

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    def rsqrt(self) -> Tensor:
        return self**-0.5

    def square(self) -> Tensor:
        return self * self

    def abs(self) -> Tensor:
        """|x| = relu(x) + relu(-x): gradient sign(x), and 0 at x = 0 and at NaN as in PyTorch. Integers
        (no gradient) take NumPy's abs, which wraps as PyTorch's does (int8 -128 stays -128)."""
        if self._data.dtype.kind == "f":
            return self.relu() + (-self).relu()
        if self._data.dtype == bool:
            raise TypeError(f"abs: not implemented for bool tensors, as in PyTorch (shape {self.shape})")
        return Tensor._make(np.abs(self._data), False)

    def maximum(self, other: Any) -> Tensor:
        return ops.Maximum.apply(*_broadcast(self, other, "maximum"))

    def minimum(self, other: Any) -> Tensor:
        a, b = _broadcast(self, other, "minimum")
        return -ops.Maximum.apply(-a, -b)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:
        """Clip to [min, max] (numbers or tensors that broadcast); the gradient passes to x where
        min ≤ x ≤ max, to a tensor bound where it is the result (PyTorch's convention). NaN stays NaN
        (with a zero gradient, as in PyTorch). A number bound must fit the result's dtype (uint8 and 300
        is refused; -1 wraps to 255, as in PyTorch); integer tensors are clipped without a graph."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        _refuse_value(min, "clamp")
        _refuse_value(max, "clamp")
        dt = self.dtype
        for bound in (min, max):
            if bound is not None:
                dt = _result_dtype(Tensor._make(np.empty((1,), dt), False), bound)
        if dt.kind == "b":
            raise NotImplementedError(f"clamp: not implemented for bool tensors, as in PyTorch (shape {self.shape})")
        min, max = (_bound(b, dt) for b in (min, max))
        if dt.kind != "f":  # nothing to differentiate: NumPy's clip (a NaN bound cannot occur here)
            out = self._data.astype(dt, copy=False)
            if min is not None:
                out = np.maximum(out, min._data if isinstance(min, Tensor) else min)
            if max is not None:
                out = np.minimum(out, max._data if isinstance(max, Tensor) else max)
            return Tensor._make(np.asarray(out, dtype=dt), False)
        out = self
        if min is not None:
            lo = min._data if isinstance(min, Tensor) else min
            out = where(out._data < lo, min, out)
        if max is not None:  # applied to the first result, so min > max gives max everywhere (PyTorch)
            hi = max._data if isinstance(max, Tensor) else max
            out = where(out._data > hi, max, out)
        if self._data.dtype.kind == "f":
            nan = np.isnan(self._data)
            if nan.any():
                out = where(nan, self._data, out)
        for bound in (min, max):  # a NaN bound makes every element NaN, with a zero gradient (PyTorch)
            if isinstance(bound, float) and math.isnan(bound):
                out = where(np.ones(out.shape, dtype=bool), math.nan, out)
        return out

    def clamp_min(self, min: Any) -> Tensor:
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Tensor:
        return self.clamp(max=max)

    clip = clamp

    # comparisons: not differentiable, they return bool tensors
    def _compare(self, other: Any, fn: Any, op: str) -> Tensor:
        _refuse_value(other, op)
        b = other._data if isinstance(other, Tensor) else other
        if type(b) is int and self._data.dtype.kind in "iu":  # PyTorch converts the number first: it wraps
            b = _wrapped_int(b, self._data.dtype, op)
        try:
            out = fn(self._data, b)
        except ValueError:
            raise ValueError(f"{op}: shapes {self.shape} and {np.shape(b)} cannot be broadcast together") from None
        return Tensor._make(np.asarray(out), False)

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less, "lt")

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal, "le")

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater, "gt")

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal, "ge")

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal, "eq")

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal, "ne")

    # bitwise ops, as PyTorch: logical on bool tensors, bitwise on integer ones, refused on floats
    def _bitwise(self, a: Any, b: Any, fn: Any, op: str) -> Tensor:
        for x in (a, b):
            _refuse_value(x, op)
            dt = x.dtype if isinstance(x, (Tensor, np.ndarray, np.generic)) else np.asarray(x).dtype
            if dt.kind not in "biu":
                what = f"dtype {dt}" if isinstance(x, (Tensor, np.ndarray)) else type(x).__name__
                raise TypeError(f"{op}: works on integer and bool tensors only, got {what}")
        dt = _result_dtype(a, b)
        av, bv = _to_tensor(a, dt)._data, _to_tensor(b, dt)._data
        try:
            out = np.asarray(fn(av, bv))
        except ValueError:
            raise ValueError(f"{op}: shapes {av.shape} and {bv.shape} cannot be broadcast together") from None
        return Tensor._make(out, False)

    def __and__(self, other: Any) -> Tensor:
        return self._bitwise(self, other, np.bitwise_and, "bitwise_and")

    def __rand__(self, other: Any) -> Tensor:
        return self._bitwise(other, self, np.bitwise_and, "bitwise_and")

    def __or__(self, other: Any) -> Tensor:
        return self._bitwise(self, other, np.bitwise_or, "bitwise_or")

    def __ror__(self, other: Any) -> Tensor:
        return self._bitwise(other, self, np.bitwise_or, "bitwise_or")

    def __xor__(self, other: Any) -> Tensor:
        return self._bitwise(self, other, np.bitwise_xor, "bitwise_xor")

    def __rxor__(self, other: Any) -> Tensor:
        return self._bitwise(other, self, np.bitwise_xor, "bitwise_xor")

    def __invert__(self) -> Tensor:
        if self.dtype.kind not in "biu":
            raise TypeError(f"bitwise_not: only integer and bool tensors, got dtype {self.dtype}")
        out = np.asarray(np.invert(self._data))
        return Tensor._make(out, False)

    __hash__ = object.__hash__  # tensors are graph nodes: hashed by identity

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                f"use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Whether any element (along ``dim``) is nonzero: a bool tensor (uint8 for uint8), as in PyTorch."""
        dims = _normalize_dims(dim, self.ndim, "any")
        return _logical_result(np.any(self._data, axis=dims, keepdims=keepdim), self.dtype)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along ``dim``) is nonzero: a bool tensor (uint8 for uint8), as in PyTorch."""
        dims = _normalize_dims(dim, self.ndim, "all")
        return _logical_result(np.all(self._data, axis=dims, keepdims=keepdim), self.dtype)

    # ---------------------------------------------------------------------------- reductions
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """Σ over ``dim`` (an int, a tuple, or None for all; an empty tuple also means all, as PyTorch).
        ``dtype``: the input is converted to it first (the gradient is converted back)."""
        x = _reduction_input(self, dtype, "sum")
        dims = _reduction_dims(dim, x.ndim, "sum")
        out = ops.Sum.apply(x, dims=dims, keepdim=keepdim)
        return out if dtype is None or out.dtype == dtype else out.to(dtype)  # NumPy sums small ints as int64

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """sum / n over ``dim``; ``dtype`` (floating) converts the input first, so integers are allowed."""
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise TypeError(f"mean: dtype must be a floating-point dtype, got {np.dtype(dtype)}")
        x = _reduction_input(self, dtype, "mean")
        _require_floating(x, "mean")
        dims = _reduction_dims(dim, x.ndim, "mean")
        n = math.prod(x.shape[d] for d in dims)
        return x.sum(dims, keepdim) / n

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """Π over one ``dim`` (an int), or over all elements; integers and bools give int64, as in
        PyTorch. The gradient is right where x has zeros (one or several), and so is its derivative."""
        if dim is not None and (isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer))):
            raise TypeError(f"prod: dim must be an int or None (PyTorch's prod reduces one dim or all), got {dim!r}")
        x = _reduction_input(self, dtype, "prod")
        dims = _normalize_dims(dim, x.ndim, "prod")
        out = ops.Prod.apply(x, dims=dims, keepdim=keepdim)
        return out if dtype is None or out.dtype == dtype else out.to(dtype)

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        """The vector norm over ``dim`` (None or an empty tuple: all elements), composed from
        primitives: p = 2 (also ``'fro'`` and None) √Σx², p = 1 Σ|x|, p = inf max |x|.

        Gradients as PyTorch's: x / ‖x‖ for p = 2 and 0 where ‖x‖ = 0 (not 0/0); sign(x) for p = 1;
        for p = inf sign(x) at the largest |x|, ties sharing evenly. Other p are not supported.
        """
        if isinstance(p, str) and p == "fro" and isinstance(dim, (tuple, list)) and len(dim) > 2:
            raise ValueError(f"norm: p='fro' takes at most 2 dims, got dim={dim} (shape {self.shape})")
        order = 2.0 if p is None or (isinstance(p, str) and p == "fro") else p
        if isinstance(order, str) or order not in (2, 1, math.inf):
            raise ValueError(f"norm: p={p!r} is not supported; use 2 (or 'fro'), 1 or inf")
        _require_floating(self, "norm")
        dims = _reduction_dims(dim, self.ndim, "norm")
        if order == 1:
            return self.abs().sum(dims, keepdim)
        if order == math.inf:
            ops._check_reducible(self.shape, dims, "norm")
            return self.abs().amax(dims, keepdim)
        return _sqrt_zero_grad_at_zero((self * self).sum(dims, keepdim))

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        """Σ (x - mean)² / (n - correction) over ``dim``; ``correction=0`` (``unbiased=False``) is the
        population variance, the default 1 Bessel's. Positional arguments as PyTorch's
        ``var(dim, unbiased, keepdim)``, and ``var(False)`` is ``var(unbiased=False)``."""
        dim, correction = _var_args(dim, unbiased, correction, "var")
        _require_floating(self, "var")
        dims = _reduction_dims(dim, self.ndim, "var")
        n = math.prod(self.shape[d] for d in dims)
        centered = self - self.mean(dims, keepdim=True)
        return (centered * centered).sum(dims, keepdim) / max(n - correction, 0)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        """√var. Where the variance is 0 the gradient is 0, as in PyTorch (not 0 · ∞ = nan)."""
        dim, correction = _var_args(dim, unbiased, correction, "std")
        _require_floating(self, "std")
        return _sqrt_zero_grad_at_zero(self.var(dim, keepdim=keepdim, correction=correction))

    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """The maximum over ``dim``; ties share the gradient evenly."""
        dims = _reduction_dims(dim, self.ndim, "amax")
        return ops.Amax.apply(self, dims=dims, keepdim=keepdim)

    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        if self.dtype.kind != "f":  # nothing to differentiate (and -x is refused for bool): NumPy's amin
            dims = _reduction_dims(dim, self.ndim, "amin")
            ops._check_reducible(self.shape, dims, "amin")
            return Tensor._make(np.asarray(np.amin(self._data, axis=dims, keepdims=keepdim)), False)
        return -(-self).amax(dim, keepdim)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """``max()``: the largest element (ties share the gradient evenly, like ``amax``).
        ``max(dim)``: ``(values, indices)``; the gradient goes to the element at ``indices``
        (the first maximum), as in PyTorch. ``max(other)``: the elementwise ``maximum``."""
        _refuse_value(dim, "max")
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        return self._select_along(np.argmax, dim, keepdim, "max")

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        _refuse_value(dim, "min")
        if isinstance(dim, Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        return self._select_along(np.argmin, dim, keepdim, "min")

    def _select_along(self, arg_fn: Any, dim: Any, keepdim: bool, op: str) -> MaxResult:
        if op in ("argmax", "argmin"):
            _refuse_bool_argument(self, op)
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} (amax/amin reduce several dims)")
        if self.ndim == 0:
            if dim not in (0, -1):
                raise IndexError(f"{op}: dim {dim} is out of range for a 0-d tensor")
            return MaxResult(self.clone(), Tensor._make(np.array(0), False))
        (d,) = _normalize_dims(dim, self.ndim, op)
        if self.shape[d] == 0:
            raise IndexError(f"{op}: cannot reduce dim {dim} of size 0 (shape {self.shape})")
        idx = np.expand_dims(arg_fn(self._data, axis=d), d)
        values = self.gather(d, idx)
        indices = Tensor._make(idx if keepdim else np.squeeze(idx, d), False)
        return MaxResult(values if keepdim else values.squeeze(d), indices)

    def argmax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return self._arg_all(np.argmax, keepdim, "argmax")
        return self._select_along(np.argmax, dim, keepdim, "argmax").indices

    def argmin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return self._arg_all(np.argmin, keepdim, "argmin")
        return self._select_along(np.argmin, dim, keepdim, "argmin").indices

    def _arg_all(self, arg_fn: Any, keepdim: bool, op: str) -> Tensor:
        """The flat index of the extreme element (keepdim: shaped (1, ..., 1), as PyTorch)."""
        _refuse_bool_argument(self, op)
        if self._data.size == 0:
            raise IndexError(f"{op}: the tensor of shape {self.shape} is empty")
        i = np.asarray(arg_fn(self._data), dtype=np.int64)
        return Tensor._make(i.reshape((1,) * self.ndim) if keepdim else i, False)

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[index[i][j]][j]`` for dim 0 (torch.gather): indexing, so its
        gradient scatter-adds. Indices must lie in [0, size) (no wrapping, as PyTorch)."""
        _refuse_value(index, "gather")
        idx = index._data if isinstance(index, Tensor) else np.asarray(index)
        if idx.ndim != self.ndim:
            raise ValueError(f"gather: index has {idx.ndim} dims, the tensor {self.ndim}")
        if self.ndim == 0:  # a 0-d index into a 0-d tensor: only 0 exists
            _normalize_dims(dim, 0, "gather")
            if int(idx) != 0:
                raise IndexError(f"gather: index {int(idx)} is out of bounds for a 0-d tensor")
            return self.clone()
        (d,) = _normalize_dims(dim, self.ndim, "gather")
        if idx.size and (idx.min() < 0 or idx.max() >= self.shape[d]):
            bad = idx.min() if idx.min() < 0 else idx.max()
            raise IndexError(f"gather: index {bad} is out of bounds for dim {dim} of size {self.shape[d]} "
                             f"(shape {self.shape})")
        grids = np.ogrid[tuple(slice(n) for n in idx.shape)]
        full = tuple(idx if i == d else grids[i] for i in range(self.ndim))
        return self[full]

    def softmax(self, dim: int = -1) -> Tensor:
        """exp(x - max) / Σ exp(x - max): the max shift changes nothing but keeps exp finite."""
        _require_floating(self, "softmax")
        if self._data.size == 0:  # nothing to normalise (and no maximum to shift by)
            _normalize_dims(dim, self.ndim, "softmax")
            return self * 1.0
        e = (self - self.amax(dim, keepdim=True).detach()).exp()
        return e / e.sum(dim, keepdim=True)

    def log_softmax(self, dim: int = -1) -> Tensor:
        """(x - max) - log Σ exp(x - max)."""
        _require_floating(self, "log_softmax")
        if self._data.size == 0:  # nothing to normalise (and no maximum to shift by)
            _normalize_dims(dim, self.ndim, "log_softmax")
            return self * 1.0
        shifted = self - self.amax(dim, keepdim=True).detach()
        return shifted - shifted.exp().sum(dim, keepdim=True).log()

    # -------------------------------------------------------------------------------- shapes
    def reshape(self, *shape: Any) -> Tensor:
        shape = _shape_arg(shape)
        if any(n < -1 for n in shape) or shape.count(-1) > 1:
            raise ValueError(f"reshape: invalid shape {shape} for a tensor of shape {self.shape}: sizes must be "
                             f"non-negative, with at most one -1 (the size inferred)")
        if shape == self.shape:
            return self
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Dims ``start_dim`` to ``end_dim`` merged into one (a 0-d tensor becomes shape (1,))."""
        s = _normalize_dims(start_dim, self.ndim, "flatten")
        e = _normalize_dims(end_dim, self.ndim, "flatten")
        if self.ndim == 0:
            return self.reshape(1)
        if s[0] > e[0]:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {self.shape})")
        merged = math.prod(self.shape[s[0] : e[0] + 1])
        return self.reshape(self.shape[: s[0]] + (merged,) + self.shape[e[0] + 1 :])

    def permute(self, *dims: Any) -> Tensor:
        dims = _shape_arg(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the dims of shape {self.shape}")
        dims = tuple(d % self.ndim for d in dims)
        if dims == tuple(range(self.ndim)):
            return self
        return ops.Permute.apply(self, dims=dims)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        d0 = _normalize_dims(dim0, self.ndim, "transpose")  # (with the range checks)
        d1 = _normalize_dims(dim1, self.ndim, "transpose")
        if self.ndim < 2 or d0 == d1:
            return self
        order = list(range(self.ndim))
        order[d0[0]], order[d1[0]] = d1[0], d0[0]
        return ops.Permute.apply(self, dims=tuple(order))  # a valid permutation by construction

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:
        return self.transpose(-2, -1)

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` (-1 keeps a dim); the VJP sums over the broadcast dims."""
        shape = _shape_arg(shape)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}: fewer dims")
        target = tuple(self.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(shape))
        for i, n in enumerate(self.shape):
            if n != 1 and n != target[lead + i]:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}")
        if target == self.shape:
            return self
        return ops.Expand.apply(self, shape=target)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(other.shape)

    def repeat(self, *repeats: Any) -> Tensor:
        """The tensor tiled ``repeats[i]`` times along dim i (``repeats`` may add leading dims), as
        ``torch.Tensor.repeat``: composed from reshape and expand, so the VJP sums the tiles."""
        if not repeats:
            raise TypeError("repeat: missing the repeats (one per dim, e.g. t.repeat(2, 1))")
        sizes = _shape_arg(repeats)
        if len(sizes) < self.ndim:
            raise ValueError(f"repeat: {len(sizes)} repeats {sizes} for a tensor with {self.ndim} dims "
                             f"(shape {self.shape}); give at least one per dim")
        if any(r < 0 for r in sizes):
            raise ValueError(f"repeat: repeats must be non-negative, got {sizes}")
        shape = (1,) * (len(sizes) - self.ndim) + self.shape
        interleaved = tuple(n for size in shape for n in (1, size))  # a new size-1 dim before each dim
        tiled = tuple(n for r, size in zip(sizes, shape) for n in (r, size))
        return self.reshape(interleaved).expand(tiled).reshape(tuple(r * n for r, n in zip(sizes, shape)))

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Dim ``dim`` split into dims of ``sizes`` (whose product is its size; one may be -1)."""
        if not isinstance(sizes, (tuple, list)):
            raise TypeError(f"unflatten: sizes must be a tuple of ints, got {type(sizes).__name__}")
        if self.ndim == 0:
            raise IndexError(f"unflatten: dim {dim} was given but the tensor has no dims (shape ())")
        (d,) = _normalize_dims(dim, self.ndim, "unflatten")
        sizes = tuple(int(n) for n in sizes)
        n = self.shape[d]
        if not sizes:
            raise ValueError(f"unflatten: sizes must be non-empty (dim {dim} of shape {self.shape})")
        if any(s < -1 for s in sizes) or sizes.count(-1) > 1:
            raise ValueError(f"unflatten: invalid sizes {sizes}: sizes must be non-negative, with at most one -1")
        known = math.prod(s for s in sizes if s != -1)
        if -1 in sizes:
            if known == 0:
                raise ValueError(f"unflatten: the -1 in sizes {sizes} is ambiguous next to a 0 "
                                 f"(dim {dim} of shape {self.shape})")
            sizes = tuple(n // known if s == -1 else s for s in sizes)
        if math.prod(sizes) != n:
            raise ValueError(f"unflatten: sizes {sizes} do not multiply up to {n}, the size of dim {dim} "
                             f"(shape {self.shape})")
        return self.reshape(self.shape[:d] + sizes + self.shape[d + 1 :])

    def squeeze(self, dim: Any = None) -> Tensor:
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = _normalize_dims(dim, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1)))

    def unsqueeze(self, dim: int) -> Tensor:
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for shape {self.shape}")
        d = dim % (self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def contiguous(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        index = _index_arg(index, "getitem")
        first, rest = _split_integer_index(index)
        if first is not None:  # PyTorch applies integers first (a select), then the array indices
            return ops.GetItem.apply(ops.GetItem.apply(self, index=first), index=rest)
        return ops.GetItem.apply(self, index=index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``self[index] = value``. Recorded when self or value takes part in a graph (as PyTorch):
        the value's gradient is the upstream gradient at ``index``, the old values' is 0 there."""
        _refuse_value(value, "setitem")
        index = _index_arg(index, "setitem")
        grad_value = isinstance(value, Tensor) and value.requires_grad
        if is_grad_enabled() and (self.requires_grad or grad_value):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(
                    "setitem: in-place assignment into a leaf tensor that requires grad would change values "
                    "the graph depends on; assign inside `with no_grad():`, or build a new tensor with "
                    "where(), masked_fill() or cat()"
                )
            self._inplace(lambda old: _assign(old, index, value), "setitem")
            return
        new = np.array(self._data, copy=True)  # never write into an array a graph may have saved
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(v, (bool, int, float)):
            v = _checked_fill_value(v, self.dtype, "setitem", half_to_inf=True)
        try:
            _write_at(new, index, v)
        except ValueError as e:
            raise ValueError(f"setitem: cannot assign a value of shape {np.shape(v)} into a tensor of shape "
                             f"{self.shape} at this index: {e}") from None
        self.data = new

    def __index__(self) -> int:
        """A one-element integer tensor used as an index (``range(t)``, ``x[t:]``, ``list[t]``)."""
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only a one-element integer tensor can be an index, got dtype {self.dtype} "
                            f"and shape {self.shape}")
        return int(self._data.item())

    def __iter__(self) -> Iterator[Tensor]:
        for i in range(len(self)):
            yield self[i]

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes.
        (``torch.Tensor.split`` names it ``split_size``; the function ``torch.split``, ``split_size_or_sections``.)"""
        if self.ndim == 0:
            raise ValueError("split: a 0-d tensor has no dim to split")
        (d,) = _normalize_dims(dim, self.ndim, "split")
        n = self.shape[d]
        if isinstance(split_size, (int, np.integer)):
            size = int(split_size)
            if size <= 0:
                raise ValueError(f"split: split_size must be positive, got {size}")
            sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
        else:
            sizes = [int(s) for s in split_size]
            if sum(sizes) != n:
                raise ValueError(f"split: sizes {sizes} do not add up to {n} (dim {dim} of shape {self.shape})")
        pieces, start = [], 0
        lead = (slice(None),) * d
        for s in sizes:
            pieces.append(self[lead + (slice(start, start + s),)])
            start += s
        return tuple(pieces)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        if self.ndim == 0:
            raise ValueError("chunk: a 0-d tensor has no dim to split")
        (d,) = _normalize_dims(dim, self.ndim, "chunk")
        return self.split(max(1, -(-self.shape[d] // chunks)), d)

    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (``torch.Tensor.where``)."""
        return where(condition, self, other)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` (a number or a 0-d tensor) where ``mask`` is true, else self. The result keeps
        self's dtype, as in PyTorch; the gradient flows to self where mask is false."""
        _refuse_value(mask, "masked_fill")
        _refuse_value(value, "masked_fill")
        m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        if m.dtype != bool:
            raise TypeError(f"masked_fill: the mask must be boolean, got dtype {m.dtype}")
        if isinstance(value, Tensor) and value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        fill = _checked_fill_value(value._data.item() if isinstance(value, Tensor) else value, self.dtype)
        if self.dtype.kind != "f":  # converted first (as PyTorch): no round trip through a float dtype
            value = np.asarray(fill, dtype=self.dtype)
        out = where(m, value, self)
        return out if out.dtype == self.dtype else out.to(self.dtype)

    # --------------------------------------------------------------------------------- display
    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", precision=4, prefix="Tensor(")
        extra = f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"


_function._tensor_class = Tensor  # autograd builds op outputs as this class (so autograd imports no tensor code)


# ------------------------------------------------------------------------- broadcasting & dtypes


def _refuse_bool_argument(t: Tensor, op: str) -> None:
    if t._data.dtype == bool:
        raise TypeError(f"{op}: bool tensors are not supported, as in PyTorch (shape {t.shape}); convert first, "
                        f"e.g. t.long()")


def _logical_result(found: Any, dtype: np.dtype) -> Tensor:
    """The result of any/all: bool, except uint8 for a uint8 tensor (PyTorch keeps that one)."""
    dt = np.dtype(np.uint8) if dtype == np.uint8 else np.dtype(bool)
    return Tensor._make(np.asarray(found, dtype=dt), False)


def _bound(bound: Any, dtype: np.dtype) -> Any:
    """A clamp bound: a number converted to ``dtype`` with PyTorch's overflow check, a tensor as it is."""
    if bound is None or isinstance(bound, Tensor):
        return bound
    if isinstance(bound, np.ndarray):
        return Tensor(bound)
    return _checked_fill_value(bound, dtype, "clamp")


def _floating(t: Tensor) -> Tensor:
    """``t`` as a floating-point tensor: integer and bool tensors become the default dtype (PyTorch)."""
    return t if t._data.dtype.kind == "f" else t.to(_dtypes._default_dtype)


def _sqrt_zero_grad_at_zero(v: Tensor) -> Tensor:
    """√v with gradient 0 where v = 0 (PyTorch's std and norm), not 0 · ∞ = nan. The inner where
    keeps √ away from 0, the outer puts the 0s back."""
    zero = v._data == 0
    if not zero.any():
        return v.sqrt()
    return where(zero, 0.0, where(zero, 1.0, v).sqrt())


def _require_floating(t: Tensor, op: str) -> None:
    if t._data.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {t.dtype}; convert it first, e.g. t.float()")


def _reduction_input(t: Tensor, dtype: Any, op: str) -> Tensor:
    """``t`` converted to a reduction's ``dtype=`` (PyTorch converts before reducing). A dtype that
    cannot carry a gradient is refused for a tensor that requires one, as in PyTorch."""
    if dtype is None:
        return t
    d = np.dtype(dtype)
    if d.kind != "f" and t.requires_grad and is_grad_enabled():
        raise TypeError(f"{op}: dtype {d} cannot carry a gradient, and the tensor (shape {t.shape}) requires "
                        f"grad; detach() it or reduce inside no_grad()")
    return t.to(d)


def _refuse_bool_subtraction(a: Any, b: Any) -> None:
    """PyTorch refuses ``-`` with a bool operand (a bool tensor, or True/False), so do we."""
    for x in (a, b):
        if isinstance(x, (bool, np.bool_)) or (isinstance(x, (Tensor, np.ndarray)) and x.dtype == bool):
            raise TypeError(
                f"sub: subtraction with a bool operand is not supported, as in PyTorch (shapes {np.shape(a)} and "
                f"{np.shape(b)}); to invert a mask use ~mask, or convert it first, e.g. mask.float()"
            )


def _power(base: Any, exponent: Any) -> Tensor:
    """``base ** exponent`` with PyTorch's rules around the `Pow` primitive: a Python number as the
    exponent must fit the base's dtype (int8 ** 300 and float16 ** 1e5 are refused) and an integer
    tensor to a negative Python integer is refused; bool ** bool is not implemented, except a bool
    tensor to True or False. Integer tensors to integer tensors follow integer arithmetic: where the
    exponent is negative, 1 and -1 give ±1 and everything else 0."""
    if _fits_any_float(exponent, base) or (type(exponent) is int and isinstance(base, Tensor)
                                           and base._data.dtype.kind == "f" and -65504 <= exponent <= 65504):
        return ops.Pow.apply(*_broadcast(base, exponent, "pow"))  # the common case (x ** 2, x ** -0.5)
    if isinstance(base, Tensor) and isinstance(exponent, (bool, int, float)):
        d = base.dtype
        if d.kind == "b" and isinstance(exponent, bool):  # x ** True = x, x ** False = True
            result = base._data if exponent else np.ones(base.shape, dtype=bool)
            return Tensor._make(result, False)
        if d.kind in "biu" and isinstance(exponent, int) and not isinstance(exponent, bool):
            if exponent < 0:
                raise RuntimeError(f"pow: integers to negative integer powers are not allowed, as in PyTorch "
                                   f"(a {d} tensor of shape {base.shape} to the power {exponent}); use a float "
                                   f"exponent ({float(exponent)}) or convert the tensor first, e.g. t.float()")
            if d.kind != "b" and exponent > np.iinfo(d).max:
                raise RuntimeError(f"pow: the exponent {exponent} cannot be converted to {d} without overflow")
        if d == np.float16 and isinstance(exponent, (int, float)) and abs(exponent) > 65504:
            raise RuntimeError(f"pow: the exponent {exponent} cannot be converted to float16 without overflow")
    a, b = _broadcast(base, exponent, "pow")
    if a._data.dtype.kind == "b":
        raise NotImplementedError(f"pow: not implemented for bool tensors, as in PyTorch (shapes {a.shape} and "
                                  f"{b.shape}); convert them first, e.g. t.long()")
    if a._data.dtype.kind in "iu":  # no gradient can flow through integers: NumPy, without the primitive
        return Tensor._make(_integer_power(a._data, b._data), False)
    return ops.Pow.apply(a, b)


def _integer_division_operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """The operands of ``//`` and ``%``, broadcast to a common dtype (int64 for integers, as PyTorch);
    bool results are refused, as PyTorch does."""
    ta, tb = _broadcast(a, b, op)
    if ta.dtype == bool:
        raise TypeError(f"{op}: not supported for bool tensors (shapes {ta.shape} and {tb.shape}); "
                        f"convert them first, e.g. t.long()")
    return ta, tb


def _to_tensor(x: Any, dtype: np.dtype, op: str = "") -> Tensor:
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else x.to(dtype)
    if isinstance(x, np.ndarray):
        a = np.asarray(x, dtype=dtype)
        shared = a is x or a.base is not None  # no conversion was needed: the caller's memory
        return _borrow(a) if shared else Tensor._make(a, False)
    if type(x) is int:
        return Tensor._make(_wrapped_int(x, dtype, op), False)
    with np.errstate(over="ignore"):  # a float beyond the dtype's range is inf, as in PyTorch
        return Tensor._make(np.asarray(x, dtype=dtype), False)


class _Borrowed(Tensor):
    """A tensor around a caller's ndarray operand (``x * array``), without a copy. Other views of that
    memory can change it behind the engine's back, so an op that saves it for backward saves a copy
    (see `Function.apply`); an op that does not save it costs nothing."""

    __slots__ = ()
    _borrowed = True


def _borrow(a: np.ndarray) -> Tensor:
    t = Tensor._make(a, False)
    t.__class__ = _Borrowed
    return t


def _broadcast(a: Any, b: Any, op: str, floating: bool = False) -> tuple[Tensor, Tensor]:
    """The one place where operands get a common dtype and shape (via the `Expand` primitive)."""
    # fast paths for the common cases: two tensors of one dtype, a float tensor and a Python number
    if isinstance(a, Tensor):
        if isinstance(b, Tensor) and a._data.dtype == b._data.dtype and (a._data.dtype.kind == "f" or not floating):
            if a._data.shape == b._data.shape:
                return a, b
            return _expand_both(a, b, op)
        if (type(b) is float or (type(b) is int and _INT_MIN <= b < _INT_END)) and a._data.dtype.kind == "f":
            return a, Tensor._make(np.asarray(b, a._data.dtype), False)
    elif isinstance(b, Tensor) and (type(a) is float or (type(a) is int and _INT_MIN <= a < _INT_END)) \
            and b._data.dtype.kind == "f":
        return Tensor._make(np.asarray(a, b._data.dtype), False), b
    for x in (a, b):
        if not isinstance(x, (Tensor, int, float, bool, np.ndarray, np.number, np.bool_)):
            _refuse_operand(x, op)
    dt = _result_dtype(a, b)
    for x, other in ((a, b), (b, a)):
        # an integer of 2**63 or more is a uint64 to PyTorch: it wraps into an integer tensor's dtype, but
        # with a bool tensor it would have to become int64, which PyTorch refuses (except in s / t, which
        # PyTorch computes as t.reciprocal() * s, a floating product)
        if floating and x is a:
            continue
        if type(x) is int and x >= 2**63 and dt.kind in "iu" and not (
                isinstance(other, (Tensor, np.ndarray, np.integer)) and other.dtype.kind in "iu"):
            _check_int_operand(x, op)
            raise OverflowError(f"{op}: the integer {x} does not fit in int64, the dtype of the result "
                                f"(PyTorch refuses it too)")
    if floating and dt.kind != "f":
        dt = _dtypes._default_dtype
    ta, tb = _to_tensor(a, dt, op), _to_tensor(b, dt, op)
    if ta.shape == tb.shape:
        return ta, tb
    return _expand_both(ta, tb, op)


def _refuse_operand(x: Any, op: str) -> None:
    """Raise the TypeError for an operand that is not a tensor, an array or a number."""
    if isinstance(x, Value):
        raise TypeError(_mixed_engines_message(op))
    raise TypeError(f"{op}: unsupported operand type {type(x).__name__}")


def _refuse_value(x: Any, op: str) -> None:
    """A `Value` (the scalar engine) is not a number to the tensor engine: mixing them would drop the
    Value's gradient, so it is refused with one message everywhere (and, on its side, by `Value`)."""
    if isinstance(x, Value):
        raise TypeError(_mixed_engines_message(op))


def _operand_tensor(x: Any, op: str) -> Tensor:
    """A non-tensor operand of ``op`` as a tensor (a copy, as ``torch.tensor``); a `Value` is refused."""
    _refuse_value(x, op)
    return Tensor(x)


def _expand_both(ta: Tensor, tb: Tensor, op: str) -> tuple[Tensor, Tensor]:
    try:
        shape = np.broadcast_shapes(ta.shape, tb.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {ta.shape} and {tb.shape} cannot be broadcast together") from None
    return _expand_to(ta, shape), _expand_to(tb, shape)


def _expand_to(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Broadcast ``t`` to ``shape`` with the `Expand` primitive if it takes part in the graph.

    Only operands that need a gradient must arrive at the output's shape (their VJP must come
    back at their own shape, and `Expand` turns that into a sum). A constant is left as it is:
    NumPy broadcasts it inside the primitive, and nothing flows back to it.
    """
    if t.requires_grad and is_grad_enabled() and t.shape != shape:
        return t.expand(shape)
    return t


def _assign(old: Tensor, index: Any, value: Any) -> Tensor:
    """``old`` with ``value`` written at ``index``, as a graph: ``where(mask, scattered value, old)``.
    The value is broadcast to the selection and scattered with `IndexAdd` (the VJP of indexing).
    Where an index repeats a position, only the element an assignment keeps (NumPy's, the last) is
    scattered; the others are zeroed first, so they neither add up nor get a gradient."""
    first, rest = _split_integer_index(index)
    mask = np.zeros(old.shape, dtype=bool)
    _write_at(mask, index, True)
    probe = np.broadcast_to(np.zeros((), dtype=bool), old.shape)  # no memory: only the selection's shape
    selected = probe[index].shape if first is None else probe[first][rest].shape
    if isinstance(value, (bool, int, float)):
        value = _checked_fill_value(value, old.dtype, "setitem", half_to_inf=True)
    v = value if isinstance(value, Tensor) else Tensor._make(np.asarray(value, dtype=old.dtype), False)
    if v.dtype != old.dtype:
        v = v.to(old.dtype)
    while v.ndim > len(selected) and v.shape[0] == 1:  # leading 1s may go, as in NumPy and PyTorch
        v = v.reshape(v.shape[1:])
    try:
        v = v.expand(selected)
    except ValueError:
        raise ValueError(f"setitem: cannot assign a value of shape {v.shape} to a selection of shape {selected} "
                         f"(tensor shape {old.shape})") from None
    if not v.requires_grad:  # a constant: NumPy's assignment (a repeated index keeps the last value)
        scattered = np.zeros(old.shape, dtype=old.dtype)
        _write_at(scattered, index, v._data)
        return where(mask, scattered, old)
    inner_shape, inner_index = (old.shape, index) if first is None else (probe[first].shape, rest)
    kept = _kept_by_assignment(inner_shape, inner_index, selected)
    if kept is not None:
        v = where(kept, v, 0.0)
    scattered = ops.IndexAdd.apply(v, shape=inner_shape, index=inner_index)
    if first is not None:
        scattered = ops.IndexAdd.apply(scattered, shape=old.shape, index=first)
    return where(mask, scattered, old)


# -------------------------------------------------------------------------- free functions


def tensor(data: ArrayLike, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """``Tensor(data, ...)``, spelled like ``torch.tensor``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics: 1-D operands are promoted (and the added dim
    removed), leading batch dims broadcast. Composed from `Matmul`, `Reshape` and `Expand`."""
    a = a if isinstance(a, Tensor) else _operand_tensor(a, "matmul")
    b = b if isinstance(b, Tensor) else _operand_tensor(b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
    sa, sb = a.shape, b.shape
    if sa[-1] != (sb[0] if b.ndim == 1 else sb[-2]):
        raise ValueError(f"matmul: shapes {sa} and {sb} do not align")
    if a._data.dtype != b._data.dtype or a._data.dtype.kind == "b":
        raise TypeError(f"matmul: the operands must have one dtype, and not bool, as in PyTorch (got {a.dtype} "
                        f"and {b.dtype}, shapes {sa} and {sb}); convert one first, e.g. b.to(a.dtype)")
    if a.ndim == 1 and b.ndim == 1:
        return (a.unsqueeze(0) @ b.unsqueeze(1)).reshape(())
    if a.ndim == 1:
        return (a.unsqueeze(0) @ b).squeeze(-2)
    if b.ndim == 1:
        return (a @ b.unsqueeze(1)).squeeze(-1)
    if b.ndim == 2 and a.ndim > 2:
        # (..., n, k) @ (k, m): one big matrix product instead of a batch of small ones
        out = ops.Matmul.apply(a.reshape(-1, sa[-1]), b)
        return out.reshape(sa[:-1] + (sb[-1],))
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of shapes {sa} and {sb} cannot be broadcast") from None
    return ops.Matmul.apply(a.expand(batch + sa[-2:]), b.expand(batch + sb[-2:]))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (like ``torch.cat``)."""
    tensors = [t if isinstance(t, Tensor) else _operand_tensor(t, "cat") for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")
    ref = tensors[0]
    if any(t.ndim == 0 for t in tensors):
        shapes = ", ".join(str(x.shape) for x in tensors)
        raise ValueError(f"cat: shapes {shapes}: a 0-d tensor has no dim to join along (use stack)")
    (d,) = _normalize_dims(dim, ref.ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != ref.ndim or any(t.shape[i] != ref.shape[i] for i in range(ref.ndim) if i != d):
            shapes = ", ".join(str(x.shape) for x in tensors)
            raise ValueError(f"cat: shapes {shapes} must match except in dim {dim}")
    dt = ref.dtype
    for t in tensors[1:]:
        dt = _result_dtype(Tensor._make(np.empty((1,), dt), False), t)
    return ops.Cat.apply(*[t.to(dt) for t in tensors], dim=d)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dim (``unsqueeze`` each, then ``cat``)."""
    tensors = [t if isinstance(t, Tensor) else _operand_tensor(t, "stack") for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")
    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got {sorted(shapes)}")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


@overload
def where(condition: Any) -> tuple[Tensor, ...]: ...


@overload
def where(condition: Any, a: Any, b: Any) -> Tensor: ...


def where(condition: Any, a: Any = _NOT_GIVEN, b: Any = _NOT_GIVEN) -> Tensor | tuple[Tensor, ...]:
    """``a`` where ``condition`` is true, else ``b``; all three broadcast together.

    ``where(condition)`` alone is ``torch.where(condition)``: a tuple of int64 index tensors, one per
    dim, of the nonzero elements of ``condition`` (of any dtype; a 0-d condition counts as 1-d)."""
    if not isinstance(condition, Tensor):
        _refuse_value(condition, "where")
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if a is _NOT_GIVEN and b is _NOT_GIVEN:
        found = np.nonzero(c.reshape(1) if c.ndim == 0 else c)
        return tuple(Tensor._make(i.astype(np.int64), False) for i in found)
    if a is _NOT_GIVEN or b is _NOT_GIVEN:
        raise TypeError("where: give the condition alone, or the condition and both values")
    if c.dtype != bool:
        raise TypeError(f"where: the condition must be boolean, got dtype {c.dtype}")
    if not (_fits_any_float(a, b) or _fits_any_float(b, a)) and (
            isinstance(a, (bool, int, float)) or isinstance(b, (bool, int, float))):  # a number must fit the result
        dt = _result_dtype(a, b)
        a = _checked_fill_value(a, dt, "where", half_to_inf=True) if isinstance(a, (bool, int, float)) else a
        b = _checked_fill_value(b, dt, "where", half_to_inf=True) if isinstance(b, (bool, int, float)) else b
    ta, tb = _broadcast(a, b, "where")
    try:
        shape = np.broadcast_shapes(c.shape, ta.shape, tb.shape)
    except ValueError:
        raise ValueError(
            f"where: condition of shape {c.shape} and values of shapes {ta.shape}, {tb.shape} "
            f"cannot be broadcast together"
        ) from None
    cond = Tensor._make(c, False) if isinstance(condition, Tensor) else _borrow(c)
    return ops.Where.apply(cond, _expand_to(ta, shape), _expand_to(tb, shape))


def _fits_any_float(x: Any, other: Any) -> bool:
    """True for a float that fits every floating dtype next to a floating tensor (``where(m, g, 0.0)`` in a
    VJP): nothing to check."""
    return type(x) is float and isinstance(other, Tensor) and other._data.dtype.kind == "f" and -65504.0 <= x <= 65504.0


# ------------------------------------------------------------------------------- factories


