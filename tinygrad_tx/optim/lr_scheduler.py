r"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: a scheduler sets every parameter
group's ``lr`` once per training step::

    scheduler = WarmupCosine(optimizer, warmup_steps=100, total_steps=1500, min_lr=3e-4)
    for step in range(1500):
        loss = ...; optimizer.zero_grad(); loss.backward()
        optimizer.step()      # uses the rate of this step
        scheduler.step()      # sets the rate of the next one

`LRScheduler` is the base class of every scheduler. PyTorch's schedulers, with its arguments and
its numbers (the same floating-point operations in the same order):

- `LambdaLR`: lr = base_lr · f(step), for a function f of yours;
- `StepLR`: lr × γ every ``step_size`` steps; `MultiStepLR`: lr × γ at each milestone;
- `ExponentialLR`: lr × γ every step;
- `LinearLR`: a factor going linearly from ``start_factor`` to ``end_factor`` in ``total_iters`` steps;
- `CosineAnnealingLR`: half a cosine from base_lr down to ``eta_min`` in ``T_max`` steps.

All but `LambdaLR` are *chainable*, as in PyTorch: each step multiplies the rate the group has
now (``group["lr"]``), so a rate written by hand or by another scheduler carries on. `step(epoch)`,
deprecated in PyTorch, uses the closed form of a schedule instead.

`lr_at` is the warmup + cosine formula as a pure function of the step, and `WarmupCosine` is the
scheduler that applies it (PyTorch has no class for it).
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, StateDict, _plain, _restore

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR", "LinearLR", "CosineAnnealingLR",
           "WarmupCosine", "lr_at"]


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

    A subclass supplies ``get_lr()``: the rates of step ``last_epoch``, one per group, and
    optionally ``_get_closed_form_lr()``, the same rates computed from ``base_lrs`` alone (what
    ``step(epoch)`` uses). While the constructor takes its step, ``_is_initial`` is True: the
    chainable schedules then keep the rates the groups have, as PyTorch's do.
    """

    _is_initial = False  # True only during the constructor's step (an instance attribute only then)
    _not_saved: tuple[str, ...] = ("optimizer",)  # attributes that state_dict() leaves out

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
        self._is_initial = True
        try:
            self.step()
        finally:
            del self._is_initial  # back to the class's False, and not in state_dict()

    def get_lr(self) -> list[float]:
        """The learning rates of step ``last_epoch``, one per parameter group."""
        raise NotImplementedError

    def step(self, epoch: int | None = None) -> None:
        """Move to the next step and set its rates in every group (call it after ``optimizer.step()``).

        ``step(epoch)``, deprecated in PyTorch (it warns, as PyTorch does), jumps to step ``epoch``
        and sets the rates of the closed form of the schedule (``get_lr()`` if it has none).
        """
        if epoch is None:
            self.last_epoch += 1
            lrs = self.get_lr()
        else:
            if not _is_whole(epoch) or epoch < 0:
                raise ValueError(f"{type(self).__name__}.step: epoch must be a whole number >= 0, got {epoch!r}")
            warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
            self.last_epoch = int(epoch)
            closed_form = getattr(self, "_get_closed_form_lr", None)
            lrs = closed_form() if closed_form is not None else self.get_lr()
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
        return {key: _plain(value, key) for key, value in vars(self).items() if key not in self._not_saved}

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
        self._assign(new)
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def _check_settings(self, state: dict[str, Any]) -> None:
        """Raise ValueError if a subclass's setting in ``state`` is out of range (or normalise it in place)."""

    def _assign(self, state: dict[str, Any]) -> None:
        """Take the checked ``state`` of `load_state_dict` as attributes."""
        vars(self).update(state)

    def _set_settings(self, **settings: Any) -> None:
        """Check a subclass's constructor arguments (errors name the class) and keep them as attributes."""
        try:
            self._check_settings(settings)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}: {e}") from None
        vars(self).update(settings)

    def _current_lrs(self) -> list[float]:
        """The rates the groups have now (what a chainable schedule multiplies)."""
        return [group["lr"] for group in self.optimizer.param_groups]


