"""The tensor primitives. Each is one `Function`: a NumPy forward and a VJP written with Tensor ops.

Notation: ``x̄ = dL/dx`` for an input ``x``; ``ȳ = g`` is the upstream gradient of the output.
Every input of an elementwise primitive that needs a gradient arrives at the output's shape:
broadcasting happens before, in one place (``tensor._broadcast``), through the `Expand`
primitive, whose VJP is a sum. So no VJP here deals with broadcasting. (Constants, which get no
gradient, may be smaller; NumPy broadcasts them.)

Everything else (sub, mean, var, softmax, log_softmax, matmul of vectors, stack, split, sort, einsum,
...) is composed from these in ``tensor.py``, its base classes (``_tensor_*.py``), ``_einsum.py`` and
``nn/functional.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .autograd.function import Function

# ----------------------------------------------------------------------------------- elementwise


class Add(Function):
    """y = a + b.   ā = ȳ,  b̄ = ȳ"""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g, g


class Mul(Function):
    """y = a ⊙ b.   ā = ȳ ⊙ b,  b̄ = ȳ ⊙ a"""

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


class Div(Function):
    """y = a / b.   ā = ȳ / b,  b̄ = -ȳ ⊙ a / b²"""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g / b if da else None), (-(g * a) / (b * b) if db else None)


class Neg(Function):
    """y = -x.   x̄ = -ȳ"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return -x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return -g


class Pow(Function):
    """y = aᵇ.   ā = ȳ ⊙ b aᵇ⁻¹ (0 where b = 0),  b̄ = ȳ ⊙ y ln a (0 where a = 0 and b ≥ 0), as in PyTorch"""

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


class Exp(Function):
    """y = eˣ.   x̄ = ȳ ⊙ y"""

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


class Log(Function):
    """y = ln x.   x̄ = ȳ / x"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / x


class Tanh(Function):
    """y = tanh x.   x̄ = ȳ ⊙ (1 - y²)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        y = np.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * (1 - y * y)


class Sin(Function):
    """y = sin x.   x̄ = ȳ ⊙ cos x"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.sin(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * x.cos()


class Cos(Function):
    """y = cos x.   x̄ = -ȳ ⊙ sin x"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(x)
        return np.cos(x)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return -(g * x.sin())


_erf = np.frompyfunc(math.erf, 1, 1)


class Erf(Function):
    """y = erf(x) = 2/√π ∫₀ˣ e^{-t²} dt.   x̄ = ȳ ⊙ 2/√π e^{-x²}

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


class Sigmoid(Function):
    """y = σ(x) = 1 / (1 + e⁻ˣ).   x̄ = ȳ ⊙ y ⊙ (1 - y)

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


class Relu(Function):
    """y = max(x, 0).   x̄ = ȳ ⊙ 1[not x ≤ 0]   (0 at x = 0; at x = NaN, ȳ passes, as in PyTorch)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(~(x <= 0))  # PyTorch's mask: NaN <= 0 is False, so NaN passes ȳ
        return np.maximum(x, 0)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (positive,) = ctx.saved_tensors
        return Where.apply(positive, g, 0.0)


_BCE_EPSILON = float(np.float32(1e-12))


class BinaryCrossEntropy(Function):
    """ℓ = -(t ⌊ln p⌋ + (1 - t) ⌊ln(1 - p)⌋), ⌊·⌋ = max(·, -100), for probabilities p and targets t.

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


