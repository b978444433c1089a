"""Forward-mode AD, as ``torch.autograd.forward_ad``: a tangent rides along with each value.

Inside ``with dual_level():``, ``make_dual(x, ẋ)`` gives a tensor with the values of ``x`` that carries
the tangent ``ẋ``. Every primitive an input of which carries a tangent computes its output's tangent
with its JVP (``ops.py``: ``ẏ = ȧ ⊙ b + a ⊙ ḃ`` for a product), during the forward pass itself: one
pass, no graph kept, and the result's tangent is the Jacobian-vector product J ẋ. ``unpack_dual(y)``
reads it. Composites (softmax, layer_norm, a whole GPT) get forward mode by composition, as they get
reverse mode. Leaving the level forgets every tangent it made.

The cost is the order of the multiplication: reverse mode gives one row of J (a gradient) per pass,
forward mode one column (a directional derivative). For f: ℝⁿ → ℝ, reverse wins n to 1; for a
function of one input with many outputs, forward does.

A JVP is written in Tensor ops on the primal tensors (``ctx.inputs``, ``ctx.output``), so it is
differentiable in reverse mode: a JVP of a gradient (forward-over-reverse) gives a Hessian-vector
product in two passes. (Tangents of tangents, nested levels, are not supported, as in PyTorch.)
"""

from __future__ import annotations

import contextlib
import weakref
from collections import namedtuple
from collections.abc import Iterator
from typing import Any

import numpy as np

from .grad_mode import _grad_mode

__all__ = ["dual_level", "make_dual", "unpack_dual", "UnpackedDualTensor", "enter_dual_level", "exit_dual_level"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])


class _State:
    level: int | None = None  # the active level (0), or None: forward mode is off
    suspended = 0  # > 0 while a JVP runs: its own ops carry no tangents
    duals: list[Any] = []  # weak references to every tensor (and graph node) given a tangent at this level


_state = _State()
_level_listeners: list[Any] = []  # called with True/False as a level starts/ends (scalar.py's Value listens)


def enter_dual_level() -> int:
    """Start a forward-AD level (prefer ``with dual_level():``). Only one at a time, as in PyTorch."""
    if _state.level is not None:
        raise RuntimeError("forward_ad: nested forward-mode levels are not supported (as in PyTorch); "
                           "exit the current dual_level first")
    _state.level, _state.duals = 0, []
    for listener in _level_listeners:
        listener(True)
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """End the level: every tangent made in it is dropped."""
    if _state.level is None:
        raise RuntimeError("forward_ad: exit_dual_level() without an active dual_level")
    for ref in _state.duals:
        t = ref()
        if t is not None:
            t._tangent = None
    _state.level, _state.duals = None, []
    for listener in _level_listeners:
        listener(False)


class dual_level(contextlib.ContextDecorator):
    """``with dual_level():`` — the scope in which tensors carry tangents (``torch.autograd.forward_ad``)."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _attach(t: Any, tangent: Any) -> None:
    t._tangent = tangent
    _state.duals.append(weakref.ref(t))


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A tensor with the values of ``tensor`` (shared, and connected to it for reverse mode) that carries
    ``tangent`` (same shape; a floating dtype)."""
    if _state.level is None:
        raise RuntimeError("make_dual: forward-mode AD must be used inside `with forward_ad.dual_level():`")
    if hasattr(tensor, "_make_dual"):  # a scalar `Value`: its tangent is a float (scalar.py)
        return tensor._make_dual(tangent)
    if not hasattr(tensor, "_tangent") or not hasattr(tangent, "_tangent"):
        raise TypeError(f"make_dual: expected two Tensors, got {type(tensor).__name__} and {type(tangent).__name__}")
    if tangent.shape != tensor.shape:
        raise ValueError(f"make_dual: the tangent has shape {tangent.shape}, the primal {tensor.shape}; "
                         f"they must match")
    if tensor.dtype.kind != "f" or tangent.dtype.kind != "f":
        raise TypeError(f"make_dual: primal and tangent must be floating point, got {tensor.dtype} and "
                        f"{tangent.dtype}")
    with _suspended():
        dual = _alias(tensor)
    _attach(dual, tangent.to(tensor.dtype))
    return dual


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """``(primal, tangent)``: the values as a tensor without the tangent (still connected for reverse
    mode) and the tangent, or None where there is none."""
    if hasattr(tensor, "_make_dual"):  # a scalar `Value`: itself and its float tangent (scalar.py)
        return UnpackedDualTensor(tensor, tensor.tangent)
    tangent = getattr(tensor, "_tangent", None)
    if tangent is None:
        return UnpackedDualTensor(tensor, None)
    with _suspended():
        primal = _alias(tensor)
    return UnpackedDualTensor(primal, tangent)


def _alias(t: Any) -> Any:
    """The same values as a new tensor: a copy in the graph (its gradient flows to ``t``) when ``t``
    records, else the same array."""
    return t.clone() if t.requires_grad and _grad_mode.enabled else t.detach()


@contextlib.contextmanager
def _suspended() -> Iterator[None]:
    _state.suspended += 1
    try:
        yield
    finally:
        _state.suspended -= 1


def _propagate(cls: type, ctx: Any, tensors: list[Any], out: Any, kwargs: dict[str, Any]) -> None:
    """Give ``out`` its tangent, ``cls.jvp(ctx, *input tangents, **kwargs)`` (None for an input without),
    if an input carries one. `Function.apply` calls this only while a level is active."""
    if _state.suspended or all(t._tangent is None for t in tensors):
        return
    Tensor = type(out)
    jvp = getattr(cls, "jvp", None)
    if jvp is None:
        raise RuntimeError(f"{ctx._op_name()}: this Function has no jvp, so forward-mode AD cannot go through it; "
                           f"define @staticmethod jvp(ctx, *tangents) (ctx.inputs, ctx.output are the primals)")
    if out._data.dtype.kind != "f":
        return  # an integer or bool result carries no tangent
    tangents = [t._tangent for t in tensors]
    ctx.inputs, ctx.output = tuple(tensors), out
    try:
        with _suspended():
            tangent = jvp(ctx, *tangents, **kwargs)
            if not isinstance(tangent, Tensor):
                tangent = Tensor(np.asarray(tangent, dtype=out.dtype))
            if tangent.shape != out.shape:  # a constant's zero tangent is smaller: broadcasting
                tangent = tangent.expand(out.shape)
            if tangent.dtype != out.dtype:
                tangent = tangent.to(out.dtype)
    finally:
        del ctx.inputs, ctx.output
    _attach(out, tangent)
    _attach(ctx, tangent)  # the node hands the output, with its tangent, to its VJP (saved_tensors)
