"""torch.optim's API as PyTorch code uses it: the constructors' arguments (foreach, fused, capturable,
differentiable, decoupled_weight_decay), parameter groups edited, added, saved and loaded mid-run,
gradients held as Tensors, and PyTorch's learning-rate schedulers, all against torch in float64.

Tolerances: parameters within RTOL = 1e-12 of torch's, scale-relative per tensor (tests/test_optim.py
says why not bit-exact); learning rates *equal* to torch's, since the schedulers do the same float
operations in the same order (the recursive CosineAnnealingLR included)."""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tinygrad_tx import Tensor, optim
from tinygrad_tx.optim import lr_scheduler

from .test_optim import (
    RTOL,
    assert_params_match,
    batch,
    check_plain,
    initial_values,
    torch_params,
    torch_train_step,
    tx_loss,
    tx_params,
    tx_train_step,
)

torch = pytest.importorskip("torch")

STEPS = 10
OPTIMIZERS = ["SGD", "Adam", "AdamW"]


# ------------------------------------------------------------------------------- the signatures
def signature_of(f: Callable[..., Any], defaults: bool = True) -> list[tuple[Any, ...]]:
    """Each parameter's name, kind (positional / keyword-only) and default; not the annotations."""
    params = inspect.signature(f).parameters.values()
    return [(p.name, p.kind, p.default) if defaults else (p.name, p.kind) for p in params]


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_constructor_arguments_are_torchs(name: str) -> None:
    assert signature_of(getattr(optim, name)) == signature_of(getattr(torch.optim, name))


def test_adamw_signature_shows_fused() -> None:
    params = inspect.signature(optim.AdamW).parameters
    assert params["fused"].default is None and params["fused"].kind is inspect.Parameter.KEYWORD_ONLY
    assert "decoupled_weight_decay" not in params  # AdamW is decoupled; Adam has the switch
    assert "decoupled_weight_decay" in inspect.signature(optim.Adam).parameters


SCHEDULERS = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR"]


@pytest.mark.parametrize("name", SCHEDULERS)
def test_scheduler_arguments_are_torchs(name: str) -> None:
    assert signature_of(getattr(lr_scheduler, name)) == signature_of(getattr(torch.optim.lr_scheduler, name))
    assert getattr(optim.lr_scheduler, name) is getattr(lr_scheduler, name)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_param_groups_hold_torchs_keys(name: str) -> None:
    ours = getattr(optim, name)([Tensor(np.ones(2), requires_grad=True)]).param_groups[0]
    theirs = getattr(torch.optim, name)([torch.ones(2, requires_grad=True)]).param_groups[0]
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        if key == "params":
            continue
        expected = False if key in ("foreach", "fused") and value is None else value  # None: our choice, False
        assert ours[key] == expected and type(ours[key]) is type(expected), key


# ------------------------------------------------------------------- numbers, with every switch
def split_groups(name: str) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
    """Two parameter groups, the second overriding several of the optimizer's defaults."""
    overrides = {
        "SGD": {"lr": 0.02, "momentum": 0.5, "dampening": 0.2, "nesterov": False, "weight_decay": 0.0},
        "Adam": {"lr": 0.003, "betas": (0.8, 0.95), "eps": 1e-6, "decoupled_weight_decay": True, "amsgrad": False},
        "AdamW": {"lr": 0.003, "weight_decay": 0.0, "amsgrad": True, "maximize": True},
    }[name]

    def split(p: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"params": [p["W1"], p["W2"]]}, {"params": [p["b1"], p["b2"], p["scale"]], **overrides}]

    return split


DEFAULTS = {
    "SGD": dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
    "Adam": dict(lr=0.01, weight_decay=0.05, amsgrad=True),
    "AdamW": dict(lr=0.01, weight_decay=0.1),
}
SWITCHES = [{}, dict(foreach=False), dict(foreach=True), dict(fused=True), dict(fused=False, foreach=None)]


def both(name: str, kwargs: dict[str, Any], values: dict[str, np.ndarray] | None = None):
    values = initial_values() if values is None else values
    p, tp = tx_params(values), torch_params(values)
    split = split_groups(name)
    return p, tp, getattr(optim, name)(split(p), **kwargs), getattr(torch.optim, name)(split(tp), **kwargs)


