r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

With learning rate η, momentum μ, dampening τ and weight decay λ, one step does::

    g ← ∇θ                    (or -∇θ with maximize)
    g ← g + λ θ
    b ← g                     on the first step
    b ← μ b + (1 - τ) g       afterwards             (if μ ≠ 0)
    g ← g + μ b   with nesterov,   g ← b   without    (if μ ≠ 0)
    θ ← θ - η g

This is PyTorch's form of momentum: η multiplies the buffer b on the way out, where Sutskever et
al. put it inside the buffer, b ← μ b + η g ("On the importance of initialization and momentum in
deep learning", 2013, https://www.cs.toronto.edu/~hinton/absps/momentum.pdf). The two agree while
η is constant; with a schedule, PyTorch's step changes as soon as η does (see the note in
https://pytorch.org/docs/stable/generated/torch.optim.SGD.html).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent with momentum (see the module docstring for the rule).

    State per parameter: ``momentum_buffer`` (b), only when μ ≠ 0.
    """

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        # Python floats, so that float32 parameters are updated in float32 arithmetic
        lr, mu, tau, lam = (float(group[k]) for k in ("lr", "momentum", "dampening", "weight_decay"))
        g = -grad if group["maximize"] else grad
        if lam != 0:
            g = g + lam * param
        if mu != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = np.array(g, dtype=param.dtype, copy=True)
            else:
                b *= mu
                b += (1 - tau) * g
            g = g + mu * b if group["nesterov"] else b
        return param - lr * g

    # ---------------------------------------------------------------- settings and their checks
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        """``torch.optim.SGD``'s arguments and defaults. ``foreach`` and ``fused`` choose among
        PyTorch's kernels and change nothing here; ``differentiable=True`` is refused (see
        ``optimizer.py``)."""
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
            maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if not group["momentum"] >= 0.0:
            raise ValueError(f"invalid momentum: {group['momentum']!r} (it must be >= 0)")
        if not group["weight_decay"] >= 0.0:
            raise ValueError(f"invalid weight_decay: {group['weight_decay']!r} (it must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        return {"momentum_buffer"} if group["momentum"] != 0 else set()
