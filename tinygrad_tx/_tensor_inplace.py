"""In-place updates of a `Tensor` (``add_``, ``+=``, ``fill_``, ``copy_``, ``t[i] = v``), with PyTorch's rules.

The old array is never written into (a graph may have saved it): the tensor is re-pointed at a new
array, its version counter ticks, and when it takes part in a graph it becomes the node of the new value.

`InPlaceMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from ._dtypes import (
    _alpha_times,
    _checked_fill_value,
    _refuse_value,
)
from ._indexing import _index_arg, _kept_by_assignment, _split_integer_index, _write_at
from .autograd.grad_mode import is_grad_enabled

if TYPE_CHECKING:
    from .tensor import Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


_NOT_GIVEN: Any = object()


def _unary_inplace(name: str) -> Any:
    """The in-place form ``name_`` of the method ``name``: ``x.exp_()`` makes x hold ``x.exp()``."""

    def method(self: Any) -> Any:
        return self._inplace(lambda old: getattr(old, name)(), name + "_")

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"``self = self.{name}()``, in place (see `_inplace` for PyTorch's rules)."
    return method


class InPlaceMethods:
    """``+=``, ``add_`` ... ``fill_``, ``copy_`` and ``t[i] = v``. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    # -- in place, with PyTorch's rules: ``with no_grad(): p -= lr * p.grad`` updates p itself --------
    def _inplace(self, compute: Any, op: str, operand: Any = None) -> Tensor:
        """Make ``self`` hold ``compute(old self)``. The old array is never written into (a graph
        may have saved it), and the op sees an alias of the old tensor, so what it saves is not the
        tensor being replaced; the version counter tells any other graph that saved self."""
        _refuse_value(operand, op)
        old = _t.Tensor._make(self._data, self.requires_grad)
        old._ctx = self._ctx  # the same graph node as self before the update
        old._tangent = self._tangent
        out = compute(old)
        if out.shape != self.shape:
            raise ValueError(f"{op}: a result of shape {out.shape} cannot be stored in place in shape {self.shape}")
        if out.dtype != self.dtype and not (out.dtype.kind == self.dtype.kind == "f"):
            raise TypeError(f"{op}: the result has dtype {out.dtype}, which cannot be stored in a {self.dtype} tensor")
        recording = is_grad_enabled()
        if recording and self.requires_grad and self._ctx is None:
            raise RuntimeError(
                f"{op}: in-place update of a leaf tensor that requires grad would change values the graph "
                f"uses; update parameters inside `with no_grad():` (as optimizers do)"
            )
        if out.dtype != self.dtype:
            out = out.to(self.dtype)
        if recording and self.requires_grad and not out.requires_grad:
            # the new value does not depend on the old one (fill_, zero_, copy_ of a constant): self
            # stays in the graph, and what it was computed from gets a zero gradient (as in PyTorch)
            out = _t.where(True, out, old)
        elif recording and out.requires_grad and out._ctx is None:
            out = ops.Clone.apply(out)  # copy_(a leaf): a node of its own, so the gradient reaches the leaf
        if recording and out.requires_grad:  # self now stands for the new node of the graph
            node = self._ctx
            if node is not None and node._retained is not None and node._retained() is self:
                node._retained = None  # retain_grad follows the tensor: .grad is dL/d(the new value)
                out._ctx._retain(self)
            self._ctx, self.requires_grad = out._ctx, True
        self._data = out._data
        self._tangent = out._tangent
        self._version += 1
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old + other, "add_", other)

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old - other, "sub_", other)

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old * other, "mul_", other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old / other, "div_", other)

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        _refuse_value(other, "add_")
        scaled = _alpha_times(other, alpha, self, "add_")
        return self._inplace(lambda old: old + scaled, "add_", other)

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        _refuse_value(other, "sub_")
        scaled = _alpha_times(other, alpha, self, "sub_")
        return self._inplace(lambda old: old - scaled, "sub_", other)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old * other, "mul_", other)

    def div_(self, other: Any) -> Tensor:
        return self._inplace(lambda old: old / other, "div_", other)

    # the in-place forms of the elementwise functions (an integer tensor cannot hold exp's float result: refused)
    exp_, log_, sqrt_, rsqrt_, relu_, sigmoid_, tanh_ = (_unary_inplace(n) for n in (
        "exp", "log", "sqrt", "rsqrt", "relu", "sigmoid", "tanh"))
    abs_, neg_, square_, sin_, cos_, tan_, erf_ = (_unary_inplace(n) for n in (
        "abs", "neg", "square", "sin", "cos", "tan", "erf"))
    log1p_, expm1_, log2_, log10_, exp2_, reciprocal_, frac_ = (_unary_inplace(n) for n in (
        "log1p", "expm1", "log2", "log10", "exp2", "reciprocal", "frac"))
    atan_, asin_, acos_, sinh_, cosh_, asinh_, acosh_, atanh_ = (_unary_inplace(n) for n in (
        "atan", "asin", "acos", "sinh", "cosh", "asinh", "acosh", "atanh"))
    floor_, ceil_, trunc_, sign_ = (_unary_inplace(n) for n in ("floor", "ceil", "trunc", "sign"))

    def round_(self, decimals: int = 0) -> Tensor:
        return self._inplace(lambda old: old.round(decimals), "round_")

    def pow_(self, exponent: Any) -> Tensor:
        return self._inplace(lambda old: old ** exponent, "pow_", exponent)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:
        return self._inplace(lambda old: old.clamp(min, max), "clamp_")

    clip_ = clamp_

    def clamp_min_(self, min: Any) -> Tensor:
        return self._inplace(lambda old: old.clamp(min=min), "clamp_min_")

    def clamp_max_(self, max: Any) -> Tensor:
        return self._inplace(lambda old: old.clamp(max=max), "clamp_max_")

    def addcmul_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        return self._inplace(lambda old: old.addcmul(tensor1, tensor2, value=value), "addcmul_", tensor1)

    def addcdiv_(self, tensor1: Any, tensor2: Any, *, value: Any = 1) -> Tensor:
        return self._inplace(lambda old: old.addcdiv(tensor1, tensor2, value=value), "addcdiv_", tensor1)

    def lerp_(self, end: Any, weight: Any) -> Tensor:
        return self._inplace(lambda old: old.lerp(end, weight), "lerp_", end)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        return self._inplace(lambda old: old.masked_fill(mask, value), "masked_fill_", value)

    def index_add_(self, dim: int, index: Any, source: Any, *, alpha: Any = 1) -> Tensor:
        return self._inplace(lambda old: old.index_add(dim, index, source, alpha=alpha), "index_add_", source)

    def scatter_(self, dim: int, index: Any, src: Any = _NOT_GIVEN, *, value: Any = _NOT_GIVEN,
                 reduce: str | None = None) -> Tensor:
        """``self[index[i][j]][j] = src[i][j]`` (for dim 0), in place: the one-hot idiom
        ``torch.zeros(n, k).scatter_(1, labels[:, None], 1.0)``."""
        kw = {} if value is _NOT_GIVEN else {"value": value}
        args = () if src is _NOT_GIVEN else (src,)
        return self._inplace(lambda old: old.scatter(dim, index, *args, reduce=reduce, **kw), "scatter_")

    def scatter_add_(self, dim: int, index: Any, src: Any) -> Tensor:
        return self._inplace(lambda old: old.scatter_add(dim, index, src), "scatter_add_", src)

    def zero_(self) -> Tensor:
        return self.fill_(0.0)

    def fill_(self, value: float) -> Tensor:
        _refuse_value(value, "fill_")
        v = _checked_fill_value(value._data.item() if isinstance(value, _t.Tensor) else value, self.dtype, "fill_")
        return self._inplace(lambda old: _t.Tensor._make(np.full(self.shape, v, self.dtype), False), "fill_")

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast, converted to self's dtype) into self; the gradient goes to ``src``,
        and what self was computed from gets 0."""
        _refuse_value(src, "copy_")
        if isinstance(src, (bool, int, float)):  # converted as an operand is: integers wrap (PyTorch)
            s = _t._to_tensor(src, self.dtype, "copy_")
        else:  # (straight to self's dtype, not through float32 first)
            s = src if isinstance(src, _t.Tensor) else _t.Tensor(src, dtype=self.dtype)
        if s.dtype != self.dtype:
            s = s.to(self.dtype)
        return self._inplace(lambda old: _t.where(True, s, old), "copy_")

    def __setitem__(self, index: Any, value: Any) -> None:
        """``self[index] = value``. Recorded when self or value takes part in a graph (as PyTorch):
        the value's gradient is the upstream gradient at ``index``, the old values' is 0 there."""
        _refuse_value(value, "setitem")
        index = _index_arg(index, "setitem")
        grad_value = isinstance(value, _t.Tensor) and value.requires_grad
        if is_grad_enabled() and (self.requires_grad or grad_value):
            if self.requires_grad and self._ctx is None:
                raise RuntimeError(
                    "setitem: in-place assignment into a leaf tensor that requires grad would change values "
                    "the graph depends on; assign inside `with no_grad():`, or build a new tensor with "
                    "where(), masked_fill() or cat()"
                )
            self._inplace(lambda old: _assign(old, index, value), "setitem")
            return
        new = np.array(self._data, copy=True)  # never write into an array a graph may have saved
        v = value._data if isinstance(value, _t.Tensor) else value
        if isinstance(v, (bool, int, float)):
            v = _checked_fill_value(v, self.dtype, "setitem", half_to_inf=True)
        try:
            _write_at(new, index, v)
        except ValueError as e:
            raise ValueError(f"setitem: cannot assign a value of shape {np.shape(v)} into a tensor of shape "
                             f"{self.shape} at this index: {e}") from None
        self._set_array(new)


def _assign(old: Tensor, index: Any, value: Any) -> Tensor:
    """``old`` with ``value`` written at ``index``, as a graph: ``where(mask, scattered value, old)``.
    The value is broadcast to the selection and scattered with `IndexAdd` (the VJP of indexing).
    Where an index repeats a position, only the element an assignment keeps (NumPy's, the last) is
    scattered; the others are zeroed first, so they neither add up nor get a gradient."""
    first, rest = _split_integer_index(index)

    mask = np.zeros(old.shape, dtype=bool)
    _write_at(mask, index, True)

    probe = np.broadcast_to(np.zeros((), dtype=bool), old.shape)  # no memory: only the selection's shape

    selected = probe[index].shape if first is None else probe[first][rest].shape
    if isinstance(value, (bool, int, float)):
        value = _checked_fill_value(value, old.dtype, "setitem", half_to_inf=True)

    v = value if isinstance(value, _t.Tensor) else _t.Tensor._make(np.asarray(value, dtype=old.dtype), False)
    if v.dtype != old.dtype:
        v = v.to(old.dtype)
    while v.ndim > len(selected) and v.shape[0] == 1:  # leading 1s may go, as in NumPy and PyTorch
        v = v.reshape(v.shape[1:])
    try:
        v = v.expand(selected)
    except ValueError:
        raise ValueError(f"setitem: cannot assign a value of shape {v.shape} to a selection of shape {selected} "
                         f"(tensor shape {old.shape})") from None
    if not v.requires_grad:  # a constant: NumPy's assignment (a repeated index keeps the last value)
        scattered = np.zeros(old.shape, dtype=old.dtype)
        _write_at(scattered, index, v._data)
        return _t.where(mask, scattered, old)
    inner_shape, inner_index = (old.shape, index) if first is None else (probe[first].shape, rest)

    kept = _kept_by_assignment(inner_shape, inner_index, selected)
    if kept is not None:
        v = _t.where(kept, v, 0.0)

    scattered = ops.IndexAdd.apply(v, shape=inner_shape, index=inner_index)
    if first is not None:
        scattered = ops.IndexAdd.apply(scattered, shape=old.shape, index=first)
    return _t.where(mask, scattered, old)
