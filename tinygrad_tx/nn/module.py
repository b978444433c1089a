"""`Module` and `Parameter`: containers of parameters with PyTorch's vocabulary and semantics.

A module keeps what is assigned to its attributes in three ordered registries, as ``torch.nn.Module``:

- ``_parameters``: every `Parameter` (or ``None``, from ``register_parameter(name, None)``);
- ``_buffers``: tensors that are state but not learnt (BatchNorm's running statistics), from
  ``register_buffer``; a non-persistent buffer is left out of the state dict;
- ``_modules``: the sub-modules (or ``None``).

Attribute access reads these registries (``__getattr__``), so ``self.weight`` is ``self._parameters["weight"]``
and replacing a parameter, buffer or module keeps its place in the order. ``named_parameters()`` yields dotted
names (``h.0.attn.c_attn.weight``) in registration order, a shared (tied) parameter once; the state dict has it
under each of its names, as PyTorch's. Calling a module records its dotted path on every op it runs
(``Function.scope``), so a graph can be drawn grouped by module.

Hooks, as PyTorch's (each ``register_*`` returns a `RemovableHandle`): forward pre-hooks
``hook(module, args)`` run before ``forward`` and may return new args; forward hooks
``hook(module, args, output)`` after it, and may return a new output; backward pre-hooks
``hook(module, grad_output)`` and backward hooks ``hook(module, grad_input, grad_output)`` run in the
backward pass (``utils/hooks.py``) and may return new gradients. A module without hooks is called as
directly as before: ``__call__`` tests four empty dicts.

The containers (`Sequential`, `ModuleList`, ...) are in ``containers.py``.
"""

from __future__ import annotations

import warnings
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from .. import function as _function
from .._device import _check_device
from .._dtypes import DType
from ..autograd.function import ScopePath
from ..tensor import Tensor, _data_alias, get_default_dtype
from ..utils.hooks import BackwardHook, RemovableHandle

