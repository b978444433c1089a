"""PyTorch code that runs unchanged, the pieces checked here against torch itself in float64:

- ``Module.state_dict()``: detached tensors that share the parameters' and buffers' storage (nanoGPT's
  ``from_pretrained`` loads weights through them), ``keep_vars=True``, snapshots by copying;
- ``optimizer.state`` keyed by the parameter tensor (``state_dict()`` keeps numbering them);
- ``torch.nn.utils``: ``clip_grad_norm_``, ``clip_grad_value_``, ``parameters_to_vector``,
  ``vector_to_parameters``, reachable right after ``import tinygrad_tx as torch``;
- ``optim.RMSprop`` and ``optim.Adagrad`` with parameter groups, edits and additions mid-run, saving and
  loading (their step-by-step runs are also in tests/test_optim.py's CASES);
- ``nn.Dropout(p=0.5, inplace=False)``, ``alpha=`` of add/sub with integer and bool tensors, ``Tensor.t()``.

Tolerances: optimizer runs within RTOL = 1e-12 of torch's, scale-relative per tensor (tests/test_optim.py
says why not bit-exact: torch's CPU kernels fuse multiply-adds); clipping within CLIP_RTOL = 1e-14 (torch sums
the squares in another order); ``alpha`` products within ALPHA_RTOL (torch may fuse ``x + α y``). Copies,
selections, clamps and names are compared exactly.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys
import warnings
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Tensor, nn, optim
from tinygrad_tx.checkpoint import load_checkpoint, save_checkpoint

from .helpers import assert_close
from .test_optim import (
    CLIP_RTOL,
    RTOL,
    batch,
    initial_values,
    torch_params,
    torch_train_step,
    tx_loss,
    tx_params,
    tx_train_step,
)
from .test_optim_torch_api import signature_of

torch = pytest.importorskip("torch")

ALPHA_RTOL = 2 * np.finfo(np.float64).eps
STEPS = 10
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.usefixtures("float64_default")  # (tests/conftest.py)


def same_weights(ours: nn.Module, theirs: Any) -> None:
    """Copy our module's state into the torch module, through torch's own state dict (its tensors share storage)."""
    with torch.no_grad():
        for (name, ours_t), (tname, theirs_t) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            assert name == tname
            theirs_t.copy_(torch.from_numpy(np.array(ours_t)))


def pair() -> tuple[nn.Module, Any]:
    """A Linear and a BatchNorm (parameters and buffers) in both libraries, with the same values."""
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
    same_weights(ours, theirs)
    return ours, theirs


def assert_same_state(ours: nn.Module, theirs: Any, what: str) -> None:
    tsd = theirs.state_dict()
    for name, t in ours.state_dict().items():
        assert np.array_equal(np.array(t), tsd[name].numpy()), f"{what}: {name}"


# ------------------------------------------------------------------------------ state_dict
def test_state_dict_holds_detached_tensors_and_keep_vars_the_parameters_as_torchs() -> None:
    ours, theirs = pair()
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert list(sd) == list(tsd)
    for name, t in sd.items():
        tt = tsd[name]
        assert isinstance(t, Tensor) and not isinstance(t, nn.Parameter) and not isinstance(tt, torch.nn.Parameter)
        flags = (t.requires_grad, t.is_leaf, t.grad_fn)
        assert flags == (tt.requires_grad, tt.is_leaf, tt.grad_fn) == (False, True, None), name
        assert t.shape == tuple(tt.shape) and np.dtype(t.dtype) == tt.detach().numpy().dtype, name
    own = dict(ours.named_parameters()) | dict(ours.named_buffers())
    town = dict(theirs.named_parameters()) | dict(theirs.named_buffers())
    kept, tkept = ours.state_dict(keep_vars=True), theirs.state_dict(keep_vars=True)
    assert list(kept) == list(tkept)
    for name, t in kept.items():  # the parameters and buffers themselves
        assert t is own[name] and tkept[name] is town[name], name
        assert isinstance(t, nn.Parameter) == isinstance(tkept[name], torch.nn.Parameter), name


def test_in_place_ops_on_state_dict_values_update_the_model_as_in_torch() -> None:
    ours, theirs = pair()
    rng = np.random.default_rng(0)
    w, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    for lib, model in ((tx, ours), (torch, theirs)):
        sd = model.state_dict()
        with lib.no_grad():
            sd["0.weight"].copy_(lib.tensor(w))
            sd["0.bias"].zero_()
            sd["0.bias"].add_(lib.tensor(b), alpha=2.0)
            sd["1.weight"] += 1.0
            sd["1.bias"][1] = 7.0
            sd["1.running_var"].mul_(3.0)
            sd["1.num_batches_tracked"].fill_(5)
    assert_same_state(ours, theirs, "after writing through the state dict")
    assert np.array_equal(np.array(ours[0].weight.detach()), w)
    assert ours[1].num_batches_tracked.item() == 5 and ours[1].bias.requires_grad  # still a parameter


def test_state_dict_values_follow_the_model_and_copies_do_not() -> None:
    ours, theirs = pair()
    sd, tsd = ours.state_dict(), theirs.state_dict()
    snapshot = {k: v.clone() for k, v in sd.items()}
    deep = copy.deepcopy(sd)
    arrays = {k: np.array(v) for k, v in sd.items()}
    opt = optim.SGD(ours.parameters(), lr=0.1)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((5, 4))
    for o, model, lib in ((opt, ours, tx), (topt, theirs, torch)):
        o.zero_grad()
        (model(lib.tensor(x)) * lib.tensor(w)).sum().backward()  # training mode: the running statistics move too
        o.step()
    for name, t in sd.items():  # taken before the step, they show the model after it (torch's too)
        assert_close(t.numpy(), tsd[name].numpy(), RTOL, f"{name} after the step")
        assert np.array_equal(t.numpy(), ours.state_dict()[name].numpy()), name
    changed = [k for k in sd if not np.array_equal(np.array(sd[k]), arrays[k])]
    assert changed == [k for k in tsd if k in changed] and set(changed) >= {"0.weight", "1.running_mean"}
    for k in sd:  # the copies kept the values of before
        assert type(snapshot[k]) is Tensor and type(deep[k]) is Tensor
        assert np.array_equal(np.array(snapshot[k]), arrays[k]) and np.array_equal(np.array(deep[k]), arrays[k]), k


def test_a_change_through_the_state_dict_counts_as_a_modification_of_the_parameter() -> None:
    for lib in (tx, torch):
        layer = lib.nn.Linear(3, 2)
        loss = (layer.weight * layer.weight).sum()  # saves the weight for backward
        with lib.no_grad():
            layer.state_dict()["weight"].add_(1.0)
        with pytest.raises(RuntimeError, match="modified"):
            loss.backward()


def test_a_tied_parameter_is_one_storage_under_both_names() -> None:
    for lib in (tx, torch):
        model = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Linear(2, 2))
        model[1].weight = model[0].weight
        sd = model.state_dict()
        with lib.no_grad():
            sd["0.weight"].fill_(3.0)
        assert (sd["1.weight"].numpy() == 3.0).all() and (model[1].weight.detach().numpy() == 3.0).all()


def from_pretrained(lib: Any, model: Any, sd_hf: dict[str, Any]) -> None:
    """nanoGPT's ``GPT.from_pretrained`` loop (model.py), as written there: HF's Conv1D weights are (in, out),
    transposed into nn.Linear's (out, in) through the model's state dict."""
    sd = model.state_dict()
    sd_keys = [k for k in sd.keys() if not k.endswith(".attn.bias")]
    transposed = ["attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"]
    assert len(sd_hf) == len(sd_keys), f"mismatched keys: {len(sd_hf)} != {len(sd_keys)}"
    for k in sd_hf.keys():
        if any(k.endswith(w) for w in transposed):
            assert sd_hf[k].shape[::-1] == sd[k].shape
            with lib.no_grad():
                sd[k].copy_(sd_hf[k].t())
        else:
            assert sd_hf[k].shape == sd[k].shape
            with lib.no_grad():
                sd[k].copy_(sd_hf[k])


def test_nanogpts_from_pretrained_loads_weights_through_the_state_dict() -> None:
    def build(lib: Any, linear: Callable[[int, int], Any]) -> Any:
        class MLP(lib.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.c_fc, self.c_proj = linear(4, 6), linear(6, 4)

        class Block(lib.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.ln_1, self.mlp = lib.nn.LayerNorm(4), MLP()

            def forward(self, x: Any) -> Any:
                return x + self.mlp.c_proj(self.mlp.c_fc(self.ln_1(x)).tanh())

        return Block()

    hf = build(tx, lambda n_in, n_out: nn.Conv1D(n_out, n_in))  # GPT-2's layout: weight (in, out)
    rng = np.random.default_rng(2)
    with tx.no_grad():
        for t in hf.state_dict().values():
            t.copy_(Tensor(rng.standard_normal(t.shape)))
    ours, theirs = build(tx, nn.Linear), build(torch, torch.nn.Linear).double()
    from_pretrained(tx, ours, hf.state_dict())
    from_pretrained(torch, theirs, {k: torch.from_numpy(np.array(v)) for k, v in hf.state_dict().items()})
    assert_same_state(ours, theirs, "loaded")
    assert np.array_equal(np.array(ours.mlp.c_fc.weight.detach()), np.array(hf.mlp.c_fc.weight.detach()).T)
    x = rng.standard_normal((2, 4))
    out = ours(Tensor(x))
    assert_close(np.array(out.detach()), theirs(torch.from_numpy(x)).detach().numpy(), RTOL, "the loaded forward")
    assert_close(np.array(out.detach()), np.array(hf(Tensor(x)).detach()), RTOL, "the same as the HF-layout model")


def test_numpy_array_of_a_tensor_copies_and_asarray_shares() -> None:
    layer = nn.Linear(2, 2)
    value = layer.state_dict()["weight"]
    copied, shared = np.array(value), np.asarray(value)
    assert not np.shares_memory(copied, layer.weight._data) and np.shares_memory(shared, layer.weight._data)
    tvalue = torch.nn.Linear(2, 2).state_dict()["weight"]  # torch's: the same two behaviours
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (torch's __array__ has no copy= yet)
        assert not np.shares_memory(np.array(tvalue), tvalue.numpy())
        assert np.shares_memory(np.asarray(tvalue), tvalue.numpy())
    assert np.array(value, dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match="needs a copy, and copy=False was given"):
        np.array(value, dtype=np.float32, copy=False)


def test_checkpoints_and_load_state_dict_take_state_dict_tensors(tmp_path: Any) -> None:
    ours, _ = pair()
    path = str(tmp_path / "model.npz")
    save_checkpoint(path, {"model": ours.state_dict(), "kept": ours.state_dict(keep_vars=True)})
    loaded = load_checkpoint(path)
    for name, t in ours.state_dict().items():
        for part in ("model", "kept"):
            a = loaded[part][name]
            assert type(a) is np.ndarray and a.dtype == np.dtype(t.dtype), (part, name)
            assert np.array_equal(a, np.array(t)), (part, name)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    assert repr(other.load_state_dict(ours.state_dict())) == "<All keys matched successfully>"
    assert_same_state(other, ours_as_torch(ours), "loaded from a state dict of tensors")
    with pytest.raises(TypeError, match=r"^from_torch_state_dict: 0.weight is a tinygrad_tx Tensor, not a torch"):
        nn.from_torch_state_dict(other, ours.state_dict())


def ours_as_torch(ours: nn.Module) -> Any:
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4)).double()
    same_weights(ours, theirs)
    return theirs


def test_lora_state_dict_shares_storage_like_every_state_dict() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    nn.apply_lora(model, ("0",), rank=2)
    lora = nn.lora_state_dict(model)
    assert list(lora) == ["0.lora_A", "0.lora_B"] and all(type(v) is not nn.Parameter for v in lora.values())
    snapshot = {k: v.clone() for k, v in lora.items()}
    with tx.no_grad():
        model[0].lora_B.add_(1.0)
    assert np.array_equal(np.array(lora["0.lora_B"]), np.ones((4, 2)))  # it follows the model
    assert not np.array(snapshot["0.lora_B"]).any()
    model.load_state_dict(snapshot, strict=False)
    assert not np.array(model[0].lora_B.detach()).any()


# ------------------------------------------------------------------------- optimizer.state
def groups(p: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"params": [p["W1"], p["W2"]]}, {"params": [p["b1"], p["b2"], p["scale"]], "lr": 0.003}]


def test_optimizer_state_is_keyed_by_the_parameter_as_torchs() -> None:
    values = initial_values()
    p, tp = tx_params(values), torch_params(values)
    opt, topt = optim.Adam(groups(p), lr=0.01, amsgrad=True), torch.optim.Adam(groups(tp), lr=0.01, amsgrad=True)
    assert isinstance(opt.state, defaultdict) and isinstance(topt.state, defaultdict) and len(opt.state) == 0
    for step in range(3):
        tx_train_step(opt, p, step), torch_train_step(topt, tp, step)
    assert len(opt.state) == len(topt.state) == len(p)
    for name, t in p.items():
        ours, theirs = opt.state[t], topt.state[tp[name]]
        assert list(ours) == list(theirs), name
        assert ours["step"] == theirs["step"].item() == 3
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            assert_close(ours[key], theirs[key].numpy(), RTOL, f"{name} {key}")
    assert [id(k) for k in opt.state] == [id(p[k]) for k in ("W1", "W2", "b1", "b2", "scale")]
    fresh, tfresh = Tensor(np.ones(2), requires_grad=True), torch.ones(2, requires_grad=True)
    assert opt.state[fresh] == {} == topt.state[tfresh]  # a defaultdict: a new entry, as in torch
    assert len(opt.state) == len(topt.state) == len(p) + 1
    with pytest.raises(TypeError, match=r"keyed by the parameter tensor, as in PyTorch: opt.state\[p\], not .*\[0\]"):
        opt.state[0]
    with pytest.raises(TypeError, match="keyed by the parameter tensor"):
        opt.state["W1"] = {}


def test_state_dict_numbers_the_parameters_and_load_keys_the_new_ones() -> None:
    values = initial_values()
    p, tp = tx_params(values), torch_params(values)
    opt, topt = optim.Adam(groups(p), lr=0.01), torch.optim.Adam(groups(tp), lr=0.01)
    for step in range(2):
        tx_train_step(opt, p, step), torch_train_step(topt, tp, step)
    saved, tsaved = opt.state_dict(), topt.state_dict()
    assert list(saved["state"]) == [str(k) for k in tsaved["state"]] == ["0", "1", "2", "3", "4"]
    assert [g["params"] for g in saved["param_groups"]] == [g["params"] for g in tsaved["param_groups"]]
    q = tx_params({k: np.array(t.detach()) for k, t in p.items()})
    resumed = optim.Adam(groups(q), lr=0.5)
    resumed.load_state_dict(saved)
    assert [id(k) for k in resumed.state] == [id(q[k]) for k in ("W1", "W2", "b1", "b2", "scale")]
    assert all(t not in resumed.state for t in p.values())
    for name in p:
        assert np.array_equal(resumed.state[q[name]]["exp_avg"], opt.state[p[name]]["exp_avg"]), name


def test_state_lookups_never_compare_tensors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys are matched by identity: Tensor.__eq__ (elementwise, a Tensor) is never called."""
    p = tx_params(initial_values())
    opt = optim.RMSprop(groups(p), lr=0.01, momentum=0.5)

    def refuse(self: Tensor, other: Any) -> Any:
        raise AssertionError("Tensor.__eq__ was called")

    for step in range(3):
        opt.zero_grad()
        tx_loss(p, *batch(step)).backward()  # (the engine compares tensors: only the optimizer may not)
        with monkeypatch.context() as patched:
            patched.setattr(Tensor, "__eq__", refuse)
            opt.step()
            assert all(t in opt.state and opt.state[t]["step"] == step + 1 for t in p.values())
            opt.load_state_dict(opt.state_dict())
            assert [id(t) for t in opt.state] == [id(p[k]) for k in ("W1", "W2", "b1", "b2", "scale")]


