"""The ``torch.nn`` API a tutorial relies on, checked against torch itself (float64).

- `Module`: registration by assignment (parameters, buffers, sub-modules, None), the traversals and their
  order, ``apply``, ``train``/``eval``, ``zero_grad``, ``state_dict``/``load_state_dict`` with PyTorch's own
  state dict, ``to``, and the nested repr;
- the containers: `Sequential`, `ModuleList`, `ModuleDict`, `ParameterList`, `ParameterDict`, `Identity`;
- the activation modules and `Flatten`: values and input gradients;
- `BatchNorm1d`/`BatchNorm2d`: values, gradients (input, weight, bias) and running buffers over several
  training steps and in evaluation;
- ``nn.init``: fans, gains, bounds and standard deviations (the formulas, not the random streams).

The same operations run on both libraries and are compared: names and order exactly, values and gradients
to a scale-relative REL (max|ours − torch| / max|torch|, tests/helpers.py), with random upstream gradients.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx
from tinygrad_tx import Tensor, nn

from .helpers import assert_close

torch = pytest.importorskip("torch")
tnn = torch.nn

REL = 1e-12  # float64, scale-relative

pytestmark = pytest.mark.usefixtures("float64_default")  # (tests/conftest.py)


def ours_tensor(a: Any) -> Tensor:
    return Tensor(np.array(a, dtype=np.float64))


def torch_tensor(a: Any) -> Any:
    return torch.tensor(np.array(a, dtype=np.float64))


def build_net(lib: Any, T: Callable[[Any], Any]) -> Any:
    """The same model in either library (``lib`` is ``nn`` or ``torch.nn``, ``T`` makes a tensor): every kind
    of registration, a shared (tied) module, a None parameter, buffers persistent and not, every container."""

    class Net(lib.Module):
        def __init__(self) -> None:
            super().__init__()
            self.scale = lib.Parameter(T(np.linspace(0.5, 1.5, 4)))
            self.bn = lib.BatchNorm1d(4)
            self.act = lib.Sequential(OrderedDict(t=lib.Tanh(), s=lib.Sigmoid()))
            self.blocks = lib.ModuleList([lib.ReLU(), lib.ReLU(), lib.Tanh(), lib.GELU("tanh")])
            self.heads = lib.ModuleDict({"b": lib.Identity(), "a": lib.Flatten(0, -1)})
            self.pl = lib.ParameterList([lib.Parameter(T(np.zeros((2, 3)))), T(np.ones(3))])
            self.pd = lib.ParameterDict({"y": lib.Parameter(T(np.zeros(2))), "x": T(np.ones(2))})
            self.register_buffer("mask", T(np.ones(3)))
            self.register_buffer("scratch", T(np.ones(3)), persistent=False)
            self.register_parameter("nothing", None)
            self.register_buffer("no_buffer", None)
            self.shared = self.bn  # one module under two names
            self.softmax, self.log_softmax = lib.Softmax(dim=1), lib.LogSoftmax(1)

        def forward(self, x: Any) -> Any:
            h = self.act(self.bn(x * self.scale))
            for block in self.blocks:
                h = block(h)
            return self.log_softmax(self.heads["b"](h)).sum() + self.pl[1].sum() * self.pd["x"].sum()

    return Net().double() if lib is tnn else Net()  # (torch's layers default to float32)


def names(pairs: Any) -> list[str]:
    return [n for n, _ in pairs]


def torch_repr(text: str) -> str:
    """torch's repr with its dtype spellings as ours (``torch.float64``, ``torch.DoubleTensor`` → ``float64``)."""
    return text.replace("torch.float64", "float64").replace("torch.DoubleTensor", "float64")


# ----------------------------------------------------------------------------- registration and traversal


def test_registration_order_names_and_repr_match_torch() -> None:
    ours, theirs = build_net(nn, ours_tensor), build_net(tnn, torch_tensor)
    for kwargs in [{}, {"remove_duplicate": False}, {"recurse": False}, {"prefix": "model"}]:
        assert names(ours.named_parameters(**kwargs)) == names(theirs.named_parameters(**kwargs)), kwargs
        assert names(ours.named_buffers(**kwargs)) == names(theirs.named_buffers(**kwargs)), kwargs
    for kwargs in [{}, {"remove_duplicate": False}, {"prefix": "model"}]:
        assert names(ours.named_modules(**kwargs)) == names(theirs.named_modules(**kwargs)), kwargs
    assert names(ours.named_children()) == names(theirs.named_children())
    assert [type(m).__name__ for m in ours.modules()] == [type(m).__name__ for m in theirs.modules()]
    assert [p.shape for p in ours.parameters()] == [tuple(p.shape) for p in theirs.parameters()]
    assert len(list(ours.parameters(recurse=False))) == len(list(theirs.parameters(recurse=False))) == 1
    assert list(ours.state_dict()) == list(theirs.state_dict())  # the tied module under both names
    assert list(ours.state_dict(prefix="m.")) == list(theirs.state_dict(prefix="m."))
    assert repr(ours) == torch_repr(repr(theirs))
    assert ours.get_submodule("act.t") is ours.act.t and ours.get_submodule("") is ours
    for target in ("act.nope", "scale.x"):
        with pytest.raises(AttributeError) as info:
            theirs.get_submodule(target)
        with pytest.raises(AttributeError, match=str(info.value).replace("Parameter", ".*")):
            ours.get_submodule(target)
    # the registries are what attribute access reads
    assert ours.scale is ours._parameters["scale"] and ours.mask is ours._buffers["mask"]
    assert ours.nothing is None and ours.no_buffer is None and ours.bn is ours._modules["bn"]
    assert {"scale", "bn", "mask", "nothing"} <= set(dir(ours))


