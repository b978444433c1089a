"""Fused layers: the hand-derived gradients of ``tinygrad_tx.manual``, plugged into the engine as
custom ops through the public `Function` API, and `fuse`, which swaps them into a model.

Each op is one graph node whose forward and backward are the manual module's NumPy functions, so
LayerNorm is one node instead of about ten, and its backward is one formula instead of ten VJPs.
Results equal the composed layers' to rounding (tests: relative error ≤ 1e-12 in float64).
``fuse(model)`` (and ``build_gpt(GPTConfig(fused=True))``) uses them; ``bench/train_step.py`` compares
the speed.

Like every primitive, each saves the inputs its VJP reads (`save_for_backward`: read-only while the
graph lives, and version-checked at backward), so changing one after the forward pass is refused
instead of corrupting the gradient.

They are **first-order**: their backward is plain NumPy, not Tensor operations, so it cannot be
differentiated again. Asking for it (``grad(..., create_graph=True)``) is an error that says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np

from .. import nn
from ..autograd import Function, is_grad_enabled
from ..nn._checks import _tensor_input
from ..tensor import Tensor
from .attention import causal_attention_backward, causal_attention_forward
from .layers import (
    gelu_backward,
    gelu_forward,
    layernorm_backward,
    layernorm_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)

__all__ = ["FusedLayerNorm", "FusedGELU", "FusedCausalAttention", "FusedCrossEntropy", "fuse", "unfuse", "composed",
           "build_gpt"]


def _first_order_only(ctx: Any) -> None:
    if is_grad_enabled():
        raise RuntimeError(
            f"{ctx._op_name()}: a fused op's backward is hand-derived NumPy and cannot be differentiated "
            f"again; build the model with GPTConfig(fused=False) for higher-order gradients"
        )


def _t(a: np.ndarray | None) -> Tensor | None:
    return None if a is None else Tensor._make(a, False)


class FusedLayerNorm(Function):
    """y = (x - μ)/√(σ² + ε) ⊙ γ + β per row.  VJP (``manual.layernorm_backward``), with G = ȳ ⊙ γ:
    x̄ = (1/σ)(G - mean(G) - x̂ ⊙ mean(x̂ ⊙ G)),  γ̄ = Σ_rows x̂ ⊙ ȳ,  β̄ = Σ_rows ȳ"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *, eps: float) -> np.ndarray:
        y, ctx.cache = layernorm_forward(x, gamma, beta, eps)
        ctx.save_for_backward(gamma if ctx.needs_input_grad[0] else None)  # x̄ reads γ; γ̄ and β̄ do not
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        ctx.saved_tensors  # noqa: B018  (checks that what the VJP reads was not modified)
        dx, grads = layernorm_backward(g.detach().numpy(), ctx.cache)
        return _t(dx), _t(grads.get("weight")), _t(grads.get("bias"))


