"""Every layer, and the whole GPT, against PyTorch in float64: forward, input and parameter gradients.

Tolerance: relative error ≤ 1e-10 per tensor (max |a - b| / max |b|), as the GPT issue states.
The tests that compare against torch take the `torch` fixture (tests/conftest.py): skipped without it.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Tensor, nn
from tinygrad_tx import functional as F
from tinygrad_tx.manual import build_gpt, fuse

from .helpers import rel_err

REL = 1e-10


def assert_close(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs torch {b.shape}"
    assert rel_err(a, b) <= REL, f"{what}: relative error {rel_err(a, b):.3g} > {REL}"


pytestmark = pytest.mark.usefixtures("float64_default")  # (tests/conftest.py)


def run_layer(layer, tlayer, x0: np.ndarray, transpose: set[str], int_input: bool = False) -> None:
    """Forward both, backward a random weighting of the output, compare output and every gradient."""
    import torch

    rng = np.random.default_rng(1)
    for name, p in layer.named_parameters():
        tp = dict(tlayer.named_parameters())[name]
        with torch.no_grad():
            a = p.detach().numpy()
            tp.copy_(torch.from_numpy(a.T.copy() if name in transpose else a.copy()))
    if int_input:
        x, tx_in = x0, torch.from_numpy(x0)
    else:
        x = Tensor(x0, requires_grad=True)
        tx_in = torch.from_numpy(x0.copy()).requires_grad_(True)
    y = layer(x)
    ty = tlayer(tx_in)
    assert_close(y.data, ty.detach().numpy(), "output")
    R = rng.standard_normal(y.shape)
    (y * Tensor(R)).sum().backward()
    (ty * torch.from_numpy(R)).sum().backward()
    if not int_input:
        assert_close(x.grad, tx_in.grad.numpy(), "input gradient")
    for name, p in layer.named_parameters():
        tg = dict(tlayer.named_parameters())[name].grad.numpy()
        assert_close(p.grad, tg.T if name in transpose else tg, f"{name} gradient")


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(shape, torch) -> None:
    run_layer(nn.Linear(4, 3), torch.nn.Linear(4, 3, dtype=torch.float64),
              np.random.default_rng(0).standard_normal(shape), set())  # torch's layout: nothing transposed


def test_linear_without_bias(torch) -> None:
    run_layer(nn.Linear(4, 3, bias=False), torch.nn.Linear(4, 3, bias=False, dtype=torch.float64),
              np.random.default_rng(0).standard_normal((2, 4)), set())


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_conv1d_is_a_linear_with_the_weight_transposed(shape, bias, torch) -> None:
    """GPT-2's Conv1D(nf=3, nx=4): weight (4, 3), a_prev w + b; torch's nn.Linear(4, 3) holds wᵀ."""
    layer = nn.Conv1D(3, 4, bias=bias)
    assert layer.weight.shape == (4, 3) and (layer.in_features, layer.out_features) == (4, 3)
    run_layer(layer, torch.nn.Linear(4, 3, bias=bias, dtype=torch.float64),
              np.random.default_rng(0).standard_normal(shape), {"weight"})


def test_embedding_with_repeated_indices(torch) -> None:
    idx = np.array([[1, 3, 1, 1], [0, 3, 5, 1]])
    run_layer(nn.Embedding(6, 5), torch.nn.Embedding(6, 5, dtype=torch.float64), idx, set(), int_input=True)


def test_embedding_rejects_out_of_range_and_negative_indices() -> None:
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match="index 4 is out of range for 4 embeddings"):
        emb(np.array([0, 4]))
    with pytest.raises(IndexError, match="index -1 is out of range"):
        emb(np.array([-1, 2]))


@pytest.mark.parametrize("shape", [(3, 6), (2, 4, 6)])
def test_layernorm(shape, torch) -> None:
    ln = nn.LayerNorm(6)
    ln.weight.data = Tensor(np.random.default_rng(2).standard_normal(6))
    ln.bias.data = Tensor(np.random.default_rng(3).standard_normal(6))
    run_layer(ln, torch.nn.LayerNorm(6, dtype=torch.float64), np.random.default_rng(0).standard_normal(shape), set())


def test_layernorm_of_constant_rows_is_finite() -> None:
    x = Tensor(np.full((2, 8), 3.0), requires_grad=True)
    y = nn.LayerNorm(8)(x)
    (y * Tensor(np.arange(8.0))).sum().backward()
    assert np.isfinite(y.detach().numpy()).all() and np.isfinite(x.grad.numpy()).all()


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(approximate, torch) -> None:
    run_layer(nn.GELU(approximate), torch.nn.GELU(approximate=approximate),
              np.random.default_rng(0).standard_normal((4, 7)) * 3, set())


def test_relu(torch) -> None:
    run_layer(nn.ReLU(), torch.nn.ReLU(), np.random.default_rng(0).standard_normal((4, 7)), set())


@pytest.mark.parametrize("n_head, B, T", [(1, 1, 1), (2, 2, 5), (3, 2, 4), (4, 3, 6)])
def test_causal_self_attention(n_head, B, T, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchAttention

    cfg = nn.GPTConfig(n_embd=12, n_head=n_head)
    attn = nn.CausalSelfAttention(12, n_head)
    run_layer(attn, TorchAttention(cfg, "attn").double(), np.random.default_rng(0).standard_normal((B, T, 12)),
              {"c_attn.weight", "c_proj.weight"})


@pytest.mark.parametrize("activation", ["gelu_tanh", "gelu", "relu"])
def test_block(activation, torch) -> None:
    from tinygrad_tx.torch_gpt import TorchBlock

    cfg = nn.GPTConfig(n_embd=8, n_head=2, activation=activation)
    block = nn.Block(8, 2, activation=activation)
    for name, p in block.named_parameters():  # non-trivial LayerNorm parameters
        if ".ln_" in "." + name:
            p.data = Tensor(np.random.default_rng(len(name)).standard_normal(p.shape))
    lin = {n for n, _ in block.named_parameters() if n.endswith("weight") and "ln_" not in n}
    run_layer(block, TorchBlock(cfg, "h.0").double(), np.random.default_rng(0).standard_normal((2, 5, 8)), lin)


def gpt(lora_rank: int = 0, **kw):
    cfg = nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, lora_rank=lora_rank,
                       lora_alpha=2.0, **kw)
    model = nn.GPT(cfg)
    rng = np.random.default_rng(5)
    for _name, p in model.named_parameters():  # random everything, including LoRA B (zero at init)
        p.data = Tensor(rng.standard_normal(p.shape) * 0.3)
    return cfg, model


def gpt_pair(lora_rank: int = 0, **kw):
    """`gpt` and the same model in torch (float64)."""
    from tinygrad_tx.torch_gpt import TorchGPT, copy_to_torch

    cfg, model = gpt(lora_rank, **kw)
    tmodel = TorchGPT(cfg).double()
    copy_to_torch(model, tmodel)
    return cfg, model, tmodel


@pytest.mark.parametrize("lora_rank, targets", [(0, ("c_attn", "c_proj")), (2, ("c_attn", "c_proj")),
                                                 (3, ("c_fc", "attn.c_proj"))])
def test_whole_gpt_loss_and_every_gradient(lora_rank, targets, torch) -> None:
    cfg, model, tmodel = gpt_pair(lora_rank, lora_targets=targets)
    rng = np.random.default_rng(6)
    idx, targets_ = rng.integers(0, 11, (3, 8)), rng.integers(0, 11, (3, 8))
    logits, loss = model(idx, targets_)
    tlogits, tloss = tmodel(torch.from_numpy(idx), torch.from_numpy(targets_))
    assert_close(logits.data, tlogits.detach().numpy(), "logits")
    assert abs(loss.item() - tloss.item()) <= REL * abs(tloss.item())
    loss.backward()
    tloss.backward()
    from tinygrad_tx.nn.torch_io import conv1d_weight_names

    lin = conv1d_weight_names(model)
    tparams = dict(tmodel.named_parameters())
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names, "something must train"
    for name, p in model.named_parameters():
        tg = tparams[name].grad
        if not p.requires_grad:
            assert p.grad is None, f"frozen {name} got a gradient"
            continue
        tg = tg.numpy()
        assert_close(p.grad, tg.T if name in lin else tg, f"{name} gradient")
    if lora_rank:
        assert all(n.endswith(("lora_A", "lora_B")) for n in names)


def test_lora_merge_and_unmerge_round_trip() -> None:
    cfg, model = gpt(2)
    idx = np.random.default_rng(0).integers(0, 11, (2, 8))
    before = model(idx)[0].data
    layer = model.h[0].attn.c_attn
    w0 = layer.weight.data.clone()
    for m in model.modules():
        if isinstance(m, nn.LoRALayer):
            m.merge()
    np.testing.assert_allclose(model(idx)[0].data, before, rtol=1e-12, atol=1e-12)
    for m in model.modules():
        if isinstance(m, nn.LoRALayer):
            m.unmerge()
    np.testing.assert_allclose(layer.weight.data, w0, rtol=0, atol=1e-14)


def test_extreme_logits_give_finite_loss_and_gradients(torch) -> None:
    logits = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 5.0]]), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([1, 0]))
    loss.backward()
    tl = torch.tensor(logits.detach().numpy(), requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tl, torch.tensor([1, 0]))
    tloss.backward()
    assert np.isfinite(loss.item()) and np.isfinite(logits.grad.numpy()).all()
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(logits.grad, tl.grad.numpy(), rtol=1e-12, atol=1e-300)
    s = F.softmax(logits, -1)
    assert np.isfinite(s.detach().numpy()).all()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_ignore_index(reduction, torch) -> None:
    rng = np.random.default_rng(0)
    x0, t0 = rng.standard_normal((6, 5)), np.array([1, -100, 4, 0, -100, 2])
    x = Tensor(x0, requires_grad=True)
    loss = F.cross_entropy(x, t0, ignore_index=-100, reduction=reduction)
    tx_in = torch.tensor(x0, requires_grad=True)
    tl = torch.nn.functional.cross_entropy(tx_in, torch.tensor(t0), ignore_index=-100, reduction=reduction)
    R = rng.standard_normal(loss.shape)
    (loss * Tensor(R)).sum().backward()
    (tl * torch.tensor(R)).sum().backward()
    assert_close(loss.data, tl.detach().numpy(), "loss")
    assert_close(x.grad, tx_in.grad.numpy(), "gradient")


def test_scaled_dot_product_attention_matches_torch(torch) -> None:
    rng = np.random.default_rng(0)
    q0, k0, v0 = (rng.standard_normal((2, 3, 5, 4)) for _ in range(3))
    q, k, v = (Tensor(a, requires_grad=True) for a in (q0, k0, v0))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q0, k0, v0))
    tout = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    R = rng.standard_normal(out.shape)
    (out * Tensor(R)).sum().backward()
    (tout * torch.tensor(R)).sum().backward()
    assert_close(out.data, tout.detach().numpy(), "output")
    for a, b in ((q, tq), (k, tk), (v, tv)):
        assert_close(a.grad, b.grad.numpy(), "gradient")


def test_dropout_is_seeded_and_off_in_eval() -> None:
    d = nn.Dropout(0.5)
    x = Tensor(np.ones((4, 4)))
    tx.manual_seed(3)
    a = d(x).data
    tx.manual_seed(3)
    b = d(x).data
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 2.0}
    d.eval()
    np.testing.assert_array_equal(d(x).data, x.data)


def test_module_api() -> None:
    cfg, model = gpt(0)
    names = [n for n, _ in model.named_parameters()]
    assert names[:3] == ["wte.weight", "wpe.weight", "h.0.ln_1.weight"]
    assert names[-1] == "lm_head.weight" and "h.1.mlp.c_proj.bias" in names
    assert model.h[0].attn.c_attn.weight.shape == (8, 24)
    assert model.lm_head.weight.shape == (8, 11)
    assert model.num_parameters() == sum(p.numel() for p in model.parameters())
    sd = model.state_dict()
    sd["h.0.attn.c_attn.weight"] = np.zeros((8, 3))
    before = {n: p.data.clone() for n, p in model.named_parameters()}
    with pytest.raises(ValueError, match=r"h.0.attn.c_attn.weight: shape \(8, 3\) in the state dict, \(8, 24\)"):
        model.load_state_dict(sd)
    for n, p in model.named_parameters():  # nothing half-loaded
        np.testing.assert_array_equal(p.data, before[n])
    model.eval()
    assert not model.h[0].attn.training
    model.requires_grad_(False)
    assert model.num_parameters(trainable_only=True) == 0
    assert "(c_attn): Conv1D(nf=24, nx=8)" in repr(model)


def test_generate_is_deterministic_for_a_seed() -> None:
    cfg, model = gpt(0)
    a = model.generate(np.array([[1, 2]]), 12, temperature=0.8, top_k=5, seed=7)
    b = model.generate(np.array([[1, 2]]), 12, temperature=0.8, top_k=5, seed=7)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (1, 14)
    greedy = model.generate(np.array([[1, 2]]), 3, temperature=0)
    logits, _ = model(np.array([[1, 2]]))
    assert greedy[0, 2] == logits.data[0, -1].argmax()


def test_torch_state_dict_round_trip(torch) -> None:
    from tinygrad_tx.nn import from_torch_state_dict, to_torch_state_dict

    cfg, model, tmodel = gpt_pair(0)
    other = nn.GPT(cfg)
    from_torch_state_dict(other, tmodel.state_dict())
    for (_n, p), (_, q) in zip(model.named_parameters(), other.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    sd = to_torch_state_dict(model)
    assert tuple(sd["h.0.attn.c_attn.weight"].shape) == (24, 8)


@pytest.mark.parametrize("activation", ["gelu_tanh", "gelu", "relu"])
@pytest.mark.parametrize("lora_rank, bias", [(0, True), (0, False), (2, True)])
def test_fused_gpt_equals_composed_gpt(activation, lora_rank, bias) -> None:
    """GPTConfig(fused=True): the hand-derived ops inside the engine give the composed results."""
    def build(fused: bool):
        tx.manual_seed(0)
        return build_gpt(nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, activation=activation,
                                      bias=bias, lora_rank=lora_rank, fused=fused))

    composed, fused = build(False), build(True)
    rng = np.random.default_rng(0)
    for (_, p), (_, q) in zip(composed.named_parameters(), fused.named_parameters()):
        p.data = Tensor(rng.standard_normal(p.shape) * 0.3)
        q.data = p.data.clone()
    idx, t = rng.integers(0, 11, (3, 8)), rng.integers(0, 11, (3, 8))
    la, lb = composed(idx, t)[1], fused(idx, t)[1]
    la.backward()
    lb.backward()
    assert abs(la.item() - lb.item()) <= 1e-14 * abs(la.item())
    for (name, p), (_, q) in zip(composed.named_parameters(), fused.named_parameters()):
        if p.grad is None:
            assert q.grad is None
            continue
        assert rel_err(q.grad, p.grad) <= 1e-12, name
    assert sum(type(n).__name__.startswith("Fused") for n in _graph_nodes(fused(idx, t)[1])) > 0


def _graph_nodes(t: Tensor) -> list:
    from tinygrad_tx.autograd import topological_order

    return topological_order([t.grad_fn])


def test_fused_ops_refuse_higher_order_gradients() -> None:
    x = Tensor(np.random.default_rng(0).standard_normal((2, 5)), requires_grad=True)
    ln = fuse(nn.LayerNorm(5))
    (g,) = tx.grad((ln(x) * Tensor(np.arange(5.0))).sum(), x)  # first order is fine
    assert g.shape == (2, 5)
    with pytest.raises(RuntimeError, match="cannot be differentiated again.*fused=False"):
        tx.grad((ln(x) * Tensor(np.arange(5.0))).sum(), x, create_graph=True)


# ------------------------------------------------------------------------------------- nn.init


def test_the_layers_draw_their_initial_weights_as_before() -> None:
    """Linear: W (out, in) then b from U(-1/√in, 1/√in), as torch draws them; Conv1D: w (in, out) then b
    likewise; Embedding: N(0, 1); LoRA's A as Linear's W, in the layout of each; all in row-major order."""
    tx.manual_seed(3)
    lin, emb = nn.Linear(5, 3, dtype=np.float32), nn.Embedding(4, 2)
    lora = nn.LoRAConv1D(nn.Conv1D(2, 6), rank=3)
    lora_lin = nn.LoRALinear(nn.Linear(6, 2), rank=3)
    rng, b = np.random.default_rng(3), 1 / np.sqrt(5)
    expected = [rng.uniform(-b, b, (3, 5)).astype(np.float32), rng.uniform(-b, b, 3).astype(np.float32),
                rng.standard_normal((4, 2))]
    rng.uniform(size=6 * 2 + 2)  # the base Conv1D(2, 6)
    expected.append(rng.uniform(-1 / np.sqrt(6), 1 / np.sqrt(6), (6, 3)))
    rng.uniform(size=6 * 2 + 2)  # the base Linear(6, 2)
    expected.append(rng.uniform(-1 / np.sqrt(6), 1 / np.sqrt(6), (3, 6)))  # PEFT's lora_A.weight (r, in)
    got = [p.detach().numpy() for p in (lin.weight, lin.bias, emb.weight, lora.lora_A, lora_lin.lora_A)]
    for e, g in zip(expected, got):
        assert e.dtype == g.dtype and e.tobytes() == g.tobytes()
    np.testing.assert_array_equal(lora.lora_B.data, np.zeros((3, 2)))
    np.testing.assert_array_equal(lora_lin.lora_B.data, np.zeros((2, 3)))


def test_the_gpt_initialisation_is_pinned() -> None:
    """GPT-2's N(0, 0.02) through nn.init gives the weights of before, bit for bit (a digest of the state dict)."""
    import hashlib

    tx.manual_seed(0)
    model = nn.GPT(nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, lora_rank=2))
    digest = hashlib.sha256(b"".join(a.numpy().tobytes() for a in model.state_dict().values())).hexdigest()
    assert digest[:16] == "e4a1f18d63b1473f"  # computed with the code before nn.init