@pytest.mark.parametrize("switches", SWITCHES, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()) or "default")
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_groups_and_switches_match_torch_with_the_same_switches(name: str, switches: dict[str, Any]) -> None:
    """foreach/fused pick torch's kernel; ours has one, which gives torch's numbers for each choice."""
    p, tp, opt, topt = both(name, {**DEFAULTS[name], **switches})
    for step in range(STEPS):
        assert tx_train_step(opt, p, step) == pytest.approx(torch_train_step(topt, tp, step), rel=RTOL)
        assert_params_match(p, tp, step)


def test_adam_with_decoupled_weight_decay_is_adamw() -> None:
    values = initial_values()
    p, tp, q = tx_params(values), torch_params(values), tx_params(values)
    adam = optim.Adam(p.values(), lr=0.01, weight_decay=0.3, decoupled_weight_decay=True)
    adamw = optim.AdamW(q.values(), lr=0.01, weight_decay=0.3)
    tadam = torch.optim.Adam(tp.values(), lr=0.01, weight_decay=0.3, decoupled_weight_decay=True)
    for step in range(STEPS):
        tx_train_step(adam, p, step), tx_train_step(adamw, q, step), torch_train_step(tadam, tp, step)
        assert all(np.array_equal(p[k].data, q[k].data) for k in p)
        assert_params_match(p, tp, step)
    plain = optim.Adam(p.values(), weight_decay=0.3)
    assert plain.param_groups[0]["decoupled_weight_decay"] is False


@pytest.mark.parametrize(
    "name,kwargs,message",
    [
        ("Adam", dict(capturable=True), "capturable=True is not supported: it means recording steps into a CUDA"),
        ("AdamW", dict(capturable=True), "capturable=True is not supported"),
        ("SGD", dict(differentiable=True), "differentiable=True is not supported: it means backpropagating"),
        ("Adam", dict(differentiable=True), "differentiable=True is not supported"),
        ("AdamW", dict(differentiable=True), "differentiable=True is not supported"),
        ("SGD", dict(fused=True, foreach=True), r"`fused` and `foreach` cannot be `True` together"),
        ("AdamW", dict(fused=True, foreach=True), r"`fused` and `foreach` cannot be `True` together"),
        ("Adam", dict(foreach="yes"), r"invalid foreach: 'yes' \(it must be None, True or False\)"),
    ],
)
def test_switches_that_cannot_be_honoured_are_refused_by_name(name: str, kwargs: dict[str, Any], message: str) -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match=message):
        getattr(optim, name)([w], **kwargs)
    with pytest.raises(ValueError, match=message):  # in a parameter group too
        getattr(optim, name)([{"params": [w], **kwargs}])
    opt = getattr(optim, name)([w])
    with pytest.raises(ValueError, match=message):
        opt.add_param_group({"params": [Tensor(np.ones(1), requires_grad=True)], **kwargs})
    assert len(opt.param_groups) == 1


def test_sgd_has_no_capturable_as_in_torch() -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match="capturable"):
        optim.SGD([w], capturable=False)
    with pytest.raises(TypeError, match="capturable"):
        torch.optim.SGD([torch.ones(2, requires_grad=True)], capturable=False)
    assert optim.SGD([w]).param_groups[0]["lr"] == torch.optim.SGD([torch.ones(1, requires_grad=True)]).defaults["lr"]


def test_keyword_only_arguments_are_keyword_only() -> None:
    w = [Tensor(np.ones(2), requires_grad=True)]
    with pytest.raises(TypeError):
        optim.SGD(w, 0.1, 0.9, 0.0, 0.0, False, True)  # maximize is keyword-only
    with pytest.raises(TypeError):
        optim.AdamW(w, 1e-3, (0.9, 0.999), 1e-8, 1e-2, False, True)


