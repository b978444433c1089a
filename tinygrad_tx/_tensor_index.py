"""Selection and scattering by index of a `Tensor`, as ``torch.Tensor``: ``index_select``, ``scatter``,
``scatter_add``, ``index_add``, ``nonzero``, ``count_nonzero``, ``unique``, ``bincount``, ``median``, ``kthvalue``.

The differentiable ones are compositions of indexing (`GetItem`), its scatter-add (`IndexAdd`) and `Where`:
``scatter_add`` is ``self + IndexAdd(src)`` (repeated indices accumulate), ``scatter`` is
``where(written, IndexAdd(src), self)``. ``unique`` and ``bincount`` have no derivative in PyTorch: with a
tensor that requires grad the result does too, and backward through it raises (`NoDerivative`).

`IndexMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops, return_types
from ._args import _normalize_dims, _numpy_keywords
from ._dtypes import _checked_fill_value, _refuse_value
from ._indexing import _kept_by_assignment

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)
_NOT_GIVEN: Any = object()


class IndexMethods:
    """index_select, scatter, scatter_add, index_add, nonzero, unique, bincount, median, kthvalue. A base
    class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The entries at ``index`` (a vector of integers) along ``dim``: indexing, so the gradient scatter-adds
        (an index given twice gets both gradients)."""
        idx = _integer_index(index, "index_select")
        if idx.ndim > 1:
            raise IndexError(f"index_select(): index must be a vector (0 or 1 dims), got shape {idx.shape}")
        if self.ndim == 0:  # the one element, for the index 0 (or [0]): 0-d, as in PyTorch
            _normalize_dims(dim, 0, "index_select")
            _check_bounds(idx, 1, dim, "index_select", self.shape)
            if idx.size != 1:
                raise IndexError(f"index_select: a 0-d tensor takes one index, got shape {idx.shape}")
            return self.clone()
        (d,) = _normalize_dims(dim, self.ndim, "index_select")
        _check_bounds(idx, self.shape[d], dim, "index_select", self.shape)
        return self[(slice(None),) * d + (idx.reshape(-1),)]

    def scatter(self, dim: int, index: Any, src: Any = _NOT_GIVEN, *, value: Any = _NOT_GIVEN,
                reduce: str | None = None) -> Tensor:
        """A copy of self with ``self[index[i][j]][j] = src[i][j]`` (for dim 0; ``src`` may also be a number,
        or ``value=``). Where ``index`` repeats a position, the last write (in C order) wins, which is what
        PyTorch's CPU kernel does (its docs leave the order unspecified).

        ``where(written, IndexAdd(src), self)``: self's gradient is ȳ where nothing was written, src's the
        gathered ȳ, for the written entries only. (PyTorch gives every src entry the gathered ȳ, also
        the ones a repeated index overwrote; it raises when src is larger than index, where src's
        gradient here is 0 outside index's shape.) ``reduce='add'``/``'multiply'`` combine instead,
        without a derivative, as in PyTorch (use `scatter_add` for a differentiable sum)."""
        src = _source(src, value, "scatter")
        full, shape = _scatter_index(self, dim, index, src, "scatter")
        if reduce is not None:
            return _scatter_reduce(self, full, shape, src, reduce)
        written = np.zeros(self.shape, dtype=bool)
        written[full] = True
        if not isinstance(src, _t.Tensor):
            filled = np.zeros(self.shape, dtype=self._data.dtype)
            filled[full] = _checked_fill_value(src, self._data.dtype, "scatter", half_to_inf=True)
            return _t.where(written, _t.Tensor._make(filled, False), self)
        s = _leading(src, shape)
        kept = _kept_by_assignment(self.shape, full, shape)
        if kept is not None:  # a position written twice: only the last write's entry is scattered
            s = _t.where(kept, s, _t.Tensor._make(np.zeros((), dtype=s._data.dtype), False))
        return _t.where(written, ops.IndexAdd.apply(s, shape=self.shape, index=full), self)

    def scatter_add(self, dim: int, index: Any, src: Tensor) -> Tensor:
        """self with ``src[i][j]`` added at ``self[index[i][j]][j]`` (for dim 0); repeated indices accumulate.
        ``self + IndexAdd(src)``: self's gradient is ȳ, src's the gathered ȳ (``ȳ.gather(dim, index)``)."""
        if not isinstance(src, _t.Tensor):
            raise TypeError(f"scatter_add(): argument 'src' must be a Tensor, not {type(src).__name__}")
        full, shape = _scatter_index(self, dim, index, src, "scatter_add")
        return self + ops.IndexAdd.apply(_leading(src, shape), shape=self.shape, index=full)

    def index_add(self, dim: int, index: Any, source: Tensor, *, alpha: Any = 1) -> Tensor:
        """self with ``alpha · source[i]`` added at ``index[i]`` along ``dim``; repeated indices accumulate.
        self's gradient is ȳ, source's ``alpha · ȳ.index_select(dim, index)``. (For an integer tensor a float
        alpha is truncated, as PyTorch does.)"""
        if not isinstance(source, _t.Tensor):
            raise TypeError(f"index_add(): argument 'source' must be a Tensor, not {type(source).__name__}")
        idx = _integer_index(index, "index_add")
        if idx.ndim > 1:
            raise IndexError(f"index_add: index must be a vector (0 or 1 dims), got shape {idx.shape}")
        _same_dtype(self, source, "index_add", "source")
        if self.ndim == 0:  # as a tensor of one element
            _normalize_dims(dim, 0, "index_add")
            if source.numel() != idx.size:
                raise ValueError(f"index_add: source of shape {source.shape} does not fit {idx.size} indices into a "
                                 f"0-d tensor")
            one = self.reshape(1).index_add(0, idx.reshape(-1), source.reshape(idx.size), alpha=alpha)
            return one.reshape(())
        (d,) = _normalize_dims(dim, self.ndim, "index_add")
        expected = self.shape[:d] + (idx.size,) + self.shape[d + 1 :]
        if source.shape != expected:
            raise ValueError(f"index_add: source of shape {source.shape} does not fit: expected {expected} (the "
                             f"tensor's shape {self.shape} with dim {dim} the size of index, {idx.size})")
        _check_bounds(idx, self.shape[d], dim, "index_add", self.shape)
        if self.dtype.kind != "f":
            alpha = int(alpha)  # PyTorch truncates a float alpha for an integer tensor (index_add(alpha=1.7) adds 1·)
        scaled = source if alpha == 1 else source * alpha
        return self + ops.IndexAdd.apply(scaled, shape=self.shape, index=(slice(None),) * d + (idx.reshape(-1),))

    def masked_select(self, mask: Any) -> Tensor:
        """The elements where ``mask`` (bool, broadcast with self) holds, as a vector in C order: a boolean
        index, so the gradient goes back to those places."""
        _refuse_value(mask, "masked_select")
        m = mask._data if isinstance(mask, _t.Tensor) else np.asarray(mask)
        if m.dtype != bool:
            raise TypeError(f"masked_select: the mask must be boolean, got dtype {m.dtype}")
        try:
            shape = np.broadcast_shapes(self.shape, m.shape)
        except ValueError:
            raise ValueError(f"masked_select: shapes {self.shape} and {m.shape} cannot be broadcast together") from None
        return self.expand(shape)[np.broadcast_to(m, shape)]

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """``gather`` along ``dim`` with self and indices broadcast in the other dims (NumPy's
        ``take_along_axis``); without ``dim``, of the flattened tensor."""
        idx = _integer_index(indices, "take_along_dim")
        if dim is None:
            flat = idx.reshape(-1)
            _check_bounds(flat, self.numel(), dim, "take_along_dim", self.shape)
            return self.reshape(-1)[flat]
        if idx.ndim != self.ndim:
            raise ValueError(f"take_along_dim: indices has {idx.ndim} dims, the tensor {self.ndim} (shapes "
                             f"{idx.shape} and {self.shape})")
        (d,) = _normalize_dims(dim, self.ndim, "take_along_dim")
        try:
            common = tuple(np.broadcast_shapes((a,), (b,))[0] for i, (a, b) in enumerate(zip(self.shape, idx.shape))
                           if i != d)
        except ValueError:
            raise ValueError(f"take_along_dim: shapes {self.shape} and {idx.shape} cannot be broadcast outside "
                             f"dim {dim}") from None
        x_shape = common[:d] + (self.shape[d],) + common[d:]
        i_shape = common[:d] + (idx.shape[d],) + common[d:]
        return self.expand(x_shape).gather(d, np.broadcast_to(idx, i_shape))

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The indices of the nonzero elements: an int64 tensor of shape (count, ndim) in C order, or with
        ``as_tuple`` one index vector per dim (a 0-d tensor counts as 1-d there, as in PyTorch)."""
        if as_tuple:
            return _t.where(self)
        return _t.Tensor._make(np.argwhere(self._data).astype(np.int64), False)

    def argwhere(self) -> Tensor:
        return self.nonzero()

    def count_nonzero(self, dim: Any = None) -> Tensor:
        """The number of nonzero elements (along ``dim``), int64."""
        dims = _normalize_dims(dim, self.ndim, "count_nonzero")
        return _t.Tensor._make(np.asarray(np.count_nonzero(self._data, axis=dims), dtype=np.int64), False)

    def unique(self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False,
               dim: int | None = None) -> Any:
        """The distinct values in ascending order (also with ``sorted=False``: PyTorch's CPU kernel sorts too),
        NaNs kept apart; with ``dim``, the distinct slices along it. ``return_inverse``: where each element
        (slice) went; ``return_counts``: how often each occurs. No derivative, as in PyTorch."""
        x = self._data
        if dim is None:
            values, inverse, counts = np.unique(x.reshape(-1), return_inverse=True, return_counts=True,
                                                equal_nan=False)
            inverse = inverse.reshape(x.shape)
        else:
            if self.ndim == 0:
                raise IndexError(f"unique: dim {dim} was given but the tensor has no dims (shape ())")
            (d,) = _normalize_dims(dim, self.ndim, "unique")
            values, inverse, counts = np.unique(x, axis=d, return_inverse=True, return_counts=True, equal_nan=False)
            inverse = inverse.reshape(-1)
        out = _no_derivative(self, values, "unique")
        extra = ([_int64(inverse)] if return_inverse else []) + ([_int64(counts)] if return_counts else [])
        return (out, *extra) if extra else out

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        """out[v] = the number of times v occurs in self (a vector of non-negative integers), or the sum of
        ``weights`` there; ``minlength`` entries at least. int64 counts; sums in the weights' floating dtype
        (float64 for integer weights), as in PyTorch, which has no derivative for them."""
        x = self._data
        if x.ndim != 1 or x.dtype.kind not in "iu" or (x.size and x.min() < 0):
            raise ValueError(f"bincount: only 1-d non-negative integer tensors, as in PyTorch (got shape {self.shape} "
                             f"and dtype {self.dtype})")
        if weights is None:
            return _t.Tensor._make(np.bincount(x, minlength=minlength).astype(np.int64), False)
        if not isinstance(weights, _t.Tensor):
            raise TypeError(f"bincount(): weights must be a Tensor, not {type(weights).__name__}")
        if weights.shape != self.shape:
            raise ValueError(f"bincount: weights of shape {weights.shape} must have the input's shape {self.shape}")
        dt = weights._data.dtype if weights.dtype.kind == "f" else np.dtype(np.float64)
        sums = np.bincount(x, weights=weights._data.astype(np.float64), minlength=minlength).astype(dt)
        return _no_derivative(weights, sums, "bincount")

    @_numpy_keywords
    def median(self, dim: Any = None, keepdim: bool = False) -> Any:
        """``median()``: the lower median of all elements (the ⌈n/2⌉-th smallest), NaN if there is a NaN; the
        gradient is shared evenly by the elements equal to it (by the NaNs), as in PyTorch. ``median(dim)``:
        a ``return_types.median`` ``(values, indices)`` along ``dim`` (a NaN, the first one, where a row has
        one); the gradient goes to the element at ``indices``."""
        if dim is None:
            return _median_of_all(self)
        return _kth_along(self, dim, keepdim, None, "median")

    @_numpy_keywords
    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False) -> Any:
        """A ``return_types.kthvalue`` ``(values, indices)``: the k-th smallest along ``dim`` (k from 1; NaN counts
        as the largest). Of equal values the first is taken (PyTorch's choice among ties is its own; the
        values agree); the gradient goes to the element at ``indices``."""
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"kthvalue: k must be an int, got {k!r}")
        return _kth_along(self, dim, keepdim, int(k), "kthvalue")


