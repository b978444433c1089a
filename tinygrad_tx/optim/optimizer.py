"""The base class of every optimizer: parameter groups, the step loop, and saving and loading state.

A subclass is its update rule: ``_update(param, grad, state, group)`` returns the new array for
one parameter (see ``sgd.py`` and ``adam.py``). Everything else is here, in this order:

1. ``step``: the loop over parameters that calls ``_update``, and ``zero_grad``;
2. parameter groups and the validation of what a caller passes;
3. ``state_dict``/``load_state_dict``.

Two rules about arrays:

- **A parameter is never written in place.** Each step computes a new array θ' and re-points the
  parameter at it (``p._set_array(θ')``: an in-place update in PyTorch's sense, so ``p.data`` aliases
  follow). A graph that saved the old array keeps it intact (saved arrays are read-only), and the
  version bump makes a backward through such a stale graph raise a clear error instead of returning
  a wrong gradient.
- **Optimizer state is updated in place** (momentum buffers, moment estimates). No graph ever
  saves it, and updating in place saves an allocation per step.

Gradients are read from ``p.grad`` (a tensor; the update rules get its array, ``p._grad._data``). A
parameter is skipped when its ``grad`` is None, as in PyTorch, and also when it has
``requires_grad=False`` (a parameter frozen after a backward keeps its stale ``grad``; PyTorch would
still step it, here a frozen parameter never moves).

PyTorch's implementation switches are accepted with PyTorch's names and defaults, and kept in
every parameter group as PyTorch keeps them:

- ``foreach`` and ``fused`` choose among PyTorch's kernels (one loop per tensor, one per list
  of tensors, one fused C++/CUDA kernel); the update rule is the same, only the rounding can
  differ. Here there is one implementation, the loop per tensor, so they are accepted and change
  nothing. None (PyTorch's "choose for me") is stored as False, the choice made here. As in
  PyTorch, ``foreach=True`` with ``fused=True`` is refused.
- ``differentiable=True`` (backpropagate through the step) and ``capturable=True`` (steps
  recorded into a CUDA graph) cannot be honoured: an update here is NumPy arithmetic outside the
  autograd graph, and there is no device. They raise ValueError naming the option.

``optimizer.state`` is keyed by the parameter tensor, as PyTorch's (``opt.state[p]["exp_avg"]``), and a
parameter not stepped yet gets an empty dict. ``state_dict()`` numbers the parameters instead, and holds
only plain Python values and ndarrays, so it can be saved without pickle::

    {"state": {"0": {"step": 5, "exp_avg": ndarray, "exp_avg_sq": ndarray}, ...},
     "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999], ..., "params": [0, 1, 2]}, ...]}

Parameters are numbered 0, 1, 2, ... across the groups in order. State keys are those numbers
as strings. Tuples are stored as lists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from ..autograd import enable_grad
from ..autograd.function import _guarded, _held
from ..tensor import Tensor

__all__ = ["Optimizer", "ParamsT", "StateDict", "ParamState"]

ParamsT = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]
StateDict = dict[str, Any]


class ParamState(defaultdict):
    """``optimizer.state``: each parameter's state, keyed by the parameter tensor, as PyTorch's
    ``defaultdict(dict)`` (a parameter not in it gets an empty dict on first access). A Tensor hashes by
    identity (``object.__hash__``), and two live tensors never share a hash, so a lookup never calls
    ``Tensor.__eq__`` (which is elementwise): keys are matched by identity. Any key but a tensor is refused:
    the numbering of the parameters is ``state_dict()``'s, ``state_dict()["state"]["0"]``."""

    def __init__(self) -> None:
        super().__init__(dict)

    def __missing__(self, key: Any) -> dict[str, Any]:
        _check_state_key(key)
        return super().__missing__(key)

    def __setitem__(self, key: Any, value: Any) -> None:
        _check_state_key(key)
        super().__setitem__(key, value)

    def __reduce__(self) -> Any:  # copy.deepcopy and pickle: the same class, the same entries
        return type(self), (), None, None, iter(self.items())


def _check_state_key(key: Any) -> None:
    if not isinstance(key, Tensor):
        raise TypeError(f"optimizer.state is keyed by the parameter tensor, as in PyTorch: opt.state[p], not "
                        f"opt.state[{key!r}] (state_dict()['state'] numbers the parameters)")


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
        self.state: ParamState = ParamState()  # state[p]: parameter p's state (PyTorch's defaultdict(dict))
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

    # --------------------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (the default), or zero them (cut out of the graph)."""
        for group in self.param_groups:
            for p in group["params"]:
                p._zero_grad(set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient: ``p ← update(p, p.grad)``.

        ``closure``, if given, re-evaluates the loss (with gradients enabled) and returns it.
        Its value is returned.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for i, p, group in self._indexed_params():
            if not p.requires_grad or p._grad is None:
                continue
            grad = p._grad._data
            if grad.shape != p.shape:
                raise RuntimeError(
                    f"{type(self).__name__}.step: parameter {self._label(i)} has shape {p.shape} but its "
                    f"grad has shape {grad.shape}"
                )
            param = _guarded(p._data) if _held else p._data  # read-only while a live graph has saved it
            new = self._update(param, grad, self.state[p], group)
            p._set_array(np.asarray(new, dtype=p.dtype))  # a new array (a plain ndarray), never written in place
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> np.ndarray:
        """One step for one parameter: return the new array (``param`` must not be modified)."""
        raise NotImplementedError

    def _state_keys(self, group: dict[str, Any]) -> set[str]:
        """The keys of a parameter's state once it has been stepped with ``group``'s settings."""
        raise NotImplementedError

    def _check(self, group: dict[str, Any]) -> None:
        """Raise ValueError if a hyperparameter of ``group`` is out of range or cannot be honoured
        (``foreach``/``fused`` given as None are set to False here, see the module docstring)."""
        lr = group.get("lr")
        if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not lr >= 0.0:
            raise ValueError(f"invalid learning rate: {lr!r} (it must be a number >= 0)")
        _check_implementation_switches(group)

    # -------------------------------------------------------- groups and their validation
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
            for i, p, _ in self._indexed_params()
            if (entry := self.state.get(p))
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
        new_state = ParamState()
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
            new_state[p] = loaded

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


# ------------------------------------------------------------------ PyTorch's implementation switches
_KERNEL_CHOICES = ("foreach", "fused")  # which of PyTorch's kernels: the same rule, other rounding
_UNSUPPORTED = {
    "differentiable": "backpropagating through the optimizer step; here a step is NumPy arithmetic outside the "
    "autograd graph",
    "capturable": "recording steps into a CUDA graph; here there is no device and no graph to capture",
}


def _check_implementation_switches(group: dict[str, Any]) -> None:
    """Accept ``foreach``/``fused`` (None becomes False), refuse ``differentiable``/``capturable`` = True."""
    for key in _KERNEL_CHOICES:
        if key in group:
            value = group[key]
            if value is not None and not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"invalid {key}: {value!r} (it must be None, True or False)")
            group[key] = bool(value)
    if group.get("foreach") and group.get("fused"):
        raise ValueError("`fused` and `foreach` cannot be `True` together (as in PyTorch)")
    for key, what in _UNSUPPORTED.items():
        if group.get(key):
            raise ValueError(f"{key}=True is not supported: it means {what}. Leave {key}=False")
