"""The two entry points of a backward pass, as ``torch.autograd`` has them.

- ``backward(tensors, grad_tensors)``: accumulate ``d tensors / d leaf`` into every leaf's ``.grad``
  (what ``Tensor.backward`` calls);
- ``grad(outputs, inputs, grad_outputs)``: return ``d outputs / d inputs``, touching no ``.grad``.

Both seed ``dL/d output`` on each output and run the one walk of ``graph.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import function as _function
from .grad_mode import set_grad_enabled
from .graph import run_backward

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["backward", "grad"]


def _seed_gradient(out: Tensor, gradient: Any, op: str) -> Tensor:
    Tensor = _function._tensor_class
    if gradient is None:
        if out.numel() != 1:
            raise RuntimeError(
                f"{op}: the gradient can be implied only for a one-element output, but this one has "
                f"shape {out.shape}. Pass gradient= (dL/d output, of shape {out.shape}), or reduce "
                f"the output to a scalar first, e.g. out.sum().backward()"
            )
        return Tensor._make(np.ones(out.shape, dtype=out.dtype), False)
    g = gradient if isinstance(gradient, Tensor) else Tensor._make(
        np.asarray(gradient, dtype=out.dtype), False
    )
    if g.shape != out.shape:
        raise RuntimeError(f"{op}: gradient has shape {g.shape} but the output has shape {out.shape}")
    return g if g.dtype == out.dtype else g.to(out.dtype)


def _as_list(x: Any) -> list[Any]:
    return [x] if isinstance(x, _function._tensor_class) else list(x)


def _per_output(given: Any, n: int, op: str, name: str) -> list[Any]:
    """One seed per output: ``None``, a tensor or an array stands for the only output's."""
    if given is None or isinstance(given, (_function._tensor_class, np.ndarray)):
        given = [given] * n if n == 1 else (given or [None] * n)
    given = list(given)
    if len(given) != n:
        raise ValueError(f"{op}: {n} outputs but {len(given)} {name}")
    return given


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate ``d tensors / d leaf`` into ``leaf.grad`` for every leaf that requires grad.

    ``grad_tensors`` holds ``dL/d tensor`` for each tensor; it may be omitted for one-element tensors.
    The graph's saved values are released afterwards unless ``retain_graph`` (which defaults to
    ``create_graph``) is set. With ``create_graph`` the VJPs are recorded (grad of grad).
    """
    outs = _as_list(tensors)
    for i, t in enumerate(outs):
        if not t.requires_grad:
            which = "this tensor" if len(outs) == 1 else f"tensor {i}"
            raise RuntimeError(
                f"backward: {which} does not require grad and has no grad_fn: nothing it was "
                "computed from has requires_grad=True (or it was computed inside no_grad())"
            )
    seeds = [_seed_gradient(o, g, "backward") for o, g in zip(outs, _per_output(grad_tensors, len(outs),
                                                                                   "backward", "grad_tensors"))]
    retain = create_graph if retain_graph is None else retain_graph
    with set_grad_enabled(create_graph):
        run_backward([o._node() for o in outs], seeds, retain_graph=retain)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
) -> tuple[Tensor | None, ...]:
    """``d outputs / d inputs`` as Tensors, without touching any ``.grad``.

    With ``create_graph=True`` the VJPs are recorded, so the result can be differentiated again
    (grad of grad, Hessian-vector products). ``retain_graph`` defaults to ``create_graph``. An input
    the outputs do not depend on is an error, or None with ``allow_unused``, or zeros with
    ``materialize_grads`` (which implies ``allow_unused``), as in ``torch.autograd.grad``.
    """
    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError("grad: materialize_grads=True needs allow_unused=True (or left unset)")
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    grad_outputs = _per_output(grad_outputs, len(outs), "grad", "grad_outputs")
    for i, t in enumerate(outs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no grad_fn")
    for i, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) does not require grad")
    seeds = [_seed_gradient(o, g, "grad") for o, g in zip(outs, grad_outputs)]
    retain = create_graph if retain_graph is None else retain_graph
    nodes = [t._node() for t in ins]
    unique = list(dict.fromkeys(nodes))  # an input listed twice gets its gradient twice
    with set_grad_enabled(create_graph):
        captured = run_backward([o._node() for o in outs], seeds, retain_graph=retain, capture=unique)
    assert captured is not None
    position = {n: i for i, n in enumerate(unique)}  # (by identity: nodes hash by id)
    found = [captured[position[n]] for n in nodes]
    result: list[Tensor | None] = []
    for i, (t, g) in enumerate(zip(ins, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {t.shape}) was not used to compute the outputs; "
                    f"pass allow_unused=True to get None for it"
                )
            result.append(_function._tensor_class._make(np.zeros(t.shape, t.dtype), False)
                          if materialize_grads else None)
        else:
            result.append(g if create_graph else g.detach())
    return tuple(result)