__all__ = ["Parameter", "Module", "IncompatibleKeys", "LoadStateDictError"]


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` did not load: model names absent from the state dict
    (``missing_keys``) and state-dict names the model does not have (``unexpected_keys``)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:  # as PyTorch's, what a notebook shows after model.load_state_dict(...)
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"IncompatibleKeys(missing_keys={self.missing_keys!r}, unexpected_keys={self.unexpected_keys!r})"


class LoadStateDictError(ValueError, RuntimeError):
    """A state dict that does not fit the model. PyTorch raises a RuntimeError; this package raised a
    ValueError before it mirrored PyTorch: it is both, so either ``except`` catches it."""


class Parameter(Tensor):
    """A tensor that is a module's learnable parameter (``requires_grad=True`` by default). Assigned to a
    module's attribute, it is registered in the module's ``_parameters``. ``Parameter()`` is empty."""

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True, dtype: Any = None) -> None:
        if data is None:
            data = np.empty(0, dtype=get_default_dtype() if dtype is None else dtype)
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _typename(value: Any) -> str:
    cls = type(value)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


class Module:
    """Base class of every layer. Subclasses call ``super().__init__()``, assign parameters, buffers and
    modules in ``__init__``, and define ``forward``; calling the module calls ``forward``."""

    training: bool
    _parameters: dict[str, Parameter | None]
    _buffers: dict[str, Tensor | None]
    _non_persistent_buffers_set: set[str]
    _modules: dict[str, Module | None]

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_scope_path", "")
        for name in _HOOK_DICTS:  # {handle id: hook} (or: True, for the ids with that option), in call order
            object.__setattr__(self, name, OrderedDict())

    # -- registration -------------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        """A `Parameter` is registered as a parameter, a `Module` as a sub-module; a registered name takes a
        value of its kind or None (anything else is a TypeError, as in PyTorch); other values are plain
        attributes (a plain Tensor too: use ``register_buffer`` to make it state)."""
        d = self.__dict__
        params, modules, buffers = d.get("_parameters"), d.get("_modules"), d.get("_buffers")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError(f"{type(self).__name__}: cannot assign parameters before Module.__init__() "
                                     f"call (call super().__init__() first)")
            _remove(name, d, self._buffers, self._modules, self._non_persistent_buffers_set)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                f"(nn.Parameter or None expected)")
            self.register_parameter(name, None)
        elif isinstance(value, Module):
            if modules is None:
                raise AttributeError(f"{type(self).__name__}: cannot assign module before Module.__init__() call "
                                     f"(call super().__init__() first)")
            _remove(name, d, self._parameters, self._buffers, self._non_persistent_buffers_set)
            modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                f"(nn.Module or None expected)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' (Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        """Called only when ``name`` is not a plain attribute: look it up in the registries."""
        d = self.__dict__  # (guarded: copy and pickle look attributes up before __init__ has run)
        for registry in ("_parameters", "_buffers", "_modules"):
            found = d.get(registry)
            if found is not None and name in found:
                return found[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent_buffers_set.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        keys = [*dir(type(self)), *self.__dict__, *self._parameters, *self._modules, *self._buffers]
        return sorted({k for k in keys if not k[0].isdigit()})

    def _check_new_name(self, kind: str, name: Any, registry: Mapping[str, Any]) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in registry:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a buffer: a tensor that is state but not a parameter (no gradient, not in ``parameters()``).
        It is in the state dict unless ``persistent=False``; ``None`` registers the name with no tensor."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call (call super().__init__() first)")
        self._check_new_name("buffer", name, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            hint = " (wrap it: Tensor(x))" if isinstance(tensor, np.ndarray) else ""
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            f"(Tensor or None required){hint}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (``None``: the name is kept, with no parameter, as ``bias=False`` layers do)."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call "
                                 "(call super().__init__() first)")
        self._check_new_name("parameter", name, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            f"(nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                             f"created explicitly. To express '{name}' as a function of another Tensor, compute "
                             f"the value in the forward() method.")
        self._parameters[name] = param

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a sub-module, reachable as the attribute ``name`` (any string without a dot, ``"0"`` too)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        self._check_new_name("module", name, self._modules)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        """The sub-module at the dotted path ``target`` (``""`` is this module)."""
        m: Module = self
        for item in target.split(".") if target else []:
            if not hasattr(m, item):
                raise AttributeError(f"{type(m).__name__} has no attribute `{item}`")
            m = getattr(m, item)
            if not isinstance(m, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return m

    def _owner(self, target: str) -> tuple[Module, str]:
        """The module that holds the attribute at the dotted path ``target``, and the attribute's name; an
        AttributeError, as PyTorch's, names the module that lacks it."""
        path, _, name = target.rpartition(".")
        m = self.get_submodule(path)
        if not hasattr(m, name):
            raise AttributeError(f"{type(m).__name__} has no attribute `{name}`")
        return m, name

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` (``"h.0.attn.c_attn.weight"``), as PyTorch's: an
        AttributeError names the module without that attribute, or the attribute that is not a parameter."""
        m, name = self._owner(target)
        param = getattr(m, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target: str) -> Tensor | None:
        """The buffer at the dotted path ``target`` (None if it was registered as None), as PyTorch's: an
        AttributeError names the module without that attribute, or the attribute that is not a buffer."""
        m, name = self._owner(target)
        if name not in m._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return m._buffers[name]

    # -- calling ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        scope = _function._scope
        if not scope:  # the outermost call names every sub-module by its dotted path (under this module)
            root = weakref.ref(self)
            for name, m in self.named_modules():
                path = ScopePath(name)
                path.root = root
                object.__setattr__(m, "_scope_path", path)
        scope.append(self._scope_path)
        try:
            if self._forward_pre_hooks or self._forward_hooks or self._backward_hooks or self._backward_pre_hooks:
                return self._call_with_hooks(args, kwargs)
            return self.forward(*args, **kwargs)
        finally:
            scope.pop()

    def _call_with_hooks(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``forward`` between its hooks, in PyTorch's order (``Module._call_impl``): forward pre-hooks,
        the input side of the backward hooks, forward, forward hooks, the output side. If forward or a
        hook raises, the forward hooks registered with ``always_call=True`` that have not run yet run (an
        error of theirs then is only a warning), and the error goes on."""
        result = None
        called: set[int] = set()
        try:
            for hook_id, hook in list(self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    new = hook(self, args, kwargs)
                    if new is not None:
                        if not (isinstance(new, tuple) and len(new) == 2):
                            raise RuntimeError(f"forward pre-hook must return None or a tuple of (new_args, "
                                               f"new_kwargs), but got {new}.")
                        args, kwargs = new
                else:
                    new = hook(self, args)
                    if new is not None:
                        args = new if isinstance(new, tuple) else (new,)
            bw_hook = None
            if self._backward_hooks or self._backward_pre_hooks:
                bw_hook = BackwardHook(self, list(self._backward_hooks.values()),
                                       list(self._backward_pre_hooks.values()))
                args = bw_hook.setup_input_hook(args)
            result = self.forward(*args, **kwargs)
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    called.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs:
                    new = hook(self, args, kwargs, result)
                else:
                    new = hook(self, args, result)
                if new is not None:
                    result = new
            if bw_hook is not None:
                if not isinstance(result, (Tensor, tuple)):
                    warnings.warn(f"For backward hooks to be called, module output should be a Tensor or a tuple "
                                  f"of Tensors but received {type(result)}", stacklevel=3)
                result = bw_hook.setup_output_hook(result)
            return result
        except Exception:
            for hook_id, hook in list(self._forward_hooks.items()):
                if hook_id not in self._forward_hooks_always_called or hook_id in called:
                    continue
                try:
                    if hook_id in self._forward_hooks_with_kwargs:
                        new = hook(self, args, kwargs, result)
                    else:
                        new = hook(self, args, result)
                    if new is not None:
                        result = new
                except Exception as e:
                    warnings.warn(f"module forward hook with ``always_call=True`` raised an exception that was "
                                  f"silenced as another error was raised in forward: {e}", stacklevel=3)
            raise

    # -- hooks --------------------------------------------------------------------------------
    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args) -> None or new args`` before every ``forward`` (``args``: the positional
        arguments, a tuple; a value that is not a tuple becomes the one argument). ``with_kwargs=True``:
        ``hook(module, args, kwargs) -> None or (new_args, new_kwargs)``. ``prepend=True``: before the
        hooks already registered, not after."""
        handle = RemovableHandle(self._forward_pre_hooks, extra_dict=self._forward_pre_hooks_with_kwargs)
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output) -> None or new output`` after every ``forward`` (``args`` as the
        forward pre-hooks left them). ``with_kwargs=True``: ``hook(module, args, kwargs, output)``.
        ``always_call=True``: also when ``forward`` (or an earlier hook) raised. ``prepend`` as in
        `register_forward_pre_hook`."""
        handle = RemovableHandle(self._forward_hooks,
                                 extra_dict=[self._forward_hooks_with_kwargs, self._forward_hooks_always_called])
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_pre_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output) -> None or new grad_output`` when the gradients with respect to the
        module's outputs are complete (``grad_output``: a tuple, one entry per output, None for a non-tensor
        or one no gradient reached). The gradients then go on into ``forward``'s graph."""
        handle = RemovableHandle(self._backward_pre_hooks)
        self._backward_pre_hooks[handle.id] = hook
        if prepend:
            self._backward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_full_backward_hook(self, hook: Callable[..., Any], prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output) -> None or new grad_input`` when the gradients with respect
        to the module's positional inputs are complete (``grad_input``: one entry per argument, None for a
        non-tensor; keyword arguments are not seen). If no input requires grad it fires with the outputs'
        gradients, ``grad_input`` all None; if no output requires grad it does not fire. As in PyTorch,
        ``forward`` then sees each tensor argument, and the caller each output, through an identity node."""
        handle = RemovableHandle(self._backward_hooks)
        self._backward_hooks[handle.id] = hook
        if prepend:
            self._backward_hooks.move_to_end(handle.id, last=False)
        return handle

    # -- traversal ----------------------------------------------------------------------------
    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call ``fn`` on every sub-module (children first, depth first) and then on this module, as
        ``model.apply(init_weights)`` does; returns self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module and every descendant, depth first, in registration order.
        A module reachable by several paths is given once (its first path) unless ``remove_duplicate=False``.
        ``memo`` (ids of modules already given) is how the recursion shares what it has seen."""
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct sub-modules, each once."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mname, m in modules:
            for name, t in getattr(m, registry).items():
                if t is None or id(t) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(t))
                yield (f"{mname}.{name}" if mname else name), t

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter in registration order. A shared (tied)
        parameter is given once, under its first name, unless ``remove_duplicate=False``.
        ``recurse=False``: only this module's own parameters."""
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer (persistent or not), as `named_parameters`."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def num_parameters(self, trainable_only: bool = False) -> int:
        """The number of scalar parameters (only those with requires_grad if ``trainable_only``)."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)

    # -- state ------------------------------------------------------------------------------------
    def state_dict(self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> Any:
        """Every parameter and persistent buffer by dotted name (``prefix`` in front), in PyTorch's order:
        a module's own parameters, then its buffers, then its sub-modules'. A shared (tied) parameter or
        module appears under each of its names, as in PyTorch.

        The values are tensors cut out of the graph that share the parameters' and buffers' storage, as
        PyTorch's ``param.detach()``: ``with no_grad(): sd[k].copy_(w)`` loads ``w`` into the model, and
        ``sd[k]`` shows the model's later changes (an optimizer step); see ``_tensor_data.py``. For a
        snapshot, copy: ``{k: v.clone() for k, v in sd.items()}``. ``keep_vars=True`` gives the parameters
        and buffers themselves."""
        out = OrderedDict() if destination is None else destination
        for name, t in self._state_tensors(prefix):
            out[name] = t if keep_vars else _data_alias(t)
        return out

    def _state_tensors(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        for mname, m in self.named_modules(remove_duplicate=False):
            base = f"{prefix}{mname}." if mname else prefix
            for name, p in m._parameters.items():
                if p is not None:
                    yield base + name, p
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent_buffers_set:
                    yield base + name, b

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy a state dict into the parameters and persistent buffers. Everything is checked first
        (names, shapes, dtypes); on any mismatch a `LoadStateDictError` names each key (with both shapes
        for a size mismatch) and nothing is loaded. A shared parameter is expected under each of its names.

        Values may be this package's tensors (what `state_dict` gives), NumPy arrays, or another library's
        tensors: PyTorch's own state dict loads as it is (anything with ``.detach().cpu().numpy()``, or
        with ``__array__``). A value is converted to the model's dtype within its kind (float64 into
        float32, as PyTorch's copy does), never from a float into an integer buffer.

        ``strict=False``: names missing on either side are allowed. Returns ``(missing_keys,
        unexpected_keys)``, as PyTorch does (both empty when ``strict``)."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}")
        own = dict(self._state_tensors())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append("missing key(s) in the state dict: " + ", ".join(f'"{k}"' for k in missing))
        if strict and unexpected:
            problems.append("unexpected key(s) in the state dict: " + ", ".join(f'"{k}"' for k in unexpected))
        arrays = {}
        for name, t in own.items():
            if name not in state_dict:
                continue
            value = _state_array(state_dict[name])
            if isinstance(value, str):
                problems.append(f"{name}: {value}")
                continue
            if t.ndim == 0 and value.shape == (1,):  # as PyTorch: a one-element vector fills a 0-d tensor
                value = value.reshape(())
            if value.shape != t.shape:
                problems.append(f"{name}: shape {value.shape} in the state dict, {t.shape} in the model")
            elif not np.can_cast(value.dtype, t.dtype, "same_kind"):
                problems.append(f"{name}: dtype {value.dtype} in the state dict cannot be stored in the model's "
                                f"{t.dtype}")
            else:
                arrays[name] = value
        if problems:
            raise LoadStateDictError(f"load_state_dict for {type(self).__name__}: nothing was loaded, because\n  "
                                     + "\n  ".join(problems))
        for name, value in arrays.items():
            own[name]._set_array(np.array(value, dtype=own[name].dtype, copy=True))  # in place, as PyTorch's copy_
        return IncompatibleKeys(missing, unexpected)

    # -- modes ----------------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Set training mode (``mode=True``) or evaluation mode on this module and, through their own
        ``train``, on its children (so a module that overrides ``train`` sees the call)."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"train: mode must be True or False (training mode is expected to be boolean), "
                             f"got {mode!r}")
        self.training = bool(mode)
        for m in self.children():
            m.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: ``p.grad = None`` (the default), or, with ``set_to_none=False``, zero each
        ``p.grad`` in place (one from ``backward(create_graph=True)`` is cut out of its graph first, as
        PyTorch's ``detach_(); zero_()``)."""
        for p in self.parameters():
            p._zero_grad(set_to_none)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # -- dtype and device -------------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> Module:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``: as PyTorch, in place, returning
        self. A dtype converts the floating-point parameters, gradients and buffers (an integer buffer such as
        ``num_batches_tracked`` stays). The only device is the CPU (NumPy): ``"cpu"`` changes nothing, another
        device is an error."""
        device, dtype = _to_arguments(args, kwargs)
        _check_device(device, "to")
        if dtype is None:
            return self
        if dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self._cast(dtype)

    def double(self) -> Module:
        return self._cast(np.dtype(np.float64))

    def float(self) -> Module:
        return self._cast(np.dtype(np.float32))

    def half(self) -> Module:
        return self._cast(np.dtype(np.float16))

    def cpu(self) -> Module:
        return self

    def cuda(self, device: Any = None) -> Module:
        _check_device("cuda", "cuda")
        return self

    def _cast(self, dtype: np.dtype) -> Module:
        for m in self.modules():
            for t in [*m._parameters.values(), *m._buffers.values()]:
                if t is None or t.dtype.kind != "f" or t.dtype == dtype:
                    continue
                t._set_array(t._data.astype(dtype))
                if t._grad is not None:
                    t.grad = Tensor._make(t._grad._data.astype(dtype), False)
        return self

    # -- display ----------------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The module's own settings, shown inside its parentheses (one line, or several)."""
        return ""

    def __repr__(self) -> str:
        """PyTorch's nested format: ``Name(extra)`` with one ``(child): repr`` line per sub-module."""
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(m), 2) for name, m in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"


