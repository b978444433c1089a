"""Fused layers: the hand-derived gradients of ``tinygrad_tx.manual``, plugged into the engine as
custom ops through the public `Function` API.

Each op is one graph node whose forward and backward are the manual module's NumPy functions, so
LayerNorm is one node instead of about ten, and its backward is one formula instead of ten VJPs.
Results equal the composed layers' to rounding (tests: relative error ≤ 1e-12 in float64).
``GPTConfig(fused=True)`` uses them; ``bench/train_step.py`` compares the speed.

They are **first-order**: their backward is plain NumPy, not Tensor operations, so it cannot be
differentiated again. Asking for it (``grad(..., create_graph=True)``) is an error that says so.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import is_grad_enabled
from ..function import Function
from ..manual.attention import causal_attention_backward, causal_attention_forward
from ..manual.layers import (
    gelu_backward,
    gelu_forward,
    layernorm_backward,
    layernorm_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)
from ..tensor import Tensor

__all__ = ["FusedLayerNorm", "FusedGELU", "FusedCausalAttention", "FusedCrossEntropy"]


def _first_order_only(ctx: Any) -> None:
    if is_grad_enabled():
        raise RuntimeError(
            f"{ctx._op_name()}: a fused op's backward is hand-derived NumPy and cannot be differentiated "
            f"again; build the model with GPTConfig(fused=False) for higher-order gradients"
        )


def _t(a: np.ndarray | None) -> Tensor | None:
    return None if a is None else Tensor._make(a, a.dtype, False)


class FusedLayerNorm(Function):
    """y = (x - μ)/√(σ² + ε) ⊙ γ + β per row.  VJP (``manual.layernorm_backward``), with G = ȳ ⊙ γ:
    x̄ = (1/σ)(G - mean(G) - x̂ ⊙ mean(x̂ ⊙ G)),  γ̄ = Σ_rows x̂ ⊙ ȳ,  β̄ = Σ_rows ȳ"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, *, eps: float) -> np.ndarray:
        y, ctx.cache = layernorm_forward(x, gamma, beta, eps)
        ctx.save_for_backward(gamma)  # protects γ from an update before backward
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        ctx.saved_tensors  # noqa: B018  (checks that γ was not modified)
        dx, grads = layernorm_backward(g.data, ctx.cache)
        return _t(dx), _t(grads.get("weight")), _t(grads.get("bias"))


class FusedGELU(Function):
    """y = x Φ(x) (exact, or GPT-2's tanh form).  VJP: x̄ = ȳ ⊙ g'(x) (``manual.gelu_backward``)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, approximate: str) -> np.ndarray:
        y, ctx.cache = gelu_forward(x, approximate)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        dx, _ = gelu_backward(g.data, ctx.cache)
        return _t(dx)


class FusedCausalAttention(Function):
    """out = ρ v, ρ = softmax(q kᵀ/√d_h + M).  VJP (``manual.causal_attention_backward``):
    G = ȳ vᵀ, Δ_S = ρ ⊙ (G - rowsum(G ⊙ ρ)), q̄ = Δ_S k/√d_h, k̄ = Δ_Sᵀ q/√d_h, v̄ = ρᵀ ȳ"""

    @staticmethod
    def forward(ctx: Any, q: np.ndarray, k: np.ndarray, v: np.ndarray) -> np.ndarray:
        out, ctx.cache = causal_attention_forward(q, k, v)
        return out

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        dq, dk, dv, _ = causal_attention_backward(g.data, ctx.cache)
        return _t(dq), _t(dk), _t(dv)


class FusedCrossEntropy(Function):
    """L = mean over rows of -log softmax(logits)[target].  VJP: logits̄ = L̄ (softmax - onehot(y)) / N"""

    @staticmethod
    def forward(ctx: Any, logits: np.ndarray, *, targets: np.ndarray) -> np.ndarray:
        loss, ctx.cache = softmax_cross_entropy_forward(logits, targets)
        return loss.astype(logits.dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        _first_order_only(ctx)
        return _t(softmax_cross_entropy_backward(ctx.cache, float(g.data)).astype(g.dtype))
