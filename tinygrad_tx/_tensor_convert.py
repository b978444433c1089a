"""Conversions of a `Tensor`: to Python numbers and lists, to NumPy, between dtypes; sizes.

`ConversionMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from ._args import _normalize_dims
from .autograd.function import _guarded, _held

if TYPE_CHECKING:
    from .tensor import Scalar, Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class ConversionMethods:
    """Sizes, Python numbers, NumPy and dtype conversions. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

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
                "Can't call numpy() on a tensor that requires grad (as in PyTorch); use tensor.detach().numpy() instead"
            )
        return _guarded(self._data) if _held else self._data

    def tolist(self) -> Any:
        return self._data.tolist()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

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

    def __index__(self) -> int:
        """A one-element integer tensor used as an index (``range(t)``, ``x[t:]``, ``list[t]``)."""
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only a one-element integer tensor can be an index, got dtype {self.dtype} "
                            f"and shape {self.shape}")
        return int(self._data.item())

    # ------------------------------------------------------------------------------ conversion
    def to(self, dtype: Any) -> Tensor:
        """This tensor converted to ``dtype`` (differentiable between floating dtypes)."""
        d = np.dtype(dtype)
        if d == self.dtype:
            return self
        if d.kind == "f" and self.dtype.kind == "f":
            return ops.Cast.apply(self, dtype=d)
        return _t.Tensor._make(self._data.astype(d), False)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", precision=4, prefix="Tensor(")
        extra = f", dtype={self.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"Tensor({body}{extra})"
