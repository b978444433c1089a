"""Optimizers against torch.optim (SGD, Adam, AdamW, RMSprop, Adagrad, step by step in float64), state_dict round trips
and mismatches, gradient clipping, zero_grad, stale graphs, and the warmup + cosine schedule.
The tests that compare against torch take the `torch` fixture (tests/conftest.py): skipped without it."""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from tinygrad_tx import Tensor, optim

from .helpers import assert_close

if TYPE_CHECKING:
    import torch

# float64 agreement with torch after each step, as max|ours - torch| / max|torch| per parameter tensor
# (tests/helpers.py: assert_close). Not bit-exact: torch's vectorised CPU kernels use fused
# multiply-adds (lerp_, add(alpha=)) and their own sqrt, NumPy rounds each operation. Not entry by
# entry: a weight that passes near 0 (W1[2,0] = 1.7e-05 after the scheduled step 5) keeps the
# absolute rounding of the larger numbers it came from, 9e-17 there, which is 5e-12 of itself.
RTOL = 1e-12
# torch.nn.utils.clip_grad_norm_ sums squares in another order than NumPy.
CLIP_RTOL = 1e-14
# LambdaLR computes base_lr * (lr / base_lr), which may be one rounding away from lr.
LR_RTOL = 4 * np.finfo(np.float64).eps

STEPS = 10
SHAPES = {"W1": (3, 5), "b1": (5,), "W2": (5, 2), "b2": (2,), "scale": ()}

CASES: list[tuple[str, dict[str, Any]]] = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.05)),
    ("SGD", dict(lr=0.01, weight_decay=0.05, maximize=True)),
    ("SGD", dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.01, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.3, 0.6), eps=1e-6)),  # 1 - β₁ ≥ 0.5: torch's other lerp formula
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.3)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.0, maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("RMSprop", dict(lr=0.02, alpha=0.3, eps=1e-3)),  # 1 - α ≥ 0.5: torch's other lerp formula (centered)
    ("RMSprop", dict(lr=0.02, alpha=0.3, eps=1e-3, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3, maximize=True)),
]


def case_id(case: tuple[str, dict[str, Any]]) -> str:
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


# ----------------------------------------------------------------------------- the tiny model


def initial_values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    values = {name: 0.7 * rng.standard_normal(shape) for name, shape in SHAPES.items()}
    values["scale"] = np.array(1.3)
    return values


