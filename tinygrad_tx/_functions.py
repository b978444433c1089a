"""PyTorch's module-level functions: ``torch.tanh(x)`` is ``x.tanh()``, ``torch.sum(x, dim=0)`` is ``x.sum(dim=0)``,
so teaching code runs unchanged after ``import tinygrad_tx as torch``.

Most are a thin call of the `Tensor` method of the same name (`_method`), so their arguments, errors and
gradients are the method's. The others are short compositions where PyTorch's function differs from a
method: a number as the first operand (``torch.add(2, x)``, ``torch.pow(2, x)``), ``alpha=`` and
``rounding_mode=``, ``var_mean``, ``softmax(dtype=)``. As in
PyTorch, ``input`` must be a Tensor (a list or a number is a TypeError), and ``out=`` is refused: these
functions return a new tensor and never write into an existing one.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _tensor_arith
from ._args import _numpy_keywords, _var_args
from ._dtypes import _alpha_times, _result_dtype
from ._einsum import einsum
from .tensor import Tensor, cat, where

__all__ = [
    # elementwise
    "abs", "absolute", "exp", "log", "sqrt", "rsqrt", "sigmoid", "relu", "tanh", "sin", "cos", "erf", "neg",
    "negative", "square", "pow", "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
    "maximum", "minimum", "clamp", "clip", "lerp", "nan_to_num", "log1p", "expm1", "log2", "log10", "exp2",
    "reciprocal", "frac", "tan", "atan", "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh", "arctan", "arcsin",
    "arccos", "arcsinh", "arccosh", "arctanh", "atan2", "arctan2", "hypot", "addcmul", "addcdiv",
    # comparisons and logical ops (bool results)
    "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal", "logical_not",
    "logical_and", "logical_or", "logical_xor",
    # piecewise constant (gradient 0) and tests
    "sign", "floor", "ceil", "round", "trunc", "isnan", "isinf", "isfinite",
    # reductions and scans
    "sum", "mean", "prod", "std", "var", "var_mean", "std_mean", "amax", "amin", "max", "min", "argmax",
    "argmin", "logsumexp", "cumsum", "cumprod", "norm", "all", "any", "softmax", "log_softmax", "median", "kthvalue",
    "count_nonzero", "unique", "bincount",
    # comparison of whole tensors
    "allclose", "isclose", "equal",
    # selection
    "sort", "argsort", "topk", "gather", "masked_fill", "tril", "triu", "diag", "diagonal", "index_select",
    "scatter", "scatter_add", "index_add", "nonzero", "argwhere", "select", "narrow", "masked_select",
    "take_along_dim",
    # linear algebra
    "mm", "bmm", "mv", "dot", "outer", "einsum", "addmm", "baddbmm", "cross", "trace",
    # shapes
    "reshape", "flatten", "transpose", "t", "permute", "squeeze", "unsqueeze", "split", "chunk", "concat",
    "concatenate", "clone", "numel", "flip", "fliplr", "flipud", "roll", "unbind", "tensor_split",
    "split_with_sizes", "movedim", "moveaxis", "swapaxes", "swapdims", "ravel", "broadcast_to",
]


def _check(input: Any, op: str, out: Any = None) -> None:
    """PyTorch's functions take a Tensor as ``input``; ``out=`` is refused (no function writes in place)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if out is not None:
        raise TypeError(f"{op}(): out= is not supported: the functions return a new tensor; "
                        f"write y = {op}(...) instead")


def _method(name: str) -> Callable[..., Any]:
    """``name(input, *args, **kwargs)`` as ``input.name(*args, **kwargs)``."""

    def function(input: Tensor, *args: Any, out: Any = None, **kwargs: Any) -> Any:
        _check(input, name, out)
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    doc = getattr(Tensor, name).__doc__
    function.__doc__ = f"``{name}(input, ...)`` is ``input.{name}(...)``." + (f"\n\n{doc}" if doc else "")
    return function


