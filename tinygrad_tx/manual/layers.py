"""The layers of ``tinygrad_tx.nn``, each with a forward and a hand-derived backward, in plain NumPy.

Open this file next to ``nn/layers.py``: one pair of functions per layer, in the order data flows.
Every ``*_forward`` returns ``(output, cache)``; every ``*_backward(delta, cache)`` returns
``(delta_prev, grads)``: the gradient at the layer's input and a dict of parameter gradients keyed by
the ``nn`` parameter names (``"weight"``, ``"bias"``, ``"lora_A"``, ...). (``delta_prev`` is None for
the embeddings, whose input is integer ids; the loss, `softmax_cross_entropy_backward`, starts the
chain and returns ``Δ_logits`` alone.)

Notation (L. Boué, "Deep learning for pedestrians: backpropagation in Transformers", 2025,
arXiv:2512.23329): a sequence is a ``(T, d)`` matrix with one row per token (any
leading batch dims are allowed); ``a_prev`` is a layer's input and ``a`` its output;
``delta = Δ = ∂L/∂a`` is the upstream gradient and ``delta_prev = Δ_prev = ∂L/∂a_prev``; ``∘`` is the
elementwise product, ``Σ_rows`` a sum over every row (all leading dims).

Bit-exactness against the engine, given the same upstream Δ (measured in ``tests/test_manual.py``):

- **bit-exact**: linear, LoRA, embedding (scatter-add form), ReLU, the residual add, and LayerNorm's
  ``∂γ``, ``∂β``. Their backward is the engine's own sequence of NumPy operations (the same matrix
  products on the same layouts, the same reductions), so float64 and float32 agree to the last bit.
- **equal up to rounding**: the input gradients of LayerNorm, GELU, softmax, and softmax +
  cross-entropy's ``Δ_logits``. These use the paper's *fused* formulas (e.g. LayerNorm's
  ``Δ_prev = (1/σ) ∘ (G − mean(G) − â ∘ mean(â ∘ G))``); the engine differentiates the chain of
  primitives the forward was built from, which rounds differently: ~1e-16 relative error in float64,
  ~1e-7 in float32. The one-hot form of the embedding gradient also rounds differently.

The forwards reproduce the engine's forwards operation for operation, so outputs and the loss are
bit-identical; only the backward formulas differ.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

__all__ = [
    "linear_forward", "linear_backward", "lora_linear_forward", "lora_linear_backward",
    "dense_forward", "dense_backward",
    "embedding_forward", "embedding_backward", "embedding_backward_onehot",
    "token_position_embedding_forward", "token_position_embedding_backward",
    "layernorm_forward", "layernorm_backward", "relu_forward", "relu_backward", "gelu_forward",
    "gelu_backward", "activation_forward", "activation_backward", "softmax_forward", "softmax_backward",
    "softmax_cross_entropy_forward", "softmax_cross_entropy_backward", "residual_forward", "residual_backward",
]

Cache = dict[str, Any]
Grads = dict[str, np.ndarray]


def _rows(x: np.ndarray) -> np.ndarray:
    """All leading dims flattened: ``(..., f)`` -> ``(N, f)``, one row per token."""
    return x.reshape(-1, x.shape[-1])


def _sum_rows(x: np.ndarray) -> np.ndarray:
    """Σ_rows: the sum over every leading dim (what a broadcast bias's gradient is)."""
    return x.sum(axis=tuple(range(x.ndim - 1)))


# ------------------------------------------------------------------------------------------ linear


def linear_forward(a_prev: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> tuple[np.ndarray, Cache]:
    """``a = a_prev w + b`` with ``w`` of shape ``(f_in × f_out)`` (GPT-2's ``nn.Conv1D``; ``nn.Linear`` stores
    ``wᵀ``, PyTorch's layout).

    The rows of all leading dims go through one matrix product, as in the engine.
    """
    a = _rows(a_prev) @ w
    a = a.reshape(a_prev.shape[:-1] + (w.shape[1],))
    if b is not None:
        a = a + b
    return a, {"a_prev": a_prev, "w": w, "has_bias": b is not None, "param_grads": True}


def linear_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """``∂w = a_prevᵀ Δ``, ``∂b = Σ_rows Δ``, ``Δ_prev = Δ wᵀ``.

    Bit-exact with the engine. With ``cache["param_grads"] = False`` (a frozen layer) only ``Δ_prev``
    is computed.
    """
    a_prev, w = cache["a_prev"], cache["w"]
    delta_rows = _rows(delta)
    delta_prev = (delta_rows @ w.T).reshape(a_prev.shape)  # Δ_prev = Δ wᵀ
    grads: Grads = {}
    if cache["param_grads"]:
        grads["weight"] = _rows(a_prev).T @ delta_rows  # ∂w = a_prevᵀ Δ
        if cache["has_bias"]:
            grads["bias"] = _sum_rows(delta)  # ∂b = Σ_rows Δ
    return delta_prev, grads


# -------------------------------------------------------------------------------------------- LoRA


def lora_linear_forward(
    a_prev: np.ndarray, w0: np.ndarray, b0: np.ndarray | None, A: np.ndarray, B: np.ndarray, s: float
) -> tuple[np.ndarray, Cache]:
    """``a = a_prev w₀ + b₀ + s · (a_prev A) B`` (``nn.LoRAConv1D``): frozen ``w₀`` (f_in × f_out),
    ``A`` (f_in × r), ``B`` (r × f_out), ``s = α / r``."""
    base, base_cache = linear_forward(a_prev, w0, b0)
    base_cache["param_grads"] = False  # w₀ and b₀ are frozen
    a_A = _rows(a_prev) @ A  # a_prev A, (N × r)
    low_rank = (a_A @ B).reshape(base.shape)
    a = base + low_rank * s
    return a, {"base": base_cache, "a_A": a_A, "A": A, "B": B, "s": s}


def lora_linear_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """With ``sΔ = s · Δ``:

    - ``∂A = a_prevᵀ (sΔ) Bᵀ`` (= ``s · a_prevᵀ Δ Bᵀ``)
    - ``∂B = (a_prev A)ᵀ (sΔ)``
    - ``Δ_prev = Δ w₀ᵀ + (sΔ Bᵀ) Aᵀ`` (= ``Δ w₀ᵀ + s Δ (A B)ᵀ``): **the frozen path's term ``Δ w₀ᵀ``
      still carries gradient back**, even though ``w₀`` itself gets none.

    The products are associated as the engine associates them (and as is cheap: never forming the
    ``f_in × f_out`` matrix ``A B``), so this is bit-exact.
    """
    A, B, s = cache["A"], cache["B"], cache["s"]
    delta_prev, grads = linear_backward(delta, cache["base"])  # the frozen path: Δ w₀ᵀ (no ∂w₀ unless unfrozen)
    delta_s = _rows(delta) * s  # sΔ
    delta_aA = delta_s @ B.T  # ∂L/∂(a_prev A) = sΔ Bᵀ
    grads["lora_A"] = _rows(cache["base"]["a_prev"]).T @ delta_aA  # ∂A = a_prevᵀ (sΔ Bᵀ)
    grads["lora_B"] = cache["a_A"].T @ delta_s  # ∂B = (a_prev A)ᵀ sΔ
    delta_prev = delta_prev + (delta_aA @ A.T).reshape(delta_prev.shape)  # + s Δ (A B)ᵀ
    return delta_prev, grads


def dense_forward(
    a_prev: np.ndarray, params: Mapping[str, np.ndarray], name: str,
    lora: Mapping[str, float] | None = None, frozen: Collection[str] | None = None,
) -> tuple[np.ndarray, Cache]:
    """The linear layer called ``name`` in ``params`` (``name.weight``, ``name.bias``): plain, or
    LoRA-wrapped if ``name`` is in ``lora`` (``name -> s``, with ``name.lora_A``, ``name.lora_B``).

    ``frozen`` names the parameters whose gradient is not needed: a plain layer whose weight and bias
    are all frozen skips ``∂w``, ``∂b`` in backward. ``None`` (the default) means: a plain layer trains,
    a LoRA layer's ``w₀``, ``b₀`` are frozen. (With a set, a LoRA layer whose base was unfrozen by hand
    gets ``∂w₀``, ``∂b₀`` too, as in the engine.)
    """
    w, b = params[f"{name}.weight"], params.get(f"{name}.bias")
    base_names = [n for n in (f"{name}.weight", f"{name}.bias") if n in params]
    if lora and name in lora:
        a, cache = lora_linear_forward(a_prev, w, b, params[f"{name}.lora_A"], params[f"{name}.lora_B"], lora[name])
        cache["base"]["param_grads"] = frozen is not None and any(n not in frozen for n in base_names)
        return a, {"kind": "lora", "name": name, "inner": cache}
    a, cache = linear_forward(a_prev, w, b)
    cache["param_grads"] = frozen is None or any(n not in frozen for n in base_names)
    return a, {"kind": "linear", "name": name, "inner": cache}


def dense_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """`linear_backward` or `lora_linear_backward`; the gradients are keyed ``name.weight`` etc."""
    backward = lora_linear_backward if cache["kind"] == "lora" else linear_backward
    delta_prev, grads = backward(delta, cache["inner"])
    return delta_prev, {f"{cache['name']}.{k}": g for k, g in grads.items()}


# --------------------------------------------------------------------------------------- embedding


def embedding_forward(idx: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, Cache]:
    """Row lookup ``a = w[idx]`` (``nn.Embedding``), equivalently ``a = onehot(idx) w``."""
    idx = np.asarray(idx)
    return w[idx], {"idx": idx, "shape": w.shape}


def embedding_backward(delta: np.ndarray, cache: Cache) -> tuple[None, Grads]:
    """``∂w = onehot(idx)ᵀ Δ``: a scatter-add of the rows of Δ (a repeated token accumulates).

    Computed as the engine does, without a one-hot matrix or ``np.add.at``: sort the indices (stable),
    then sum each run of equal ones with ``np.add.reduceat``. Bit-exact. Integer indices get no
    gradient: ``delta_prev`` is None.
    """
    flat = cache["idx"].reshape(-1)
    grad = np.zeros(cache["shape"], dtype=delta.dtype)
    if flat.size:
        order = np.argsort(flat, kind="stable")
        ids = flat[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])  # where each run of one token begins
        grad[ids[starts]] = np.add.reduceat(_rows(delta)[order], starts, axis=0)
    return None, {"weight": grad}


def embedding_backward_onehot(delta: np.ndarray, cache: Cache) -> tuple[None, Grads]:
    """The same ``∂w = onehot(idx)ᵀ Δ`` as a matrix product (the paper's form). It costs
    ``N × vocab`` memory and rounds differently from the scatter-add (``0 · x`` terms join the sums)."""
    flat = cache["idx"].reshape(-1)
    onehot = (flat[:, None] == np.arange(cache["shape"][0])).astype(delta.dtype)  # (N × vocab)
    return None, {"weight": onehot.T @ _rows(delta)}


def token_position_embedding_forward(idx: np.ndarray, w_tok: np.ndarray, w_pos: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``a = w_tok[idx] + w_pos[0..T-1]`` for ``idx`` of shape ``(B, T)``: the first line of ``GPT.forward``
    (the position rows broadcast over the batch)."""
    idx = np.asarray(idx)
    tok, tok_cache = embedding_forward(idx, w_tok)
    pos, pos_cache = embedding_forward(np.arange(idx.shape[-1]), w_pos)
    return tok + pos, {"tok": tok_cache, "pos": pos_cache}


def token_position_embedding_backward(delta: np.ndarray, cache: Cache) -> tuple[None, Grads]:
    """``∂w_tok = onehot(tokens)ᵀ Δ`` (scatter-add) and ``∂w_pos[t] = Σ_batch Δ[:, t]`` (the VJP of the
    broadcast over the batch is a sum; rows past ``T`` get 0). Bit-exact."""
    delta_pos = delta.sum(axis=tuple(range(delta.ndim - 2)))  # Σ_batch Δ, (T × d)
    return None, {
        "wte.weight": embedding_backward(delta, cache["tok"])[1]["weight"],
        "wpe.weight": embedding_backward(delta_pos, cache["pos"])[1]["weight"],
    }


# --------------------------------------------------------------------------------------- LayerNorm


def layernorm_forward(
    a_prev: np.ndarray, gamma: np.ndarray | None = None, beta: np.ndarray | None = None, eps: float = 1e-5
) -> tuple[np.ndarray, Cache]:
    """Per row: ``â = (a_prev − μ) / σ`` with ``σ = √(var + ε)`` (population variance, ε inside the
    root), ``a = â ∘ γ + β`` (``nn.LayerNorm``)."""
    n = a_prev.shape[-1]
    mu = a_prev.sum(-1, keepdims=True) / n
    centered = a_prev - mu
    var = (centered * centered).sum(-1, keepdims=True) / n
    inv_sigma = np.power(var + eps, -0.5)  # 1/σ, with ε inside exactly as in the forward
    a_hat = centered * inv_sigma
    a = a_hat if gamma is None else a_hat * gamma
    if beta is not None:
        a = a + beta
    return a, {"a_hat": a_hat, "inv_sigma": inv_sigma, "gamma": gamma, "has_beta": beta is not None}


def layernorm_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """With ``G = Δ ∘ γ``:

    - ``Δ_prev = (1/σ) ∘ (G − mean_row(G) − â ∘ mean_row(â ∘ G))``
    - ``∂γ = Σ_rows(â ∘ Δ)``, ``∂β = Σ_rows Δ``

    A fused formula: equal to the engine's up to rounding.
    """
    a_hat, inv_sigma, gamma = cache["a_hat"], cache["inv_sigma"], cache["gamma"]
    G = delta if gamma is None else delta * gamma
    delta_prev = inv_sigma * (G - G.mean(-1, keepdims=True) - a_hat * (a_hat * G).mean(-1, keepdims=True))
    grads: Grads = {}
    if gamma is not None:
        grads["weight"] = _sum_rows(a_hat * delta)  # ∂γ
    if cache["has_beta"]:
        grads["bias"] = _sum_rows(delta)  # ∂β
    return delta_prev, grads


# ------------------------------------------------------------------------------------- activations


def relu_forward(a_prev: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``a = max(a_prev, 0)`` (``nn.ReLU``)."""
    return np.maximum(a_prev, 0), {"positive": a_prev > 0}


def relu_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """``Δ_prev = Δ ∘ 1[a_prev > 0]`` (0 at 0, as PyTorch). Bit-exact."""
    return np.where(cache["positive"], delta, 0.0).astype(delta.dtype, copy=False), {}


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2 = 1 / math.sqrt(2.0)
_INV_SQRT_2PI = 1 / math.sqrt(2.0 * math.pi)
_GELU_C = 0.044715
_erf = np.frompyfunc(math.erf, 1, 1)  # the C library's erf per element (NumPy has none), as the engine


def gelu_forward(a_prev: np.ndarray, approximate: str = "none") -> tuple[np.ndarray, Cache]:
    """``a = a_prev Φ(a_prev)`` (``nn.GELU``). Exact: ``Φ(x) = ½ (1 + erf(x/√2))``. ``'tanh'`` (GPT-2):
    ``Φ(x) ≈ ½ (1 + tanh(u))`` with ``u = √(2/π) (x + 0.044715 x³)``."""
    x = a_prev
    if approximate == "tanh":
        t = np.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * (x * x * x)))
        return 0.5 * x * (1.0 + t), {"a_prev": x, "approximate": approximate, "t": t}
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    erf = np.asarray(_erf(x * _INV_SQRT_2), dtype=x.dtype)
    return 0.5 * x * (1.0 + erf), {"a_prev": x, "approximate": approximate, "erf": erf}


