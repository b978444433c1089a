"""Linear algebra of a `Tensor` as ``torch.Tensor`` spells it: ``mm``, ``bmm``, ``mv``, ``dot`` (matmul with PyTorch's
shape checks: no broadcasting, no promotion), ``outer``, ``addmm``/``baddbmm`` (β·self + α·A B), ``cross``, ``trace``.

All are compositions of `matmul`, products and indexing, so their gradients come from those primitives.

`LinalgMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._args import _normalize_dims

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class LinalgMethods:
    """mm, bmm, mv, dot, outer, addmm, baddbmm, cross, trace. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    def mm(self, mat2: Tensor) -> Tensor:
        """The product of two matrices (no broadcasting; `matmul` broadcasts)."""
        _need_dims("mm", input=(self, 2), mat2=(mat2, 2))
        return _t.matmul(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        """The products of two batches of matrices, (b, n, k) @ (b, k, m) -> (b, n, m), without broadcasting."""
        _need_dims("bmm", input=(self, 3), mat2=(mat2, 3))
        if self.shape[0] != mat2.shape[0]:
            raise ValueError(f"bmm(): the batch sizes differ, shapes {self.shape} and {mat2.shape}")
        return _t.matmul(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        """A matrix times a vector."""
        _need_dims("mv", input=(self, 2), vec=(vec, 1))
        return _t.matmul(self, vec)

    def dot(self, tensor: Tensor) -> Tensor:
        """Σᵢ aᵢ bᵢ of two vectors of one size and one dtype (PyTorch does not promote here)."""
        _need_dims("dot", input=(self, 1), tensor=(tensor, 1))
        if self.shape != tensor.shape:
            raise ValueError(f"dot(): the vectors have different sizes, shapes {self.shape} and {tensor.shape}")
        return _t.matmul(self, tensor)

    def outer(self, vec2: Tensor) -> Tensor:
        """out[i, j] = aᵢ bⱼ: the vectors broadcast against each other."""
        _need_dims("outer", input=(self, 1), vec2=(vec2, 1))
        return self.unsqueeze(1) * vec2.unsqueeze(0)

    ger = outer

    def addmm(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """β·self + α·(mat1 @ mat2), self broadcast to the product's shape. With β = 0 self is ignored (its NaN
        and inf do not propagate), as in PyTorch."""
        _need_dims("addmm", mat1=(mat1, 2), mat2=(mat2, 2))
        return _scaled_sum(self, _t.matmul(mat1, mat2), beta, alpha, "addmm")

    def baddbmm(self, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
        """β·self + α·(batch1 @ batch2) for batches of matrices (``bmm``'s checks), self broadcast."""
        return _scaled_sum(self, batch1.bmm(batch2), beta, alpha, "baddbmm")

    def cross(self, other: Tensor, dim: int | None = None) -> Tensor:
        """The cross product a × b of 3-vectors along ``dim``: (a₁b₂ - a₂b₁, a₂b₀ - a₀b₂, a₀b₁ - a₁b₀); the other
        dims broadcast. Without ``dim``, self's first dim of size 3, as ``torch.cross`` (``torch.linalg.cross``
        takes -1)."""
        if not isinstance(other, _t.Tensor):
            raise TypeError(f"cross(): argument 'other' must be a Tensor, not {type(other).__name__}")
        try:
            shape = np.broadcast_shapes(self.shape, other.shape)
        except ValueError:
            raise ValueError(f"cross: shapes {self.shape} and {other.shape} cannot be broadcast together") from None
        if dim is None:
            threes = [i for i, n in enumerate(self.shape) if n == 3]
            if not threes:
                raise ValueError(f"cross: no dim of size 3 in shape {self.shape} (give dim=)")
            d = threes[0] + len(shape) - self.ndim
        else:
            (d,) = _normalize_dims(dim, len(shape), "cross")
        sizes = [t.shape[d - len(shape) + t.ndim] if d - len(shape) + t.ndim >= 0 else 1 for t in (self, other)]
        if sizes != [3, 3]:
            raise ValueError(f"cross: dim {d} must have size 3 in both tensors, got shapes {self.shape} and "
                             f"{other.shape}")
        a, b = _t._broadcast(self, other, "cross")
        a, b = a.expand(shape), b.expand(shape)
        lead = (slice(None),) * d
        next1, next2 = lead + (np.array([1, 2, 0]),), lead + (np.array([2, 0, 1]),)  # (i + 1, i + 2) mod 3
        return a[next1] * b[next2] - a[next2] * b[next1]

    def trace(self) -> Tensor:
        """Σᵢ xᵢᵢ of a matrix (integers sum to int64, as in PyTorch)."""
        if self.ndim != 2:
            raise ValueError(f"trace: expects a matrix (2 dims), got shape {self.shape}")
        return self.diagonal().sum()


def _need_dims(op: str, **tensors: Any) -> None:
    """Each named tensor has the stated number of dims (``mm``: two matrices), else a ValueError naming them."""
    for name, (t, ndim) in tensors.items():
        if not isinstance(t, _t.Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(t).__name__}")
        if t.ndim != ndim:
            raise ValueError(f"{op}(): '{name}' must have {ndim} dims, got shape {t.shape}")


def _scaled_sum(input: Tensor, product: Tensor, beta: Any, alpha: Any, op: str) -> Tensor:
    """β·input + α·product, input broadcast to product's shape (not the other way), as in addmm."""
    if not isinstance(input, _t.Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    try:
        if np.broadcast_shapes(input.shape, product.shape) != product.shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"{op}(): input of shape {input.shape} does not broadcast to the product's shape "
                         f"{product.shape}") from None
    for name, factor in (("beta", beta), ("alpha", alpha)):
        if isinstance(factor, float) and product.dtype.kind != "f":
            raise TypeError(f"{op}(): {name}={factor} is a float, and the operands are {product.dtype} (PyTorch "
                            f"refuses this too)")
    scaled = product if alpha == 1 else product * alpha
    if beta == 0:  # input stays in the graph with a zero gradient, as PyTorch's (0 · ȳ, not no path)
        return _t.where(np.ones(product.shape, dtype=bool), scaled, input) if input.requires_grad else scaled
    return (input if beta == 1 else input * beta) + scaled
