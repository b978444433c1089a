"""The hand-derived gradients of ``tinygrad_tx.manual`` against the engine and against PyTorch, in float64.

Every layer at several shapes (n_head 1-4, batch 1 and > 1, T 1 and > 1, LoRA on several targets),
then the whole GPT (gelu_tanh, gelu, relu; bias on and off). Tolerance: relative error
``max|a - b| / max|b| ≤ 1e-10`` per tensor. Where the manual backward is the engine's own sequence of
operations (linear, LoRA, embedding, ReLU) it must be *bit-exact*; every forward must be bit-exact.
Then the attention invariants, and bugs planted on purpose that the ``check`` command must catch.
The tests that compare against torch take the `torch` fixture (tests/conftest.py): skipped without it.
"""

from __future__ import annotations

import argparse
import ast
import math
from pathlib import Path

import numpy as np
import pytest

from tinygrad_tx import Tensor, manual, nn
from tinygrad_tx import functional as F
from tinygrad_tx.manual import attention as m_attention
from tinygrad_tx.manual import layers as m_layers
from tinygrad_tx.manual.cli import add_check_parser, run_check
from tinygrad_tx.nn.torch_io import conv1d_weight_names

REL = 1e-10


pytestmark = pytest.mark.usefixtures("float64_default")  # (tests/conftest.py)


def assert_close(manual_value, reference, what: str, rel: float = REL, scale: float | None = None) -> None:
    """Relative error ≤ rel, relative to max|reference| or to ``scale`` (for a tensor that is 0 up to
    rounding, such as ∂b_k, whose own scale is noise)."""
    a, b = np.asarray(manual_value), np.asarray(reference)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    err = manual.rel_err(a, b) if scale is None else float(np.abs(a - b).max()) / scale
    assert err <= rel, f"{what}: relative error {err:.3g} > {rel}"


def assert_exact(manual_value, engine_value, what: str) -> None:
    a, b = np.asarray(manual_value), np.asarray(engine_value)
    assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    assert np.array_equal(a, b), f"{what}: not bit-exact (relative error {manual.rel_err(a, b):.3g})"


def randomise(module, seed: int = 1, scale: float = 0.5) -> None:
    """Every parameter random (LayerNorm weights around 1, biases and LoRA B non-zero)."""
    rng = np.random.default_rng(seed)
    for name, p in module.named_parameters():
        values = rng.standard_normal(p.shape) * scale
        if name.endswith("weight") and (".ln_" in f".{name}" or isinstance(module, nn.LayerNorm)):
            values += 1.0
        p.data = Tensor(values, dtype=p.dtype)


def params_of(module) -> dict[str, np.ndarray]:
    return {name: p.detach().numpy() for name, p in module.named_parameters()}


def lora_of(module) -> dict[str, float]:
    return {name: m.scaling for name, m in module.named_modules() if isinstance(m, nn.LoRALayer)}


def engine_vjp(module, x: np.ndarray, delta: np.ndarray):
    """Output, input gradient and parameter gradients of an engine module for upstream ``delta``."""
    xt = Tensor(x, requires_grad=True)
    y = module(xt)
    y.backward(delta)
    return y.detach().numpy(), xt.grad.numpy(), {name: p.grad.numpy() for name, p in module.named_parameters()
                                                 if p.requires_grad}


def torch_vjp(module, x: np.ndarray, delta: np.ndarray, params: dict[str, np.ndarray], transpose: set[str]):
    """The same with a float64 torch module, loaded with ``params`` (``transpose``: (in, out) weights)."""
    import torch

    module = module.double()
    tparams = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in params.items():
            tparams[name].copy_(torch.from_numpy(np.ascontiguousarray(value.T if name in transpose else value)))
    xt = torch.tensor(x, requires_grad=True)
    y = module(xt)
    y.backward(torch.from_numpy(delta))
    grads = {}
    for name in params:
        g = tparams[name].grad.numpy()
        grads[name] = g.T if name in transpose else g
    return y.detach().numpy(), xt.grad.numpy(), grads


def upstream(shape, seed: int = 7) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


# -------------------------------------------------------------------------------------------- linear


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (1, 1, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias, torch) -> None:
    layer = nn.Conv1D(3, 4, bias=bias)  # GPT-2's layer: a_prev w + b, w (in, out), as manual.linear_forward
    x = np.random.default_rng(0).standard_normal(shape)
    a, cache = manual.linear_forward(x, layer.weight.detach().numpy(), layer.bias.detach().numpy() if bias else None)
    delta = upstream(a.shape)
    delta_prev, grads = manual.linear_backward(delta, cache)
    y, dx, eg = engine_vjp(layer, x, delta)
    assert_exact(a, y, "output")
    assert_exact(delta_prev, dx, "Δ_prev")  # bit-exact: the engine's own matrix products
    for name in eg:
        assert_exact(grads[name], eg[name], name)
    assert set(grads) == set(eg)
    _, tdx, tg = torch_vjp(torch.nn.Linear(4, 3, bias=bias), x, delta, params_of(layer), {"weight"})
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    for name in tg:
        assert_close(grads[name], tg[name], f"{name} vs torch")