def test_init_fills_in_place_without_recording() -> None:
    p = nn.Parameter(np.zeros((3, 4)))
    data_version = p._version
    assert nn.init.normal_(p, 1.0, 2.0) is p and p.requires_grad and p.grad_fn is None and p._version > data_version
    g1, g2 = np.random.default_rng(7), np.random.default_rng(7)
    before = _package_rng().bit_generator.state
    nn.init.uniform_(p, -1.0, 1.0, generator=g1)
    assert _package_rng().bit_generator.state == before
    np.testing.assert_array_equal(p.data, g2.uniform(-1.0, 1.0, (3, 4)))
    np.testing.assert_array_equal(nn.init.ones_(p).data, np.ones((3, 4)))
    np.testing.assert_array_equal(nn.init.zeros_(p).data, np.zeros((3, 4)))
    with pytest.raises(TypeError, match="uniform_: expected a Tensor"):
        nn.init.uniform_(np.zeros(3))
    with pytest.raises(TypeError, match="normal_: fills floating-point tensors only, got dtype int64"):
        nn.init.normal_(Tensor(np.zeros(3, dtype=np.int64)))
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator"):
        nn.init.uniform_(p, generator=3)


def _package_rng() -> np.random.Generator:
    import sys

    return sys.modules["tinygrad_tx._random"]._generator()


