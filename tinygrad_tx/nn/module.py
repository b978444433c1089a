"""`Module` and `Parameter`: containers of parameters with PyTorch's vocabulary.

A module registers the `Parameter`s and sub-modules assigned to its attributes, in order, so
``named_parameters()`` yields dotted names (``h.0.attn.c_attn.weight``) in the order data flows.
Calling a module records its dotted path on every op it runs (``Function.scope``), so a graph can
be drawn grouped by module.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import function as _function
from ..tensor import Tensor

__all__ = ["Parameter", "Module", "ModuleList", "IncompatibleKeys"]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` did not load: model names absent from the state dict
    (``missing_keys``) and state-dict names the model does not have (``unexpected_keys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Parameter(Tensor):
    """A tensor that is a module's learnable parameter (``requires_grad=True`` by default)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer. Subclasses assign parameters/modules in ``__init__`` and define
    ``forward``."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_scope_path", "")

    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        # replacing a parameter by a parameter (or a module by a module, as apply_lora does) keeps
        # its place in the order, as in PyTorch
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    # -- calling ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = _function._scope
        if not scope:  # the outermost call names every sub-module by its dotted path
            for name, m in self.named_modules():
                object.__setattr__(m, "_scope_path", name)
        scope.append(self._scope_path)
        try:
            return self.forward(*args, **kwargs)
        finally:
            scope.pop()

    # -- traversal ----------------------------------------------------------------------------
    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first. A module
        reachable by several paths is given once (its first path) unless ``remove_duplicate=False``."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if remove_duplicate:
                if id(m) in seen:
                    continue
                seen.add(id(m))
            yield name, m
            children = [(f"{name}.{k}" if name else k, c) for k, c in m._modules.items()]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._modules.items()

    def children(self) -> Iterator[Module]:
        yield from self._modules.values()

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter in registration order. A shared (tied)
        parameter is given once, under its first name, unless ``remove_duplicate=False``.
        ``recurse=False``: only this module's own parameters."""
        seen: set[int] = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else iter([(prefix, self)])
        for mname, m in modules:
            for pname, p in m._parameters.items():
                if remove_duplicate:
                    if id(p) in seen:
                        continue
                    seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar parameters (only those with requires_grad if ``trainable_only``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # -- state ------------------------------------------------------------------------------------
    def state_dict(self) -> OrderedDict[str, np.ndarray]:
        """Every parameter's array (a copy), by dotted name. As in PyTorch, a shared (tied)
        parameter appears under each of its names."""
        return OrderedDict((name, p._data.copy()) for name, p in self.named_parameters(remove_duplicate=False))

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays into the parameters. Everything is checked first (names, shapes, dtypes);
        on any mismatch a clear error names the parameter and nothing is loaded. A shared
        parameter is expected under each of its names (as `state_dict` gives it).

        Values may be NumPy arrays (what `state_dict` gives), `Tensor`s or `Parameter`s. torch tensors
        are refused: ``nn.from_torch_state_dict`` loads them, transposing nn.Linear's (out, in) weights.

        Returns ``(missing_keys, unexpected_keys)``, as PyTorch does (both empty when ``strict``)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}")
        params = dict(self.named_parameters(remove_duplicate=False))
        missing = [k for k in params if k not in state_dict]
        unexpected = [k for k in state_dict if k not in params]
        problems = []
        if strict and missing:
            problems.append(f"missing parameters: {', '.join(missing)}")
        if strict and unexpected:
            problems.append(f"unexpected parameters: {', '.join(unexpected)}")
        arrays = {}
        for name, p in params.items():
            if name not in state_dict:
                continue
            value = _state_array(state_dict[name])
            if isinstance(value, str):
                problems.append(f"{name}: {value}")
                continue
            arrays[name] = value
            if value.shape != p.shape:
                problems.append(f"{name}: shape {value.shape} in the state dict, {p.shape} in the model")
            elif value.dtype != p.dtype:
                problems.append(f"{name}: dtype {value.dtype} in the state dict, {p.dtype} in the model")
        if problems:
            raise ValueError("load_state_dict: nothing was loaded, because\n  " + "\n  ".join(problems))
        for name, p in params.items():
            if name in arrays:
                p._set_array(np.array(arrays[name], dtype=p.dtype, copy=True))  # in place, as PyTorch's copy_
        return IncompatibleKeys(missing, unexpected)

    # -- modes ----------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and every descendant."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"train: mode must be True or False, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (the default), or zero them in place."""
        for p in self.parameters():
            p._zero_grad(set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- display ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"


def _state_array(value: Any) -> np.ndarray | str:
    """A state-dict value as an array, or what is wrong with it."""
    if isinstance(value, Tensor):  # a Parameter too (np.asarray would refuse one that requires grad)
        return value._data
    if type(value).__module__.split(".")[0] == "torch":
        return ("is a torch tensor: use nn.from_torch_state_dict(model, state_dict), which transposes "
                "nn.Linear's (out, in) weights")
    if isinstance(value, (np.ndarray, np.generic, int, float, list, tuple)):
        array = np.asarray(value)
        if array.dtype.kind in "biuf":
            return array
        return f"holds {array.dtype} values, not real numbers"
    return f"is a {type(value).__name__}, not an array"


class ModuleList(Module):
    """A list of modules, registered as children ``0``, ``1``, ..."""

    def __init__(self, modules: Any = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"ModuleList.append: expected an nn.Module, got {type(module).__name__}")
        setattr(self, str(len(self._modules)), module)

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())