@pytest.mark.parametrize("shape, rank", [((5, 6), 1), ((2, 3, 6), 2), ((1, 1, 6), 3)])
def test_lora_linear_keeps_the_frozen_path(shape, rank, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchLoRALinear

    layer = nn.LoRAConv1D(nn.Conv1D(5, 6), rank, alpha=3.0)
    randomise(layer)
    x = np.random.default_rng(0).standard_normal(shape)
    P = params_of(layer)
    a, cache = manual.lora_linear_forward(x, P["weight"], P["bias"], P["lora_A"], P["lora_B"], layer.scaling)
    delta = upstream(a.shape)
    delta_prev, grads = manual.lora_linear_backward(delta, cache)
    y, dx, eg = engine_vjp(layer, x, delta)
    assert set(eg) == set(grads) == {"lora_A", "lora_B"}  # w₀ and b₀ get no gradient
    assert_exact(a, y, "output")
    assert_exact(delta_prev, dx, "Δ_prev")
    for name in grads:
        assert_exact(grads[name], eg[name], name)
    tl = TorchLoRALinear(6, 5, True, rank, 3.0)
    _, tdx, tg = torch_vjp(tl, x, delta, P, {"weight"})
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    for name in grads:
        assert_close(grads[name], tg[name], f"{name} vs torch")
    # the frozen path's term Δ w₀ᵀ matters: without it the input gradient would be far off
    lora_only = (delta.reshape(-1, 5) * layer.scaling @ P["lora_B"].T @ P["lora_A"].T).reshape(x.shape)
    assert manual.rel_err(lora_only, dx) > 1e-2


# ----------------------------------------------------------------------------------------- embedding


@pytest.mark.parametrize("idx", [np.array([[1, 3, 1, 1], [0, 3, 5, 1]]), np.array([[2]]), np.array([4, 4, 4])])
def test_embedding_scatter_add_and_one_hot(idx, torch) -> None:
    emb = nn.Embedding(6, 5)
    a, cache = manual.embedding_forward(idx, emb.weight.detach().numpy())
    delta = upstream(a.shape)
    none, grads = manual.embedding_backward(delta, cache)
    assert none is None
    y = emb(idx)
    y.backward(delta)
    assert_exact(a, y.detach().numpy(), "output")
    assert_exact(grads["weight"], emb.weight.grad, "∂w (scatter-add)")  # bit-exact
    assert_close(manual.embedding_backward_onehot(delta, cache)[1]["weight"], emb.weight.grad, "∂w (one-hot)")
    temb = torch.nn.Embedding(6, 5, dtype=torch.float64)
    with torch.no_grad():
        temb.weight.copy_(torch.from_numpy(emb.weight.detach().numpy()))
    temb(torch.from_numpy(idx)).backward(torch.from_numpy(delta))
    assert_close(grads["weight"], temb.weight.grad.numpy(), "∂w vs torch")


@pytest.mark.parametrize("B, T", [(2, 5), (1, 1), (3, 8)])
def test_token_plus_position_embedding(B, T) -> None:
    wte, wpe = nn.Embedding(7, 4), nn.Embedding(8, 4)
    idx = np.random.default_rng(0).integers(0, 7, (B, T))
    a, cache = manual.token_position_embedding_forward(idx, wte.weight.detach().numpy(), wpe.weight.detach().numpy())
    delta = upstream(a.shape)
    _, grads = manual.token_position_embedding_backward(delta, cache)
    y = wte(idx) + wpe(np.arange(T))
    y.backward(delta)
    assert_exact(a, y.detach().numpy(), "output")
    assert_exact(grads["wte.weight"], wte.weight.grad, "∂w_tok")
    assert_exact(grads["wpe.weight"], wpe.weight.grad, "∂w_pos")
    assert_close(grads["wpe.weight"][:T], delta.sum(axis=0), "∂w_pos = Σ_batch Δ")
    assert not grads["wpe.weight"][T:].any()  # positions past T get nothing


# ------------------------------------------------------------------------------ LayerNorm, activations


@pytest.mark.parametrize("shape", [(3, 6), (2, 4, 6), (1, 1, 6)])
@pytest.mark.parametrize("bias", [True, False])
def test_layernorm(shape, bias, torch) -> None:
    ln = nn.LayerNorm(6, bias=bias)
    randomise(ln)
    x = np.random.default_rng(0).standard_normal(shape) * 3 + 1
    gamma, beta = ln.weight.detach().numpy(), ln.bias.detach().numpy() if bias else None
    a, cache = manual.layernorm_forward(x, gamma, beta, ln.eps)
    delta = upstream(a.shape)
    delta_prev, grads = manual.layernorm_backward(delta, cache)
    y, dx, eg = engine_vjp(ln, x, delta)
    assert_exact(a, y, "output")
    assert_close(delta_prev, dx, "Δ_prev")  # the fused formula: up to rounding
    for name in eg:
        assert_exact(grads[name], eg[name], name)  # ∂γ = Σ_rows(â ∘ Δ), ∂β = Σ_rows Δ: the engine's sums
    _, tdx, tg = torch_vjp(torch.nn.LayerNorm(6, bias=bias), x, delta, params_of(ln), set())
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    for name in tg:
        assert_close(grads[name], tg[name], f"{name} vs torch")


def test_layernorm_of_constant_rows_is_finite() -> None:
    a, cache = manual.layernorm_forward(np.full((2, 8), 3.0), np.ones(8), np.zeros(8))
    delta_prev, grads = manual.layernorm_backward(np.arange(16.0).reshape(2, 8), cache)
    assert np.isfinite(a).all() and np.isfinite(delta_prev).all() and np.isfinite(grads["weight"]).all()


def test_relu_is_bit_exact(torch) -> None:
    x = np.random.default_rng(0).standard_normal((4, 7))
    x[0, :3] = 0.0  # the derivative at 0 is 0, as in PyTorch
    a, cache = manual.relu_forward(x)
    delta = upstream(a.shape)
    delta_prev, _ = manual.relu_backward(delta, cache)
    y, dx, _ = engine_vjp(nn.ReLU(), x, delta)
    assert_exact(a, y, "output")
    assert_exact(delta_prev, dx, "Δ_prev")
    _, tdx, _ = torch_vjp(torch.nn.ReLU(), x, delta, {}, set())
    assert_exact(delta_prev, tdx, "Δ_prev vs torch")


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("shape", [(4, 7), (2, 1, 5)])
def test_gelu(approximate, shape, torch) -> None:
    x = np.random.default_rng(0).standard_normal(shape) * 3
    a, cache = manual.gelu_forward(x, approximate)
    delta = upstream(a.shape)
    delta_prev, _ = manual.gelu_backward(delta, cache)
    y, dx, _ = engine_vjp(nn.GELU(approximate), x, delta)
    assert_exact(a, y, "output")
    assert_close(delta_prev, dx, "Δ_prev")
    _, tdx, _ = torch_vjp(torch.nn.GELU(approximate=approximate), x, delta, {}, set())
    assert_close(delta_prev, tdx, "Δ_prev vs torch")


# --------------------------------------------------------------------------- softmax, cross-entropy


@pytest.mark.parametrize("T", [1, 5])
def test_softmax_with_an_additive_mask(T, torch) -> None:
    s = np.random.default_rng(0).standard_normal((2, 3, T, T)) * 2 + manual.causal_mask(T)
    rho, cache = manual.softmax_forward(s)
    delta = upstream(rho.shape)
    delta_prev, _ = manual.softmax_backward(delta, cache)
    st = Tensor(s, requires_grad=True)
    y = st.softmax(-1)
    y.backward(delta)
    assert_exact(rho, y.detach().numpy(), "ρ")
    assert_close(delta_prev, st.grad, "Δ_prev")
    ts = torch.tensor(s, requires_grad=True)
    ts.softmax(-1).backward(torch.from_numpy(delta))
    assert_close(delta_prev, ts.grad.numpy(), "Δ_prev vs torch")
    masked = np.triu(np.ones((T, T), dtype=bool), k=1)
    assert (rho[..., masked] == 0).all() and (delta_prev[..., masked] == 0).all()  # exactly 0, not e⁰ weight
    assert np.abs(delta_prev.sum(-1)).max() <= 1e-15 * np.abs(delta_prev).max() * T + 1e-300


@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 7), (1, 1, 4)])
def test_softmax_cross_entropy(shape, torch) -> None:
    import torch.nn.functional as TF

    rng = np.random.default_rng(0)
    logits = rng.standard_normal(shape) * 3
    targets = rng.integers(0, shape[-1], shape[:-1])
    loss, cache = manual.softmax_cross_entropy_forward(logits, targets)
    delta = manual.softmax_cross_entropy_backward(cache)
    lt = Tensor(logits, requires_grad=True)
    el = F.cross_entropy(lt.reshape(-1, shape[-1]), targets.reshape(-1))
    el.backward()
    assert_exact(loss, el.detach().numpy(), "loss")
    assert_close(delta, lt.grad, "Δ_logits")
    tl = torch.tensor(logits, requires_grad=True)
    tloss = TF.cross_entropy(tl.reshape(-1, shape[-1]), torch.from_numpy(targets).reshape(-1))
    tloss.backward()
    assert_close(loss, tloss.detach().numpy(), "loss vs torch")
    assert_close(delta, tl.grad.numpy(), "Δ_logits vs torch")
    np.testing.assert_allclose(delta.sum(-1), 0.0, atol=1e-15)  # each row: softmax sums to 1, onehot too


