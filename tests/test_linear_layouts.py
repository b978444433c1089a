"""The two linear layouts against PyTorch (float64): ``nn.Linear`` is ``torch.nn.Linear`` (weight (out, in),
``x Wᵀ + b``), so a torch state dict loads unchanged and nanoGPT's tied ``lm_head.weight = wte.weight``
works; ``nn.Conv1D`` is GPT-2's (weight (in, out), ``x w + b``, HF transformers' ``Conv1D(nf, nx)``); LoRA
wraps each in its own layout (PEFT's for Linear).

Tolerance: relative error (max |a - b| / max |b|) ≤ 1e-13 per tensor. These are a few float64 matrix
products each, where torch's fused ``addmm`` and our matmul-then-add round differently by ~1e-16.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tinygrad_tx import Tensor, nn
from tinygrad_tx.nn import functional as F

from .helpers import assert_close

REL = 1e-13

pytestmark = pytest.mark.usefixtures("float64_default")  # (tests/conftest.py)


def randomize(model: nn.Module, seed: int, scale: float = 0.5) -> None:
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.data = Tensor(rng.standard_normal(p.shape) * scale)


def torch_grads(tmodel) -> dict[str, np.ndarray]:
    return {n: p.grad.numpy() for n, p in tmodel.named_parameters() if p.grad is not None}


def our_grads(model: nn.Module) -> dict[str, np.ndarray]:
    return {n: p.grad.numpy() for n, p in model.named_parameters() if p.grad is not None}


def backward_both(y: Tensor, ty, seed: int = 1) -> None:
    """Backpropagate the same random weighting of the output through both."""
    import torch

    r = np.random.default_rng(seed).standard_normal(y.shape)
    (y * Tensor(r)).sum().backward()
    (ty * torch.from_numpy(r)).sum().backward()


# ------------------------------------------------------------------------------- nn.Linear: torch's layout


def test_linear_stores_torchs_out_by_in_weight_and_prints_as_torch(torch) -> None:
    lin, tlin = nn.Linear(5, 3), torch.nn.Linear(5, 3)
    assert lin.weight.shape == tuple(tlin.weight.shape) == (3, 5) and lin.bias.shape == (3,)
    theirs = [(n, tuple(p.shape)) for n, p in tlin.named_parameters()]
    assert [(n, p.shape) for n, p in lin.named_parameters()] == theirs
    assert repr(lin) == repr(tlin) == "Linear(in_features=5, out_features=3, bias=True)"
    assert repr(nn.Linear(5, 3, bias=False)) == repr(torch.nn.Linear(5, 3, bias=False))
    bound = 1 / math.sqrt(5)  # torch's kaiming_uniform_(a=√5) bound, for W and b
    assert np.abs(lin.weight.detach().numpy()).max() <= bound and np.abs(lin.bias.detach().numpy()).max() <= bound
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(tlin.weight)
    assert nn.init.fans(lin.weight) == (fan_in, fan_out) == (5, 3)


class TorchMLP:
    """Built inside the tests (torch is imported lazily): the same two-layer network in torch."""

    @staticmethod
    def make(torch, n_in: int, n_hidden: int, n_out: int):
        class MLP(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.fc1 = torch.nn.Linear(n_in, n_hidden)
                self.fc2 = torch.nn.Linear(n_hidden, n_out, bias=False)

            def forward(self, x):
                return self.fc2(torch.nn.functional.gelu(self.fc1(x)))

        return MLP().double()


class MLP(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_out: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(n_in, n_hidden)
        self.fc2 = nn.Linear(n_hidden, n_out, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x)))


@pytest.mark.parametrize("through", ["from_torch_state_dict", "numpy arrays"])
@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4), (4,)])
def test_a_torch_linear_state_dict_loads_unchanged_and_gives_torchs_output_and_gradients(through, shape, torch) -> None:
    torch.manual_seed(0)
    tmodel, model = TorchMLP.make(torch, 4, 7, 3), MLP(4, 7, 3)
    sd = tmodel.state_dict()
    if through == "numpy arrays":  # no conversion at all: the arrays as torch holds them
        assert not model.load_state_dict({k: v.numpy() for k, v in sd.items()}).missing_keys
    else:
        nn.from_torch_state_dict(model, sd)
    for name, p in model.named_parameters():
        assert p.detach().numpy().tobytes() == sd[name].numpy().tobytes(), f"{name} was changed on the way"
    x0 = np.random.default_rng(2).standard_normal(shape)
    x, tx_in = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = model(x), tmodel(tx_in)
    assert_close(y.data, ty.detach().numpy(), REL, "output")
    backward_both(y, ty)
    assert_close(x.grad, tx_in.grad.numpy(), REL, "input gradient")
    tg = torch_grads(tmodel)
    assert list(our_grads(model)) == list(tg) == ["fc1.weight", "fc1.bias", "fc2.weight"]
    for name, g in our_grads(model).items():
        assert_close(g, tg[name], REL, f"{name} gradient")  # in torch's layout: not transposed
    back = nn.to_torch_state_dict(model)  # and back: torch takes ours as it is
    assert all(torch.equal(back[k], v) for k, v in sd.items())
    assert not TorchMLP.make(torch, 4, 7, 3).load_state_dict(back, strict=True).missing_keys


def test_linear_refuses_bad_inputs_naming_the_layer() -> None:
    lin = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"^Linear\(4, 3\): input has 3 features \(shape \(2, 3\)\), expected 4$"):
        lin(Tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"^Linear\(4, 3\): input is 0-d"):
        lin(Tensor(1.0))
    with pytest.raises(ValueError, match=r"weight: shape \(4, 3\) in the state dict, \(3, 4\)"):  # the old layout
        lin.load_state_dict({"weight": np.zeros((4, 3)), "bias": np.zeros(3)})


# ------------------------------------------------------------------------------- weight tying, nanoGPT's


def tied_lm(torch_nn, V: int, d: int):
    """nanoGPT's tie: ``wte.weight = lm_head.weight``, an Embedding(V, d) and a Linear(d, V) sharing one (V, d)
    matrix; the logits are ``lm_head(LN(wte(idx)))``. ``torch_nn`` is ``torch.nn`` or ``tinygrad_tx.nn``."""

    class TiedLM(torch_nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = torch_nn.Embedding(V, d)
            self.ln_f = torch_nn.LayerNorm(d)
            self.lm_head = torch_nn.Linear(d, V, bias=False)
            self.wte.weight = self.lm_head.weight

        def forward(self, idx):
            return self.lm_head(self.ln_f(self.wte(idx)))

    return TiedLM()


def test_tying_an_embedding_to_a_linear_accumulates_both_gradients_like_torch(torch) -> None:
    V, d = 7, 4
    model, tmodel = tied_lm(nn, V, d), tied_lm(torch.nn, V, d).double()
    assert model.wte.weight is model.lm_head.weight and model.wte.weight.shape == (V, d)
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in tmodel.named_parameters()]  # the tie once
    assert list(model.state_dict()) == list(tmodel.state_dict())  # and under both names
    randomize(model, 3)
    tmodel.load_state_dict(nn.to_torch_state_dict(model), strict=True)
    assert tmodel.wte.weight is tmodel.lm_head.weight
    rng = np.random.default_rng(4)
    idx, targets = rng.integers(0, V, (3, 5)), rng.integers(0, V, 15)
    idx[0, :3] = 2  # a repeated token: its row's gradient is a sum over the lookups too
    loss = F.cross_entropy(model(idx).reshape(15, V), targets)
    tloss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(idx)).reshape(15, V), torch.from_numpy(targets))
    assert abs(loss.item() - tloss.item()) <= REL * abs(tloss.item())
    loss.backward()
    tloss.backward()
    grad = model.lm_head.weight.grad
    assert_close(grad, tmodel.lm_head.weight.grad.numpy(), REL, "tied weight's gradient")
    # it is the sum of the two uses' gradients: the same model untied, with the same numbers in both
    untied = tied_lm(nn, V, d)
    untied.wte.weight = nn.Parameter(model.wte.weight.data.clone())
    untied.load_state_dict(model.state_dict())
    F.cross_entropy(untied(idx).reshape(15, V), targets).backward()
    as_embedding, as_head = untied.wte.weight.grad.numpy(), untied.lm_head.weight.grad.numpy()
    assert np.abs(as_embedding).max() > 0 and np.abs(as_head).max() > 0
    assert_close(grad, as_embedding + as_head, 1e-15, "tied = embedding's + head's")
    other = tied_lm(nn, V, d)
    nn.from_torch_state_dict(other, tmodel.state_dict())
    assert other.wte.weight is other.lm_head.weight
    assert other.wte.weight.detach().numpy().tobytes() == tmodel.wte.weight.detach().numpy().tobytes()


def test_a_gpt_with_nanogpts_tied_lm_head_matches_torch_and_the_manual_path_refuses_it(torch) -> None:
    """lm_head replaced by an nn.Linear(d, V) tied to wte, in ours and in the PyTorch oracle: the same loss
    and gradients. The hand derivations read GPT-2's Conv1D layout, so they refuse such a GPT."""
    from tinygrad_tx import manual
    from tinygrad_tx.torch_gpt import TorchGPT

    cfg = nn.GPTConfig(vocab_size=11, block_size=6, n_layer=1, n_head=2, n_embd=8)
    model, tmodel = nn.GPT(cfg), TorchGPT(cfg).double()
    model.lm_head = nn.Linear(8, 11, bias=False)
    model.wte.weight = model.lm_head.weight
    tmodel.wte.weight = tmodel.lm_head.weight
    randomize(model, 5, 0.3)
    sd = nn.to_torch_state_dict(model)
    assert tuple(sd["lm_head.weight"].shape) == (11, 8) and torch.equal(sd["lm_head.weight"], sd["wte.weight"])
    assert tuple(sd["h.0.attn.c_attn.weight"].shape) == (24, 8)  # a Conv1D, transposed to nn.Linear's
    tmodel.load_state_dict(sd, strict=True)
    rng = np.random.default_rng(6)
    idx, targets = rng.integers(0, 11, (2, 6)), rng.integers(0, 11, (2, 6))
    _, loss = model(idx, targets)
    _, tloss = tmodel(torch.from_numpy(idx), torch.from_numpy(targets))
    assert abs(loss.item() - tloss.item()) <= REL * abs(tloss.item())
    loss.backward()
    tloss.backward()
    conv1d, tg = nn.torch_io.conv1d_weight_names(model), torch_grads(tmodel)
    assert list(our_grads(model)) == list(tg)
    for name, g in our_grads(model).items():
        assert_close(g, tg[name].T if name in conv1d else tg[name], REL, f"{name} gradient")
    with pytest.raises(ValueError, match=r"^read_gpt: lm_head is an nn.Linear, weight \(out, in\).*nn.Conv1D"):
        manual.gpt_backward(model, idx, targets)