# ------------------------------------------------------------------------- editing mid-run
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_param_groups_edited_mid_run_match_torch(name: str) -> None:
    """What schedulers and users do: write group["lr"] and other settings between steps."""
    p, tp, opt, topt = both(name, DEFAULTS[name])
    edits: dict[str, list[tuple[int, str, Any]]] = {
        "SGD": [(0, "lr", 0.01), (1, "momentum", 0.95), (1, "weight_decay", 0.2)],
        "Adam": [(0, "lr", 0.002), (0, "betas", (0.85, 0.99)), (1, "weight_decay", 0.2), (1, "eps", 1e-4)],
        "AdamW": [(0, "lr", 0.002), (0, "weight_decay", 0.5), (1, "lr", 0.03)],
    }
    for step in range(STEPS):
        if step == 4:
            for gi, key, value in edits[name]:
                opt.param_groups[gi][key] = topt.param_groups[gi][key] = value
        tx_train_step(opt, p, step)
        torch_train_step(topt, tp, step)
        assert_params_match(p, tp, step)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_add_param_group_mid_run_matches_torch(name: str) -> None:
    values = initial_values()
    p, tp = tx_params(values), torch_params(values)
    opt = getattr(optim, name)([p["W1"], p["W2"], p["b1"]], **DEFAULTS[name])
    topt = getattr(torch.optim, name)([tp["W1"], tp["W2"], tp["b1"]], **DEFAULTS[name])
    for step in range(STEPS):
        if step == 3:
            opt.add_param_group({"params": [p["b2"], p["scale"]], "lr": 0.02})
            topt.add_param_group({"params": [tp["b2"], tp["scale"]], "lr": 0.02})
            assert len(opt.param_groups) == 2 and opt.param_groups[1]["weight_decay"] == DEFAULTS[name]["weight_decay"]
        tx_train_step(opt, p, step)
        torch_train_step(topt, tp, step)
        assert_params_match(p, tp, step)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_mid_run_resumes_on_torchs_path(name: str) -> None:
    """Save after 4 steps, load into a fresh optimizer on fresh tensors, finish: torch's uninterrupted run."""
    p, tp, opt, topt = both(name, DEFAULTS[name])
    for step in range(4):
        tx_train_step(opt, p, step)
        torch_train_step(topt, tp, step)
    saved = opt.state_dict()
    check_plain(saved)
    assert [set(g) for g in saved["param_groups"]] == [set(g) for g in topt.state_dict()["param_groups"]]
    resumed_p = tx_params({k: t.data for k, t in p.items()})
    resumed = getattr(optim, name)(split_groups(name)(resumed_p), lr=99.0)  # everything comes from the state
    resumed.load_state_dict(saved)
    for step in range(4, STEPS):
        tx_train_step(resumed, resumed_p, step)
        torch_train_step(topt, tp, step)
        assert_params_match(resumed_p, tp, step)


def test_load_state_dict_takes_torch_style_none_and_older_dicts() -> None:
    opt = optim.AdamW([Tensor(np.ones(2), requires_grad=True)], lr=0.1)
    saved = opt.state_dict()
    saved["param_groups"][0].update(foreach=None, fused=None)  # as torch writes them
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["foreach"] is False and opt.param_groups[0]["fused"] is False
    check_plain(opt.state_dict())
    older = opt.state_dict()  # a state dict from before these keys existed
    for key in ("foreach", "fused", "capturable", "differentiable", "decoupled_weight_decay"):
        del older["param_groups"][0][key]
    older["param_groups"][0]["lr"] = 0.25
    opt.load_state_dict(older)
    assert opt.param_groups[0]["lr"] == 0.25 and opt.param_groups[0]["decoupled_weight_decay"] is True
    adam = optim.Adam([Tensor(np.ones(2), requires_grad=True)])
    bad = adam.state_dict()
    bad["param_groups"][0]["capturable"] = True
    with pytest.raises(ValueError, match="parameter group 0: capturable=True is not supported.*nothing was loaded"):
        adam.load_state_dict(bad)
    assert adam.param_groups[0]["capturable"] is False
    decoupled = optim.AdamW([Tensor(np.ones(2), requires_grad=True)])
    decoupled.load_state_dict(adam.state_dict())  # AdamW stays AdamW, as torch's __setstate__ makes it
    assert decoupled.param_groups[0]["decoupled_weight_decay"] is True


