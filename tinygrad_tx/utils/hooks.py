"""The machinery of module backward hooks, laid out as ``torch.utils.hooks``: `RemovableHandle` (from
``autograd/hooks.py``) and `BackwardHook`, which ``Module.__call__`` uses when a module has
``register_full_backward_hook`` or ``register_full_backward_pre_hook`` hooks.

A module's backward hook needs the gradients with respect to *all* its inputs (``grad_input``) and
*all* its outputs (``grad_output``) at once. The walk gives each graph node its gradient when it is
complete, one node at a time, so the gradients of several tensors are brought together in one node:

    input x ──► join ──► slot₀ ──► forward(...) ──► out ──► join ──► slot₀ ──► caller
    input y ──┘     └──► slot₁ ──►                                          (one slot per output)

A *slot* is the identity on one tensor; its VJP hands ``ȳ`` to its *join* instead of to the tensor.
The join runs after all its slots (it is their common parent), with every gradient that arrived, calls
the hooks, and passes the (possibly replaced) gradients on to the tensors: on the output side, the
backward pre-hooks ``hook(module, grad_output)``; on the input side, the backward hooks
``hook(module, grad_input, grad_output)``. This is PyTorch's ``BackwardHookFunction``, one node with
many outputs, built from one-output nodes.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..autograd.function import Function
from ..autograd.grad_mode import is_grad_enabled
from ..autograd.hooks import RemovableHandle
from ..tensor import Tensor

__all__ = ["RemovableHandle", "BackwardHook"]


class BackwardHookJoin(Function):
    """The node where the slots of several tensors meet. Forward: a 0-d placeholder (nothing is computed).
    Backward: ``on_backward(gradients)``, the gradient of each slot (None where none arrived), gives the
    gradient of each input tensor.   JVP: 0 (the placeholder is no value)"""

    @staticmethod
    def forward(ctx: Any, *arrays: np.ndarray, on_backward: Callable[[list[Any]], Sequence[Any]]) -> np.ndarray:
        ctx.on_backward = on_backward
        ctx._torch_name = "BackwardHookFunctionBackward"  # (grad_fn.name(), as PyTorch's)
        ctx.arrived = [None] * len(arrays)
        return np.zeros((), dtype=next((a.dtype for a in arrays if a.dtype.kind == "f"), np.float64))

    @staticmethod
    def backward(ctx: Any, g: Any) -> tuple[Any, ...]:
        arrived, ctx.arrived = ctx.arrived, [None] * len(ctx.arrived)  # (ready for another backward pass)
        return tuple(ctx.on_backward(arrived))

    @staticmethod
    def jvp(ctx: Any, *tangents: Any, on_backward: Any) -> np.ndarray:
        return np.zeros((), dtype=ctx.output.dtype)


class BackwardHookSlot(Function):
    """y = x, one of the tensors a join brings together.   VJP: ȳ goes to the join (slot ``index``), not
    to x: the join passes it on.   JVP: ẏ = ẋ"""

    @staticmethod
    def forward(ctx: Any, join: np.ndarray, x: np.ndarray, *, index: int) -> np.ndarray:
        ctx.index = index
        ctx._torch_name = "BackwardHookFunctionBackward"
        return x.view()

    @staticmethod
    def backward(ctx: Any, g: Any) -> tuple[Any, None]:
        join = ctx._prev[0]
        prev = join.arrived[ctx.index]
        join.arrived[ctx.index] = g if prev is None else prev + g
        return np.zeros((), dtype=join.out_dtype), None

    @staticmethod
    def jvp(ctx: Any, join_tangent: Any, x_tangent: Any, *, index: int) -> Any:
        return x_tangent if x_tangent is not None else np.zeros(ctx.output.shape, ctx.output.dtype)


def _join(tensors: list[Tensor], on_backward: Callable[[list[Any]], Sequence[Any]]) -> list[Tensor]:
    """Each tensor that requires grad through a slot of one join; the others as they are."""
    join = BackwardHookJoin.apply(*tensors, on_backward=on_backward)
    return [BackwardHookSlot.apply(join, t, index=i) if t.requires_grad else t for i, t in enumerate(tensors)]


class BackwardHook:
    """One call's backward hooks of a module (``torch.utils.hooks.BackwardHook``): `setup_input_hook`
    passes the positional arguments through a join, `setup_output_hook` the output(s). In backward, the
    output join calls ``pre_hook(module, grad_output)`` for each backward pre-hook (a returned tuple
    replaces ``grad_output``); the input join then calls ``hook(module, grad_input, grad_output)`` for
    each backward hook (a returned tuple replaces ``grad_input``). Non-tensor arguments and outputs have
    None there; so does an output that no gradient reached, and an input that requires grad but got none
    has zeros, as PyTorch's. If no input requires grad, the backward hooks run at the output join, with
    ``grad_input`` all None."""

    def __init__(self, module: Any, user_hooks: list[Callable[..., Any]],
                 user_pre_hooks: list[Callable[..., Any]]) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs: tuple[Any, ...] | None = None
        self.n_inputs = self.n_outputs = -1
        self.input_tensors_index: list[int] | None = None
        self.output_tensors_index: list[int] | None = None

    def _tensors_through_join(self, values: tuple[Any, ...], on_backward: Any) -> tuple[tuple[Any, ...], Any]:
        """``values`` with their tensors passed through a join, and the tensors' positions (None, and
        ``values`` unchanged, when none requires grad or grad mode is off: no hook can fire)."""
        index = [i for i, v in enumerate(values) if isinstance(v, Tensor)]
        tensors = [values[i] for i in index]
        if not (is_grad_enabled() and any(t.requires_grad for t in tensors)):
            return values, None
        joined = _join(tensors, on_backward)
        out = list(values)
        for i, t in zip(index, joined):
            out[i] = t
        return tuple(out), index

    def setup_input_hook(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        tensors: list[Tensor] = [a for a in args if isinstance(a, Tensor)]

        def on_backward(arrived: list[Any]) -> list[Any]:
            # as PyTorch's: a gradient that did not arrive is zeros (the join's gradients are materialized)
            grads = [g if g is not None else Tensor._make(np.zeros(t.shape, t.dtype), False)
                     for g, t in zip(arrived, tensors)]
            if self.grad_outputs is None:  # the gradient reached the inputs without passing the outputs
                return grads
            assert self.input_tensors_index is not None
            grad_input = _pack_with_none(self.input_tensors_index, grads, self.n_inputs)
            for hook in self.user_hooks:
                out = hook(self.module, grad_input, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(grad_input):
                    raise RuntimeError(f"Backward hook returned an invalid number of grad_input, got {len(out)}, "
                                       f"but expected {len(grad_input)}")
                grad_input = tuple(out)
            self.grad_outputs = None
            return [_checked(grad_input[i], t, "grad_input", i) for i, t in zip(self.input_tensors_index, tensors)]

        out, self.input_tensors_index = self._tensors_through_join(tuple(args), on_backward)
        self.n_inputs = len(args)
        return out

    def setup_output_hook(self, result: Any) -> Any:
        is_tuple = isinstance(result, tuple)
        outputs = result if is_tuple else (result,)
        tensors: list[Tensor] = [o for o in outputs if isinstance(o, Tensor)]

        def on_backward(arrived: list[Any]) -> list[Any]:
            assert self.output_tensors_index is not None
            self.grad_outputs = _pack_with_none(self.output_tensors_index, arrived, self.n_outputs)
            for pre_hook in self.user_pre_hooks:
                out = pre_hook(self.module, self.grad_outputs)
                if out is None:
                    continue
                if len(out) != len(self.grad_outputs):
                    raise RuntimeError(f"Backward pre hook returned an invalid number of grad_output, got "
                                       f"{len(out)}, but expected {len(self.grad_outputs)}")
                self.grad_outputs = tuple(out)
            grad_outputs = self.grad_outputs
            if self.input_tensors_index is None:  # no input requires grad: the hooks fire here
                warnings.warn("Full backward hook is firing when gradients are computed with respect to module "
                              "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/main/"
                              "generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for more "
                              "details.", stacklevel=_caller_level())
                grad_input = (None,) * self.n_inputs
                for hook in self.user_hooks:
                    res = hook(self.module, grad_input, grad_outputs)
                    if res is not None and not (isinstance(res, tuple) and all(r is None for r in res)):
                        raise RuntimeError("Backward hook for Modules where no input requires gradient should "
                                           "always return None or None for all gradients.")
                self.grad_outputs = None
            return [_checked(grad_outputs[i], t, "grad_output", i) for i, t in zip(self.output_tensors_index, tensors)]

        joined, self.output_tensors_index = self._tensors_through_join(outputs, on_backward)
        self.n_outputs = len(outputs)
        return joined if is_tuple else joined[0]


def _caller_level() -> int:
    """The ``stacklevel`` of the first frame outside this package (the user's ``backward()`` call)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def _pack_with_none(indices: list[int], values: Sequence[Any], size: int) -> tuple[Any, ...]:
    out: list[Any] = [None] * size
    for i, v in zip(indices, values):
        out[i] = v
    return tuple(out)


def _checked(g: Any, t: Tensor, what: str, i: int) -> Any:
    """A gradient a hook returned for tensor ``t``: None (no gradient), or a tensor of its shape."""
    if g is None:
        return None
    if not isinstance(g, Tensor):
        raise TypeError(f"backward hook: {what}[{i}] must be a Tensor or None, got {type(g).__name__}")
    if g.shape != t.shape:
        raise RuntimeError(f"backward hook: {what}[{i}] has shape {g.shape}, but the tensor has shape {t.shape}")
    return g