# --------------------------------------------------------------------------------------- attention


def engine_head(x, W, b, delta):
    """One head composed in the engine: three linears, then causal softmax attention."""
    xt = Tensor(x, requires_grad=True)
    Wt = {k: Tensor(v, requires_grad=True) for k, v in W.items()}
    bt = {k: Tensor(v, requires_grad=True) for k, v in b.items()}
    q, k, v = (xt @ Wt[n] + bt[n] for n in "qkv")  # w (in, out), as manual.attention_head_forward
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.backward(delta)
    return out.detach().numpy(), xt.grad.numpy(), {**{f"w_{n}": Wt[n].grad.numpy() for n in "qkv"},
                                                   **{f"b_{n}": bt[n].grad.numpy() for n in "qkv"}}


def torch_head(x, W, b, delta):
    import torch
    import torch.nn.functional as TF

    xt = torch.tensor(x, requires_grad=True)
    Wt = {k: torch.tensor(v, requires_grad=True) for k, v in W.items()}
    bt = {k: torch.tensor(v, requires_grad=True) for k, v in b.items()}
    q, k, v = (xt @ Wt[n] + bt[n] for n in "qkv")
    out = TF.scaled_dot_product_attention(q, k, v, is_causal=True)
    out.backward(torch.from_numpy(delta))
    return xt.grad.numpy(), {**{f"w_{n}": Wt[n].grad.numpy() for n in "qkv"},
                             **{f"b_{n}": bt[n].grad.numpy() for n in "qkv"}}


