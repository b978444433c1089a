"""LoRA: a frozen linear layer plus a trainable low-rank update ``s · ΔW`` with ``s = α / r``.

The factors take the layout of the weight they update, so that ``ΔW`` has the weight's shape:

- `LoRAConv1D` wraps GPT-2's `Conv1D` (``w₀`` (in, out)): ``a = a_prev w₀ + b₀ + s · (a_prev A) B`` with
  ``A`` (in, r), ``B`` (r, out), ``ΔW = A B``. Gradients (derived by hand in ``manual.lora_linear_backward``):
  ``∂A = s a_prevᵀ Δ Bᵀ``, ``∂B = s (a_prev A)ᵀ Δ``, and the input gradient keeps the frozen path:
  ``Δ_prev = Δ w₀ᵀ + s Δ (A B)ᵀ``.
- `LoRALinear` wraps ``nn.Linear`` (``W₀`` (out, in)) as PEFT does: ``a = a_prev W₀ᵀ + b₀ + s · (a_prev Aᵀ) Bᵀ``
  with ``A`` (r, in) and ``B`` (out, r) (PEFT's ``lora_A.weight``, ``lora_B.weight``), ``ΔW = B A``. These are
  the formulas above with ``A``, ``B`` transposed and their roles in the product swapped.

Either way ``A`` is small random (``kaiming_uniform_(a=√5)``'s bound 1/√in, as ``nn.Linear``'s weight) and
``B`` is zero, so training starts from the base model; ``w₀`` and ``b₀`` get no gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import init
from ._checks import _finite, _size
from .layers import Conv1D, Linear
from .module import Module, Parameter

__all__ = ["LoRALayer", "LoRALinear", "LoRAConv1D", "apply_lora", "lora_state_dict"]


class LoRALayer(Module):
    """What `LoRALinear` and `LoRAConv1D` share: the frozen base parameters, ``lora_A`` (small random) and
    ``lora_B`` (zero), ``rank``, ``alpha``, ``scaling = α / r``, and `merge` / `unmerge`.

    It keeps the wrapped layer's parameter objects, so names stay ``...c_attn.weight`` and the base
    weights are shared, not copied.
    """

    def _freeze(self, base: Any, base_class: type[Module], rank: int, alpha: float) -> int:
        """Check the arguments, then share and freeze ``base``'s parameters; returns the rank."""
        Module.__init__(self)
        who = type(self).__name__
        if not isinstance(base, base_class) or isinstance(base, LoRALayer):
            raise TypeError(f"{who}: base must be an nn.{base_class.__name__} (not already wrapped), got "
                            f"{type(base).__name__}")
        rank = _size(who, "rank", rank)
        alpha = _finite(who, "alpha", alpha)
        self.weight = base.weight
        self.bias = base.bias
        self.weight.requires_grad_(False)
        if self.bias is not None:
            self.bias.requires_grad_(False)
        self.rank, self.alpha, self.scaling = rank, alpha, alpha / rank
        self.merged = False
        return rank

    def _factors(self, shape_A: tuple[int, int], shape_B: tuple[int, int], fan_in: int) -> None:
        """``A`` ~ U(-1/√fan_in, 1/√fan_in) (``kaiming_uniform_(A, a=√5)``'s bound, as nn.Linear's weight);
        ``B`` = 0."""
        dt = self.weight.dtype
        self.lora_A = Parameter(np.empty(shape_A, dtype=dt))
        self.lora_B = Parameter(np.empty(shape_B, dtype=dt))
        bound = 1.0 / math.sqrt(fan_in)
        init.uniform_(self.lora_A, -bound, bound)
        init.zeros_(self.lora_B)

    def delta_weight(self) -> np.ndarray:
        """``s · ΔW``, in the layout of ``weight``: what `merge` adds to it (each subclass's formula)."""
        raise NotImplementedError(f"{type(self).__name__} does not define delta_weight")

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


class LoRAConv1D(LoRALayer, Conv1D):
    """A `Conv1D` whose ``weight`` w₀ (in, out) and ``bias`` b₀ are frozen, plus ``lora_A`` (in, r) and
    ``lora_B`` (r, out) (``manual.lora_linear_forward``); the GPT's LoRA::

        a = a_prev w₀ + b₀ + s · (a_prev A) B,    ΔW = A B (in, out)
    """

    def __init__(self, base: Conv1D, rank: int, alpha: float = 1.0) -> None:
        rank = self._freeze(base, Conv1D, rank, alpha)
        self.nf, self.nx = base.nf, base.nx
        self._factors((self.nx, rank), (rank, self.nf), fan_in=self.nx)

    def forward(self, a_prev: Tensor) -> Tensor:
        a = Conv1D.forward(self, a_prev)  # a_prev w₀ + b₀, with the input checks
        return a if self.merged else a + (a_prev @ self.lora_A @ self.lora_B) * self.scaling

    def delta_weight(self) -> np.ndarray:
        """``s · A B`` (in, out)."""
        return (self.lora_A.detach().numpy() @ self.lora_B.detach().numpy()) * self.scaling


