"""Neural-network functions, as ``torch.nn.functional``, composed only from the engine's primitives (no
backward written here).

Each function is the formula, written with Tensor operations; its gradient is whatever the
primitives' VJPs compose to. The arguments, defaults and shape rules are PyTorch's, so code written
for ``torch.nn.functional`` runs unchanged; bad input raises an error that names the function, the
argument and the shapes. The losses are in ``nn/_loss_functional.py`` and re-exported here.
``tinygrad_tx.manual`` derives the same gradients by hand, with the same symbols (the paper's: ``μ``,
``σ``, ``â``, ``γ``, ``β``, ``S``, ``ρ``). All are stable at extreme inputs: logits of ±1e4 give a
finite loss and finite gradients (the max shift), and LayerNorm of a constant row is finite (eps
inside the square root).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._random import _generator
from ..tensor import Tensor, cat, where
from ._checks import _indices, _kind
from ._loss_functional import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)

__all__ = [
    "softmax", "log_softmax", "relu", "leaky_relu", "gelu", "silu", "tanh", "sigmoid", "layer_norm", "linear",
    "dropout", "embedding", "one_hot", "pad", "scaled_dot_product_attention", "causal_mask",
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
]


def _tensor(fn: str, name: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: {name} must be a Tensor, got {_kind(x)}")
    return x


def _in_place(x: Tensor, f: Any, inplace: bool, op: str) -> Tensor:
    """``f(x)``; with ``inplace=True`` stored in x itself (the engine's in-place update: the graph stays
    right, and a leaf that requires grad is refused, as in PyTorch)."""
    return x._inplace(f, op) if inplace else f(x)


# ----------------------------------------------------------------------------------- softmax
def _implicit_softmax_dim(fn: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice when ``dim`` is not given (with its warning): 0 for 0-, 1- and 3-d, else 1."""
    warnings.warn(f"Implicit dimension choice for {fn} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ - m) / Σⱼ exp(xⱼ - m) along ``dim``, with m = max x (changes nothing, avoids
    overflow). ``dtype`` converts the input first."""
    x = _tensor("softmax", "input", input)
    d = _implicit_softmax_dim("softmax", x.ndim, _stacklevel) if dim is None else dim
    return (x if dtype is None else x.to(dtype)).softmax(d)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log softmax(x)ᵢ = (xᵢ - m) - log Σⱼ exp(xⱼ - m) along ``dim``."""
    x = _tensor("log_softmax", "input", input)
    d = _implicit_softmax_dim("log_softmax", x.ndim, _stacklevel) if dim is None else dim
    return (x if dtype is None else x.to(dtype)).log_softmax(d)