# ------------------------------------------------------------------------------- nn.utils
def test_nn_utils_and_the_new_optimizers_are_reachable_right_after_import() -> None:
    script = ("import tinygrad_tx as torch\n"
              "print(torch.nn.utils.clip_grad_norm_.__name__, torch.nn.utils.clip_grad_value_.__name__, "
              "torch.nn.utils.parameters_to_vector.__name__, torch.nn.utils.vector_to_parameters.__name__, "
              "torch.optim.RMSprop.__name__, torch.optim.Adagrad.__name__)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector",
                                  "vector_to_parameters", "RMSprop", "Adagrad"]


@pytest.mark.parametrize("name", nn.utils.__all__)
def test_nn_utils_signatures_are_torchs(name: str) -> None:
    assert signature_of(getattr(nn.utils, name)) == signature_of(getattr(torch.nn.utils, name))


def grads_pair(seed: int = 3) -> tuple[list[Tensor], list[Any]]:
    """Parameters with gradients (one without), in both libraries."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (), (2, 2)]
    values = [np.asarray(rng.standard_normal(s)) for s in shapes]
    grads = [np.asarray(3.0 * rng.standard_normal(s)) for s in shapes]
    ours = [Tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    for t, tt, g in zip(ours[:-1], theirs[:-1], grads[:-1]):  # the last one has no gradient
        t.grad, tt.grad = Tensor(g), torch.from_numpy(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf"), float("-inf"), 0.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_returns_torchs_tensor_and_clips_as_torch(norm_type: float, max_norm: float) -> None:
    ours, theirs = grads_pair()
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total, Tensor) and total.shape == () and total.dtype == np.float64 and not total.requires_grad
    assert_close(np.array(total), ttotal.numpy(), CLIP_RTOL, "total norm")
    for t, tt in zip(ours, theirs):
        if tt.grad is None:
            assert t.grad is None
        else:
            assert_close(np.asarray(t.grad), tt.grad.numpy(), CLIP_RTOL, f"clipped grad {t.shape}")


def test_clip_grad_norm_on_one_tensor_a_generator_and_nothing() -> None:
    ours, theirs = grads_pair()
    total, ttotal = nn.utils.clip_grad_norm_(ours[0], 1.0), torch.nn.utils.clip_grad_norm_(theirs[0], 1.0)
    assert_close(np.array(total), ttotal.numpy(), CLIP_RTOL, "one tensor")
    total = nn.utils.clip_grad_norm_((t for t in ours), 1.0, foreach=True)
    ttotal = torch.nn.utils.clip_grad_norm_((t for t in theirs), 1.0, foreach=True)
    assert_close(np.array(total), ttotal.numpy(), CLIP_RTOL, "a generator")
    for clip in (nn.utils.clip_grad_norm_, torch.nn.utils.clip_grad_norm_):
        with pytest.warns(UserWarning, match=r"^`parameters` is an empty generator, no gradient clipping will occur.$"):
            empty = clip((t for t in []), 1.0)
        assert float(empty) == 0.0 and empty.shape == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(nn.utils.clip_grad_norm_([], 1.0)) == 0.0 == float(torch.nn.utils.clip_grad_norm_([], 1.0))
    assert nn.utils.clip_grad_norm_([], 1.0).dtype == tx.get_default_dtype()  # torch.tensor(0.0)
    g = np.array(ours[0].grad)
    g[0, 0] = np.inf
    ours[0].grad, theirs[0].grad = Tensor(g), torch.from_numpy(g.copy())
    with pytest.raises(RuntimeError, match="non-finite|cannot be clipped"):
        nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError, match="non-finite"):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("clip_value", [0.5, 2.0, 0.0, -1.0])
def test_clip_grad_value_clamps_as_torch(clip_value: float) -> None:
    ours, theirs = grads_pair()
    g = np.array(ours[1].grad)
    g[:3] = np.nan, np.inf, -np.inf
    ours[1].grad, theirs[1].grad = Tensor(g), torch.from_numpy(g.copy())
    assert nn.utils.clip_grad_value_(ours, clip_value) is None
    assert torch.nn.utils.clip_grad_value_(theirs, clip_value) is None
    for t, tt in zip(ours, theirs):
        if tt.grad is None:
            assert t.grad is None
        else:
            np.testing.assert_array_equal(np.asarray(t.grad), tt.grad.numpy())  # a clamp: exact, nan kept
    one, tone = grads_pair()
    nn.utils.clip_grad_value_(one[0], clip_value)
    torch.nn.utils.clip_grad_value_(tone[0], clip_value)
    np.testing.assert_array_equal(np.asarray(one[0].grad), tone[0].grad.numpy())
    assert optim.clip_grad_value_ is nn.utils.clip_grad_value_


def test_parameters_to_vector_is_torchs_and_stays_in_the_graph() -> None:
    ours, theirs = grads_pair()
    vec, tvec = nn.utils.parameters_to_vector(ours), torch.nn.utils.parameters_to_vector(theirs)
    assert vec.shape == tuple(tvec.shape) == (22,) and np.array_equal(np.array(vec.detach()), tvec.detach().numpy())
    assert vec.requires_grad and tvec.requires_grad
    weights = np.random.default_rng(4).standard_normal(22)
    for t, tt in zip(ours, theirs):
        t.grad, tt.grad = None, None
    (vec * Tensor(weights)).sum().backward()
    (tvec * torch.from_numpy(weights)).sum().backward()
    for t, tt in zip(ours, theirs):
        np.testing.assert_array_equal(np.asarray(t.grad), tt.grad.numpy())
    with pytest.raises(ValueError, match="expected at least one parameter"):
        nn.utils.parameters_to_vector([])
    with pytest.raises(ValueError, match="non-empty"):
        torch.nn.utils.parameters_to_vector([])


def test_vector_to_parameters_is_torchs_inverse() -> None:
    ours, theirs = grads_pair()
    vec = np.random.default_rng(5).standard_normal(22)
    versions = [t._version for t in ours]
    assert nn.utils.vector_to_parameters(Tensor(vec), ours) is None
    torch.nn.utils.vector_to_parameters(torch.from_numpy(vec.copy()), theirs)
    for t, tt, version in zip(ours, theirs, versions):
        assert t.shape == tuple(tt.shape) and np.array_equal(np.array(t.detach()), tt.detach().numpy())
        assert t.is_leaf and t.requires_grad and t._version == version + 1  # not recorded; a modification
    assert np.array_equal(np.array(nn.utils.parameters_to_vector(ours).detach()), vec)
    assert np.array_equal(np.asarray(ours[0].grad), theirs[0].grad.numpy())  # the gradients are left alone
    single = [Tensor(np.zeros((2, 2)), requires_grad=True)]
    tsingle = [torch.zeros((2, 2), dtype=torch.float64, requires_grad=True)]
    nn.utils.vector_to_parameters(Tensor(np.arange(4.0, dtype=np.float32)), single)
    torch.nn.utils.vector_to_parameters(torch.arange(4.0, dtype=torch.float32), tsingle)
    assert single[0].dtype == np.float32 and tsingle[0].dtype == torch.float32  # the vector's dtype, as torch
    assert np.array_equal(np.array(single[0].detach()), tsingle[0].detach().numpy())


def test_vector_to_parameters_refuses_what_cannot_fit() -> None:
    ours, theirs = grads_pair()
    with pytest.raises(TypeError, match="expected a Tensor, but got: ndarray"):
        nn.utils.vector_to_parameters(np.zeros(22), ours)
    with pytest.raises(TypeError, match="expected torch.Tensor"):
        torch.nn.utils.vector_to_parameters(np.zeros(22), theirs)
    with pytest.raises(ValueError, match=r"shape \(21,\), but the parameters .* need a 1-d vector of 22 values$"):
        nn.utils.vector_to_parameters(Tensor(np.zeros(21)), ours)
    with pytest.raises(RuntimeError):
        torch.nn.utils.vector_to_parameters(torch.zeros(21, dtype=torch.float64), theirs)
    with pytest.raises(ValueError, match=r"shape \(23,\)"):  # torch would ignore the extra value
        nn.utils.vector_to_parameters(Tensor(np.zeros(23)), ours)
    with pytest.raises(ValueError, match=r"shape \(2, 11\)"):
        nn.utils.vector_to_parameters(Tensor(np.zeros((2, 11))), ours)
    with pytest.raises(TypeError, match=r"must stay floating point, and the vector has dtype (torch\.)?int64"):
        nn.utils.vector_to_parameters(Tensor(np.arange(22)), ours)
    with pytest.raises(RuntimeError, match="floating point"):
        torch.nn.utils.vector_to_parameters(torch.arange(22), theirs)
    assert all(t._version == 0 for t in ours)  # nothing was changed


# ------------------------------------------------------------------------ RMSprop, Adagrad
NEW_OPTIMIZERS = ["RMSprop", "Adagrad"]
DEFAULTS = {
    "RMSprop": dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01),
    "Adagrad": dict(lr=0.1, lr_decay=0.01, weight_decay=0.05, initial_accumulator_value=0.1),
}
OVERRIDES = {  # the second group's own settings
    "RMSprop": dict(lr=0.003, alpha=0.7, eps=1e-4, weight_decay=0.0, maximize=True),
    "Adagrad": dict(lr=0.05, lr_decay=0.0, eps=1e-6, maximize=True, initial_accumulator_value=3.0),  # (not used)
}


def split(name: str) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    return lambda p: [{"params": [p["W1"], p["W2"]]}, {"params": [p["b1"], p["b2"], p["scale"]], **OVERRIDES[name]}]


def both(name: str, kwargs: dict[str, Any], values: dict[str, np.ndarray] | None = None) -> tuple[Any, ...]:
    values = initial_values() if values is None else values
    p, tp = tx_params(values), torch_params(values)
    return p, tp, getattr(optim, name)(split(name)(p), **kwargs), getattr(torch.optim, name)(split(name)(tp), **kwargs)


def assert_match(p: dict[str, Tensor], tp: dict[str, Any], opt: Any, topt: Any, step: int) -> None:
    """Parameters and every state entry within RTOL of torch's (the step counts equal)."""
    for name, t in p.items():
        assert_close(np.array(t.detach()), tp[name].detach().numpy(), RTOL, f"after step {step}, {name}")
        ours, theirs = opt.state[t], topt.state[tp[name]]
        assert list(ours) == list(theirs), name
        for key, value in ours.items():
            if key == "step":
                assert value == theirs[key].item(), name
            else:
                assert_close(value, theirs[key].numpy(), RTOL, f"after step {step}, {name} {key}")