def _integer_index(index: Any, op: str) -> np.ndarray:
    """An index argument (a Tensor of integers, or an ndarray) as an array."""
    _refuse_value(index, op)
    if not isinstance(index, (_t.Tensor, np.ndarray)):
        raise TypeError(f"{op}(): argument 'index' must be a Tensor, not {type(index).__name__}")
    idx = index._data if isinstance(index, _t.Tensor) else index
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{op}(): index must be an integer tensor (int64), got dtype {index.dtype}")
    return idx


def _check_bounds(idx: np.ndarray, size: int, dim: Any, op: str, shape: tuple[int, ...]) -> None:
    """Every index in [0, size): negative ones are refused, as in PyTorch (no wrapping)."""
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        bad = idx.min() if idx.min() < 0 else idx.max()
        raise IndexError(f"{op}: index {bad} is out of bounds for dim {dim} of size {size} (shape {shape})")


def _same_dtype(t: Tensor, other: Tensor, op: str, name: str) -> None:
    if other.dtype != t.dtype:
        raise TypeError(f"{op}: {name} has dtype {other.dtype}, the tensor {t.dtype}; they must be the same, as in "
                        f"PyTorch (convert one, e.g. {name}.to(t.dtype))")


def _source(src: Any, value: Any, op: str) -> Any:
    """scatter's src: a tensor, or a number given as src or as ``value=``."""
    if (src is _NOT_GIVEN) == (value is _NOT_GIVEN):
        raise TypeError(f"{op}(): give src (a tensor or a number) or value, exactly one of them")
    src = value if src is _NOT_GIVEN else src
    _refuse_value(src, op)
    if isinstance(src, np.ndarray):
        src = _t.Tensor(src)
    if not isinstance(src, (_t.Tensor, bool, int, float, np.number, np.bool_)):
        raise TypeError(f"{op}(): src must be a Tensor or a number, not {type(src).__name__}")
    return src