@pytest.mark.parametrize("method", ["get_parameter", "get_buffer", "get_submodule"])
def test_get_parameter_buffer_submodule_match_torch(method: str) -> None:
    """Every kind of target (a parameter, a buffer, a None one, a module, a plain attribute, a missing
    name at each level, a path through a tensor, the empty path): the same result, or an AttributeError
    with torch's message (its class names are ours: Parameter is `Parameter` in both)."""
    ours, theirs = build_net(nn, ours_tensor), build_net(tnn, torch_tensor)
    object.__setattr__(ours, "plain", 3)
    theirs.plain = 3
    targets = ["scale", "mask", "scratch", "nothing", "no_buffer", "bn", "bn.weight", "bn.running_mean",
               "bn.num_batches_tracked", "pl.0", "pd.y", "act.t", "plain", "nope", "act.nope", "nope.weight",
               "scale.x", "bn.weight.x", "", "blocks.7", "blocks.1"]
    for target in targets:
        try:
            expected: Any = getattr(theirs, method)(target)
        except AttributeError as e:
            with pytest.raises(AttributeError) as info:
                getattr(ours, method)(target)
            assert str(info.value) == str(e), target
            continue
        got = getattr(ours, method)(target)
        if expected is None:
            assert got is None, target
        elif isinstance(expected, tnn.Module):
            assert type(got).__name__ == type(expected).__name__, target
        else:
            assert type(got).__name__ == type(expected).__name__ and got.shape == tuple(expected.shape), target
            assert np.array_equal(got.detach().numpy(), expected.detach().numpy()), target
    assert ours.get_parameter("bn.weight") is ours.bn.weight and ours.get_buffer("mask") is ours.mask


def outcome(action: Callable[..., Any], *args: Any) -> type | None:
    """The type of the exception ``action(*args)`` raises, or None."""
    try:
        action(*args)
    except Exception as e:
        return type(e)
    return None


def test_assignment_rules_match_torch() -> None:
    """Each action on a fresh model of each library: the same exception type, or none; then the same names."""
    def actions(lib: Any, T: Callable[[Any], Any]) -> list[Callable[[Any], Any]]:
        return [
            lambda m: setattr(m, "scale", T([1.0, 2.0])),  # a plain tensor into a parameter's name
            lambda m: setattr(m, "scale", None),  # None keeps the name (no parameter)
            lambda m: setattr(m, "scale", lib.Parameter(T([3.0]))),
            lambda m: setattr(m, "bn", 3),  # not a module into a module's name
            lambda m: setattr(m, "bn", None),
            lambda m: setattr(m, "bn", lib.Tanh()),
            lambda m: setattr(m, "mask", "on"),  # not a tensor into a buffer's name
            lambda m: setattr(m, "mask", T([0.0, 1.0])),
            lambda m: setattr(m, "mask", None),
            lambda m: setattr(m, "plain", T([1.0])),  # a plain tensor elsewhere: an attribute, not state
            lambda m: setattr(m, "mask", lib.Parameter(T([1.0]))),  # a parameter where a buffer was
            lambda m: m.register_buffer("act", T([1.0])),  # an existing attribute
            lambda m: m.register_buffer("a.b", T([1.0])),
            lambda m: m.register_buffer("", T([1.0])),
            lambda m: m.register_buffer(3, T([1.0])),
            lambda m: m.register_buffer("list", [1.0]),
            lambda m: m.register_parameter("w", T([1.0])),  # not a Parameter
            lambda m: m.register_parameter("w", lib.Parameter(T([1.0]))),
            lambda m: m.add_module("extra", 3),
            lambda m: m.add_module("x.y", lib.Tanh()),
            lambda m: m.add_module("extra", lib.Sigmoid()),
            lambda m: delattr(m, "extra"),
            lambda m: delattr(m, "pl"),
            lambda m: m.nope,
        ]

    ours, theirs = build_net(nn, ours_tensor), build_net(tnn, torch_tensor)
    for i, (a, b) in enumerate(zip(actions(nn, ours_tensor), actions(tnn, torch_tensor))):
        assert outcome(a, ours) == outcome(b, theirs), f"action {i}"
        assert names(ours.named_parameters()) == names(theirs.named_parameters()), f"action {i}"
        assert names(ours.named_buffers()) == names(theirs.named_buffers()), f"action {i}"
        assert names(ours.named_modules()) == names(theirs.named_modules()), f"action {i}"
        assert list(ours.state_dict()) == list(theirs.state_dict()), f"action {i}"
    with pytest.raises(AttributeError, match=r"^'Net' object has no attribute 'nope'$"):
        ours.nope  # noqa: B018
    with pytest.raises(TypeError, match=r"cannot assign '.*Tensor' as parameter 'scale' \(nn.Parameter or None"):
        ours.scale = ours_tensor([1.0])
    with pytest.raises(TypeError, match=r"buffer 'list' \(Tensor or None required\)"):
        ours.register_buffer("list", [1.0])

    class Early(nn.Module):
        def __init__(self) -> None:
            self.w = nn.Parameter(ours_tensor([1.0]))

    with pytest.raises(AttributeError, match=r"Early: cannot assign parameters before Module.__init__\(\) call"):
        Early()


def test_apply_visits_children_first_and_train_reaches_overrides_like_torch() -> None:
    ours, theirs = build_net(nn, ours_tensor), build_net(tnn, torch_tensor)
    seen: dict[str, list[str]] = {"ours": [], "torch": []}
    assert ours.apply(lambda m: seen["ours"].append(type(m).__name__)) is ours
    theirs.apply(lambda m: seen["torch"].append(type(m).__name__))
    assert seen["ours"] == seen["torch"] and seen["ours"][-1] == "Net"

    class Frozen(nn.Module):  # a module that overrides train: the parent's train(mode) must call it
        def train(self, mode: bool = True) -> nn.Module:
            return super().train(False)

    ours.frozen = Frozen()
    assert ours.eval() is ours and not any(m.training for m in ours.modules())
    ours.train()
    assert [m.training for m in ours.modules()] == [not isinstance(m, Frozen) for m in ours.modules()]
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        ours.train("eval")  # type: ignore[arg-type]