@pytest.mark.parametrize("shape", [(5, 6), (1, 1, 6), (2, 5, 6), (3, 1, 6)])
def test_one_attention_head_and_its_invariants(shape, torch) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    W = {n: rng.standard_normal((6, 4)) * 0.5 for n in "qkv"}
    b = {n: rng.standard_normal(4) * 0.5 for n in "qkv"}
    out, cache = manual.attention_head_forward(x, W["q"], b["q"], W["k"], b["k"], W["v"], b["v"])
    delta = upstream(out.shape)
    inner: dict[str, np.ndarray] = {}
    delta_prev, grads = manual.attention_head_backward(delta, cache, inner)
    y, dx, eg = engine_head(x, W, b, delta)
    assert_exact(out, y, "output")
    assert_close(delta_prev, dx, "Δ_prev")
    tdx, tg = torch_head(x, W, b, delta)
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    scale = np.abs(eg["b_v"]).max()  # ∂b_k is 0 up to rounding: compare it at the scale of ∂b_v
    for name in eg:
        assert_close(grads[name], eg[name], name, scale=scale if name == "b_k" else None)
        assert_close(grads[name], tg[name], f"{name} vs torch", scale=scale if name == "b_k" else None)
    # invariants: rows of Δ_S sum to 0, masked entries exactly 0; ∂b_k = 0; ∂b_v = Σ_rows Δ
    T = shape[-2]
    S = inner["S"]
    assert (S[..., np.triu(np.ones((T, T), dtype=bool), k=1)] == 0).all()
    assert np.abs(S.sum(-1)).max() <= 1e-14 * max(np.abs(S).max(), 1e-300)
    assert np.abs(grads["b_k"]).max() <= 1e-14 * np.abs(inner["k"]).sum(axis=tuple(range(inner["k"].ndim - 1))).max()
    assert_close(grads["b_v"], delta.reshape(-1, 4).sum(axis=0), "∂b_v = Σ_rows Δ")


ATTENTION_CASES = [(1, 1, 1), (2, 2, 5), (3, 2, 4), (4, 3, 6), (4, 1, 7), (3, 3, 1), (1, 2, 3)]