def _scatter_index(t: Tensor, dim: Any, index: Any, src: Any, op: str) -> tuple[tuple[Any, ...], tuple[int, ...]]:
    """The positions in ``t`` that scatter/scatter_add write to, as a NumPy index tuple (index's values along
    ``dim``, the element's own position in every other dim), and index's shape; with PyTorch's checks."""
    idx = _integer_index(index, op)
    if idx.ndim != t.ndim:
        raise ValueError(f"{op}: index has {idx.ndim} dims, the tensor {t.ndim} (shapes {idx.shape} and {t.shape}); "
                         f"they must have the same number of dims")
    (d,) = _normalize_dims(dim, t.ndim, op) or (0,)
    if isinstance(src, _t.Tensor):
        _same_dtype(t, src, op, "src")
        if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src.shape)):
            raise ValueError(f"{op}: index of shape {idx.shape} is larger than src of shape {src.shape}")
    big = [i for i in range(t.ndim) if i != d and idx.shape[i] > t.shape[i]]
    if big:
        raise ValueError(f"{op}: index of shape {idx.shape} is larger than the tensor of shape {t.shape} in dim "
                         f"{big[0]}")
    shape = t.shape if t.ndim else (1,)
    _check_bounds(idx, shape[d], dim, op, t.shape)
    if t.ndim == 0:  # a 0-d index into a 0-d tensor: the one element
        return (), ()
    grids = np.ogrid[tuple(slice(n) for n in idx.shape)]
    return tuple(idx if i == d else grids[i] for i in range(t.ndim)), tuple(idx.shape)


