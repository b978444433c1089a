"""The scheduler base class against torch.optim.lr_scheduler (step counting, initial_lr, resuming with
last_epoch, state_dict), its checks, and train.py's use of WarmupCosine across checkpoints.

The schedules themselves (lr_at, WarmupCosine against LambdaLR) are in test_optim.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from tinygrad_tx import Tensor, optim
from tinygrad_tx.checkpoint import load_checkpoint, save_checkpoint
from tinygrad_tx.optim import LRScheduler, WarmupCosine, lr_at
from tinygrad_tx.train import train

from . import test_train
from .test_train import small_config

corpus = test_train.corpus  # its fixture: a 30,000-character text

BASE_LRS = [1.0, 0.5, 0.25]  # powers of two: base · factor rounds the same in both libraries


def factor(s: int) -> float:
    return 0.9**s if s % 3 else 1.0 / (s + 1)


class Scaled(LRScheduler):
    """A minimal subclass, LambdaLR's rule: lr = base_lr · f(last_epoch)."""

    def __init__(self, optimizer: optim.Optimizer, f: Callable[[int], float], last_epoch: int = -1) -> None:
        self.f = f
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base * self.f(self.last_epoch) for base in self.base_lrs]


def ours_and_torchs(lrs: list[float] = BASE_LRS):
    torch = pytest.importorskip("torch")
    opt = optim.SGD([{"params": [Tensor(np.ones(2), requires_grad=True)], "lr": lr} for lr in lrs], lr=0.1)
    topt = torch.optim.SGD([{"params": [torch.ones(2, requires_grad=True)], "lr": lr} for lr in lrs], lr=0.1)
    return torch, opt, topt


def test_the_base_class_counts_steps_as_torch_does() -> None:
    torch, opt, topt = ours_and_torchs()
    sched, tsched = Scaled(opt, factor), torch.optim.lr_scheduler.LambdaLR(topt, factor)
    for step in range(12):
        assert sched.last_epoch == tsched.last_epoch == step
        assert sched.get_last_lr() == tsched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        assert [g["initial_lr"] for g in opt.param_groups] == [g["initial_lr"] for g in topt.param_groups]
        topt.step()
        tsched.step()
        sched.step()
    assert sched.base_lrs == tsched.base_lrs == BASE_LRS


def test_a_second_scheduler_keeps_the_first_ones_initial_lr_as_torch_does() -> None:
    torch, opt, topt = ours_and_torchs()
    Scaled(opt, factor)
    torch.optim.lr_scheduler.LambdaLR(topt, factor)
    opt.param_groups[0]["lr"] = topt.param_groups[0]["lr"] = 0.125  # lr changes, initial_lr stays the base
    second, tsecond = Scaled(opt, lambda s: 0.5), torch.optim.lr_scheduler.LambdaLR(topt, lambda s: 0.5)
    assert second.base_lrs == tsecond.base_lrs == BASE_LRS
    assert second.get_last_lr() == tsecond.get_last_lr() == [lr / 2 for lr in BASE_LRS]


@pytest.mark.parametrize("last_epoch", [0, 1, 7])
def test_resuming_with_last_epoch_matches_torch(last_epoch: int) -> None:
    torch, opt, topt = ours_and_torchs()
    for g, tg, lr in zip(opt.param_groups, topt.param_groups, BASE_LRS):
        g["initial_lr"] = tg["initial_lr"] = lr
        g["lr"] = tg["lr"] = 123.0  # overwritten by the first step
    sched = Scaled(opt, factor, last_epoch=last_epoch)
    tsched = torch.optim.lr_scheduler.LambdaLR(topt, factor, last_epoch=last_epoch)
    for step in range(last_epoch + 1, last_epoch + 6):
        assert sched.last_epoch == tsched.last_epoch == step
        assert sched.get_last_lr() == tsched.get_last_lr() == [g["lr"] for g in opt.param_groups]
        sched.step()
        topt.step()
        tsched.step()


def test_warmup_cosine_resumed_with_last_epoch_continues_the_schedule() -> None:
    W, T, low = 3, 10, 0.01
    opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.3)
    sched = WarmupCosine(opt, W, T, low)
    for _ in range(5):
        sched.step()
    resumed_opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=99.0)
    resumed_opt.load_state_dict(opt.state_dict())  # brings initial_lr
    resumed = WarmupCosine(resumed_opt, W, T, low, last_epoch=4)
    assert resumed.last_epoch == sched.last_epoch == 5
    for step in range(5, T + 3):
        assert resumed.get_last_lr() == sched.get_last_lr() == [lr_at(step, 0.3, W, T, low)]
        sched.step()
        resumed.step()


def test_resuming_without_initial_lr_is_a_key_error_as_in_torch() -> None:
    torch, opt, topt = ours_and_torchs()
    with pytest.raises(KeyError, match=r"param_groups\[0\] has no 'initial_lr'.*last_epoch=3"):
        Scaled(opt, factor, last_epoch=3)
    with pytest.raises(KeyError, match="initial_lr"):
        torch.optim.lr_scheduler.LambdaLR(topt, factor, last_epoch=3)
    assert all("initial_lr" not in g for g in opt.param_groups)