# ------------------------------------------------------------------------ gradients as Tensors
def grads_as(p: dict[str, Tensor], kind: str) -> None:
    """Keep autograd's gradient tensors (kind "autograd"), or assign each parameter a new tensor holding
    the same values (kind "assigned", through the checked ``.grad`` setter)."""
    if kind == "assigned":
        for t in p.values():
            t.grad = Tensor(t.grad.numpy())


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_steps_with_assigned_grads_equal_steps_with_autograds_grads(name: str) -> None:
    values = initial_values()
    runs = {}
    for kind in ("autograd", "assigned"):
        p = tx_params(values)
        opt = getattr(optim, name)(split_groups(name)(p), **DEFAULTS[name])
        for step in range(4):
            opt.zero_grad()
            tx_loss(p, *batch(step)).backward()
            grads_as(p, kind)
            opt.step()
        runs[kind] = p
    for k in values:
        assert np.array_equal(runs["autograd"][k].data, runs["assigned"][k].data), k


def test_zero_grad_and_clipping_keep_tensor_grads_tensors() -> None:
    for kind in ("autograd", "assigned"):
        p = tx_params(initial_values())
        opt = optim.SGD(p.values(), lr=0.1)
        tx_loss(p, *batch(0)).backward()
        grads_as(p, kind)
        before = {k: np.array(t.grad.numpy()) for k, t in p.items()}
        total = optim.clip_grad_norm_(p.values(), 0.1)
        expected_total = math.sqrt(sum(float((g**2).sum()) for g in before.values()))
        assert total == pytest.approx(expected_total, rel=1e-14)
        for k, t in p.items():
            assert isinstance(t.grad, Tensor)
            np.testing.assert_allclose(t.grad.numpy(), before[k] * (0.1 / (total + 1e-6)), rtol=1e-15, atol=0)
        opt.zero_grad(set_to_none=False)
        for t in p.values():
            assert isinstance(t.grad, Tensor)
            assert not t.grad.numpy().any()
        opt.zero_grad()
        assert all(t.grad is None for t in p.values())


def test_a_tensor_grad_of_the_wrong_shape_is_named() -> None:
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"assign a gradient of shape \(3,\) to a tensor of shape \(2, 3\)"):
        w.grad = Tensor(np.ones(3))  # the setter refuses it, as PyTorch's
    w._grad = Tensor(np.ones(3))  # (past the setter) step still names the parameter
    with pytest.raises(RuntimeError, match=r"SGD.step: parameter 0 has shape \(2, 3\) but its grad has shape \(3,\)"):
        optim.SGD([w], lr=0.1).step()


# ------------------------------------------------------------------------------------ schedulers
BASE_LRS = [0.3, 0.07, 1.0]
SCHEDULE_CASES: list[tuple[str, dict[str, Any]]] = [
    ("LambdaLR", dict(lr_lambda=lambda s: 0.95**s)),
    ("LambdaLR", dict(lr_lambda=[lambda s: 1 / (s + 1), lambda s: 0.9**s, lambda s: math.cos(s / 9)])),
    ("StepLR", dict(step_size=7, gamma=0.3)),
    ("StepLR", dict(step_size=1)),
    ("MultiStepLR", dict(milestones=[30, 3, 10, 10], gamma=0.5)),  # unsorted, 10 twice: γ² there
    ("ExponentialLR", dict(gamma=0.93)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.9, total_iters=12)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=20)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),  # 50 steps: down, up, down ... (period 20)
    ("CosineAnnealingLR", dict(T_max=17)),
    ("CosineAnnealingLR", dict(T_max=1, eta_min=0.001)),
]


def schedule_id(case: tuple[str, dict[str, Any]]) -> str:
    name, kwargs = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in kwargs.items() if k != "lr_lambda") + ")"


def sgd_pair(lrs: list[float] = BASE_LRS):
    opt = optim.SGD([{"params": [Tensor(np.ones(2), requires_grad=True)], "lr": lr} for lr in lrs])
    topt = torch.optim.SGD([{"params": [torch.ones(2, requires_grad=True)], "lr": lr} for lr in lrs])
    return opt, topt