@pytest.mark.parametrize("shape", [(5, 3), (4, 6, 2, 2)])
def test_kaiming_and_xavier_follow_torch_for_the_same_layer(shape, torch) -> None:
    """A weight (out, in, *k), nn.Linear's layout, has the fans and the bound torch gives it."""
    init, tinit = nn.init, torch.nn.init
    torch_shape = shape
    assert init.fans(Tensor(np.empty(shape))) == tinit._calculate_fan_in_and_fan_out(torch.empty(torch_shape))
    for nonlinearity, a in [("leaky_relu", 0), ("leaky_relu", 5 ** 0.5), ("relu", 0), ("tanh", 0), ("selu", 0),
                            ("linear", 0), ("sigmoid", 0), ("leaky_relu", None)]:
        assert init.calculate_gain(nonlinearity, a) == tinit.calculate_gain(nonlinearity, a)
    for mode in ("fan_in", "fan_out"):
        fan = tinit._calculate_correct_fan(torch.empty(torch_shape), mode)
        bound = 3.0 ** 0.5 * (tinit.calculate_gain("relu") / fan ** 0.5)
        w = init.kaiming_uniform_(Tensor(np.empty(shape)), mode=mode, nonlinearity="relu",
                                  generator=np.random.default_rng(1))
        assert w.detach().numpy().tobytes() == np.random.default_rng(1).uniform(-bound, bound, shape).tobytes()
    fan_in, fan_out = tinit._calculate_fan_in_and_fan_out(torch.empty(torch_shape))
    a = 3.0 ** 0.5 * (2.0 * (2.0 / float(fan_in + fan_out)) ** 0.5)
    w = init.xavier_uniform_(Tensor(np.empty(shape)), gain=2.0, generator=np.random.default_rng(2))
    assert w.detach().numpy().tobytes() == np.random.default_rng(2).uniform(-a, a, shape).tobytes()