# the functions that are their method
abs = _method("abs")
exp = _method("exp")
log = _method("log")
sqrt = _method("sqrt")
rsqrt = _method("rsqrt")
sigmoid = _method("sigmoid")
relu = _method("relu")
tanh = _method("tanh")
sin = _method("sin")
cos = _method("cos")
erf = _method("erf")
neg = _method("neg")
square = _method("square")
maximum = _method("maximum")
minimum = _method("minimum")
clamp = _method("clamp")
nan_to_num = _method("nan_to_num")
sign = _method("sign")
floor = _method("floor")
ceil = _method("ceil")
round = _method("round")
trunc = _method("trunc")
isnan = _method("isnan")
isinf = _method("isinf")
isfinite = _method("isfinite")
sum = _method("sum")
mean = _method("mean")
prod = _method("prod")
std = _method("std")
var = _method("var")
amax = _method("amax")
amin = _method("amin")
max = _method("max")
min = _method("min")
argmax = _method("argmax")
argmin = _method("argmin")
logsumexp = _method("logsumexp")
cumsum = _method("cumsum")
cumprod = _method("cumprod")
norm = _method("norm")
all = _method("all")
any = _method("any")
allclose = _method("allclose")
isclose = _method("isclose")
equal = _method("equal")
sort = _method("sort")
argsort = _method("argsort")
topk = _method("topk")
gather = _method("gather")
masked_fill = _method("masked_fill")
tril = _method("tril")
triu = _method("triu")
diag = _method("diag")
reshape = _method("reshape")
flatten = _method("flatten")
transpose = _method("transpose")
t = _method("t")
permute = _method("permute")
squeeze = _method("squeeze")
unsqueeze = _method("unsqueeze")
chunk = _method("chunk")
clone = _method("clone")
log1p, expm1, log2, log10, exp2 = (_method(n) for n in ("log1p", "expm1", "log2", "log10", "exp2"))
reciprocal, frac, tan, atan, asin, acos = (_method(n) for n in ("reciprocal", "frac", "tan", "atan", "asin", "acos"))
sinh, cosh, asinh, acosh, atanh = (_method(n) for n in ("sinh", "cosh", "asinh", "acosh", "atanh"))
atan2, hypot, lerp, addcmul, addcdiv = (_method(n) for n in ("atan2", "hypot", "lerp", "addcmul", "addcdiv"))
eq, ne, lt, le, gt, ge = (_method(n) for n in ("eq", "ne", "lt", "le", "gt", "ge"))
logical_not, logical_and, logical_or, logical_xor = (_method(n) for n in (
    "logical_not", "logical_and", "logical_or", "logical_xor"))
median, kthvalue, count_nonzero, unique, bincount = (_method(n) for n in (
    "median", "kthvalue", "count_nonzero", "unique", "bincount"))
diagonal, index_select, scatter, scatter_add, index_add = (_method(n) for n in (
    "diagonal", "index_select", "scatter", "scatter_add", "index_add"))
nonzero, argwhere, select, narrow = (_method(n) for n in ("nonzero", "argwhere", "select", "narrow"))
masked_select, take_along_dim, broadcast_to = (_method(n) for n in ("masked_select", "take_along_dim", "broadcast_to"))
mm, bmm, mv, dot, outer = (_method(n) for n in ("mm", "bmm", "mv", "dot", "outer"))
addmm, baddbmm, cross, trace = (_method(n) for n in ("addmm", "baddbmm", "cross", "trace"))
flip, fliplr, flipud, roll, unbind = (_method(n) for n in ("flip", "fliplr", "flipud", "roll", "unbind"))
tensor_split, split_with_sizes, movedim, swapaxes, swapdims, ravel = (_method(n) for n in (
    "tensor_split", "split_with_sizes", "movedim", "swapaxes", "swapdims", "ravel"))

# PyTorch's other names for them
absolute, negative, clip = abs, neg, clamp
arctan, arcsin, arccos, arcsinh, arccosh, arctanh, arctan2 = atan, asin, acos, asinh, acosh, atanh, atan2
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
moveaxis = movedim
concat = concatenate = cat


def numel(input: Tensor) -> int:
    """The number of elements (a Python int)."""
    _check(input, "numel")
    return input.numel()


