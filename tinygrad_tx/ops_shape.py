"""The tensor primitives that move elements without changing them: reshape, permute, expand (broadcasting,
in one place), indexing, its scatter-add, and concatenation. The rest of the primitives, and the notation
of the docstrings (``y = ...   ẏ = ...   |   x̄ = ...``), are in ``ops.py``, which re-exports these.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd.function import Function


class Reshape(Function):
    """y = x viewed with another shape.   ẏ = ẋ reshaped   |   x̄ = ȳ reshaped to x's shape"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape {x.shape} ({x.size} elements) to {shape}") from None

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, shape: tuple[int, ...]) -> Any:
        return Reshape.apply(tx, shape=shape)


class Permute(Function):
    """y = x with its dims reordered by p.   ẏ = ẋ permuted by p   |   x̄ = ȳ permuted by p⁻¹"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
        ctx.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.permute(*ctx.inverse)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, dims: tuple[int, ...]) -> Any:
        return Permute.apply(tx, dims=dims)


class Expand(Function):
    """y = x broadcast to a larger shape (broadcasting, in one place).   ẏ = ẋ broadcast   |   x̄ = ȳ summed over the
    broadcast dims, then reshaped to x's shape"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        lead = len(shape) - x.ndim
        ctx.in_shape = x.shape
        ctx.dims = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(x.shape) if n == 1 and shape[lead + i] != 1
        )
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.sum(dim=ctx.dims, keepdim=True).reshape(ctx.in_shape) if ctx.dims else g.reshape(ctx.in_shape)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, shape: tuple[int, ...]) -> Any:
        return Expand.apply(tx, shape=shape)


def _is_basic_index(index: Any) -> bool:
    """True if indexing with ``index`` selects each element at most once (ints, slices, masks)."""
    items = index if isinstance(index, tuple) else (index,)
    for it in items:
        if it is None or it is Ellipsis or isinstance(it, (int, np.integer, slice)):
            continue
        if isinstance(it, np.ndarray) and it.dtype == bool:
            continue
        return False
    return True


def _own_index(index: Any) -> Any:
    """``index`` with its arrays copied: the caller may change an index array after the forward pass,
    and the VJP must scatter to the positions the forward read (an int array of a batch costs ~1 µs)."""
    if isinstance(index, np.ndarray):
        return index.copy()
    if isinstance(index, tuple) and any(isinstance(i, np.ndarray) for i in index):
        return tuple(i.copy() if isinstance(i, np.ndarray) else i for i in index)
    return index


class GetItem(Function):
    """y = x[index] (slices, integers, integer arrays, boolean masks).   ẏ = ẋ[index]   |
    x̄ = zeros like x with ȳ scatter-added at index: repeated indices accumulate"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, index: Any) -> np.ndarray:
        ctx.in_shape = x.shape
        ctx.index = _own_index(index) if ctx.needs_input_grad[0] else index
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return IndexAdd.apply(g, shape=ctx.in_shape, index=ctx.index)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, index: Any) -> Any:
        return GetItem.apply(tx, index=index)


class IndexAdd(Function):
    """y = zeros(shape) with x added at index (the scatter-add).   ẏ = the same of ẋ   |   x̄ = ȳ[index]"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, shape: tuple[int, ...], index: Any) -> np.ndarray:
        ctx.index = _own_index(index) if ctx.needs_input_grad[0] else index
        y = np.zeros(shape, dtype=x.dtype)
        if _is_basic_index(index):
            y[index] = x  # every position is selected once: plain assignment
            return y
        rows = index[0] if isinstance(index, tuple) and len(index) == 1 else index
        if isinstance(rows, np.ndarray) and rows.dtype.kind in "iu":
            # One integer array on the first dim (the embedding gradient): sort the indices, then
            # sum each run of equal ones with reduceat. NumPy's add.at is ~40x slower here.
            flat = rows.reshape(-1) % shape[0]
            order = np.argsort(flat, kind="stable")
            sorted_rows = flat[order]
            starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
            values = x.reshape((flat.size,) + tuple(shape[1:]))[order]
            if flat.size:
                y[sorted_rows[starts]] = np.add.reduceat(values, starts, axis=0)
            return y
        np.add.at(y, index, x)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return GetItem.apply(g, index=ctx.index)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, shape: tuple[int, ...], index: Any) -> Any:
        return IndexAdd.apply(tx, shape=shape, index=index)


class Cat(Function):
    """y = [x₁, x₂, ...] joined along dim.   ẏ = [ẋ₁, ẋ₂, ...] joined   |   x̄ᵢ = the slice of ȳ where xᵢ landed"""

    @staticmethod
    def forward(ctx: Any, *xs: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        grads, start = [], 0
        lead = (slice(None),) * ctx.dim
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            grads.append(g[lead + (slice(start, start + size),)] if needed else None)
            start += size
        return tuple(grads)

    @staticmethod
    def jvp(ctx: Any, *txs: Any, dim: int) -> Any:
        zeros = [np.zeros_like(x._data) if t is None else t for x, t in zip(ctx.inputs, txs)]
        return Cat.apply(*zeros, dim=dim)