def test_zero_grad_clears_or_zeroes_in_place_for_array_and_tensor_gradients() -> None:
    model = build_net(nn, ours_tensor)
    model(ours_tensor(np.random.default_rng(0).standard_normal((5, 4)))).backward()
    params = list(model.parameters())
    assert all(p.grad is not None for p in params if p is not model.pl[0] and p is not model.pd["y"])
    params[0].grad = Tensor(np.ones(4))  # as .grad will be: a Tensor
    kept = [p.grad for p in params]
    version = params[0].grad._version
    model.zero_grad(set_to_none=False)
    for p, g in zip(params, kept):
        assert p.grad is g  # the same storage, zeroed (PyTorch's zero_())
        assert g is None or not np.asarray(g.data if isinstance(g, Tensor) else g).any()
    assert params[0].grad._version > version  # a graph that saved it would refuse to run backward
    model.zero_grad()
    assert all(p.grad is None for p in params)
    assert model.requires_grad_(False) is model and not any(p.requires_grad for p in params)


def test_deepcopy_gives_an_independent_module() -> None:
    model = build_net(nn, ours_tensor)
    twin = copy.deepcopy(model)
    assert names(twin.named_parameters()) == names(model.named_parameters()) and twin.shared is twin.bn
    twin.scale.data = Tensor(np.zeros(4))
    assert model.scale.data.any() and repr(twin) == repr(model)


def test_to_converts_the_floating_state_and_refuses_other_devices() -> None:
    model = build_net(nn, lambda a: Tensor(np.array(a, dtype=np.float32)))
    model.scale.grad = Tensor(np.ones(4, dtype=np.float32))
    theirs = build_net(tnn, lambda a: torch.tensor(np.array(a, dtype=np.float32))).double()
    assert model.to("cpu") is model and model.to(device="cpu:0", dtype=None) is model
    assert model.to(tx.float64) is model
    expected = {n: str(t.dtype).replace("torch.", "") for n, t in theirs.state_dict().items()}
    ours = {n: str(a.dtype).replace("torch.", "") for n, a in model.state_dict().items()}
    assert ours == expected  # num_batches_tracked stays int64
    assert model.scale.grad.dtype == np.float64
    assert model.float().scale.dtype == np.float32 and model.to(Tensor(np.zeros(1))).scale.dtype == np.float64
    with pytest.raises(RuntimeError, match=r"runs on NumPy on the CPU: device 'cuda' is not available"):
        model.to("cuda")
    with pytest.raises(TypeError, match=r"only accepts floating point dtypes, but got desired dtype=int64"):
        model.to(np.int64)


# ----------------------------------------------------------------------------- state dicts


def test_pytorch_state_dict_loads_as_it_is_and_ours_loads_into_torch() -> None:
    ours, theirs = build_net(nn, ours_tensor), build_net(tnn, torch_tensor)
    rng = np.random.default_rng(1)
    theirs(torch_tensor(rng.standard_normal((6, 4)))).backward()  # running statistics and a batch count
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
    result = ours.load_state_dict(theirs.state_dict())  # torch tensors, PyTorch's names
    assert result.missing_keys == result.unexpected_keys == []
    assert repr(result) == repr(theirs.load_state_dict(theirs.state_dict())) == "<All keys matched successfully>"
    ours_sd, torch_sd = ours.state_dict(), theirs.state_dict()
    for name, t in torch_sd.items():
        assert ours_sd[name].dtype == t.numpy().dtype and np.array_equal(ours_sd[name], t.numpy()), name
    assert ours.shared is ours.bn and int(ours.bn.num_batches_tracked.item()) == 1
    assert ours.state_dict(keep_vars=True)["scale"] is ours.scale
    other = build_net(tnn, torch_tensor)
    other.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    for name, t in other.state_dict().items():
        assert np.array_equal(t.numpy(), torch_sd[name].numpy()), name
    ours.load_state_dict(dict(theirs.named_parameters()), strict=False)  # tensors that require grad


