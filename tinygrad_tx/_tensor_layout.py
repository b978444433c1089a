"""Views and rearrangements of a `Tensor` as ``torch.Tensor`` names them: ``narrow``, ``select``, ``unbind``,
``tensor_split``, ``split_with_sizes``, ``flip``, ``roll``, ``diagonal``, ``movedim``, ``swapaxes``, ``ravel``,
``view_as``, ``H``/``mH``; the memory layout (``stride``, ``is_contiguous``: NumPy's, in elements); and the
factories of a tensor's own dtype (``new_zeros``, ``new_ones``, ``new_full``, ``new_empty``, ``new_tensor``).

Everything differentiable here is slicing, integer-array indexing, `cat` or `permute`, so gradients
come from those primitives (a ``flip`` scatters ȳ back reversed, a ``roll`` rolls it back).

`LayoutMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from ._args import _normalize_dims

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class LayoutMethods:
    """narrow, select, unbind, tensor_split, flip, roll, diagonal, movedim, stride, new_zeros, ... A base
    class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    # ----------------------------------------------------------------------------- pieces
    def narrow(self, dim: int, start: Any, length: int) -> Tensor:
        """The ``length`` entries from ``start`` (negative counts from the end) along ``dim``: a slice."""
        d = _the_dim(self, dim, "narrow")
        n = self.shape[d]
        start, length = _integer(start, "narrow", "start"), _integer(length, "narrow", "length")
        if not -n <= start <= n:
            raise IndexError(f"narrow: start {start} is out of range for dim {dim} of size {n} (shape {self.shape})")
        start = start + n if start < 0 else start
        if length < 0 or start + length > n:
            raise ValueError(f"narrow: start ({start}) + length ({length}) exceeds dim {dim} of size {n} "
                             f"(shape {self.shape})")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def select(self, dim: int, index: Any) -> Tensor:
        """The slice at ``index`` (negative counts from the end) along ``dim``, which goes: ``x.select(1, i)``
        is ``x[:, i]``."""
        d = _the_dim(self, dim, "select")
        n, i = self.shape[d], _integer(index, "select", "index")
        if not -n <= i < n:
            raise IndexError(f"select: index {i} is out of range for dim {dim} of size {n} (shape {self.shape})")
        return self[(slice(None),) * d + (i % n,)]

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, each without it: ``tuple(x.select(dim, i) for i ...)``."""
        d = _the_dim(self, dim, "unbind")
        return tuple(self.select(d, i) for i in range(self.shape[d]))

    def tensor_split(self, indices_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """An int n: n pieces along ``dim``, the first ``size % n`` one longer (as ``np.array_split``). A list
        of indices (or a 1-d integer tensor): the pieces ``x[:i₀], x[i₀:i₁], ..., x[iₖ:]`` along ``dim``, with
        Python's slice rules (an index past the end gives empty pieces)."""
        d = _the_dim(self, dim, "tensor_split")
        n = self.shape[d]
        split = indices_or_sections
        if isinstance(split, _t.Tensor):
            if split.dtype.kind not in "iu" or split.ndim > 1:
                raise TypeError(f"tensor_split: a tensor of indices or sections must be an integer 0-d or 1-d "
                                f"tensor, got dtype {split.dtype} and shape {split.shape}")
            split = split._data.tolist()
        if isinstance(split, (int, np.integer)) and not isinstance(split, (bool, np.bool_)):
            sections = int(split)
            if sections <= 0:
                raise ValueError(f"tensor_split: the number of sections must be positive, got {sections}")
            q, r = divmod(n, sections)
            bounds = np.cumsum([0] + [q + 1] * r + [q] * (sections - r)).tolist()
        else:
            points = [_integer(i, "tensor_split", "index") for i in split]
            bounds = [0, *points, None]
        lead = (slice(None),) * d
        return tuple(self[lead + (slice(a, b),)] for a, b in zip(bounds, bounds[1:]))

    def split_with_sizes(self, split_sizes: Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of the listed sizes along ``dim``, which must add up to its size."""
        d = _the_dim(self, dim, "split_with_sizes")
        sizes = [_integer(s, "split_with_sizes", "a size") for s in split_sizes]
        if sum(sizes) != self.shape[d] or any(s < 0 for s in sizes):
            raise ValueError(f"split_with_sizes: split_sizes {sizes} must be non-negative and add up to "
                             f"{self.shape[d]}, the size of dim {dim} (shape {self.shape})")
        return self.split(sizes, d)

    # ------------------------------------------------------------------------ rearranged
    def flip(self, *args: Any, dims: Any = None) -> Tensor:
        """The order of the entries reversed along each of ``dims`` (``flip(0)``, ``flip(0, 1)``, ``flip([0, 1])``,
        ``flip(dims=(0,))``): a copy, as in PyTorch (a negative-step slice, then made contiguous)."""
        ds = _dims_arg(args, "flip") if dims is None else dims
        if not isinstance(ds, (tuple, list)):
            ds = (ds,)
        ds = _normalize_dims(tuple(ds), self.ndim, "flip")
        if not ds:
            return self.clone()
        index = tuple(slice(None, None, -1) if i in ds else slice(None) for i in range(self.ndim))
        return ops.GetItem.apply(self, index=index).contiguous()

    def fliplr(self) -> Tensor:
        if self.ndim < 2:
            raise ValueError(f"fliplr: needs at least 2 dims, got shape {self.shape}")
        return self.flip(1)

    def flipud(self) -> Tensor:
        if self.ndim < 1:
            raise ValueError("flipud: needs at least 1 dim, got shape ()")
        return self.flip(0)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Entries moved ``shifts`` places along ``dims`` (forward for a positive shift), those pushed past the end
        coming back at the start; without ``dims``, of the flattened tensor, then reshaped. Two slices, cat."""
        shift_list = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        if dims is None:
            if len(shift_list) != 1:
                raise ValueError(f"roll: {len(shift_list)} shifts {shift_list} need as many dims, got none")
            return self.flatten().roll(shift_list, 0).reshape(self.shape)
        dim_list = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
        if len(shift_list) != len(dim_list):
            raise ValueError(f"roll: shifts {shift_list} and dims {dim_list} must have the same length")
        out = self
        for shift, dim in zip(shift_list, dim_list):
            d = _the_dim(self, dim, "roll")
            n = self.shape[d]
            s = _integer(shift, "roll", "a shift") % n if n else 0
            if s:
                lead = (slice(None),) * d
                out = _t.cat([out[lead + (slice(n - s, n),)], out[lead + (slice(0, n - s),)]], d)
        return out if out is not self else self.clone()

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The entries (i, i + offset) of the matrices in dims ``dim1``, ``dim2``, as a new last dim (the other
        dims keep their order): integer-array indexing, so the gradient is scattered back to the diagonal."""
        k = _integer(offset, "diagonal", "offset")
        if self.ndim < 2:
            raise ValueError(f"diagonal: needs at least 2 dims, got shape {self.shape}")
        (d1,) = _normalize_dims(dim1, self.ndim, "diagonal")
        (d2,) = _normalize_dims(dim2, self.ndim, "diagonal")
        if d1 == d2:
            raise ValueError(f"diagonal: dim1 and dim2 must differ, got {dim1} and {dim2} (shape {self.shape})")
        rest = [i for i in range(self.ndim) if i not in (d1, d2)]
        n, m = self.shape[d1], self.shape[d2]
        length = max(0, min(n - max(-k, 0), m - max(k, 0)))
        rows, cols = np.arange(length) + max(-k, 0), np.arange(length) + max(k, 0)
        return self.permute(*rest, d1, d2)[(Ellipsis, rows, cols)]

    def movedim(self, source: Any, destination: Any) -> Tensor:
        """Dims ``source`` moved to the positions ``destination`` (ints or tuples), the others keeping their
        order: a permute."""
        src = tuple(source) if isinstance(source, (tuple, list)) else (source,)
        dst = tuple(destination) if isinstance(destination, (tuple, list)) else (destination,)
        if len(src) != len(dst):
            raise ValueError(f"movedim: source {src} and destination {dst} must name as many dims")
        s, t = _normalize_dims(src, self.ndim, "movedim"), _normalize_dims(dst, self.ndim, "movedim")
        if self.ndim == 0:
            return self
        order: list[int | None] = [None] * self.ndim
        for a, b in zip(s, t):
            order[b] = a
        others = iter(i for i in range(self.ndim) if i not in s)
        return self.permute(*[next(others) if o is None else o for o in order])

    moveaxis = movedim

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return self.transpose(axis0, axis1)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        return self.transpose(dim0, dim1)

    def ravel(self) -> Tensor:
        """All entries in one dim, in C order (a copy when the layout needs one)."""
        return self.reshape(-1)

    def view_as(self, other: Tensor) -> Tensor:
        return self.reshape(other.shape)

    reshape_as = view_as

    def broadcast_to(self, *shape: Any) -> Tensor:
        """``expand(shape)``: the tensor broadcast to ``shape`` (-1 keeps a dim)."""
        return self.expand(*shape)

    @property
    def H(self) -> Tensor:
        """The conjugate transpose of a matrix: for real ones the transpose (a 0-d tensor is itself)."""
        if self.ndim not in (0, 2):
            raise ValueError(f"H: only for matrices (2 dims), got shape {self.shape}; for batches of matrices use mH")
        return self.T

    @property
    def mH(self) -> Tensor:
        """The conjugate transpose of the last two dims: for real tensors ``mT``."""
        if self.ndim < 2:
            raise ValueError(f"mH: only for matrices or batches of matrices, got shape {self.shape}")
        return self.mT

    # --------------------------------------------------------------------------- layout
    def stride(self, dim: int | None = None) -> Any:
        """The steps between neighbours of each dim, in elements (NumPy's strides / itemsize), as a tuple, or
        one dim's. Views keep their base's layout (``x.t().stride()`` is ``(1, n)``); an empty tensor has
        PyTorch's contiguous strides."""
        a = self._data
        if a.size == 0:
            steps = tuple(math.prod(max(n, 1) for n in a.shape[i + 1 :]) for i in range(a.ndim))
        else:
            steps = tuple(s // a.itemsize for s in a.strides)
        if dim is None:
            return steps
        (d,) = _normalize_dims(dim, self.ndim, "stride")
        return steps[d]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        """Whether the elements lie in C order without gaps (NumPy's flag; size-1 dims are ignored, as PyTorch)."""
        return bool(self._data.flags.c_contiguous)

    # ------------------------------------------------------------------ new_* factories
    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """``zeros(size)`` with this tensor's dtype (unless ``dtype`` is given)."""
        from . import _factories

        return _factories.zeros(*size, dtype=_own(self, dtype), device=device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        from . import _factories

        return _factories.ones(*size, dtype=_own(self, dtype), device=device, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        from . import _factories

        return _factories.empty(*size, dtype=_own(self, dtype), device=device, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        from . import _factories

        return _factories.full(size, fill_value, dtype=_own(self, dtype), device=device, requires_grad=requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """``tensor(data)`` with this tensor's dtype (unless ``dtype`` is given), also for Python ints; a
        tensor's values are copied, detached."""
        data = data._data if isinstance(data, _t.Tensor) else data
        return _t.tensor(data, dtype=_own(self, dtype), device=device, requires_grad=requires_grad)


def _own(t: Tensor, dtype: Any) -> Any:
    """A new_* factory's dtype: the tensor's own unless given."""
    return t.dtype if dtype is None else dtype


def _the_dim(t: Tensor, dim: Any, op: str) -> int:
    """One dim of t, normalised (a 0-d tensor has none: refused)."""
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{op}: dim must be an int, got {dim!r}")
    if t.ndim == 0:
        raise IndexError(f"{op}: a 0-d tensor has no dim {dim}")
    return _normalize_dims(dim, t.ndim, op)[0]


def _integer(value: Any, op: str, name: str) -> int:
    """An int argument; a one-element integer tensor counts (``narrow(0, torch.tensor(1), 2)``)."""
    if isinstance(value, _t.Tensor) and value.dtype.kind in "iu" and value.numel() == 1:
        return int(value.item())
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


def _dims_arg(dims: tuple[Any, ...], op: str) -> Any:
    """``f(0, 1)`` or ``f((0, 1))`` / ``f([0, 1])``: the dims as one tuple or int."""
    if len(dims) == 1:
        return dims[0]
    if not dims:
        raise TypeError(f"{op}: missing the dims (e.g. {op}(0))")
    return dims
