"""Causal self-attention by hand: one head (the paper's form), then ``nn.CausalSelfAttention``.

Forward of one head (Boué, arXiv:2512.23329), for a sequence ``a`` of shape ``(T × d)``::

    q = a w_q + b_q,   k = a w_k + b_k,   v = a w_v + b_v              (each T × d_h)
    S = q kᵀ / √d_h + M                                                 (T × T, M: −∞ above the diagonal)
    ρ = softmax(S)   (row by row),      out = ρ v                        (T × d_h)

Backward, from ``Δ = ∂L/∂out``, with ``G = Δ vᵀ`` (= ``∂L/∂ρ``)::

    Δ_S = ρ ∘ (G − rowsum(G ∘ ρ))       every row sums to 0; exactly 0 where masked (ρ = 0 there)
    Δ_q = Δ_S k / √d_h,    Δ_k = Δ_Sᵀ q / √d_h,    Δ_v = ρᵀ Δ

and each of q, k, v goes back through its own linear layer; the three input gradients are summed.
Consequences worth checking: ``∂b_k = Σ_rows Δ_k = 0`` (softmax is shift-invariant per row: adding
``b_k`` adds the same ``q_i · b_k`` to every score of row i) and ``∂b_v = Σ_rows Δ_v = Σ_rows Δ``
(the rows of ρ sum to 1).

The mask is *added* (−∞), never multiplied: a 0/1 mask multiplied before the softmax would still give
masked positions weight ``e⁰``.

Multi-head attention splits the columns of q, k, v into ``n_head`` heads of width ``d_h = d / n_head``,
runs every head at once as a batch ``(B, H, T, d_h)`` (no Python loop over heads, tokens or
sequences), concatenates the heads and applies the output projection.

Exactness against the engine: the softmax backward (``Δ_S``) is the fused formula above, equal to the
engine's up to rounding (~1e-16 relative in float64); ``G``, the products with ``k``, ``q``, ``ρ`` and
the linear layers are the engine's operations, bit-exact given the same inputs.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

import numpy as np

from .layers import Cache, Grads, dense_backward, dense_forward, linear_backward, linear_forward, softmax_backward

__all__ = [
    "causal_mask", "causal_attention_forward", "causal_attention_backward", "attention_head_forward",
    "attention_head_backward", "causal_self_attention_forward", "causal_self_attention_backward",
    "attention_invariants",
]


def causal_mask(T: int, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """The additive causal mask ``M``: 0 on and below the diagonal, −∞ above (query i sees keys ≤ i)."""
    return np.triu(np.full((T, T), -np.inf, dtype=dtype), k=1)


def causal_attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``out = softmax(q kᵀ / √d_h + M) v`` for ``q, k, v`` of shape ``(..., T, d_h)`` (any batch of heads)."""
    T, d_h = q.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(d_h)
    S = (q @ k.swapaxes(-1, -2)) * scale + causal_mask(T, q.dtype)
    e = np.exp(S - S.max(-1, keepdims=True))  # softmax, as softmax_forward (kept inline: S is large)
    rho = e / e.sum(-1, keepdims=True)
    out = rho @ v
    return out, {"q": q, "k": k, "v": v, "rho": rho, "scale": scale}


