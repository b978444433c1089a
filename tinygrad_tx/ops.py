"""The tensor primitives. Each is one `Function`: a NumPy forward and a VJP written with Tensor ops.

Each docstring gives the op, its JVP (forward mode: ``ẋ`` is a tangent, the directional derivative
carried along; ``autograd/forward_ad.py``) and its VJP (reverse mode): ``y = ...   ẏ = ...   |   x̄ = ...``.
Notation: ``x̄ = dL/dx`` for an input ``x``; ``ȳ = g`` is the upstream gradient of the output.
Every input of an elementwise primitive that needs a gradient arrives at the output's shape:
broadcasting happens before, in one place (``tensor._broadcast``), through the `Expand`
primitive, whose VJP is a sum. So no VJP here deals with broadcasting. (Constants, which get no
gradient, may be smaller; NumPy broadcasts them.)

The inverse trigonometric and hyperbolic functions, ``tan``, ``log1p``/``expm1``, ``log2``/``log10``, ``atan2``
and ``hypot`` are in ``ops_math.py``, the primitives that move elements (reshape, indexing, cat) in
``ops_shape.py``; both are re-exported here.

Everything else (sub, mean, var, softmax, log_softmax, matmul of vectors, stack, split, sort, einsum,
...) is composed from these in ``tensor.py``, its base classes (``_tensor_*.py``), ``_einsum.py`` and
``nn/functional.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .autograd.function import Function
from .ops_math import (  # noqa: F401
    Acos,
    Acosh,
    Asin,
    Asinh,
    Atan,
    Atan2,
    Atanh,
    Cosh,
    Expm1,
    Hypot,
    Log1p,
    Log2,
    Log10,
    NoDerivative,
    Sinh,
    Tan,
)
from .ops_shape import Cat, Expand, GetItem, IndexAdd, Permute, Reshape, _is_basic_index, _own_index  # noqa: F401

# A JVP gets the tangents of the inputs (None for an input that carries none) and reads the primal
# inputs and output as Tensors from ``ctx.inputs`` and ``ctx.output``; it returns the output's tangent.

# ----------------------------------------------------------------------------------- elementwise


def _sum_terms(*terms: Any) -> Any:
    """A JVP's sum over the inputs that carry a tangent (None marks one that does not: skipping its
    term, rather than multiplying a zero tangent, keeps 0 · inf = nan out of the result)."""
    present = [t for t in terms if t is not None]
    out = present[0]
    for t in present[1:]:
        out = out + t
    return out


class Add(Function):
    """y = a + b.   ẏ = ȧ + ḃ   |   ā = ȳ,  b̄ = ȳ"""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g, g

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        return _sum_terms(ta, tb)


class Mul(Function):
    """y = a ⊙ b.   ẏ = ȧ ⊙ b + a ⊙ ḃ   |   ā = ȳ ⊙ b,  b̄ = ȳ ⊙ a"""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # only what a VJP uses
        return a * b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g * b if da else None), (g * a if db else None)

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        a, b = ctx.inputs
        return _sum_terms(None if ta is None else ta * b, None if tb is None else a * tb)


class Div(Function):
    """y = a / b.   ẏ = (ȧ - ḃ ⊙ y) / b   |   ā = ȳ / b,  b̄ = -ȳ ⊙ a / b²"""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g / b if da else None), (-(g * a) / (b * b) if db else None)

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        _, b = ctx.inputs
        return _sum_terms(None if ta is None else ta / b, None if tb is None else -(tb * ctx.output) / b)


class Neg(Function):
    """y = -x.   ẏ = -ẋ   |   x̄ = -ȳ"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return -x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return -g

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        return -tx