@pytest.mark.parametrize("name", NEW_OPTIMIZERS)
def test_new_optimizers_have_torchs_signature_and_group_keys(name: str) -> None:
    assert signature_of(getattr(optim, name)) == signature_of(getattr(torch.optim, name))
    ours = getattr(optim, name)([Tensor(np.ones(2), requires_grad=True)]).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)]).param_groups[0]
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if key != "params":
            expected = False if key in ("foreach", "fused") and value is None else value  # None: our choice, False
            assert ours[key] == expected and type(ours[key]) is type(expected), key


SWITCHES = {"RMSprop": [{}, dict(foreach=True), dict(foreach=False)],
            "Adagrad": [{}, dict(foreach=True), dict(foreach=False), dict(fused=True)]}


@pytest.mark.parametrize("case", [(n, s) for n in NEW_OPTIMIZERS for s in SWITCHES[n]],
                         ids=lambda c: c[0] + "-" + (",".join(f"{k}={v}" for k, v in c[1].items()) or "default"))
def test_new_optimizers_with_parameter_groups_match_torch_step_by_step(case: tuple[str, dict[str, Any]]) -> None:
    name, switches = case
    p, tp, opt, topt = both(name, {**DEFAULTS[name], **switches})
    for step in range(STEPS):
        assert tx_train_step(opt, p, step) == pytest.approx(torch_train_step(topt, tp, step), rel=RTOL)
        assert_match(p, tp, opt, topt, step)