def test_init_refuses_what_torch_refuses_with_its_messages(torch) -> None:
    def message(fn, *args, **kwargs) -> tuple[type, str]:
        with pytest.raises(Exception) as info:
            fn(*args, **kwargs)
        return type(info.value), str(info.value)

    x, tx_ = Tensor(np.empty((2, 3))), torch.empty(2, 3)
    for name, args, kwargs in [("uniform_", (1.0, 0.0), {}), ("normal_", (0.0, -1.0), {}),
                               ("kaiming_uniform_", (), {"mode": "fan_x"}),
                               ("kaiming_uniform_", (), {"nonlinearity": "bogus"}),
                               ("kaiming_uniform_", ("a",), {})]:
        assert message(getattr(nn.init, name), x, *args, **kwargs) == \
            message(getattr(torch.nn.init, name), tx_, *args, **kwargs), name
    for name in ("kaiming_uniform_", "xavier_uniform_"):
        assert message(getattr(nn.init, name), Tensor(np.empty(3))) == \
            message(getattr(torch.nn.init, name), torch.empty(3))
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        nn.init.kaiming_uniform_(Tensor(np.empty((0, 3))))


# ------------------------------------------------------------------------------ fusion, a swap


def test_nn_gpt_refuses_a_fused_config_and_build_gpt_fuses() -> None:
    cfg = nn.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8, fused=True)
    with pytest.raises(ValueError, match=r"GPT: GPTConfig\(fused=True\).*manual.build_gpt\(config\)"):
        nn.GPT(cfg)
    tx.manual_seed(4)
    fused = build_gpt(cfg)
    tx.manual_seed(4)
    plain = build_gpt(nn.GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    assert fused.config.fused and not plain.config.fused
    assert type(fused).__module__ == "tinygrad_tx.manual.fused" and type(plain) is nn.GPT
    for (n, p), (_, q) in zip(fused.state_dict().items(), plain.state_dict().items()):
        assert p.numpy().tobytes() == q.numpy().tobytes(), n
    with pytest.raises(TypeError, match="build_gpt: expected an nn.GPTConfig"):
        build_gpt({"n_layer": 1})


def test_fuse_swaps_the_classes_in_place_and_unfuse_undoes_it() -> None:
    from tinygrad_tx.manual import unfuse

    model = nn.GPT(nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, lora_rank=2))
    params, text = [id(p) for p in model.parameters()], repr(model)
    classes = [type(m) for m in model.modules()]
    assert fuse(model) is model and model.config.fused
    assert [id(p) for p in model.parameters()] == params and repr(model) == text
    swapped = {type(m).__name__ for m in model.modules() if type(m).__module__ == "tinygrad_tx.manual.fused"}
    assert swapped == {"GPT", "LayerNorm", "GELU", "CausalSelfAttention"}
    assert all(isinstance(m, cls) for m, cls in zip(model.modules(), classes))  # subclasses of the nn layers
    assert unfuse(model) is model and not model.config.fused
    assert [type(m) for m in model.modules()] == classes
    with pytest.raises(TypeError, match="fuse: expected an nn.Module, got dict"):
        fuse({})

    class MyNorm(nn.LayerNorm):  # a subclass may compute something else: left alone
        pass

    assert type(fuse(MyNorm(4))) is MyNorm