class Maximum(Function):
    """y = max(a, b) elementwise.   ā = ȳ ⊙ w,  b̄ = ȳ ⊙ (1 - w),  w = 1[a > b] + ½·1[a = b]

    Ties split the gradient in half, as PyTorch's ``maximum`` does.
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


class Remainder(Function):
    """y = a mod b = a - b ⌊a/b⌋ (the sign of b, as Python and PyTorch).   ā = ȳ,  b̄ = -ȳ ⊙ ⌊a/b⌋

    ⌊a/b⌋ is saved as a constant: it is piecewise constant, so its own derivative is 0 (PyTorch
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


class FloorDivide(Function):
    """y = ⌊a/b⌋.   No VJP: the derivative is not implemented, as in PyTorch (``a // b`` of tensors
    that require grad gives a result that requires grad; backward through it raises)."""

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


def _refuse_integer_division_by_zero(b: np.ndarray, op: str) -> None:
    if b.dtype.kind in "iub" and not np.all(b):
        raise ZeroDivisionError(f"{op}: integer division by zero (divisor of shape {b.shape})")


class Where(Function):
    """y = c ? a : b.   ā = c ? ȳ : 0,  b̄ = c ? 0 : ȳ   (the condition gets no gradient)"""

    @staticmethod
    def forward(ctx: Any, c: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(c)
        return np.where(c, a, b)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (c,) = ctx.saved_tensors
        _, da, db = ctx.needs_input_grad
        return None, (Where.apply(c, g, 0.0) if da else None), (Where.apply(c, 0.0, g) if db else None)


class Clone(Function):
    """y = a copy of x.   x̄ = ȳ"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        return x.copy()

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g


class Cast(Function):
    """y = x converted to another floating dtype.   x̄ = ȳ converted back to x's dtype"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dtype: np.dtype) -> np.ndarray:
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.to(ctx.in_dtype)


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
    """y = Σ_dims x.   x̄ = ȳ expanded back over the summed dims"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dims: tuple[int, ...], keepdim: bool) -> np.ndarray:
        ctx.in_shape = x.shape
        ctx.kept = _keepdim_shape(x.shape, dims)
        return np.asarray(np.sum(x, axis=dims, keepdims=keepdim, dtype=_accumulator(x)))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.reshape(ctx.kept).expand(ctx.in_shape)


class Prod(Function):
    """y = Π_dims x.   x̄ᵢ = ȳ ⊙ Π_{j≠i} xⱼ   (ȳ ⊙ y / x when x has no zero, as in PyTorch; with zeros,
    exclusive prefix × suffix products, which divide by nothing, so one zero or several are right,
    and so is the second derivative)"""

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
    """y = max over dims.   x̄ = ȳ ⊙ 1[x = y] / (number of maxima)

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


class Cumsum(Function):
    """yᵢ = Σ_{j≤i} xⱼ along dim (``reverse``: Σ_{j≥i} xⱼ).   x̄ⱼ = Σ_{i≥j} ȳᵢ: the cumsum of ȳ the other way"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dim: int, reverse: bool) -> np.ndarray:
        ctx.dim, ctx.reverse = dim, reverse
        if reverse:
            return np.flip(np.cumsum(np.flip(x, dim), axis=dim, dtype=_accumulator(x)), dim)
        return np.cumsum(x, axis=dim, dtype=_accumulator(x))

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return Cumsum.apply(g, dim=ctx.dim, reverse=not ctx.reverse)


# -------------------------------------------------------------------------------- linear algebra


class Matmul(Function):
    """Y = A B (batched over equal leading dims).   Ā = Ȳ Bᵀ,  B̄ = Aᵀ Ȳ"""

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


# ---------------------------------------------------------------------------------------- shapes


class Reshape(Function):
    """y = x viewed with another shape.   x̄ = ȳ reshaped to x's shape"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"cannot reshape {x.shape} ({x.size} elements) to {shape}") from None

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.reshape(ctx.in_shape)


class Permute(Function):
    """y = x with its dims reordered by p.   x̄ = ȳ permuted by p⁻¹"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, dims: tuple[int, ...]) -> np.ndarray:
        ctx.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.permute(*ctx.inverse)


class Expand(Function):
    """y = x broadcast to a larger shape (broadcasting, in one place).   x̄ = ȳ summed over the
    broadcast dims, then reshaped to x's shape"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, shape: tuple[int, ...]) -> np.ndarray:
        lead = len(shape) - x.ndim
        ctx.in_shape = x.shape
        ctx.dims = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(x.shape) if n == 1 and shape[lead + i] != 1
        )
        return np.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g.sum(dim=ctx.dims, keepdim=True).reshape(ctx.in_shape) if ctx.dims else g.reshape(ctx.in_shape)


def _is_basic_index(index: Any) -> bool:
    """True if indexing with ``index`` selects each element at most once (ints, slices, masks)."""
    items = index if isinstance(index, tuple) else (index,)
    for it in items:
        if it is None or it is Ellipsis or isinstance(it, (int, np.integer, slice)):
            continue
        if isinstance(it, np.ndarray) and it.dtype == bool:
            continue
        return False
    return True


def _own_index(index: Any) -> Any:
    """``index`` with its arrays copied: the caller may change an index array after the forward pass,
    and the VJP must scatter to the positions the forward read (an int array of a batch costs ~1 µs)."""
    if isinstance(index, np.ndarray):
        return index.copy()
    if isinstance(index, tuple) and any(isinstance(i, np.ndarray) for i in index):
        return tuple(i.copy() if isinstance(i, np.ndarray) else i for i in index)
    return index


class GetItem(Function):
    """y = x[index] (slices, integers, integer arrays, boolean masks).
    x̄ = zeros like x with ȳ scatter-**added** at index: repeated indices accumulate"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, index: Any) -> np.ndarray:
        ctx.in_shape = x.shape
        ctx.index = _own_index(index) if ctx.needs_input_grad[0] else index
        return np.asarray(x[index])

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return IndexAdd.apply(g, shape=ctx.in_shape, index=ctx.index)


class IndexAdd(Function):
    """y = zeros(shape) with x added at index (the scatter-add).   x̄ = ȳ[index]"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray, *, shape: tuple[int, ...], index: Any) -> np.ndarray:
        ctx.index = _own_index(index) if ctx.needs_input_grad[0] else index
        y = np.zeros(shape, dtype=x.dtype)
        if _is_basic_index(index):
            y[index] = x  # every position is selected once: plain assignment
            return y
        rows = index[0] if isinstance(index, tuple) and len(index) == 1 else index
        if isinstance(rows, np.ndarray) and rows.dtype.kind in "iu":
            # One integer array on the first dim (the embedding gradient): sort the indices, then
            # sum each run of equal ones with reduceat. NumPy's add.at is ~40x slower here.
            flat = rows.reshape(-1) % shape[0]
            order = np.argsort(flat, kind="stable")
            sorted_rows = flat[order]
            starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
            values = x.reshape((flat.size,) + tuple(shape[1:]))[order]
            if flat.size:
                y[sorted_rows[starts]] = np.add.reduceat(values, starts, axis=0)
            return y
        np.add.at(y, index, x)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return GetItem.apply(g, index=ctx.index)


class Cat(Function):
    """y = [x₁, x₂, ...] joined along dim.   x̄ᵢ = the slice of ȳ where xᵢ landed"""

    @staticmethod
    def forward(ctx: Any, *xs: np.ndarray, dim: int) -> np.ndarray:
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return np.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        grads, start = [], 0
        lead = (slice(None),) * ctx.dim
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            grads.append(g[lead + (slice(start, start + size),)] if needed else None)
            start += size
        return tuple(grads)