@pytest.mark.parametrize("name", NEW_OPTIMIZERS)
def test_new_optimizers_edited_and_extended_mid_run_match_torch(name: str) -> None:
    edits = {"RMSprop": [(0, "lr", 0.02), (0, "alpha", 0.95), (1, "weight_decay", 0.1), (1, "eps", 1e-3)],
             "Adagrad": [(0, "lr", 0.02), (0, "lr_decay", 0.1), (1, "weight_decay", 0.1), (1, "eps", 1e-3)]}[name]
    p, tp, opt, topt = both(name, DEFAULTS[name])
    for step in range(STEPS):
        if step == 4:
            for gi, key, value in edits:
                opt.param_groups[gi][key] = topt.param_groups[gi][key] = value
        tx_train_step(opt, p, step), torch_train_step(topt, tp, step)
        assert_match(p, tp, opt, topt, step)
    values = initial_values()  # a group added after 3 steps (Adagrad starts its state then, from the defaults)
    p, tp = tx_params(values), torch_params(values)
    opt = getattr(optim, name)([p["W1"], p["W2"], p["b1"]], **DEFAULTS[name])
    topt = getattr(torch.optim, name)([tp["W1"], tp["W2"], tp["b1"]], **DEFAULTS[name])
    for step in range(STEPS):
        if step == 3:
            opt.add_param_group({"params": [p["b2"], p["scale"]], **OVERRIDES[name]})
            topt.add_param_group({"params": [tp["b2"], tp["scale"]], **OVERRIDES[name]})
        tx_train_step(opt, p, step), torch_train_step(topt, tp, step)
        assert_match(p, tp, opt, topt, step)