def test_load_state_dict_errors_name_every_key_and_load_nothing() -> None:
    ours, theirs = build_net(nn, ours_tensor), build_net(tnn, torch_tensor)
    sd = {k: v for k, v in theirs.state_dict().items() if k != "mask"}
    sd["junk"] = torch.zeros(1)
    sd["bn.weight"] = torch.zeros(3)
    sd["pl.0"] = torch.zeros((3, 2), dtype=torch.float64)
    sd["bn.num_batches_tracked"] = torch.tensor(2.5, dtype=torch.float64)  # a float into an integer buffer
    before = {k: v.clone() for k, v in ours.state_dict().items()}  # a snapshot: the values follow the model
    with pytest.raises(RuntimeError) as info:
        theirs.load_state_dict(sd)
    assert "Missing key(s)" in str(info.value) and 'Unexpected key(s) in state_dict: "junk"' in str(info.value)
    with pytest.raises(nn.module.LoadStateDictError) as ours_info:
        ours.load_state_dict(sd)
    message = str(ours_info.value)
    assert isinstance(ours_info.value, RuntimeError) and isinstance(ours_info.value, ValueError)
    assert message.startswith("load_state_dict for Net: nothing was loaded, because")
    for part in ['missing key(s) in the state dict: "mask"', 'unexpected key(s) in the state dict: "junk"',
                 "bn.weight: shape (3,) in the state dict, (4,) in the model",
                 "pl.0: shape (3, 2) in the state dict, (2, 3) in the model",
                 "bn.num_batches_tracked: dtype float64 in the state dict cannot be stored in the model's int64"]:
        assert part in message, part
    assert all(np.array_equal(before[k], v) for k, v in ours.state_dict().items())  # nothing was loaded
    # strict=False: the same missing and unexpected keys as torch, and the rest loaded
    sd = {k: v for k, v in theirs.state_dict().items() if k != "mask"} | {"junk": torch.zeros(1)}
    result, torch_result = ours.load_state_dict(sd, strict=False), theirs.load_state_dict(sd, strict=False)
    assert (result.missing_keys, result.unexpected_keys) == (torch_result.missing_keys, torch_result.unexpected_keys)
    assert repr(result) == repr(torch_result).replace("_IncompatibleKeys", "IncompatibleKeys")
    # as torch: a float32 value converts into a float64 model, a one-element vector fills a 0-d buffer
    sd = dict(theirs.state_dict()) | {"scale": torch.arange(4, dtype=torch.float32),
                                      "bn.num_batches_tracked": torch.tensor([7]),
                                      "shared.num_batches_tracked": torch.tensor([7])}  # (the same module)
    ours.load_state_dict(sd)
    theirs.load_state_dict(sd)
    assert ours.scale.dtype == np.float64 and ours.scale.data.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert ours.bn.num_batches_tracked.item() == theirs.bn.num_batches_tracked.item() == 7
    with pytest.raises(ValueError, match=r"scale: is a str, not an array"):
        ours.load_state_dict(dict(sd) | {"scale": "zeros"})


# ----------------------------------------------------------------------------- containers


def replay(ops: list[Callable[[Any, Any], Any]], ours: Any, theirs: Any, describe: Callable[[Any], Any]) -> None:
    """Run each op on both containers (op(container, lib)); the same exception type or result, the same state."""
    for i, op in enumerate(ops):
        got, want = outcome(op, ours, nn), outcome(op, theirs, tnn)
        assert got == want, f"op {i}: {got} != {want}"
        assert describe(ours) == describe(theirs), f"op {i}"


def module_names(container: Any) -> list[tuple[str, str]]:
    return [(k, type(m).__name__) for k, m in container._modules.items()]


