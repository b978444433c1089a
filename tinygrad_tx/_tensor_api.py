"""The base classes of `Tensor` for the rest of ``torch.Tensor``'s API, as one class, `TorchMethods`:
``_tensor_math.py`` (log1p, expm1, the inverse trigonometric and hyperbolic functions, atan2, hypot, lerp),
``_tensor_linalg.py`` (mm, bmm, addmm, cross, trace), ``_tensor_index.py`` (index_select, scatter, index_add,
nonzero, unique, median) and ``_tensor_layout.py`` (narrow, flip, roll, diagonal, movedim, stride, new_zeros).

``tensor.py`` binds each of `MODULES` to itself (their ``_t``), as it does its other base classes' modules.
"""

from __future__ import annotations

from . import _tensor_index, _tensor_layout, _tensor_linalg, _tensor_math
from ._tensor_index import IndexMethods
from ._tensor_layout import LayoutMethods
from ._tensor_linalg import LinalgMethods
from ._tensor_math import MathMethods

MODULES = (_tensor_math, _tensor_linalg, _tensor_index, _tensor_layout)


class TorchMethods(MathMethods, LinalgMethods, IndexMethods, LayoutMethods):
    """The math, linear algebra, index and layout methods. A base class of `Tensor`."""

    __slots__ = ()