class LambdaLR(LRScheduler):
    """``lr = base_lr · f(last_epoch)``, with ``lr_lambda`` = f, one function for every group or a
    list of them, one per group (``torch.optim.lr_scheduler.LambdaLR``).

    ``state_dict()`` saves the attributes of a function that is a callable object (its
    ``__dict__``, which must hold plain values), and None for a plain function or lambda, whose
    code cannot be saved; loading updates the callable objects' attributes, as in PyTorch.
    """

    _not_saved = ("optimizer", "lr_lambdas")

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        n_groups = len(optimizer.param_groups)
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n_groups:
                raise ValueError(f"LambdaLR: expected {n_groups} lr_lambdas (one per group), but got {len(lr_lambda)}")
            lr_lambdas = list(lr_lambda)
        else:
            lr_lambdas = [lr_lambda] * n_groups
        for f in lr_lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be a function of the step, got a {type(f).__name__}")
        self.lr_lambdas: list[Callable[[int], float]] = lr_lambdas
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [base_lr * f(self.last_epoch) for f, base_lr in zip(self.lr_lambdas, self.base_lrs)]

    def state_dict(self) -> StateDict:
        state = super().state_dict()
        state["lr_lambdas"] = [
            None if isinstance(f, types.FunctionType) or not hasattr(f, "__dict__") else _plain(vars(f), "lr_lambdas")
            for f in self.lr_lambdas
        ]
        return state

    def _check_settings(self, state: dict[str, Any]) -> None:
        saved = state["lr_lambdas"]
        if not isinstance(saved, list) or len(saved) != len(self.lr_lambdas):
            raise ValueError(f"'lr_lambdas' must be a list of {len(self.lr_lambdas)} entries, got {saved!r}")
        for i, (entry, f) in enumerate(zip(saved, self.lr_lambdas)):
            if entry is not None and not (isinstance(entry, dict) and hasattr(f, "__dict__")):
                raise ValueError(f"lr_lambdas[{i}] is {entry!r}, but this scheduler's function {i} cannot take it")

    def _assign(self, state: dict[str, Any]) -> None:
        saved = state.pop("lr_lambdas")
        for f, entry in zip(self.lr_lambdas, saved):
            if entry is not None:
                vars(f).update(entry)
        super()._assign(state)


class StepLR(LRScheduler):
    """Multiply every group's rate by ``gamma`` every ``step_size`` steps
    (``torch.optim.lr_scheduler.StepLR``)::

        lr ← lr · γ     at steps step_size, 2 step_size, ...     (closed form: base_lr · γ^⌊s / step_size⌋)
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self._set_settings(step_size=step_size, gamma=gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs]

    def _check_settings(self, state: dict[str, Any]) -> None:
        state["step_size"] = _positive_whole("step_size", state["step_size"])
        state["gamma"] = _factor("gamma", state["gamma"])


class MultiStepLR(LRScheduler):
    """Multiply every group's rate by ``gamma`` at each of the ``milestones``
    (``torch.optim.lr_scheduler.MultiStepLR``)::

        lr ← lr · γⁿ    at a step listed n times in milestones   (closed form: base_lr · γ^(milestones ≤ s))

    The milestones are kept as a sorted list (PyTorch keeps a ``Counter``), so that
    ``state_dict()`` holds only plain values.
    """

    def __init__(
        self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if isinstance(milestones, (str, bytes)) or not isinstance(milestones, Iterable):
            raise TypeError(f"MultiStepLR: milestones must be a list of steps, got a {type(milestones).__name__}")
        self._set_settings(milestones=list(milestones), gamma=gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        n = self.milestones.count(self.last_epoch)
        if n == 0:
            return self._current_lrs()
        return [lr * self.gamma**n for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma ** bisect_right(self.milestones, self.last_epoch) for base_lr in self.base_lrs]

    def _check_settings(self, state: dict[str, Any]) -> None:
        milestones = state["milestones"]
        if not isinstance(milestones, list) or not all(_is_whole(m) and m >= 0 for m in milestones):
            raise ValueError(f"milestones must be whole numbers >= 0 (steps), got {milestones!r}")
        state["milestones"] = sorted(int(m) for m in milestones)
        state["gamma"] = _factor("gamma", state["gamma"])


class ExponentialLR(LRScheduler):
    """Multiply every group's rate by ``gamma`` every step (``torch.optim.lr_scheduler.ExponentialLR``)::

        lr ← lr · γ                                              (closed form: base_lr · γ^s)
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self._set_settings(gamma=gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]

    def _check_settings(self, state: dict[str, Any]) -> None:
        state["gamma"] = _factor("gamma", state["gamma"])