def _leading(src: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The part of src that index covers (src may be larger in any dim)."""
    return src if src.shape == shape else src[tuple(slice(0, n) for n in shape)]


def _scatter_reduce(t: Tensor, full: tuple[Any, ...], shape: tuple[int, ...], src: Any, reduce: str) -> Tensor:
    """scatter with ``reduce='add'`` or ``'multiply'``: the written entries combined into self's, in NumPy,
    with no derivative (PyTorch's ``scatter(..., reduce=)`` has none either)."""
    combine = {"add": np.add, "multiply": np.multiply}.get(reduce)
    if combine is None:
        raise ValueError(f"scatter: reduce must be 'add' or 'multiply', got {reduce!r}")
    values = src._data[tuple(slice(0, n) for n in shape)] if isinstance(src, _t.Tensor) else \
        np.full(shape, _checked_fill_value(src, t._data.dtype, "scatter", half_to_inf=True), dtype=t._data.dtype)

    def compute(x: np.ndarray, *_: Any) -> np.ndarray:
        out = np.array(x, copy=True)
        combine.at(out, full, values)
        return out

    inputs = (t, src) if isinstance(src, _t.Tensor) else (t,)
    return ops.NoDerivative.apply(*inputs, compute=compute, op="scatter")


def _int64(a: np.ndarray) -> Tensor:
    return _t.Tensor._make(np.asarray(a, dtype=np.int64), False)


def _no_derivative(t: Tensor, values: np.ndarray, op: str) -> Tensor:
    """``values`` computed from t: in the graph (as a node whose backward raises) when t requires grad."""
    if t.requires_grad:
        return ops.NoDerivative.apply(t, compute=lambda _: values, op=op)
    return _t.Tensor._make(values, False)


def _median_of_all(t: Tensor) -> Tensor:
    flat = t._data.reshape(-1)
    if flat.size == 0:
        if t.dtype.kind != "f":
            raise IndexError(f"median: the tensor of shape {t.shape} is empty (an integer median has no NaN)")
        return t.sum() * math.nan  # NaN, as PyTorch's median of no elements
    if t.dtype.kind != "f":
        return _t.Tensor._make(np.asarray(np.sort(flat)[(flat.size - 1) // 2]), False)
    x = t.reshape(-1)
    nan = np.isnan(flat)
    if nan.any():
        return x[nan].mean()  # NaN; the gradient shared by the NaNs
    m = np.sort(flat)[(flat.size - 1) // 2]
    return x[flat == m].amax()  # exactly m; Amax shares the gradient evenly among the equal elements


def _kth_along(t: Tensor, dim: Any, keepdim: bool, k: int | None, op: str) -> Any:
    """median(dim) (k None: the lower median) or kthvalue(k, dim): the index from a stable sort (NaN last),
    the values gathered, so the gradient goes to the selected element."""
    result = return_types.median if op == "median" else return_types.kthvalue
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if t.dtype.kind == "b":
        raise TypeError(f"{op}: bool tensors are not supported, as in PyTorch (shape {t.shape})")
    if t.ndim == 0:
        _normalize_dims(dim, 0, op)
        if k not in (None, 1):
            raise IndexError(f"{op}: k={k} is out of range for a 0-d tensor (one element)")
        return result(t.clone(), _t.Tensor._make(np.array(0), False))
    (d,) = _normalize_dims(dim, t.ndim, op)
    n = t.shape[d]
    if n == 0:
        raise IndexError(f"{op}: cannot reduce dim {dim} of size 0 (shape {t.shape})")
    position = (n - 1) // 2 if k is None else k - 1
    if not 0 <= position < n:
        raise IndexError(f"{op}: k={k} is out of range for dim {dim} of size {n} (shape {t.shape})")
    x = t._data
    order = np.argsort(x, axis=d, kind="stable")
    idx = np.take(order, [position], axis=d)
    if k is None and x.dtype.kind == "f":  # a row with a NaN has median NaN: the first NaN's index (PyTorch)
        nan = np.isnan(x)
        idx = np.where(nan.any(axis=d, keepdims=True), np.argmax(nan, axis=d, keepdims=True), idx)
    idx = idx.astype(np.int64)
    values = t.gather(d, idx)
    if keepdim:
        return result(values, _t.Tensor._make(idx, False))
    return result(values.squeeze(d), _t.Tensor._make(np.squeeze(idx, d), False))
