r"""RMSprop (Hinton, "Neural Networks for Machine Learning", lecture 6e, 2012), as ``torch.optim.RMSprop``.

With learning rate η, smoothing constant α, ε, weight decay λ and momentum μ, one step does::

    g ← ∇θ                    (or -∇θ with maximize)
    g ← g + λ θ
    v ← α v + (1 - α) g²      a running mean of g²                  (v = 0 before step 1)
    m ← α m + (1 - α) g       a running mean of g, if centered      (m = 0 before step 1)
    d = √(v - m²) + ε         centered: the running variance of g,
    d = √v + ε                otherwise: the running mean square
    b ← μ b + g / d,   θ ← θ - η b      if μ > 0                   (b = 0 before step 1)
    θ ← θ - η g / d                      otherwise

Each weight's step is divided by a running estimate of its gradient's size, so all weights move at a
similar rate. The centered form (Graves, "Generating Sequences With Recurrent Neural Networks", 2013,
arXiv:1308.0850, section 4) divides by the standard deviation instead of the root mean square.

The arithmetic is in the order of torch's single-tensor code: m by ``lerp``, and ``θ + (-η g) / d``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .adam import _lerp_
from .optimizer import Optimizer, ParamsT

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (see the module docstring for the rule).

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b) when μ > 0 and
    ``grad_avg`` (m) when centered.
    """

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        # Python floats, so that float32 parameters are updated in float32 arithmetic
        lr, alpha, eps, lam, mu = (float(group[k]) for k in ("lr", "alpha", "eps", "weight_decay", "momentum"))
        if not state:
            self._init_state(state, param, group)
        state["step"] += 1

        g = -grad if group["maximize"] else grad
        if lam != 0:
            g = g + lam * param  # g ← g + λ θ
        v = state["square_avg"]
        v *= alpha
        v += (1 - alpha) * g * g  # v ← α v + (1 - α) g²
        if group["centered"]:
            m = state["grad_avg"]
            _lerp_(m, g, 1 - alpha)  # m ← α m + (1 - α) g
            d = np.sqrt(v - m * m)
        else:
            d = np.sqrt(v)
        d += eps  # (a new array: v is not changed)
        if mu > 0:
            b = state["momentum_buffer"]
            b *= mu
            b += g / d  # b ← μ b + g / d
            return param + -lr * b  # θ - η b, a new array: the caller's is never written
        return param + (-lr * g) / d  # θ - η g / d

    def _init_state(self, state: dict[str, Any], param: np.ndarray, group: dict[str, Any]) -> None:
        state["step"] = 0
        state["square_avg"] = np.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum_buffer"] = np.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = np.zeros_like(param)

    # ---------------------------------------------------------------- settings and their checks
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        """``torch.optim.RMSprop``'s arguments and defaults. ``foreach`` chooses among PyTorch's kernels
        and changes nothing here; ``capturable=True`` and ``differentiable=True`` are refused (see
        ``optimizer.py``)."""
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
            capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        for key in ("eps", "momentum", "weight_decay", "alpha"):
            if not group[key] >= 0.0:
                raise ValueError(f"invalid {key}: {group[key]!r} (it must be >= 0)")

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "square_avg"}
        if group["momentum"] > 0:
            keys.add("momentum_buffer")
        if group["centered"]:
            keys.add("grad_avg")
        return keys
