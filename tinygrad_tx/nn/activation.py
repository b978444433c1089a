"""Activation and reshaping modules, as ``torch.nn``'s: `Tanh`, `Sigmoid`, `Softmax`, `LogSoftmax`, `Flatten`.

Each forward is one Tensor method; the engine differentiates it. (`ReLU`, `GELU` and `Dropout` are in
``layers.py``, beside the GPT that uses them; ``nn`` exports them all.)
"""

from __future__ import annotations

import warnings

import numpy as np

from ..tensor import Tensor
from ._checks import _tensor_input
from .module import Module

__all__ = ["Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Flatten"]


class Tanh(Module):
    """``a = tanh(x) = (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ)``, elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return _tensor_input("Tanh", x).tanh()


class Sigmoid(Module):
    """``a = σ(x) = 1 / (1 + e⁻ˣ)``, elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return _tensor_input("Sigmoid", x).sigmoid()


def _implicit_dim(name: str, ndim: int) -> int:
    """PyTorch's choice when no ``dim`` is given (deprecated there, with this warning): 0 for a 0-, 1- or
    3-d input, else 1."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  f"as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


class Softmax(Module):
    """``aᵢ = exp(xᵢ) / Σⱼ exp(xⱼ)`` along ``dim`` (computed with the max shifted out, so exp stays finite).
    ``dim=None`` picks PyTorch's legacy dimension, with its deprecation warning."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        x = _tensor_input("Softmax", x)
        return x.softmax(_implicit_dim("softmax", x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """``aᵢ = xᵢ − log Σⱼ exp(xⱼ)`` along ``dim`` (with the max shifted out); ``dim=None`` as in `Softmax`."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        x = _tensor_input("LogSoftmax", x)
        return x.log_softmax(_implicit_dim("log_softmax", x.ndim) if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Flatten(Module):
    """Merge the dimensions ``start_dim .. end_dim`` into one: a batch (N, C, H, W) becomes (N, C·H·W) with
    the defaults, which keep the batch dimension."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
                raise TypeError(f"Flatten: {name} must be an int, got {dim!r} ({type(dim).__name__})")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return _tensor_input("Flatten", x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
