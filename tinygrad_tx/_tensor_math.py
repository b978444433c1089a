"""The wider math library of a `Tensor`, as ``torch.Tensor`` spells it: ``log1p``, ``expm1``, ``log2``, ``log10``,
``exp2``, ``reciprocal``, ``frac``, ``tan``, the inverse trigonometric and hyperbolic functions (also by NumPy's
names, ``arcsin``, ...), ``atan2``, ``hypot``, ``addcmul``, ``addcdiv``, ``lerp``.

The new elementwise functions are primitives (``ops_math.py``); the rest is composition (``exp2`` is ``2 ** x``,
``reciprocal`` is ``1 / x``, ``frac`` is ``x - trunc(x)``). Integer and bool tensors enter as the default dtype, as in
PyTorch.

`MathMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from ._dtypes import _refuse_value, _result_dtype

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class MathMethods:
    """log1p, expm1, log2, log10, exp2, reciprocal, frac, the (inverse) trigonometric and hyperbolic
    functions, atan2, hypot, lerp. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    def log1p(self) -> Tensor:
        """ln(1 + x), accurate for x near 0 (where ``(1 + x).log()`` loses the digits of x)."""
        return ops.Log1p.apply(_t._floating(self))

    def expm1(self) -> Tensor:
        """eˣ - 1, accurate for x near 0."""
        return ops.Expm1.apply(_t._floating(self))

    def log2(self) -> Tensor:
        return ops.Log2.apply(_t._floating(self))

    def log10(self) -> Tensor:
        return ops.Log10.apply(_t._floating(self))

    def exp2(self) -> Tensor:
        """2ˣ, as ``2 ** x`` (exact where 2ˣ is representable)."""
        return 2.0 ** _t._floating(self)

    def reciprocal(self) -> Tensor:
        """1 / x (floating, also for integer tensors, as in PyTorch)."""
        return 1.0 / _t._floating(self)

    def frac(self) -> Tensor:
        """x - trunc(x), the fractional part with the sign of x; gradient 1. Floating tensors only, as in PyTorch."""
        if self.dtype.kind != "f":
            raise TypeError(f"frac: not implemented for {self.dtype} tensors, as in PyTorch (shape {self.shape}); "
                            f"convert first, e.g. t.float()")
        return self - self.trunc()

    def tan(self) -> Tensor:
        return ops.Tan.apply(_t._floating(self))

    def atan(self) -> Tensor:
        return ops.Atan.apply(_t._floating(self))

    def asin(self) -> Tensor:
        return ops.Asin.apply(_t._floating(self))

    def acos(self) -> Tensor:
        return ops.Acos.apply(_t._floating(self))

    def sinh(self) -> Tensor:
        return ops.Sinh.apply(_t._floating(self))

    def cosh(self) -> Tensor:
        return ops.Cosh.apply(_t._floating(self))

    def asinh(self) -> Tensor:
        return ops.Asinh.apply(_t._floating(self))

    def acosh(self) -> Tensor:
        return ops.Acosh.apply(_t._floating(self))

    def atanh(self) -> Tensor:
        return ops.Atanh.apply(_t._floating(self))

    arctan, arcsin, arccos, arcsinh, arccosh, arctanh = atan, asin, acos, asinh, acosh, atanh

    def atan2(self, other: Any) -> Tensor:
        """The angle of the point (other, self) in (-π, π], elementwise, broadcast (``torch.atan2(y, x)``)."""
        return ops.Atan2.apply(*_floating_operands(self, other, "atan2"))

    arctan2 = atan2

    def hypot(self, other: Any) -> Tensor:
        """√(self² + other²), elementwise, without overflow. Floating tensors only, as in PyTorch."""
        a, b = _floating_operands(self, other, "hypot")
        if _result_dtype(self, other).kind != "f":
            raise TypeError(f"hypot: not implemented for {_result_dtype(self, other)} operands, as in PyTorch "
                            f"(shapes {self.shape} and {np.shape(other)}); convert first, e.g. t.float()")
        return ops.Hypot.apply(a, b)

    def addcmul(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """self + value · tensor1 ⊙ tensor2, broadcast (the update of a hand-written optimizer)."""
        _refuse_value(value, "addcmul")
        return self + (tensor1 * value if value != 1 else tensor1) * tensor2

    def addcdiv(self, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
        """self + value · tensor1 / tensor2, broadcast (Adam's ``p.addcdiv_(m, √v + ε, value=-lr)``). Integer
        operands are refused, as in PyTorch."""
        _refuse_value(value, "addcdiv")
        if all(isinstance(t, _t.Tensor) and t.dtype.kind != "f" for t in (tensor1, tensor2)):
            raise TypeError(f"addcdiv: integer division is not supported, as in PyTorch (tensor1 and tensor2 are "
                            f"{tensor1.dtype} and {tensor2.dtype}); convert them first, e.g. t.float()")
        return self + (tensor1 * value if value != 1 else tensor1) / tensor2

    def lerp(self, end: Tensor, weight: Any) -> Tensor:
        """self + weight · (end - self), computed as PyTorch does: that form where |weight| < 0.5, else
        end - (end - self) · (1 - weight), so that weight = 1 gives ``end`` exactly."""
        if not isinstance(end, _t.Tensor):
            raise TypeError(f"lerp(): argument 'end' must be a Tensor, not {type(end).__name__}")
        _refuse_value(weight, "lerp")
        if self.dtype.kind != "f":
            raise TypeError(f"lerp(): needs floating-point tensors, got dtype {self.dtype} (PyTorch refuses it too)")
        difference = end - self
        if isinstance(weight, _t.Tensor):
            small = np.abs(weight._data) < 0.5
            return _t.where(small, self + weight * difference, end - difference * (1 - weight))
        return self + weight * difference if abs(weight) < 0.5 else end - difference * (1 - weight)


def _floating_operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """Two tensors (PyTorch takes no number here), broadcast to a common floating dtype (integers: the default)."""
    if not isinstance(b, _t.Tensor):
        raise TypeError(f"{op}(): argument 'other' must be a Tensor, not {type(b).__name__}")
    return _t._broadcast(a, b, op, floating=True)
