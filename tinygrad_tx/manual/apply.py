"""Closing the loop: the hand-derived gradients put where an optimiser reads them.

``loss.backward()`` fills ``p.grad`` for every trainable parameter; `apply_gradients` fills the same
``.grad`` tensors from `gpt_backward`'s result instead, so the rest of a training step (clipping,
``optimizer.step()``) runs unchanged and a model can be trained with no engine backward at all::

    result = manual.gpt_backward(model, x, y)     # plain NumPy
    optimizer.zero_grad()
    manual.apply_gradients(model, result)         # instead of loss.backward()
    clip_grad_norm_(params, 1.0)
    optimizer.step()

The match is checked strictly, by name: a trainable parameter without a gradient, a gradient for a
name the model does not have or does not train, or a shape or dtype that differs is an error naming
the parameter, never a silently skipped (or broadcast) update.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..nn import Module
from ..tensor import Tensor
from .gpt import ManualGradients

__all__ = ["apply_gradients"]


def apply_gradients(model: Module, grads: ManualGradients | Mapping[str, np.ndarray]) -> None:
    """Set ``p.grad`` of every trainable parameter of ``model`` to its hand-derived gradient.

    ``grads`` is a `ManualGradients` (its ``.grads``) or a ``{named_parameters() name: array}`` mapping
    with exactly one entry per parameter that requires a gradient (a shared parameter under its first name,
    the one ``named_parameters()`` gives). Each array is copied into a new
    tensor of the parameter's dtype, so an optimiser that scales ``.grad`` in place (clipping) cannot
    reach back into the caller's arrays. Frozen parameters (``requires_grad=False``, e.g. the base
    weights under LoRA) are left alone. Raises ``ValueError`` naming every missing, extra, mis-shaped
    or mis-typed gradient (or one that is not an array of numbers: None, a str), before any ``.grad`` is
    changed.
    """
    arrays = grads.grads if isinstance(grads, ManualGradients) else grads
    if not isinstance(arrays, Mapping):
        raise TypeError(f"apply_gradients: grads must be a ManualGradients or a mapping of name -> array, "
                        f"got {type(grads).__name__}")
    named = dict(model.named_parameters())
    first_name = {id(p): name for name, p in named.items()}
    aliases = {name: first_name[id(p)] for name, p in model.named_parameters(remove_duplicate=False)
               if name not in named}  # a shared (tied) parameter's later names -> its first
    trainable = {name: p for name, p in named.items() if p.requires_grad}
    problems = []
    missing = [name for name in trainable if name not in arrays]
    if missing:
        problems.append(f"no gradient for trainable parameter(s) {', '.join(missing)}")
    for name in arrays:
        if name in aliases:
            problems.append(f"{name}: the same parameter as {aliases[name]} (shared); give its gradient once, "
                            f"under {aliases[name]}")
        elif name not in named:
            problems.append(f"{name}: the model has no such parameter")
        elif name not in trainable:
            problems.append(f"{name}: the parameter is frozen (requires_grad=False) and gets no gradient")
    for name, p in trainable.items():
        if name not in arrays:
            continue
        g = _numbers(arrays[name])
        if g is None:
            what = "None" if arrays[name] is None else f"a {type(arrays[name]).__name__}"
            problems.append(f"{name}: the gradient is {what}, not an array of numbers")
        elif g.shape != tuple(p.shape):
            problems.append(f"{name}: gradient of shape {g.shape} for a parameter of shape {tuple(p.shape)}")
        elif g.dtype != p.detach().numpy().dtype:
            problems.append(f"{name}: gradient of dtype {g.dtype} for a parameter of dtype {p.dtype}")
    if problems:
        raise ValueError("apply_gradients: " + "; ".join(problems))
    for name, p in trainable.items():
        p.grad = Tensor(np.array(arrays[name], copy=True))


def _numbers(value: object) -> np.ndarray | None:
    """``value`` as a NumPy array of real numbers, or None when it is not one (None, a str, a ragged list):
    NumPy would read those as a 0-d object or string array, and the error would speak of shape ``()``."""
    if value is None:
        return None
    try:
        g = np.asarray(value)
    except (ValueError, TypeError):  # a ragged nesting of lists
        return None
    return g if g.dtype.kind in "biuf" else None
