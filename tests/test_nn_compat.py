"""Module API and layer options a PyTorch user relies on, checked against torch (float64).

Regression tests for mismatches found by a differential probe: parameter order after LoRA
wrapping, LoRA on ``lm_head`` in the torch oracle, tied (shared) parameters and modules in state
dicts, ``LayerNorm(elementwise_affine=False)`` and tuple ``normalized_shape``, ``Dropout(p=1)``,
``load_state_dict``'s return value, ``Module.zero_grad(set_to_none=False)``, ``train(mode)``
validation, and a clear error for 2-D input to attention. The tests that compare against torch take
the `torch` fixture (tests/conftest.py): without torch they are skipped, the rest run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from tinygrad_tx import Tensor, nn
from tinygrad_tx.manual import fuse

from .helpers import rel_err

if TYPE_CHECKING:
    import torch

REL = 1e-10


pytestmark = pytest.mark.usefixtures("float64_default")  # (tests/conftest.py)


def randomize(model: nn.Module, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.data = Tensor(rng.standard_normal(p.shape) * 0.4)


def compare_forward_backward(ours: nn.Module, theirs: torch.nn.Module, x0: np.ndarray) -> None:
    """Copy our weights into torch (through to_torch_state_dict), then compare the output, the
    input gradient and every parameter gradient (Conv1D weights transposed to torch's nn.Linear)."""
    import torch

    theirs.load_state_dict(nn.to_torch_state_dict(ours), strict=True)
    x, tx_in = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = ours(x), theirs(tx_in)
    assert rel_err(y.data, ty.detach().numpy()) <= REL
    r = np.random.default_rng(1).standard_normal(y.shape)
    (y * Tensor(r)).sum().backward()
    (ty * torch.from_numpy(r)).sum().backward()
    assert rel_err(x.grad, tx_in.grad.numpy()) <= REL
    conv1d = nn.torch_io.conv1d_weight_names(ours)
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for name, p in ours.named_parameters():
        tg = tparams[name].grad.numpy()
        assert rel_err(p.grad, tg.T if name in conv1d else tg) <= REL, name


# ----------------------------------------------------------------------------- parameter order


def test_lora_wrapping_keeps_the_parameter_order_of_torch(torch) -> None:
    """apply_lora replaces c_attn by setattr: it must stay where it was (before c_proj), as in torch."""
    from tinygrad_tx.torch_gpt import TorchGPT

    cfg = nn.GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=2, n_embd=4, lora_rank=2, lora_targets=("c_attn",))
    model, tmodel = nn.GPT(cfg), TorchGPT(cfg)
    names = [n for n, _ in model.named_parameters()]
    assert names == [n for n, _ in tmodel.named_parameters()]
    assert names.index("h.0.attn.c_attn.weight") < names.index("h.0.attn.c_proj.weight")
    assert list(model.state_dict()) == list(tmodel.state_dict())


def test_replacing_a_parameter_keeps_its_place() -> None:
    lin = nn.Linear(2, 3)
    lin.weight = nn.Parameter(np.zeros((3, 2)))
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert [n for n, _ in lin.named_parameters(recurse=False)] == ["weight", "bias"]


def test_lora_on_lm_head_matches_torch(torch) -> None:
    from tinygrad_tx.torch_gpt import TorchGPT, copy_to_torch

    cfg = nn.GPTConfig(vocab_size=7, block_size=5, n_layer=1, n_head=2, n_embd=4, lora_rank=2,
                       lora_targets=("lm_head", "c_attn"))
    model = nn.GPT(cfg)
    randomize(model, 2)
    tmodel = TorchGPT(cfg).double()
    copy_to_torch(model, tmodel)  # the oracle has lm_head.lora_A / lora_B too
    for n, p in tmodel.named_parameters():
        p.requires_grad_(n.endswith(("lora_A", "lora_B")))
    rng = np.random.default_rng(3)
    idx, tgt = rng.integers(0, 7, (2, 5)), rng.integers(0, 7, (2, 5))
    _, loss = model(idx, tgt)
    _, tloss = tmodel(torch.from_numpy(idx), torch.from_numpy(tgt))
    assert abs(loss.item() - tloss.item()) <= REL * abs(tloss.item())
    loss.backward()
    tloss.backward()
    tparams = dict(tmodel.named_parameters())
    for name, p in model.named_parameters():
        assert (p.grad is None) == (tparams[name].grad is None), name
        if p.grad is not None:
            assert rel_err(p.grad, tparams[name].grad.numpy()) <= REL, name


# ----------------------------------------------------------------------------- shared parameters


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)
        self.b.weight = self.a.weight

    def forward(self, x: Tensor) -> Tensor:
        return self.b(self.a(x).relu())


