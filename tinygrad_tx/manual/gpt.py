"""The MLP, the pre-LayerNorm block and the whole GPT by hand: ``nn.MLP``, ``nn.Block``, ``nn.GPT``.

Forward of the GPT (Boué, arXiv:2512.23329), for token ids ``idx`` of shape ``(B, T)``::

    x₀ = w_tok[idx] + w_pos[0..T-1]                                   emb.out
    for block i:   a = LN₁(x)                                         h.i.ln_1.out
                   x = x + attn(a)                                    h.i.attn.out, h.i.res_1.out
                   a = LN₂(x)                                         h.i.ln_2.out
                   x = x + mlp(a)     mlp(a) = act(a w_fc + b_fc) w_proj + b_proj
                                                                      h.i.mlp.out, h.i.res_2.out
    logits = LN_f(x) w_head                                           ln_f.out, logits
    L = mean cross-entropy over all B·T tokens

Backward, from ``Δ_logits = (softmax(logits) − onehot(y)) / (B T)``, walks the same list in reverse.
At each residual the gradient is dispatched unchanged to both branches, and **summed** where they
meet: ``Δ_x = Δ_res + LN_backward(Δ_ln)``. The names on the right are those of
`ManualGradients.deltas`: ``deltas[name] = ∂L/∂(that tensor)``, the total gradient reaching it.

Everything here is plain NumPy. `gpt_forward` and `gpt_backward` take an ``nn.GPT`` only to read its
weights as arrays, its config, and which linear layers are LoRA-wrapped (``read_gpt``, in
``manual/read.py``); they never call the engine. Dropout is not modelled: the gradient is that of
the model with dropout off (eval mode).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .attention import attention_invariants, causal_self_attention_backward, causal_self_attention_forward
from .layers import (
    Cache,
    Grads,
    activation_backward,
    activation_forward,
    dense_backward,
    dense_forward,
    layernorm_backward,
    layernorm_forward,
    residual_backward,
    residual_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
    token_position_embedding_backward,
    token_position_embedding_forward,
)

__all__ = [
    "mlp_forward", "mlp_backward", "block_forward", "block_backward", "GPTParams", "ManualGradients",
    "gpt_forward", "gpt_backward", "delta_names",
]


def _sub(mapping: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The entries under ``prefix`` (``"attn."``), with the prefix removed."""
    return {k[len(prefix):]: v for k, v in mapping.items() if k.startswith(prefix)}


def _sub_names(names: Collection[str] | None, prefix: str) -> set[str] | None:
    return None if names is None else {k[len(prefix):] for k in names if k.startswith(prefix)}


# --------------------------------------------------------------------------------------------- MLP


def mlp_forward(
    a_prev: np.ndarray, params: Mapping[str, np.ndarray], activation: str = "gelu_tanh",
    lora: Mapping[str, float] | None = None, frozen: Collection[str] | None = None,
) -> tuple[np.ndarray, Cache]:
    """``nn.MLP``: ``h = a_prev w_fc + b_fc`` (d -> 4d), ``g = act(h)``, ``a = g w_proj + b_proj`` (4d -> d).

    ``params``: ``c_fc.weight``, ``c_fc.bias``, ``c_proj.weight``, ``c_proj.bias`` (+ LoRA factors).
    """
    h, c_fc = dense_forward(a_prev, params, "c_fc", lora, frozen)
    g, c_act = activation_forward(h, activation)
    a, c_proj = dense_forward(g, params, "c_proj", lora, frozen)
    return a, {"c_fc": c_fc, "act": c_act, "c_proj": c_proj}


def mlp_backward(
    delta: np.ndarray, cache: Cache, deltas: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, Grads]:
    """``Δ_g = Δ w_projᵀ``, ``Δ_h = Δ_g ∘ act'(h)``, ``Δ_prev = Δ_h w_fcᵀ`` (and each linear's ``∂w``,
    ``∂b``). ``deltas`` receives ``act.out`` (Δ_g) and ``c_fc.out`` (Δ_h)."""
    delta_g, grads = dense_backward(delta, cache["c_proj"])
    delta_h, _ = activation_backward(delta_g, cache["act"])
    delta_prev, g_fc = dense_backward(delta_h, cache["c_fc"])
    if deltas is not None:
        deltas.update({"c_fc.out": delta_h, "act.out": delta_g})
    return delta_prev, {**g_fc, **grads}


