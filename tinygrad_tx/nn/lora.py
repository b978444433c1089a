"""LoRA: a frozen linear layer plus a trainable low-rank update.

``a = a_prev w₀ + b₀ + s · (a_prev A) B`` with ``A`` (in, r) small random, ``B`` (r, out) zero (so
training starts from the base model) and ``s = α / r``. Gradients (derived by hand in
``manual.lora_linear_backward``): ``∂A = s a_prevᵀ Δ Bᵀ``, ``∂B = s (a_prev A)ᵀ Δ``, and the input
gradient keeps the frozen path: ``Δ_prev = Δ w₀ᵀ + s Δ (A B)ᵀ``. ``w₀`` gets no gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import init
from ._checks import _finite, _size
from .layers import Linear
from .module import Module, Parameter

__all__ = ["LoRALinear", "apply_lora", "lora_state_dict"]


class LoRALinear(Linear):
    """A `Linear` whose ``weight``/``bias`` are frozen, plus ``lora_A`` (in, r) and ``lora_B`` (r, out).

    It keeps the wrapped layer's parameter objects, so names stay ``...c_attn.weight`` and the
    base weights are shared, not copied.
    """

    def __init__(self, base: Linear, rank: int, alpha: float = 1.0) -> None:
        Module.__init__(self)
        if not isinstance(base, Linear) or isinstance(base, LoRALinear):
            raise TypeError(f"LoRALinear: base must be an nn.Linear (not already wrapped), got {type(base).__name__}")
        rank = _size("LoRALinear", "rank", rank)
        alpha = _finite("LoRALinear", "alpha", alpha)
        self.in_features, self.out_features = base.in_features, base.out_features
        self.weight = base.weight
        self.bias = base.bias
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        self.rank, self.alpha, self.scaling = rank, alpha, alpha / rank
        dt = base.weight.dtype
        self.lora_A = Parameter(np.empty((self.in_features, rank), dtype=dt))
        self.lora_B = Parameter(np.empty((rank, self.out_features), dtype=dt))
        bound = 1.0 / math.sqrt(self.in_features)  # kaiming_uniform_(A, a=√5)'s bound, as nn.Linear's weight
        init.uniform_(self.lora_A, -bound, bound)
        init.zeros_(self.lora_B)
        self.merged = False

    def forward(self, a_prev: Tensor) -> Tensor:
        a = super().forward(a_prev)
        if self.merged:
            return a
        return a + (a_prev @ self.lora_A @ self.lora_B) * self.scaling

    def delta_weight(self) -> np.ndarray:
        """s · A B, the update that `merge` adds to W₀."""
        return (self.lora_A.detach().numpy() @ self.lora_B.detach().numpy()) * self.scaling

    def merge(self) -> None:
        """Fold the update into W₀ (for fast inference); `unmerge` takes it out again."""
        if not self.merged:
            self.weight.data += self.delta_weight()
            self.merged = True

    def unmerge(self) -> None:
        if self.merged:
            self.weight.data -= self.delta_weight()
            self.merged = False

    def extra_repr(self) -> str:
        return super().extra_repr() + f", rank={self.rank}, alpha={self.alpha}"


def _matches(name: str, targets: tuple[str, ...]) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def apply_lora(model: Module, targets: Any = ("c_attn", "c_proj"), rank: int = 4, alpha: float = 1.0) -> list[str]:
    """Wrap every `Linear` whose dotted name ends with one of ``targets`` (``"c_attn"``,
    ``"attn.c_proj"``) in `LoRALinear`, and freeze every other parameter. Returns the wrapped names."""
    if not isinstance(model, Module):
        raise TypeError(f"apply_lora: model must be an nn.Module, got {type(model).__name__}")
    targets = (targets,) if isinstance(targets, str) else tuple(targets)
    if not all(isinstance(t, str) and t for t in targets):
        raise TypeError(f"apply_lora: targets must be layer names (non-empty strs), got {targets!r}")
    rank = _size("apply_lora", "rank", rank)  # checked here too, so that nothing is wrapped when it is bad
    wrapped = []
    lora_of: dict[int, LoRALinear] = {}  # a Linear shared by several parents gets one LoRALinear
    for name, parent in list(model.named_modules()):
        for child_name, child in list(parent._modules.items()):
            full = f"{name}.{child_name}" if name else child_name
            if isinstance(child, Linear) and not isinstance(child, LoRALinear) and _matches(full, targets):
                if id(child) not in lora_of:
                    lora_of[id(child)] = LoRALinear(child, rank, alpha)
                setattr(parent, child_name, lora_of[id(child)])
                wrapped.append(full)
    if not wrapped:
        raise ValueError(f"apply_lora: no Linear layer matches {list(targets)}")
    for pname, p in model.named_parameters():
        if not (pname.endswith(".lora_A") or pname.endswith(".lora_B")):
            p.requires_grad_(False)
    return wrapped


def lora_state_dict(model: Module) -> dict[str, np.ndarray]:
    """Only the LoRA parameters (what a fine-tune needs to save)."""
    return {n: p.detach().numpy().copy() for n, p in model.named_parameters() if n.endswith((".lora_A", ".lora_B"))}