def test_the_fused_attention_keeps_todays_conditions() -> None:
    """The core is one FusedCausalAttention node, except with keep_attention or with dropout in training."""
    def core_nodes(attn: nn.CausalSelfAttention) -> list[str]:
        x = Tensor(np.random.default_rng(0).standard_normal((2, 5, 8)), requires_grad=True)
        return [type(n).__name__ for n in _graph_nodes(attn(x).sum())]

    attn = fuse(nn.CausalSelfAttention(8, 2, dropout=0.5))
    assert "FusedCausalAttention" not in core_nodes(attn)  # training, dropout 0.5
    attn.eval()
    assert "FusedCausalAttention" in core_nodes(attn)
    attn.keep_attention = True
    assert "FusedCausalAttention" not in core_nodes(attn) and attn.attention.shape == (2, 2, 5, 5)
    no_dropout = fuse(nn.CausalSelfAttention(8, 2))
    assert "FusedCausalAttention" in core_nodes(no_dropout)  # training without dropout


def test_nn_never_imports_manual() -> None:
    import ast
    from pathlib import Path

    for path in Path(nn.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [f"{'.' * node.level}{node.module or ''}"] + [a.name for a in node.names]
                     if isinstance(node, ast.ImportFrom) else [])
            assert not any("manual" in n for n in names), f"{path.name} imports {names}"