def test_sequential_indexing_slicing_and_editing_match_torch() -> None:
    def make(lib: Any) -> Any:
        return lib.Sequential(lib.Tanh(), lib.Sigmoid(), lib.Identity(), lib.Softmax(dim=1))

    def check_result(f: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:  # the result's names must agree
        def op(seq: Any, lib: Any) -> Any:
            got = f(seq, lib)
            seq._last = [type(m).__name__ for m in got] if isinstance(got, lib.Sequential) else type(got).__name__
        return op

    ops = [
        check_result(lambda s, lib: s[0]), check_result(lambda s, lib: s[-1]), check_result(lambda s, lib: s[4]),
        check_result(lambda s, lib: s[-5]), check_result(lambda s, lib: s[1:3]), check_result(lambda s, lib: s[::-2]),
        check_result(lambda s, lib: s["0"]),
        lambda s, lib: s.append(lib.ReLU()), lambda s, lib: s.append(3),
        lambda s, lib: s.insert(0, lib.Flatten()), lambda s, lib: s.insert(-2, lib.GELU()),
        lambda s, lib: s.insert(7, lib.Tanh()), lambda s, lib: s.insert(99, lib.Tanh()),
        lambda s, lib: s.extend([lib.Sigmoid(), lib.Identity()]),
        lambda s, lib: s.__delitem__(1), lambda s, lib: s.__delitem__(slice(0, 6, 2)), lambda s, lib: s.pop(-1),
        lambda s, lib: s.__setitem__(0, lib.LogSoftmax(1)), lambda s, lib: s.__setitem__(9, lib.Tanh()),
        lambda s, lib: s.__iadd__(lib.Sequential(lib.ReLU())),
        check_result(lambda s, lib: s + lib.Sequential(lib.Tanh())),
        lambda s, lib: s + [lib.Tanh()],
    ]
    ours, theirs = make(nn), make(tnn)
    replay(ops, ours, theirs, lambda s: (module_names(s), len(s), [type(m).__name__ for m in s],
                                         getattr(s, "_last", None)))
    named = OrderedDict(first=nn.Tanh(), second=nn.Flatten())
    assert names(nn.Sequential(named).named_children()) == ["first", "second"]
    assert list(nn.Sequential(named)[1:]._modules) == ["second"]  # a slice keeps the names, as torch
    with pytest.raises(TypeError, match=r"^Sequential: argument 1: expected an nn.Module, got int$"):
        nn.Sequential(nn.Tanh(), 3)


def test_sequential_forward_and_gradients_match_torch() -> None:
    def make(lib: Any) -> Any:
        return lib.Sequential(lib.Flatten(), lib.BatchNorm1d(12), lib.Tanh(), lib.GELU(), lib.Sigmoid(),
                              lib.Identity(), lib.LogSoftmax(dim=1))

    ours, theirs = make(nn), make(tnn).double()
    x0 = np.random.default_rng(2).standard_normal((5, 3, 4)) * 2 + 1
    r = np.random.default_rng(3).standard_normal((5, 12))
    x, tx_in = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = ours(x), theirs(tx_in)
    assert_close(y.data, ty.detach().numpy(), REL, "Sequential output")
    (y * Tensor(r)).sum().backward()
    (ty * torch.from_numpy(r)).sum().backward()
    assert_close(x.grad, tx_in.grad.numpy(), REL, "input gradient")
    for (name, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(p.grad, tp.grad.numpy(), REL, name)


def test_modulelist_matches_torch() -> None:
    def make(lib: Any) -> Any:
        return lib.ModuleList([lib.ReLU(), lib.ReLU(), lib.Tanh()])

    ops = [
        lambda m, lib: m.append(lib.Tanh()), lambda m, lib: m.extend([lib.Tanh(), lib.ReLU()]),
        lambda m, lib: m.extend(lib.Tanh()), lambda m, lib: m.append(3),
        lambda m, lib: m.insert(0, lib.Sigmoid()), lambda m, lib: m.insert(3, lib.Identity()),
        lambda m, lib: m.insert(len(m), lib.Flatten()),
        lambda m, lib: setattr(m, "_seen", type(m[-1]).__name__), lambda m, lib: m[len(m)],
        lambda m, lib: setattr(m, "_seen", [type(x).__name__ for x in m[1:6:2]]),
        lambda m, lib: m.__setitem__(-2, lib.GELU()), lambda m, lib: m.__delitem__(0),
        lambda m, lib: m.__delitem__(slice(1, None, 3)), lambda m, lib: m.pop(1),
        lambda m, lib: m.__iadd__([lib.ReLU(), lib.ReLU()]),
        lambda m, lib: setattr(m, "_seen", module_names(m + lib.ModuleList([lib.Tanh()]))),
    ]
    ours, theirs = make(nn), make(tnn)
    replay(ops, ours, theirs, lambda m: (module_names(m), len(m), getattr(m, "_seen", None), repr(m)))
    assert repr(nn.ModuleList()) == repr(tnn.ModuleList()) == "ModuleList()"
    ours.insert(-1, nn.Sigmoid())  # a list's insert (torch would store it under the name "-1")
    assert type(ours[-2]).__name__ == "Sigmoid" and list(ours._modules) == [str(i) for i in range(len(ours))]


def test_moduledict_matches_torch() -> None:
    def make(lib: Any) -> Any:
        return lib.ModuleDict({"b": lib.Tanh(), "a": lib.ReLU()})

    ops = [
        lambda d, lib: d.update(OrderedDict(z=lib.Sigmoid(), c=lib.Identity())),
        lambda d, lib: d.update([("y", lib.Flatten()), ("b", lib.GELU())]),
        lambda d, lib: d.update([("y",)]), lambda d, lib: d.update(3),
        lambda d, lib: d.__setitem__("n", lib.Tanh()), lambda d, lib: d.__setitem__("n.m", lib.Tanh()),
        lambda d, lib: d.__setitem__(3, lib.Tanh()), lambda d, lib: d.__setitem__("k", 3),
        lambda d, lib: d.__delitem__("a"), lambda d, lib: d.pop("z"), lambda d, lib: d["missing"],
        lambda d, lib: setattr(d, "_seen", ("c" in d, "a" in d, list(d), list(d.keys()),
                                            [type(m).__name__ for m in d.values()], [k for k, _ in d.items()])),
    ]
    ours, theirs = make(nn), make(tnn)
    replay(ops, ours, theirs, lambda d: (module_names(d), len(d), getattr(d, "_seen", None), repr(d)))
    ours.clear()
    assert len(ours) == 0 and repr(ours) == "ModuleDict()"


def test_parameterlist_and_parameterdict_match_torch() -> None:
    def make_list(lib: Any, T: Callable[[Any], Any]) -> Any:
        return lib.ParameterList([lib.Parameter(T([1.0, 2.0])), T(np.ones((2, 2)))])

    def list_ops(lib: Any, T: Callable[[Any], Any]) -> list[Callable[[Any, Any], Any]]:
        return [lambda p, _: p.append(T([3.0])), lambda p, _: p.extend([T([4.0]), "not a tensor"]),
                lambda p, _: p.extend(T([5.0])), lambda p, _: p.__setitem__(0, T([6.0, 7.0])),
                lambda p, _: p.__setitem__(-1, 8), lambda p, _: p[9],
                lambda p, _: setattr(p, "_seen", [type(v).__name__ for v in p[1::2]]), lambda p, _: p(T([1.0]))]

    def describe(p: Any) -> Any:
        kinds = [(type(v).__name__.replace("Tensor", "Parameter"), getattr(v, "requires_grad", None)) for v in p]
        return names(p.named_parameters()), len(p), kinds, getattr(p, "_seen", None)

    ours, theirs = make_list(nn, ours_tensor), make_list(tnn, torch_tensor)
    for i, (a, b) in enumerate(zip(list_ops(nn, ours_tensor), list_ops(tnn, torch_tensor))):
        assert outcome(a, ours, nn) == outcome(b, theirs, tnn), f"op {i}"
        assert describe(ours) == describe(theirs), f"op {i}"
    assert repr(ours) == torch_repr(repr(theirs)).replace("builtins.", "")

    def make_dict(lib: Any, T: Callable[[Any], Any]) -> Any:
        return lib.ParameterDict({"z": T([1.0]), "a": lib.Parameter(T([2.0]))})  # a plain dict: inserted sorted

    def dict_ops(lib: Any, T: Callable[[Any], Any]) -> list[Callable[[Any, Any], Any]]:
        return [lambda d, _: d.update(OrderedDict(y=T([3.0]), b=T([4.0]))),
                lambda d, _: d.update([("m", T([5.0])), ("c", "text")]), lambda d, _: d.update([("m",)]),
                lambda d, _: d.__delitem__("z"), lambda d, _: d.pop("y"),
                lambda d, _: setattr(d, "_seen", (d.get("q", 0), type(d.setdefault("q", T([9.0]))).__name__,
                                                  "q" in d, list(d.keys()))),
                lambda d, _: d(T([1.0]))]

    ours, theirs = make_dict(nn, ours_tensor), make_dict(tnn, torch_tensor)
    for i, (a, b) in enumerate(zip(dict_ops(nn, ours_tensor), dict_ops(tnn, torch_tensor))):
        assert outcome(a, ours, nn) == outcome(b, theirs, tnn), f"op {i}"
        assert (list(ours), names(ours.named_parameters()), getattr(ours, "_seen", None)) == \
            (list(theirs), names(theirs.named_parameters()), getattr(theirs, "_seen", None)), f"op {i}"
    assert repr(ours) == torch_repr(repr(theirs)).replace("builtins.", "")
    with pytest.raises(TypeError, match="cannot be used as a key as it is not a string"):
        ours[3] = ours_tensor([1.0])  # (torch raises too, after adding 3 to its keys)
    (sum(p.sum() for p in ours.values() if isinstance(p, Tensor)) * 2).backward()  # the parameters are learnt
    assert all(p.grad.tolist() == [2.0] * p.numel() for p in ours.parameters())


# ----------------------------------------------------------------------------- activations


ACTIVATIONS = [
    (lambda lib: lib.Tanh(), (3, 4)), (lambda lib: lib.Sigmoid(), (3, 4)), (lambda lib: lib.ReLU(), (3, 4)),
    (lambda lib: lib.GELU(), (3, 4)), (lambda lib: lib.GELU(approximate="tanh"), (3, 4)),
    (lambda lib: lib.Identity(7, key=1), (3, 4)),
    (lambda lib: lib.Softmax(dim=0), (3, 4)), (lambda lib: lib.Softmax(dim=-1), (2, 3, 4)),
    (lambda lib: lib.LogSoftmax(dim=1), (2, 3, 4)), (lambda lib: lib.LogSoftmax(-2), (3, 4)),
    (lambda lib: lib.Flatten(), (2, 3, 4)), (lambda lib: lib.Flatten(0, -1), (2, 3, 4)),
    (lambda lib: lib.Flatten(1, 2), (2, 3, 4, 5)), (lambda lib: lib.Flatten(-2, -1), (2, 3, 4)),
]


@pytest.mark.parametrize("make, shape", ACTIVATIONS)
def test_activation_modules_match_torch(make: Callable[[Any], Any], shape: tuple[int, ...]) -> None:
    layer, tlayer = make(nn), make(tnn)
    assert repr(layer) == repr(tlayer)
    x0 = np.random.default_rng(4).standard_normal(shape) * 3
    x, tx_in = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
    y, ty = layer(x), tlayer(tx_in)
    assert_close(y.data, ty.detach().numpy(), REL, repr(layer))
    r = np.random.default_rng(5).standard_normal(y.shape)
    (y * Tensor(r)).sum().backward()
    (ty * torch.from_numpy(r)).sum().backward()
    assert_close(x.grad, tx_in.grad.numpy(), REL, f"{layer!r} input gradient")
    with pytest.raises(TypeError, match=r"expected a Tensor as input, got numpy.ndarray of shape .*wrap it"):
        layer(x0) if not isinstance(layer, nn.Identity) else nn.Tanh()(x0)


@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
@pytest.mark.parametrize("cls", ["Softmax", "LogSoftmax"])
def test_softmax_without_dim_picks_torchs_legacy_dim_with_its_warning(cls: str, ndim: int) -> None:
    x0 = np.random.default_rng(6).standard_normal((2, 3, 4, 5)[:ndim])
    with pytest.warns(UserWarning, match="Implicit dimension choice") as ours_warning:
        y = getattr(nn, cls)()(Tensor(x0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty = getattr(tnn, cls)()(torch.from_numpy(x0))
    assert_close(y.data, ty.numpy(), REL, f"{cls}() on {ndim}-d")
    assert ours_warning[0].filename == __file__  # it points at the caller, as torch's


def test_dropout_follows_the_containers_mode() -> None:
    model = nn.Sequential(nn.Dropout(0.5), nn.Tanh())
    x = Tensor(np.random.default_rng(7).standard_normal((40, 50)))
    y = model(x).detach().numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], np.tanh(2 * x.numpy()[kept]), rtol=1e-15)  # kept values scaled by 1/(1 - p)
    assert 0.4 < kept.mean() < 0.6
    np.testing.assert_array_equal(model.eval()(x).data, np.tanh(x.numpy()))


# ----------------------------------------------------------------------------- BatchNorm

BATCHNORMS = [
    ("BatchNorm1d", (8, 3), {}), ("BatchNorm1d", (6, 3, 5), {}), ("BatchNorm1d", (8, 3), {"momentum": None}),
    ("BatchNorm1d", (6, 3, 5), {"momentum": 0.3, "eps": 1e-3}), ("BatchNorm1d", (8, 3), {"affine": False}),
    ("BatchNorm1d", (6, 3, 5), {"bias": False}), ("BatchNorm1d", (8, 3), {"track_running_stats": False}),
    ("BatchNorm1d", (3, 3), {"momentum": None}),  # three values per channel: n/(n-1) = 1.5
    ("BatchNorm2d", (4, 3, 2, 5), {}), ("BatchNorm2d", (3, 3, 2, 2), {"momentum": None, "affine": False}),
]


@pytest.mark.parametrize("cls, shape, kwargs", BATCHNORMS)
def test_batchnorm_training_steps_and_evaluation_match_torch(cls: str, shape: tuple[int, ...],
                                                             kwargs: dict[str, Any]) -> None:
    bn, tbn = getattr(nn, cls)(3, **kwargs), getattr(tnn, cls)(3, **kwargs).double()
    assert repr(bn) == repr(tbn) and list(bn.state_dict()) == list(tbn.state_dict())
    rng = np.random.default_rng(8)
    with torch.no_grad():  # γ, β away from 1, 0, so that their gradients and effect are checked
        for p, tp in zip(bn.parameters(), tbn.parameters()):
            p.data = Tensor(rng.standard_normal(p.shape) + 1.0)
            tp.copy_(torch.from_numpy(p.detach().numpy()))

    def step(k: int) -> None:
        what = f"{'train' if bn.training else 'eval'} step {k}"
        scale, shift = rng.uniform(0.5, 3.0, (1, 3) + (1,) * (len(shape) - 2)), rng.standard_normal(3)
        x0 = rng.standard_normal(shape) * scale + shift.reshape((1, 3) + (1,) * (len(shape) - 2))
        r = rng.standard_normal(shape)
        x, tx_in = Tensor(x0, requires_grad=True), torch.tensor(x0, requires_grad=True)
        y, ty = bn(x), tbn(tx_in)
        assert_close(y.data, ty.detach().numpy(), REL, f"{what}: output")
        (y * Tensor(r)).sum().backward()
        (ty * torch.from_numpy(r)).sum().backward()
        assert_close(x.grad, tx_in.grad.numpy(), REL, f"{what}: input gradient")
        for (name, p), (_, tp) in zip(bn.named_parameters(), tbn.named_parameters()):
            assert_close(p.grad, tp.grad.numpy(), REL, f"{what}: {name} gradient")
            p.grad, tp.grad = None, None
        for name, t in tbn.state_dict().items():
            assert_close(bn.state_dict()[name], t.numpy(), REL, f"{what}: {name}")

    for k in range(3):
        step(k)
    bn.eval(), tbn.eval()
    for k in range(2):
        step(k)
    bn.train(), tbn.train()
    step(3)
    other = getattr(nn, cls)(3, **kwargs)
    other.load_state_dict(tbn.state_dict())  # PyTorch's state dict, buffers too
    assert all(np.array_equal(v, tbn.state_dict()[k].numpy()) for k, v in other.state_dict().items())


def test_batchnorm_refuses_bad_input_and_changes_nothing() -> None:
    bn = nn.BatchNorm1d(3)
    for x, message in [(np.ones((2, 3)), r"expected a Tensor as input"),
                       (Tensor(np.ones((2, 3, 4, 5))), r"BatchNorm1d\(3\): expected 2D or 3D input \(got 4D input"),
                       (Tensor(np.ones((2, 4))), r"input of shape \(2, 4\) has 4 channels \(dimension 1\), expected 3"),
                       (Tensor(np.ones((1, 3))), r"expected more than 1 value per channel when training, got input "
                                                 r"size \(1, 3\)")]:
        with pytest.raises((TypeError, ValueError), match=message):
            bn(x)
    assert bn.num_batches_tracked.item() == 0 and not bn.running_mean.data.any()
    with pytest.raises(ValueError, match=r"BatchNorm2d\(3\): expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(Tensor(np.ones((2, 3, 4))))
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training"):
        tnn.BatchNorm1d(3)(torch.ones(1, 3))  # (torch refuses it too)
    assert bn.eval()(Tensor(np.ones((1, 3)))).shape == (1, 3)  # one sample is fine in evaluation
    zero_eps = nn.BatchNorm1d(3, eps=0.0)
    with pytest.raises(ValueError, match=r"batch_norm eps must be positive during training, but got 0.0"):
        zero_eps(Tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match=r"BatchNorm1d: eps must be in \[0, ∞\], got -1"):
        nn.BatchNorm1d(3, eps=-1)
    with pytest.raises(TypeError, match=r"BatchNorm1d: num_features must be an int, got 3.0"):
        nn.BatchNorm1d(3.0)


# ----------------------------------------------------------------------------- nn.init

SHAPES = [(5, 3), (4, 6, 2, 2), (3, 2, 5)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_are_torchs_for_the_same_shape(shape: tuple[int, ...]) -> None:
    w, tw = Tensor(np.empty(shape)), torch.empty(shape)
    assert nn.init.fans(w) == nn.init._calculate_fan_in_and_fan_out(w) == \
        tnn.init._calculate_fan_in_and_fan_out(tw)
    for mode in ("fan_in", "fan_out", "FAN_OUT"):
        assert nn.init._calculate_correct_fan(w, mode) == tnn.init._calculate_correct_fan(tw, mode)


@pytest.mark.parametrize("shape", SHAPES)
def test_kaiming_and_xavier_draw_with_torchs_bound_and_std(shape: tuple[int, ...]) -> None:
    """Each draw is NumPy's U(-bound, bound) or N(0, std²) with bound and std from torch's own formula pieces."""
    tinit, tw = tnn.init, torch.empty(shape)

    def drawn(fn: Callable[..., Tensor], **kwargs: Any) -> bytes:
        return fn(Tensor(np.empty(shape)), generator=np.random.default_rng(9), **kwargs).detach().numpy().tobytes()

    for mode in ("fan_in", "fan_out"):
        for nonlinearity, a in [("leaky_relu", 0), ("leaky_relu", math.sqrt(5)), ("relu", 0), ("tanh", 0),
                                ("selu", 0), ("linear", 0)]:
            std = tinit.calculate_gain(nonlinearity, a) / math.sqrt(tinit._calculate_correct_fan(tw, mode))
            kwargs = {"a": a, "mode": mode, "nonlinearity": nonlinearity}
            bound = math.sqrt(3.0) * std
            assert drawn(nn.init.kaiming_uniform_, **kwargs) == \
                np.random.default_rng(9).uniform(-bound, bound, shape).tobytes()
            assert drawn(nn.init.kaiming_normal_, **kwargs) == \
                np.random.default_rng(9).normal(0.0, std, shape).tobytes()
    fan_in, fan_out = tinit._calculate_fan_in_and_fan_out(tw)
    for gain in (1.0, 5 / 3):
        std = gain * math.sqrt(2.0 / (fan_in + fan_out))
        assert drawn(nn.init.xavier_normal_, gain=gain) == np.random.default_rng(9).normal(0.0, std, shape).tobytes()
        assert drawn(nn.init.xavier_uniform_, gain=gain) == \
            np.random.default_rng(9).uniform(-math.sqrt(3) * std, math.sqrt(3) * std, shape).tobytes()


def test_constant_zeros_ones_fill_as_torch() -> None:
    for dtype, tdtype in [(np.float64, torch.float64), (np.float32, torch.float32), (np.int64, torch.int64)]:
        for fn, args in [("constant_", (2.5,)), ("constant_", (-3,)), ("zeros_", ()), ("ones_", ())]:
            w, tw = Tensor(np.full((2, 3), 7, dtype=dtype)), torch.full((2, 3), 7, dtype=tdtype)
            assert getattr(nn.init, fn)(w, *args) is w
            getattr(tnn.init, fn)(tw, *args)
            assert w.dtype == dtype and np.array_equal(w.data, tw.numpy()), (fn, args, dtype)
    p = nn.Parameter(np.zeros(3))
    nn.init.constant_(p, 0.5)
    assert p.requires_grad and p.grad_fn is None and p.data.tolist() == [0.5] * 3


def truncated_normal_cdf(x: np.ndarray, mean: float, std: float, a: float, b: float) -> np.ndarray:
    erf = np.frompyfunc(math.erf, 1, 1)

    def phi(v: Any) -> Any:
        return 0.5 * (1.0 + np.asarray(erf((np.asarray(v, dtype=np.float64) - mean) / (std * math.sqrt(2.0))),
                                       dtype=np.float64))

    return (phi(x) - phi(a)) / (phi(b) - phi(a))


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 0.02, 0.45, 0.6), (0.0, 1.0, 1.0, 3.0),
                                             (0.0, 1.0, 1.5, 6.0), (1.0, 2.0, -10.0, 0.0)])
def test_trunc_normal_draws_the_truncated_normal(mean: float, std: float, a: float, b: float) -> None:
    """Both of torch's samplers (normal draws redrawn outside [a, b] when that holds over 30% of the mass, else
    uniform draws accepted by the density): in bounds, and the Kolmogorov-Smirnov distance to the truncated
    normal below its 0.1% critical value 1.95/√n."""
    n = 100_000
    w = nn.init.trunc_normal_(Tensor(np.empty(n)), mean, std, a, b, generator=np.random.default_rng(10))
    x = np.sort(w.data)
    assert a <= x[0] and x[-1] <= b
    cdf = truncated_normal_cdf(x, mean, std, a, b)
    ks = max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n))
    assert ks < 1.95 / math.sqrt(n), ks
    w32 = nn.init.trunc_normal_(Tensor(np.empty(1000, dtype=np.float32)), mean, std, a, b)
    assert w32.dtype == np.float32 and np.float32(a) <= w32.data.min() and w32.data.max() <= np.float32(b)


