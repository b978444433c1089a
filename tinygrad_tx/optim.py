"""Optimizers (`SGD`, `Adam`, `AdamW`), `clip_grad_norm_`, and a warmup + cosine learning-rate schedule.

The names, defaults and update rules are ``torch.optim``'s, and each update does its
floating-point operations in the order of torch's single-tensor code (``foreach=False``). In
float64 a run matches PyTorch to about 1e-15 relative per step. It does not match to the bit,
because PyTorch's vectorised CPU kernels use fused multiply-adds (``lerp_``, ``add(alpha=)``) and
their own ``sqrt``.

Two rules about arrays:

- **A parameter is never updated in place.** Each step computes a new array θ' and assigns it,
  ``p.data = θ'``. A graph that saved the old array keeps it intact (saved arrays are read-only),
  and the version bump from the assignment makes a backward through such a stale graph raise a
  clear error instead of returning a wrong gradient.
- **Optimizer state is updated in place** (momentum buffers, moment estimates). No graph ever
  saves it, and updating in place saves an allocation per step.

Gradients are read from ``p.grad`` (an ndarray). A parameter is skipped when its ``grad`` is None,
as in PyTorch, and also when it has ``requires_grad=False`` (a parameter frozen after a backward
keeps its stale ``grad``; PyTorch would still step it, here a frozen parameter never moves).

``state_dict()`` holds only plain Python values and ndarrays, so it can be saved without pickle::

    {"state": {"0": {"step": 5, "exp_avg": ndarray, "exp_avg_sq": ndarray}, ...},
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1, 2]}, ...]}

Parameters are numbered 0, 1, 2, ... across the groups in order. State keys are those numbers
as strings. Tuples are stored as lists.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from .autograd import enable_grad
from .tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "clip_grad_norm_", "lr_at", "WarmupCosine"]

ParamsT = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]
StateDict = dict[str, Any]


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, ``step``, ``state_dict``/``load_state_dict``.

    ``params`` is one of:

    - an iterable of Tensors;
    - an iterable of ``(name, tensor)`` pairs, as from ``model.named_parameters()``. The names
      are kept in ``group["param_names"]`` and used in error messages;
    - an iterable of dicts, the parameter groups (PyTorch's form), such as
      ``[{"params": decay}, {"params": no_decay, "weight_decay": 0.0}]``. A hyperparameter a
      group leaves out takes the optimizer's default.

    A subclass supplies ``_update(param, grad, state, group) -> new param array`` (the update
    rule for one parameter), ``_state_keys(group)`` (the state a parameter has once it has been
    stepped) and, optionally, ``_check(group)`` (validation of hyperparameters).
    """

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params must be an iterable of Tensors (or of (name, tensor) pairs, or of parameter "
                "group dicts), got a single Tensor; wrap it in a list: [p]"
            )
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        # state[i] holds parameter i's state (i counts parameters across groups, in order)
        self.state: dict[int, dict[str, Any]] = {}
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list")
        if all(isinstance(g, dict) for g in groups):
            for g in groups:
                self.add_param_group(g)
        elif any(isinstance(g, dict) for g in groups):
            raise TypeError("params must be all parameter group dicts or no dicts at all")
        else:
            self.add_param_group({"params": groups})

    # ----------------------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry")
        group = dict(param_group)  # the caller's dict is left as it is
        items = group["params"]
        if isinstance(items, Tensor):
            items = [items]
        elif isinstance(items, (set, frozenset)):
            raise TypeError("parameters must be in an ordered collection (a list), not a set")
        tensors: list[Tensor] = []
        names: list[str] = []
        for item in items:
            if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                names.append(item[0])
                item = item[1]
            if not isinstance(item, Tensor):
                raise TypeError(f"an optimizer can only optimize Tensors, got {type(item).__name__}")
            if not item.is_leaf:
                raise ValueError("an optimizer can only optimize leaf tensors (this one has a grad_fn)")
            if item.dtype.kind != "f":
                raise TypeError(f"an optimizer can only optimize floating-point tensors, got dtype {item.dtype}")
            tensors.append(item)
        if names and len(names) != len(tensors):
            raise ValueError("give every parameter of a group a name, or none of them")
        ids = [id(p) for p in tensors]
        if len(set(ids)) != len(ids):
            raise ValueError("a parameter group lists the same parameter twice")
        taken = {id(p) for g in self.param_groups for p in g["params"]}
        if taken.intersection(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        if self.param_groups and ("param_names" in self.param_groups[0]) != bool(names):
            raise ValueError("all parameter groups must be named, or none of them")
        for key, default in self.defaults.items():
            group.setdefault(key, default)
        group["params"] = tensors
        if names:
            group["param_names"] = names
        self._check(group)
        self.param_groups.append(group)

    def _indexed_params(self) -> Iterable[tuple[int, Tensor, dict[str, Any]]]:
        """(i, parameter, its group) for every parameter, i counting across groups."""
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                yield i, p, group
                i += 1

    def _label(self, i: int) -> str:
        """How error messages name parameter i: its index, and its name when known."""
        names = [n for g in self.param_groups for n in g.get("param_names", [None] * len(g["params"]))]
        params = [p for g in self.param_groups for p in g["params"]]
        name = names[i] or params[i].name
        return f"{i} ({name!r})" if name else str(i)

    # ------------------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (the default), or a fresh array of zeros."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad = np.zeros_like(p.grad)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient: ``p.data = update(p.data, p.grad)``.

        ``closure``, if given, re-evaluates the loss (with gradients enabled) and returns it.
        Its value is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for i, p, group in self._indexed_params():
            if not p.requires_grad or p.grad is None:
                continue
            if p.grad.shape != p.shape:
                raise RuntimeError(
                    f"{type(self).__name__}.step: parameter {self._label(i)} has shape {p.shape} but its "
                    f"grad has shape {p.grad.shape}"
                )
            new = self._update(p.data, p.grad, self.state.setdefault(i, {}), group)
            p.data = np.asarray(new, dtype=p.dtype)  # a new array, never written in place
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        """One step for one parameter: return the new array (``param`` must not be modified)."""
        raise NotImplementedError

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        """The keys of a parameter's state once it has been stepped with ``group``'s settings."""
        raise NotImplementedError

    def _check(self, group: dict[str, Any]) -> None:
        """Raise ValueError if a hyperparameter of ``group`` is out of range."""
        lr = group.get("lr")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr >= 0.0:
            raise ValueError(f"invalid learning rate: {lr!r} (it must be a number >= 0)")

    # --------------------------------------------------------------------- saving/loading
    def state_dict(self) -> StateDict:
        """The optimizer's state as plain Python values and copied ndarrays (see the module docstring)."""
        groups = []
        start = 0
        for gi, group in enumerate(self.param_groups):
            saved = {
                key: _plain(value, f"param_groups[{gi}][{key!r}]") for key, value in group.items() if key != "params"
            }
            saved["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(saved)
        state = {
            str(i): {key: _plain(value, f"state[{i}][{key!r}]") for key, value in entry.items()}
            for i, entry in sorted(self.state.items())
            if entry
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Load a ``state_dict()``: hyperparameters, step counts and state arrays (copied).

        Everything is checked before anything is assigned: the number of groups, the number of
        parameters in each group, the state keys, and the shape of every state array. On a
        mismatch this raises ValueError naming the parameter (index, and name when known) and
        the shapes, and the optimizer is left exactly as it was.
        """

        def fail(message: str) -> None:
            raise ValueError(f"{type(self).__name__}.load_state_dict: {message}; nothing was loaded") from None

        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            fail("expected a dict with 'state' and 'param_groups' (as returned by state_dict())")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            fail(f"it has {len(saved_groups)} parameter groups, this optimizer has {len(self.param_groups)}")

        new_groups: list[dict[str, Any]] = []
        index_of: dict[int, int] = {}  # saved parameter id -> our parameter index
        group_of: list[dict[str, Any]] = []  # our parameter index -> its new group
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            n_saved, n_ours = len(saved["params"]), len(group["params"])
            if n_saved != n_ours:
                fail(f"parameter group {gi} has {n_saved} parameters in the state dict, {n_ours} in this optimizer")
            new_group = {key: _restore(value) for key, value in saved.items() if key not in ("params", "param_names")}
            for key, value in group.items():
                new_group.setdefault(key, value)  # anything the saved group lacks stays as it is
            if "betas" in new_group:
                new_group["betas"] = tuple(new_group["betas"])
            try:
                self._check(new_group)
            except ValueError as e:
                fail(f"parameter group {gi}: {e}")
            for saved_id in saved["params"]:
                index_of[int(saved_id)] = len(group_of)
                group_of.append(new_group)
            new_groups.append(new_group)

        params = [p for _, p, _ in self._indexed_params()]
        new_state: dict[int, dict[str, Any]] = {}
        for key, entry in state_dict["state"].items():
            i = index_of.get(int(key)) if str(key).isdigit() else None
            if i is None:
                fail(f"it has state for parameter {key!r}, which is in none of its parameter groups")
            p, label = params[i], self._label(i)
            if not isinstance(entry, dict):
                fail(f"the state of parameter {label} is a {type(entry).__name__}, not a dict")
            if not entry:
                continue
            expected = self._state_keys(group_of[i])
            if set(entry) != expected:
                fail(
                    f"the state of parameter {label} has keys {sorted(entry)}, but {type(self).__name__} with "
                    f"these settings keeps {sorted(expected)}"
                )
            loaded: dict[str, Any] = {}
            for name, value in entry.items():
                if name == "step":
                    whole = isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer()
                    if isinstance(value, bool) or not whole or value < 0:
                        fail(f"parameter {label}: 'step' must be a whole number >= 0, got {value!r}")
                    loaded[name] = int(value)
                    continue
                array = np.asarray(value)
                if array.shape != p.shape:
                    fail(f"parameter {label}: {name!r} has shape {array.shape}, but the parameter has shape {p.shape}")
                loaded[name] = np.array(array, dtype=p.dtype, copy=True)
            new_state[i] = loaded

        # everything checked: now assign
        for group, new_group in zip(self.param_groups, new_groups):
            group.clear()
            group.update(new_group)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for gi, group in enumerate(self.param_groups):
            settings = ", ".join(f"{k}={v!r}" for k, v in group.items() if k not in ("params", "param_names"))
            lines.append(f"  group {gi}: {len(group['params'])} parameters, {settings}")
        return "\n".join(lines + [")"])


def _plain(value: Any, where: str) -> Any:
    """``value`` as a plain Python value (tuples become lists, ndarrays are copied)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, where) for k, v in value.items()}
    raise TypeError(
        f"state_dict: {where} is a {type(value).__name__}; only int, float, bool, str, lists and ndarrays "
        f"can be saved"
    )


def _restore(value: Any) -> Any:
    """A copy of a saved hyperparameter (lists are copied so the caller's dict is not shared)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


# ------------------------------------------------------------------------------------ SGD


class SGD(Optimizer):
    r"""Stochastic gradient descent with momentum, as ``torch.optim.SGD``.

    With learning rate η, momentum μ, dampening τ and weight decay λ, one step does::

        g ← ∇θ            (or -∇θ with maximize)
        g ← g + λ θ
        b ← g                     on the first step
        b ← μ b + (1 - τ) g       afterwards             (if μ ≠ 0)
        g ← g + μ b   with nesterov,   g ← b   without    (if μ ≠ 0)
        θ ← θ - η g

    State per parameter: ``momentum_buffer`` (b), only when μ ≠ 0.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize,
        )
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        if not group["momentum"] >= 0.0:
            raise ValueError(f"invalid momentum: {group['momentum']!r} (it must be >= 0)")
        if not group["weight_decay"] >= 0.0:
            raise ValueError(f"invalid weight_decay: {group['weight_decay']!r} (it must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("nesterov momentum needs momentum > 0 and dampening = 0")

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        return {"momentum_buffer"} if group["momentum"] != 0 else set()

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        # Python floats, so that float32 parameters are updated in float32 arithmetic
        lr, mu, tau, lam = (float(group[k]) for k in ("lr", "momentum", "dampening", "weight_decay"))
        g = -grad if group["maximize"] else grad
        if lam != 0:
            g = g + lam * param
        if mu != 0:
            b = state.get("momentum_buffer")
            if b is None:
                b = state["momentum_buffer"] = np.array(g, dtype=param.dtype, copy=True)
            else:
                b *= mu
                b += (1 - tau) * g
            g = g + mu * b if group["nesterov"] else b
        return param - lr * g


# ----------------------------------------------------------------------------------- Adam


class Adam(Optimizer):
    r"""Adam, as ``torch.optim.Adam``. Weight decay is L2: λθ is added to the gradient.

    With learning rate η, betas (β₁, β₂), ε and weight decay λ, step t (1, 2, ...) does::

        g ← ∇θ            (or -∇θ with maximize)
        g ← g + λ θ                          (AdamW instead: θ ← θ (1 - η λ))
        m ← β₁ m + (1 - β₁) g                (computed as torch's lerp: m + (1 - β₁)(g - m))
        v ← β₂ v + (1 - β₂) g²
        v̂ ← max(v̂, v) with amsgrad, else v̂ = v
        θ ← θ - η / (1 - β₁ᵗ) · m / (√v̂ / √(1 - β₂ᵗ) + ε)

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v), and
    ``max_exp_avg_sq`` (v̂) with amsgrad.
    """

    _decoupled_weight_decay = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize
        )
        super().__init__(params, defaults)

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        beta1, beta2 = group["betas"]
        if not 0.0 <= beta1 < 1.0 or not 0.0 <= beta2 < 1.0:
            raise ValueError(f"invalid betas: {group['betas']!r} (each must be in [0, 1))")
        if not group["eps"] >= 0.0:
            raise ValueError(f"invalid eps: {group['eps']!r} (it must be >= 0)")
        if not group["weight_decay"] >= 0.0:
            raise ValueError(f"invalid weight_decay: {group['weight_decay']!r} (it must be >= 0)")

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        keys = {"step", "exp_avg", "exp_avg_sq"}
        return keys | {"max_exp_avg_sq"} if group["amsgrad"] else keys

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        # Python floats, so that float32 parameters are updated in float32 arithmetic
        lr, eps, lam = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        t = state["step"]

        g = -grad if group["maximize"] else grad
        if lam != 0:
            if self._decoupled_weight_decay:
                param = param * (1 - lr * lam)  # a new array: the caller's is never written
            else:
                g = g + lam * param
        _lerp_(m, g, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * g * g

        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2**0.5
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            denom = np.sqrt(v_max) / bias_correction2_sqrt + eps
        else:
            denom = np.sqrt(v) / bias_correction2_sqrt + eps
        return param + (-step_size * m) / denom


class AdamW(Adam):
    r"""Adam with decoupled weight decay, as ``torch.optim.AdamW``.

    The update is `Adam`'s except that weight decay shrinks the parameter directly, before the
    Adam step, instead of being added to the gradient::

        θ ← θ (1 - η λ)
        θ ← θ - η / (1 - β₁ᵗ) · m / (√v̂ / √(1 - β₂ᵗ) + ε)

    so the decay is not rescaled by √v̂. The default λ is 1e-2.
    """

    _decoupled_weight_decay = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """start ← start + w (end - start), in place, with torch's two formulas (exact at w = 0 and w = 1)."""
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1 - weight)