@pytest.mark.parametrize("n_head, B, T", ATTENTION_CASES)
def test_multi_head_causal_self_attention(n_head, B, T, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchAttention

    attn = nn.CausalSelfAttention(12, n_head)
    randomise(attn)
    x = np.random.default_rng(0).standard_normal((B, T, 12))
    P = params_of(attn)
    a, cache = manual.causal_self_attention_forward(x, P, n_head)
    delta = upstream(a.shape)
    delta_prev, grads = manual.causal_self_attention_backward(delta, cache)
    y, dx, eg = engine_vjp(attn, x, delta)
    assert_exact(a, y, "output")
    assert_close(delta_prev, dx, "Δ_prev")
    assert set(grads) == set(eg)
    for name in eg:
        assert_close(grads[name], eg[name], name)
    assert_exact(grads["c_proj.weight"], eg["c_proj.weight"], "c_proj.weight")  # yᵀ Δ: the engine's product
    cfg = nn.GPTConfig(n_embd=12, n_head=n_head)
    _, tdx, tg = torch_vjp(TorchAttention(cfg, "attn"), x, delta, P, {"c_attn.weight", "c_proj.weight"})
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    for name in tg:
        assert_close(grads[name], tg[name], f"{name} vs torch")


def test_attention_takes_a_sequence_without_batch_dim() -> None:
    attn = nn.CausalSelfAttention(8, 2)
    randomise(attn)
    x = np.random.default_rng(0).standard_normal((5, 8))
    a, cache = manual.causal_self_attention_forward(x, params_of(attn), 2)
    delta_prev, _ = manual.causal_self_attention_backward(upstream(a.shape), cache)
    b, cache_b = manual.causal_self_attention_forward(x[None], params_of(attn), 2)
    delta_prev_b, _ = manual.causal_self_attention_backward(upstream(a.shape)[None], cache_b)
    assert_exact(a, b[0], "output")
    assert_exact(delta_prev, delta_prev_b[0], "Δ_prev")


@pytest.mark.parametrize("n_head", [1, 2, 3, 4])
def test_multi_head_is_the_sum_of_one_head_backwards(n_head) -> None:
    """Split the columns into heads, run each head's backward, sum the heads' input gradients."""
    d, B, T = 12, 2, 5
    d_h = d // n_head
    attn = nn.CausalSelfAttention(d, n_head)
    randomise(attn)
    P = params_of(attn)
    x = np.random.default_rng(0).standard_normal((B, T, d))
    a, cache = manual.causal_self_attention_forward(x, P, n_head)
    delta = upstream(a.shape)
    delta_prev, grads = manual.causal_self_attention_backward(delta, cache)
    W, b = P["c_attn.weight"], P["c_attn.bias"]
    delta_y, _ = manual.linear_backward(delta, manual.linear_forward(np.zeros((B, T, d)), P["c_proj.weight"])[1])
    total = np.zeros_like(x)
    for h in range(n_head):
        cols = [slice(i * d + h * d_h, i * d + (h + 1) * d_h) for i in range(3)]  # q, k, v columns of head h
        out, c = manual.attention_head_forward(x, W[:, cols[0]], b[cols[0]], W[:, cols[1]], b[cols[1]],
                                               W[:, cols[2]], b[cols[2]])
        dp, g = manual.attention_head_backward(delta_y[..., h * d_h:(h + 1) * d_h], c)
        total += dp
        for i, n in enumerate("qkv"):
            assert_close(g[f"w_{n}"], grads["c_attn.weight"][:, cols[i]], f"head {h} ∂w_{n}")
            scale = np.abs(grads["c_attn.bias"][cols[2]]).max() if n == "k" else None  # ∂b_k: 0 up to rounding
            assert_close(g[f"b_{n}"], grads["c_attn.bias"][cols[i]], f"head {h} ∂b_{n}", scale=scale)
    assert_close(total, delta_prev, "Σ_heads Δ_prev")


@pytest.mark.parametrize("targets", [("c_attn",), ("c_proj",), ("c_attn", "c_proj")])
def test_attention_with_lora(targets, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchAttention

    attn = nn.CausalSelfAttention(12, 3)
    nn.apply_lora(attn, targets, rank=2, alpha=4.0)
    randomise(attn)
    x = np.random.default_rng(0).standard_normal((2, 4, 12))
    P = params_of(attn)
    a, cache = manual.causal_self_attention_forward(x, P, 3, lora_of(attn))
    delta = upstream(a.shape)
    delta_prev, grads = manual.causal_self_attention_backward(delta, cache)
    y, dx, eg = engine_vjp(attn, x, delta)
    assert_exact(a, y, "output")
    assert_close(delta_prev, dx, "Δ_prev")
    trainable = {n for n, p in attn.named_parameters() if p.requires_grad}
    assert trainable <= set(grads) and all(n.endswith(("lora_A", "lora_B")) for n in trainable)
    assert not any(n.startswith(targets) and n.endswith(("weight", "bias")) for n in grads)  # frozen: none
    for name in eg:
        assert_close(grads[name], eg[name], name)
    cfg = nn.GPTConfig(n_embd=12, n_head=3, lora_rank=2, lora_alpha=4.0, lora_targets=targets)
    _, tdx, tg = torch_vjp(TorchAttention(cfg, "attn"), x, delta, P, {"c_attn.weight", "c_proj.weight"})
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    for name in eg:
        assert_close(grads[name], tg[name], f"{name} vs torch")


# ------------------------------------------------------------------------------------- MLP, block


@pytest.mark.parametrize("activation", ["gelu_tanh", "gelu", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_mlp(activation, bias, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchMLP

    mlp = nn.MLP(8, bias=bias, activation=activation)
    randomise(mlp)
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    P = params_of(mlp)
    a, cache = manual.mlp_forward(x, P, activation)
    delta = upstream(a.shape)
    delta_prev, grads = manual.mlp_backward(delta, cache)
    y, dx, eg = engine_vjp(mlp, x, delta)
    assert_exact(a, y, "output")
    (assert_exact if activation == "relu" else assert_close)(delta_prev, dx, "Δ_prev")
    for name in eg:
        (assert_exact if activation == "relu" or "c_proj" in name else assert_close)(grads[name], eg[name], name)
    cfg = nn.GPTConfig(n_embd=8, n_head=2, activation=activation, bias=bias)
    _, tdx, tg = torch_vjp(TorchMLP(cfg, "mlp"), x, delta, P, {"c_fc.weight", "c_proj.weight"})
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    for name in tg:
        assert_close(grads[name], tg[name], f"{name} vs torch")


@pytest.mark.parametrize("activation", ["gelu_tanh", "gelu", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lora_targets", [(), ("c_fc", "attn.c_proj")])
def test_block(activation, bias, lora_targets, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchBlock

    block = nn.Block(8, 2, bias=bias, activation=activation)
    if lora_targets:
        nn.apply_lora(block, lora_targets, rank=2, alpha=2.0)
    randomise(block)
    x = np.random.default_rng(0).standard_normal((3, 4, 8))
    P = params_of(block)
    a, cache = manual.block_forward(x, P, 2, activation, lora=lora_of(block))
    delta = upstream(a.shape)
    inner: dict[str, np.ndarray] = {}
    delta_prev, grads = manual.block_backward(delta, cache, inner)
    y, dx, eg = engine_vjp(block, x, delta)
    assert_exact(a, y, "output")
    assert_close(delta_prev, dx, "Δ_prev")
    for name in eg:
        assert_close(grads[name], eg[name], name)
    assert {"res_2.out", "mlp.out", "ln_2.out", "res_1.out", "attn.out", "ln_1.out", "attn.S"} <= set(inner)
    cfg = nn.GPTConfig(n_embd=8, n_head=2, activation=activation, bias=bias, lora_rank=2 if lora_targets else 0,
                       lora_alpha=2.0, lora_targets=lora_targets or ("c_attn",))
    _, tdx, tg = torch_vjp(TorchBlock(cfg, "h.0"), x, delta, P, conv1d_weight_names(block))
    assert_close(delta_prev, tdx, "Δ_prev vs torch")
    for name in eg:
        assert_close(grads[name], tg[name], f"{name} vs torch")


# -------------------------------------------------------------------------------------- whole GPT


def gpt(activation="gelu_tanh", bias=True, lora_rank=0, lora_targets=("c_attn", "c_proj"), n_head=2, n_embd=8,
        n_layer=2, dtype=np.float64, seed=5):
    cfg = nn.GPTConfig(vocab_size=11, block_size=8, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                       activation=activation, bias=bias, lora_rank=lora_rank, lora_alpha=2.0,
                       lora_targets=lora_targets)
    model = nn.GPT(cfg, dtype=dtype)
    randomise(model, seed, scale=0.3)
    return cfg, model


GPT_CASES = [
    dict(activation="gelu_tanh", bias=True),
    dict(activation="gelu", bias=False, n_head=3, n_embd=12),
    dict(activation="relu", bias=True, n_head=4, n_embd=8),
    dict(activation="gelu_tanh", bias=False, lora_rank=2),
    dict(activation="relu", bias=True, lora_rank=3, lora_targets=("c_fc", "attn.c_proj"), n_head=1),
    dict(activation="gelu", bias=True, lora_rank=1, lora_targets=("c_attn",), n_head=3, n_embd=12),
]


@pytest.mark.parametrize("case", GPT_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
@pytest.mark.parametrize("B, T", [(3, 8), (1, 1), (2, 5)])
def test_whole_gpt_against_the_engine_and_torch(case, B, T, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchGPT, copy_to_torch

    cfg, model = gpt(**case)
    rng = np.random.default_rng(6)
    idx, targets = rng.integers(0, 11, (B, T)), rng.integers(0, 11, (B, T))
    result = manual.gpt_backward(model, idx, targets)
    logits, loss = model(idx, targets)
    assert_exact(result.loss, loss.detach().numpy(), "loss")
    assert_exact(result.logits, logits.detach().numpy(), "logits")
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert list(result.grads) == trainable  # every trainable parameter, in order; frozen ones get none
    assert list(result.deltas) == manual.delta_names(cfg.n_layer)
    report = manual.compare(model, idx, targets)  # every parameter and every Δ against the engine
    assert report.ok, str(report)
    tmodel = TorchGPT(cfg).double()
    copy_to_torch(model, tmodel)
    tlogits, tloss = tmodel(torch.from_numpy(idx), torch.from_numpy(targets))
    tloss.backward()
    assert_close(result.loss, tloss.item(), "loss vs torch")
    lin = conv1d_weight_names(model)
    tparams = dict(tmodel.named_parameters())
    for name, g in result.grads.items():
        tg = tparams[name].grad.numpy()
        assert_close(g, tg.T if name in lin else tg, f"{name} vs torch")


def test_layer_by_layer_exactness_is_as_documented() -> None:
    """Fed the engine's upstream Δ, the linear, embedding and LayerNorm-parameter gradients are bit-exact;
    end to end everything agrees to rounding."""
    _, model = gpt(activation="relu", n_head=2)
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    report = manual.compare(model, idx, targets)
    assert report.ok
    exact = {r.name for r in report.rows if r.section == "layer by layer" and r.exact}
    for name in ["wte.weight", "wpe.weight", "lm_head.weight", "ln_f.weight", "h.0.attn.c_proj.weight",
                 "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.bias", "h.0.ln_1.bias", "h.1.attn.rho", "h.1.attn.v"]:
        assert name in exact, name
    assert "h.0.attn.S" not in exact  # the fused softmax backward rounds differently
    worst = max(r.max_rel for r in report.rows)
    assert 0 < worst < 1e-13
    text = str(report)
    assert "bit-exact" in text and "fused" in text and "PASS" in text


def test_float32_agrees_within_its_stated_tolerance() -> None:
    _, model = gpt(n_head=4, n_embd=16, dtype=np.float32, lora_rank=2)
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (4, 8)), rng.integers(0, 11, (4, 8))
    report = manual.compare(model, idx, targets)
    assert report.ok and report.rtol == 1e-4 and report.dtype == "float32"
    assert max(r.max_rel for r in report.rows) < 1e-5  # measured ~1e-6: the tolerance has a wide margin
    assert manual.gpt_backward(model, idx, targets).grads["h.0.attn.c_attn.lora_A"].dtype == np.float32


def test_partly_frozen_models_and_unfrozen_lora_bases() -> None:
    """Gradients exactly for the parameters that require one, whatever was frozen or unfrozen by hand."""
    cfg, model = gpt(lora_rank=2, lora_targets=("c_attn", "c_fc"))
    model.requires_grad_(True)  # LoRA bases unfrozen too
    model.h[0].ln_1.weight.requires_grad_(False)
    model.h[1].mlp.c_fc.weight.requires_grad_(False)  # a LoRA base half frozen: its bias still trains
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    result = manual.gpt_backward(model, idx, targets)
    assert list(result.grads) == [n for n, p in model.named_parameters() if p.requires_grad]
    assert "h.1.mlp.c_fc.bias" in result.grads and "h.0.attn.c_attn.weight" in result.grads
    assert manual.compare(model, idx, targets).ok
    model.requires_grad_(False)  # nothing trains: no gradients, but every Δ still checked
    report = manual.compare(model, idx, targets)
    assert report.ok and not manual.gpt_backward(model, idx, targets).grads and len(report.rows) == 2 * 35
    with pytest.raises(ValueError, match="exceeds block_size"):
        manual.gpt_backward(model, np.zeros((1, 9), dtype=np.int64), np.zeros((1, 9), dtype=np.int64))


def test_dropout_models_need_eval_mode() -> None:
    cfg = nn.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8, dropout=0.1)
    model = nn.GPT(cfg)
    idx = np.zeros((1, 4), dtype=np.int64)
    with pytest.raises(ValueError, match="eval"):
        manual.gpt_backward(model, idx, idx)
    assert manual.compare(model, idx, idx).ok  # compare switches dropout off for the check
    assert model.training


# -------------------------------------------------------------------------------------- invariants


def test_attention_invariants_hold_on_both_paths() -> None:
    _, model = gpt(n_head=3, n_embd=12)
    rng = np.random.default_rng(1)
    idx, targets = rng.integers(0, 11, (3, 7)), rng.integers(0, 11, (3, 7))
    result = manual.gpt_backward(model, idx, targets)
    engine = manual.engine_gradients(model, idx, targets)
    T, C, H = 7, 12, 3
    masked = np.triu(np.ones((T, T), dtype=bool), k=1)
    for source in (result, engine):
        for i in range(2):
            p = f"h.{i}.attn."
            S = source.deltas[p + "S"]
            assert (S[..., masked] == 0).all()  # exactly 0 where masked, on both paths
            assert np.abs(S.sum(-1)).max() <= 1e-14 * np.abs(S).max()
            db = source.grads[f"h.{i}.attn.c_attn.bias"]
            db_q, db_k, db_v = db[:C], db[C:2 * C], db[2 * C:]
            assert np.abs(db_k).max() <= 1e-13 * np.abs(db_q).max()  # ∂b_k = 0 up to rounding
            heads = source.deltas[p + "heads"]  # (B, H, T, d_h): each head's upstream Δ
            assert_close(db_v, heads.sum(axis=(0, 2)).reshape(-1), "∂b_v = Σ_rows Δ_head", rel=1e-13)
    report = manual.compare(model, idx, targets)
    assert len(report.invariants) == 2 * 2 * H and all(r.ok for r in report.invariants)
    assert {r.source for r in report.invariants} == {"manual", "engine"}
    assert "attention invariants" in str(report) and "masked" in report._repr_html_()


def test_a_broken_softmax_backward_breaks_the_invariants(monkeypatch) -> None:
    """Drop the ``− rowsum(G ∘ ρ)`` term: the rows of Δ_S no longer sum to 0, and the check says so."""
    monkeypatch.setattr(m_attention, "softmax_backward", lambda G, cache: (cache["rho"] * G, {}))
    _, model = gpt()
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    report = manual.compare(model, idx, targets)
    assert not report.ok
    assert "h.1.attn.S" in report.failures
    assert any(f.startswith("invariant h.1.attn") and "manual" in f for f in report.failures)
    assert all(r.ok for r in report.invariants if r.source == "engine")


# ------------------------------------------------------------------------------ planted bugs, CLI


def check(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_check_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["check", *argv])
    assert args.command == "check"
    return run_check(args)


SMALL = ("--n-layer", "2", "--n-head", "2", "--n-embd", "8", "--block-size", "6", "--vocab-size", "11")


def square_weight_transpose_dropped(delta, cache):
    """The classic bug no shape check catches: ``Δ w`` instead of ``Δ wᵀ`` when w is square."""
    w = cache["w"]
    delta_prev, grads = _real_linear_backward(delta, cache)
    if w.shape[0] == w.shape[1]:
        delta_prev = (delta.reshape(-1, w.shape[1]) @ w).reshape(delta_prev.shape)
    return delta_prev, grads


_real_linear_backward = m_layers.linear_backward


def test_check_passes_in_float64_and_float32(capsys) -> None:
    assert check(*SMALL) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "h.1.attn.c_attn.weight" in out and "max rel err" in out
    assert check(*SMALL, "--dtype", "float32", "--lora", "--activation", "relu", "--n-head", "4") == 0
    assert "float32" in capsys.readouterr().out


def test_check_catches_a_dropped_transpose_and_names_the_tensor(monkeypatch, capsys) -> None:
    monkeypatch.setattr(m_layers, "linear_backward", square_weight_transpose_dropped)
    assert check(*SMALL, "--end-to-end-only") == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "h.1.attn.y" in out
    # the report localises it: everything downstream of h.1.attn.c_proj (in backward order) is fine
    _, model = gpt()
    rng = np.random.default_rng(0)
    report = manual.compare(model, rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6)), layer_by_layer=False)
    failing = set(report.failures)
    assert "h.1.attn.y" in failing and "h.1.attn.c_attn.weight" in failing and "wte.weight" in failing
    assert not failing & {"logits", "ln_f.out", "h.1.mlp.out", "h.1.attn.out", "h.1.attn.c_proj.weight"}


def test_check_catches_a_dropped_lora_frozen_path(monkeypatch, capsys) -> None:
    def without_frozen_path(delta, cache):
        A, B, s = cache["A"], cache["B"], cache["s"]
        delta_s = delta.reshape(-1, delta.shape[-1]) * s
        delta_aA = delta_s @ B.T
        a_prev = cache["base"]["a_prev"]
        grads = {"lora_A": a_prev.reshape(-1, a_prev.shape[-1]).T @ delta_aA, "lora_B": cache["a_A"].T @ delta_s}
        return (delta_aA @ A.T).reshape(a_prev.shape), grads  # Δ w₀ᵀ forgotten

    monkeypatch.setattr(m_layers, "lora_linear_backward", without_frozen_path)
    assert check(*SMALL, "--lora", "--lora-targets", "c_attn") == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "h.1.ln_1.out" in out and "h.0.attn.c_attn.lora_A" in out
    _, model = gpt(lora_rank=2, lora_targets=("c_attn",))
    rng = np.random.default_rng(0)
    report = manual.compare(model, rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6)))
    assert {"h.1.ln_1.out", "h.0.attn.c_attn.lora_A", "emb.out"} <= set(report.failures)
    assert "h.1.attn.c_attn.lora_B" not in report.failures  # its own gradient does not use the frozen path


def test_check_on_a_checkpoint(tmp_path, capsys) -> None:
    from dataclasses import asdict

    from tinygrad_tx.checkpoint import save_checkpoint
    from tinygrad_tx.data import CharTokenizer

    tok = CharTokenizer.from_text("abcdefghij ")
    cfg, model = gpt(dtype=np.float32)
    assert cfg.vocab_size == tok.vocab_size
    path = str(tmp_path / "ckpt.npz")
    save_checkpoint(path, {"kind": "train", "model_config": asdict(cfg), "dtype": "float32",
                           "tokenizer": tok.to_dict(), "model": dict(model.state_dict())})
    assert check("--checkpoint", path) == 0
    assert "checking checkpoint" in capsys.readouterr().out
    assert check("--checkpoint", path, "--dtype", "float32", "--lora", "--block-size", "5") == 0
    capsys.readouterr()
    assert check("--checkpoint", path, "--n-layer", "3") == 2
    assert "a checkpoint brings its own model" in capsys.readouterr().err
    assert check("--checkpoint", path, "--block-size", "9") == 2
    assert check("--checkpoint", str(tmp_path / "missing.npz")) == 2
    assert check("--n-embd", "10", "--n-head", "3") == 2


def test_comparison_table_renders_as_text_and_html() -> None:
    ok = manual.compare_tensors({"a": np.ones(3), "b": np.zeros((2, 2))}, {"a": np.ones(3), "b": np.zeros((2, 2))})
    assert ok.ok and not ok.failures and all(r.exact for r in ok.rows)
    bad = manual.compare_tensors({"a": np.ones(3), "b": np.ones(2)}, {"a": np.ones(3) + 1e-3, "c": np.ones(2)})
    assert not bad.ok and bad.failures == ["a", "b", "c"]
    text = str(bad)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("name"))
    assert [c.strip() for c in header.split("|")] == ["name", "kind", "shape", "exact", "approx", "max abs diff",
                                                      "max rel err", "verdict"]
    assert "missing in engine" in text and "missing in manual" in text and "FAIL" in text
    rows = [line for line in lines if line.startswith(("a ", "b ", "c "))]
    assert len({line.index("|") for line in rows} | {header.index("|")}) == 1  # aligned columns
    html = bad._repr_html_()
    assert html.count("<table>") == 1 and "<th>max rel err</th>" in html and "FAIL" in html


def test_manual_modules_use_no_engine() -> None:
    """layers, attention and gpt are plain NumPy: they import nothing from the engine."""
    folder = Path(manual.__file__).parent
    for name in ("layers.py", "attention.py", "gpt.py", "seeds.py"):
        tree = ast.parse((folder / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 or node.module in ("__future__", "collections.abc", "dataclasses", "typing"), \
                    f"{name} imports {node.module}"
                assert node.level == 0 or node.module in ("layers", "attention"), f"{name} imports .{node.module}"
            elif isinstance(node, ast.Import):
                assert {a.name for a in node.names} <= {"math", "numpy"}, f"{name} imports {node.names}"


def test_every_nn_layer_has_a_manual_pair() -> None:
    pairs = {nn.Conv1D: "linear", nn.LoRAConv1D: "lora_linear", nn.Linear: "linear", nn.LoRALinear: "lora_linear",
             nn.Embedding: "embedding", nn.LayerNorm: "layernorm",
             nn.ReLU: "relu", nn.GELU: "gelu", nn.CausalSelfAttention: "causal_self_attention", nn.MLP: "mlp",
             nn.Block: "block", nn.GPT: "gpt"}
    for cls, stem in pairs.items():
        assert callable(getattr(manual, f"{stem}_forward")) and callable(getattr(manual, f"{stem}_backward")), cls
    for name in manual.__all__:
        assert getattr(manual, name).__doc__, f"{name} has no docstring"
    assert math.isinf(manual.rel_err(np.ones(2), np.zeros(2))) and manual.rel_err(np.zeros(2), np.zeros(2)) == 0


# ----------------------------------------------------------------------- fused models, reading a GPT


def test_compare_checks_a_fused_model_as_the_composed_one_and_leaves_it_fused(tmp_path) -> None:
    """The check is against the engine's own differentiation: a fused model (a checkpoint trained with
    --fused) gives the composed model's report, bit for bit, and stays fused."""
    from dataclasses import asdict

    from tinygrad_tx.checkpoint import save_checkpoint
    from tinygrad_tx.data import CharTokenizer
    from tinygrad_tx.train import load_model

    _, plain = gpt(lora_rank=2)
    _, fused = gpt(lora_rank=2)
    manual.fuse(fused)
    classes = [type(m) for m in fused.modules()]
    rng = np.random.default_rng(0)
    idx, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    assert str(manual.compare(fused, idx, targets)) == str(manual.compare(plain, idx, targets))
    assert [type(m) for m in fused.modules()] == classes and fused.config.fused

    tok = CharTokenizer.from_text("abcdefghij ")
    cfg, model = gpt(dtype=np.float32)
    manual.fuse(model)
    path = str(tmp_path / "fused.npz")
    save_checkpoint(path, {"kind": "train", "model_config": asdict(model.config), "dtype": "float32",
                           "tokenizer": tok.to_dict(), "model": dict(model.state_dict())})
    loaded, _, _ = load_model(path)
    assert loaded.config.fused and type(loaded.h[0].ln_1) is type(model.h[0].ln_1) is not nn.LayerNorm
    assert check("--checkpoint", path) == 0


def test_read_gpt_recognises_the_layers_by_their_classes() -> None:
    """Only nn.LayerNorm's eps counts (not any module with an ``eps``), and nn.LoRAConv1D's scaling."""
    class Probe(nn.Module):  # has the attributes the old duck typing looked for, and is no LayerNorm
        def __init__(self) -> None:
            super().__init__()
            self.eps, self.ndim_ = 1e-3, 8
            self.lora_A, self.scaling = np.ones(2), 3.0

    _, model = gpt(lora_rank=2)
    model.probe = Probe()
    P = manual.read_gpt(model)
    layers = ("attn.c_attn", "attn.c_proj", "mlp.c_proj")
    assert P.eps == 1e-5 and set(P.lora) == {f"h.{i}.{n}" for i in range(2) for n in layers}
    model.h[1].ln_2.eps = 1e-3
    with pytest.raises(ValueError, match="different eps"):
        manual.read_gpt(model)
