"""`Tensor`: a NumPy array that records the primitives (``ops.py``) applied to it.

Names and semantics follow PyTorch (``dim``, ``keepdim``, ``transpose(dim0, dim1)``, ``amax``,
``max(dim)`` -> (values, indices), ``masked_fill``, ``cat``/``stack``/``where``), so a snippet moves
between PyTorch and tinygrad_tx by changing the import.

Broadcasting happens in exactly one place, `_broadcast`: operands are expanded to a common shape
with the `Expand` primitive (whose VJP sums over the broadcast dims) before any elementwise
primitive runs. Type promotion also happens in one place, `_result_dtype` (in ``_dtypes.py``, with the other
PyTorch dtype rules; argument normalisation is in ``_args.py``, index conversion in ``_indexing.py``, the
factory functions in ``_factories.py``, the random stream in ``_random.py``).

The class is here with its storage, autograd plumbing, operators, elementwise functions, reductions and
composites; the methods that are mostly PyTorch's edge rules live in its base classes, one module per theme:
``_tensor_arith.py`` (``**``, ``//``, ``%``), ``_tensor_compare.py`` (comparisons, clamp, max/argmax, sort/topk,
gather, rounding), ``_tensor_convert.py`` (sizes, numbers, NumPy, dtypes), ``_tensor_data.py`` (``.data``,
``.grad``), ``_tensor_inplace.py`` (``add_``, ``t[i] = v``), ``_tensor_shape.py`` (flatten, split, repeat, tril,
norm, var, cumsum, logsumexp, cat, stack). PyTorch's module-level functions (``torch.tanh(x)``) are in
``_functions.py``.

Everything in this file above the primitives is composition: ``a - b`` is ``a + (-b)``, ``mean`` is
``sum / n``, ``softmax`` is ``exp(x - max) / sum``; their gradients come for free.
"""

from __future__ import annotations

import math
import sys
from typing import Any, overload

import numpy as np

from . import (
    _dtypes,
    _tensor_api,
    _tensor_arith,
    _tensor_compare,
    _tensor_convert,
    _tensor_data,
    _tensor_inplace,
    _tensor_shape,
    ops,
)
from ._args import _normalize_dims, _numpy_keywords, _reduction_dims, _shape_arg
from ._device import _check_device
from ._dtypes import (
    _INT_END,
    _INT_MIN,
    _as_array,
    _check_int_operand,
    _checked_fill_value,
    _refuse_operand,
    _refuse_value,
    _result_dtype,
    _wrapped_int,
    get_default_dtype,
    set_default_dtype,
)
from ._indexing import _index_arg, _split_integer_index
from ._random import RandomMethods, manual_seed
from ._tensor_api import TorchMethods
from ._tensor_arith import ArithmeticMethods
from ._tensor_compare import CompareMethods
from ._tensor_convert import ConversionMethods, Size
from ._tensor_data import DataGradMethods
from ._tensor_inplace import InPlaceMethods
from ._tensor_shape import ShapeMethods, cat, stack
from .autograd import function as _function
from .autograd import grad  # noqa: F401  (kept for old imports: tensor.grad is autograd.grad)
from .autograd import hooks as _hooks
from .autograd.engine import backward as _backward
from .autograd.function import SavedArray, _named
from .autograd.grad_mode import is_grad_enabled

__all__ = [
    "Tensor", "tensor", "cat", "stack", "where", "grad", "manual_seed", "set_default_dtype", "get_default_dtype",
]

Scalar = int | float | bool
ArrayLike = Any
_NOT_GIVEN: Any = object()  # marks an argument left out (where None would be a value)