# ------------------------------------------------------------------------------ clipping


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    r"""Scale all gradients together so that their total norm is at most ``max_norm``.

    With ``‖·‖`` the p-norm (``norm_type``: p > 0, ``inf`` or ``-inf`` for max or min |g|, 0 for
    the count of non-zeros), the total norm is the norm of the vector of per-tensor norms::

        N = ‖(‖g₁‖, ‖g₂‖, ...)‖        (= ‖ all gradients concatenated ‖)
        g ← g · min(1, max_norm / (N + 1e-6))

    Returns N, the norm *before* clipping, as a float. Parameters whose ``grad`` is None are
    ignored. The gradients are replaced by new arrays, not scaled in place. The arithmetic is
    done in the gradients' dtype, as ``torch.nn.utils.clip_grad_norm_`` does it.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    norms = np.stack([_vector_norm(g, norm_type) for g in grads])
    total_norm = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total_norm)}, so "
            f"it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway"
        )
    clip_coef = max_norm / (total_norm + 1e-6)
    clip_coef_clamped = np.minimum(clip_coef, 1.0)
    with np.errstate(invalid="ignore"):  # an infinite norm gives 0 · inf = nan, as in torch
        for p in params:
            if p.grad is not None:
                p.grad = np.asarray(p.grad * clip_coef_clamped.astype(p.grad.dtype))  # 0-d stays an array
    return float(total_norm)


def _vector_norm(x: np.ndarray, p: float) -> np.ndarray:
    """The p-norm of all of ``x``'s elements, as a 0-d array of ``x``'s dtype."""
    a = np.abs(x)
    if a.size == 0:
        return np.zeros((), x.dtype)
    if p == math.inf:
        norm = a.max()
    elif p == -math.inf:
        norm = a.min()
    elif p == 0:
        norm = np.count_nonzero(a)
    elif p == 1:
        norm = a.sum()
    elif p == 2:
        norm = np.sqrt((a * a).sum())
    else:
        norm = (a**p).sum() ** (1 / p)
    return np.asarray(norm, dtype=x.dtype)


# ----------------------------------------------------------------------- learning rates


def lr_at(step: int, base_lr: float, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> float:
    r"""The learning rate for step ``step`` (0-based) of linear warmup then cosine decay.

    ::

        lr(s) = base_lr · (s + 1) / W                                          for s < W
        lr(s) = min_lr + ½ (1 + cos(π (s - W) / (T - W))) (base_lr - min_lr)   for W ≤ s ≤ T
        lr(s) = min_lr                                                          for s > T

    with W = ``warmup_steps`` and T = ``total_steps``. The warmup is nanoGPT's: the first step
    already uses base_lr / W (not 0, which would waste a step), and step W - 1 reaches base_lr.
    Step W also uses base_lr, the top of the cosine, and step T uses exactly min_lr.
    """
    if step < warmup_steps:
        return base_lr * ((step + 1) / warmup_steps)
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (base_lr - min_lr)


class WarmupCosine:
    """Set each group's ``lr`` to `lr_at` (linear warmup, then cosine decay to ``min_lr``).

    Use it like a PyTorch scheduler. Creating it sets the rate for step 0. Call
    ``optimizer.step()`` and then ``scheduler.step()`` once per training step. Each group's base
    rate is its ``lr`` when the scheduler was created, kept in ``group["initial_lr"]`` as PyTorch
    keeps it. ``last_epoch`` counts the ``step()`` calls (PyTorch's name).
    """

    def __init__(self, optimizer: Optimizer, warmup_steps: int, total_steps: int, min_lr: float = 0.0) -> None:
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(
                f"WarmupCosine: need 0 <= warmup_steps <= total_steps, got warmup_steps={warmup_steps}, "
                f"total_steps={total_steps}"
            )
        if not min_lr >= 0.0:
            raise ValueError(f"WarmupCosine: invalid min_lr {min_lr!r} (it must be >= 0)")
        self.optimizer = optimizer
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)
        self.min_lr = float(min_lr)
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._last_lr: list[float] = []
        self._apply()

    def _apply(self) -> None:
        self._last_lr = [
            lr_at(self.last_epoch, base_lr, self.warmup_steps, self.total_steps, self.min_lr)
            for base_lr in self.base_lrs
        ]
        for group, lr in zip(self.optimizer.param_groups, self._last_lr):
            group["lr"] = lr

    def step(self) -> None:
        """Move to the next step and set its learning rate in every group."""
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        """The learning rates set by the last call (one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> StateDict:
        """The schedule's settings and position, as plain Python values."""
        return {
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps,
            "min_lr": self.min_lr,
        }

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Restore a ``state_dict()`` and set the learning rate of the restored step."""
        base_lrs = list(state_dict["base_lrs"])
        if len(base_lrs) != len(self.optimizer.param_groups):
            raise ValueError(
                f"WarmupCosine.load_state_dict: it has {len(base_lrs)} base learning rates, the optimizer "
                f"has {len(self.optimizer.param_groups)} parameter groups; nothing was loaded"
            )
        self.last_epoch = int(state_dict["last_epoch"])
        self.base_lrs = base_lrs
        self.warmup_steps = int(state_dict["warmup_steps"])
        self.total_steps = int(state_dict["total_steps"])
        self.min_lr = float(state_dict["min_lr"])
        self._apply()
