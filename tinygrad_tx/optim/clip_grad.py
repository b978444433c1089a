"""``clip_grad_norm_``: scale all gradients together so that their total norm is at most a bound.

PyTorch has it in ``torch.nn.utils`` (``torch/nn/utils/clip_grad.py``); here it sits beside the
optimizers it is used with, and ``tinygrad_tx.optim`` exports it. It reads and writes only
``p.grad``, so it needs nothing from ``nn``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["clip_grad_norm_"]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    r"""Scale all gradients together so that their total norm is at most ``max_norm``.

    With ``‖·‖`` the p-norm (``norm_type``: p > 0, ``inf`` or ``-inf`` for max or min |g|, 0 for
    the count of non-zeros), the total norm is the norm of the vector of per-tensor norms::

        N = ‖(‖g₁‖, ‖g₂‖, ...)‖        (= ‖ all gradients concatenated ‖)
        g ← g · min(1, max_norm / (N + 1e-6))

    Returns N, the norm *before* clipping, as a float. Parameters whose ``grad`` is None are
    ignored. Each ``p.grad`` is scaled in place, as in PyTorch (the tensor is kept and re-pointed at a new
    array, so a graph that saved the old values keeps them; see ``_tensor_inplace.py``). The arithmetic is
    done in the gradients' dtype, as ``torch.nn.utils.clip_grad_norm_`` does it.
    """
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = [p._grad._data for p in params if p._grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    norms = np.stack([_vector_norm(g, norm_type) for g in grads])
    total_norm = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not np.isfinite(total_norm):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {float(total_norm)}, so "
            f"it cannot be clipped; pass error_if_nonfinite=False to scale by it anyway"
        )
    clip_coef = max_norm / (total_norm + 1e-6)
    clip_coef_clamped = np.minimum(clip_coef, 1.0)
    with np.errstate(invalid="ignore"):  # an infinite norm gives 0 · inf = nan, as in torch
        for p in params:
            if p._grad is not None:
                g = p._grad._data
                p._grad._set_array(np.asarray(g * clip_coef_clamped.astype(g.dtype)))  # 0-d stays an array
    return float(total_norm)


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

