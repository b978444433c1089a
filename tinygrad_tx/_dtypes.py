"""PyTorch's dtype rules for `Tensor`, kept out of the class: the dtype objects (``torch.float32``), the
default floating dtype, the dtype of Python data (``tensor([1, 2.5])``), type promotion between operands
(`_result_dtype`), how a Python number converts to a dtype (fill values refused when they overflow; integers
that wrap), and `finfo`/`iinfo`.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from .autograd import function as _function
from .scalar import Value


class DType:
    """``torch.dtype`` (exported as ``tinygrad_tx.dtype``): ``tinygrad_tx.float32`` prints as PyTorch's
    ``torch.float32``, over the NumPy dtype that stores the data.

    There is one object per dtype (``t.dtype is tinygrad_tx.float64`` holds, as in PyTorch), with
    PyTorch's attributes (``is_floating_point``, ``is_complex``, ``is_signed``, ``itemsize``). It is also
    a NumPy dtype-like, for the engine and for user code that mixes in NumPy: NumPy reads any object
    with a ``.dtype`` (``np.zeros(3, tinygrad_tx.float32)``, ``a.astype(t.dtype)``), it compares equal to
    the NumPy dtype and scalar type (``t.dtype == np.float32``; a string does not, as in PyTorch), hashes
    like it, and hands other attributes (``kind``, ``name``, ``type``) to it.

    ``str``/``repr`` give PyTorch's spelling, ``format`` (f-strings) NumPy's: the engine's messages say
    "got dtype float32" as they always did; ``print(t.dtype)`` says ``torch.float32``.
    """

    __slots__ = ("_np", "_name", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, np_dtype: np.dtype, name: str) -> None:
        self._np = np_dtype
        self._name = name
        self.is_floating_point = np_dtype.kind == "f"
        self.is_complex = np_dtype.kind == "c"
        self.is_signed = np_dtype.kind in "fic"
        self.itemsize = np_dtype.itemsize

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype (what lets NumPy take this object wherever it takes a dtype)."""
        return self._np

    @property
    def kind(self) -> str:
        return self._np.kind

    def __getattr__(self, name: str) -> Any:  # NumPy's other attributes: name, type, char, str, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._np, name)

    def to_complex(self) -> DType:
        return _torch_dtype(np.result_type(self._np, np.complex64))

    def to_real(self) -> DType:
        return _torch_dtype(np.empty(0, self._np).real.dtype)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, DType):
            return other is self
        if isinstance(other, np.dtype):
            return self._np == other
        if isinstance(other, type):  # np.float32, and Python's bool, int and float as NumPy reads them
            try:
                return self._np == np.dtype(other)
            except TypeError:
                return False
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._np)

    def __repr__(self) -> str:
        return "torch." + self._name

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self._np.name, spec)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _named, (self._name,)  # pickled by name: unpickling (and deepcopy) give the one object again


# the dtypes by PyTorch's name; the aliases (float, double, long, ...) are the same objects
bool_ = DType(np.dtype(np.bool_), "bool")
uint8 = DType(np.dtype(np.uint8), "uint8")
int8 = DType(np.dtype(np.int8), "int8")
int16 = DType(np.dtype(np.int16), "int16")
int32 = DType(np.dtype(np.int32), "int32")
int64 = DType(np.dtype(np.int64), "int64")
uint16 = DType(np.dtype(np.uint16), "uint16")
uint32 = DType(np.dtype(np.uint32), "uint32")
uint64 = DType(np.dtype(np.uint64), "uint64")
float16 = DType(np.dtype(np.float16), "float16")
float32 = DType(np.dtype(np.float32), "float32")
float64 = DType(np.dtype(np.float64), "float64")
complex64 = DType(np.dtype(np.complex64), "complex64")
complex128 = DType(np.dtype(np.complex128), "complex128")

_TORCH_DTYPES: dict[np.dtype, DType] = {
    d._np: d for d in (bool_, uint8, int8, int16, int32, int64, uint16, uint32, uint64, float16, float32, float64,
                       complex64, complex128)
}
_BY_NAME = {d._name: d for d in _TORCH_DTYPES.values()}