class Pow(Function):
    """y = aᵇ.   ẏ = ȧ ⊙ b aᵇ⁻¹ + ḃ ⊙ y ln a   |   ā = ȳ ⊙ b aᵇ⁻¹,  b̄ = ȳ ⊙ y ln a

    As in PyTorch, b aᵇ⁻¹ is 0 where b = 0 and y ln a is 0 where a = 0 and b ≥ 0, in both modes.
    """

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            y = np.power(a, b)
        ctx.save_for_backward(a, b, y if ctx.needs_input_grad[1] else None)  # (only b̄ uses y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b, y = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # the branches `Where` drops
            if da:  # where b = 0, aᵇ = 1 is constant: 0, not 0 · 0⁻¹ = nan (PyTorch's convention)
                ga = Where.apply((b == 0).detach(), 0.0, g * b * a ** (b - 1))
            if db:
                zero_base = ((a == 0) & (b >= 0)).detach()
                gb = Where.apply(zero_base, 0.0, g * y * a.log())
        return ga, gb

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        a, b = ctx.inputs
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # the branches `Where` drops
            da = None if ta is None else Where.apply((b == 0).detach(), 0.0, ta * b * a ** (b - 1))
            db = None if tb is None else Where.apply(((a == 0) & (b >= 0)).detach(), 0.0, tb * ctx.output * a.log())
        return _sum_terms(da, db)


class Exp(Function):
    """y = eˣ.   ẏ = ẋ ⊙ y   |   x̄ = ȳ ⊙ y"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * y

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        return tx * ctx.output


class Log(Function):
    """y = ln x.   ẏ = ẋ / x   |   x̄ = ȳ / x"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / x

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / x


class Tanh(Function):
    """y = tanh x.   ẏ = ẋ ⊙ (1 - y²)   |   x̄ = ȳ ⊙ (1 - y²)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        y = ctx.output
        return tx * (1 - y * y)


class Sin(Function):
    """y = sin x.   ẏ = ẋ ⊙ cos x   |   x̄ = ȳ ⊙ cos x"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * x.cos()

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx * x.cos()


class Cos(Function):
    """y = cos x.   ẏ = -ẋ ⊙ sin x   |   x̄ = -ȳ ⊙ sin x"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return -(g * x.sin())


    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return -(tx * x.sin())


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Function):
    """y = erf(x) = 2/√π ∫₀ˣ e^{-t²} dt.   ẏ = ẋ ⊙ 2/√π e^{-x²}   |   x̄ = ȳ ⊙ 2/√π e^{-x²}

    NumPy has no erf, so the forward calls the C library's ``erf`` per element: exact to the last
    bit like PyTorch's, but slower than a vectorised ufunc (GELU's tanh form avoids it).
    """

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.asarray(_erf(x), dtype=x.dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * ((-(x * x)).exp() * (2 / math.sqrt(math.pi)))

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx * ((-(x * x)).exp() * (2 / math.sqrt(math.pi)))


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ).   ẏ = ẋ ⊙ y ⊙ (1 - y)   |   x̄ = ȳ ⊙ y ⊙ (1 - y)

    A primitive rather than a composition so that large negative x gives y = 0 and x̄ = 0 instead
    of inf/inf = nan (``e⁻ˣ`` overflows to inf, and ``1 / (1 + inf)`` is exactly 0).
    """

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            y = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * ((1 - y) * y)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        y = ctx.output
        return tx * ((1 - y) * y)


class Relu(Function):
    """y = max(x, 0).   ẏ = ẋ ⊙ 1[not x ≤ 0]   |   x̄ = ȳ ⊙ 1[not x ≤ 0]

    (0 at x = 0; at x = NaN, ȳ passes, as in PyTorch)
    """

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(~(x <= 0))  # PyTorch's mask: NaN <= 0 is False, so NaN passes ȳ
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (positive,) = ctx.saved_tensors
        return Where.apply(positive, g, 0.0)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return Where.apply(~(x._data <= 0), tx, 0.0)


_BCE_EPSILON = float(np.float32(1e-12))