def test_constructor_checks() -> None:
    opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="list is not an Optimizer"):  # torch's message
        WarmupCosine([], 1, 3)
    for bad in (-2, 1.5, True, None):
        with pytest.raises(ValueError, match="last_epoch must be a whole number >= -1"):
            WarmupCosine(opt, 1, 3, last_epoch=bad)
    for warmup, total in ((2.5, 10), (2, 9.5), (True, 3), (-1, 3), ("2", 3)):  # 2.5 was truncated to 2
        with pytest.raises(ValueError, match=r"warmup_steps <= total_steps \(whole numbers\)"):
            WarmupCosine(opt, warmup, total)
    for bad in (-1.0, math.nan, math.inf, "0.1"):
        with pytest.raises(ValueError, match="invalid min_lr"):
            WarmupCosine(opt, 1, 3, min_lr=bad)
    assert opt.param_groups[0]["lr"] == 0.1 and "initial_lr" not in opt.param_groups[0]  # untouched
    sched = WarmupCosine(opt, np.int64(2), 4.0, np.float32(0.5))  # whole floats and NumPy scalars are fine
    assert (type(sched.warmup_steps), type(sched.total_steps), type(sched.min_lr)) == (int, int, float)


def test_a_group_added_after_the_scheduler_is_refused() -> None:
    opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.1)
    sched = WarmupCosine(opt, 1, 3)
    opt.add_param_group({"params": [Tensor(np.ones(1), requires_grad=True)]})
    with pytest.raises(RuntimeError, match="1 learning rates, the optimizer has 2 parameter groups"):
        sched.step()


def test_state_dict_holds_every_attribute_but_the_optimizer() -> None:
    opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.2)
    sched = WarmupCosine(opt, 2, 8, 0.01)
    sched.step()
    saved = sched.state_dict()
    assert saved == {"warmup_steps": 2, "total_steps": 8, "min_lr": 0.01, "base_lrs": [0.2], "last_epoch": 1,
                     "_last_lr": [0.2]}
    saved["base_lrs"].append(1.0)  # a copy: the scheduler is not changed through it
    assert sched.base_lrs == [0.2]


def test_load_state_dict_checks_everything_before_assigning() -> None:
    opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.2)
    good = WarmupCosine(opt, 2, 8, 0.01)
    for _ in range(4):
        good.step()
    saved = good.state_dict()

    target_opt = optim.SGD([Tensor(np.ones(2), requires_grad=True)], lr=0.7)
    target = WarmupCosine(target_opt, 1, 5)
    before = (target.state_dict(), dict(target_opt.param_groups[0]))
    bad_cases = [
        ({k: v for k, v in saved.items() if k != "_last_lr"}, r"lacks the keys \['_last_lr'\]"),
        ({**saved, "gamma": 0.1}, r"unknown keys \['gamma'\]"),
        ({**saved, "_last_lr": [0.1, 0.2]}, "2 last learning rates, the optimizer has 1 parameter groups"),
        ({**saved, "base_lrs": "0.2"}, "'base_lrs' is '0.2', not a list of numbers"),
        ({**saved, "last_epoch": 2.5}, "'last_epoch' must be a whole number >= 0"),
        ({**saved, "warmup_steps": 9}, "warmup_steps <= total_steps"),
        ({**saved, "min_lr": -1.0}, "invalid min_lr"),
        ([saved], "expected a dict"),
    ]
    for bad, message in bad_cases:
        with pytest.raises(ValueError, match=f"WarmupCosine.load_state_dict: .*{message}.*nothing was loaded"):
            target.load_state_dict(bad)
        assert (target.state_dict(), target_opt.param_groups[0]) == before

    target.load_state_dict(saved)
    assert target.state_dict() == saved and target_opt.param_groups[0]["lr"] == good.get_last_lr()[0]
    for _ in range(6):
        good.step()
        target.step()
        assert target.get_last_lr() == good.get_last_lr()


# ----------------------------------------------------------------------- train.py and checkpoints


def test_a_checkpoint_from_before_the_scheduler_resumes_exactly(corpus, tmp_path) -> None:
    full = train(small_config(corpus, str(tmp_path / "full")))
    train(small_config(corpus, str(tmp_path / "part"), stop_after=5))
    path = str(tmp_path / "part" / "ckpt.npz")
    state = load_checkpoint(path)
    for group in state["optimizer"]["param_groups"]:  # as written before train.py used WarmupCosine
        del group["initial_lr"]
        group["lr"] = lr_at(4, 3e-3, 4, 20, 3e-4)  # the rate of the last step taken
    save_checkpoint(path, state)
    resumed = train(small_config(corpus, str(tmp_path / "part")), resume=True)
    assert resumed["history"]["loss"] == full["history"]["loss"]  # bit for bit


def test_resume_schedules_from_the_lr_given_not_the_saved_initial_lr(corpus, tmp_path) -> None:
    train(small_config(corpus, str(tmp_path), stop_after=4))
    path = str(tmp_path / "ckpt.npz")
    assert [g["initial_lr"] for g in load_checkpoint(path)["optimizer"]["param_groups"]] == [3e-3, 3e-3]
    train(small_config(corpus, str(tmp_path), lr=1e-3, max_steps=30, stop_after=9), resume=True,
          explicit={"lr", "max_steps"})
    groups = load_checkpoint(path)["optimizer"]["param_groups"]
    assert [g["initial_lr"] for g in groups] == [1e-3, 1e-3]
    assert [g["lr"] for g in groups] == [lr_at(9, 1e-3, 4, 30, 3e-4)] * 2  # the rate of the next step, step 9


def test_a_run_shorter_than_its_warmup_ends_in_the_warmup(corpus, tmp_path) -> None:
    summary = train(small_config(corpus, str(tmp_path), max_steps=5, warmup_steps=8))
    groups = load_checkpoint(str(tmp_path / "ckpt.npz"))["optimizer"]["param_groups"]
    assert summary["step"] == 5 and [g["lr"] for g in groups] == [3e-3 * 6 / 8] * 2
