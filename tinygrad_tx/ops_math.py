"""The elementwise primitives of the wider math library: inverse trigonometric and hyperbolic functions,
``tan``, the accurate ``log1p``/``expm1`` (for x near 0, where ``log(1 + x)`` and ``exp(x) - 1`` lose
every digit), the exact ``log2``/``log10`` (log₁₀ 1000 is 3, where ln 1000 / ln 10 is
2.9999999999999996), and the two-argument ``atan2`` and ``hypot``; and `NoDerivative`, the node of
ops PyTorch does not differentiate (``unique``, ``bincount``). ``ops.py`` re-exports them, and its
docstring gives the notation: ``y = ...   ẏ = ...   |   x̄ = ...``.

Each VJP and JVP is PyTorch's formula, written in Tensor ops, so it is differentiable again (the
second derivative of ``atan`` goes through ``x * x + 1``). Outside the domain (``asin`` of 2,
``acosh`` of 0.5) the value is NaN without a warning, as in PyTorch, and so is the gradient.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .autograd.function import Function


class _Elementwise(Function):
    """Helper base: ``forward`` is ``_fn`` (a NumPy ufunc) with its warnings for NaN and inf silenced,
    and ``x`` saved for the VJP."""

    _fn: Any = None

    @classmethod
    def forward(cls, ctx: Any, x: np.ndarray) -> np.ndarray:  # type: ignore[override]
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.asarray(cls._fn(x))


class Tan(Function):
    """y = tan x.   ẏ = ẋ ⊙ (1 + y²)   |   x̄ = ȳ ⊙ (1 + y²)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        y = np.asarray(np.tan(x))
        ctx.save_for_backward(y)  # the output: its node, so a second derivative goes through it
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * (1 + y * y)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        y = ctx.output
        return tx * (1 + y * y)


class Atan(_Elementwise):
    """y = atan x.   ẏ = ẋ / (1 + x²)   |   x̄ = ȳ / (1 + x²)"""

    _fn = np.arctan

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (x * x + 1)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (x * x + 1)


class Asin(_Elementwise):
    """y = asin x.   ẏ = ẋ / √(1 - x²)   |   x̄ = ȳ / √(1 - x²)"""

    _fn = np.arcsin

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (1 - x * x).sqrt()

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (1 - x * x).sqrt()


class Acos(_Elementwise):
    """y = acos x.   ẏ = -ẋ / √(1 - x²)   |   x̄ = -ȳ / √(1 - x²)"""

    _fn = np.arccos

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return -g / (1 - x * x).sqrt()

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return -tx / (1 - x * x).sqrt()


class Sinh(_Elementwise):
    """y = sinh x = (eˣ - e⁻ˣ) / 2.   ẏ = ẋ ⊙ cosh x   |   x̄ = ȳ ⊙ cosh x"""

    _fn = np.sinh

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * Cosh.apply(x)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx * Cosh.apply(x)


class Cosh(_Elementwise):
    """y = cosh x = (eˣ + e⁻ˣ) / 2.   ẏ = ẋ ⊙ sinh x   |   x̄ = ȳ ⊙ sinh x"""

    _fn = np.cosh

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * Sinh.apply(x)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx * Sinh.apply(x)


class Asinh(_Elementwise):
    """y = asinh x = ln(x + √(x² + 1)).   ẏ = ẋ / √(x² + 1)   |   x̄ = ȳ / √(x² + 1)"""

    _fn = np.arcsinh

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (x * x + 1).sqrt()

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (x * x + 1).sqrt()


class Acosh(_Elementwise):
    """y = acosh x = ln(x + √(x² - 1)), x ≥ 1.   ẏ = ẋ / √(x² - 1)   |   x̄ = ȳ / √(x² - 1)"""

    _fn = np.arccosh

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (x * x - 1).sqrt()

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (x * x - 1).sqrt()


class Atanh(_Elementwise):
    """y = atanh x = ½ ln((1 + x) / (1 - x)), |x| < 1.   ẏ = ẋ / (1 - x²)   |   x̄ = ȳ / (1 - x²)"""

    _fn = np.arctanh

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (1 - x * x)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (1 - x * x)