@pytest.mark.parametrize("name", NEW_OPTIMIZERS)
def test_new_optimizers_state_dict_mid_run_resumes_on_torchs_path(name: str) -> None:
    p, tp, opt, topt = both(name, DEFAULTS[name])
    for step in range(4):
        tx_train_step(opt, p, step), torch_train_step(topt, tp, step)
    saved, tsaved = opt.state_dict(), topt.state_dict()
    assert [set(g) for g in saved["param_groups"]] == [set(g) for g in tsaved["param_groups"]]
    assert {k: set(v) for k, v in saved["state"].items()} == {str(k): set(v) for k, v in tsaved["state"].items()}
    q = tx_params({k: np.array(t.detach()) for k, t in p.items()})
    resumed = getattr(optim, name)(split(name)(q), lr=99.0)  # everything comes from the state dict
    resumed.load_state_dict(saved)
    for step in range(4, STEPS):
        tx_train_step(resumed, q, step), torch_train_step(topt, tp, step)
        assert_match(q, tp, resumed, topt, step)


def test_adagrad_state_exists_from_construction_with_the_optimizers_initial_value() -> None:
    p, tp, opt, topt = both("Adagrad", DEFAULTS["Adagrad"])
    assert len(opt.state) == len(topt.state) == len(p)
    assert_match(p, tp, opt, topt, 0)  # before any step: step 0, sum = 0.1 everywhere (the group's 3.0 unused)
    assert all((opt.state[t]["sum"] == 0.1).all() and opt.state[t]["step"] == 0 for t in p.values())
    assert list(opt.state_dict()["state"]) == [str(k) for k in topt.state_dict()["state"]] == ["0", "1", "2", "3", "4"]