# ---------------------------------------------------------------------------------- nn.tap / record


def test_tap_returns_its_argument_and_record_keeps_the_named_points() -> None:
    from tinygrad_tx import manual

    t = Tensor(np.ones(3))
    assert nn.tap("x", t) is t
    model = nn.GPT(nn.GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8, lora_rank=2))
    idx = np.random.default_rng(0).integers(0, 11, (3, 6))
    ref_logits, ref_loss = model(idx, idx)
    w = Tensor(np.ones(3), requires_grad=True)
    with nn.record() as kept:
        with nn.record() as inner:
            assert nn.tap("w", w) is w and inner == {"w": w}
            c = nn.tap("c", t)  # needs no gradient: recorded as a leaf with the same values that does
            assert c is not t and c.requires_grad and c._data is t._data and inner["c"] is c
        assert kept == {}  # the inner recording ended
        logits, loss = model(idx, idx)
    assert set(manual.delta_names(2)) <= set(kept) and kept["logits"] is logits
    assert loss.detach().numpy().tobytes() == ref_loss.detach().numpy().tobytes()
    assert logits.detach().numpy().tobytes() == ref_logits.detach().numpy().tobytes()
    loss.backward()
    assert kept["h.1.attn.rho"].grad.shape == (3, 2, 6, 6)
    assert kept["emb.out"].grad.shape == (3, 6, 8)  # under LoRA too: the frozen embeddings' output gets Δ
    assert model.wte.weight.grad is None  # and the frozen weights still do not
    assert nn.tap("x", t) is t  # off again