# ------------------------------------------------------------------------------------------- block


def block_forward(
    x: np.ndarray, params: Mapping[str, np.ndarray], n_head: int, activation: str = "gelu_tanh",
    eps: float = 1e-5, lora: Mapping[str, float] | None = None, frozen: Collection[str] | None = None,
) -> tuple[np.ndarray, Cache]:
    """``nn.Block`` (pre-LayerNorm): ``x₁ = x + attn(LN₁(x))``, ``x₂ = x₁ + mlp(LN₂(x₁))``.

    ``params`` are named as in ``nn.Block`` (``ln_1.weight``, ``attn.c_attn.weight``, ...); ``lora``
    maps linear names (``attn.c_attn``) to ``s = α/r``.
    """
    lora = lora or {}
    a1, c_ln1 = layernorm_forward(x, params["ln_1.weight"], params.get("ln_1.bias"), eps)
    att, c_attn = causal_self_attention_forward(a1, _sub(params, "attn."), n_head, _sub(lora, "attn."),
                                                _sub_names(frozen, "attn."))
    x1, _ = residual_forward(x, att)
    a2, c_ln2 = layernorm_forward(x1, params["ln_2.weight"], params.get("ln_2.bias"), eps)
    m, c_mlp = mlp_forward(a2, _sub(params, "mlp."), activation, _sub(lora, "mlp."), _sub_names(frozen, "mlp."))
    x2, _ = residual_forward(x1, m)
    return x2, {"ln_1": c_ln1, "attn": c_attn, "ln_2": c_ln2, "mlp": c_mlp}


def block_backward(
    delta: np.ndarray, cache: Cache, deltas: dict[str, np.ndarray] | None = None,
    upstream: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, Grads]:
    """Backward of the block, from ``Δ = ∂L/∂x₂``::

        Δ_m = Δ, Δ_x₁ = Δ                     residual 2: unchanged to both branches
        Δ_a₂, ∂mlp = mlp_backward(Δ_m)
        Δ_x₁ += LN₂_backward(Δ_a₂)            summed where the branches meet
        Δ_att = Δ_x₁, Δ_x = Δ_x₁              residual 1
        Δ_a₁, ∂attn = attn_backward(Δ_att)
        Δ_x += LN₁_backward(Δ_a₁)

    ``deltas`` receives every Δ by name (``res_2.out``, ``mlp.out``, ``ln_2.out``, ``res_1.out``,
    ``attn.out``, ``ln_1.out``, and the MLP's and attention's inner ones under ``mlp.``/``attn.``).

    ``upstream`` (for a layer-by-layer check): a dict of Δs by the same names. When a boundary's Δ
    is in it, the backward records its own value in ``deltas`` but continues from the given one, so
    every layer is checked on its own, fed the reference's upstream gradient.
    """
    found: dict[str, np.ndarray] = {}
    given = upstream or {}

    def at(name: str, d: np.ndarray) -> np.ndarray:
        found[name] = d
        return given.get(name, d)

    delta = at("res_2.out", delta)
    delta_x1, delta_m = residual_backward(delta)
    delta_m = at("mlp.out", delta_m)
    inner_mlp: dict[str, np.ndarray] = {}
    delta_a2, g_mlp = mlp_backward(delta_m, cache["mlp"], inner_mlp)
    delta_a2 = at("ln_2.out", delta_a2)
    d, g_ln2 = layernorm_backward(delta_a2, cache["ln_2"])
    delta_x1 = at("res_1.out", delta_x1 + d)
    delta_x, delta_att = residual_backward(delta_x1)
    delta_att = at("attn.out", delta_att)
    inner_attn: dict[str, np.ndarray] = {}
    delta_a1, g_attn = causal_self_attention_backward(delta_att, cache["attn"], inner_attn)
    delta_a1 = at("ln_1.out", delta_a1)
    d, g_ln1 = layernorm_backward(delta_a1, cache["ln_1"])
    delta_x = delta_x + d
    grads = {f"{layer}.{k}": v for layer, g in (("ln_1", g_ln1), ("attn", g_attn), ("ln_2", g_ln2), ("mlp", g_mlp))
             for k, v in g.items()}
    if deltas is not None:
        deltas.update(found)
        deltas.update({f"attn.{k}": v for k, v in inner_attn.items()})
        deltas.update({f"mlp.{k}": v for k, v in inner_mlp.items()})
    return delta_x, grads