@pytest.mark.parametrize("name,key", [("RMSprop", k) for k in ("lr", "alpha", "eps", "momentum", "weight_decay")]
                         + [("Adagrad", k) for k in ("lr", "lr_decay", "weight_decay", "initial_accumulator_value",
                                                     "eps")])
def test_new_optimizers_refuse_negative_settings_as_torch(name: str, key: str) -> None:
    with pytest.raises(ValueError, match=rf"invalid ({key}|learning rate): -0.5"):
        getattr(optim, name)([Tensor(np.ones(2), requires_grad=True)], **{key: -0.5})
    with pytest.raises(ValueError, match="Invalid"):
        getattr(torch.optim, name)([torch.ones(2, requires_grad=True)], **{key: -0.5})


@pytest.mark.parametrize("make", [lambda ps: optim.RMSprop(ps, momentum=0.9, centered=True, weight_decay=0.1),
                                  lambda ps: optim.Adagrad(ps, lr_decay=0.1, weight_decay=0.1)])
def test_new_optimizers_keep_float32_float32(make: Callable[[list[Tensor]], Any]) -> None:
    p = {k: Tensor(v.astype(np.float32), requires_grad=True) for k, v in initial_values().items()}
    opt = make(list(p.values()))
    for step in range(2):
        opt.zero_grad()
        x, y = batch(step)
        h = (Tensor(x.astype(np.float32)) @ p["W1"] + p["b1"]).tanh()
        (((h @ p["W2"] + p["b2"]) * p["scale"] - Tensor(y.astype(np.float32))) ** 2).mean().backward()
        opt.step()
    assert all(t.dtype == np.float32 for t in p.values())
    assert all(a.dtype == np.float32 for s in opt.state.values() for a in s.values() if isinstance(a, np.ndarray))