class BinaryCrossEntropy(Function):
    """ℓ = -(t ⌊ln p⌋ + (1 - t) ⌊ln(1 - p)⌋), ⌊·⌋ = max(·, -100), for probabilities p and targets t.

    ℓ̇ = ṗ ⊙ (p - t) / max(p (1 - p), ε) + ṫ ⊙ (ln(1 - p) - ln p)   |
    p̄ = ℓ̄ ⊙ (p - t) / max(p (1 - p), ε),   t̄ = ℓ̄ ⊙ (ln(1 - p) - ln p)   (PyTorch's formulas; its
    ε is 10⁻¹² rounded to float32, 9.99999996e-13, in float64 too)

    A primitive because PyTorch's gradient is not the derivative of a composition: its
    denominator is kept away from 0, so p = 0 or 1 (a saturated sigmoid) gives a finite p̄, where
    the composed ``-t/p + (1 - t)/(1 - p)`` would give ±inf or, through the clamp, 0 · inf = nan.
    """

    @staticmethod
    def forward(ctx: Any, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(p, t if ctx.needs_input_grad[0] else None)
        with np.errstate(divide="ignore"):
            log_p, log_1mp = np.maximum(np.log(p), -100), np.maximum(np.log1p(-p), -100)
        return (t - 1) * log_1mp - t * log_p

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        p, t = ctx.saved_tensors
        dp, dt = ctx.needs_input_grad
        gp = g * (p - t) / ((1 - p) * p).maximum(_BCE_EPSILON) if dp else None
        gt = g * ((1 - p).log() - p.log()) if dt else None
        return gp, gt

    @staticmethod
    def jvp(ctx: Any, tp: Any, tt: Any) -> Any:
        p, t = ctx.inputs
        return _sum_terms(None if tp is None else tp * (p - t) / ((1 - p) * p).maximum(_BCE_EPSILON),
                          None if tt is None else tt * ((1 - p).log() - p.log()))


class Maximum(Function):
    """y = max(a, b).   ẏ = ȧ ⊙ w + ḃ ⊙ (1 - w)   |   ā = ȳ ⊙ w,  b̄ = ȳ ⊙ (1 - w)

    w = 1[a > b] + ½·1[a = b]: ties split the gradient in half, as PyTorch's ``maximum`` does.
    """

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        y = np.maximum(a, b)
        w = (a > b).astype(y.dtype) + (a == b).astype(y.dtype) * 0.5
        ctx.save_for_backward(w)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (w,) = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g * w if da else None), (g * (1 - w) if db else None)

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        a, b = ctx.inputs
        dt = ctx.output.dtype
        w = (a._data > b._data).astype(dt) + (a._data == b._data).astype(dt) * 0.5
        return _sum_terms(None if ta is None else ta * w, None if tb is None else tb * (1 - w))


class Remainder(Function):
    """y = a mod b = a - b ⌊a/b⌋.   ẏ = ȧ - ḃ ⊙ ⌊a/b⌋   |   ā = ȳ,  b̄ = -ȳ ⊙ ⌊a/b⌋

    The sign of b, as Python and PyTorch. ⌊a/b⌋ is saved as a constant: it is piecewise constant, so its
    own derivative is 0 (PyTorch
    differentiates it the same way in a second derivative).
    """

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        _refuse_integer_division_by_zero(b, "remainder")
        with np.errstate(divide="ignore", invalid="ignore"):
            ctx.save_for_backward(np.floor_divide(a, b) if ctx.needs_input_grad[1] else None)
            return np.remainder(a, b)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (quotient,) = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g if da else None), (-(g * quotient) if db else None)

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        a, b = ctx.inputs
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = np.floor_divide(a._data, b._data)
        return _sum_terms(ta, None if tb is None else -(tb * quotient))