def gelu_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """``Δ_prev = Δ ∘ g'(a_prev)``.

    - exact: ``g'(x) = Φ(x) + x φ(x)`` with ``φ(x) = e^{−x²/2} / √(2π)``
    - tanh: ``g'(x) = ½ (1 + t) + ½ x (1 − t²) √(2/π) (1 + 3 · 0.044715 x²)``, ``t = tanh(u)``

    Fused derivatives: equal to the engine's up to rounding.
    """
    x = cache["a_prev"]
    if cache["approximate"] == "tanh":
        t = cache["t"]
        d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * (_SQRT_2_OVER_PI * (1.0 + 3 * _GELU_C * (x * x)))
    else:
        d = 0.5 * (1.0 + cache["erf"]) + x * np.exp(-0.5 * (x * x)) * _INV_SQRT_2PI
    return delta * d, {}


def activation_forward(a_prev: np.ndarray, name: str) -> tuple[np.ndarray, Cache]:
    """The MLP's activation by ``GPTConfig.activation``: ``'gelu_tanh'``, ``'gelu'`` or ``'relu'``."""
    if name == "relu":
        a, cache = relu_forward(a_prev)
    elif name in ("gelu", "gelu_tanh"):
        a, cache = gelu_forward(a_prev, "tanh" if name == "gelu_tanh" else "none")
    else:
        raise ValueError(f"unknown activation {name!r}: use 'gelu', 'gelu_tanh' or 'relu'")
    cache["activation"] = name
    return a, cache