class FusedGELU(Function):
    """y = x Φ(x) (exact, or GPT-2's tanh form).  VJP: x̄ = ȳ ⊙ g'(x) (``manual.gelu_backward``)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, approximate: str) -> np.ndarray:
        y, ctx.cache = gelu_forward(x, approximate)
        ctx.save_for_backward(x)  # g'(x) reads x
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        ctx.saved_tensors  # noqa: B018
        dx, _ = gelu_backward(g.detach().numpy(), ctx.cache)
        return _t(dx)


class FusedCausalAttention(Function):
    """out = ρ v, ρ = softmax(q kᵀ/√d_h + M).  VJP (``manual.causal_attention_backward``):
    G = ȳ vᵀ, Δ_S = ρ ⊙ (G - rowsum(G ⊙ ρ)), q̄ = Δ_S k/√d_h, k̄ = Δ_Sᵀ q/√d_h, v̄ = ρᵀ ȳ"""

    @staticmethod
    def forward(ctx: Any, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        out, ctx.cache = causal_attention_forward(q, k, v)
        need_q, need_k, need_v = ctx.needs_input_grad  # q̄ reads k and v, k̄ reads q and v, v̄ only ρ
        ctx.save_for_backward(q if need_k else None, k if need_q else None, v if need_q or need_k else None)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        ctx.saved_tensors  # noqa: B018
        dq, dk, dv, _ = causal_attention_backward(g.detach().numpy(), ctx.cache)
        return _t(dq), _t(dk), _t(dv)


class FusedCrossEntropy(Function):
    """L = mean over rows of -log softmax(logits)[target].  VJP: logits̄ = L̄ (softmax - onehot(y)) / N"""

    @staticmethod
    def forward(ctx: Any, logits: np.ndarray, *, targets: np.ndarray) -> np.ndarray:
        if ctx.needs_input_grad[0]:  # the caller's array: the VJP must see the targets of the forward
            targets = np.array(targets, copy=True)
        loss, ctx.cache = softmax_cross_entropy_forward(logits, targets)
        return loss.astype(logits.dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        return _t(softmax_cross_entropy_backward(ctx.cache, g.item()).astype(g.dtype))


# ------------------------------------------------------------------------------- the swap
# Each fused layer is the nn layer with the one method that holds its formula replaced by the op above;
# everything else (argument checks, parameters, names, repr) is the nn layer's.


class LayerNorm(nn.LayerNorm):
    """``nn.LayerNorm`` whose normalisation is one `FusedLayerNorm` node."""

    def normalize(self, a_prev: Tensor, gamma: Tensor | None, beta: Tensor | None) -> Tensor:
        n = a_prev.shape[-1]
        return FusedLayerNorm.apply(a_prev, gamma if gamma is not None else np.ones(n, a_prev.dtype),
                                    beta if beta is not None else np.zeros(n, a_prev.dtype), eps=self.eps)


class GELU(nn.GELU):
    """``nn.GELU`` as one `FusedGELU` node."""

    def forward(self, a_prev: Tensor) -> Tensor:
        return FusedGELU.apply(_tensor_input("GELU", a_prev), approximate=self.approximate)


class CausalSelfAttention(nn.CausalSelfAttention):
    """``nn.CausalSelfAttention`` whose core (scores, mask, softmax, @ v) is one `FusedCausalAttention` node,
    except when ρ is wanted (``keep_attention``) or dropped out (training with dropout): the composed core."""

    def causal_attention(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        if self.keep_attention or (self.training and self.attn_dropout.p > 0):
            return super().causal_attention(q, k, v)
        return FusedCausalAttention.apply(q, k, v)


class GPT(nn.GPT):
    """``nn.GPT`` whose loss is one `FusedCrossEntropy` node."""

    def cross_entropy(self, logits: Tensor, targets: np.ndarray) -> Tensor:
        return FusedCrossEntropy.apply(logits, targets=targets)


_FUSED: dict[type, type] = {nn.LayerNorm: LayerNorm, nn.GELU: GELU, nn.CausalSelfAttention: CausalSelfAttention,
                            nn.GPT: GPT}


def fuse(model: nn.Module) -> nn.Module:
    """Swap the fused ops into ``model``, in place, and return it: every ``nn.LayerNorm``, ``nn.GELU`` and
    ``nn.CausalSelfAttention`` (exactly these classes, not subclasses of them) and an ``nn.GPT``'s loss.

    Each layer's class is changed to its fused subclass above (as ``torch.nn.utils.parametrize`` does), so
    the parameters, their names and any optimizer holding them are unchanged. A GPT's config gets
    ``fused=True``, so that a checkpoint of it says so. First-order only: see `FusedLayerNorm`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"fuse: expected an nn.Module, got {type(model).__name__}")
    for m in model.modules():
        fused = _FUSED.get(type(m))
        if fused is not None:
            m.__class__ = fused
        if fused is GPT:  # its loss is the fused one
            m.config = replace(m.config, fused=True)
    return model


def unfuse(model: nn.Module) -> nn.Module:
    """The inverse of `fuse`: the composed nn layers again (in place; returns ``model``)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"unfuse: expected an nn.Module, got {type(model).__name__}")
    plain_of = {fused: plain for plain, fused in _FUSED.items()}
    for m in model.modules():
        plain = plain_of.get(type(m))
        if plain is not None:
            m.__class__ = plain
        if plain is nn.GPT:
            m.config = replace(m.config, fused=False)
    return model


@contextmanager
def composed(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` with the composed nn layers for the duration (`unfuse`), then exactly as it was."""
    before = [(m, type(m), getattr(m, "config", None)) for m in model.modules()]
    unfuse(model)
    try:
        yield model
    finally:
        for m, cls, config in before:
            m.__class__ = cls
            if config is not None:
                m.config = config


def build_gpt(config: nn.GPTConfig, dtype: Any = None) -> nn.GPT:
    """``nn.GPT(config)``, fused if ``config.fused``: the weights are the same for a seed either way."""
    if not isinstance(config, nn.GPTConfig):
        raise TypeError(f"build_gpt: expected an nn.GPTConfig, got {type(config).__name__}")
    model = nn.GPT(replace(config, fused=False), dtype=dtype)
    return fuse(model) if config.fused else model