def assert_same_rates(sched: Any, tsched: Any, opt: optim.Optimizer, step: int) -> None:
    assert sched.last_epoch == tsched.last_epoch, step
    assert sched.get_last_lr() == tsched.get_last_lr(), f"step {step}"  # equal, not close
    assert [g["lr"] for g in opt.param_groups] == sched.get_last_lr()


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=schedule_id)
def test_schedules_equal_torchs_over_50_steps(case: tuple[str, dict[str, Any]]) -> None:
    name, kwargs = case
    opt, topt = sgd_pair()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    assert [g["initial_lr"] for g in opt.param_groups] == BASE_LRS and sched.base_lrs == tsched.base_lrs
    for step in range(50):
        assert_same_rates(sched, tsched, opt, step)
        if step == 25:  # a rate written by hand: the chainable schedules carry on from it, as torch's do
            opt.param_groups[1]["lr"] = topt.param_groups[1]["lr"] = 0.5
        topt.step()
        tsched.step()
        sched.step()


@pytest.mark.parametrize("case", SCHEDULE_CASES, ids=schedule_id)
@pytest.mark.parametrize("last_epoch", [0, 6, 19])
def test_schedules_resumed_with_last_epoch_equal_torchs(case: tuple[str, dict[str, Any]], last_epoch: int) -> None:
    name, kwargs = case
    opt, topt = sgd_pair()
    for g, tg, lr in zip(opt.param_groups, topt.param_groups, BASE_LRS):
        g["initial_lr"] = tg["initial_lr"] = lr
        g["lr"] = tg["lr"] = lr * 0.6  # the rate a loaded optimizer state would bring
    sched = getattr(lr_scheduler, name)(opt, **kwargs, last_epoch=last_epoch)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs, last_epoch=last_epoch)
    for step in range(20):
        assert_same_rates(sched, tsched, opt, step)
        topt.step()
        tsched.step()
        sched.step()


@pytest.mark.parametrize("case", [c for c in SCHEDULE_CASES if c[0] != "LambdaLR"], ids=schedule_id)
def test_step_with_an_epoch_uses_the_closed_form_as_torch_does(case: tuple[str, dict[str, Any]]) -> None:
    name, kwargs = case
    opt, topt = sgd_pair()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    tsched = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for epoch in (5, 3, 17, 40, 12):
        with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
            sched.step(epoch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tsched.step(epoch)
        assert_same_rates(sched, tsched, opt, epoch)
    with pytest.raises(ValueError, match="epoch must be a whole number >= 0"):
        sched.step(-1)


class Halving:
    """A callable object: LambdaLR saves and loads its attributes."""

    def __init__(self) -> None:
        self.rate = 0.5

    def __call__(self, step: int) -> float:
        return self.rate ** (step // 4)


@pytest.mark.parametrize("case", SCHEDULE_CASES + [("LambdaLR", dict(lr_lambda=Halving()))], ids=schedule_id)
def test_schedule_state_dict_round_trip(case: tuple[str, dict[str, Any]]) -> None:
    name, kwargs = case
    opt, _ = sgd_pair()
    sched = getattr(lr_scheduler, name)(opt, **kwargs)
    for _ in range(13):
        sched.step()
    saved, opt_saved = sched.state_dict(), opt.state_dict()
    check_plain({k: v for k, v in saved.items() if k != "lr_lambdas"})
    if isinstance(kwargs.get("lr_lambda"), Halving):
        kwargs = {"lr_lambda": Halving()}
        kwargs["lr_lambda"].rate = 123.0  # comes back as 0.5 from the state dict
        assert saved["lr_lambdas"] == [{"rate": 0.5}] * 3
    elif name == "LambdaLR":
        assert saved["lr_lambdas"] == [None] * 3  # a plain function is not saved, as in torch
    opt2, _ = sgd_pair([9.0, 9.0, 9.0])
    opt2.load_state_dict(opt_saved)
    sched2 = getattr(lr_scheduler, name)(opt2, **kwargs)
    sched2.load_state_dict(saved)
    assert sched2.get_last_lr() == sched.get_last_lr() == [g["lr"] for g in opt2.param_groups]
    for _ in range(20):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()


@pytest.mark.parametrize(
    "make,error,message",
    [
        (lambda o: lr_scheduler.StepLR(o, 0), ValueError, "StepLR: step_size must be a whole number >= 1, got 0"),
        (lambda o: lr_scheduler.StepLR(o, 2.5), ValueError, "step_size must be a whole number"),
        (lambda o: lr_scheduler.StepLR(o, 3, gamma=-0.1), ValueError, r"invalid gamma -0.1 \(it must be a number"),
        (lambda o: lr_scheduler.ExponentialLR(o, math.nan), ValueError, "ExponentialLR: invalid gamma nan"),
        (lambda o: lr_scheduler.MultiStepLR(o, [3, -1]), ValueError, r"milestones must be whole numbers >= 0"),
        (lambda o: lr_scheduler.MultiStepLR(o, 3), TypeError, "milestones must be a list of steps, got a int"),
        (lambda o: lr_scheduler.LinearLR(o, start_factor=0), ValueError, "start_factor must be > 0 and <= 1, got 0"),
        (lambda o: lr_scheduler.LinearLR(o, end_factor=1.5), ValueError, "end_factor must be >= 0 and <= 1"),
        (lambda o: lr_scheduler.LinearLR(o, total_iters=-2), ValueError, "total_iters must be a whole number >= 0"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, 0), ValueError, "T_max must be a whole number >= 1, got 0"),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, 5, eta_min=-1), ValueError, "invalid eta_min -1"),
        (lambda o: lr_scheduler.LambdaLR(o, [lambda s: 1.0]), ValueError, "expected 3 lr_lambdas .*, but got 1"),
        (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, "lr_lambda must be a function of the step, got a float"),
        (lambda o: lr_scheduler.StepLR([], 3), TypeError, "list is not an Optimizer"),
    ],
)
def test_bad_schedule_settings_are_named(make: Callable[[Any], Any], error: type, message: str) -> None:
    opt, _ = sgd_pair()
    with pytest.raises(error, match=message):
        make(opt)
    assert [g["lr"] for g in opt.param_groups] == BASE_LRS


