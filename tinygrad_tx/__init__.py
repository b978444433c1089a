"""tinygrad_tx: reverse-mode automatic differentiation you can read, from scalars to a GPT.

- `Value`: the scalar engine (micrograd's idea, on the shared backward algorithm).
- `Tensor`: the NumPy tensor engine; primitives in ``ops.py``, composition in ``tensor.py``.
- `grad`, `no_grad`, `enable_grad`: PyTorch's autograd vocabulary.
- `Function`: write your own op with a hand-derived backward.
- `gradcheck`: compare an op's VJP with central finite differences in float64.
"""

from numpy import bool_ as bool  # noqa: A001  (dtype aliases, as torch.float32 etc.)
from numpy import float16, float32, float64, int32, int64

from ._factories import arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled

# (through the old module path, so that importing tinygrad_tx.gradcheck later cannot rebind tx.gradcheck)
from .gradcheck import GradcheckError, gradcheck
from .perf import limit_blas_threads, tune_allocator
from .scalar import Value
from .tensor import Tensor, cat, get_default_dtype, manual_seed, matmul, set_default_dtype, stack, tensor, where

__version__ = "0.1.0"

__all__ = [
    "Value", "Tensor", "Function", "grad", "no_grad", "enable_grad", "is_grad_enabled",
    "set_grad_enabled", "gradcheck", "GradcheckError", "tensor", "cat", "stack", "where",
    "matmul", "zeros", "ones", "full", "zeros_like", "ones_like", "randn", "rand", "arange",
    "eye", "manual_seed", "set_default_dtype", "get_default_dtype", "tune_allocator", "limit_blas_threads",
    "float16", "float32", "float64", "int32", "int64", "bool", "autograd", "func", "nn", "optim", "utils",
]

# PyTorch's module-level functions (torch.tanh(x), torch.sum(x, dim=0), torch.einsum, ...) and its named result
# tuples (torch.return_types.max, ...): see _functions.py. (After __all__, which they extend.)
from . import return_types  # noqa: E402
from ._functions import *  # noqa: E402, F403
from ._functions import __all__ as _function_names  # noqa: E402

__all__ += ["return_types", *_function_names]

# isort: split
# The namespaces, as attributes right after ``import tinygrad_tx`` (``torch.nn``, ``torch.optim``, ...)
from . import autograd, func, nn, optim, utils  # noqa: E402
