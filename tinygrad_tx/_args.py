"""Argument normalisation, as PyTorch reads its arguments: ``dim`` (an int, a tuple, negative,
None for all), a reduction's empty ``dim``, a variance's ``unbiased``/``correction``, a shape given
as ``f(2, 3)`` or ``f((2, 3))``, NumPy's keywords ``axis``/``keepdims`` for ``dim``/``keepdim``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np


def _normalize_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dims: tuple[Any, ...] = (dim,)
    elif isinstance(dim, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in dim):
        dims = tuple(dim)
    else:
        raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {dim!r}")
    out = []
    for d in dims:
        if not -max(ndim, 1) <= d < max(ndim, 1):
            raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dims")
        out.append(int(d) % max(ndim, 1) if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: dim {dim} repeats a dimension")
    return tuple(out) if ndim else ()


def _reduction_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """A reduction's ``dim`` as a tuple: None, and an empty tuple or list too, mean every dim (PyTorch)."""
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    return _normalize_dims(dim, ndim, op)


def _var_args(dim: Any, unbiased: Any, correction: Any, op: str) -> tuple[Any, float]:
    """PyTorch's ways of asking for a variance: ``(dim, unbiased)``, ``correction=``, or ``var(unbiased)``."""
    if isinstance(dim, (bool, np.bool_)):  # var(False) is var(unbiased=False), not var(dim=0)
        if unbiased is not None:
            raise TypeError(f"{op}: unbiased given twice")
        dim, unbiased = None, bool(dim)
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: give unbiased or correction, not both")
    if correction is None:
        correction = 0 if unbiased is False else 1
    return dim, correction


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _numpy_keywords(method: Callable[..., Any]) -> Callable[..., Any]:
    """Let ``method`` also take NumPy's keywords, as PyTorch does: ``axis=`` for ``dim=`` and, if it has a
    ``keepdim``, ``keepdims=`` for ``keepdim=`` (``x.sum(axis=0, keepdims=True)``). Giving a keyword
    twice (``dim=0, axis=0``) is a TypeError, as in PyTorch."""
    names = inspect.signature(method).parameters
    aliases = tuple((alias, name) for alias, name in (("axis", "dim"), ("keepdims", "keepdim")) if name in names)

    @functools.wraps(method)
    def with_numpy_keywords(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            for alias, name in aliases:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{method.__name__}: got both {name}= and {alias}= (the same argument)")
                    kwargs[name] = kwargs.pop(alias)
        return method(*args, **kwargs)

    return with_numpy_keywords