class FloorDivide(Function):
    """y = ⌊a/b⌋.   ẏ: not implemented   |   x̄: not implemented

    As in PyTorch (⌊a/b⌋ is piecewise constant): ``a // b`` of tensors that require grad gives a result
    that requires grad; backward (or forward mode) through it raises."""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        _refuse_integer_division_by_zero(b, "floor_divide")
        ctx.in_shapes = (a.shape, b.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.floor_divide(a, b)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a_shape, b_shape = ctx.in_shapes
        raise RuntimeError(
            f"floor_divide: the derivative is not implemented, as in PyTorch (operands of shapes {a_shape} "
            f"and {b_shape}; ⌊a/b⌋ is piecewise constant); detach() the operands of //"
        )

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        raise RuntimeError(
            "floor_divide: the derivative is not implemented, as in PyTorch (⌊a/b⌋ is piecewise constant); "
            "detach() the operands of //"
        )


def _refuse_integer_division_by_zero(b: np.ndarray, op: str) -> None:
    if b.dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError(f"{op}: integer division by zero (divisor of shape {b.shape})")


class Where(Function):
    """y = c ? a : b.   ẏ = c ? ȧ : ḃ   |   ā = c ? ȳ : 0,  b̄ = c ? 0 : ȳ   (the condition gets no gradient)"""

    @staticmethod
    def forward(ctx: Any, c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(c)
        return np.where(c, a, b)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (c,) = ctx.saved_tensors
        _, da, db = ctx.needs_input_grad
        return None, (Where.apply(c, g, 0.0) if da else None), (Where.apply(c, 0.0, g) if db else None)

    @staticmethod
    def jvp(ctx: Any, tc: Any, ta: Any, tb: Any) -> Any:
        c, _, _ = ctx.inputs
        return Where.apply(c, 0.0 if ta is None else ta, 0.0 if tb is None else tb)


class Clone(Function):
    """y = a copy of x.   ẏ = ẋ   |   x̄ = ȳ"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x.copy()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        return tx.clone()


class Cast(Function):
    """y = x converted to another floating dtype.   ẏ = ẋ converted   |   x̄ = ȳ converted back to x's dtype"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dtype: np.dtype) -> np.ndarray:
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.to(ctx.in_dtype)


    @staticmethod
    def jvp(ctx: Any, tx: Any, *, dtype: np.dtype) -> Any:
        return tx.to(ctx.output.dtype)


# ------------------------------------------------------------------------------------ reductions


def _check_reducible(shape: tuple[int, ...], dims: tuple[int, ...], op: str = "") -> None:
    """A maximum or minimum over no elements is undefined: refuse reducing a dim of size 0."""
    empty = [d for d in dims if shape[d] == 0]
    if empty:
        prefix = f"{op}: " if op else ""  # (inside a primitive, `Function.apply` adds the op's name)
        raise ValueError(f"{prefix}cannot reduce dim {empty[0]} of size 0 (shape {shape}): it has no elements")


def _keepdim_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def _accumulator(x: np.ndarray) -> Any:
    """The dtype of a sum or product: int64 for any integer or bool input (as PyTorch; NumPy would give
    uint64 for unsigned ones), else the input's own."""
    return np.int64 if x.dtype.kind in "biu" else None


class Sum(Function):
    """y = Σ_dims x.   ẏ = Σ_dims ẋ   |   x̄ = ȳ expanded back over the summed dims"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dims: tuple[int, ...], keepdim: bool) -> np.ndarray:
        ctx.in_shape = x.shape
        ctx.kept = _keepdim_shape(x.shape, dims)
        return np.asarray(np.sum(x, axis=dims, keepdims=keepdim, dtype=_accumulator(x)))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.reshape(ctx.kept).expand(ctx.in_shape)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, dims: tuple[int, ...], keepdim: bool) -> Any:
        return Sum.apply(tx, dims=dims, keepdim=keepdim)


class Prod(Function):
    """y = Π_dims x.   ẏ = Σ_dims ẋᵢ ⊙ Π_{j≠i} xⱼ   |   x̄ᵢ = ȳ ⊙ Π_{j≠i} xⱼ

    (ȳ ⊙ y / x when x has no zero, as in PyTorch; with zeros, exclusive prefix × suffix products,
    which divide by nothing, so one zero or several are right, and so is the second derivative)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dims: tuple[int, ...], keepdim: bool) -> np.ndarray:
        if len(dims) not in (1, x.ndim):  # the VJP below handles one dim, or all of them
            raise ValueError(f"reduces one dim or all dims, got dims {dims} for shape {x.shape}")
        y = np.asarray(np.prod(x, axis=dims, keepdims=keepdim, dtype=_accumulator(x)))
        ctx.save_for_backward(x, y)  # y: the output itself, so a second derivative goes through it
        ctx.dims = dims
        ctx.kept = _keepdim_shape(x.shape, dims)
        ctx.has_zero = bool(x.size) and not np.all(x)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        x, y = ctx.saved_tensors
        g = g.reshape(ctx.kept).expand(x.shape)
        if x.ndim == 0 or x.numel() == 0:  # nothing else to multiply by (PyTorch returns ȳ too)
            return g
        if not ctx.has_zero:
            return g * (y.reshape(ctx.kept) / x)
        if len(ctx.dims) == 1:
            return g * _product_of_others(x, ctx.dims[0])
        return g * _product_of_others(x.reshape(-1), 0).reshape(x.shape)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, dims: tuple[int, ...], keepdim: bool) -> Any:
        (x,) = ctx.inputs
        if x.ndim == 0 or x.numel() == 0:
            return Sum.apply(tx, dims=dims, keepdim=keepdim)
        if len(dims) == 1:
            others = _product_of_others(x, dims[0])
        else:
            others = _product_of_others(x.reshape(-1), 0).reshape(x.shape)
        return Sum.apply(tx * others, dims=dims, keepdim=keepdim)