# ------------------------------------------------------------------------------- nn.Conv1D: GPT-2's layout


def hf_conv1d(torch, nf: int, nx: int):
    """HF transformers' ``Conv1D`` as it is written there: weight (nx, nf), ``addmm(b, x, w)``."""

    class Conv1D(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.nf = nf
            self.weight = torch.nn.Parameter(torch.empty(nx, nf, dtype=torch.float64))
            self.bias = torch.nn.Parameter(torch.zeros(nf, dtype=torch.float64))
            torch.nn.init.normal_(self.weight, std=0.02)

        def forward(self, x):
            size_out = x.size()[:-1] + (self.nf,)
            return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(size_out)

    return Conv1D()


@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 4), (1, 1, 4)])
def test_conv1d_is_hf_transformers_conv1d(shape, torch) -> None:
    conv, hf = nn.Conv1D(3, 4), hf_conv1d(torch, 3, 4)  # Conv1D(nf, nx): 3 outputs, 4 inputs
    assert conv.weight.shape == tuple(hf.weight.shape) == (4, 3) and (conv.nf, conv.nx) == (3, 4)
    assert repr(conv) == "Conv1D(nf=3, nx=4)" and repr(nn.Conv1D(3, 4, bias=False)) == "Conv1D(nf=3, nx=4, bias=False)"
    with torch.no_grad():
        hf.bias.normal_()
    conv.load_state_dict({k: v.numpy() for k, v in hf.state_dict().items()})  # as it is: both hold (in, out)
    with pytest.raises(ValueError, match=r"weight: shape \(3, 4\) in the state dict, \(4, 3\) in the model"):
        nn.from_torch_state_dict(conv, hf.state_dict())  # which expects nanoGPT's nn.Linear (out, in) there
    x0 = np.random.default_rng(3).standard_normal(shape)
    x, tx_in = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = conv(x), hf(tx_in)
    assert_close(y.data, ty.detach().numpy(), REL, "output")
    backward_both(y, ty)
    assert_close(x.grad, tx_in.grad.numpy(), REL, "input gradient")
    tg = torch_grads(hf)
    for name, g in our_grads(conv).items():
        assert_close(g, tg[name], REL, f"{name} gradient")
    # the same layer as an nn.Linear holds wᵀ
    lin = nn.Linear(4, 3)
    lin.load_state_dict({"weight": conv.weight.data.T, "bias": conv.bias.data})
    assert_close(lin(Tensor(x0)).data, y.data, REL, "Linear with wᵀ")


