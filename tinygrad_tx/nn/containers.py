"""The containers, as ``torch.nn``'s: `Sequential`, `ModuleList`, `ModuleDict`, `ParameterList`,
`ParameterDict`, and `Identity`.

A container registers what it holds under the names ``"0"``, ``"1"``, ... (or the dict's keys), so
``named_parameters()`` reads ``layers.0.weight`` and the state dict matches PyTorch's. Deleting from a
list renumbers the rest, as in PyTorch.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from itertools import chain
from typing import Any

from ..tensor import Tensor
from .module import Module, Parameter, _addindent, _typename

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Identity"]


def _index(who: str, idx: Any, size: int) -> int:
    """``idx`` (an int, maybe negative) as a position in ``range(size)``, else IndexError."""
    try:
        i = operator.index(idx)
    except TypeError:
        raise TypeError(f"{who} indices must be integers or slices, not {type(idx).__name__}") from None
    if not -size <= i < size:
        raise IndexError(f"{who}: index {i} is out of range for {size} items")
    return i % size if size else i


def _module(who: str, value: Any) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{who}: expected an nn.Module, got {type(value).__name__}")
    return value


def _renumber(container: Module) -> None:
    """Names ``0 .. n-1`` again, in order, after a deletion (as PyTorch does)."""
    modules = list(container._modules.values())
    container._modules.clear()
    container._modules.update((str(i), m) for i, m in enumerate(modules))


class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b, c)(x) = c(b(a(x)))``. Built from modules (named
    ``"0"``, ``"1"``, ...) or from one ``OrderedDict`` of names to modules."""

    def __init__(self, *args: Any) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, _module(f"Sequential: {name!r}", m))
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), _module(f"Sequential: argument {i}", m))

    def forward(self, input: Any) -> Any:
        for m in self:
            input = m(input)
        return input

    def __getitem__(self, idx: int | slice) -> Any:
        """``seq[i]`` is a module; ``seq[a:b]`` a `Sequential` of those modules, under their names."""
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return list(self._modules.values())[_index("Sequential", idx, len(self))]

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index("Sequential", idx, len(self))]
        setattr(self, key, _module("Sequential.__setitem__", module))

    def __delitem__(self, idx: int | slice) -> None:
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [keys[_index("Sequential", idx, len(self))]]:
            delattr(self, key)
        _renumber(self)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return self.extend(list(other))

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), _module("Sequential.append", module))
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        """Put ``module`` at position ``index`` (``-len <= index <= len``); the ones after it move up."""
        _module("Sequential.insert", module)
        n = len(self)
        if not -n <= operator.index(index) <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} modules")
        modules = list(self._modules.values())
        modules.insert(index + n if index < 0 else index, module)
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def pop(self, idx: int | slice) -> Any:
        v = self[idx]
        del self[idx]
        return v


class ModuleList(Module):
    """A list of modules, registered as children ``"0"``, ``"1"``, ... (no forward: index it)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _key(self, idx: Any) -> str:
        return str(_index("ModuleList", idx, len(self)))

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, self._key(idx), _module("ModuleList.__setitem__", module))

    def __delitem__(self, idx: int | slice) -> None:
        for k in range(len(self))[idx] if isinstance(idx, slice) else [int(self._key(idx))]:
            delattr(self, str(k))
        _renumber(self)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList(chain(self, other))

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), _module("ModuleList.append", module))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        if not isinstance(modules, Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got {type(modules).__name__}")
        for m in list(modules):
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put ``module`` at position ``index``; the ones after it move up. As a list's ``insert``: a negative
        index counts from the end, one past either end appends (PyTorch's leaves a gap or a key ``"-1"``)."""
        modules = list(self._modules.values())
        modules.insert(operator.index(index), _module("ModuleList.insert", module))
        self._modules.clear()
        self._modules.update((str(i), m) for i, m in enumerate(modules))

    def pop(self, idx: int | slice) -> Any:
        v = self[idx]
        del self[idx]
        return v

    def __repr__(self) -> str:
        """PyTorch's: a run of equal consecutive modules is shown once, as ``(0-11): 12 x Block(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{type(self).__name__}()"
        runs: list[list[Any]] = []  # [first, last, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = [_addindent(f"({a}): {r}" if a == b else f"({a}-{b}): {b - a + 1} x {r}", 2) for a, b, r in runs]
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered as children under its (string) keys, in insertion order."""

    def __init__(self, modules: Any = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, _module(f"ModuleDict[{key!r}]", module))

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: object) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        v = self[key]
        del self[key]
        return v

    def keys(self) -> Any:
        return self._modules.keys()

    def items(self) -> Any:
        return self._modules.items()

    def values(self) -> Any:
        return self._modules.values()

    def update(self, modules: Any) -> None:
        """From a mapping (in its order) or an iterable of (key, module) pairs."""
        for key, m in _pairs("ModuleDict", modules, sort_plain_dicts=False):
            self[key] = m