def test_init_refuses_what_torch_refuses_and_warns_as_torch() -> None:
    def message(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[type, str]:
        with pytest.raises(Exception) as info:
            fn(*args, **kwargs)
        return type(info.value), str(info.value)

    w, tw = Tensor(np.empty((2, 3))), torch.empty(2, 3)
    for name, args, kwargs in [("kaiming_normal_", (), {"mode": "fan_x"}),
                               ("kaiming_normal_", (), {"nonlinearity": "x"}), ("kaiming_normal_", ("a",), {}),
                               ("trunc_normal_", (0.0, 1.0, 2.0, -2.0), {})]:
        assert message(getattr(nn.init, name), w, *args, **kwargs) == \
            message(getattr(tnn.init, name), tw, *args, **kwargs), name
    for name in ("kaiming_normal_", "xavier_normal_"):
        assert message(getattr(nn.init, name), Tensor(np.empty(3))) == message(getattr(tnn.init, name), torch.empty(3))
    with pytest.warns(UserWarning, match="zero-element tensors is a no-op"):
        nn.init.kaiming_normal_(Tensor(np.empty((0, 3))))
    for lib, t in [(nn, Tensor(np.empty(5))), (tnn, torch.empty(5))]:
        with pytest.warns(UserWarning, match=r"mean is more than 2 std from \[a, b\] in nn.init.trunc_normal_"):
            lib.init.trunc_normal_(t, mean=10.0, std=1.0, a=-1.0, b=1.0)
    with pytest.raises(ValueError, match=r"trunc_normal_: std must be positive, got 0"):
        nn.init.trunc_normal_(w, std=0.0)
    with pytest.raises(TypeError, match="kaiming_normal_.*|normal_: fills floating-point tensors only"):
        nn.init.kaiming_normal_(Tensor(np.zeros((2, 2), dtype=np.int64)))


def test_init_generator_leaves_the_package_generator_alone() -> None:
    import sys

    package_rng = sys.modules["tinygrad_tx._random"]._generator()
    before = package_rng.bit_generator.state
    for fn in (nn.init.kaiming_normal_, nn.init.xavier_normal_, nn.init.trunc_normal_):
        fn(Tensor(np.empty((3, 4))), generator=np.random.default_rng(0))
    assert package_rng.bit_generator.state == before
    tx.manual_seed(5)
    a = nn.init.trunc_normal_(Tensor(np.empty((3, 4)))).data
    tx.manual_seed(5)
    assert np.array_equal(a, nn.init.trunc_normal_(Tensor(np.empty((3, 4)))).data)
