"""Conversions of a `Tensor`: to Python numbers and lists, to NumPy, between dtypes and devices (``to``, ``float``,
``type``, ``cpu``); sizes (`Size`, as ``torch.Size``); ``repr`` (PyTorch's format, ``_tensor_str.py``).

`ConversionMethods` is a base class of `Tensor` (``tensor.py``), so this module cannot import ``tensor.py``: it
reaches `Tensor` and the helpers there through ``_t``, the module ``tensor``, which binds it once the class exists.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _dtypes, ops
from ._args import _normalize_dims
from ._device import CPU, _check_device, device
from ._tensor_str import tensor_repr
from .autograd.function import _guarded, _held

if TYPE_CHECKING:
    from .tensor import Scalar, Tensor

_t: Any = None  # the module tinygrad_tx.tensor (bound there)


class Size(tuple):
    """``torch.Size``: a tuple of dim sizes (``t.shape``, ``t.size()``) that prints as ``torch.Size([2, 3])``; its
    slices and sums are Sizes too, and ``numel()`` is the product. In an f-string it reads as the tuple
    ``(2, 3)`` (``format``), as the engine's messages always said; ``print`` and ``repr`` give PyTorch's form."""

    __slots__ = ()

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, index: Any) -> Any:
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(self) + tuple(other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple(other) + tuple(self))

    def __mul__(self, n: Any) -> Size:
        return Size(tuple(self) * n)

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(tuple(self)), spec)

    def __reduce__(self) -> tuple[Any, tuple[tuple[int, ...]]]:
        return Size, (tuple(self),)


# PyTorch's legacy tensor type names, for ``t.type()``: torch.FloatTensor is float32, ...
_TYPE_NAMES = {"bool": "Bool", "uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long",
               "float16": "Half", "float32": "Float", "float64": "Double", "complex64": "ComplexFloat",
               "complex128": "ComplexDouble"}


class ConversionMethods:
    """Sizes, Python numbers, NumPy and dtype conversions. A base class of `Tensor`."""

    __slots__ = ()  # Tensor has slots: no __dict__ through a base class

    def size(self, dim: int | None = None) -> Any:
        """The shape as a `Size`, or the size of one ``dim`` (an int)."""
        if dim is None:
            return Size(self._data.shape)
        if self.ndim == 0:
            raise IndexError(f"size: dim {dim} was given but the tensor has no dims (shape ())")
        (d,) = _normalize_dims(dim, self.ndim, "size")
        return self._data.shape[d]

    def dim(self) -> int:
        return self.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element (4 for float32)."""
        return int(self._data.itemsize)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_signed(self) -> bool:
        return self._data.dtype.kind in "fic"

    # ----------------------------------------------------------------------------------- device
    @property
    def device(self) -> device:
        """Always the CPU: tinygrad_tx computes with NumPy."""
        return CPU

    is_cuda = False
    is_cpu = True
    is_mps = False

    def cpu(self) -> Tensor:
        return self  # (as PyTorch's for a tensor already on the CPU)

    def cuda(self, device: Any = None, non_blocking: bool = False) -> Tensor:
        raise RuntimeError("cuda: tinygrad_tx runs on NumPy on the CPU: device 'cuda' is not available")

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def item(self) -> Scalar:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (shared, not copied). Like PyTorch, refused if it requires grad."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on a tensor that requires grad (as in PyTorch); use tensor.detach().numpy() instead"
            )
        return _guarded(self._data) if _held else self._data

    def tolist(self) -> Any:
        return self._data.tolist()

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy functions of tensors, as PyTorch has them: ``ndarray * t`` (and the other operators with
        the array first) is the tensor's reflected operator, so it is recorded; any other ufunc
        (``np.exp(t)``, ``np.isnan(t)``) computes on the values, refused for a tensor that requires grad
        (as ``t.numpy()``), and gives a tensor (PyTorch wraps the result too)."""
        reflected = _REFLECTED.get(ufunc)
        if reflected and method == "__call__" and not kwargs and len(inputs) == 2 and inputs[1] is self:
            return getattr(self, reflected)(inputs[0])
        arrays = [np.asarray(x) if isinstance(x, _t.Tensor) else x for x in inputs]
        if "out" in kwargs:
            raise TypeError(f"{ufunc.__name__}: out= with a tensor is not supported; assign the result instead")
        out = getattr(ufunc, method)(*arrays, **kwargs)
        if isinstance(out, tuple):
            return tuple(_t.Tensor(o) if isinstance(o, np.ndarray) else o for o in out)
        return _t.Tensor(out) if isinstance(out, np.ndarray) else out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """NumPy's protocol: ``np.asarray(t)`` shares the data (as ``t.numpy()``), ``np.array(t)`` copies it
        (NumPy passes ``copy=True`` and does not copy again); ``copy=False`` refuses a dtype conversion."""
        a = self.numpy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError(f"__array__: converting a {a.dtype} tensor to {np.dtype(dtype)} needs a copy, "
                                 f"and copy=False was given")
            return a.astype(dtype)
        return np.array(a, copy=True) if copy else a

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"the truth value of a tensor with {self._data.size} elements is ambiguous; "
                f"use .any() or .all()"
            )
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        """A one-element integer tensor used as an index (``range(t)``, ``x[t:]``, ``list[t]``)."""
        if self._data.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError(f"only a one-element integer tensor can be an index, got dtype {self.dtype} "
                            f"and shape {self.shape}")
        return int(self._data.item())

    def __format__(self, spec: str) -> str:
        """``f"{t:.3f}"``: a 0-d tensor formats as its Python number, as in PyTorch; any other tensor takes
        only the empty spec (``f"{t}"`` is ``str(t)``), and a spec raises TypeError, as PyTorch's does."""
        if self.ndim == 0 and type(self) is _t.Tensor:
            return format(self._data.item(), spec)
        return object.__format__(self, spec)

    # ------------------------------------------------------------------------------ conversion
    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """This tensor with another dtype, as PyTorch's ``to``: ``to(dtype)``, ``to(device)``, ``to(device, dtype)``,
        ``to(other)`` (other's dtype), ``to(dtype=..., device=..., copy=False)``. The CPU is the one device.
        Returns self when nothing changes (unless ``copy=True``); between floating dtypes the conversion is
        differentiable (the gradient is converted back), to other dtypes it leaves the graph."""
        dev, dt, copy = kwargs.pop("device", None), kwargs.pop("dtype", None), kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to: unexpected keyword argument {next(iter(kwargs))!r}")
        flags = []
        for a in args:
            if isinstance(a, _t.Tensor):
                dt = a._data.dtype
            elif isinstance(a, (str, device)) or (isinstance(a, int) and not isinstance(a, bool)):
                dev = a
            elif isinstance(a, bool):
                flags.append(a)  # to(dtype, non_blocking, copy)
            else:
                dt = a
        if len(flags) > 2:
            raise TypeError("to: too many positional arguments")
        copy = copy or (len(flags) == 2 and flags[1])
        _check_device(dev, "to")
        d = self._data.dtype if dt is None else _dtypes._np_dtype(dt, "to")
        if d == self._data.dtype and not copy:
            return self
        if d.kind == "f" and self._data.dtype.kind == "f":
            return ops.Cast.apply(self, dtype=d)
        with np.errstate(invalid="ignore"):  # nan and inf into integers: unspecified values, as in PyTorch
            return _t.Tensor._make(self._data.astype(d), False)

    def float(self) -> Tensor:
        return self.to(np.float32)

    def double(self) -> Tensor:
        return self.to(np.float64)

    def half(self) -> Tensor:
        return self.to(np.float16)

    def long(self) -> Tensor:
        return self.to(np.int64)

    def int(self) -> Tensor:
        return self.to(np.int32)

    def short(self) -> Tensor:
        return self.to(np.int16)

    def char(self) -> Tensor:
        return self.to(np.int8)

    def byte(self) -> Tensor:
        return self.to(np.uint8)

    def bool(self) -> Tensor:
        return self.to(np.bool_)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor converted to ``other``'s dtype."""
        return self.to(other._data.dtype)

    def type(self, dtype: Any = None, non_blocking: bool = False) -> Any:
        """Without an argument, PyTorch's type name (``'torch.FloatTensor'``); with a dtype or such a name, the
        tensor converted to it."""
        if dtype is None:
            name = self._data.dtype.name
            return "torch." + _TYPE_NAMES.get(name, name) + "Tensor"
        if isinstance(dtype, str):
            by_name = {f"torch.{v}Tensor": k for k, v in _TYPE_NAMES.items()}
            if dtype not in by_name:
                raise ValueError(f"type: invalid type {dtype!r}; expected a dtype or a name like 'torch.FloatTensor'")
            dtype = np.dtype(by_name[dtype])
        return self.to(dtype)

    def __repr__(self) -> str:
        return tensor_repr(self)


# ``array ∘ tensor``: NumPy calls the ufunc, which hands the work to the tensor's reflected operator
_REFLECTED = {
    np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__", np.true_divide: "__rtruediv__",
    np.floor_divide: "__rfloordiv__", np.remainder: "__rmod__", np.power: "__rpow__", np.matmul: "__rmatmul__",
    np.less: "__gt__", np.less_equal: "__ge__", np.greater: "__lt__", np.greater_equal: "__le__",
    np.equal: "__eq__", np.not_equal: "__ne__", np.bitwise_and: "__rand__", np.bitwise_or: "__ror__",
    np.bitwise_xor: "__rxor__",
}
