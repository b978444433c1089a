"""Comparisons, bitwise and logical ops, clipping and selection (``max(dim)``, ``argmax``, ``gather``,
``masked_fill``), closeness (``isclose``, ``allclose``, ``equal``), the tests ``isnan``/``isinf``/``isfinite``
and the piecewise-constant functions (``sign``, ``floor``, ``ceil``, ``round``, ``trunc``: gradient 0, as in
PyTorch) of a `Tensor`, with PyTorch's dtype and gradient conventions.

`CompareMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _dtypes, return_types
from ._args import _normalize_dims, _numpy_keywords
from ._dtypes import (
    _checked_fill_value,
    _refuse_value,
    _result_dtype,
    _wrapped_int,
)

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class CompareMethods:
    """Comparisons, bitwise ops, clamp, max/min/argmax/argmin, gather, masked_fill. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

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
                dt = _result_dtype(_t.Tensor._make(np.empty((1,), dt), False), bound)
        if dt.kind == "b":
            raise NotImplementedError(f"clamp: not implemented for bool tensors, as in PyTorch (shape {self.shape})")
        min, max = (_bound(b, dt) for b in (min, max))
        if dt.kind != "f":  # nothing to differentiate: NumPy's clip (a NaN bound cannot occur here)
            out = self._data.astype(dt, copy=False)
            if min is not None:
                out = np.maximum(out, min._data if isinstance(min, _t.Tensor) else min)
            if max is not None:
                out = np.minimum(out, max._data if isinstance(max, _t.Tensor) else max)
            return _t.Tensor._make(np.asarray(out, dtype=dt), False)
        out = self
        if min is not None:
            lo = min._data if isinstance(min, _t.Tensor) else min
            out = _t.where(out._data < lo, min, out)
        if max is not None:  # applied to the first result, so min > max gives max everywhere (PyTorch)
            hi = max._data if isinstance(max, _t.Tensor) else max
            out = _t.where(out._data > hi, max, out)
        if self._data.dtype.kind == "f":
            nan = np.isnan(self._data)
            if nan.any():
                out = _t.where(nan, self._data, out)
        for bound in (min, max):  # a NaN bound makes every element NaN, with a zero gradient (PyTorch)
            if isinstance(bound, float) and math.isnan(bound):
                out = _t.where(np.ones(out.shape, dtype=bool), math.nan, out)
        return out

    def clamp_min(self, min: Any) -> Tensor:
        return self.clamp(min=min)

    def clamp_max(self, max: Any) -> Tensor:
        return self.clamp(max=max)

    clip = clamp

    # comparisons: not differentiable, they return bool tensors
    def _compare(self, other: Any, fn: Any, op: str) -> Tensor:
        _refuse_value(other, op)
        if not isinstance(other, (_t.Tensor, np.ndarray, np.generic, int, float, list, tuple)):
            return NotImplemented  # the other operand may know (pytest.approx, a custom number), as in PyTorch
        b = other._data if isinstance(other, _t.Tensor) else other
        if type(b) is int and self._data.dtype.kind in "iu":  # PyTorch converts the number first: it wraps
            b = _wrapped_int(b, self._data.dtype, op)
        try:
            out = fn(self._data, b)
        except ValueError:
            raise ValueError(f"{op}: shapes {self.shape} and {np.shape(b)} cannot be broadcast together") from None
        return _t.Tensor._make(np.asarray(out), False)

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

    __hash__ = object.__hash__  # tensors are graph nodes: hashed by identity

    # the method spellings of the comparisons (``torch.Tensor.eq``, ..., and the long names ``greater``, ...)
    def eq(self, other: Any) -> Tensor:
        return self._compare(other, np.equal, "eq")

    def ne(self, other: Any) -> Tensor:
        return self._compare(other, np.not_equal, "ne")

    def lt(self, other: Any) -> Tensor:
        return self._compare(other, np.less, "lt")

    def le(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal, "le")

    def gt(self, other: Any) -> Tensor:
        return self._compare(other, np.greater, "gt")

    def ge(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal, "ge")

    not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge

    # logical ops: any dtype, nonzero is true (NaN too); the result is bool, as in PyTorch
    def logical_not(self) -> Tensor:
        return _t.Tensor._make(np.asarray(np.logical_not(self._data)), False)

    def logical_and(self, other: Tensor) -> Tensor:
        return _logical(self, other, np.logical_and, "logical_and")

    def logical_or(self, other: Tensor) -> Tensor:
        return _logical(self, other, np.logical_or, "logical_or")

    def logical_xor(self, other: Tensor) -> Tensor:
        return _logical(self, other, np.logical_xor, "logical_xor")

    # bitwise ops, as PyTorch: logical on bool tensors, bitwise on integer ones, refused on floats
    def _bitwise(self, a: Any, b: Any, fn: Any, op: str) -> Tensor:
        for x in (a, b):
            _refuse_value(x, op)
            dt = x.dtype if isinstance(x, (_t.Tensor, np.ndarray, np.generic)) else np.asarray(x).dtype
            if dt.kind not in "biu":
                what = f"dtype {dt}" if isinstance(x, (_t.Tensor, np.ndarray)) else type(x).__name__
                raise TypeError(f"{op}: works on integer and bool tensors only, got {what}")
        dt = _result_dtype(a, b)
        av, bv = _t._to_tensor(a, dt)._data, _t._to_tensor(b, dt)._data
        try:
            out = np.asarray(fn(av, bv))
        except ValueError:
            raise ValueError(f"{op}: shapes {av.shape} and {bv.shape} cannot be broadcast together") from None
        return _t.Tensor._make(out, False)

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
        return _t.Tensor._make(out, False)

    @_numpy_keywords
    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Whether any element (along ``dim``) is nonzero: a bool tensor (uint8 for uint8), as in PyTorch."""
        dims = _normalize_dims(dim, self.ndim, "any")
        return _logical_result(np.any(self._data, axis=dims, keepdims=keepdim), self.dtype)

    @_numpy_keywords
    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along ``dim``) is nonzero: a bool tensor (uint8 for uint8), as in PyTorch."""
        dims = _normalize_dims(dim, self.ndim, "all")
        return _logical_result(np.all(self._data, axis=dims, keepdims=keepdim), self.dtype)

    @_numpy_keywords
    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """``max()``: the largest element (ties share the gradient evenly, like ``amax``).
        ``max(dim)``: a ``return_types.max`` ``(values, indices)``; the gradient goes to the element at
        ``indices`` (the first maximum), as in PyTorch. ``max(other)``: the elementwise ``maximum``."""
        _refuse_value(dim, "max")
        if isinstance(dim, _t.Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        return self._select_along(np.argmax, dim, keepdim, "max")

    @_numpy_keywords
    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        """``min()``, ``min(dim)`` (a ``return_types.min``), ``min(other)``: as `max`."""
        _refuse_value(dim, "min")
        if isinstance(dim, _t.Tensor):
            return self.minimum(dim)
        if dim is None:
            return self.amin()
        return self._select_along(np.argmin, dim, keepdim, "min")

    def _select_along(self, arg_fn: Any, dim: Any, keepdim: bool, op: str) -> Any:
        if op in ("argmax", "argmin"):
            _refuse_bool_argument(self, op)
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int, got {type(dim).__name__} (amax/amin reduce several dims)")
        if self.ndim == 0:
            if dim not in (0, -1):
                raise IndexError(f"{op}: dim {dim} is out of range for a 0-d tensor")
            return _result_type(op)(self.clone(), _t.Tensor._make(np.array(0), False))
        (d,) = _normalize_dims(dim, self.ndim, op)
        if self.shape[d] == 0:
            raise IndexError(f"{op}: cannot reduce dim {dim} of size 0 (shape {self.shape})")
        idx = np.expand_dims(arg_fn(self._data, axis=d), d)
        values = self.gather(d, idx)
        indices = _t.Tensor._make(idx if keepdim else np.squeeze(idx, d), False)
        return _result_type(op)(values if keepdim else values.squeeze(d), indices)

    @_numpy_keywords
    def argmax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        if dim is None:
            return self._arg_all(np.argmax, keepdim, "argmax")
        return self._select_along(np.argmax, dim, keepdim, "argmax").indices

    @_numpy_keywords
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
        return _t.Tensor._make(i.reshape((1,) * self.ndim) if keepdim else i, False)

    @_numpy_keywords
    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Any:
        """A ``return_types.sort`` ``(values, indices)`` along ``dim``: ``values = gather(dim, indices)``, so the
        gradient goes to the element each value came from. NaN sorts as the largest value, as in PyTorch.
        Equal values keep their order (a stable sort, also without ``stable=True``: PyTorch's unstable
        sort may order ties differently; the values, and the gradient per group of ties, agree)."""
        d, order = _sort_order(self, dim, descending, "sort")
        return return_types.sort(self.gather(d, order), _t.Tensor._make(order, False))

    @_numpy_keywords
    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        """The ``indices`` of `sort`."""
        return _t.Tensor._make(_sort_order(self, dim, descending, "argsort")[1], False)

    @_numpy_keywords
    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """A ``return_types.topk`` ``(values, indices)``: the ``k`` largest (``largest=False``: smallest) along
        ``dim``, largest first, gathered, so the gradient goes to the selected elements. Of equal values the
        first ones are taken (PyTorch's choice among ties is its own; the values agree). The result is sorted
        also with ``sorted=False`` (whose order PyTorch leaves unspecified)."""
        if self.dtype.kind == "b":
            raise TypeError(f"topk: bool tensors are not supported, as in PyTorch (shape {self.shape})")
        d, order = _sort_order(self, dim, largest, "topk")
        n = self.shape[d] if self.ndim else 1
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
            raise IndexError(f"topk: k={k!r} is out of range for dim {dim} of size {n} (shape {self.shape})")
        if self.ndim:
            order = np.ascontiguousarray(order[(slice(None),) * d + (slice(0, int(k)),)])
        return return_types.topk(self.gather(d, order), _t.Tensor._make(order, False))

    @_numpy_keywords
    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[index[i][j]][j]`` for dim 0 (torch.gather): indexing, so its
        gradient scatter-adds. Indices must lie in [0, size) (no wrapping, as PyTorch)."""
        _refuse_value(index, "gather")
        idx = index._data if isinstance(index, _t.Tensor) else np.asarray(index)
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

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` (a number or a 0-d tensor) where ``mask`` is true, else self. The result keeps
        self's dtype, as in PyTorch; the gradient flows to self where mask is false."""
        _refuse_value(mask, "masked_fill")
        _refuse_value(value, "masked_fill")
        m = mask._data if isinstance(mask, _t.Tensor) else np.asarray(mask)
        if m.dtype != bool:
            raise TypeError(f"masked_fill: the mask must be boolean, got dtype {m.dtype}")
        if isinstance(value, _t.Tensor) and value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
        fill = _checked_fill_value(value._data.item() if isinstance(value, _t.Tensor) else value, self.dtype)
        if self.dtype.kind != "f":  # converted first (as PyTorch): no round trip through a float dtype
            value = np.asarray(fill, dtype=self.dtype)
        out = _t.where(m, value, self)
        return out if out.dtype == self.dtype else out.to(self.dtype)

    # tests of the values: bool tensors, not differentiable
    def isnan(self) -> Tensor:
        return _t.Tensor._make(np.isnan(self._data) if self.dtype.kind == "f" else np.zeros(self.shape, bool), False)

    def isinf(self) -> Tensor:
        return _t.Tensor._make(np.isinf(self._data) if self.dtype.kind == "f" else np.zeros(self.shape, bool), False)

    def isfinite(self) -> Tensor:
        return _t.Tensor._make(np.isfinite(self._data) if self.dtype.kind == "f" else np.ones(self.shape, bool), False)

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
        """|self - other| ≤ atol + rtol·|other| elementwise (PyTorch's formula, not symmetric), or equal
        (so inf matches inf); NaN matches NaN only with ``equal_nan``. Both tensors must have one dtype."""
        a, b = _same_dtype_operands(self, other, "isclose")
        if rtol < 0 or atol < 0:
            raise ValueError(f"isclose: rtol and atol must be non-negative, got rtol={rtol}, atol={atol}")
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"isclose: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
        with np.errstate(invalid="ignore", over="ignore"):
            close = a == b
            if equal_nan and a.dtype.kind == "f":
                close = close | (np.isnan(a) & np.isnan(b))
            # the error in the floating dtype (integers and bools: the default dtype, as PyTorch)
            dt = a.dtype if a.dtype.kind == "f" else _dtypes._default_dtype
            fa, fb = (x.astype(dt) if x.dtype.kind == "b" else x for x in (a, b))
            actual = np.abs(fa - fb).astype(dt)
            allowed = atol + np.abs(np.asarray(rtol, dt) * fb.astype(dt))
            close = close | (np.isfinite(actual) & (actual <= allowed))
        return _t.Tensor._make(np.asarray(close), False)

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """Whether `isclose` holds everywhere: a Python bool."""
        return bool(self.isclose(other, rtol, atol, equal_nan)._data.all())

    def equal(self, other: Tensor) -> bool:
        """True if both tensors have one shape and equal values (NaN is not equal to NaN): a Python bool."""
        if not isinstance(other, _t.Tensor):
            raise TypeError(f"equal: other must be a Tensor, got {type(other).__name__}")
        return self.shape == other.shape and bool(np.array_equal(self._data, other._data))

    # piecewise-constant functions: in the graph with gradient 0 (PyTorch's convention), integers unchanged
    def sign(self) -> Tensor:
        """-1, 0 or 1; 0 for NaN and for ±0, as PyTorch's (0 < x) - (x < 0). Bools stay bools."""
        x = self._data
        if x.dtype.kind == "f":
            return _with_zero_gradient(self, (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype))
        return _t.Tensor._make(x.copy() if x.dtype.kind == "b" else np.sign(x), False)

    def floor(self) -> Tensor:
        return _rounded(self, np.floor, "floor")

    def ceil(self) -> Tensor:
        return _rounded(self, np.ceil, "ceil")

    def trunc(self) -> Tensor:
        return _rounded(self, np.trunc, "trunc")

    def round(self, decimals: int = 0) -> Tensor:
        """To the nearest integer, halves to even (0.5 → 0, 1.5 → 2). With ``decimals`` d: rint(x·10ᵈ) / 10ᵈ,
        or rint(x / 10⁻ᵈ) · 10⁻ᵈ for d < 0, as PyTorch computes it."""
        if decimals == 0:
            return _rounded(self, np.rint, "round")
        if self.dtype.kind != "f":
            raise TypeError(f"round: decimals={decimals} needs a floating-point tensor, got dtype {self.dtype} "
                            f"(PyTorch refuses it too)")
        x = self._data
        x32 = x.astype(np.float32) if x.dtype == np.float16 else x  # (PyTorch computes half in float)
        scale = np.asarray(10.0 ** abs(decimals), x32.dtype)
        values = np.rint(x32 * scale) / scale if decimals > 0 else np.rint(x32 / scale) * scale
        return _with_zero_gradient(self, values.astype(x.dtype))

    def nan_to_num(self, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
        """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the dtype's
        largest and smallest finite values). The gradient passes where x is finite, 0 elsewhere (PyTorch)."""
        x = self._data
        if x.dtype.kind != "f":
            return _t.Tensor._make(x.copy(), False)
        replaced = np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)
        return _t.where(~np.isfinite(x), replaced, self)


def _logical(a: Tensor, b: Any, fn: Any, op: str) -> Tensor:
    """A logical op of two tensors (PyTorch takes no number here), broadcast."""
    if not isinstance(b, _t.Tensor):
        raise TypeError(f"{op}(): argument 'other' must be a Tensor, not {type(b).__name__}")
    try:
        return _t.Tensor._make(np.asarray(fn(a._data, b._data)), False)
    except ValueError:
        raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _result_type(op: str) -> Any:
    """``return_types.max`` for max (and argmax, whose indices are taken), ``return_types.min`` for min."""
    return return_types.max if op in ("max", "argmax") else return_types.min


def _same_dtype_operands(a: Tensor, b: Any, op: str) -> tuple[np.ndarray, np.ndarray]:
    """The arrays of two tensors of one dtype (``isclose`` compares without promotion, as PyTorch)."""
    if not isinstance(b, _t.Tensor):
        raise TypeError(f"{op}: other must be a Tensor, got {type(b).__name__}")
    if a.dtype != b.dtype:
        raise TypeError(f"{op}: the tensors must have one dtype, as in PyTorch (got {a.dtype} and {b.dtype}); "
                        f"convert one first, e.g. b.to(a.dtype)")
    return a._data, b._data


def _with_zero_gradient(t: Tensor, values: np.ndarray) -> Tensor:
    """``values`` (of t's dtype and shape) as the result of a piecewise-constant function of t: while t
    requires grad it is in the graph (``where(True, values, t)``), and its gradient is 0 everywhere."""
    out = _t.Tensor._make(values, False)
    return _t.where(np.ones(t.shape, dtype=bool), out, t) if t.requires_grad else out


def _rounded(t: Tensor, fn: Any, op: str) -> Tensor:
    """floor, ceil, trunc, round: NumPy's ``fn`` with gradient 0; an integer tensor is already rounded."""
    if t.dtype.kind == "b":
        raise TypeError(f"{op}: not implemented for bool tensors, as in PyTorch (shape {t.shape})")
    if t.dtype.kind != "f":
        return _t.Tensor._make(t._data.copy(), False)
    return _with_zero_gradient(t, np.asarray(fn(t._data)))


def _sort_order(t: Tensor, dim: Any, descending: bool, op: str) -> tuple[int, np.ndarray]:
    """The normalised ``dim`` and the int64 indices that sort ``t`` along it, stably: equal values keep their
    order, NaN counts as the largest. Descending: the ascending order of the reversed values, reversed
    (NaN first, and ties still in their original order)."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if t.ndim == 0:
        _normalize_dims(dim, 0, op)
        return 0, np.zeros((), dtype=np.int64)
    (d,) = _normalize_dims(dim, t.ndim, op)
    x = t._data
    if not descending:
        return d, np.argsort(x, axis=d, kind="stable").astype(np.int64, copy=False)
    reversed_order = np.argsort(np.flip(x, d), axis=d, kind="stable")
    return d, np.ascontiguousarray((x.shape[d] - 1) - np.flip(reversed_order, d)).astype(np.int64, copy=False)


def _refuse_bool_argument(t: Tensor, op: str) -> None:
    if t._data.dtype == bool:
        raise TypeError(f"{op}: bool tensors are not supported, as in PyTorch (shape {t.shape}); convert first, "
                        f"e.g. t.long()")


def _logical_result(found: Any, dtype: np.dtype) -> Tensor:
    """The result of any/all: bool, except uint8 for a uint8 tensor (PyTorch keeps that one)."""

    dt = np.dtype(np.uint8) if dtype == np.uint8 else np.dtype(bool)
    return _t.Tensor._make(np.asarray(found, dtype=dt), False)


def _bound(bound: Any, dtype: np.dtype) -> Any:
    """A clamp bound: a number converted to ``dtype`` with PyTorch's overflow check, a tensor as it is."""
    if bound is None or isinstance(bound, _t.Tensor):
        return bound
    if isinstance(bound, np.ndarray):
        return _t.Tensor(bound)
    return _checked_fill_value(bound, dtype, "clamp")
