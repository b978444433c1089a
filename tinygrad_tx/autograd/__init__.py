"""`tinygrad_tx.autograd`: the machinery of reverse mode, laid out as ``torch.autograd``.

- ``graph.py``: the node protocol both engines implement, ``topological_order`` and ``run_backward``,
  the one backward walk shared by `Value` and `Tensor`;
- ``grad_mode.py``: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``;
- ``function.py``: `Function`, the custom-op API (every tensor primitive is one);
- ``engine.py``: ``backward`` and ``grad``, the entry points that seed a walk;
- ``gradcheck.py``: ``gradcheck``, analytic against finite-difference gradients in float64;
- ``profiler.py``: ``profile()``, per-op forward and backward counts and seconds;
- ``forward_ad.py``: forward mode, ``dual_level``, ``make_dual``, ``unpack_dual`` (each primitive's JVP);
- ``hooks.py``: tensor hooks (``t.register_hook``), ``saved_tensors_hooks`` (also ``graph.saved_tensors_hooks``,
  as PyTorch's path), `RemovableHandle`;
- ``anomaly_mode.py``: ``detect_anomaly``, ``set_detect_anomaly``: raise at the op (forward) or VJP (backward)
  that made the first nan or inf, naming its module path and the user's source line.

Nothing here imports the tensor engine: ``tensor.py`` registers its class with ``function.py``.
"""

from . import forward_ad
from .anomaly_mode import detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled, set_detect_anomaly
from .engine import backward, grad
from .function import Function, SavedArray
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import run_backward, topological_order

# isort: split
# Private names that scalar.py and bench/ read (kept for the old ``tinygrad_tx/autograd.py``'s imports)
from .grad_mode import _grad_mode  # noqa: F401
from .graph import _EMIT, _freed_message  # noqa: F401

__all__ = [
    "backward", "grad", "Function", "SavedArray", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "gradcheck", "gradgradcheck", "GradcheckError", "topological_order", "run_backward", "forward_ad",
    "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
]