_HOOK_DICTS = ("_forward_pre_hooks", "_forward_pre_hooks_with_kwargs", "_forward_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_backward_pre_hooks", "_backward_hooks")


def _addindent(text: str, spaces: int) -> str:
    """Indent every line but the first (blank lines stay empty), as PyTorch's repr does."""
    first, *rest = text.split("\n")
    return "\n".join([first] + [" " * spaces + line if line.strip() else "" for line in rest])


def _remove(name: str, *registries: Any) -> None:
    for r in registries:
        if isinstance(r, dict):
            r.pop(name, None)
        else:
            r.discard(name)


def _state_array(value: Any) -> np.ndarray | str:
    """A state-dict value as an array, or what is wrong with it."""
    if isinstance(value, Tensor):  # a Parameter too (np.asarray would refuse one that requires grad)
        return value._data
    if isinstance(value, (np.ndarray, np.generic, int, float, list, tuple)):
        array = np.asarray(value)
    elif hasattr(value, "detach") or hasattr(value, "__array__"):  # a torch tensor (or a JAX, CuPy... array)
        try:
            array = value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
        except Exception as e:  # e.g. torch's bfloat16, which NumPy has no dtype for
            return f"is a {_typename(value)} that could not be converted to an array ({e}); convert it first, " \
                   f"e.g. with .float()"
    else:
        return f"is a {type(value).__name__}, not an array"
    if array.dtype.kind in "biuf":
        return array
    return f"holds {array.dtype} values, not real numbers"


def _to_arguments(args: tuple, kwargs: dict) -> tuple[Any, np.dtype | None]:
    """(device, dtype) from ``Module.to``'s arguments: a device (a string or an object with ``.type``),
    a dtype, or a tensor (its dtype), positionally or as ``device=``/``dtype=``; ``non_blocking`` is ignored."""
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"to() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    device, dtype = kwargs.get("device"), kwargs.get("dtype")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif isinstance(a, (np.dtype, type, DType)):
            dtype = a
        elif isinstance(a, str) or isinstance(getattr(a, "type", None), str):  # "cpu", or a device object
            device = a
        elif not isinstance(a, bool):  # (a bool is to(device, dtype, non_blocking)'s third argument)
            raise TypeError(f"to() received an invalid argument {a!r}: expected a device, a dtype or a tensor")
    return device, None if dtype is None else np.dtype(dtype)




def __getattr__(name: str) -> Any:
    """``from .module import ModuleList`` keeps working: it moved to ``containers.py`` with the other
    containers (imported here only when asked for, as containers.py imports this module)."""
    if name == "ModuleList":
        from .containers import ModuleList

        return ModuleList
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
