"""A tensor that shares another tensor's storage: the values of ``Module.state_dict()``.

PyTorch's state dict holds ``param.detach()``: a tensor cut out of the graph that shares the
parameter's memory and its version counter, so ``sd[k].copy_(w)`` under ``no_grad()`` loads a weight
into the model (nanoGPT's ``from_pretrained`` does exactly that) and ``sd[k]`` shows every later
change of the parameter. Here the engine never writes into an array a graph may have saved: an
in-place op re-points the tensor at a new array (see ``_tensor_inplace.py``). So sharing storage
cannot mean sharing an ndarray. An alias (`_DataAlias`) holds no array of its own: its ``_data`` and
``_version`` read and re-point its owner's. Hence:

- an in-place op on the alias (``copy_``, ``add_``, ``+=``, ``zero_``, ``alias[i] = v``) updates the
  owner, and counts as a modification of it: a backward through a graph that saved the owner's old
  values raises instead of computing a wrong gradient (as PyTorch's shared version counter makes it);
- the alias follows the owner: an optimizer step, a ``load_state_dict`` or ``p.data = new`` shows
  through it (PyTorch's keeps the old storage after ``p.data = new`` or ``module.to(dtype)``);
- it is a leaf that does not require grad; its own ``.grad`` and graph node, if it gets them
  (``alias.requires_grad_()``, ``alias.copy_(x)`` of an ``x`` that requires grad), are its own;
- a copy of it (``copy.deepcopy``, pickle, ``clone()``) is a tensor of its own, and ``alias.detach()``
  is a tensor on the array the owner has now (it does not follow later changes).

For a snapshot that does not follow the model, copy: ``{k: v.clone() for k, v in sd.items()}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .tensor import Tensor

__all__: list[str] = []


class _DataAlias(Tensor):
    """A view of ``owner``'s storage cut out of the graph. It has no array or version of its own:
    ``_data`` and ``_version`` read and re-point the owner's (see the module docstring)."""

    __slots__ = ("_owner",)

    @property  # type: ignore[override]
    def _data(self) -> np.ndarray:
        return self._owner._data

    @_data.setter
    def _data(self, array: np.ndarray) -> None:
        self._owner._data = array

    @property  # type: ignore[override]
    def _version(self) -> int:
        return self._owner._version

    @_version.setter
    def _version(self, version: int) -> None:
        self._owner._version = version

    def __reduce__(self) -> Any:  # a copy (pickle, copy.deepcopy) is a tensor of its own, as in PyTorch
        return Tensor, (self._data,)


def _data_alias(owner: Tensor) -> Tensor:
    """A `_DataAlias` of ``owner`` (an alias of an alias shares the same storage: its owner's)."""
    t = Tensor.__new__(_DataAlias)
    t._owner = owner._owner if isinstance(owner, _DataAlias) else owner
    t.grad = t._ctx = t.name = t._g = t._tangent = None
    t.requires_grad = False
    return t
