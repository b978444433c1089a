r"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: a scheduler sets every parameter
group's ``lr`` once per training step::

    scheduler = WarmupCosine(optimizer, warmup_steps=100, total_steps=1500, min_lr=3e-4)
    for step in range(1500):
        loss = ...; optimizer.zero_grad(); loss.backward()
        optimizer.step()      # uses the rate of this step
        scheduler.step()      # sets the rate of the next one

`lr_at` is the warmup + cosine formula as a pure function of the step; `WarmupCosine` is the
scheduler that applies it; `LRScheduler` is the base class of every scheduler.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .optimizer import Optimizer, StateDict, _plain, _restore

__all__ = ["LRScheduler", "WarmupCosine", "lr_at"]


def lr_at(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    r"""The learning rate for step ``step`` (0-based) of linear warmup then cosine decay.

    ::

        lr(s) = base_lr · (s + 1) / W                                          for s < W
        lr(s) = min_lr + ½ (1 + cos(π (s - W) / (T - W))) (base_lr - min_lr)   for W ≤ s ≤ T
        lr(s) = min_lr                                                          for s > T

    with W = ``warmup_steps`` and T = ``total_steps``. The warmup is nanoGPT's: the first step
    already uses base_lr / W (not 0, which would waste a step), and step W - 1 reaches base_lr.
    Step W also uses base_lr, the top of the cosine, and step T uses exactly min_lr. The cosine
    is SGDR's annealing without restarts (Loshchilov & Hutter, arXiv:1608.03983, Section 3).
    """
    if step < warmup_steps:
        return base_lr * ((step + 1) / warmup_steps)
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (base_lr - min_lr)


class LRScheduler:
    """Base class: at each ``step()``, set every group's ``lr`` to the rates of ``get_lr()``.

    As in PyTorch:

    - each group's base rate is ``group["initial_lr"]``, set from its ``lr`` by the first scheduler
      created on the optimizer (it travels with the optimizer's ``state_dict``), and kept in
      ``base_lrs``;
    - ``last_epoch`` is the step whose rates are set: creating a scheduler calls ``step()`` once,
      from ``last_epoch`` to ``last_epoch + 1``. The default -1 starts at step 0; ``last_epoch=k``
      resumes at step k + 1, and then every group must already have its ``initial_lr``.

    A subclass supplies ``get_lr()``: the rates of step ``last_epoch``, one per group.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        name = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        if not _is_whole(last_epoch) or last_epoch < -1:
            raise ValueError(f"{name}: last_epoch must be a whole number >= -1, got {last_epoch!r}")
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"{name}: param_groups[{i}] has no 'initial_lr', which resuming with last_epoch="
                        f"{last_epoch} needs; load the optimizer's state dict first, or set it"
                    )
        self.optimizer = optimizer
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._last_lr: list[float] = []
        self.step()

    def get_lr(self) -> list[float]:
        """The learning rates of step ``last_epoch``, one per parameter group."""
        raise NotImplementedError

    def step(self) -> None:
        """Move to the next step and set its rates in every group (call it after ``optimizer.step()``)."""
        self.last_epoch += 1
        lrs = self.get_lr()
        groups = self.optimizer.param_groups
        if len(lrs) != len(groups):
            raise RuntimeError(
                f"{type(self).__name__}.step: it has {len(lrs)} learning rates, the optimizer has {len(groups)} "
                f"parameter groups (a group added after the scheduler was created has no schedule)"
            )
        for group, lr in zip(groups, lrs):
            group["lr"] = lr
        self._last_lr = list(lrs)

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last ``step()`` (one per group)."""
        return list(self._last_lr)

    # --------------------------------------------------------------------- saving/loading
    def state_dict(self) -> StateDict:
        """Every attribute but the optimizer (PyTorch's rule), as plain Python values."""
        return {key: _plain(value, key) for key, value in vars(self).items() if key != "optimizer"}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Restore a ``state_dict()`` and set the rates it had in every group.

        Everything is checked first: the keys, a rate per parameter group, and the settings. On a
        mismatch this raises ValueError and the scheduler and the optimizer are left as they were.
        """

        def fail(message: str) -> None:
            raise ValueError(f"{type(self).__name__}.load_state_dict: {message}; nothing was loaded") from None

        if not isinstance(state_dict, dict):
            fail(f"expected a dict (as returned by state_dict()), got a {type(state_dict).__name__}")
        ours = self.state_dict()
        missing, unknown = sorted(set(ours) - set(state_dict)), sorted(set(state_dict) - set(ours))
        if missing or unknown:
            fail(f"it lacks the keys {missing} and has the unknown keys {unknown}")
        new = {key: _restore(state_dict[key]) for key in ours}
        n_groups = len(self.optimizer.param_groups)
        for key, what in (("base_lrs", "base learning rates"), ("_last_lr", "last learning rates")):
            rates = new[key]
            if not isinstance(rates, list) or not all(_is_real(r) for r in rates):
                fail(f"its {key!r} is {rates!r}, not a list of numbers")
            if len(rates) != n_groups:
                fail(f"it has {len(rates)} {what}, the optimizer has {n_groups} parameter groups")
        if not _is_whole(new["last_epoch"]) or new["last_epoch"] < 0:
            fail(f"its 'last_epoch' must be a whole number >= 0, got {new['last_epoch']!r}")
        new["last_epoch"] = int(new["last_epoch"])
        try:
            self._check_settings(new)
        except ValueError as e:
            fail(str(e))

        # everything checked: now assign
        vars(self).update(new)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def _check_settings(self, state: dict[str, Any]) -> None:
        """Raise ValueError if a subclass's setting in ``state`` is out of range (or normalise it in place)."""


class WarmupCosine(LRScheduler):
    """Linear warmup over ``warmup_steps``, then cosine decay to ``min_lr`` at ``total_steps``: `lr_at`.

    PyTorch has no class for this schedule; ``LambdaLR(optimizer, lambda s: lr_at(s, 1.0, W, T,
    min_lr / base_lr))`` gives it up to rounding (the tests compare the two). ``min_lr`` is one
    rate for every group.
    """

    def __init__(
        self, optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0, last_epoch: int = -1
    ) -> None:
        settings = {"warmup_steps": warmup_steps, "total_steps": total_steps, "min_lr": min_lr}
        try:
            self._check_settings(settings)
        except ValueError as e:
            raise ValueError(f"WarmupCosine: {e}") from None
        self.warmup_steps: int = settings["warmup_steps"]
        self.total_steps: int = settings["total_steps"]
        self.min_lr: float = settings["min_lr"]
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [lr_at(self.last_epoch, lr, self.warmup_steps, self.total_steps, self.min_lr) for lr in self.base_lrs]

    def _check_settings(self, state: dict[str, Any]) -> None:
        warmup, total, min_lr = state["warmup_steps"], state["total_steps"], state["min_lr"]
        if not (_is_whole(warmup) and _is_whole(total) and 0 <= warmup <= total):
            raise ValueError(
                f"need 0 <= warmup_steps <= total_steps (whole numbers), got warmup_steps={warmup!r}, "
                f"total_steps={total!r}"
            )
        if not _is_real(min_lr) or not 0.0 <= min_lr < math.inf:
            raise ValueError(f"invalid min_lr {min_lr!r} (it must be a number >= 0)")
        state.update(warmup_steps=int(warmup), total_steps=int(total), min_lr=float(min_lr))


def _is_real(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def _is_whole(x: Any) -> bool:
    return _is_real(x) and float(x).is_integer()