def _named(name: str) -> DType:
    return _BY_NAME[name]


def _torch_dtype(np_dtype: Any) -> DType:
    """The dtype object of a NumPy dtype (or anything NumPy reads as one)."""
    found = _TORCH_DTYPES.get(np_dtype)
    if found is not None:
        return found
    d = np.dtype(np_dtype)
    found = _TORCH_DTYPES.get(d)
    if found is None:  # a dtype PyTorch has no name for (a big-endian array, strings): NumPy's name
        found = _TORCH_DTYPES[d] = DType(d, d.name)
    return found


_default_dtype = np.dtype(np.float32)


def _np_dtype(d: Any, op: str) -> np.dtype:
    """The NumPy dtype of a ``dtype=`` argument (a dtype object, a NumPy dtype or type, a name)."""
    try:
        return np.dtype(d)
    except TypeError:
        raise TypeError(f"{op}: dtype must be a dtype such as tinygrad_tx.float32, got {d!r}") from None


def set_default_dtype(d: Any) -> None:
    """Set the dtype of new floating-point tensors (float32 unless changed; float64 for checking)."""
    global _default_dtype
    nd = _np_dtype(d, "set_default_dtype")
    if nd.kind != "f":
        raise TypeError(f"set_default_dtype: only floating-point types are supported as the default type, got "
                        f"{_torch_dtype(nd)!r}")
    _default_dtype = nd


def get_default_dtype() -> DType:
    """The dtype given to new floating-point tensors (``tinygrad_tx.float32`` unless changed)."""
    return _torch_dtype(_default_dtype)


class finfo:  # noqa: N801  (torch.finfo)
    """The limits of a floating dtype, as ``torch.finfo``: ``eps`` (the gap from 1 to the next number),
    ``max``, ``min`` (= -max), ``tiny`` (= ``smallest_normal``), ``resolution``, ``bits``, as Python floats.
    Without an argument, the default dtype's; a complex dtype gives its real part's."""

    def __init__(self, type: Any = None) -> None:  # noqa: A002  (torch's name)
        d = _default_dtype if type is None else _np_dtype(type, "finfo")
        if d.kind == "c":
            d = np.empty(0, d).real.dtype
        if d.kind != "f":
            raise TypeError(f"finfo: needs a floating-point dtype, got {_torch_dtype(d)!r}; use iinfo for integers")
        info = np.finfo(d)
        self.bits: int = int(info.bits)
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = float(info.smallest_normal)
        self.smallest_normal = self.tiny
        self.resolution = 10.0 ** -int(info.precision)  # (PyTorch's: 1e-06 exactly, not float32's nearest)
        self.dtype: str = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801  (torch.iinfo)
    """The limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``min``, ``max`` (Python ints)."""

    def __init__(self, type: Any) -> None:  # noqa: A002  (torch's name)
        d = _np_dtype(type, "iinfo")
        if d.kind == "b":
            raise TypeError("iinfo: torch.bool is not supported (as in PyTorch)")
        if d.kind not in "iu":
            raise TypeError(f"iinfo: needs an integer dtype, got {_torch_dtype(d)!r}; use finfo for floating point")
        info = np.iinfo(d)
        self.bits: int = int(info.bits)
        self.min = int(info.min)
        self.max = int(info.max)
        self.dtype: str = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def _as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an array the way ``torch.tensor`` does (always a copy)."""
    if isinstance(data, _function._tensor_class):
        data = data._data
    if isinstance(data, (np.ndarray, np.generic)):  # NumPy arrays and scalars keep their dtype
        return np.array(data, dtype=dtype, copy=True)  # (a SavedArray comes out a plain array)
    inferred = _inferred_dtype(data)
    target = inferred if dtype is None else dtype
    if target.kind not in "iu":  # floats: beyond the range is inf, as in PyTorch; bool: truthiness
        if target.kind == "b" or target.itemsize >= 8:  # (nothing can overflow: no errstate to pay for)
            return np.array(data, dtype=target)
        with np.errstate(over="ignore"):
            return np.array(data, dtype=target)
    try:
        wide = np.array(data, dtype=np.float64 if inferred.kind == "f" else np.int64)
    except OverflowError:
        raise ValueError("tensor: an integer in the data does not fit in int64 (PyTorch refuses it too); "
                         "give dtype=float64 to store it approximately") from None
    if wide.dtype.kind == "f":  # floats into an integer dtype truncate towards 0
        if not np.isfinite(wide).all():
            raise RuntimeError(f"tensor: inf or nan cannot be converted to {target}, as in PyTorch")
        with np.errstate(invalid="ignore"):
            wide = np.where(np.abs(wide) < 2.0**63, np.trunc(wide), np.inf)
    info = np.iinfo(target)
    low = -int(info.max) if target.kind == "u" else int(info.min)  # -255..-1 wrap into uint8 (PyTorch)
    if wide.size and (wide.min() < low or wide.max() > int(info.max)):
        bad = wide.min() if wide.min() < low else wide.max()
        raise RuntimeError(f"tensor: value {bad} cannot be converted to {target} without overflow, as in PyTorch")
    return wide.astype(np.int64).astype(target)


def _inferred_dtype(data: Any) -> np.dtype:
    """PyTorch's dtype for Python data: its elements' dtypes promoted (`_promoted`). True/False are
    bool, integers int64, floats the default dtype; a NumPy scalar, an array or a tensor inside keeps
    its own (``[np.float64(1.5), 2]`` is float64)."""
    found: set[np.dtype] = set()
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        elif isinstance(x, (np.ndarray, np.generic, _function._tensor_class)):  # (before float: np.float64 is a float)
            found.add(x.dtype)
        elif isinstance(x, bool):
            found.add(np.dtype(bool))
        elif isinstance(x, int):
            found.add(np.dtype(np.int64))
        elif isinstance(x, float):
            found.add(_default_dtype)
        elif isinstance(x, Value):
            raise TypeError(_mixed_engines_message("tensor"))
        else:
            raise TypeError(f"Tensor: cannot make a tensor from {type(x).__name__} data")
    if not found:
        return _default_dtype  # an empty list
    return functools.reduce(_promoted, found)


def _promoted(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's promotion of two dtypes of equal standing: the higher category (bool < integer <
    floating) wins; within one, NumPy's promotion (int8 and uint8 give int16, float16 and float32 float32)."""
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _category(dt: np.dtype) -> int:
    return 2 if dt.kind == "f" else (1 if dt.kind in "iu" else 0)