# ----------------------------------------------------------------------------------- activations
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0)."""
    x = _tensor("relu", "input", input)
    return _in_place(x, Tensor.relu, inplace, "relu_")


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else ``negative_slope`` · x (gradient ``negative_slope`` at 0, as PyTorch)."""
    x = _tensor("leaky_relu", "input", input)
    return _in_place(x, lambda a: where(a._data > 0, a, a * negative_slope), inplace, "leaky_relu_")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x σ(x) (swish)."""
    x = _tensor("silu", "input", input)
    return _in_place(x, lambda a: a * a.sigmoid(), inplace, "silu_")


def tanh(input: Tensor) -> Tensor:
    """tanh x."""
    return _tensor("tanh", "input", input).tanh()


def sigmoid(input: Tensor) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ)."""
    return _tensor("sigmoid", "input", input).sigmoid()


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x Φ(x). Exact: ``0.5 x (1 + erf(x / √2))``. ``approximate='tanh'`` (GPT-2):
    ``0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))``. (PyTorch makes ``approximate`` keyword-only; it
    is accepted by position too.)"""
    x = _tensor("gelu", "input", input)
    if approximate == "tanh":
        return 0.5 * x * (1.0 + (_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x))).tanh())
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return 0.5 * x * (1.0 + (x * (1 / math.sqrt(2.0))).erf())


# ----------------------------------------------------------------------------------- layers
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b with W of shape (out_features, in_features), PyTorch's layout (a 1-d W gives x·W)."""
    x, w = _tensor("linear", "input", input), _tensor("linear", "weight", weight)
    if x.ndim == 0 or w.ndim == 0:
        raise ValueError(f"linear: input and weight must be at least 1-d, got shapes {x.shape} and {w.shape}")
    if w.ndim > 2:
        raise ValueError(f"linear: weight must be (out_features, in_features) or 1-d, got shape {w.shape}")
    if x.shape[-1] != w.shape[-1]:
        hint = (" (a weight of shape (in, out) is GPT-2's layout: pass weight.T)"
                if w.ndim == 2 and w.shape[0] == x.shape[-1] else "")
        raise ValueError(f"linear: input of shape {x.shape} has {x.shape[-1]} features, but weight of shape "
                         f"{w.shape} (out_features, in_features) takes {w.shape[-1]}{hint}")
    y = x @ (w.T if w.ndim == 2 else w)
    if bias is None:
        return y
    b = _tensor("linear", "bias", bias)
    if w.ndim == 1 or not _broadcasts_to(b.shape, y.shape):
        raise ValueError(f"linear: bias of shape {b.shape} does not broadcast to the output's shape {y.shape}")
    return y + b


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Over the last ``len(normalized_shape)`` dims, with γ = ``weight`` and β = ``bias`` (both of
    shape ``normalized_shape``; ``manual.layernorm_forward``)::

        μ = mean(x),   σ = √(mean((x − μ)²) + ε),   â = (x − μ) / σ,   a = â ∘ γ + β
    """
    x = _tensor("layer_norm", "input", input)
    if isinstance(normalized_shape, Tensor):
        raise TypeError("layer_norm: normalized_shape must be a tuple of ints, got a Tensor (the arguments are "
                        "PyTorch's: layer_norm(input, normalized_shape, weight, bias, eps))")
    if not isinstance(normalized_shape, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) for n in normalized_shape):
        raise TypeError(f"layer_norm: normalized_shape must be a tuple of ints, e.g. ({x.shape[-1] if x.ndim else 1},),"
                        f" got {normalized_shape!r}")
    shape = tuple(int(n) for n in normalized_shape)
    k = len(shape)
    if k == 0:
        raise ValueError("layer_norm: normalized_shape must have at least one dim, got ()")
    if x.ndim < k or x.shape[x.ndim - k:] != shape:
        last = ", ".join(map(str, shape))
        raise ValueError(f"layer_norm: normalized_shape={shape} needs an input of shape (*, {last}), got {x.shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and _tensor("layer_norm", name, p).shape != shape:
            raise ValueError(f"layer_norm: {name} must have the shape normalized_shape={shape}, got {p.shape}")
    dims = tuple(range(-k, 0))
    mu = x.mean(dims, keepdim=True)
    centered = x - mu
    var = (centered * centered).mean(dims, keepdim=True)
    inv_sigma = (var + eps) ** -0.5  # 1/σ
    a_hat = centered * inv_sigma
    a = a_hat if weight is None else a_hat * weight
    return a if bias is None else a + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """In training, zero each element with probability p and scale the rest by 1/(1-p) (drawn from
    the seeded generator); p = 1 zeroes everything. Off (the input itself) when not training."""
    x = _tensor("dropout", "input", input)
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"dropout: p must be a number, got {p!r}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return _in_place(x, lambda a: a * 0.0, inplace, "dropout_")
    keep = _generator().random(x.shape) >= p
    scale = keep.astype(x.dtype if x.dtype.kind == "f" else np.float64) * (1.0 / (1.0 - p))
    mask = Tensor._make(scale, False)  # our own array: mul saves it without a copy
    return _in_place(x, lambda a: a * mask, inplace, "dropout_")


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Row lookup ``weight[input]`` (its gradient scatter-adds the rows; repeats accumulate). The row
    ``padding_idx`` (negative counts from the end) gets no gradient, as in PyTorch."""
    w = _tensor("embedding", "weight", weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), got shape {w.shape}")
    for name, value, default in (("max_norm", max_norm, None), ("scale_grad_by_freq", scale_grad_by_freq, False),
                                 ("sparse", sparse, False)):
        if value is not default and value != default:
            raise NotImplementedError(f"embedding: {name}={value!r} is not supported (only the default {default!r})")
    ids = _indices("embedding", input)
    n = w.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        bad = ids.min() if ids.min() < 0 else ids.max()
        raise IndexError(f"embedding: index {int(bad)} is out of range for {n} embeddings (weight of shape {w.shape})")
    rows = w[ids]
    if padding_idx is None:
        return rows
    if not -n <= padding_idx < n:
        raise ValueError(f"embedding: padding_idx must be within num_embeddings ({n}), got {padding_idx}")
    pad_rows = (ids == padding_idx % n)[..., None]
    return where(pad_rows, rows.detach(), rows) if pad_rows.any() else rows


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """int64 one-hot rows: ``out[..., c] = 1`` where ``tensor[...] = c``; ``num_classes=-1`` takes max + 1."""
    ids = _indices("one_hot", tensor)
    if ids.size and ids.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(ids.min())}")
    if num_classes == -1:
        if ids.size == 0:
            raise ValueError("one_hot: cannot infer the number of classes from an empty tensor; pass num_classes")
        num_classes = int(ids.max()) + 1
    elif ids.size and ids.max() >= num_classes:
        raise ValueError(f"one_hot: class values must be smaller than num_classes={num_classes}, got {int(ids.max())}")
    elif num_classes < 0:
        raise ValueError(f"one_hot: num_classes must be -1 or non-negative, got {num_classes}")
    return Tensor._make((ids[..., None] == np.arange(num_classes)).astype(np.int64), False)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad (or, with negative amounts, crop) the last dims: ``pad = (left₋₁, right₋₁, left₋₂, ...)``
    starts from the last dim, as PyTorch. Only ``mode='constant'`` (fill with ``value``, default 0)."""
    x = _tensor("pad", "input", input)
    if mode != "constant":
        known = mode in ("reflect", "replicate", "circular")
        raise NotImplementedError(f"pad: mode {mode!r} is {'not implemented' if known else 'not a padding mode'}"
                                  f" (only mode='constant' is)")
    if not isinstance(pad, (tuple, list)) or not all(
            isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) for n in pad):
        raise TypeError(f"pad: pad must be a tuple of ints, got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: pad must have an even length (left, right per dim), got {len(pad)}")
    if len(pad) // 2 > x.ndim:
        raise ValueError(f"pad: {len(pad)} pad values pad {len(pad) // 2} dims, but the input of shape {x.shape} "
                         f"has {x.ndim}")
    fill = 0 if value is None else value
    out = x
    for i in range(len(pad) // 2):
        d, left, right = x.ndim - 1 - i, int(pad[2 * i]), int(pad[2 * i + 1])
        size = x.shape[d]
        if size + min(left, 0) + min(right, 0) < 0 or size + left + right < 0:
            raise ValueError(f"pad: dim {d} of size {size} padded by ({left}, {right}) would have a negative size "
                             f"(input of shape {x.shape})")
        if left < 0 or right < 0:  # crop first
            out = out[(slice(None),) * d + (slice(max(-left, 0), out.shape[d] - max(-right, 0)),)]
        blocks = []
        for amount in (left, right):
            shape = out.shape[:d] + (max(amount, 0),) + out.shape[d + 1:]
            blocks.append(Tensor._make(np.full(shape, fill, dtype=out.dtype), False))
        if left > 0 or right > 0:
            out = cat([blocks[0], out, blocks[1]], d)
    return out if out is not x else x.clone()


# ----------------------------------------------------------------------------------- attention
def causal_mask(t: int, dtype: Any = np.float32) -> np.ndarray:
    """The additive causal mask M: 0 on and below the diagonal, -inf above (a constant)."""
    return np.triu(np.full((t, t), -np.inf, dtype=dtype), k=1)


def scaled_dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Any = None, dropout_p: float = 0.0,
    is_causal: bool = False, scale: float | None = None, enable_gqa: bool = False,
) -> Tensor:
    """softmax(Q Kᵀ · scale + M) V for Q (..., L, E), K (..., S, E), V (..., S, Eᵥ); scale defaults to 1/√E.

    PyTorch's arguments and rules: a bool ``attn_mask`` is True where a query may attend (M = 0 there,
    -inf elsewhere), a float one is added to the scores (a Tensor gets its gradient). ``is_causal``
    keeps key j ≤ query i, aligned at the top left when L ≠ S, and excludes ``attn_mask``. A query
    that may attend to nothing gets an output of 0 (not nan). ``dropout_p`` is applied to the
    attention weights whenever it is > 0 (pass 0.0 in evaluation, as with PyTorch).
    ``enable_gqa``: K and V with fewer heads (dim -3) than Q are repeated to match (grouped queries).
    """
    fn = "scaled_dot_product_attention"
    q, k, v = (_tensor(fn, name, t) for name, t in (("query", query), ("key", key), ("value", value)))
    if min(q.ndim, k.ndim, v.ndim) < 2:
        raise ValueError(f"{fn}: query, key and value must be at least 2-d, got shapes {q.shape}, {k.shape}, {v.shape}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{fn}: query (..., L, E), key (..., S, E) and value (..., S, Ev) do not fit: shapes "
                         f"{q.shape}, {k.shape}, {v.shape}")
    if is_causal and attn_mask is not None:
        raise ValueError(f"{fn}: an explicit attn_mask must not be given with is_causal=True")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{fn}: dropout_p must be between 0 and 1, got {dropout_p}")
    if enable_gqa and q.ndim >= 3 and k.ndim >= 3:
        k, v = _repeat_heads(fn, k, q.shape[-3]), _repeat_heads(fn, v, q.shape[-3])
    L, S_len = q.shape[-2], k.shape[-2]
    S = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1]) if scale is None else scale)
    if is_causal:
        S = S + np.where(np.tril(np.ones((L, S_len), dtype=bool)), 0.0, -np.inf).astype(S.dtype)
    if attn_mask is not None:
        m = attn_mask._data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if not _broadcasts_to(m.shape, S.shape):
            raise ValueError(f"{fn}: attn_mask of shape {m.shape} does not broadcast to the scores' shape {S.shape}")
        if m.dtype == bool:  # True = may attend
            S = S + np.where(m, 0.0, -np.inf).astype(S.dtype)
        elif m.dtype.kind == "f":
            S = S + (attn_mask.to(S.dtype) if isinstance(attn_mask, Tensor) else m.astype(S.dtype))
        else:
            raise TypeError(f"{fn}: attn_mask must be bool or floating point, got dtype {m.dtype}")
    dead = np.isneginf(S._data).all(-1, keepdims=True)  # rows with nothing to attend to
    if dead.any():
        rho = where(dead, 0.0, where(dead, 0.0, S).softmax(-1))
    else:
        rho = S.softmax(-1)
    if dropout_p > 0:
        rho = dropout(rho, dropout_p, True)
    return rho @ v


def _repeat_heads(fn: str, t: Tensor, heads: int) -> Tensor:
    """(..., H, S, E) → (..., heads, S, E), each head repeated heads/H times in place (repeat_interleave)."""
    h = t.shape[-3]
    if h == heads:
        return t
    if h == 0 or heads % h:
        raise ValueError(f"{fn}: the key/value heads ({h}, shape {t.shape}) must divide the query heads ({heads})")
    lead = t.shape[:-3]
    return t.unsqueeze(-3).expand(*lead, h, heads // h, *t.shape[-2:]).reshape(*lead, heads, *t.shape[-2:])
