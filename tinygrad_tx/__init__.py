"""tinygrad_tx: reverse-mode automatic differentiation you can read, from scalars to a GPT.

- `Value`: the scalar engine (micrograd's idea, on the shared backward algorithm).
- `Tensor`: the NumPy tensor engine; primitives in ``ops.py``, composition in ``tensor.py``.
- `grad`, `no_grad`, `enable_grad`: PyTorch's autograd vocabulary.
- `Function`: write your own op with a hand-derived backward.
- `gradcheck`: compare an op's VJP with central finite differences in float64.

``import tinygrad_tx as torch`` runs PyTorch teaching code: the dtypes (``torch.float32``, ``torch.long``), devices
(the CPU), factories and samplers with ``generator=``, `Generator`, ``torch.Size``, PyTorch's ``print(t)``.
"""

from . import backends, cuda
from ._device import device, get_float32_matmul_precision, set_float32_matmul_precision
from ._dtypes import DType as dtype
from ._dtypes import bool_ as bool  # noqa: A001  (the dtypes, as torch.float32, torch.long, ...)
from ._dtypes import (
    complex64,
    complex128,
    finfo,
    float16,
    float32,
    float64,
    iinfo,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ._dtypes import complex64 as cfloat
from ._dtypes import complex128 as cdouble
from ._dtypes import float16 as half
from ._dtypes import float32 as float  # noqa: A001
from ._dtypes import float64 as double
from ._dtypes import int16 as short
from ._dtypes import int32 as int  # noqa: A001
from ._dtypes import int64 as long
from ._factories import (
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_floating_point,
    is_tensor,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    zeros,
    zeros_like,
)
from ._random import Generator, default_generator, get_rng_state, initial_seed, seed, set_rng_state
from ._tensor_convert import Size
from ._tensor_str import get_printoptions, set_printoptions
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
    # PyTorch's tensor API (issue 11): dtypes, devices, factories, the random stream, printing
    "dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
    "uint64", "bool", "complex64", "complex128", "half", "float", "double", "short", "int", "long", "cfloat",
    "cdouble", "finfo", "iinfo", "device", "cuda", "backends", "set_float32_matmul_precision",
    "get_float32_matmul_precision", "Size", "empty", "empty_like", "full_like", "linspace", "logspace",
    "as_tensor", "from_numpy", "is_tensor", "is_floating_point", "randint", "randperm", "normal",
    "bernoulli", "multinomial", "randn_like", "rand_like", "randint_like", "Generator", "default_generator",
    "seed", "initial_seed", "get_rng_state", "set_rng_state", "set_printoptions", "get_printoptions",
    "autograd", "func", "nn", "optim", "utils",
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