# --------------------------------------------------------------------------------------------- GPT


@dataclass
class GPTParams:
    """What the manual path reads from an ``nn.GPT``: every parameter as an array (by its
    ``named_parameters()`` name), which ones are trainable, and the configuration."""

    arrays: dict[str, np.ndarray]
    trainable: frozenset[str]
    n_layer: int
    n_head: int
    activation: str
    eps: float = 1e-5
    lora: dict[str, float] = field(default_factory=dict)  # dotted linear name -> s = α/r

    @property
    def dtype(self) -> np.dtype:
        return self.arrays["wte.weight"].dtype


# Reading an ``nn.GPT`` into `GPTParams` needs ``nn``, which this plain-NumPy module does not import:
# ``manual/read.py``, imported with the package, sets this to its `read_gpt`.
read_gpt: Callable[[Any], GPTParams] | None = None


def _params(model: Any) -> GPTParams:
    if isinstance(model, GPTParams):
        return model
    if getattr(model.config, "dropout", 0.0) > 0 and getattr(model, "training", False):
        raise ValueError("gpt_forward/gpt_backward compute the model with dropout off: call model.eval() first "
                         f"(this model has dropout={model.config.dropout} and is in training mode)")
    if read_gpt is None:
        raise RuntimeError("manual.gpt: import tinygrad_tx.manual (its read module reads an nn.GPT), or pass GPTParams")
    return read_gpt(model)


def delta_names(n_layer: int) -> list[str]:
    """The names of the intermediate gradients of a GPT, in the order data flows."""
    names = ["emb.out"]
    for i in range(n_layer):
        p = f"h.{i}."
        names += [p + "ln_1.out", p + "attn.c_attn.out", p + "attn.q", p + "attn.k", p + "attn.v", p + "attn.S",
                  p + "attn.rho", p + "attn.heads", p + "attn.y", p + "attn.out", p + "res_1.out", p + "ln_2.out",
                  p + "mlp.c_fc.out", p + "mlp.act.out", p + "mlp.out", p + "res_2.out"]
    return names + ["ln_f.out", "logits"]


def gpt_forward(model: Any, idx: np.ndarray, targets: np.ndarray | None = None) -> tuple[np.ndarray, Any, Cache]:
    """``nn.GPT.forward`` in NumPy: ``(logits (B, T, vocab), loss or None, cache)``. ``model`` is an
    ``nn.GPT`` or `GPTParams`. Logits and loss are bit-identical to the engine's."""
    P = _params(model)
    A = P.arrays
    idx = np.asarray(idx)
    if idx.ndim != 2:
        raise ValueError(f"gpt_forward: idx must have shape (batch, time), got {idx.shape}")
    if idx.shape[1] > A["wpe.weight"].shape[0]:
        raise ValueError(f"gpt_forward: sequence length {idx.shape[1]} exceeds block_size {A['wpe.weight'].shape[0]}")
    frozen = set(A) - P.trainable
    x, c_emb = token_position_embedding_forward(idx, A["wte.weight"], A["wpe.weight"])
    blocks = []
    for i in range(P.n_layer):
        p = f"h.{i}."
        x, c = block_forward(x, _sub(A, p), P.n_head, P.activation, P.eps, _sub(P.lora, p), _sub_names(frozen, p))
        blocks.append(c)
    a, c_lnf = layernorm_forward(x, A["ln_f.weight"], A.get("ln_f.bias"), P.eps)
    logits, c_head = dense_forward(a, A, "lm_head", P.lora, frozen)
    cache = {"params": P, "emb": c_emb, "blocks": blocks, "ln_f": c_lnf, "lm_head": c_head}
    loss = None
    if targets is not None:
        loss, cache["loss"] = softmax_cross_entropy_forward(logits, targets)
    return logits, loss, cache


