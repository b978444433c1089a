"""Argument checks for the layers: a clear error naming the module, the argument and the value.

Kept out of the layer files so that they read as the formulas; every layer calls these first.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from ..tensor import Tensor, get_default_dtype


def _dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _kind(x: Any) -> str:
    """What ``x`` is, for an error message: "NoneType", "tuple of 2", "numpy.ndarray of shape (2, 3)"."""
    cls = type(x)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"
    if isinstance(x, (tuple, list)):
        return f"{name} of {len(x)}"
    return f"{name} of shape {x.shape}" if isinstance(getattr(x, "shape", None), tuple) else name


def _size(who: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (bool is refused: ``Linear(True, 3)`` is a mistake)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{who}: {name} must be {bound}, got {value}")
    return int(value)


def _number(who: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def _real(who: str, name: str, value: Any, low: float, high: float, high_open: bool = False) -> float:
    """``value`` as a float in [low, high] (or [low, high) with ``high_open``); nan and non-numbers refused."""
    v = _number(who, name, value)
    if not (low <= v < high if high_open else low <= v <= high):
        interval = f"[{low:g}, {high:g}{')' if high_open else ']'}".replace("inf", "∞")
        raise ValueError(f"{who}: {name} must be in {interval}, got {value}")
    return v


def _finite(who: str, name: str, value: Any) -> float:
    """``value`` as a finite float (LoRA's alpha: any scale, but not inf or nan)."""
    v = _number(who, name, value)
    if not math.isfinite(v):
        raise ValueError(f"{who}: {name} must be finite, got {value}")
    return v


def _tensor_input(who: str, x: Any) -> Tensor:
    """The input of a layer's forward: a Tensor (as PyTorch's layers, a NumPy array or a tuple is refused)."""
    if isinstance(x, Tensor):
        return x
    hint = ""
    if isinstance(x, tuple):
        hint = " (a forward that returns several outputs gives a tuple: pass one of them)"
    elif x is None:
        hint = " (did the module before it return None?)"
    elif isinstance(x, (np.ndarray, list)):
        hint = " (wrap it: Tensor(x))"
    raise TypeError(f"{who}: expected a Tensor as input, got {_kind(x)}{hint}")


def _indices(who: str, idx: Any) -> np.ndarray:
    """Token ids as an integer array, from a Tensor, a NumPy array, an int or a (nested) list of ints.
    Anything else is refused, not converted: a tuple of Tensors would be stacked into one array and
    None would become an array of dtype object."""
    if isinstance(idx, Tensor):
        ids = idx.detach().numpy()
    elif isinstance(idx, (np.ndarray, np.integer, int)) or (isinstance(idx, (list, tuple)) and not _holds_tensor(idx)):
        try:
            ids = np.asarray(idx)
        except ValueError as e:  # a ragged list
            raise ValueError(f"{who}: indices must be a rectangular (nested) list of ints: {e}") from None
        if ids.size == 0 and isinstance(idx, (list, tuple)):
            ids = ids.astype(np.int64)  # [] has no dtype of its own
    else:
        raise TypeError(f"{who}: indices must be a Tensor, a NumPy array or a (nested) list of ints, got {_kind(idx)}")
    if ids.dtype.kind not in "iu":
        held = sorted({type(v).__name__ for v in ids.ravel()[:100]}) if ids.dtype == object else None
        got = f"a {type(idx).__name__} holding {', '.join(held)}" if held else f"dtype {ids.dtype}"
        raise TypeError(f"{who}: indices must be integers, got {got}")
    return ids


def _holds_tensor(seq: list | tuple) -> bool:
    return any(isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and _holds_tensor(v)) for v in seq)