def _result_dtype(a: Any, b: Any, floating: bool = False) -> np.dtype:
    """PyTorch's type promotion. Categories rank bool < int < float; within the highest category
    present, a dimensioned tensor outranks a 0-d tensor, which outranks a Python number. So
    float32 tensor * 2.5 stays float32, float32 * 0-d float64 stays float32, int tensor * 2.5 gets
    the default float dtype, float32 + float64 (both dimensioned) gives float64."""

    def info(x: Any) -> tuple[np.dtype, int]:
        if isinstance(x, (_function._tensor_class, np.ndarray)):
            return x.dtype, (2 if x.ndim else 1)
        if isinstance(x, (bool, np.bool_)):
            return np.dtype(bool), 0
        if isinstance(x, (int, np.integer)):
            return np.dtype(np.int64), 0
        return _default_dtype, 0

    operands = [info(a), info(b)]
    top = max(_category(d) for d, _ in operands)
    ranked = [(d, r) for d, r in operands if _category(d) == top]
    best = max(r for _, r in ranked)
    if best == 0:
        dt = ranked[0][0]
    else:
        dts = [d for d, r in ranked if r == best]
        dt = np.promote_types(dts[0], dts[-1])
    if floating and dt.kind != "f":
        dt = _default_dtype
    return np.dtype(dt)