class Tensor(
    ArithmeticMethods, CompareMethods, ConversionMethods, DataGradMethods, InPlaceMethods, ShapeMethods, RandomMethods,
    TorchMethods,
):
    """An n-dimensional array with reverse-mode automatic differentiation.

    ``Tensor(data, requires_grad=False, dtype=None, device=None)``: ``data`` is copied. Python floats become
    the default dtype (float32 unless `set_default_dtype` changed it); NumPy arrays keep theirs. ``device``:
    the CPU (None, 'cpu', 'cpu:0'); any other device is refused.
    """

    __slots__ = ("_data", "_grad", "requires_grad", "_ctx", "_version", "name", "_g", "_tangent", "__weakref__")

    _prev: tuple[Any, ...] = ()  # a leaf has no parents (node protocol, see autograd.py)
    _freed = False
    _borrowed = False  # True for `_Borrowed`: it wraps a caller's ndarray without a copy

    def __init__(self, data: ArrayLike, requires_grad: bool = False, dtype: Any = None, device: Any = None) -> None:
        _check_device(device, "tensor")
        arr = _as_array(data, None if dtype is None else _dtypes._np_dtype(dtype, "tensor"))
        self._data = arr
        self._grad: Tensor | None = None  # .grad (``_tensor_data.py``)
        self._ctx: Any = None
        self._version = 0
        self.name: str | None = None
        self._g: Tensor | None = None
        self._tangent: Tensor | None = None  # forward-mode AD (autograd/forward_ad.py)
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: np.ndarray, requires_grad: bool) -> Tensor:
        """Wrap an array without copying (internal fast path)."""
        t = Tensor.__new__(Tensor)
        t._data = data
        t._grad = None
        t.requires_grad = requires_grad
        t._ctx = None
        t._version = 0
        t.name = None
        t._g = None
        t._tangent = None
        return t

    @staticmethod
    def from_numpy(array: np.ndarray) -> Tensor:
        """A tensor that shares memory with ``array`` (no copy), like ``torch.from_numpy``."""
        if not isinstance(array, np.ndarray):
            raise TypeError(f"from_numpy: expected an ndarray, got {type(array).__name__}")
        array = array.view(np.ndarray) if isinstance(array, SavedArray) else array
        return Tensor._make(array, False)

    # ------------------------------------------------------------------------------ attributes
    @property
    def shape(self) -> Size:
        """The dim sizes, as a `Size` (a tuple that prints as ``torch.Size([2, 3])``)."""
        return Size(self._data.shape)

    @property
    def dtype(self) -> _dtypes.DType:
        """The dtype object (``tinygrad_tx.float32``, one per dtype: ``t.dtype is tinygrad_tx.float32``)."""
        return _dtypes._torch_dtype(self._data.dtype)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user created (not the output of a recorded operation)."""
        return self._ctx is None

    @property
    def grad_fn(self) -> Any:
        """The graph node (a `Function` instance) that produced this tensor, or None for a leaf."""
        return self._ctx

    register_hook = _hooks.register_hook  # hook(grad) during backward (autograd/hooks.py)
    register_post_accumulate_grad_hook = _hooks.register_post_accumulate_grad_hook

    def detach(self) -> Tensor:
        """The same data (shared), cut out of the graph."""
        return Tensor._make(self._data, False)

    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (its gradient flows to ``self``)."""
        return ops.Clone.apply(self)

    def _node(self) -> Any:
        return self if self._ctx is None else self._ctx

    def _op_name(self) -> str:
        return "leaf"

    # node protocol (see autograd.py): a leaf has no parents and stores what reaches it
    def _push_parents(self, stack: list[Any], seen: set[Any]) -> None:
        pass

    def _backprop(self, g: Tensor, store: bool, release: bool) -> None:
        if store:
            self._accumulate_grad(g)

    def _release(self) -> None:
        pass

    # ------------------------------------------------------------------------------- backward
    def backward(
        self, gradient: ArrayLike | None = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate ``d self / d leaf`` into ``leaf.grad`` for every leaf that requires grad.

        ``gradient`` is ``dL/d self``; it may be omitted only when self has one element. The graph's
        saved values are released afterwards unless ``retain_graph`` (or ``create_graph``) is set.
        """
        _backward(self, gradient, retain_graph=retain_graph or create_graph, create_graph=create_graph)

    # -------------------------------------------------------------------------- elementwise ops
    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(*_broadcast(self, other, "add"))

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(*_broadcast(other, self, "add"))

    def __sub__(self, other: Any) -> Tensor:
        _refuse_bool_subtraction(self, other)
        a, b = _broadcast(self, other, "sub")
        return _named(ops.Add.apply(a, ops.Neg.apply(b)), "SubBackward0")  # (PyTorch's name for the node)

    def __rsub__(self, other: Any) -> Tensor:
        _refuse_bool_subtraction(other, self)
        a, b = _broadcast(other, self, "sub")
        return _named(ops.Add.apply(a, ops.Neg.apply(b)), "RsubBackward1")

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*_broadcast(self, other, "mul"))

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(*_broadcast(other, self, "mul"))

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*_broadcast(self, other, "div", floating=True))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(*_broadcast(other, self, "div", floating=True))







    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return self.abs()

    # the method spellings of the operators (``torch.Tensor.add`` etc.)
    def add(self, other: Any, alpha: float = 1) -> Tensor:
        """self + alpha · other (alpha as PyTorch allows it: no float one for integer tensors)."""
        return self + _dtypes._alpha_times(other, alpha, self, "add")

    def sub(self, other: Any, alpha: float = 1) -> Tensor:
        return self - _dtypes._alpha_times(other, alpha, self, "sub")

    def mul(self, other: Any) -> Tensor:
        return self * other

    def div(self, other: Any) -> Tensor:
        return self / other

    def neg(self) -> Tensor:
        return ops.Neg.apply(self)



    def matmul(self, other: Any) -> Tensor:
        return matmul(self, other)













    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(other, self)

    # floating-point functions: integer and bool tensors enter as the default dtype (as PyTorch)
    def exp(self) -> Tensor:
        return ops.Exp.apply(_floating(self))

    def log(self) -> Tensor:
        return ops.Log.apply(_floating(self))

    def tanh(self) -> Tensor:
        return ops.Tanh.apply(_floating(self))

    def sigmoid(self) -> Tensor:
        return ops.Sigmoid.apply(_floating(self))

    def relu(self) -> Tensor:
        if self._data.dtype == bool:
            raise TypeError(f"relu: bool tensors are not supported, as in PyTorch (shape {self.shape}); "
                            f"convert first, e.g. t.float()")
        return ops.Relu.apply(self)

    def erf(self) -> Tensor:
        return ops.Erf.apply(_floating(self))

    def sin(self) -> Tensor:
        return ops.Sin.apply(_floating(self))

    def cos(self) -> Tensor:
        return ops.Cos.apply(_floating(self))

    def sqrt(self) -> Tensor:
        return self**0.5


    def rsqrt(self) -> Tensor:
        return self**-0.5

    def square(self) -> Tensor:
        return self * self

    def abs(self) -> Tensor:
        """|x| = relu(x) + relu(-x): gradient sign(x), and 0 at x = 0 and at NaN as in PyTorch. Integers
        (no gradient) take NumPy's abs, which wraps as PyTorch's does (int8 -128 stays -128)."""
        if self._data.dtype.kind == "f":
            return self.relu() + (-self).relu()
        if self._data.dtype == bool:
            raise TypeError(f"abs: not implemented for bool tensors, as in PyTorch (shape {self.shape})")
        return Tensor._make(np.abs(self._data), False)

    def maximum(self, other: Any) -> Tensor:
        return ops.Maximum.apply(*_broadcast(self, other, "maximum"))

    def minimum(self, other: Any) -> Tensor:
        a, b = _broadcast(self, other, "minimum")
        return -ops.Maximum.apply(-a, -b)


























    # ---------------------------------------------------------------------------- reductions
    @_numpy_keywords  # (axis= and keepdims= too, as PyTorch)
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """Σ over ``dim`` (an int, a tuple, or None for all; an empty tuple also means all, as PyTorch).
        ``dtype``: the input is converted to it first (the gradient is converted back)."""
        x = _reduction_input(self, dtype, "sum")
        dims = _reduction_dims(dim, x.ndim, "sum")
        out = ops.Sum.apply(x, dims=dims, keepdim=keepdim)
        return out if dtype is None or out.dtype == dtype else out.to(dtype)  # NumPy sums small ints as int64

    @_numpy_keywords
    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """sum / n over ``dim``; ``dtype`` (floating) converts the input first, so integers are allowed."""
        if dtype is not None and np.dtype(dtype).kind != "f":
            raise TypeError(f"mean: dtype must be a floating-point dtype, got {np.dtype(dtype)}")
        x = _reduction_input(self, dtype, "mean")
        _require_floating(x, "mean")
        dims = _reduction_dims(dim, x.ndim, "mean")
        n = math.prod(x.shape[d] for d in dims)
        return _named(x.sum(dims, keepdim) / n, "MeanBackward0" if dim is None else "MeanBackward1")

    @_numpy_keywords
    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
        """Π over one ``dim`` (an int), or over all elements; integers and bools give int64, as in
        PyTorch. The gradient is right where x has zeros (one or several), and so is its derivative."""
        if dim is not None and (isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer))):
            raise TypeError(f"prod: dim must be an int or None (PyTorch's prod reduces one dim or all), got {dim!r}")
        x = _reduction_input(self, dtype, "prod")
        dims = _normalize_dims(dim, x.ndim, "prod")
        out = ops.Prod.apply(x, dims=dims, keepdim=keepdim)
        return out if dtype is None or out.dtype == dtype else out.to(dtype)




    @_numpy_keywords
    def amax(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """The maximum over ``dim``; ties share the gradient evenly."""
        dims = _reduction_dims(dim, self.ndim, "amax")
        return ops.Amax.apply(self, dims=dims, keepdim=keepdim)

    @_numpy_keywords
    def amin(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        if self.dtype.kind != "f":  # nothing to differentiate (and -x is refused for bool): NumPy's amin
            dims = _reduction_dims(dim, self.ndim, "amin")
            ops._check_reducible(self.shape, dims, "amin")
            return Tensor._make(np.asarray(np.amin(self._data, axis=dims, keepdims=keepdim)), False)
        return -(-self).amax(dim, keepdim)








    @_numpy_keywords
    def softmax(self, dim: int = -1) -> Tensor:
        """exp(x - max) / Σ exp(x - max): the max shift changes nothing but keeps exp finite."""
        _require_floating(self, "softmax")
        if self._data.size == 0:  # nothing to normalise (and no maximum to shift by)
            _normalize_dims(dim, self.ndim, "softmax")
            return self * 1.0
        e = (self - self.amax(dim, keepdim=True).detach()).exp()
        return _named(e / e.sum(dim, keepdim=True), "SoftmaxBackward0")

    @_numpy_keywords
    def log_softmax(self, dim: int = -1) -> Tensor:
        """(x - max) - log Σ exp(x - max)."""
        _require_floating(self, "log_softmax")
        if self._data.size == 0:  # nothing to normalise (and no maximum to shift by)
            _normalize_dims(dim, self.ndim, "log_softmax")
            return self * 1.0
        shifted = self - self.amax(dim, keepdim=True).detach()
        return _named(shifted - shifted.exp().sum(dim, keepdim=True).log(), "LogSoftmaxBackward0")

    # -------------------------------------------------------------------------------- shapes
    def reshape(self, *shape: Any) -> Tensor:
        shape = _shape_arg(shape)
        if any(n < -1 for n in shape) or shape.count(-1) > 1:
            raise ValueError(f"reshape: invalid shape {shape} for a tensor of shape {self.shape}: sizes must be "
                             f"non-negative, with at most one -1 (the size inferred)")
        if shape == self.shape:
            return self
        return ops.Reshape.apply(self, shape=shape)

    view = reshape


    def permute(self, *dims: Any) -> Tensor:
        dims = _shape_arg(dims)
        if sorted(d % max(self.ndim, 1) for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {dims} is not a permutation of the dims of shape {self.shape}")
        dims = tuple(d % self.ndim for d in dims)
        if dims == tuple(range(self.ndim)):
            return self
        return ops.Permute.apply(self, dims=dims)




    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to ``shape`` (-1 keeps a dim); the VJP sums over the broadcast dims."""
        shape = _shape_arg(shape)
        lead = len(shape) - self.ndim
        if lead < 0:
            raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}: fewer dims")
        target = tuple(self.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(shape))
        for i, n in enumerate(self.shape):
            if n != 1 and n != target[lead + i]:
                raise ValueError(f"expand: cannot expand shape {self.shape} to {shape}")
        if target == self.shape:
            return self
        return ops.Expand.apply(self, shape=target)







    def __getitem__(self, index: Any) -> Tensor:
        index = _index_arg(index, "getitem")
        first, rest = _split_integer_index(index)
        if first is not None:  # PyTorch applies integers first (a select), then the array indices
            return ops.GetItem.apply(ops.GetItem.apply(self, index=first), index=rest)
        return ops.GetItem.apply(self, index=index)






    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition`` holds, else ``other`` (``torch.Tensor.where``)."""
        return where(condition, self, other)




_function._tensor_class = Tensor  # autograd builds op outputs as this class (so autograd imports no tensor code)


# ------------------------------------------------------------------------- broadcasting & dtypes








def _floating(t: Tensor) -> Tensor:
    """``t`` as a floating-point tensor: integer and bool tensors become the default dtype (PyTorch)."""
    return t if t._data.dtype.kind == "f" else t.to(_dtypes._default_dtype)


def _sqrt_zero_grad_at_zero(v: Tensor) -> Tensor:
    """√v with gradient 0 where v = 0 (PyTorch's std and norm), not 0 · ∞ = nan. The inner where
    keeps √ away from 0, the outer puts the 0s back."""
    zero = v._data == 0
    if not zero.any():
        return v.sqrt()
    return where(zero, 0.0, where(zero, 1.0, v).sqrt())


def _require_floating(t: Tensor, op: str) -> None:
    if t._data.dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating-point tensor, got dtype {t.dtype}; convert it first, e.g. t.float()")


def _reduction_input(t: Tensor, dtype: Any, op: str) -> Tensor:
    """``t`` converted to a reduction's ``dtype=`` (PyTorch converts before reducing). A dtype that
    cannot carry a gradient is refused for a tensor that requires one, as in PyTorch."""
    if dtype is None:
        return t
    d = np.dtype(dtype)
    if d.kind != "f" and t.requires_grad and is_grad_enabled():
        raise TypeError(f"{op}: dtype {d} cannot carry a gradient, and the tensor (shape {t.shape}) requires "
                        f"grad; detach() it or reduce inside no_grad()")
    return t.to(d)


def _refuse_bool_subtraction(a: Any, b: Any) -> None:
    """PyTorch refuses ``-`` with a bool operand (a bool tensor, or True/False), so do we."""
    for x in (a, b):
        if isinstance(x, (bool, np.bool_)) or (isinstance(x, (Tensor, np.ndarray)) and x.dtype == bool):
            raise TypeError(
                f"sub: subtraction with a bool operand is not supported, as in PyTorch (shapes {np.shape(a)} and "
                f"{np.shape(b)}); to invert a mask use ~mask, or convert it first, e.g. mask.float()"
            )






def _to_tensor(x: Any, dtype: np.dtype, op: str = "") -> Tensor:
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else x.to(dtype)
    if isinstance(x, np.ndarray):
        a = np.asarray(x, dtype=dtype)
        shared = a is x or a.base is not None  # no conversion was needed: the caller's memory
        return _borrow(a) if shared else Tensor._make(a, False)
    if type(x) is int:
        return Tensor._make(_wrapped_int(x, dtype, op), False)
    with np.errstate(over="ignore"):  # a float beyond the dtype's range is inf, as in PyTorch
        return Tensor._make(np.asarray(x, dtype=dtype), False)


class _Borrowed(Tensor):
    """A tensor around a caller's ndarray operand (``x * array``), without a copy. Other views of that
    memory can change it behind the engine's back, so an op that saves it for backward saves a copy
    (see `Function.apply`); an op that does not save it costs nothing."""

    __slots__ = ()
    _borrowed = True


def _borrow(a: np.ndarray) -> Tensor:
    t = Tensor._make(a, False)
    t.__class__ = _Borrowed
    return t


class _DataAlias(Tensor):
    """``owner.data``: the owner's storage as a tensor cut out of the graph. It has no array or version
    of its own: ``_data`` and ``_version`` read and re-point the owner's, so an in-place op on it
    updates the owner and counts as a modification of it (see ``_tensor_data.py``)."""

    __slots__ = ("_owner",)

    @property  # type: ignore[override]
    def _data(self) -> np.ndarray:
        return self._owner._data

    @_data.setter
    def _data(self, array: np.ndarray) -> None:
        self._owner._data = array

    @property  # type: ignore[override]
    def _version(self) -> int:
        return self._owner._version

    @_version.setter
    def _version(self, version: int) -> None:
        self._owner._version = version

    def __reduce__(self) -> Any:  # a copy (pickle, copy.deepcopy) is a tensor of its own, as in PyTorch
        return Tensor, (self._data,)


def _data_alias(owner: Tensor) -> Tensor:
    """``owner.data`` (``.data`` of an alias is the same storage's: the alias of its owner)."""
    t = Tensor.__new__(_DataAlias)
    t._owner = owner._owner if isinstance(owner, _DataAlias) else owner
    t._grad = t._ctx = t.name = t._g = t._tangent = None  # no tangent, as torch's .data (forward_ad.py)
    t.requires_grad = False
    return t


def _broadcast(a: Any, b: Any, op: str, floating: bool = False) -> tuple[Tensor, Tensor]:
    """The one place where operands get a common dtype and shape (via the `Expand` primitive)."""
    # fast paths for the common cases: two tensors of one dtype, a float tensor and a Python number
    if isinstance(a, Tensor):
        if isinstance(b, Tensor) and a._data.dtype == b._data.dtype and (a._data.dtype.kind == "f" or not floating):
            if a._data.shape == b._data.shape:
                return a, b
            return _expand_both(a, b, op)
        if (type(b) is float or (type(b) is int and _INT_MIN <= b < _INT_END)) and a._data.dtype.kind == "f":
            return a, Tensor._make(np.asarray(b, a._data.dtype), False)
    elif isinstance(b, Tensor) and (type(a) is float or (type(a) is int and _INT_MIN <= a < _INT_END)) \
            and b._data.dtype.kind == "f":
        return Tensor._make(np.asarray(a, b._data.dtype), False), b
    for x in (a, b):
        if not isinstance(x, (Tensor, int, float, bool, np.ndarray, np.number, np.bool_)):
            _refuse_operand(x, op)
    dt = _result_dtype(a, b)
    for x, other in ((a, b), (b, a)):
        # an integer of 2**63 or more is a uint64 to PyTorch: it wraps into an integer tensor's dtype, but
        # with a bool tensor it would have to become int64, which PyTorch refuses (except in s / t, which
        # PyTorch computes as t.reciprocal() * s, a floating product)
        if floating and x is a:
            continue
        if type(x) is int and x >= 2**63 and dt.kind in "iu" and not (
                isinstance(other, (Tensor, np.ndarray, np.integer)) and other.dtype.kind in "iu"):
            _check_int_operand(x, op)
            raise OverflowError(f"{op}: the integer {x} does not fit in int64, the dtype of the result "
                                f"(PyTorch refuses it too)")
    if floating and dt.kind != "f":
        dt = _dtypes._default_dtype
    ta, tb = _to_tensor(a, dt, op), _to_tensor(b, dt, op)
    if ta.shape == tb.shape:
        return ta, tb
    return _expand_both(ta, tb, op)




def _operand_tensor(x: Any, op: str) -> Tensor:
    """A non-tensor operand of ``op`` as a tensor (a copy, as ``torch.tensor``); a `Value` is refused."""
    _refuse_value(x, op)
    return Tensor(x)


def _expand_both(ta: Tensor, tb: Tensor, op: str) -> tuple[Tensor, Tensor]:
    try:
        shape = np.broadcast_shapes(ta.shape, tb.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {ta.shape} and {tb.shape} cannot be broadcast together") from None
    return _expand_to(ta, shape), _expand_to(tb, shape)


def _expand_to(t: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Broadcast ``t`` to ``shape`` with the `Expand` primitive if it takes part in the graph.

    Only operands that need a gradient must arrive at the output's shape (their VJP must come
    back at their own shape, and `Expand` turns that into a sum). A constant is left as it is:
    NumPy broadcasts it inside the primitive, and nothing flows back to it.
    """
    if t.requires_grad and is_grad_enabled() and t.shape != shape:
        return t.expand(shape)
    return t




# -------------------------------------------------------------------------- free functions


def tensor(data: ArrayLike, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``Tensor(data, ...)``, spelled like ``torch.tensor``: Python ints give int64, bools bool, floats the
    default dtype; NumPy data keeps its dtype."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with NumPy/PyTorch semantics: 1-D operands are promoted (and the added dim
    removed), leading batch dims broadcast. Composed from `Matmul`, `Reshape` and `Expand`."""
    a = a if isinstance(a, Tensor) else _operand_tensor(a, "matmul")
    b = b if isinstance(b, Tensor) else _operand_tensor(b, "matmul")
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"matmul: both operands need at least 1 dim, got shapes {a.shape} and {b.shape}")
    sa, sb = a.shape, b.shape
    if sa[-1] != (sb[0] if b.ndim == 1 else sb[-2]):
        raise ValueError(f"matmul: shapes {sa} and {sb} do not align")
    if a._data.dtype != b._data.dtype or a._data.dtype.kind == "b":
        raise TypeError(f"matmul: the operands must have one dtype, and not bool, as in PyTorch (got {a.dtype} "
                        f"and {b.dtype}, shapes {sa} and {sb}); convert one first, e.g. b.to(a.dtype)")
    if a.ndim == 1 and b.ndim == 1:
        return (a.unsqueeze(0) @ b.unsqueeze(1)).reshape(())
    if a.ndim == 1:
        return (a.unsqueeze(0) @ b).squeeze(-2)
    if b.ndim == 1:
        return (a @ b.unsqueeze(1)).squeeze(-1)
    if b.ndim == 2 and a.ndim > 2:
        # (..., n, k) @ (k, m): one big matrix product instead of a batch of small ones
        out = ops.Matmul.apply(a.reshape(-1, sa[-1]), b)
        return out.reshape(sa[:-1] + (sb[-1],))
    try:
        batch = np.broadcast_shapes(sa[:-2], sb[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dims of shapes {sa} and {sb} cannot be broadcast") from None
    return ops.Matmul.apply(a.expand(batch + sa[-2:]), b.expand(batch + sb[-2:]))






@overload
def where(condition: Any) -> tuple[Tensor, ...]: ...


@overload
def where(condition: Any, a: Any, b: Any) -> Tensor: ...


def where(condition: Any, a: Any = _NOT_GIVEN, b: Any = _NOT_GIVEN) -> Tensor | tuple[Tensor, ...]:
    """``a`` where ``condition`` is true, else ``b``; all three broadcast together.

    ``where(condition)`` alone is ``torch.where(condition)``: a tuple of int64 index tensors, one per
    dim, of the nonzero elements of ``condition`` (of any dtype; a 0-d condition counts as 1-d)."""
    if not isinstance(condition, Tensor):
        _refuse_value(condition, "where")
    c = condition._data if isinstance(condition, Tensor) else np.asarray(condition)
    if a is _NOT_GIVEN and b is _NOT_GIVEN:
        found = np.nonzero(c.reshape(1) if c.ndim == 0 else c)
        return tuple(Tensor._make(i.astype(np.int64), False) for i in found)
    if a is _NOT_GIVEN or b is _NOT_GIVEN:
        raise TypeError("where: give the condition alone, or the condition and both values")
    if c.dtype != bool:
        raise TypeError(f"where: the condition must be boolean, got dtype {c.dtype}")
    if not (_fits_any_float(a, b) or _fits_any_float(b, a)) and (
            isinstance(a, (bool, int, float)) or isinstance(b, (bool, int, float))):  # a number must fit the result
        dt = _result_dtype(a, b)
        a = _checked_fill_value(a, dt, "where", half_to_inf=True) if isinstance(a, (bool, int, float)) else a
        b = _checked_fill_value(b, dt, "where", half_to_inf=True) if isinstance(b, (bool, int, float)) else b
    ta, tb = _broadcast(a, b, "where")
    try:
        shape = np.broadcast_shapes(c.shape, ta.shape, tb.shape)
    except ValueError:
        raise ValueError(
            f"where: condition of shape {c.shape} and values of shapes {ta.shape}, {tb.shape} "
            f"cannot be broadcast together"
        ) from None
    cond = Tensor._make(c, False) if isinstance(condition, Tensor) else _borrow(c)
    return ops.Where.apply(cond, _expand_to(ta, shape), _expand_to(tb, shape))


def _fits_any_float(x: Any, other: Any) -> bool:
    """True for a float that fits every floating dtype next to a floating tensor (``where(m, g, 0.0)`` in a
    VJP): nothing to check."""
    return type(x) is float and isinstance(other, Tensor) and other._data.dtype.kind == "f" and -65504.0 <= x <= 65504.0


# The methods of Tensor's base classes (one module per theme) reach Tensor and the helpers here through this module.
for _methods in (_tensor_arith, _tensor_compare, _tensor_convert, _tensor_data, _tensor_inplace, _tensor_shape,
                 *_tensor_api.MODULES):
    _methods._t = sys.modules[__name__]
