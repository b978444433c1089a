"""A `Tensor`'s ``.data`` and ``.grad``, as PyTorch has them: both are tensors.

- ``t.grad`` is None until a backward reaches ``t`` (a leaf, or a tensor that called ``retain_grad()``),
  then a tensor of ``t``'s shape and dtype that later backward passes add into. Assigning None or
  such a tensor is allowed (checked as PyTorch checks it). Reading the ``.grad`` of a non-leaf that
  does not retain its gradient warns, as PyTorch does, and gives None.
- ``t.data`` is ``t``'s storage as a tensor cut out of the graph (``requires_grad=False``, a leaf).
  An in-place op on it updates ``t`` (``p.data.add_(u)``, ``p.data -= u``, ``p.data[i] = v``,
  ``p.data.zero_()``, ``p.data.copy_(src)``), and it sees every later change of ``t``.
  ``t.data = other`` makes ``t`` hold ``other``'s values (any shape and dtype, as in PyTorch).

How ``.data`` shares storage: the engine never writes into an array a graph may have saved; an
in-place op re-points the tensor at a new array (see ``_tensor_inplace.py``). So ``t.data`` holds no
array of its own: it is a `_DataAlias` (``tensor.py``) that reads and re-points ``t``'s. Its version
counter is ``t``'s too, so a change through it is a modification of ``t``: a backward through a graph
that saved ``t``'s old values raises instead of computing a wrong gradient. (PyTorch's ``.data``
hides such changes from autograd, which is how a silently wrong gradient comes about; here the
change counts.) Two things PyTorch's storage sharing does that this does not: an alias taken before
``t.data = other`` follows ``t`` to the new values (PyTorch's keeps the old storage), and after
``t.data = other`` an in-place change of ``other`` does not reach ``t`` (each has its own array then).

`DataGradMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``:
it reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the
class exists.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from .autograd.function import SavedArray, _held, _holder
from .autograd.grad_mode import is_grad_enabled

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
    "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
    "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor "
    "by mistake, make sure you access the leaf Tensor instead."
)  # PyTorch's words (it adds a link to the pull request that introduced the warning)


class DataGradMethods:
    """``.grad``, ``.data``, ``requires_grad_``, ``retain_grad``/``retains_grad`` and how backward adds into
    ``.grad``. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    # ------------------------------------------------------------------------------------ .grad
    @property
    def grad(self) -> Tensor | None:
        """dL/d(this tensor), summed over the backward passes so far (None before the first)."""
        g = self._grad
        if g is None and self._ctx is not None and not self.retains_grad:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, _t.Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}; wrap an array first: t.grad = tensor(array)")
            if value is self:
                raise RuntimeError("can't assign a tensor as its own grad")
            if value.dtype != self.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype {value.dtype} to a tensor of dtype "
                                   f"{self.dtype}; the gradient must have the tensor's dtype (as in PyTorch)")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of shape {value.shape} to a tensor of shape "
                                   f"{self.shape}; the gradient must have the tensor's shape (as in PyTorch)")
        self._grad = value

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether gradients are recorded for this leaf tensor (in place; returns self)."""
        if requires_grad and self._data.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients; this one has dtype "
                f"{self._data.dtype}. Convert it first, e.g. t.double() or t.float()"
            )
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("requires_grad_(False) works on leaves only; use detach() instead")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> Tensor:
        """Keep this intermediate tensor's gradient in ``.grad`` during backward (leaves always do)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        if self._ctx is not None:
            self._ctx._retain(self)
        return self

    @property
    def retains_grad(self) -> bool:
        """True for a non-leaf whose ``.grad`` backward fills (after ``retain_grad()``); False for a leaf."""
        ctx = self._ctx
        return ctx is not None and ctx._retained is not None and ctx._retained() is self

    def _accumulate_grad(self, g: Tensor) -> None:
        """``self.grad += g``, with PyTorch's rules (``AccumulateGrad``). The first gradient is stored as an
        own, C-ordered copy (a transposed weight's arrives strided); later ones are added in place. In a
        ``backward(create_graph=True)`` (grad mode on) the gradient stays in the graph: a recorded copy,
        then ``grad + g`` out of place, so ``.grad`` can be differentiated again."""
        gd = g._data
        if gd.shape != self.shape:
            raise RuntimeError(f"backward: gradient of shape {gd.shape} for a tensor of shape {self.shape}")
        grad = self._grad
        recording = is_grad_enabled()
        if grad is None:
            if recording and g.requires_grad:
                self._grad = ops.Clone.apply(g)
            else:
                self._grad = _t.Tensor._make(np.array(gd, dtype=self.dtype, copy=True, order="C"), False)
        elif recording:
            self._grad = grad + g
        else:
            a = grad._data
            if a.flags.writeable and (not _held or _holder(a) is None):
                a += gd  # (no graph saved this array: nothing that needs the old values sees the write)
                grad._version += 1
            else:  # a graph saved the grad (say, a gradient penalty): it keeps its array, the version tells it
                grad._set_array(a + gd)

    def _zero_grad(self, set_to_none: bool = True) -> None:
        """``zero_grad`` for this tensor, as PyTorch's: ``grad = None``, or the grad zeroed in place (a grad
        that is in a graph, from ``backward(create_graph=True)``, is cut out of it first)."""
        if set_to_none:
            self._grad = None
        elif self._grad is not None:
            if self._grad.requires_grad:
                self._grad = self._grad.detach()
            self._grad.zero_()

    # ------------------------------------------------------------------------------------ .data
    @property
    def data(self) -> Tensor:
        """This tensor's storage as a tensor cut out of the graph: in-place ops on it update this
        tensor, and it follows this tensor's later changes (see the module docstring)."""
        return _t._data_alias(self)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, _t.Tensor):
            raise TypeError(f"Tensor.data: a Tensor must be assigned, got {type(value).__name__} (as in PyTorch); "
                            f"wrap an array first: t.data = tensor(array), or copy it in: t.data.copy_(tensor(array))")
        if self.requires_grad and value.dtype.kind != "f":
            raise RuntimeError(f"data set to a tensor that requires gradients must be floating point, got dtype "
                               f"{value.dtype} (as in PyTorch)")
        a = value._data
        self._set_array(a.view(np.ndarray) if isinstance(a, SavedArray) else a)

    def _set_array(self, array: np.ndarray) -> None:
        """Re-point this tensor at ``array``: a modification (the version counter ticks), never a write.
        (A NumPy scalar, as ``a + 1`` of a 0-d array gives, is kept as a 0-d array.)"""
        self._data = array if isinstance(array, np.ndarray) else np.asarray(array)
        self._version += 1
