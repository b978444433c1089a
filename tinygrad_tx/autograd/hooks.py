"""Hooks: user functions the engine calls at fixed points of a forward or backward pass, as PyTorch's.

- **Tensor hooks** (``t.register_hook(fn)``): ``fn(grad)`` is called when ``dL/dt`` is complete during a
  backward pass (the sum of every contribution, so once per pass), before it goes on: for a leaf, before
  it is added into ``t.grad``; for an intermediate tensor, before the VJP of the op that made it (and
  before ``retain_grad`` stores it, so ``t.grad`` is what the hooks returned). A hook may return a
  replacement gradient (same shape and dtype) or None to keep it; hooks run in registration order, each
  on the previous one's result. ``register_post_accumulate_grad_hook(fn)`` (leaves only): ``fn(t)``
  after ``t.grad`` was updated (an optimizer step per parameter, as soon as its gradient is ready).
- **Saved-tensor hooks** (``with saved_tensors_hooks(pack, unpack):``): every tensor an op saves for
  backward inside the block goes through ``pack(tensor)``, and what ``pack`` returns is kept instead of
  the tensor; the backward pass gets ``unpack(packed)`` back. Identity functions that record what they
  see measure what a forward pass keeps alive for backward (``bench/memory.py``).

Each registration returns a `RemovableHandle`; ``handle.remove()`` (or leaving ``with handle:``) takes
the hook out. Module hooks (``Module.register_forward_hook`` and the rest) are in ``nn/module.py``, and
the machinery of module backward hooks in ``utils/hooks.py``.

Tensor hooks are kept here, by graph node, not on the tensor: a leaf is its own node, an intermediate
tensor's node is the op that made it (``t.grad_fn``), so the hook still runs when the tensor object
itself is gone (as in PyTorch, where it lives on ``grad_fn``). The walk (``graph.py``) looks them up
only when a hook is registered somewhere: without hooks a backward pass costs what it did.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = ["RemovableHandle", "saved_tensors_hooks"]


class RemovableHandle:
    """What a ``register_*hook`` call returns: ``remove()`` takes the hook out (twice is harmless), and
    ``with handle:`` removes it on leaving the block. As ``torch.utils.hooks.RemovableHandle``: the handle
    keeps a weak reference to the dict of hooks (it does not keep a module or a graph alive), and the ids
    come from one counter, so a hook's id orders it among every hook registered."""

    id: int
    next_id: int = 0

    def __init__(self, hooks_dict: Any, *, extra_dict: Any = None) -> None:
        self.hooks_dict_ref = weakref.ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref: tuple[Any, ...] = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (weakref.ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(weakref.ref(d) for d in extra_dict)

    def remove(self) -> None:
        for ref in (self.hooks_dict_ref, *self.extra_dict_ref):
            d = ref()
            if d is not None and self.id in d:
                del d[self.id]

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.hooks_dict_ref = weakref.ref(OrderedDict() if state[0] is None else state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        self.extra_dict_ref = tuple(weakref.ref(d) for d in state[2] if d is not None) if len(state) > 2 else ()

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


# ------------------------------------------------------------------------------------ tensor hooks
# id(node) -> {handle id: hook}. An entry is dropped when its node dies (a finalizer), so an id that Python
# reuses for a new object never finds an old node's hooks.
_tensor_hooks: dict[int, OrderedDict[int, Callable[[Any], Any]]] = {}
_post_accumulate_hooks: dict[int, OrderedDict[int, Callable[[Any], Any]]] = {}


def _hooks_of(registry: dict[int, OrderedDict[int, Any]], node: Any) -> OrderedDict[int, Any]:
    key = id(node)
    hooks = registry.get(key)
    if hooks is None:
        hooks = registry[key] = OrderedDict()
        weakref.finalize(node, registry.pop, key, None)
    return hooks


def register_hook(tensor: Any, hook: Callable[[Any], Any]) -> RemovableHandle:
    """``hook(grad) -> Tensor or None``, called with ``dL/d tensor`` each time a backward pass (``backward()``
    or ``grad()``) computes it; a Tensor it returns replaces the gradient (same shape and dtype), for the
    rest of the pass and for ``.grad``. Returns a handle whose ``remove()`` takes the hook out.

    For a leaf the hook runs before the gradient is added into ``.grad``; for an intermediate tensor,
    before it flows on to the tensors it was computed from (``retain_grad`` stores what the hooks
    returned). ``retain_grad`` is itself such a hook: ``t.register_hook(lambda g: store(g))``."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if not callable(hook):
        raise TypeError(f"register_hook: the hook must be callable, got {type(hook).__name__}")
    hooks = _hooks_of(_tensor_hooks, tensor._node())
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def register_post_accumulate_grad_hook(tensor: Any, hook: Callable[[Any], None]) -> RemovableHandle:
    """``hook(tensor) -> None``, called on a leaf right after a ``backward()`` added its gradient into
    ``tensor.grad`` (not by ``grad()``, which touches no ``.grad``). Leaves only, as in PyTorch."""
    if not tensor.requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if tensor._ctx is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if not callable(hook):
        raise TypeError(f"register_post_accumulate_grad_hook: the hook must be callable, got {type(hook).__name__}")
    hooks = _hooks_of(_post_accumulate_hooks, tensor)
    handle = RemovableHandle(hooks)
    hooks[handle.id] = hook
    return handle


def _tensor_class() -> type:
    from . import function  # (at call time: function.py imports this module)

    return function._tensor_class


def _hook_name(hook: Any) -> str:
    return getattr(hook, "__name__", type(hook).__name__)


def _call_tensor_hooks(hooks: OrderedDict[int, Callable[[Any], Any]], g: Any) -> Any:
    """``g`` through each hook in order (a hook that returns None keeps it). A replacement must be a
    Tensor of ``g``'s shape and dtype (PyTorch's checks and messages)."""
    for hook in tuple(hooks.values()):  # (a hook may remove itself)
        out = hook(g)
        if out is None:
            continue
        if not isinstance(out, _tensor_class()):
            raise TypeError(f"expected Variable, but hook returned '{type(out).__name__}' (hook "
                            f"'{_hook_name(hook)}' must return a Tensor of shape {g.shape}, or None)")
        if out.shape != g.shape:
            raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the size of value (the gradient has shape "
                               f"{g.shape}, the hook returned shape {out.shape})")
        if out.dtype != g.dtype:
            raise RuntimeError(f"hook '{_hook_name(hook)}' has changed the type of value (was {g.dtype} got "
                               f"{out.dtype})")
        g = out
    return g


def _call_post_accumulate_hooks(hooks: OrderedDict[int, Callable[[Any], Any]], tensor: Any) -> None:
    for hook in tuple(hooks.values()):
        out = hook(tensor)
        if out is not None:
            if not isinstance(out, _tensor_class()):
                raise TypeError(f"expected Variable, but hook returned '{type(out).__name__}'")
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


# ------------------------------------------------------------------------------ saved-tensor hooks
class _SavedTensorsHooks(threading.local):
    """The (pack, unpack) pairs of the ``saved_tensors_hooks`` blocks this thread is in, innermost last."""

    stack: list[tuple[Callable[[Any], Any], Callable[[Any], Any]]]

    def __init__(self) -> None:
        self.stack = []


class _InUse:
    """How many ``saved_tensors_hooks`` blocks are open in all threads: `Function.apply` reads this plain
    attribute (cheap) and only when it is not 0 the thread-local stack (~70 ns)."""

    count: int = 0


_saved_hooks = _SavedTensorsHooks()
_saved_hooks_in_use = _InUse()
_in_use_lock = threading.Lock()


class saved_tensors_hooks:
    """``with saved_tensors_hooks(pack_hook, unpack_hook):`` — what every op recorded inside the block
    saves for backward goes through the hooks, as ``torch.autograd.graph.saved_tensors_hooks``:

    - ``pack_hook(tensor) -> Any`` is called (under ``no_grad``) with each tensor an op saves, when it
      saves it: an input, the output, or a constant the VJP needs (a mask, indices). The graph keeps what
      it returns instead of the tensor.
    - ``unpack_hook(packed) -> Tensor`` is called each time the backward pass reads that saved value
      (``ctx.saved_tensors``), and must give a tensor with the values to use. It is connected to the
      graph as the saved tensor was, so a second derivative goes through it.

    Blocks nest; the innermost one's hooks apply. If ``pack_hook`` returns the tensor itself, the graph
    keeps it as it would without hooks: read-only while saved, and checked for modification before
    backward reads it. Anything else it returns is the hooks' own business: the engine keeps no other
    reference to the tensor, so its memory can go (PyTorch checks neither case)."""

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError(f"saved_tensors_hooks: pack_hook and unpack_hook must be callable, got "
                            f"{type(pack_hook).__name__} and {type(unpack_hook).__name__}")
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        _saved_hooks.stack.append((self.pack_hook, self.unpack_hook))
        with _in_use_lock:
            _saved_hooks_in_use.count += 1

    def __exit__(self, *exc: object) -> None:
        _saved_hooks.stack.pop()
        with _in_use_lock:
            _saved_hooks_in_use.count -= 1
