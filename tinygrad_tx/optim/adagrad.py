r"""Adagrad (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
Optimization", JMLR 2011), as ``torch.optim.Adagrad``.

At step t = 1, 2, ..., with learning rate η, learning-rate decay δ, weight decay λ and ε::

    g ← ∇θ                    (or -∇θ with maximize)
    g ← g + λ θ
    η_t = η / (1 + (t - 1) δ)
    s ← s + g²                the sum of all the squared gradients so far  (s = s₀ before step 1)
    θ ← θ - η_t g / (√s + ε)

A weight whose gradients have been large takes small steps from then on, and one rarely touched keeps
large ones; since s only grows, every step size shrinks over the run. s₀ is
``initial_accumulator_value`` for every parameter: the optimizer's, as in PyTorch (a group's own value
is kept in the group and not used). The state exists from construction on, as in PyTorch.

The arithmetic is in the order of torch's single-tensor code: ``θ + (-η_t g) / (√s + ε)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .optimizer import Optimizer, ParamsT

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (see the module docstring for the rule).

    State per parameter: ``step`` (t) and ``sum`` (s).
    """

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        # Python floats, so that float32 parameters are updated in float32 arithmetic
        lr, lr_decay, lam, eps = (float(group[k]) for k in ("lr", "lr_decay", "weight_decay", "eps"))
        if not state:  # a parameter added with add_param_group, or loaded without state
            self._init_state(state, param)
        state["step"] = t = state["step"] + 1

        g = -grad if group["maximize"] else grad
        if lam != 0:
            g = g + lam * param  # g ← g + λ θ
        clr = lr / (1 + (t - 1) * lr_decay)  # η_t
        s = state["sum"]
        s += g * g  # s ← s + g²
        return param + (-clr * g) / (np.sqrt(s) + eps)  # θ - η_t g / (√s + ε), a new array

    def _init_state(self, state: dict[str, Any], param: np.ndarray) -> None:
        state["step"] = 0
        state["sum"] = np.full_like(param, float(self.defaults["initial_accumulator_value"]))

    # ---------------------------------------------------------------- settings and their checks
    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        """``torch.optim.Adagrad``'s arguments and defaults. ``foreach`` and ``fused`` choose among
        PyTorch's kernels and change nothing here; ``differentiable=True`` is refused (see
        ``optimizer.py``)."""
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
            differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p._data)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        for key in ("lr_decay", "weight_decay", "initial_accumulator_value", "eps"):
            if not group[key] >= 0.0:
                raise ValueError(f"invalid {key}: {group[key]!r} (it must be >= 0)")

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        return {"step", "sum"}
