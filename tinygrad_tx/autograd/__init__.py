"""`tinygrad_tx.autograd`: the machinery of reverse mode, laid out as ``torch.autograd``.

- ``graph.py``: the node protocol both engines implement, ``topological_order`` and ``run_backward``,
  the one backward walk shared by `Value` and `Tensor`;
- ``grad_mode.py``: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``;
- ``function.py``: `Function`, the custom-op API (every tensor primitive is one);
- ``engine.py``: ``backward`` and ``grad``, the entry points that seed a walk;
- ``gradcheck.py``: ``gradcheck``, analytic against finite-difference gradients in float64;
- ``profiler.py``: ``profile()``, per-op forward and backward counts and seconds.

Nothing here imports the tensor engine: ``tensor.py`` registers its class with ``function.py``.
"""

from .engine import backward, grad
from .function import Function, SavedArray
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .graph import run_backward, topological_order

# isort: split
# Private names that scalar.py and bench/ read (kept for the old ``tinygrad_tx/autograd.py``'s imports)
from .grad_mode import _grad_mode  # noqa: F401
from .graph import _EMIT, _freed_message  # noqa: F401

__all__ = [
    "backward", "grad", "Function", "SavedArray", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "gradcheck", "GradcheckError", "topological_order", "run_backward",
]
