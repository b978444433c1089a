"""The factory functions, as PyTorch's: ``zeros``, ``ones``, ``full``, ``zeros_like``, ``ones_like``,
``randn``, ``rand``, ``arange``, ``eye`` (floating ones in the default dtype, ``requires_grad=`` as in torch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _dtypes
from ._args import _shape_arg
from ._dtypes import _checked_fill_value
from ._random import _generator
from .tensor import Tensor

__all__ = ["zeros", "ones", "full", "zeros_like", "ones_like", "randn", "rand", "arange", "eye"]


def _factory(data: np.ndarray, requires_grad: bool) -> Tensor:
    t = Tensor._make(data, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dt(dtype: Any) -> np.dtype:
    return _dtypes._default_dtype if dtype is None else np.dtype(dtype)


def zeros(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.zeros(_shape_arg(shape), _dt(dtype)), requires_grad)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.ones(_shape_arg(shape), _dt(dtype)), requires_grad)


def full(shape: Any, fill_value: float, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value``; without ``dtype`` it follows the value, as in PyTorch: bool, int64, or
    the default floating dtype."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        dtype = np.bool_
    elif dtype is None and isinstance(fill_value, (int, np.integer)):
        dtype = np.int64
    d = _dt(dtype)
    return _factory(np.full(_shape_arg((shape,)), _checked_fill_value(fill_value, d, "full"), d), requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.zeros(t.shape, dtype or t.dtype), requires_grad)


def ones_like(t: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.ones(t.shape, dtype or t.dtype), requires_grad)


def randn(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples from the generator seeded by `manual_seed`."""
    return _factory(_generator().standard_normal(_shape_arg(shape)).astype(_dt(dtype)), requires_grad)


def rand(*shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1) from the generator seeded by `manual_seed`."""
    return _factory(_generator().random(_shape_arg(shape)).astype(_dt(dtype)), requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None) -> Tensor:
    if end is None:
        start, end = 0, start
    values = np.arange(start, end, step)
    if dtype is None and values.dtype.kind == "f":
        values = values.astype(_dtypes._default_dtype)
    return _factory(values.astype(dtype) if dtype is not None else values, False)


def eye(n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    return _factory(np.eye(n, m, dtype=_dt(dtype)), requires_grad)