# ------------------------------------------------------------------ Dropout, alpha=, t()
def test_dropout_has_torchs_defaults_and_repr() -> None:
    assert signature_of(nn.Dropout) == signature_of(torch.nn.Dropout)
    for args in [(), (0.2,), (1,), (0,), (0.3, True)]:
        ours, theirs = nn.Dropout(*args), torch.nn.Dropout(*args)
        assert repr(ours) == repr(theirs) and (ours.p, ours.inplace) == (theirs.p, theirs.inplace)
    assert repr(nn.Sequential(nn.Linear(2, 2), nn.Dropout())) == repr(torch.nn.Sequential(torch.nn.Linear(2, 2),
                                                                                        torch.nn.Dropout()))
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError):
            nn.Dropout(p)
        with pytest.raises(ValueError):
            torch.nn.Dropout(p)


def test_dropout_in_place_returns_its_input_as_torch() -> None:
    x_values = np.random.default_rng(6).standard_normal((50, 40)) + 5.0  # no zeros of its own
    for lib, make in ((tx, lambda v: Tensor(v)), (torch, torch.from_numpy)):
        x = make(x_values.copy())
        layer = lib.nn.Dropout(0.5, inplace=True)
        y = layer(x)
        assert y is x  # torch's in-place dropout returns the input itself
        kept = x.numpy() != 0
        np.testing.assert_array_equal(x.numpy()[kept], 2.0 * x_values[kept])  # scaled by 1/(1-p)
        assert 0.3 < kept.mean() < 0.7
        layer.eval()
        assert layer(x) is x
        plain = make(x_values.copy())
        assert lib.nn.Dropout()(plain) is not plain and np.array_equal(plain.numpy(), x_values)