class Log1p(_Elementwise):
    """y = ln(1 + x), accurate for x near 0.   ẏ = ẋ / (1 + x)   |   x̄ = ȳ / (1 + x)"""

    _fn = np.log1p

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (x + 1)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (x + 1)


class Expm1(Function):
    """y = eˣ - 1, accurate for x near 0.   ẏ = ẋ ⊙ (y + 1)   |   x̄ = ȳ ⊙ (y + 1)"""

    @staticmethod
    def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            y = np.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (y,) = ctx.saved_tensors
        return g * (y + 1)

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        return tx * (ctx.output + 1)


class Log2(_Elementwise):
    """y = log₂ x.   ẏ = ẋ / (x ln 2)   |   x̄ = ȳ / (x ln 2)"""

    _fn = np.log2

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (x * math.log(2))

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (x * math.log(2))


class Log10(_Elementwise):
    """y = log₁₀ x.   ẏ = ẋ / (x ln 10)   |   x̄ = ȳ / (x ln 10)"""

    _fn = np.log10

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g / (x * math.log(10))

    @staticmethod
    def jvp(ctx: Any, tx: Any) -> Any:
        (x,) = ctx.inputs
        return tx / (x * math.log(10))


class Atan2(Function):
    """y = atan2(a, b), the angle of the point (b, a) in (-π, π].

    ẏ = (ȧ ⊙ b - ḃ ⊙ a) / (a² + b²)   |   ā = ȳ ⊙ b / (a² + b²),  b̄ = -ȳ ⊙ a / (a² + b²)
    """

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ctx.save_for_backward(a, b)
        return np.arctan2(a, b)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        r = (a * a + b * b).reciprocal()
        return (g * b * r if da else None), (g * -a * r if db else None)

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        a, b = ctx.inputs
        r = (a * a + b * b).reciprocal()
        return _sum_terms(None if ta is None else ta * b * r, None if tb is None else tb * -a * r)


class Hypot(Function):
    """y = √(a² + b²), without overflow for large a, b.   ẏ = (ȧ ⊙ a + ḃ ⊙ b) / y   |   ā = ȳ ⊙ a / y,  b̄ = ȳ ⊙ b / y"""

    @staticmethod
    def forward(ctx: Any, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        y = np.hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        a, b, y = ctx.saved_tensors
        da, db = ctx.needs_input_grad
        return (g * a / y if da else None), (g * b / y if db else None)

    @staticmethod
    def jvp(ctx: Any, ta: Any, tb: Any) -> Any:
        a, b = ctx.inputs
        y = ctx.output
        return _sum_terms(None if ta is None else ta * a / y, None if tb is None else tb * b / y)


class NoDerivative(Function):
    """y = compute(x₁, x₂, ...) for an op PyTorch does not differentiate (``unique``, ``bincount`` of weights,
    ``scatter`` with ``reduce=``).

    ẏ: not implemented   |   x̄: not implemented. As in PyTorch the result requires grad when an input does,
    and backward (or forward mode) through it raises, naming the op, instead of giving a zero gradient.
    """

    @staticmethod
    def forward(ctx: Any, *xs: np.ndarray, compute: Any, op: str) -> np.ndarray:
        ctx.op, ctx.in_shapes = op, tuple(x.shape for x in xs)
        ctx._torch_name = "Unique2Backward0" if op == "unique" else "torch::autograd::NotImplemented"  # (PyTorch's)
        return compute(*xs)

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        shapes = " and ".join(str(s) for s in ctx.in_shapes)
        raise RuntimeError(f"{ctx.op}: the derivative is not implemented, as in PyTorch (inputs of shape {shapes}); "
                           f"detach() the inputs")

    @staticmethod
    def jvp(ctx: Any, *txs: Any, compute: Any, op: str) -> Any:
        raise RuntimeError(f"{op}: the derivative is not implemented, as in PyTorch; detach() the inputs")


def _sum_terms(*terms: Any) -> Any:
    """The sum over the inputs that carry a tangent (None: no term; see ``ops._sum_terms``)."""
    present = [t for t in terms if t is not None]
    out = present[0]
    for t in present[1:]:
        out = out + t
    return out