class LinearLR(LRScheduler):
    """Scale every group's rate by a factor that goes linearly from ``start_factor`` (step 0) to
    ``end_factor`` (step ``total_iters`` and after) (``torch.optim.lr_scheduler.LinearLR``)::

        factor(s) = a + (b - a) · min(s, T) / T          with a = start_factor, b = end_factor, T = total_iters

    Chainable, as in PyTorch: step 0 multiplies the rate by a, each step s = 1, ..., T by the
    ratio factor(s) / factor(s - 1) = 1 + (b - a) / (T a + (s - 1)(b - a)).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        self._set_settings(start_factor=start_factor, end_factor=end_factor, total_iters=total_iters)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        a, b, T = self.start_factor, self.end_factor, self.total_iters
        if self.last_epoch == 0:
            return [lr * a for lr in self._current_lrs()]
        if self._is_initial or self.last_epoch > T:
            return self._current_lrs()
        return [lr * (1.0 + (b - a) / (T * a + (self.last_epoch - 1) * (b - a))) for lr in self._current_lrs()]

    def _get_closed_form_lr(self) -> list[float]:
        a, b, T = self.start_factor, self.end_factor, self.total_iters
        if T == 0:  # (PyTorch divides by zero here)
            return [base_lr * a for base_lr in self.base_lrs]
        return [base_lr * (a + (b - a) * min(T, self.last_epoch) / T) for base_lr in self.base_lrs]

    def _check_settings(self, state: dict[str, Any]) -> None:
        a, b = state["start_factor"], state["end_factor"]
        if not _is_real(a) or not 0 < a <= 1:
            raise ValueError(f"start_factor must be > 0 and <= 1, got {a!r}")
        if not _is_real(b) or not 0 <= b <= 1:
            raise ValueError(f"end_factor must be >= 0 and <= 1, got {b!r}")
        if not _is_whole(state["total_iters"]) or state["total_iters"] < 0:
            raise ValueError(f"total_iters must be a whole number >= 0, got {state['total_iters']!r}")
        state.update(start_factor=float(a), end_factor=float(b), total_iters=int(state["total_iters"]))


class CosineAnnealingLR(LRScheduler):
    r"""Half a cosine from each group's base rate η_max down to ``eta_min`` in ``T_max`` steps
    (``torch.optim.lr_scheduler.CosineAnnealingLR``; SGDR's annealing, Loshchilov & Hutter,
    arXiv:1608.03983, without the restarts)::

        η(s) = η_min + ½ (η_max - η_min) (1 + cos(π s / T))                     the closed form, T = T_max

    PyTorch steps it recursively, and so does this class, to give PyTorch's numbers::

        η(s) = η_min + (η(s-1) - η_min) · (1 + cos(π s / T)) / (1 + cos(π (s-1) / T))
        η(s) = η(s-1) + (η_max - η_min) (1 - cos(π / T)) / 2      where s - 1 = T, 3T, ... (a zero denominator)

    so a rate changed by hand carries on along the curve. After T_max steps the rate climbs back
    up: the cosine goes on, with period 2 T_max.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        self._set_settings(T_max=T_max, eta_min=eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        s, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if (s - 1 - T) % (2 * T) == 0:
            return [
                lr + (base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
                for base_lr, lr in zip(self.base_lrs, self._current_lrs())
            ]
        return [
            (1 + math.cos(math.pi * s / T)) / (1 + math.cos(math.pi * (s - 1) / T)) * (lr - eta_min) + eta_min
            for lr in self._current_lrs()
        ]

    def _get_closed_form_lr(self) -> list[float]:
        s, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * s / T)) / 2 for base_lr in self.base_lrs]

    def _check_settings(self, state: dict[str, Any]) -> None:
        state["T_max"] = _positive_whole("T_max", state["T_max"])
        eta_min = state["eta_min"]
        if not _is_real(eta_min) or not 0.0 <= eta_min < math.inf:
            raise ValueError(f"invalid eta_min {eta_min!r} (it must be a number >= 0)")
        state["eta_min"] = float(eta_min)


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


def _positive_whole(name: str, x: Any) -> int:
    if not _is_whole(x) or x < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {x!r}")
    return int(x)


def _factor(name: str, x: Any) -> float:
    if not _is_real(x) or not 0.0 <= x < math.inf:
        raise ValueError(f"invalid {name} {x!r} (it must be a number >= 0)")
    return float(x)


_EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible. "
    "Please use `scheduler.step()` to step the scheduler. During the deprecation, if epoch is different from "
    "None, the closed form is used instead of the new chainable form, where available."
)