def _alpha_times(other: Any, alpha: Any, input: Any, op: str) -> Any:
    """``alpha · other``, for ``input ± alpha · other`` (``add``/``sub``, the functions and methods, and their
    in-place forms), with PyTorch's rules for ``alpha``: a float is refused when the operands are integers or
    bools, a bool unless they are bools, and with bool operands alpha counts as True or False (the sum is an or)."""
    result = _result_dtype(input, other)
    if isinstance(alpha, (bool, np.bool_)) and result.kind != "b":
        raise TypeError(f"{op}(): alpha={alpha} is a bool, which is only allowed when the result is bool (PyTorch "
                        f"refuses it too); here it is {result}: use alpha=1 or alpha=0")
    if isinstance(alpha, (float, np.floating)) and result.kind in "biu":
        raise TypeError(f"{op}(): alpha={alpha} is a float, and the operands are integers (PyTorch refuses "
                        f"this too); convert them first, e.g. x.float()")
    if result.kind == "b":  # PyTorch computes in bool: a bool times alpha-as-a-bool
        keep = bool(alpha)
        return (bool(other) and keep) if isinstance(other, (bool, np.bool_)) else other * keep
    return other if alpha == 1 else other * alpha


def _checked_fill_value(value: Any, dtype: np.dtype, op: str = "masked_fill", half_to_inf: bool = False) -> Any:
    """A fill value as PyTorch converts it to ``dtype``: refused if it does not fit (inf or NaN into an
    integer dtype, 1e40 into float32, 300 into int8); floats truncate towards 0 into integers, and
    negative values wrap into unsigned ones."""
    converted, fits = value, True
    if dtype.kind in "iu":
        v = float(value) if isinstance(value, (float, np.floating)) else int(value)
        if isinstance(v, float) and not math.isfinite(v):
            fits = False
        else:
            v = int(v)  # truncation towards 0
            info = np.iinfo(dtype)
            fits = (-int(info.max) if dtype.kind == "u" else int(info.min)) <= v <= int(info.max)
            converted = v % (int(info.max) + 1) if dtype.kind == "u" else v
    elif dtype.kind == "f":
        v = float(value)
        fits = not math.isfinite(v) or abs(v) <= float(np.finfo(dtype).max) or (half_to_inf and dtype == np.float16)
    if not fits:
        raise RuntimeError(f"{op}: value {value!r} cannot be converted to {dtype} without overflow")
    return converted


_INT_MIN, _INT_END = -(2**63), 2**64  # the Python integers PyTorch accepts as operands


def _check_int_operand(x: int, op: str) -> None:
    if not _INT_MIN <= x < _INT_END:
        raise OverflowError(f"{op}: the integer {x} does not fit in 64 bits; PyTorch refuses operands outside "
                            f"[-2**63, 2**64)")


def _wrapped_int(x: int, dtype: np.dtype, op: str) -> np.ndarray:
    """A Python integer operand as a 0-d array of ``dtype``, as PyTorch converts it: into an integer dtype
    it wraps around (``uint8 + 300`` adds 44, ``uint8 - 2`` wraps below 0), like the arithmetic itself."""
    _check_int_operand(x, op)
    if dtype.kind in "iu":
        return np.asarray(x % _INT_END, dtype=np.uint64).astype(dtype)  # two's complement, low bits kept
    return np.asarray(x, dtype=dtype)


def _integer_power(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    negative = b < 0
    y = np.asarray(np.power(a, np.where(negative, 0, b) if negative.any() else b))
    if not negative.any():
        return y
    odd = (b % 2) != 0
    at_negative = np.where(a == 1, 1, np.where(a == -1, np.where(odd, -1, 1), 0)) if a.dtype.kind == "i" else (a == 1)
    return np.where(negative, at_negative, y).astype(y.dtype)


def _mixed_engines_message(op: str) -> str:
    return (f"cannot mix a Value (the scalar engine) and a Tensor in '{op}': use Tensor(v.data) for the value, "
            f"or t.item() for a one-element tensor")


def _refuse_operand(x: Any, op: str) -> None:
    """Raise the TypeError for an operand that is not a tensor, an array or a number."""
    if isinstance(x, Value):
        raise TypeError(_mixed_engines_message(op))
    raise TypeError(f"{op}: unsupported operand type {type(x).__name__}")


def _refuse_value(x: Any, op: str) -> None:
    """A `Value` (the scalar engine) is not a number to the tensor engine: mixing them would drop the
    Value's gradient, so it is refused with one message everywhere (and, on its side, by `Value`)."""
    if isinstance(x, Value):
        raise TypeError(_mixed_engines_message(op))
