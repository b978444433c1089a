"""Shape methods of a `Tensor` built on the primitives `Reshape`, `Permute`, `Expand` and indexing
(``flatten``, ``transpose``, ``repeat``, ``split``, ``tril``, ``diag``, ...), the norms and variances, the scans
``cumsum``/``cumprod``, ``logsumexp``, and ``cat``/``stack``.

`ShapeMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from ._args import _normalize_dims, _numpy_keywords, _reduction_dims, _shape_arg, _var_args
from ._dtypes import (
    _result_dtype,
)
from .autograd.function import _named

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class ShapeMethods:
    """Shape methods, norms and variances. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

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

    def t(self) -> Tensor:
        """The transpose of a matrix (``torch.Tensor.t``); a 0-d or 1-d tensor is returned as it is."""
        if self.ndim > 2:
            raise ValueError(f"t: expects a tensor with <= 2 dims, got shape {self.shape}; use transpose(dim0, dim1) "
                             f"or .mT for the last two")
        return self.transpose(0, 1) if self.ndim == 2 else self

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

    @_numpy_keywords
    def squeeze(self, dim: Any = None) -> Tensor:
        if dim is None:
            return self.reshape(tuple(n for n in self.shape if n != 1))
        dims = _normalize_dims(dim, self.ndim, "squeeze")
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if not (i in dims and n == 1)))

    @_numpy_keywords
    def unsqueeze(self, dim: int) -> Tensor:
        if not -self.ndim - 1 <= dim <= self.ndim:
            raise IndexError(f"unsqueeze: dim {dim} out of range for shape {self.shape}")
        d = dim % (self.ndim + 1)
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """self if its elements lie in C order (`is_contiguous`), else a C-ordered copy in the graph (as PyTorch)."""
        return self if self._data.flags.c_contiguous else ops.Clone.apply(self)

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

    @_numpy_keywords
    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        if self.ndim == 0:
            raise ValueError("chunk: a 0-d tensor has no dim to split")
        (d,) = _normalize_dims(dim, self.ndim, "chunk")
        return self.split(max(1, -(-self.shape[d] // chunks)), d)

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
        _t._require_floating(self, "norm")
        dims = _reduction_dims(dim, self.ndim, "norm")
        if order == 1:
            return self.abs().sum(dims, keepdim)
        if order == math.inf:
            ops._check_reducible(self.shape, dims, "norm")
            return self.abs().amax(dims, keepdim)
        return _t._sqrt_zero_grad_at_zero((self * self).sum(dims, keepdim))

    @_numpy_keywords
    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        """Σ (x - mean)² / (n - correction) over ``dim``; ``correction=0`` (``unbiased=False``) is the
        population variance, the default 1 Bessel's. Positional arguments as PyTorch's
        ``var(dim, unbiased, keepdim)``, and ``var(False)`` is ``var(unbiased=False)``."""
        dim, correction = _var_args(dim, unbiased, correction, "var")
        _t._require_floating(self, "var")
        dims = _reduction_dims(dim, self.ndim, "var")
        n = math.prod(self.shape[d] for d in dims)
        centered = self - self.mean(dims, keepdim=True)
        return _named((centered * centered).sum(dims, keepdim) / max(n - correction, 0), "VarBackward0")

    @_numpy_keywords
    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: float | None = None) -> Tensor:
        """√var. Where the variance is 0 the gradient is 0, as in PyTorch (not 0 · ∞ = nan)."""
        dim, correction = _var_args(dim, unbiased, correction, "std")
        _t._require_floating(self, "std")
        return _named(_t._sqrt_zero_grad_at_zero(self.var(dim, keepdim=keepdim, correction=correction)), "StdBackward0")


    @_numpy_keywords
    def logsumexp(self, dim: Any, keepdim: bool = False) -> Tensor:
        """log Σ exp(x) over ``dim``, as m + log Σ exp(x - m) with m the maximum (a constant), so exp cannot
        overflow; an infinite m is replaced by 0, as in PyTorch. The gradient is ȳ ⊙ softmax(x)."""
        x = _t._floating(self)
        dims = _reduction_dims(dim, x.ndim, "logsumexp")
        m = np.amax(x._data, axis=dims, keepdims=True, initial=-np.inf)  # (-inf for an empty dim: log 0)
        m = np.where(np.isinf(m), 0, m).astype(x.dtype)
        out = (x - _t.Tensor._make(m, False)).exp().sum(dims, keepdim).log()
        return out + _t.Tensor._make(m if keepdim else m.reshape(out.shape), False)

    @_numpy_keywords
    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """yᵢ = Σ_{j≤i} xⱼ along ``dim`` (the `Cumsum` primitive; its VJP is the cumsum the other way).
        Integers and bools give int64, as in PyTorch; ``dtype`` converts the input first."""
        x = _t._reduction_input(self, dtype, "cumsum")
        d = _one_dim(dim, x.ndim, "cumsum")
        if x.ndim == 0:
            return x.reshape(1).cumsum(0).reshape(())
        return ops.Cumsum.apply(x, dim=d, reverse=False)

    @_numpy_keywords
    def cumprod(self, dim: int, *, dtype: Any = None) -> Tensor:
        """yᵢ = Π_{j≤i} xⱼ along ``dim``, as a scan of products (Hillis–Steele: log₂ n steps of pᵢ ← pᵢ · pᵢ₋ₖ,
        k = 1, 2, 4, ...): no division, so the gradient is right where x has zeros. Integers give int64."""
        x = _t._reduction_input(self, dtype, "cumprod")
        d = _one_dim(dim, x.ndim, "cumprod")
        if x.ndim == 0:
            return x.reshape(1).cumprod(0).reshape(())
        if x.dtype.kind != "f":  # nothing to differentiate
            return _t.Tensor._make(np.cumprod(x._data, axis=d, dtype=np.int64), False)
        n, lead = x.shape[d], (slice(None),) * d
        p, k = x.clone(), 1
        while k < n:  # after this step pᵢ is the product of the (up to) 2k elements ending at i
            ones = _t.Tensor._make(np.ones(x.shape[:d] + (k,) + x.shape[d + 1 :], dtype=x.dtype), False)
            p = p * cat([ones, p[lead + (slice(0, n - k),)]], d)
            k *= 2
        return p

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two dims (entries (i, j) with j ≤ i + ``diagonal``), zeros above:
        ``where(mask, x, 0)``, so the gradient passes through the kept entries only."""
        return _triangle(self, diagonal, True, "tril")

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two dims (entries (i, j) with j ≥ i + ``diagonal``), zeros below."""
        return _triangle(self, diagonal, False, "triu")

    def diag(self, diagonal: int = 0) -> Tensor:
        """A 1-D x: the square matrix with x on the diagonal ``diagonal`` (> 0 above the main one), zeros
        elsewhere (a scatter); a 2-D x: that diagonal as a vector (a gather). Gradients pass to and from it."""
        k = _integer_argument(diagonal, "diag", "diagonal")
        if self.ndim == 1:
            n = self.shape[0]
            index = (np.arange(n) + max(-k, 0), np.arange(n) + max(k, 0))
            return ops.IndexAdd.apply(self, shape=(n + abs(k),) * 2, index=index)
        if self.ndim == 2:
            length = max(0, min(self.shape[0] - max(-k, 0), self.shape[1] - max(k, 0)))
            return self[np.arange(length) + max(-k, 0), np.arange(length) + max(k, 0)]
        raise ValueError(f"diag: needs a 1-D or 2-D tensor, got shape {self.shape}")


def _one_dim(dim: Any, ndim: int, op: str) -> int:
    """A scan's ``dim``: one int (PyTorch refuses a tuple), normalised; 0 for a 0-d tensor."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    dims = _normalize_dims(dim, ndim, op)
    return dims[0] if dims else 0


def _integer_argument(value: Any, op: str, name: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


def _triangle(t: Tensor, diagonal: Any, lower: bool, op: str) -> Tensor:
    """tril / triu: ``where(mask, t, 0)`` with the mask of the kept triangle of the last two dims."""
    k = _integer_argument(diagonal, op, "diagonal")
    if t.ndim < 2:
        raise ValueError(f"{op}: needs a tensor with at least 2 dims, got shape {t.shape}")
    n, m = t.shape[-2:]
    mask = np.tri(n, m, k=k, dtype=bool) if lower else ~np.tri(n, m, k=k - 1, dtype=bool)
    return _t.where(mask, t, _t.Tensor._make(np.zeros((), dtype=t.dtype), False))


@_numpy_keywords
def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim (like ``torch.cat``)."""

    tensors = [t if isinstance(t, _t.Tensor) else _t._operand_tensor(t, "cat") for t in tensors]
    if not tensors:
        raise ValueError("cat: expected a non-empty sequence of tensors")

    ref = tensors[0]
    if any(t.ndim == 0 for t in tensors):
        shapes = ", ".join(str(tuple(x.shape)) for x in tensors)
        raise ValueError(f"cat: shapes {shapes}: a 0-d tensor has no dim to join along (use stack)")
    (d,) = _normalize_dims(dim, ref.ndim, "cat")
    for t in tensors[1:]:
        if t.ndim != ref.ndim or any(t.shape[i] != ref.shape[i] for i in range(ref.ndim) if i != d):
            shapes = ", ".join(str(tuple(x.shape)) for x in tensors)
            raise ValueError(f"cat: shapes {shapes} must match except in dim {dim}")

    dt = ref.dtype
    for t in tensors[1:]:
        dt = _result_dtype(_t.Tensor._make(np.empty((1,), dt), False), t)
    return ops.Cat.apply(*[t.to(dt) for t in tensors], dim=d)


@_numpy_keywords
def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of one shape along a new dim (``unsqueeze`` each, then ``cat``)."""

    tensors = [t if isinstance(t, _t.Tensor) else _t._operand_tensor(t, "stack") for t in tensors]
    if not tensors:
        raise ValueError("stack: expected a non-empty sequence of tensors")

    shapes = {t.shape for t in tensors}
    if len(shapes) != 1:
        raise ValueError(f"stack: all tensors must have one shape, got {sorted(shapes)}")
    return cat([t.unsqueeze(dim) for t in tensors], dim)