def _product_of_others(x: Any, d: int) -> Any:
    """Π_{j≠i} xⱼ along dim ``d`` for every i: the exclusive prefix product times the exclusive suffix
    product, each an inclusive scan (log₂ n shift-and-multiply steps, Hillis–Steele) of x shifted by
    one. Tensor ops only (slices, cat, mul): no division, and differentiable again."""
    n = x.shape[d]
    lead = (slice(None),) * d

    def shifted(p: Any, k: int, towards_end: bool) -> Any:
        """p moved k places along d (towards the end, or the start), the vacated places set to 1."""
        ones = np.ones(p.shape[:d] + (k,) + p.shape[d + 1 :], dtype=p.dtype)  # (a constant input)
        if towards_end:
            return Cat.apply(ones, p[lead + (slice(0, n - k),)], dim=d)
        return Cat.apply(p[lead + (slice(k, n),)], ones, dim=d)

    before, after = shifted(x, 1, True), shifted(x, 1, False)  # x_{i-1} and x_{i+1}
    k = 1
    while k < n:
        before = before * shifted(before, k, True)
        after = after * shifted(after, k, False)
        k *= 2
    return before * after


class Amax(Function):
    """y = max over dims.   ẏ = Σ_dims ẋ ⊙ 1[x = y] / (number of maxima)   |   x̄ = ȳ ⊙ 1[x = y] / (number of maxima)

    The gradient goes to the winner; ties share it evenly (PyTorch's ``amax`` and ``max()``).
    """

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dims: tuple[int, ...], keepdim: bool) -> np.ndarray:
        _check_reducible(x.shape, dims)
        y = np.amax(x, axis=dims, keepdims=True)
        winners = x == y
        ctx.save_for_backward(winners / winners.sum(axis=dims, keepdims=True, dtype=x.dtype))
        ctx.in_shape = x.shape
        ctx.kept = y.shape
        return y if keepdim else np.asarray(y.reshape([n for i, n in enumerate(x.shape) if i not in dims]))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (share,) = ctx.saved_tensors
        return g.reshape(ctx.kept).expand(ctx.in_shape) * share

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, dims: tuple[int, ...], keepdim: bool) -> Any:
        (x,) = ctx.inputs
        winners = x._data == np.amax(x._data, axis=dims, keepdims=True)
        share = winners / winners.sum(axis=dims, keepdims=True, dtype=x.dtype)
        return Sum.apply(tx * share, dims=dims, keepdim=keepdim)


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along dim (``reverse``: Σ_{j≥i} xⱼ).   ẏ = cumsum ẋ   |   x̄ = the cumsum of ȳ the other way"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dim: int, reverse: bool) -> np.ndarray:
        ctx.dim, ctx.reverse = dim, reverse
        if reverse:
            return np.flip(np.cumsum(np.flip(x, dim), axis=dim, dtype=_accumulator(x)), dim)
        return np.cumsum(x, axis=dim, dtype=_accumulator(x))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return Cumsum.apply(g, dim=ctx.dim, reverse=not ctx.reverse)

    @staticmethod
    def jvp(ctx: Any, tx: Any, *, dim: int, reverse: bool) -> Any:
        return Cumsum.apply(tx, dim=dim, reverse=reverse)


# -------------------------------------------------------------------------------- linear algebra


class Matmul(Function):
    """Y = A B (batched over equal leading dims).   Ẏ = Ȧ B + A Ḃ   |   Ā = Ȳ Bᵀ,  B̄ = Aᵀ Ȳ"""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim < 2 or b.ndim < 2 or a.shape[:-2] != b.shape[:-2] or a.shape[-1] != b.shape[-2]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not align")
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)  # only what a VJP uses
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g @ b.mT if da else None), (a.mT @ g if db else None)

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        a, b = ctx.inputs
        return _sum_terms(None if ta is None else ta @ b, None if tb is None else a @ tb)