def batch(step: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(100 + step)
    return rng.standard_normal((8, 3)), rng.standard_normal((8, 2))


def tx_loss(p: dict[str, Tensor], x: np.ndarray, y: np.ndarray) -> Tensor:
    """A tanh MLP with a learned output scale and squared error (the same as `torch_loss`)."""
    h = (Tensor(x) @ p["W1"] + p["b1"]).tanh()
    out = (h @ p["W2"] + p["b2"]) * p["scale"]
    return ((out - Tensor(y)) ** 2).mean()


def torch_loss(p: dict[str, torch.Tensor], x: np.ndarray, y: np.ndarray) -> torch.Tensor:
    import torch

    h = torch.tanh(torch.from_numpy(x) @ p["W1"] + p["b1"])
    out = (h @ p["W2"] + p["b2"]) * p["scale"]
    return ((out - torch.from_numpy(y)) ** 2).mean()


def tx_params(values: dict[str, np.ndarray]) -> dict[str, Tensor]:
    return {name: Tensor(v, requires_grad=True) for name, v in values.items()}


def torch_params(values: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    import torch

    return {name: torch.tensor(v, requires_grad=True) for name, v in values.items()}


def tx_train_step(opt: optim.Optimizer, p: dict[str, Tensor], step: int) -> float:
    opt.zero_grad()
    loss = tx_loss(p, *batch(step))
    loss.backward()
    opt.step()
    return loss.item()


def torch_train_step(opt: torch.optim.Optimizer, p: dict[str, torch.Tensor], step: int) -> float:
    opt.zero_grad()
    loss = torch_loss(p, *batch(step))
    loss.backward()
    opt.step()
    return loss.item()


def assert_params_match(ours: dict[str, Tensor], theirs: dict[str, torch.Tensor], step: int) -> float:
    """Every parameter within RTOL of torch's (scale-relative); returns the worst error."""
    worst = 0.0
    for name, t in ours.items():
        assert t.dtype == np.float64
        err = assert_close(t.data, theirs[name].detach().numpy(), RTOL, f"after step {step}, {name}")
        worst = max(worst, err)
    return worst


def run_against_torch(name: str, kwargs: dict[str, Any], group_split: Callable[[dict], list] | None = None) -> float:
    """STEPS steps in both libraries from the same weights on the same data; returns the worst
    scale-relative difference seen (each step is also asserted to be within RTOL)."""
    import torch

    values = initial_values()
    p, tp = tx_params(values), torch_params(values)
    ours_in = group_split(p) if group_split else list(p.values())
    theirs_in = group_split(tp) if group_split else list(tp.values())
    opt = getattr(optim, name)(ours_in, **kwargs)
    topt = getattr(torch.optim, name)(theirs_in, **kwargs, foreach=False)
    worst = 0.0
    for step in range(STEPS):
        loss, tloss = tx_train_step(opt, p, step), torch_train_step(topt, tp, step)
        assert loss == pytest.approx(tloss, rel=RTOL)
        worst = max(worst, assert_params_match(p, tp, step))
    return worst


# ----------------------------------------------------------------------- agreement with torch


def test_parameters_are_compared_relative_to_each_tensors_scale() -> None:
    """W1 after step 5 of the scheduled run: one entry near 0 that is 5e-12 off relative to itself."""
    theirs = np.array([[0.19489, -0.54763], [0.64731, 1.704994569827908e-05]])
    ours = theirs.copy()
    ours[1, 1] = 1.7049945698371927e-05  # 9.3e-17 away: rounding at the scale of W1's other entries
    assert not np.allclose(ours, theirs, rtol=RTOL, atol=0)  # elementwise, this would fail
    assert assert_close(ours, theirs, RTOL, "W1") < 1e-15  # 9.3e-17 / 0.65
    ours[0, 0] += 2 * RTOL * np.abs(theirs).max()  # the same strictness for the large entries
    with pytest.raises(AssertionError, match=r"W1: .* at index \(0, 0\) .* > rtol 1e-12"):
        assert_close(ours, theirs, RTOL, "W1")
    with pytest.raises(AssertionError, match="all zero: it must match exactly"):
        assert_close(np.array([0.0, 1e-300]), np.zeros(2), RTOL, "b")



@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_matches_torch_step_by_step_in_float64(case: tuple[str, dict[str, Any]], torch) -> None:
    name, kwargs = case
    run_against_torch(name, kwargs)


def test_param_groups_with_their_own_hyperparameters_match_torch(torch) -> None:
    def split(p: dict) -> list[dict[str, Any]]:
        return [
            {"params": [p["W1"], p["W2"]]},
            {"params": [p["b1"], p["b2"], p["scale"]], "weight_decay": 0.0, "lr": 0.003},
        ]

    run_against_torch("AdamW", dict(lr=0.01, weight_decay=0.2), split)
    run_against_torch("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1), split)


def test_optimizer_actually_descends() -> None:
    p = tx_params(initial_values())
    opt = optim.Adam(p.values(), lr=0.05)
    x, y = batch(0)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = tx_loss(p, x, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


# -------------------------------------------------------------------------------- state_dict


def check_plain(value: Any, where: str = "state_dict") -> None:
    """Only nested dicts with str keys, lists, int, float, bool, str and ndarrays."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), f"{where}: key {k!r} is not a str"
            check_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            check_plain(v, f"{where}[{i}]")
    else:
        assert type(value) in (int, float, bool, str, np.ndarray), f"{where} is a {type(value).__name__}"


def save_without_pickle(state_dict: dict[str, Any]) -> dict[str, Any]:
    """Write a state dict as JSON + .npz (no pickle) and read it back."""
    arrays: dict[str, np.ndarray] = {}

    def encode(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            key = f"a{len(arrays)}"
            arrays[key] = v
            return {"__array__": key}
        if isinstance(v, dict):
            return {k: encode(x) for k, x in v.items()}
        if isinstance(v, list):
            return [encode(x) for x in v]
        return v

    text = json.dumps(encode(state_dict))
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    loaded = np.load(buffer, allow_pickle=False)

    def decode(v: Any) -> Any:
        if isinstance(v, dict):
            return loaded[v["__array__"]] if "__array__" in v else {k: decode(x) for k, x in v.items()}
        if isinstance(v, list):
            return [decode(x) for x in v]
        return v

    return decode(json.loads(text))


ROUND_TRIP_CASES = [c for c in CASES if c[1].get("momentum") or c[0] != "SGD"] + [("SGD", dict(lr=0.1))]


@pytest.mark.parametrize("case", ROUND_TRIP_CASES, ids=case_id)
def test_state_dict_round_trip_resumes_bit_exactly(case: tuple[str, dict[str, Any]]) -> None:
    name, kwargs = case
    cls = getattr(optim, name)
    values = initial_values()

    p_straight = tx_params(values)
    opt_straight = cls(p_straight.values(), **kwargs)
    for step in range(STEPS):
        tx_train_step(opt_straight, p_straight, step)

    p_first = tx_params(values)
    opt_first = cls(p_first.values(), **kwargs)
    for step in range(STEPS // 2):
        tx_train_step(opt_first, p_first, step)
    saved = opt_first.state_dict()
    check_plain(saved)
    saved = save_without_pickle(saved)

    # a new process, as it were: fresh tensors holding the saved weights, a fresh optimizer
    p_resumed = tx_params({k: t.data for k, t in p_first.items()})
    opt_resumed = cls(p_resumed.values(), **{**kwargs, "lr": 123.0})  # lr comes from the state dict
    opt_resumed.load_state_dict(saved)
    for entry in saved["state"].values():  # the optimizer must have copied what it loaded
        for v in entry.values():
            if isinstance(v, np.ndarray):
                v[...] = np.nan
    for step in range(STEPS // 2, STEPS):
        tx_train_step(opt_resumed, p_resumed, step)

    for k in values:
        assert np.array_equal(p_resumed[k].data, p_straight[k].data), k
    assert_state_dicts_equal(opt_resumed.state_dict(), opt_straight.state_dict())


def assert_state_dicts_equal(a: Any, b: Any) -> None:
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_state_dicts_equal(a[k], b[k])
    elif isinstance(a, list):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_state_dicts_equal(x, y)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    else:
        assert a == b


def test_state_dict_contents() -> None:
    p = tx_params(initial_values())
    opt = optim.Adam(list(p.items()), lr=0.01, amsgrad=True)
    for step in range(3):
        tx_train_step(opt, p, step)
    sd = opt.state_dict()
    check_plain(sd)
    (group,) = sd["param_groups"]
    assert group["params"] == [0, 1, 2, 3, 4]
    assert group["param_names"] == list(SHAPES)
    assert group["betas"] == [0.9, 0.999] and group["lr"] == 0.01 and group["amsgrad"] is True
    assert sd["state"]["2"]["step"] == 3
    assert set(sd["state"]["2"]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    # copies, not the optimizer's own arrays
    sd["state"]["2"]["exp_avg"][...] = 0.0
    assert np.any(opt.state_dict()["state"]["2"]["exp_avg"] != 0.0)


def test_state_dict_skips_parameters_that_never_had_a_gradient() -> None:
    a, b = Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9)
    (a * a).sum().backward()
    opt.step()
    assert list(opt.state_dict()["state"]) == ["0"]
    plain = optim.SGD([a, b], lr=0.1)  # no momentum: nothing to keep
    plain.step()
    assert plain.state_dict()["state"] == {}


def trained_adam(names: bool = True, steps: int = 5, params: list[str] | None = None) -> optim.Adam:
    values = initial_values()
    p = tx_params({k: values[k] for k in (params or list(SHAPES))})
    opt = optim.Adam(list(p.items()) if names else list(p.values()), lr=0.01)
    for step in range(steps):
        full = tx_params(values)
        full.update(p)
        opt.zero_grad()
        tx_loss(full, *batch(step)).backward()
        opt.step()
    return opt


def snapshot(opt: optim.Optimizer) -> dict[str, Any]:
    sd = opt.state_dict()
    sd["lrs"] = [g["lr"] for g in opt.param_groups]
    return sd


@pytest.mark.parametrize("names", [True, False])
def test_load_state_dict_with_a_wrong_shape_names_the_parameter_and_loads_nothing(names: bool) -> None:
    target = trained_adam(names=names, steps=2)
    before = snapshot(target)
    sd = trained_adam(steps=5).state_dict()
    sd["param_groups"][0]["lr"] = 123.0
    sd["state"]["2"]["exp_avg_sq"] = sd["state"]["2"]["exp_avg_sq"].T.copy()  # W2: (5, 2) -> (2, 5)
    label = "parameter 2 ('W2'):" if names else "parameter 2:"
    shapes = "'exp_avg_sq' has shape (2, 5), but the parameter has shape (5, 2); nothing was loaded"
    message = re.escape(f"{label} {shapes}")
    with pytest.raises(ValueError, match=message):
        target.load_state_dict(sd)
    assert_state_dicts_equal(snapshot(target), before)
    assert target.state[target.param_groups[0]["params"][0]]["step"] == 2


def test_load_state_dict_with_a_wrong_number_of_parameters_loads_nothing() -> None:
    target = trained_adam(steps=2, params=["W1", "b1", "W2", "b2"])
    before = snapshot(target)
    sd = trained_adam(steps=5).state_dict()
    with pytest.raises(ValueError, match=r"parameter group 0 has 5 parameters in the state dict, 4 in this optimizer"):
        target.load_state_dict(sd)
    assert_state_dicts_equal(snapshot(target), before)


def test_load_state_dict_with_a_wrong_number_of_groups_loads_nothing() -> None:
    values = initial_values()
    p = tx_params(values)
    target = optim.Adam([{"params": [p["W1"], p["W2"]]}, {"params": [p["b1"], p["b2"], p["scale"]]}])
    before = snapshot(target)
    with pytest.raises(ValueError, match=r"it has 1 parameter groups, this optimizer has 2"):
        target.load_state_dict(trained_adam().state_dict())
    assert_state_dicts_equal(snapshot(target), before)


def test_load_state_dict_of_another_optimizer_is_refused() -> None:
    p = tx_params(initial_values())
    sgd = optim.SGD(p.values(), lr=0.1, momentum=0.9)
    tx_train_step(sgd, p, 0)
    adam = trained_adam(names=False, steps=1)
    before = snapshot(adam)
    with pytest.raises(ValueError, match=r"parameter 0 has keys \['momentum_buffer'\], but Adam with these "
                       r"settings keeps \['exp_avg', 'exp_avg_sq', 'step'\]"):
        adam.load_state_dict(sgd.state_dict())
    assert_state_dicts_equal(snapshot(adam), before)


def test_load_state_dict_rejects_bad_entries() -> None:
    target = trained_adam(steps=1)
    before = snapshot(target)
    sd = trained_adam(steps=2).state_dict()
    sd["state"]["7"] = sd["state"]["0"]
    with pytest.raises(ValueError, match=r"state for parameter '7', which is in none of its parameter groups"):
        target.load_state_dict(sd)
    sd = trained_adam(steps=2).state_dict()
    sd["param_groups"][0]["betas"] = [0.9, 1.5]
    with pytest.raises(ValueError, match=r"parameter group 0: invalid betas"):
        target.load_state_dict(sd)
    sd = trained_adam(steps=2).state_dict()
    sd["state"]["1"]["step"] = 2.5
    with pytest.raises(ValueError, match=r"parameter 1 \('b1'\): 'step' must be a whole number"):
        target.load_state_dict(sd)
    with pytest.raises(ValueError, match=r"expected a dict with 'state' and 'param_groups'"):
        target.load_state_dict({"state": {}})
    assert_state_dicts_equal(snapshot(target), before)


def test_load_state_dict_casts_state_to_the_parameter_dtype() -> None:
    sd = trained_adam(names=False, steps=2).state_dict()
    p32 = [Tensor(v.astype(np.float32), requires_grad=True) for v in initial_values().values()]
    opt = optim.Adam(p32, lr=0.01)
    opt.load_state_dict(sd)
    assert opt.state[p32[0]]["exp_avg"].dtype == np.float32


# ----------------------------------------------------------------------------- zero_grad & co


def test_zero_grad_sets_grads_to_none_by_default() -> None:
    p = tx_params(initial_values())
    opt = optim.SGD(p.values(), lr=0.1)
    tx_loss(p, *batch(0)).backward()
    assert all(t.grad is not None for t in p.values())
    opt.zero_grad()
    assert all(t.grad is None for t in p.values())


def test_zero_grad_with_set_to_none_false_gives_zeros_and_leaves_none_alone() -> None:
    a, b = Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones(4), requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    (a * a).sum().backward()
    old = a.grad.numpy()
    opt.zero_grad(set_to_none=False)
    assert a.grad.shape == (2, 3) and a.grad.dtype == np.float64 and not a.grad.any()
    assert np.array_equal(old, 2 * np.ones((2, 3)))  # a new array: the old one is not written
    assert b.grad is None


def test_parameters_without_grad_or_not_requiring_grad_are_skipped() -> None:
    used = Tensor(np.ones(3), requires_grad=True)
    unused = Tensor(np.ones(3), requires_grad=True)
    frozen = Tensor(np.ones(3), requires_grad=True)
    opt = optim.Adam([used, unused, frozen], lr=0.1)
    ((used + frozen) ** 2).sum().backward()
    frozen.requires_grad_(False)  # frozen after backward: it has a grad but must not move
    opt.step()
    assert not np.array_equal(used.data, np.ones(3))
    assert np.array_equal(unused.data, np.ones(3)) and unused._version == 0
    assert np.array_equal(frozen.data, np.ones(3)) and frozen._version == 0
    assert [id(q) for q in opt.state] == [id(used)]  # (keyed by the parameter, compared by identity)


def test_float32_parameters_stay_float32() -> None:
    for make in (lambda ps: optim.SGD(ps, lr=np.float64(0.1), momentum=0.9), lambda ps: optim.AdamW(ps)):
        p = {k: Tensor(v.astype(np.float32), requires_grad=True) for k, v in initial_values().items()}
        opt = make(list(p.values()))
        for step in range(2):
            opt.zero_grad()
            x, y = batch(step)
            tx_loss(p, x.astype(np.float32), y.astype(np.float32)).backward()
            opt.step()
        assert all(t.dtype == np.float32 for t in p.values())
        assert all(a.dtype == np.float32 for s in opt.state.values() for a in s.values() if isinstance(a, np.ndarray))


def test_closure_is_evaluated_and_its_loss_returned() -> None:
    p = tx_params(initial_values())
    opt = optim.SGD(p.values(), lr=0.1)

    def closure() -> Tensor:
        opt.zero_grad()
        loss = tx_loss(p, *batch(0))
        loss.backward()
        return loss

    w_before = p["W1"].data.clone()
    loss = opt.step(closure)
    assert isinstance(loss, Tensor) and not np.array_equal(p["W1"].data, w_before)


# ---------------------------------------------------------------------- arrays and stale graphs


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_step_never_writes_into_a_parameter_or_gradient_array(case: tuple[str, dict[str, Any]]) -> None:
    name, kwargs = case
    p = tx_params(initial_values())
    opt = getattr(optim, name)(p.values(), **kwargs)
    for step in range(3):
        opt.zero_grad()
        tx_loss(p, *batch(step)).backward()
        arrays = {k: t._data for k, t in p.items()}
        grads = {k: t.grad for k, t in p.items()}
        copies = {k: (a.copy(), grads[k].numpy().copy()) for k, a in arrays.items()}
        versions = {k: t._version for k, t in p.items()}
        opt.step()
        for k, t in p.items():
            assert t._data is not arrays[k], k
            assert np.array_equal(arrays[k], copies[k][0]), f"{k}: the old parameter array was written"
            assert t.grad is grads[k] and np.array_equal(grads[k], copies[k][1]), f"{k}: the grad was written"
            assert t._version == versions[k] + 1


def test_state_arrays_are_updated_in_place() -> None:
    p = tx_params(initial_values())
    opt = optim.Adam(p.values(), lr=0.01, amsgrad=True)
    tx_train_step(opt, p, 0)
    first = opt.param_groups[0]["params"][0]
    buffers = {k: id(v) for k, v in opt.state[first].items() if isinstance(v, np.ndarray)}
    tx_train_step(opt, p, 1)
    assert buffers == {k: id(v) for k, v in opt.state[first].items() if isinstance(v, np.ndarray)}
    sgd = optim.SGD(p.values(), lr=0.1, momentum=0.9)
    tx_train_step(sgd, p, 0)
    scalar = sgd.param_groups[0]["params"][4]  # the 0-d parameter
    buffer = sgd.state[scalar]["momentum_buffer"]  # still an array updated in place
    assert isinstance(buffer, np.ndarray) and buffer.shape == ()
    before = buffer.copy()
    tx_train_step(sgd, p, 1)
    assert sgd.state[scalar]["momentum_buffer"] is buffer and buffer != before


def test_training_continues_after_a_step_and_a_stale_graph_raises() -> None:
    w = Tensor(np.array([[1.0, -2.0], [0.5, 3.0]]), requires_grad=True)

    def f(w: Tensor) -> Tensor:
        return (w * w).tanh().sum()

    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    loss = f(w)
    loss.backward()
    pending = f(w)  # a graph that saved w's current array
    assert not w.detach().numpy().flags.writeable  # saved arrays are read-only ...
    saved_array = w.detach().numpy()
    opt.step()  # ... and step() still works: it assigns a new array
    assert np.array_equal(saved_array, [[1.0, -2.0], [0.5, 3.0]])

    opt.zero_grad()
    loss2 = f(w)
    loss2.backward()
    opt.step()
    assert loss2.item() != loss.item()
    with pytest.raises(RuntimeError, match="modified after the forward pass"):
        pending.backward()


# ---------------------------------------------------------------------------- clip_grad_norm_


def grads_for_clipping(scale: float, dtype: Any = np.float64) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    return [np.asarray(scale * rng.standard_normal(s), dtype=dtype) for s in [(3, 4), (5,), (), (2, 2, 2)]]


@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clipped", "not-clipped"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float, dtype: Any, torch) -> None:
    grads = grads_for_clipping(2.0, dtype)
    ours = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype, requires_grad=True) for g in grads]
    for t, tt, g in zip(ours, theirs, grads):
        t.grad, tt.grad = Tensor(g), torch.from_numpy(g.copy())
    no_grad = Tensor(np.ones(3), requires_grad=True)  # a parameter without grad is ignored
    total = optim.clip_grad_norm_(ours + [no_grad], max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    rtol = CLIP_RTOL if dtype == np.float64 else 1e-6
    assert isinstance(total, float) and total == pytest.approx(ttotal.item(), rel=rtol)
    for t, tt, g in zip(ours, theirs, grads):
        assert t.grad.dtype == dtype
        # entry by entry on purpose: clipping multiplies each entry by one coefficient, so each
        # entry's relative error is the coefficient's, however small the entry
        np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=rtol, atol=0)
        if max_norm > total:
            assert np.array_equal(t.grad, g)  # scaled by exactly 1.0
    assert no_grad.grad is None


def test_clip_grad_norm_scales_to_max_norm() -> None:
    ours = [Tensor(np.zeros_like(g), requires_grad=True) for g in grads_for_clipping(10.0)]
    for t, g in zip(ours, grads_for_clipping(10.0)):
        t.grad = Tensor(g)
    optim.clip_grad_norm_(ours, 1.0)
    after = math.sqrt(sum(float((t.grad**2).sum()) for t in ours))
    assert after == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_nonfinite_and_empty(torch) -> None:
    t = Tensor(np.zeros(3), requires_grad=True)
    t.grad = Tensor(np.array([1.0, np.inf, 2.0]))
    tt = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    tt.grad = torch.tensor([1.0, np.inf, 2.0], dtype=torch.float64)
    with pytest.raises(RuntimeError, match="non-finite|is inf"):
        optim.clip_grad_norm_([t], 1.0, error_if_nonfinite=True)
    assert np.array_equal(t.grad, [1.0, np.inf, 2.0])  # nothing scaled
    total = optim.clip_grad_norm_(t, 1.0)  # a single tensor is accepted, like torch
    ttotal = torch.nn.utils.clip_grad_norm_(tt, 1.0)
    assert total == ttotal.item() == math.inf
    np.testing.assert_array_equal(t.grad, tt.grad.numpy())  # 0 · inf = nan, as in torch
    assert optim.clip_grad_norm_([Tensor(np.ones(2), requires_grad=True)], 1.0) == 0.0


# ------------------------------------------------------------------------------ construction


def test_hyperparameters_are_validated() -> None:
    p = [Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(ValueError, match="invalid learning rate"):
        optim.SGD(p, lr=-0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(p, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="invalid betas"):
        optim.Adam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="invalid eps"):
        optim.AdamW(p, eps=-1.0)
    with pytest.raises(ValueError, match="invalid weight_decay"):
        optim.AdamW([{"params": p, "weight_decay": -1.0}])
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="single Tensor"):
        optim.Adam(p[0])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": p}, {"params": p}])
    with pytest.raises(ValueError, match="leaf"):
        optim.Adam([p[0] * 2])
    with pytest.raises(TypeError, match="floating-point"):
        optim.Adam([Tensor(np.arange(3))])


def test_named_parameters_and_groups() -> None:
    p = tx_params(initial_values())
    opt = optim.AdamW(
        [
            {"params": [(k, p[k]) for k in ("W1", "W2")]},
            {"params": [(k, p[k]) for k in ("b1", "b2")], "weight_decay": 0},
        ],
        lr=0.01,
    )
    assert opt.param_groups[0]["param_names"] == ["W1", "W2"]
    assert opt.param_groups[0]["weight_decay"] == 1e-2 and opt.param_groups[1]["weight_decay"] == 0
    assert opt.param_groups[1]["lr"] == 0.01 and opt.param_groups[1]["params"] == [p["b1"], p["b2"]]
    with pytest.raises(ValueError, match="named, or none"):
        opt.add_param_group({"params": [p["scale"]]})
    opt.add_param_group({"params": [("scale", p["scale"])], "lr": 0.1})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["betas"] == (0.9, 0.999)
    assert "AdamW" in repr(opt) and "group 2: 1 parameters" in repr(opt)


# ------------------------------------------------------------------------ learning-rate schedule


def test_lr_at_boundaries() -> None:
    base, low, W, T = 3e-4, 3e-5, 4, 10
    assert [optim.lr_at(s, base, W, T, low) for s in range(W)] == [base * (s + 1) / W for s in range(W)]
    assert optim.lr_at(0, base, W, T, low) == base / W
    assert optim.lr_at(W - 1, base, W, T, low) == base  # warmup ends exactly at the base rate
    assert optim.lr_at(W, base, W, T, low) == base  # the top of the cosine
    assert optim.lr_at((W + T) // 2, base, W, T, low) == pytest.approx((base + low) / 2, rel=1e-15)
    assert optim.lr_at(T, base, W, T, low) == low
    assert all(optim.lr_at(s, base, W, T, low) == low for s in range(T, T + 20))
    decay = [optim.lr_at(s, base, W, T, low) for s in range(W, T + 1)]
    assert all(a > b for a, b in zip(decay, decay[1:]))
    assert optim.lr_at(0, base, 0, T) == base  # no warmup
    assert optim.lr_at(W - 1, base, W, W, low) == base and optim.lr_at(W, base, W, W, low) == low


SCHEDULES = [(4, 10, 0.0), (4, 10, 0.1), (0, 7, 0.05), (5, 5, 0.0), (1, 1, 0.0), (3, 50, 0.01)]


@pytest.mark.parametrize("base_lr", [1.0, 3e-4, 0.7])
@pytest.mark.parametrize("warmup,total,min_ratio", SCHEDULES)
def test_warmup_cosine_matches_torch_lambda_lr(
    base_lr: float, warmup: int, total: int, min_ratio: float, torch
) -> None:
    min_lr = min_ratio * base_lr
    opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=base_lr)
    sched = optim.WarmupCosine(opt, warmup, total, min_lr)
    topt = torch.optim.SGD([torch.ones(2, requires_grad=True)], lr=base_lr)
    tsched = torch.optim.lr_scheduler.LambdaLR(
        topt, lambda s: optim.lr_at(s, base_lr, warmup, total, min_lr) / base_lr
    )
    for step in range(total + 5):
        ours, (theirs,) = sched.get_last_lr(), tsched.get_last_lr()
        assert ours == [opt.param_groups[0]["lr"]]
        assert ours[0] == optim.lr_at(step, base_lr, warmup, total, min_lr)
        if base_lr == 1.0:
            assert ours == [theirs]
        else:
            assert ours[0] == pytest.approx(theirs, rel=LR_RTOL, abs=0)
        topt.step()
        tsched.step()
        sched.step()


def test_training_with_the_schedule_matches_torch(torch) -> None:
    base, W, T, low = 0.2, 3, 8, 0.01
    values = initial_values()
    p, tp = tx_params(values), torch_params(values)
    opt = optim.SGD(p.values(), lr=base, momentum=0.9)
    topt = torch.optim.SGD(tp.values(), lr=base, momentum=0.9, foreach=False)
    sched = optim.WarmupCosine(opt, W, T, low)
    tsched = torch.optim.lr_scheduler.LambdaLR(topt, lambda s: optim.lr_at(s, 1.0, W, T, low / base))
    for step in range(T + 2):
        tx_train_step(opt, p, step)
        torch_train_step(topt, tp, step)
        assert_params_match(p, tp, step)
        sched.step()
        tsched.step()


def test_warmup_cosine_state_dict_round_trip() -> None:
    p = [Tensor(np.ones(2), requires_grad=True)]
    opt = optim.AdamW([{"params": p}, {"params": [Tensor(np.ones(1), requires_grad=True)], "lr": 0.5}], lr=0.1)
    sched = optim.WarmupCosine(opt, 3, 12, 0.001)
    for _ in range(6):
        sched.step()
    saved, opt_saved = sched.state_dict(), opt.state_dict()
    check_plain(saved)
    check_plain(opt_saved)
    assert opt_saved["param_groups"][1]["initial_lr"] == 0.5

    opt2 = optim.AdamW([{"params": [Tensor(np.ones(2), requires_grad=True)]},
                        {"params": [Tensor(np.ones(1), requires_grad=True)]}], lr=1.0)
    opt2.load_state_dict(opt_saved)
    sched2 = optim.WarmupCosine(opt2, 3, 12, 0.001)  # resumes from the loaded initial_lr
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == sched.get_last_lr() == [g["lr"] for g in opt2.param_groups]
    for _ in range(8):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
    with pytest.raises(ValueError, match="2 base learning rates, the optimizer has 1"):
        optim.WarmupCosine(optim.SGD(p, lr=0.1), 3, 12).load_state_dict(saved)


def test_warmup_cosine_rejects_bad_settings() -> None:
    opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="warmup_steps <= total_steps"):
        optim.WarmupCosine(opt, 5, 3)
    with pytest.raises(ValueError, match="min_lr"):
        optim.WarmupCosine(opt, 1, 3, min_lr=-1.0)