def test_load_state_dict_checks_the_new_schedulers_settings() -> None:
    opt, _ = sgd_pair()
    sched = lr_scheduler.CosineAnnealingLR(opt, 10)
    saved = sched.state_dict()
    sched.step()
    before = sched.state_dict()
    with pytest.raises(ValueError, match="CosineAnnealingLR.load_state_dict: T_max must be a whole number >= 1.*"
                                         "nothing was loaded"):
        sched.load_state_dict({**saved, "T_max": 0})
    assert sched.state_dict() == before
    lam = lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    with pytest.raises(ValueError, match="'lr_lambdas' must be a list of 3 entries"):
        lam.load_state_dict({**lam.state_dict(), "lr_lambdas": [None]})
    with pytest.raises(ValueError, match=r"lr_lambdas\[1\] is 'x', but this scheduler's function 1 cannot take it"):
        lam.load_state_dict({**lam.state_dict(), "lr_lambdas": [None, "x", None]})


def test_training_with_step_lr_and_cosine_matches_torch() -> None:
    """The two libraries side by side: Adam with StepLR, then SGD with CosineAnnealingLR."""
    for name, kwargs, sched_name, sched_kwargs in [
        ("Adam", dict(lr=0.02), "StepLR", dict(step_size=3, gamma=0.5)),
        ("SGD", dict(lr=0.1, momentum=0.9), "CosineAnnealingLR", dict(T_max=6, eta_min=0.001)),
    ]:
        p, tp, opt, topt = both(name, kwargs)
        sched = getattr(lr_scheduler, sched_name)(opt, **sched_kwargs)
        tsched = getattr(torch.optim.lr_scheduler, sched_name)(topt, **sched_kwargs)
        for step in range(STEPS):
            tx_train_step(opt, p, step)
            torch_train_step(topt, tp, step)
            assert_params_match(p, tp, step)
            sched.step()
            tsched.step()
            assert sched.get_last_lr() == tsched.get_last_lr()
