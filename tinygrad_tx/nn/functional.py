"""Neural-network functions, as ``torch.nn.functional``, composed only from the engine's primitives (no
backward written here).

Each function is the formula, written with Tensor operations; its gradient is whatever the
primitives' VJPs compose to. ``tinygrad_tx.manual`` derives the same gradients by hand, with the same
symbols (the paper's: ``μ``, ``σ``, ``â``, ``γ``, ``β``, ``S``, ``ρ``).
All are stable at extreme inputs: logits of ±1e4 give a finite loss and finite gradients (the
max shift), and LayerNorm of a constant row is finite (eps inside the square root).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._random import _generator
from ..tensor import Tensor, where

__all__ = [
    "softmax", "log_softmax", "cross_entropy", "relu", "gelu", "layer_norm", "dropout",
    "scaled_dot_product_attention", "linear", "causal_mask",
]


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ - m) / Σⱼ exp(xⱼ - m), with m = max x (changes nothing, avoids overflow)."""
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log softmax(x)ᵢ = (xᵢ - m) - log Σⱼ exp(xⱼ - m)."""
    return x.log_softmax(dim)


def cross_entropy(
    logits: Tensor, targets: Any, ignore_index: int | None = None, reduction: str = "mean"
) -> Tensor:
    """L = -log softmax(logits)[target], averaged over the (non-ignored) rows.

    ``logits`` is ``(N, C)`` (or ``(C,)`` for one row), ``targets`` integer class indices ``(N,)``.
    ``reduction``: ``'mean'`` (over non-ignored rows, as PyTorch), ``'sum'`` or ``'none'``.
    """
    t = np.asarray(targets._data if isinstance(targets, Tensor) else targets)
    if logits.ndim == 1:
        logits, t = logits.unsqueeze(0), t.reshape(1)
    if logits.ndim != 2 or t.shape != (logits.shape[0],):
        raise ValueError(
            f"cross_entropy: expected logits (N, C) and targets (N,), got {logits.shape} and {t.shape}"
        )
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    n, c = logits.shape
    valid = np.ones(n, dtype=bool) if ignore_index is None else t != ignore_index
    bad = valid & ((t < 0) | (t >= c))
    if bad.any():
        raise IndexError(
            f"cross_entropy: target {int(t[bad][0])} is out of range for {c} classes"
        )
    safe = np.where(valid, t, 0)
    picked = logits.log_softmax(-1)[np.arange(n), safe]  # log p(target) per row
    if ignore_index is not None:
        picked = where(valid, picked, 0.0)
    losses = -picked
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / int(valid.sum())


def relu(x: Tensor) -> Tensor:
    """max(x, 0)."""
    return x.relu()


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x). Exact: ``0.5 x (1 + erf(x / √2))``. ``approximate='tanh'`` (GPT-2):
    ``0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))``."""
    if approximate == "tanh":
        return 0.5 * x * (1.0 + (_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))).tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1.0 + (x * (1 / math.sqrt(2.0))).erf())


def layer_norm(
    x: Tensor, weight: Tensor | None = None, bias: Tensor | None = None, eps: float = 1e-5
) -> Tensor:
    """Per row (last dim), with γ = ``weight`` and β = ``bias`` (``manual.layernorm_forward``)::

        μ = mean(x),   σ = √(mean((x − μ)²) + ε),   â = (x − μ) / σ,   a = â ∘ γ + β
    """
    mu = x.mean(-1, keepdim=True)
    centered = x - mu
    var = (centered * centered).mean(-1, keepdim=True)
    inv_sigma = (var + eps) ** -0.5  # 1/σ
    a_hat = centered * inv_sigma
    a = a_hat if weight is None else a_hat * weight
    return a if bias is None else a + bias


def dropout(x: Tensor, p: float = 0.5, training: bool = True, generator: Any = None) -> Tensor:
    """In training, zero each element with probability p and scale the rest by 1/(1-p)."""
    if not 0.0 <= p < 1.0:
        if p == 1.0 and training:
            return x * 0.0
        if p != 1.0:
            raise ValueError(f"dropout: p must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    rng = generator if generator is not None else _generator()
    keep = rng.random(x.shape) >= p
    scale = keep.astype(x.dtype) * (1.0 / (1.0 - p))
    return x * Tensor._make(scale, False)  # our own array: mul saves it without a copy


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W + b with W of shape (in, out): the paper's and GPT-2's layout."""
    y = x @ weight
    return y + bias if bias is not None else y


def causal_mask(t: int, dtype: Any = np.float32) -> np.ndarray:
    """The additive causal mask M: 0 on and below the diagonal, -inf above (a constant)."""
    return np.triu(np.full((t, t), -np.inf, dtype=dtype), k=1)


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, attn_mask: Any = None, dropout_p: float = 0.0, is_causal: bool = False,
    scale: float | None = None, *, training: bool = True, return_weights: bool = False,
) -> Any:
    """softmax(q kᵀ · scale + M) v, for q, k, v of shape (..., T, d_h); scale defaults to 1/√d_h.

    The arguments and defaults are PyTorch's (``attn_mask``, ``dropout_p``, ``is_causal=False``,
    ``scale``). The mask is *added* (-inf where a query may not look; a bool mask is True where it
    may): a 0/1 mask multiplied before the softmax would still give masked positions weight e⁰.
    ``training=False`` turns the dropout off; with ``return_weights`` it also returns the attention
    matrix ρ (before dropout).
    """
    d_h = q.shape[-1]
    S = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d_h) if scale is None else scale)
    if is_causal:
        tq, tk = q.shape[-2], k.shape[-2]
        if tq != tk:
            raise ValueError(f"scaled_dot_product_attention: causal needs as many queries as keys, got {tq} and {tk}")
        S = S + causal_mask(tq, S.dtype)
    if attn_mask is not None:
        m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if m.dtype == bool:  # True = may attend
            m = np.where(m, 0.0, -np.inf).astype(S.dtype)
        S = S + m
    rho = S.softmax(-1)
    rho_dropped = dropout(rho, dropout_p, training) if dropout_p > 0 else rho
    out = rho_dropped @ v
    return (out, rho) if return_weights else out
