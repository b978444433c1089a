"""Comparisons, bitwise and logical ops, clipping and selection (``max(dim)``, ``argmax``, ``gather``,
``masked_fill``) of a `Tensor`, with PyTorch's dtype and gradient conventions.

`CompareMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

import math
from collections import namedtuple
from typing import TYPE_CHECKING, Any

import numpy as np

from ._args import _normalize_dims
from ._dtypes import (
    _checked_fill_value,
    _refuse_value,
    _result_dtype,
    _wrapped_int,
)

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)

MaxResult = namedtuple("MaxResult", ["values", "indices"])  # max(dim), min(dim): (values, indices)


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

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Whether any element (along ``dim``) is nonzero: a bool tensor (uint8 for uint8), as in PyTorch."""
        dims = _normalize_dims(dim, self.ndim, "any")
        return _logical_result(np.any(self._data, axis=dims, keepdims=keepdim), self.dtype)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """Whether every element (along ``dim``) is nonzero: a bool tensor (uint8 for uint8), as in PyTorch."""
        dims = _normalize_dims(dim, self.ndim, "all")
        return _logical_result(np.all(self._data, axis=dims, keepdims=keepdim), self.dtype)

    def max(self, dim: Any = None, keepdim: bool = False) -> Any:
        """``max()``: the largest element (ties share the gradient evenly, like ``amax``).
        ``max(dim)``: ``(values, indices)``; the gradient goes to the element at ``indices``
        (the first maximum), as in PyTorch. ``max(other)``: the elementwise ``maximum``."""
        _refuse_value(dim, "max")
        if isinstance(dim, _t.Tensor):
            return self.maximum(dim)
        if dim is None:
            return self.amax()
        return self._select_along(np.argmax, dim, keepdim, "max")

    def min(self, dim: Any = None, keepdim: bool = False) -> Any:
        _refuse_value(dim, "min")
        if isinstance(dim, _t.Tensor):
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
            return MaxResult(self.clone(), _t.Tensor._make(np.array(0), False))
        (d,) = _normalize_dims(dim, self.ndim, op)
        if self.shape[d] == 0:
            raise IndexError(f"{op}: cannot reduce dim {dim} of size 0 (shape {self.shape})")
        idx = np.expand_dims(arg_fn(self._data, axis=d), d)
        values = self.gather(d, idx)
        indices = _t.Tensor._make(idx if keepdim else np.squeeze(idx, d), False)
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
        return _t.Tensor._make(i.reshape((1,) * self.ndim) if keepdim else i, False)

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
