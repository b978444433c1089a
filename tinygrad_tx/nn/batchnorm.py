"""Batch normalisation, as ``torch.nn.BatchNorm1d``/``BatchNorm2d``, composed only from engine primitives.

Per channel c (dimension 1), over the batch and any further dimensions (the n = N·L values of channel c)::

    training:   μ = mean(x),   σ² = mean((x − μ)²)              (biased: divided by n)
    evaluation: μ = running_mean,   σ² = running_var
    â = (x − μ) / √(σ² + ε),   a = â ∘ γ + β                      γ = weight, β = bias

In training the running statistics move towards the batch's, with the *unbiased* variance (divided by
n − 1), as PyTorch does::

    running_mean ← (1 − m) running_mean + m μ,   running_var ← (1 − m) running_var + m σ² n / (n − 1)

with m = ``momentum``, or m = 1 / num_batches_tracked (the cumulative average) for ``momentum=None``.
The update is a side effect on the buffers, outside the graph; the gradient flows through μ and σ² of
the batch in training, and to x, γ, β only in evaluation.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._device import _check_device
from ..tensor import Tensor
from . import init
from ._checks import _dtype, _number, _real, _size, _tensor_input
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "batch_norm"]


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """The functional form, with ``torch.nn.functional.batch_norm``'s arguments: normalise ``input`` (N, C, ...)
    per channel with the batch's statistics (``training``, updating the running ones if given) or with
    ``running_mean``/``running_var``. The formulas are in the module docstring."""
    C = input.shape[1]
    stat_dims = (0, *range(2, input.ndim))  # every dimension but the channels
    column = (1, C) + (1,) * (input.ndim - 2)  # a per-channel vector, shaped to broadcast against input
    if training:
        n = input.numel() // C if C else 0
        if n <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {input.shape}")
        if not eps > 0.0:
            raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
        mu = input.mean(stat_dims, keepdim=True)
        centered = input - mu
        var = (centered * centered).mean(stat_dims, keepdim=True)  # biased: / n
        if running_mean is not None:
            running_mean._set_array(((1 - momentum) * running_mean._data + momentum * mu._data.reshape(C)).astype(
                running_mean.dtype))
        if running_var is not None:
            unbiased = var._data.reshape(C) * (n / (n - 1))
            running_var._set_array(((1 - momentum) * running_var._data + momentum * unbiased).astype(running_var.dtype))
    else:
        if not eps >= 0.0:
            raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var must be given in evaluation mode "
                             "(training=False)")
        centered = input - running_mean.detach().reshape(column)  # constants: no gradient
        var = running_var.detach().reshape(column)
    a = centered * (var + eps) ** -0.5  # â
    if weight is not None:
        a = a * weight.reshape(column)
    if bias is not None:
        a = a + bias.reshape(column)
    return a


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input dimensions they accept."""

    _input_dims: tuple[int, ...] = ()
    _input_desc = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        who = type(self).__name__
        self.num_features = _size(who, "num_features", num_features)
        _real(who, "eps", eps, 0.0, math.inf)
        if momentum is not None:
            _number(who, "momentum", momentum)
        self.eps, self.momentum = eps, momentum  # (as given: the repr shows them as PyTorch's does)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        _check_device(device, who)
        dt, C = _dtype(dtype), self.num_features
        if self.affine:
            self.weight = Parameter(np.empty(C, dtype=dt))
            if bias:
                self.bias = Parameter(np.empty(C, dtype=dt))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(C, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(C, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """running_mean = 0, running_var = 1, num_batches_tracked = 0."""
        if self.track_running_stats:
            self.running_mean._set_array(np.zeros_like(self.running_mean._data))
            self.running_var._set_array(np.ones_like(self.running_var._data))
            self.num_batches_tracked._set_array(np.zeros_like(self.num_batches_tracked._data))

    def reset_parameters(self) -> None:
        """The running statistics reset, γ = 1, β = 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        who = f"{type(self).__name__}({self.num_features})"
        x = _tensor_input(who, x)
        if x.ndim not in self._input_dims:
            raise ValueError(f"{who}: expected {self._input_desc} input (got {x.ndim}D input of shape {x.shape})")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{who}: input of shape {x.shape} has {x.shape[1]} channels (dimension 1), "
                             f"expected {self.num_features}")
        batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        if batch_stats and x.numel() // x.shape[1] <= 1:  # checked before num_batches_tracked changes
            raise ValueError(f"{who}: expected more than 1 value per channel when training, got input size "
                             f"{x.shape}")
        m = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked._set_array(self.num_batches_tracked._data + 1)
            if self.momentum is None:  # the cumulative average of every batch so far
                m = 1.0 / float(self.num_batches_tracked._data)
        use_running = not self.training or self.track_running_stats  # (as PyTorch decides)
        return batch_norm(x, self.running_mean if use_running else None, self.running_var if use_running else None,
                          self.weight, self.bias, batch_stats, m, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs: statistics per channel C over N (and L). See the
    module docstring for the formulas; parameters ``weight`` (γ), ``bias`` (β), buffers ``running_mean``,
    ``running_var``, ``num_batches_tracked``, with PyTorch's names and defaults."""

    _input_dims = (2, 3)
    _input_desc = "2D or 3D"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) inputs: statistics per channel C over N, H and W."""

    _input_dims = (4,)
    _input_desc = "4D"
