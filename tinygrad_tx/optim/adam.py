r"""Adam (Kingma & Ba, arXiv:1412.6980, Algorithm 1) and AdamW (Loshchilov & Hutter, arXiv:1711.05101,
Algorithm 2), as ``torch.optim.Adam`` and ``torch.optim.AdamW``.

At step t = 1, 2, ..., with gradient g, learning rate η, betas β₁, β₂ and ε::

    m ← β₁ m + (1 - β₁) g           a running mean of g       (m = 0 before step 1)
    v ← β₂ v + (1 - β₂) g²          a running mean of g²      (v = 0 before step 1)
    m̂ = m / (1 - β₁ᵗ)               bias corrections: m and v started at 0
    v̂ = v / (1 - β₂ᵗ)
    θ ← θ - η m̂ / (√v̂ + ε)

The two differ in weight decay λ:

    Adam:   g ← g + λ θ              before the moments: an L2 penalty, which the division by √v̂
                                     then rescales differently for every weight
    AdamW:  θ ← θ (1 - η λ)          before the step: decoupled, every weight shrinks by one factor

(Loshchilov & Hutter write θ ← θ - η_t (α m̂ / (√v̂ + ε) + λ θ), with a schedule multiplier η_t;
PyTorch's λ, the one used here, is theirs divided by α.) With ``amsgrad`` (Reddi, Kale & Kumar,
https://openreview.net/forum?id=ryQu7f-RZ) the denominator uses the largest v seen so far.

The arithmetic is in the order of torch's single-tensor code: m by ``lerp``, and the last line as
``θ - (η / (1 - β₁ᵗ)) m / (√v / √(1 - β₂ᵗ) + ε)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT, StateDict

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    """Adam (see the module docstring for the rule). Weight decay is L2: λθ is added to the gradient,
    or, with ``decoupled_weight_decay=True``, AdamW's decay θ ← θ (1 - η λ) (the rule is per group).

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v), and
    ``max_exp_avg_sq`` (the largest v so far) with amsgrad.
    """

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        # Python floats, so that float32 parameters are updated in float32 arithmetic
        lr, eps, lam = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            self._init_state(state, param, group)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] = t = state["step"] + 1

        g = -grad if group["maximize"] else grad
        if lam != 0 and group["decoupled_weight_decay"]:
            param = param * (1 - lr * lam)  # θ ← θ (1 - η λ), a new array: the caller's is never written
        elif lam != 0:
            g = g + lam * param  # g ← g + λ θ
        _lerp_(m, g, 1 - beta1)  # m ← β₁ m + (1 - β₁) g
        v *= beta2
        v += (1 - beta2) * g * g  # v ← β₂ v + (1 - β₂) g²
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        denom = np.sqrt(v) / (1 - beta2**t) ** 0.5 + eps  # √v̂ + ε
        return param + (-(lr / (1 - beta1**t)) * m) / denom  # θ - η m̂ / (√v̂ + ε)

    def _init_state(self, state: dict[str, Any], param: np.ndarray, group: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(param)
        state["exp_avg_sq"] = np.zeros_like(param)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(param)

    # ---------------------------------------------------------------- settings and their checks
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        """``torch.optim.Adam``'s arguments and defaults. ``foreach`` and ``fused`` choose among
        PyTorch's kernels and change nothing here; ``capturable=True`` and ``differentiable=True``
        are refused (see ``optimizer.py``)."""
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
            foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        beta1, beta2 = group["betas"]
        if not 0.0 <= beta1 < 1.0 or not 0.0 <= beta2 < 1.0:
            raise ValueError(f"invalid betas: {group['betas']!r} (each must be in [0, 1))")
        if not group["eps"] >= 0.0:
            raise ValueError(f"invalid eps: {group['eps']!r} (it must be >= 0)")
        if not group["weight_decay"] >= 0.0:
            raise ValueError(f"invalid weight_decay: {group['weight_decay']!r} (it must be >= 0)")

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "exp_avg", "exp_avg_sq"}
        return keys | {"max_exp_avg_sq"} if group["amsgrad"] else keys


class AdamW(Adam):
    """Adam with decoupled weight decay: θ ← θ (1 - η λ) before the Adam step, instead of λθ in the
    gradient, so the decay is not rescaled by √v̂. The default λ is 1e-2.

    As in PyTorch, this is ``Adam(..., decoupled_weight_decay=True)``, and loading a state dict
    keeps every group's ``decoupled_weight_decay`` True."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        """``torch.optim.AdamW``'s arguments and defaults (see `Adam`)."""
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: StateDict) -> None:
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start ← start + w (end - start), in place, with torch's two formulas (exact at w = 0 and w = 1)."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)
