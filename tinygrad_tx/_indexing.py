"""Indexing with PyTorch's rules on NumPy's machinery: tensors and lists inside an index become arrays,
a 0-d integer tensor indexes like an int, negative steps are refused, and an index mixing integers with
arrays is applied in two steps (integers first), which gives PyTorch's layout where NumPy's differs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import ops
from .autograd import function as _function


def _index_arg(index: Any, op: str) -> Any:
    """Turn tensors and lists inside an index into arrays (NumPy's indexing rules then apply), with
    PyTorch's differences: ``[]`` selects nothing, a 0-d integer tensor acts as an int, and negative
    steps are refused. (A list of sequences is one array index, as in NumPy: PyTorch's reading of
    it as a tuple of indices is deprecated, with a warning, since 2.9.)"""
    def conv(i: Any) -> Any:
        if isinstance(i, _function._tensor_class):
            i = i._data
        elif isinstance(i, list):
            i = np.asarray(i) if i else np.zeros(0, dtype=np.int64)
        elif isinstance(i, slice) and i.step is not None and int(i.step) < 0:
            raise ValueError(f"{op}: slice step must be positive, got {int(i.step)} (PyTorch refuses negative steps)")
        if isinstance(i, np.ndarray) and i.ndim == 0 and i.dtype.kind in "iu":
            return int(i)  # a 0-d integer tensor indexes like an int (PyTorch), not like an array (NumPy)
        return i

    if isinstance(index, tuple):
        return tuple(conv(i) for i in index)
    return conv(index)


def _write_at(array: np.ndarray, index: Any, value: Any) -> None:
    """``array[index] = value`` in PyTorch's layout: an index mixing integers with arrays applies the
    integers first (a view), then the rest, as getitem does."""
    first, rest = _split_integer_index(index)
    if first is None:
        array[index] = value
    else:
        array[first][rest] = value


def _kept_by_assignment(shape: tuple[int, ...], index: Any, selected: tuple[int, ...]) -> np.ndarray | None:
    """Over the selection ``x[index]``: True for the elements that ``x[index] = v`` keeps. None when no
    position is selected twice (always the case for ints, slices and masks)."""
    if ops._is_basic_index(index):
        return None
    owner = np.full(shape, -1, dtype=np.int64)
    owner[index] = np.arange(math.prod(selected)).reshape(selected)
    kept = np.zeros(math.prod(selected), dtype=bool)
    kept[owner[owner >= 0]] = True
    return None if kept.all() else kept.reshape(selected)


def _split_integer_index(index: Any) -> tuple[Any, Any]:
    """Split an index that mixes integers with arrays into (integers only, the rest).

    NumPy treats an integer next to an array as an advanced index (and may move the result's
    dims to the front); PyTorch selects with the integers first. Indexing in two steps gives
    PyTorch's layout. Returns (None, index) when there is nothing to split.
    """
    if not isinstance(index, tuple):
        return None, index
    has_int = any(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in index)
    has_array = any(isinstance(i, np.ndarray) and i.ndim > 0 for i in index)
    if not (has_int and has_array):
        return None, index
    first: list[Any] = []
    rest: list[Any] = []
    for i in index:
        if isinstance(i, (int, np.integer)) and not isinstance(i, bool):
            first.append(i)
        elif i is None:
            rest.append(i)
        elif i is Ellipsis:
            first.append(i)
            rest.append(i)
        else:
            consumed = i.ndim if isinstance(i, np.ndarray) and i.dtype == bool else 1
            first.extend([slice(None)] * consumed)
            rest.append(i)
    return tuple(first), tuple(rest)