class LoRALinear(LoRALayer, Linear):
    """An `nn.Linear` whose ``weight`` W₀ (out, in) and ``bias`` b₀ are frozen, plus ``lora_A`` (r, in) and
    ``lora_B`` (out, r), the layout of PEFT's ``lora_A.weight`` and ``lora_B.weight``::

        a = a_prev W₀ᵀ + b₀ + s · (a_prev Aᵀ) Bᵀ,    ΔW = B A (out, in)
    """

    def __init__(self, base: Linear, rank: int, alpha: float = 1.0) -> None:
        rank = self._freeze(base, Linear, rank, alpha)
        self.in_features, self.out_features = base.in_features, base.out_features
        self._factors((rank, self.in_features), (self.out_features, rank), fan_in=self.in_features)

    def forward(self, a_prev: Tensor) -> Tensor:
        a = Linear.forward(self, a_prev)  # a_prev W₀ᵀ + b₀, with the input checks
        return a if self.merged else a + (a_prev @ self.lora_A.T @ self.lora_B.T) * self.scaling

    def delta_weight(self) -> np.ndarray:
        """``s · B A`` (out, in)."""
        return (self.lora_B.detach().numpy() @ self.lora_A.detach().numpy()) * self.scaling


_LORA_OF: dict[type, type[LoRALayer]] = {Linear: LoRALinear, Conv1D: LoRAConv1D}


def _lora_class(layer: Any) -> type[LoRALayer] | None:
    """The LoRA class that wraps ``layer`` (a Linear or a Conv1D, or a subclass that is not LoRA), else None."""
    if isinstance(layer, LoRALayer):
        return None
    return next((lora for base, lora in _LORA_OF.items() if isinstance(layer, base)), None)


def _matches(name: str, targets: tuple[str, ...]) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def apply_lora(model: Module, targets: Any = ("c_attn", "c_proj"), rank: int = 4, alpha: float = 1.0) -> list[str]:
    """Wrap every `Linear` (in `LoRALinear`) and `Conv1D` (in `LoRAConv1D`) whose dotted name ends with one
    of ``targets`` (``"c_attn"``, ``"attn.c_proj"``), and freeze every other parameter. Returns the wrapped
    names."""
    if not isinstance(model, Module):
        raise TypeError(f"apply_lora: model must be an nn.Module, got {type(model).__name__}")
    targets = (targets,) if isinstance(targets, str) else tuple(targets)
    if not all(isinstance(t, str) and t for t in targets):
        raise TypeError(f"apply_lora: targets must be layer names (non-empty strs), got {targets!r}")
    rank = _size("apply_lora", "rank", rank)  # checked here too, so that nothing is wrapped when it is bad
    wrapped = []
    lora_of: dict[int, LoRALayer] = {}  # a layer shared by several parents gets one LoRA layer
    for name, parent in list(model.named_modules()):
        for child_name, child in list(parent._modules.items()):
            full = f"{name}.{child_name}" if name else child_name
            lora_class = _lora_class(child)
            if lora_class is not None and _matches(full, targets):
                if id(child) not in lora_of:
                    lora_of[id(child)] = lora_class(child, rank, alpha)
                setattr(parent, child_name, lora_of[id(child)])
                wrapped.append(full)
    if not wrapped:
        raise ValueError(f"apply_lora: no Linear or Conv1D layer matches {list(targets)}")
    for pname, p in model.named_parameters():
        if not (pname.endswith(".lora_A") or pname.endswith(".lora_B")):
            p.requires_grad_(False)
    return wrapped


def lora_state_dict(model: Module) -> dict[str, Tensor]:
    """Only the LoRA factors of ``model.state_dict()`` (what a fine-tune needs to save), as PEFT's
    ``get_peft_model_state_dict``: tensors that share the parameters' storage, like every state dict's
    values, so a snapshot is a copy: ``{k: v.clone() for k, v in lora_state_dict(model).items()}``.
    ``model.load_state_dict(sd, strict=False)`` loads them back."""
    return {n: v for n, v in model.state_dict().items() if n.endswith((".lora_A", ".lora_B"))}