def test_tied_weights_state_dict_and_gradients_match_torch(torch) -> None:
    class TorchTied(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Linear(4, 4)
            self.b = torch.nn.Linear(4, 4)
            self.b.weight = self.a.weight

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(self.a(x).relu())

    model, tmodel = Tied(), TorchTied().double()
    assert len(list(model.parameters())) == 3  # the tied weight once
    assert list(model.state_dict()) == list(tmodel.state_dict()) == ["a.weight", "a.bias", "b.weight", "b.bias"]
    compare_forward_backward(model, tmodel, np.random.default_rng(0).standard_normal((3, 4)))
    other = Tied()
    assert not other.load_state_dict(model.state_dict()).missing_keys
    np.testing.assert_array_equal(other.b.weight.data, model.a.weight.data)
    nn.from_torch_state_dict(other, tmodel.state_dict())
    assert other.a.weight is other.b.weight


def test_a_module_used_twice_is_saved_under_both_names_and_wrapped_once_by_lora(torch) -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = nn.Linear(3, 3)
            self.l2 = self.l1

        def forward(self, x: Tensor) -> Tensor:
            return self.l2(self.l1(x))

    class TorchTwice(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.l1 = torch.nn.Linear(3, 3)
            self.l2 = self.l1

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.l2(self.l1(x))

    model, tmodel = Twice(), TorchTwice().double()
    assert list(model.state_dict()) == list(tmodel.state_dict())
    assert [n for n, _ in model.named_modules()] == [n for n, _ in tmodel.named_modules()]
    compare_forward_backward(model, tmodel, np.random.default_rng(0).standard_normal((2, 3)))
    assert nn.apply_lora(model, ("l1", "l2"), rank=2) == ["l1", "l2"]
    assert model.l1 is model.l2 and isinstance(model.l1, nn.LoRALinear)


# ----------------------------------------------------------------------------- layers


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize(
    "shape, kwargs",
    [(6, dict(elementwise_affine=False)), ((6,), dict()), ((4, 6), dict()), ((4, 6), dict(bias=False)),
     ((4, 6), dict(elementwise_affine=False, eps=1e-3))],
)
def test_layernorm_options_match_torch(shape, kwargs, fused: bool, torch) -> None:
    ln, tln = nn.LayerNorm(shape, **kwargs), torch.nn.LayerNorm(shape, **kwargs).double()
    if fused:
        fuse(ln)
    assert [(n, p.shape) for n, p in ln.named_parameters()] == [(n, tuple(p.shape)) for n, p in tln.named_parameters()]
    randomize(ln, 4)
    compare_forward_backward(ln, tln, np.random.default_rng(5).standard_normal((2, 4, 6)))
    assert repr(ln) == repr(tln)
    with pytest.raises(ValueError, match=r"\(2, 5\) does not end with"):
        ln(Tensor(np.ones((2, 5))))


def test_dropout_with_p_one_zeroes_everything_in_training_like_torch(torch) -> None:
    d = nn.Dropout(1.0)
    x = Tensor(np.arange(1.0, 6.0))
    np.testing.assert_array_equal(d(x).data, torch.nn.Dropout(1.0)(torch.from_numpy(x.numpy())).numpy())
    np.testing.assert_array_equal(d.eval()(x).data, x.data)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.Dropout(1.5)


def test_attention_names_the_expected_shape_for_a_2d_input() -> None:
    attn = nn.CausalSelfAttention(4, 2)
    with pytest.raises(ValueError, match=r"\(batch, time, 4\), got \(3, 4\).*unsqueeze\(0\)"):
        attn(Tensor(np.ones((3, 4))))
    with pytest.raises(ValueError, match=r"\(batch, time, 4\), got \(1, 3, 6\)"):
        attn(Tensor(np.ones((1, 3, 6))))


# ----------------------------------------------------------------------------- Module API


def test_load_state_dict_returns_missing_and_unexpected_keys_like_torch(torch) -> None:
    from tinygrad_tx.torch_gpt import TorchGPT

    cfg = nn.GPTConfig(vocab_size=7, block_size=4, n_layer=1, n_head=2, n_embd=4)
    model, tmodel = nn.GPT(cfg), TorchGPT(cfg)
    part = {k: v for k, v in model.state_dict().items() if k != "wpe.weight"}
    part["junk"] = np.zeros(1)
    tpart = {k: v for k, v in tmodel.state_dict().items() if k != "wpe.weight"}
    tpart["junk"] = torch.zeros(1)
    res, tres = model.load_state_dict(part, strict=False), tmodel.load_state_dict(tpart, strict=False)
    assert (res.missing_keys, res.unexpected_keys) == (tres.missing_keys, tres.unexpected_keys)
    missing, unexpected = model.load_state_dict(model.state_dict())
    assert missing == unexpected == []


def test_module_zero_grad_set_to_none_false_gives_zeros() -> None:
    model = Tied()
    model(Tensor(np.ones((2, 4)))).sum().backward()
    model.zero_grad(set_to_none=False)
    assert all(p.grad is not None and p.grad.shape == p.shape and not p.grad.any() for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_refuses_a_mode_that_is_not_a_bool() -> None:
    model = Tied()
    with pytest.raises(ValueError, match="True or False"):
        model.train("eval")  # type: ignore[arg-type]
    assert model.training and model.eval() is model and not model.b.training
