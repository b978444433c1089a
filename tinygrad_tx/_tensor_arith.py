"""PyTorch's rules for ``**``, ``//`` and ``%`` of a `Tensor` around the primitives `Pow`, `FloorDivide`,
`Remainder`: which numbers fit which dtype, and integer arithmetic without a graph.

`ArithmeticMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from ._dtypes import (
    _integer_power,
)

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class ArithmeticMethods:
    """``**``, ``//``, ``%`` and their method forms. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    def __pow__(self, other: Any) -> Tensor:
        return _power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _power(other, self)

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    def __floordiv__(self, other: Any) -> Tensor:
        return ops.FloorDivide.apply(*_integer_division_operands(self, other, "floor_divide"))

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops.FloorDivide.apply(*_integer_division_operands(other, self, "floor_divide"))

    def __mod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(*_integer_division_operands(self, other, "remainder"))

    def __rmod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(*_integer_division_operands(other, self, "remainder"))

    def floor_divide(self, other: Any) -> Tensor:
        """⌊self / other⌋ (``//``): int64 for integer operands; no derivative, as in PyTorch."""
        return self // other

    def remainder(self, other: Any) -> Tensor:
        """self mod other (``%``) with the sign of ``other``, as Python and PyTorch."""
        return self % other


def _power(base: Any, exponent: Any) -> Tensor:
    """``base ** exponent`` with PyTorch's rules around the `Pow` primitive: a Python number as the
    exponent must fit the base's dtype (int8 ** 300 and float16 ** 1e5 are refused) and an integer
    tensor to a negative Python integer is refused; bool ** bool is not implemented, except a bool
    tensor to True or False. Integer tensors to integer tensors follow integer arithmetic: where the
    exponent is negative, 1 and -1 give ±1 and everything else 0."""
    if _t._fits_any_float(exponent, base) or (type(exponent) is int and isinstance(base, _t.Tensor)
                                           and base._data.dtype.kind == "f" and -65504 <= exponent <= 65504):
        return ops.Pow.apply(*_t._broadcast(base, exponent, "pow"))  # the common case (x ** 2, x ** -0.5)
    if isinstance(base, _t.Tensor) and isinstance(exponent, (bool, int, float)):
        d = base.dtype
        if d.kind == "b" and isinstance(exponent, bool):  # x ** True = x, x ** False = True
            result = base._data if exponent else np.ones(base.shape, dtype=bool)
            return _t.Tensor._make(result, False)
        if d.kind in "biu" and isinstance(exponent, int) and not isinstance(exponent, bool):
            if exponent < 0:
                raise RuntimeError(f"pow: integers to negative integer powers are not allowed, as in PyTorch "
                                   f"(a {d} tensor of shape {base.shape} to the power {exponent}); use a float "
                                   f"exponent ({float(exponent)}) or convert the tensor first, e.g. t.float()")
            if d.kind != "b" and exponent > np.iinfo(d).max:
                raise RuntimeError(f"pow: the exponent {exponent} cannot be converted to {d} without overflow")
        if d == np.float16 and isinstance(exponent, (int, float)) and abs(exponent) > 65504:
            raise RuntimeError(f"pow: the exponent {exponent} cannot be converted to float16 without overflow")
    a, b = _t._broadcast(base, exponent, "pow")
    if a._data.dtype.kind == "b":
        raise NotImplementedError(f"pow: not implemented for bool tensors, as in PyTorch (shapes {a.shape} and "
                                  f"{b.shape}); convert them first, e.g. t.long()")
    if a._data.dtype.kind in "iu":  # no gradient can flow through integers: NumPy, without the primitive
        return _t.Tensor._make(_integer_power(a._data, b._data), False)
    return ops.Pow.apply(a, b)


def _integer_division_operands(a: Any, b: Any, op: str) -> tuple[Tensor, Tensor]:
    """The operands of ``//`` and ``%``, broadcast to a common dtype (int64 for integers, as PyTorch);
    bool results are refused, as PyTorch does."""
    ta, tb = _t._broadcast(a, b, op)
    if ta.dtype == bool:
        raise TypeError(f"{op}: not supported for bool tensors (shapes {ta.shape} and {tb.shape}); "
                        f"convert them first, e.g. t.long()")
    return ta, tb