def test_conv1d_refuses_bad_arguments_and_inputs_naming_the_layer() -> None:
    with pytest.raises(ValueError, match=r"^Conv1D: nf must be >= 0, got -1$"):
        nn.Conv1D(-1, 2)
    with pytest.raises(TypeError, match=r"^Conv1D: nx must be an int, got 2.5"):
        nn.Conv1D(3, 2.5)
    conv = nn.Conv1D(3, 4)
    with pytest.raises(ValueError, match=r"^Conv1D\(nf=3, nx=4\): input has 3 features \(shape \(2, 3\)\), expected 4"):
        conv(Tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"^Conv1D\(nf=3, nx=4\): input is 0-d"):
        conv(Tensor(1.0))


# ------------------------------------------------------------------------------- LoRA on both


def peft_lora_linear(torch, base, rank: int, alpha: float):
    """PEFT's LoRA on an nn.Linear: ``base(x) + s · lora_B(lora_A(x))`` with ``lora_A.weight`` (r, in) and
    ``lora_B.weight`` (out, r), as plain parameters named as ours."""

    class LoRA(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.weight, self.bias = base.weight, base.bias
            self.lora_A = torch.nn.Parameter(torch.zeros(rank, base.in_features, dtype=torch.float64))
            self.lora_B = torch.nn.Parameter(torch.zeros(base.out_features, rank, dtype=torch.float64))
            self.scaling = alpha / rank

        def forward(self, x):
            lora = torch.nn.functional.linear(torch.nn.functional.linear(x, self.lora_A), self.lora_B)
            return torch.nn.functional.linear(x, self.weight, self.bias) + lora * self.scaling

    return LoRA()


@pytest.mark.parametrize("shape, rank", [((5, 6), 1), ((2, 3, 6), 2), ((6,), 3)])
def test_lora_linear_is_peft_lora_on_torchs_linear(shape, rank, torch) -> None:
    lora = nn.LoRALinear(nn.Linear(6, 4), rank, alpha=3.0)
    assert lora.lora_A.shape == (rank, 6) and lora.lora_B.shape == (4, rank) and not lora.lora_B.data.any()
    assert [n for n, _ in lora.named_parameters()] == ["weight", "bias", "lora_A", "lora_B"]
    randomize(lora, 7)
    tlora = peft_lora_linear(torch, torch.nn.Linear(6, 4).double(), rank, 3.0)
    tlora.load_state_dict(nn.to_torch_state_dict(lora), strict=True)  # every array as it is
    tlora.weight.requires_grad_(False)
    tlora.bias.requires_grad_(False)
    x0 = np.random.default_rng(8).standard_normal(shape)
    x, tx_in = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = lora(x), tlora(tx_in)
    assert_close(y.data, ty.detach().numpy(), REL, "output")
    backward_both(y, ty)
    assert_close(x.grad, tx_in.grad.numpy(), REL, "input gradient (with the frozen path)")
    tg = torch_grads(tlora)
    assert list(our_grads(lora)) == list(tg) == ["lora_A", "lora_B"]  # W₀, b₀ frozen
    for name, g in our_grads(lora).items():
        assert_close(g, tg[name], REL, f"{name} gradient")


@pytest.mark.parametrize("lora_class, base", [(nn.LoRALinear, lambda: nn.Linear(6, 4)),
                                              (nn.LoRAConv1D, lambda: nn.Conv1D(4, 6))])
def test_merging_adds_the_update_in_the_weights_own_layout(lora_class, base) -> None:
    layer = base()
    lora = lora_class(layer, rank=2, alpha=4.0)
    randomize(lora, 9)
    x = Tensor(np.random.default_rng(10).standard_normal((3, 6)))
    before, w0 = lora(x).data, lora.weight.data.clone()
    A, B = lora.lora_A.data, lora.lora_B.data
    low_rank = B @ A if lora_class is nn.LoRALinear else A @ B  # ΔW, shaped as W: (out, in) or (in, out)
    assert low_rank.shape == w0.shape and np.array_equal(lora.delta_weight(), low_rank * 2.0)
    lora.merge()
    assert_close(lora.weight.data, w0 + 2.0 * low_rank, 0.0, "merged weight")
    assert_close(lora(x).data, before, 1e-13, "merged output")
    lora.unmerge()
    assert_close(lora.weight.data, w0, 0.0, "unmerged weight", atol=1e-15)
    assert layer.weight is lora.weight  # the base layer's own parameter throughout
    with pytest.raises(TypeError, match=rf"^{lora_class.__name__}: base must be an nn.{type(layer).__name__} "
                                        rf"\(not already wrapped\), got {lora_class.__name__}"):
        lora_class(lora, rank=2)


def test_apply_lora_wraps_each_layout_in_its_own_class_and_the_lora_state_dict_restores_it() -> None:
    class Mixed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Conv1D(5, 4)  # GPT-2's layer
            self.head = nn.Linear(5, 3)  # torch's
            self.other = nn.Linear(3, 3)

        def forward(self, x: Tensor) -> Tensor:
            return self.other(self.head(self.proj(x).relu()))

    def build() -> Mixed:
        m = Mixed()
        randomize(m, 11)
        return m

    model = build()
    assert nn.apply_lora(model, ("proj", "head"), rank=2, alpha=2.0) == ["proj", "head"]
    assert type(model.proj) is nn.LoRAConv1D and type(model.head) is nn.LoRALinear and type(model.other) is nn.Linear
    assert "(proj): LoRAConv1D(nf=5, nx=4, rank=2, alpha=2.0)" in repr(model)
    assert "(head): LoRALinear(in_features=5, out_features=3, bias=True, rank=2, alpha=2.0)" in repr(model)
    shapes = {n: a.shape for n, a in nn.lora_state_dict(model).items()}
    assert shapes == {"proj.lora_A": (4, 2), "proj.lora_B": (2, 5), "head.lora_A": (2, 5), "head.lora_B": (3, 2)}
    assert [n for n, p in model.named_parameters() if p.requires_grad] == list(shapes)
    rng = np.random.default_rng(12)
    for p in (model.proj.lora_B, model.head.lora_B):  # as if trained
        p.data = Tensor(rng.standard_normal(p.shape))
    x = Tensor(rng.standard_normal((2, 4)))
    saved, out = nn.lora_state_dict(model), model(x).detach().numpy()
    fresh = build()  # the same base weights
    nn.apply_lora(fresh, ("proj", "head"), rank=2, alpha=2.0)
    assert not np.array_equal(fresh(x).data, out)
    result = fresh.load_state_dict(saved, strict=False)
    assert not result.unexpected_keys and set(result.missing_keys) == set(fresh.state_dict()) - set(saved)
    assert fresh(x).detach().numpy().tobytes() == out.tobytes()
    with pytest.raises(ValueError, match=r"^apply_lora: no Linear or Conv1D layer matches \['nothing'\]$"):
        nn.apply_lora(build(), "nothing")