def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """``tensor.split(split_size_or_sections, dim)``: pieces of one size (the last may be smaller), or of
    the listed sizes."""
    _check(tensor, "split")
    return tensor.split(split_size_or_sections, dim)


# ------------------------------------------------------------------- arithmetic with a number first
def _operands(input: Any, other: Any, op: str, out: Any) -> None:
    """``torch.add(2, x)`` is allowed: one of the two operands must be a Tensor."""
    _check(input if isinstance(input, Tensor) else other, op, out)


def add(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """input + alpha · other."""
    _operands(input, other, "add", out)
    return input + _alpha_times(other, alpha, input, "add")


def sub(input: Any, other: Any, *, alpha: Any = 1, out: Any = None) -> Tensor:
    """input - alpha · other."""
    _operands(input, other, "sub", out)
    return input - _alpha_times(other, alpha, input, "sub")


def mul(input: Any, other: Any, *, out: Any = None) -> Tensor:
    _operands(input, other, "mul", out)
    return input * other


def div(input: Any, other: Any, *, rounding_mode: str | None = None, out: Any = None) -> Tensor:
    """input / other (always floating), or rounded: ``rounding_mode="floor"`` is ``input // other``,
    ``"trunc"`` rounds towards 0 (integer operands stay integers). The rounded ones have gradient 0 for
    both operands, as in PyTorch."""
    _operands(input, other, "div", out)
    if rounding_mode is None:
        return input / other
    if rounding_mode not in ("floor", "trunc"):
        raise ValueError(f"div(): rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}")
    a, b = (x.detach() if isinstance(x, Tensor) else x for x in (input, other))
    if rounding_mode == "floor":
        quotient = a // b
    elif _result_dtype(a, b).kind == "f":
        quotient = (a / b).trunc()
    else:  # the floor, and one more where it rounded a negative non-integer quotient down
        quotient = (a // b) + ((a % b != 0) & ((a < 0) != (b < 0)))
    if not builtins.any(isinstance(x, Tensor) and x.requires_grad for x in (input, other)):
        return quotient
    # in the graph with gradient 0 for both operands: where(True, quotient, input + other)
    return where(np.ones(quotient.shape, dtype=bool), quotient, input + other)


def pow(input: Any, exponent: Any, *, out: Any = None) -> Tensor:
    """input ** exponent; ``input`` may be a number (``torch.pow(2, x)``)."""
    _operands(input, exponent, "pow", out)
    return _tensor_arith._power(input, exponent)


multiply, subtract, divide, true_divide = mul, sub, div, div


# ------------------------------------------------------------------------ reductions with two results
@_numpy_keywords
def var_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None, out: Any = None) -> tuple[Tensor, Tensor]:
    """``(input.var(...), input.mean(...))`` over the same dims: a plain tuple, as in PyTorch."""
    _check(input, "var_mean", out)
    dim, correction = _var_args(dim, unbiased, correction, "var_mean")
    return input.var(dim, keepdim=keepdim, correction=correction), input.mean(dim, keepdim)


@_numpy_keywords
def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: float | None = None, out: Any = None) -> tuple[Tensor, Tensor]:
    """``(input.std(...), input.mean(...))`` over the same dims: a plain tuple, as in PyTorch."""
    _check(input, "std_mean", out)
    dim, correction = _var_args(dim, unbiased, correction, "std_mean")
    return input.std(dim, keepdim=keepdim, correction=correction), input.mean(dim, keepdim)


@_numpy_keywords
def softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``input.softmax(dim)``; ``dtype`` converts the input first, as in PyTorch."""
    _check(input, "softmax")
    return (input if dtype is None else input.to(dtype)).softmax(dim)


@_numpy_keywords
def log_softmax(input: Tensor, dim: int, dtype: Any = None) -> Tensor:
    """``input.log_softmax(dim)``; ``dtype`` converts the input first, as in PyTorch."""
    _check(input, "log_softmax")
    return (input if dtype is None else input.to(dtype)).log_softmax(dim)
