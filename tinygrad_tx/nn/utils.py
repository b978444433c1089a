"""``torch.nn.utils``: gradient clipping, and a model's parameters as one vector.

- `clip_grad_norm_`, `clip_grad_value_`: PyTorch's signatures and results; the clipping itself is in
  ``optim/clip_grad.py`` (whose `clip_grad_norm_` returns the norm as a float, this one as PyTorch's
  0-d tensor).
- `parameters_to_vector`, `vector_to_parameters`: ``torch.nn.utils.convert_parameters``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..optim.clip_grad import _clip_grad_norm, clip_grad_value_
from ..tensor import Tensor, cat, get_default_dtype

__all__ = ["clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters"]


def clip_grad_norm_(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    r"""Scale all gradients together so that their total norm is at most ``max_norm``::

        N = ‖(‖g₁‖, ‖g₂‖, ...)‖        the norm of all gradients concatenated (``norm_type``: p, inf, -inf, 0)
        g ← g · min(1, max_norm / (N + 1e-6))

    Returns N, the norm before clipping, as a 0-d tensor of the gradients' dtype (``tensor(0.)`` when no
    parameter has a gradient), as ``torch.nn.utils.clip_grad_norm_``. ``error_if_nonfinite=True``: a nan or
    infinite N raises instead. ``foreach`` chooses among PyTorch's kernels and changes nothing here. See
    ``optim.clip_grad_norm_`` for the details."""
    total_norm = _clip_grad_norm(parameters, max_norm, norm_type, error_if_nonfinite)
    if total_norm is None:  # PyTorch's torch.tensor(0.0)
        return Tensor._make(np.zeros((), get_default_dtype()), False)
    return Tensor._make(np.asarray(total_norm), False)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """The parameters flattened and joined into one vector, in order: ``cat([p.reshape(-1) for p in
    parameters])``. It stays in the graph, as PyTorch's (its gradient reaches each parameter)."""
    tensors = list(parameters)
    if not tensors:
        raise ValueError("parameters_to_vector: expected at least one parameter, got none")
    for i, p in enumerate(tensors):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters_to_vector: parameter {i} is a {type(p).__name__}, not a Tensor")
    return cat([p.reshape(-1) for p in tensors])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Give each parameter, in order, the next ``p.numel()`` values of ``vec``, in ``p``'s shape: the inverse of
    `parameters_to_vector`. As PyTorch's ``p.data = vec[a:b].view_as(p).data``: not recorded in any graph, a
    modification of ``p`` (its version ticks), and ``p`` takes ``vec``'s dtype. Unlike PyTorch's, each
    parameter gets a copy of its slice (not a view of ``vec``), and a ``vec`` longer than the parameters
    need is refused (PyTorch ignores the rest) as well as a shorter one."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"vector_to_parameters: expected a Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"vector_to_parameters: parameter {i} is a {type(p).__name__}, not a Tensor")
    need = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != need:
        shapes = ", ".join(str(p.shape) for p in params)
        raise ValueError(f"vector_to_parameters: the vector has shape {vec.shape}, but the parameters ({shapes}) "
                         f"need a 1-d vector of {need} values")
    if vec.dtype.kind != "f" and any(p.requires_grad for p in params):
        raise TypeError(f"vector_to_parameters: a parameter that requires grad must stay floating point, and the "
                        f"vector has dtype {vec.dtype} (PyTorch refuses it too)")
    values = vec.detach().numpy()
    start = 0
    for p in params:
        n = p.numel()
        p.data = Tensor._make(np.array(values[start:start + n].reshape(p.shape)), False)  # (a plain copy)
        start += n