ALPHA_OPS: list[tuple[str, Callable[..., Any]]] = [
    ("add", lambda lib, a, b, alpha: a.add(b, alpha=alpha)),
    ("sub", lambda lib, a, b, alpha: a.sub(b, alpha=alpha)),
    ("add", lambda lib, a, b, alpha: lib.add(a, b, alpha=alpha)),
    ("sub", lambda lib, a, b, alpha: lib.sub(a, b, alpha=alpha)),
    ("add_", lambda lib, a, b, alpha: a.clone().add_(b, alpha=alpha)),
    ("sub_", lambda lib, a, b, alpha: a.clone().sub_(b, alpha=alpha)),
]


@pytest.mark.parametrize("op", ALPHA_OPS, ids=lambda o: o[0])
def test_alpha_with_integer_and_bool_tensors_follows_torch(op: tuple[str, Callable[..., Any]]) -> None:
    name, f = op
    i, j = np.array([1, -2, 3]), np.array([4, 5, -6])
    for alpha in (0.5, 1.0, np.float32(2.0)):
        with pytest.raises(TypeError, match=rf"^{name}\(\): alpha={alpha} is a float, and the operands are integers"):
            f(tx, Tensor(i), Tensor(j), alpha)
        with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
            f(torch, torch.from_numpy(i), torch.from_numpy(j), float(alpha))
    x, y = np.array([1.5, -2.0, 0.25]), np.array([0.5, 3.0, -1.0])
    for a, b, ta, tb in ((i, j, torch.from_numpy(i), torch.from_numpy(j)),
                         (x, y, torch.from_numpy(x), torch.from_numpy(y))):
        with pytest.raises(TypeError, match=rf"^{name}\(\): alpha=True is a bool, which is only allowed when the "
                                            rf"result is bool"):
            f(tx, Tensor(a), Tensor(b), True)
        with pytest.raises(RuntimeError, match="Boolean alpha only supported for Boolean results"):
            f(torch, ta, tb, True)
    for alpha in (3, -2, 1, 0):  # integers: exact
        ours, theirs = f(tx, Tensor(i), Tensor(j), alpha), f(torch, torch.from_numpy(i), torch.from_numpy(j), alpha)
        assert ours.dtype == np.int64 and np.array_equal(np.array(ours), theirs.numpy()), alpha
    for alpha in (2.5, -0.5, 3):  # floating tensors
        ours, theirs = f(tx, Tensor(x), Tensor(y), alpha), f(torch, torch.from_numpy(x), torch.from_numpy(y), alpha)
        assert_close(np.array(ours), theirs.numpy(), ALPHA_RTOL, f"alpha={alpha}")
    if name.startswith("add"):  # torch refuses sub with bool tensors; add computes in bool: alpha counts as a bool
        m, n = np.array([True, False, False]), np.array([False, False, True])
        for alpha in (True, False, 2, 0, 1):
            ours = f(tx, Tensor(m), Tensor(n), alpha)
            theirs = f(torch, torch.from_numpy(m), torch.from_numpy(n), alpha)
            assert ours.dtype == np.bool_ and np.array_equal(np.array(ours), theirs.numpy()), alpha


def test_a_float_tensor_takes_an_integer_operand_with_a_float_alpha_as_torch() -> None:
    i = np.array([1, 2])
    x = np.array([0.5, -1.5])
    for ours, theirs in ((Tensor(x).add(Tensor(i), alpha=0.5), torch.from_numpy(x).add(torch.from_numpy(i), alpha=0.5)),
                         (Tensor(i).add(1.5, alpha=0.5), torch.from_numpy(i).add(1.5, alpha=0.5))):
        assert ours.dtype.kind == "f" and np.array_equal(np.array(ours), theirs.numpy())


def test_t_transposes_a_matrix_as_torch() -> None:
    for shape in [(), (3,), (2, 3)]:
        values = np.arange(float(np.prod(shape))).reshape(shape)
        ours, theirs = Tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
        out, tout = ours.t(), theirs.t()
        assert np.array_equal(np.array(out.detach()), tout.detach().numpy())
        assert np.array_equal(np.array(tx.t(ours).detach()), torch.t(theirs).detach().numpy())
        weights = np.random.default_rng(7).standard_normal(tuple(tout.shape))
        (out * Tensor(weights)).sum().backward()
        (tout * torch.from_numpy(weights)).sum().backward()
        np.testing.assert_array_equal(np.asarray(ours.grad), theirs.grad.numpy())
    with pytest.raises(ValueError, match=r"^t: expects a tensor with <= 2 dims, got shape \(2, 2, 2\)"):
        Tensor(np.zeros((2, 2, 2))).t()
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        torch.zeros((2, 2, 2)).t()