@dataclass
class ManualGradients:
    """The result of `gpt_backward`.

    - ``loss``: the mean cross-entropy (a 0-d array, bit-identical to the engine's loss);
    - ``grads``: ``∂L/∂p`` for every trainable parameter, by its ``named_parameters()`` name (frozen
      parameters, such as the base weights under LoRA, get none);
    - ``deltas``: ``Δ = ∂L/∂a`` at every layer boundary, by the names of `delta_names`
      (``emb.out``, ``h.0.ln_1.out``, ``h.0.attn.S``, ..., ``ln_f.out``, ``logits``);
    - ``logits``.
    """

    loss: np.ndarray
    grads: dict[str, np.ndarray]
    deltas: dict[str, np.ndarray]
    logits: np.ndarray
    params: GPTParams

    def invariants(self) -> dict[str, list[dict[str, float | bool]]]:
        """`attention_invariants` of every layer (by ``h.i.attn``), from these gradients."""
        return gradient_invariants(self.deltas, self.grads, self.params)


def gradient_invariants(
    deltas: Mapping[str, np.ndarray], grads: Mapping[str, np.ndarray], P: GPTParams
) -> dict[str, list[dict[str, float | bool]]]:
    """The attention invariants of every layer, from a set of Δs (manual or engine) and, when the
    ``c_attn`` bias is trained, its gradient (split into the heads' ∂b_k, ∂b_v)."""
    out = {}
    for i in range(P.n_layer):
        p = f"h.{i}.attn."
        if p + "S" not in deltas:
            continue
        H = P.n_head
        C = deltas[p + "y"].shape[-1]
        bias = grads.get(p + "c_attn.bias")
        bk = bias[C:2 * C].reshape(H, -1) if bias is not None else None
        bv = bias[2 * C:].reshape(H, -1) if bias is not None else None
        out[f"h.{i}.attn"] = attention_invariants(deltas[p + "S"], deltas[p + "k"], deltas[p + "v"],
                                                  deltas[p + "heads"], bk, bv)
    return out


def gpt_backward(
    model: Any, idx: np.ndarray, targets: np.ndarray, upstream: Mapping[str, np.ndarray] | None = None
) -> ManualGradients:
    """Forward and backward of the whole GPT by hand. ``model`` is an ``nn.GPT`` (read, never run) or
    `GPTParams`; ``idx``, ``targets`` are ``(B, T)`` token ids.

    Walks `gpt_forward`'s layers in reverse: the softmax + cross-entropy's ``Δ_logits``, ``lm_head``,
    ``ln_f``, every block (`block_backward`), then the embeddings (scatter-add for ``wte``, a sum over
    the batch for ``wpe``).

    ``upstream`` (a dict of Δs by `delta_names`, typically the engine's): check layer by layer. At
    each layer boundary found in it the backward records its own Δ, then continues from the given one,
    so each layer's parameter gradients and input Δ are computed from the reference's upstream Δ.
    """
    logits, loss, cache = gpt_forward(model, idx, targets)
    P: GPTParams = cache["params"]
    given = upstream or {}
    deltas: dict[str, np.ndarray] = {}

    def at(name: str, d: np.ndarray) -> np.ndarray:
        deltas[name] = d
        return given.get(name, d)

    delta = at("logits", softmax_cross_entropy_backward(cache["loss"]))
    delta, grads = dense_backward(delta, cache["lm_head"])
    delta = at("ln_f.out", delta)
    delta, g = layernorm_backward(delta, cache["ln_f"])
    grads.update({f"ln_f.{k}": v for k, v in g.items()})
    for i in reversed(range(P.n_layer)):
        p = f"h.{i}."
        inner: dict[str, np.ndarray] = {}
        delta, g = block_backward(delta, cache["blocks"][i], inner, _sub(given, p))
        grads.update({p + k: v for k, v in g.items()})
        deltas.update({p + k: v for k, v in inner.items()})
    delta = at("emb.out", delta)
    grads.update(token_position_embedding_backward(delta, cache["emb"])[1])
    trainable = {name: grads[name] for name in P.arrays if name in P.trainable and name in grads}
    ordered = {name: deltas[name] for name in delta_names(P.n_layer) if name in deltas}
    return ManualGradients(loss, trainable, ordered, logits, P)