class ParameterList(Module):
    """A list of parameters, registered as ``"0"``, ``"1"``, ...; a plain Tensor is made a `Parameter`
    (as PyTorch does), anything else is kept as an attribute."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _key(self, idx: Any) -> str:
        return str(_index("ParameterList", idx, len(self)))

    def __getitem__(self, idx: int | slice) -> Any:
        if isinstance(idx, slice):
            return type(self)(self[i] for i in range(len(self))[idx])
        return getattr(self, self._key(idx))

    def __setitem__(self, idx: int, value: Any) -> None:
        setattr(self, self._key(idx), _as_parameter(value))

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(len(self)))

    def __iadd__(self, values: Iterable[Any]) -> ParameterList:
        return self.extend(values)

    def append(self, value: Any) -> ParameterList:
        self._size += 1
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise TypeError(f"ParameterList.extend should be called with an iterable, but got {type(values).__name__}")
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in enumerate(self))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters under string keys; a plain Tensor is made a `Parameter` (as PyTorch does).
    As PyTorch's, ``update`` with a plain dict inserts its keys sorted; an ``OrderedDict``, a
    `ParameterDict` or a list of pairs keeps its order."""

    def __init__(self, parameters: Any = None) -> None:
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attr(key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(f"Index given to ParameterDict cannot be used as a key as it is not a string "
                            f"(type is '{type(key).__name__}')")
        return key

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._attr(key))

    def __setitem__(self, key: str, value: Any) -> None:
        attr = self._attr(key)
        self._keys[key] = None
        setattr(self, attr, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, self._attr(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def keys(self) -> Any:
        return self._keys.keys()

    def items(self) -> Iterator[tuple[str, Any]]:
        return ((k, self[k]) for k in self._keys)

    def values(self) -> Iterator[Any]:
        return (self[k] for k in self._keys)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key: str) -> Any:
        v = self[key]
        del self[key]
        return v

    def clear(self) -> None:
        for k in list(self._keys):
            del self[k]

    def copy(self) -> ParameterDict:
        return ParameterDict(OrderedDict(self.items()))

    def update(self, parameters: Any) -> None:
        for key, p in _pairs("ParameterDict", parameters, sort_plain_dicts=True):
            self[key] = p

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {_describe(p)}" for k, p in self.items())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("ParameterDict should not be called.")


class Identity(Module):
    """``y = x``: a placeholder where a layer is optional (its arguments are accepted and ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Any) -> Any:
        return input


def _pairs(who: str, items: Any, sort_plain_dicts: bool) -> list[tuple[Any, Any]]:
    """The (key, value) pairs of a mapping or of an iterable of pairs, as PyTorch's ``update`` reads them."""
    if isinstance(items, (OrderedDict, ModuleDict, ParameterDict)):
        return list(items.items())
    if isinstance(items, Mapping):
        return sorted(items.items()) if sort_plain_dicts else list(items.items())
    if not isinstance(items, Iterable) or isinstance(items, (str, Tensor)):
        raise TypeError(f"{who}.update should be called with an iterable of key/value pairs, but got "
                        f"{type(items).__name__}")
    pairs = []
    for j, pair in enumerate(items):
        if not isinstance(pair, Iterable) or isinstance(pair, Tensor):
            raise TypeError(f"{who} update sequence element #{j} should be Iterable; is {type(pair).__name__}")
        pair = tuple(pair)
        if len(pair) != 2:
            raise ValueError(f"{who} update sequence element #{j} has length {len(pair)}; 2 is required")
        pairs.append(pair)
    return pairs


def _as_parameter(value: Any) -> Any:
    """A plain Tensor becomes a `Parameter` (requires grad); a Parameter, or any other object, stays."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _describe(p: Any) -> str:
    """One entry of ParameterList/ParameterDict's repr: ``Parameter containing: [float32 of size 2x3]``."""
    if isinstance(p, Tensor):
        kind = "Parameter" if isinstance(p, Parameter) else "Tensor"
        return f"{kind} containing: [{p.dtype} of size {'x'.join(str(n) for n in p.shape)}]"
    return f"Object of type: {_typename(p)}"