def activation_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """`relu_backward` or `gelu_backward`."""
    return (relu_backward if cache["activation"] == "relu" else gelu_backward)(delta, cache)


# ----------------------------------------------------------------------------------------- softmax


def softmax_forward(s: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``ρ = softmax(s)`` along the last dim: ``exp(s − max s) / Σ exp(s − max s)`` (the shift changes
    nothing but keeps exp finite; ``−∞`` entries, as masked scores, get weight exactly 0)."""
    e = np.exp(s - s.max(-1, keepdims=True))
    rho = e / e.sum(-1, keepdims=True)
    return rho, {"rho": rho}


def softmax_backward(delta: np.ndarray, cache: Cache) -> tuple[np.ndarray, Grads]:
    """``Δ_prev = ρ ∘ (Δ − rowsum(Δ ∘ ρ))``: the Jacobian ``diag(ρ) − ρ ρᵀ`` of each row applied to Δ.

    Every row of ``Δ_prev`` sums to 0 (softmax is shift-invariant), and it is exactly 0 where ρ is
    (masked entries). A fused formula: equal to the engine's up to rounding.
    """
    rho = cache["rho"]
    return rho * (delta - (delta * rho).sum(-1, keepdims=True)), {}


def softmax_cross_entropy_forward(logits: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``L = −(1/N) Σ_rows log softmax(logits)[target]``: the mean over all ``N`` rows (tokens) of
    ``logits`` ``(..., C)``, as ``F.cross_entropy`` (and the GPT's loss). Returns a 0-d array."""
    z = _rows(logits)
    y = np.asarray(targets).reshape(-1)
    if y.shape != (z.shape[0],):
        raise ValueError(f"softmax_cross_entropy: {z.shape[0]} rows of logits but targets of shape {targets.shape}")
    shifted = z - z.max(-1, keepdims=True)
    e = np.exp(shifted)
    sum_e = e.sum(-1, keepdims=True)
    log_p = shifted - np.log(sum_e)
    loss = np.asarray((-log_p[np.arange(y.size), y]).sum() / y.size)
    return loss, {"e": e, "sum_e": sum_e, "targets": y, "shape": logits.shape}


def softmax_cross_entropy_backward(cache: Cache, delta_loss: float = 1.0) -> np.ndarray:
    """``Δ_logits = (softmax(logits) − onehot(y)) / N`` (times the upstream ``∂L'/∂L``, 1 for the
    loss itself). **N is the number of tokens averaged over**, as in the forward.

    A fused formula: the engine differentiates its composed log-softmax, so this is equal up to
    rounding. Since every other gradient of a GPT starts here, in an end-to-end check nothing is
    bit-exact; fed the same upstream Δ, the layers listed in the module docstring are.
    """
    e, y = cache["e"], cache["targets"]
    delta = e / cache["sum_e"]  # softmax(logits)
    delta[np.arange(y.size), y] -= 1.0  # − onehot(y)
    delta /= y.size
    if delta_loss != 1.0:
        delta *= delta_loss
    return delta.reshape(cache["shape"])


# ---------------------------------------------------------------------------------------- residual


def residual_forward(x: np.ndarray, f_x: np.ndarray) -> tuple[np.ndarray, Cache]:
    """``a = x + f(x)``: the skip connection."""
    return x + f_x, {}


def residual_backward(delta: np.ndarray, cache: Cache | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The gradient goes unchanged to both branches: ``(Δ_x, Δ_f) = (Δ, Δ)``. Where the branches meet
    again (at ``x``, which also fed ``f``), their Δs are **summed**. Bit-exact."""
    return delta, delta
