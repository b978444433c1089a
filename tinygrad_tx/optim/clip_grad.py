"""``clip_grad_norm_``: scale all gradients together so that their total norm is at most a bound;
``clip_grad_value_``: clamp each gradient element.

PyTorch has them in ``torch.nn.utils`` (``torch/nn/utils/clip_grad.py``); here they sit beside the
optimizers they are used with, ``tinygrad_tx.optim`` exports them, and ``tinygrad_tx.nn.utils`` re-exports
them as PyTorch has them. They read and write only ``p.grad``, so they need
nothing from ``nn``.
"""

from __future__ import annotations

import math
import types
import warnings
from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> float:
    r"""Scale all gradients together so that their total norm is at most ``max_norm``.

    With ``‖·‖`` the p-norm (``norm_type``: p > 0, ``inf`` or ``-inf`` for max or min |g|, 0 for
    the count of non-zeros), the total norm is the norm of the vector of per-tensor norms::

        N = ‖(‖g₁‖, ‖g₂‖, ...)‖        (= ‖ all gradients concatenated ‖)
        g ← g · min(1, max_norm / (N + 1e-6))

    Returns N, the norm *before* clipping, as a float (``torch.nn.utils.clip_grad_norm_``, also
    ``tinygrad_tx.nn.utils.clip_grad_norm_``, returns it as a 0-d tensor). Parameters whose ``grad``
    is None are ignored. Each ``p.grad`` is scaled in place, as in PyTorch (the tensor is kept and
    re-pointed at a new array, so a graph that saved the old values keeps them; see ``_tensor_inplace.py``).
    The arithmetic is done in the gradients' dtype, as PyTorch does it.
    ``foreach`` chooses among PyTorch's kernels and changes nothing here.
    """
    total_norm = _clip_grad_norm(parameters, max_norm, norm_type, error_if_nonfinite)
    return 0.0 if total_norm is None else float(total_norm)


def _clip_grad_norm(parameters: Tensor | Iterable[Tensor], max_norm: float, norm_type: float,
                    error_if_nonfinite: bool) -> np.ndarray | None:
    """`clip_grad_norm_`, returning N as a 0-d array of the gradients' dtype (None if no parameter has one).
    An empty generator of parameters warns, as in PyTorch (it is likely one already used up)."""
    params = _parameter_list(parameters)
    if not params and isinstance(parameters, types.GeneratorType):
        warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.", stacklevel=3)
    grads = [p._grad._data for p in params if p._grad is not None]
    if not grads:
        return None
    norm_type = float(norm_type)
    norms = np.stack([_vector_norm(g, norm_type) for g in grads])
    total_norm = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total_norm)}, so "
            f"it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway"
        )
    clip_coef = float(max_norm) / (total_norm + 1e-6)
    clip_coef_clamped = np.minimum(clip_coef, 1.0)
    with np.errstate(invalid="ignore"):  # an infinite norm gives 0 · inf = nan, as in torch
        for p in params:
            if p._grad is not None:
                g = p._grad._data
                p._grad._set_array(np.asarray(g * clip_coef_clamped.astype(g.dtype)))  # 0-d stays an array
    return total_norm


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient elementwise to ``[-clip_value, clip_value]`` (``torch.nn.utils.clip_grad_value_``):
    ``g ← min(max(g, -c), c)``; NaN stays NaN. Parameters whose ``grad`` is None are ignored; the gradients
    are clamped in place (re-pointed at a new array, as in `clip_grad_norm_`). ``foreach`` changes nothing here."""
    clip_value = float(clip_value)
    for p in _parameter_list(parameters):
        if p._grad is not None:
            g = p._grad._data
            p._grad._set_array(np.asarray(np.minimum(np.maximum(g, -clip_value), clip_value)))


def _parameter_list(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    """A single tensor or an iterable of them, as a list."""
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


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