def causal_attention_backward(
    delta: np.ndarray, cache: Cache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """``G = Δ vᵀ``, ``Δ_S = ρ ∘ (G − rowsum(G ∘ ρ))``, ``Δ_q = Δ_S k / √d_h``, ``Δ_k = Δ_Sᵀ q / √d_h``,
    ``Δ_v = ρᵀ Δ``.

    Returns ``(Δ_q, Δ_k, Δ_v, inner)`` with ``inner = {"rho": G, "S": Δ_S}`` (the gradients at ρ and at
    the masked, scaled scores S). The 1/√d_h is applied to Δ_S before the products, as the engine does.
    """
    q, k, v, rho, scale = cache["q"], cache["k"], cache["v"], cache["rho"], cache["scale"]
    G = delta @ v.swapaxes(-1, -2)  # ∂L/∂ρ = Δ vᵀ
    delta_S, _ = softmax_backward(G, {"rho": rho})  # ρ ∘ (G − rowsum(G ∘ ρ))
    delta_scaled = delta_S * scale
    delta_q = delta_scaled @ k  # Δ_S k / √d_h
    delta_k = (q.swapaxes(-1, -2) @ delta_scaled).swapaxes(-1, -2)  # (qᵀ Δ_S)ᵀ = Δ_Sᵀ q, / √d_h
    delta_v = rho.swapaxes(-1, -2) @ delta  # ρᵀ Δ
    return delta_q, delta_k, delta_v, {"rho": G, "S": delta_S}


# ------------------------------------------------------------------------------- one head (paper)


def attention_head_forward(
    a_prev: np.ndarray, w_q: np.ndarray, b_q: np.ndarray | None, w_k: np.ndarray, b_k: np.ndarray | None,
    w_v: np.ndarray, b_v: np.ndarray | None,
) -> tuple[np.ndarray, Cache]:
    """One causal head: ``q = a w_q + b_q`` (and k, v alike), ``out = softmax(q kᵀ/√d_h + M) v``.

    ``a_prev`` is ``(T × d)`` or batched ``(..., T × d)``; ``w_*`` are ``(d × d_h)``.
    """
    q, cq = linear_forward(a_prev, w_q, b_q)
    k, ck = linear_forward(a_prev, w_k, b_k)
    v, cv = linear_forward(a_prev, w_v, b_v)
    out, core = causal_attention_forward(q, k, v)
    return out, {"q": cq, "k": ck, "v": cv, "core": core}


def attention_head_backward(
    delta: np.ndarray, cache: Cache, deltas: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, Grads]:
    """Backward of one head. Returns ``Δ_prev = Δ_q w_qᵀ + Δ_k w_kᵀ + Δ_v w_vᵀ`` (the three paths
    summed) and ``{"w_q", "b_q", "w_k", "b_k", "w_v", "b_v"}``, with ``∂w_q = a_prevᵀ Δ_q``,
    ``∂b_q = Σ_rows Δ_q``, etc. If ``deltas`` is a dict, ``Δ_q, Δ_k, Δ_v, G, Δ_S`` are stored in it as
    ``"q", "k", "v", "rho", "S"``.
    """
    delta_q, delta_k, delta_v, inner = causal_attention_backward(delta, cache["core"])
    grads: Grads = {}
    delta_prev = None
    for name, d in (("q", delta_q), ("k", delta_k), ("v", delta_v)):
        dp, g = linear_backward(d, cache[name])
        delta_prev = dp if delta_prev is None else delta_prev + dp
        grads[f"w_{name}"] = g["weight"]
        if "bias" in g:
            grads[f"b_{name}"] = g["bias"]
    if deltas is not None:
        deltas.update(q=delta_q, k=delta_k, v=delta_v, **inner)
    assert delta_prev is not None
    return delta_prev, grads


# ---------------------------------------------------------------------------------- multi-head


def _split_heads(x: np.ndarray, n_head: int) -> np.ndarray:
    """``(B, T, d)`` -> ``(B, H, T, d_h)``: the columns of head h are ``[h d_h, (h+1) d_h)``."""
    B, T, C = x.shape
    return x.reshape(B, T, n_head, C // n_head).transpose(0, 2, 1, 3)


def _merge_heads(x: np.ndarray) -> np.ndarray:
    """``(B, H, T, d_h)`` -> ``(B, T, H d_h)``: the heads side by side (concatenated columns)."""
    B, H, T, d_h = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d_h)


def causal_self_attention_forward(
    a_prev: np.ndarray, params: Mapping[str, np.ndarray], n_head: int,
    lora: Mapping[str, float] | None = None, frozen: Collection[str] | None = None,
) -> tuple[np.ndarray, Cache]:
    """``nn.CausalSelfAttention``: ``[q k v] = a w_attn + b_attn`` (the fused ``c_attn``), every head
    ``ρ_h v_h`` at once, the heads concatenated into ``y``, then ``a = y w_proj + b_proj`` (``c_proj``).

    ``params`` holds ``c_attn.weight`` (d × 3d), ``c_attn.bias``, ``c_proj.weight``, ``c_proj.bias``
    (and ``*.lora_A``, ``*.lora_B`` for the layers named in ``lora``; ``frozen`` as in `dense_forward`).
    ``a_prev`` is ``(B, T, d)`` or ``(T, d)``; any batch size and any number of heads that divides ``d``.
    """
    squeeze = a_prev.ndim == 2
    x = a_prev[None] if squeeze else a_prev
    C = x.shape[-1]
    if C % n_head:
        raise ValueError(f"causal_self_attention: d={C} is not divisible by n_head={n_head}")
    qkv, c_attn = dense_forward(x, params, "c_attn", lora, frozen)  # (B, T, 3d)
    q, k, v = (_split_heads(qkv[..., i * C:(i + 1) * C], n_head) for i in range(3))  # (B, H, T, d_h)
    heads, core = causal_attention_forward(q, k, v)  # (B, H, T, d_h)
    y = _merge_heads(heads)  # (B, T, d)
    a, c_proj = dense_forward(y, params, "c_proj", lora, frozen)
    cache = {"c_attn": c_attn, "core": core, "c_proj": c_proj, "n_head": n_head, "squeeze": squeeze}
    return (a[0] if squeeze else a), cache


def causal_self_attention_backward(
    delta: np.ndarray, cache: Cache, deltas: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, Grads]:
    """Backward of `causal_self_attention_forward`:

    1. ``c_proj`` (linear or LoRA): ``Δ_y = Δ w_projᵀ``, ``∂w_proj = yᵀ Δ``, ``∂b_proj = Σ_rows Δ``;
    2. split ``Δ_y`` into heads and run every head's backward at once (`causal_attention_backward`);
    3. put ``Δ_q, Δ_k, Δ_v`` side by side as ``Δ_[q k v]`` (the fused layer's output gradient);
    4. ``c_attn``: ``Δ_prev = Δ_[q k v] w_attnᵀ``, the sum over heads and over q, k, v of every path.

    Gradients are keyed ``c_attn.weight`` ... (``lora_A``/``lora_B`` for LoRA layers). ``deltas``, if
    given, receives ``c_attn.out`` (B, T, 3d), ``q, k, v, heads`` (B, H, T, d_h), ``rho`` (= G) and
    ``S`` (= Δ_S) (B, H, T, T) and ``y`` (B, T, d).
    """
    if cache["squeeze"]:
        delta = delta[None]
    delta_y, grads = dense_backward(delta, cache["c_proj"])
    delta_heads = _split_heads(delta_y, cache["n_head"])
    delta_q, delta_k, delta_v, inner = causal_attention_backward(delta_heads, cache["core"])
    delta_qkv = np.concatenate([_merge_heads(d) for d in (delta_q, delta_k, delta_v)], axis=-1)
    delta_prev, g_attn = dense_backward(delta_qkv, cache["c_attn"])
    grads = {**g_attn, **grads}
    if deltas is not None:
        deltas.update({"c_attn.out": delta_qkv, "q": delta_q, "k": delta_k, "v": delta_v, "heads": delta_heads,
                       **inner, "y": delta_y})
    return (delta_prev[0] if cache["squeeze"] else delta_prev), grads


# ---------------------------------------------------------------------------------- invariants


def attention_invariants(
    delta_S: np.ndarray, delta_k: np.ndarray, delta_v: np.ndarray, delta_heads: np.ndarray,
    bias_k: np.ndarray | None = None, bias_v: np.ndarray | None = None,
) -> list[dict[str, float | bool]]:
    """The invariants of every head, from the gradients of one attention layer (shapes ``(B, H, T, ·)``).

    For each head ``h`` (summed over the batch) a dict with

    - ``rowsum``: ``max |rowsum(Δ_S)|``, relative to ``max |Δ_S|`` (0 up to rounding);
    - ``masked_zero``: every masked entry of ``Δ_S`` (above the diagonal) is exactly 0;
    - ``db_k``: ``max |∂b_k|`` relative to ``Σ_rows |Δ_k|`` (0 up to rounding). ``∂b_k`` is
      ``bias_k`` (the head's columns of the real bias gradient, ``(H, d_h)``) when given, otherwise
      ``Σ_rows Δ_k``, which is what it would be;
    - ``db_v``: ``max |∂b_v − Σ_rows Δ_head|`` relative to ``Σ_rows |Δ_head|`` (0 up to rounding),
      with ``∂b_v`` from ``bias_v`` or ``Σ_rows Δ_v``.
    """
    T = delta_S.shape[-1]
    above = np.triu(np.ones((T, T), dtype=bool), k=1)
    tiny = np.finfo(delta_S.dtype).tiny
    db_k = bias_k if bias_k is not None else delta_k.sum(axis=(0, 2))  # (H, d_h)
    db_v = bias_v if bias_v is not None else delta_v.sum(axis=(0, 2))
    col_heads = delta_heads.sum(axis=(0, 2))  # Σ_rows Δ for each head
    out = []
    for h in range(delta_S.shape[1]):
        S = delta_S[:, h]
        out.append({
            "head": h,
            "rowsum": float(np.abs(S.sum(-1)).max() / max(np.abs(S).max(), tiny)),
            "masked_zero": bool((S[:, above] == 0).all()),
            "db_k": float(np.abs(db_k[h]).max() / max(np.abs(delta_k[:, h]).sum(axis=(0, 1)).max(), tiny)),
            "db_v": float(np.abs(db_v[h] - col_heads[h]).max()
                          / max(np.abs(delta_heads[:, h]).sum(axis=(0, 1)).max(), tiny)),
        })
    return out
