"""The factory functions, as PyTorch's: ``zeros``, ``ones``, ``empty``, ``full``, their ``*_like``, ``arange``,
``linspace``, ``logspace``, ``eye``, ``as_tensor``, ``from_numpy``, and the samplers ``randn``, ``rand``,
``randint``, ``randperm``, ``normal``, ``bernoulli``, ``multinomial`` with their ``*_like``.

As in PyTorch: a size is ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``; floating results take the default
dtype, ``arange`` and ``randint`` of integers give int64; every one takes ``device=`` (the CPU; any other device
is refused with a clear message) and, where PyTorch does, ``requires_grad=`` and ``generator=`` (a
`Generator`; without one, the package's stream that `manual_seed` seeds: ``_random.py``). The random numbers
follow PyTorch's distributions, not its stream.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from . import _dtypes
from ._device import _check_device
from ._dtypes import _checked_fill_value, _np_dtype
from ._random import Sampled, _bernoulli, _check_integer_range, _multinomial, _rng, _uniform_below_one
from .tensor import Tensor

__all__ = [
    "zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like", "arange", "linspace",
    "logspace", "eye", "as_tensor", "from_numpy", "is_tensor", "is_floating_point", "randn", "rand",
    "randint", "randperm", "normal", "bernoulli", "multinomial", "randn_like", "rand_like", "randint_like",
]


def _factory(data: np.ndarray, requires_grad: bool, device: Any, op: str) -> Tensor:
    _check_device(device, op)
    t = Tensor._make(data, False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _dt(dtype: Any, op: str = "tensor") -> np.dtype:
    return _dtypes._default_dtype if dtype is None else _np_dtype(dtype, op)


def _floating_dt(dtype: Any, op: str) -> np.dtype:
    d = _dt(dtype, op)
    if d.kind != "f":
        raise TypeError(f"{op}: samples floating-point values, dtype {d} is not one (use randint for integers)")
    return d


def _size_arg(size: tuple[Any, ...], size_kw: Any, op: str) -> tuple[int, ...]:
    """A size given as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(size=(2, 3))``: integers, none negative."""
    if size_kw is not None:
        if size:
            raise TypeError(f"{op}: the size is given twice (positionally and as size=)")
        size = (size_kw,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    try:
        shape = tuple(operator.index(n) for n in size)
    except TypeError:
        raise TypeError(f"{op}: a size is made of integers, got {size!r}") from None
    negative = [n for n in shape if n < 0]
    if negative:
        raise RuntimeError(f"{op}: negative dimension {negative[0]} in size {shape}")
    return shape


def _tuple_size(size: Any, op: str) -> tuple[int, ...]:
    """The ``size`` argument of ``full``, ``randint``, ``normal``: a tuple or list, as PyTorch requires."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{op}: size must be a tuple of ints, e.g. (3,), got {size!r}")
    return _size_arg((tuple(size),), None, op)


# ------------------------------------------------------------------------------------ constant fills
def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    shape = _size_arg(size, kw.pop("size", None), "zeros")
    _no_more(kw, "zeros")
    return _factory(np.zeros(shape, _dt(dtype, "zeros")), requires_grad, device, "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    shape = _size_arg(size, kw.pop("size", None), "ones")
    _no_more(kw, "ones")
    return _factory(np.ones(shape, _dt(dtype, "ones")), requires_grad, device, "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """A tensor whose values are not to be read before written (PyTorch leaves them uninitialised; here they are
    0, so a program that reads them anyway behaves the same on every run)."""
    shape = _size_arg(size, kw.pop("size", None), "empty")
    _no_more(kw, "empty")
    return _factory(np.zeros(shape, _dt(dtype, "empty")), requires_grad, device, "empty")


def _no_more(kw: dict[str, Any], op: str) -> None:
    if kw:
        raise TypeError(f"{op}: unexpected keyword argument {next(iter(kw))!r}")


def _fill_dtype(fill_value: Any, dtype: Any, op: str) -> np.dtype:
    """Without ``dtype``, a fill value's own, as in PyTorch: bool, int64, or the default floating dtype."""
    if dtype is None and isinstance(fill_value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if dtype is None and isinstance(fill_value, (int, np.integer)):
        return np.dtype(np.int64)
    return _dt(dtype, op)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value``; without ``dtype`` it follows the value: bool, int64, or the default dtype."""
    shape = _tuple_size(size, "full")
    fill_value = fill_value.item() if isinstance(fill_value, Tensor) else fill_value
    d = _fill_dtype(fill_value, dtype, "full")
    return _factory(np.full(shape, _checked_fill_value(fill_value, d, "full"), d), requires_grad, device, "full")


def _like(t: Any, dtype: Any, op: str) -> tuple[tuple[int, ...], np.dtype]:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return t._data.shape, t._data.dtype if dtype is None else _np_dtype(dtype, op)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, d = _like(input, dtype, "zeros_like")
    return _factory(np.zeros(shape, d), requires_grad, device, "zeros_like")


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    shape, d = _like(input, dtype, "ones_like")
    return _factory(np.ones(shape, d), requires_grad, device, "ones_like")


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    """As `empty`: zeros here."""
    shape, d = _like(input, dtype, "empty_like")
    return _factory(np.zeros(shape, d), requires_grad, device, "empty_like")


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    """A tensor of ``fill_value`` with the shape and (unless ``dtype`` says otherwise) the dtype of ``input``."""
    shape, d = _like(input, dtype, "full_like")
    return _factory(np.full(shape, _checked_fill_value(fill_value, d, "full_like"), d), requires_grad, device,
                    "full_like")


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    if n < 0 or (m is not None and m < 0):
        raise RuntimeError(f"eye: n and m must be non-negative, got n={n}, m={m}")
    return _factory(np.eye(n, m, dtype=_dt(dtype, "eye")), requires_grad, device, "eye")


# ------------------------------------------------------------------------------------------- ranges
def _number(x: Any, op: str) -> Any:
    if isinstance(x, Tensor):
        return x.item()
    if not isinstance(x, (int, float, np.integer, np.floating)) or isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{op}: expected a number, got {type(x).__name__}")
    return x


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to (not including) end: ⌈(end − start) / step⌉ values, each computed as
    start + i·step in float64 (PyTorch's vectorised kernel rounds some float ones differently, by an ulp).
    Integers only give int64, as in PyTorch; any float gives the default dtype. Into an integer dtype,
    start, end and step are truncated to integers first, as PyTorch does."""
    if end is None:
        start, end = 0, start
    start, end, step = (_number(x, "arange") for x in (start, end, step))
    if not (math.isfinite(start) and math.isfinite(end) and math.isfinite(step)):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end} (step {step})")
    integers = all(isinstance(x, (int, np.integer)) for x in (start, end, step))
    d = _dt(dtype, "arange") if dtype is not None or not integers else np.dtype(np.int64)
    if d.kind in "iub":  # PyTorch works in int64 here: start, end and step truncated towards 0
        a, b, h = int(start), int(end), int(step)
    else:
        a, b, h = float(start), float(end), float(step)
    if h == 0:
        raise RuntimeError("arange: step must be nonzero" + (f" (step {step} truncates to 0)" if step else ""))
    if (end - start) * step < 0:
        raise RuntimeError(f"arange: upper bound and lower bound inconsistent with step sign "
                           f"(start {start}, end {end}, step {step})")
    if d == np.int64:  # an integer ceiling division, as PyTorch's for int64
        sign = 1 if h > 0 else -1
        n = abs(b - a + h - sign) // abs(h)
    else:
        n = math.ceil((float(end) - float(start)) / float(step))
    i = np.arange(max(n, 0), dtype=np.int64)
    values = a + h * i if d.kind in "iub" else a + h * i.astype(np.float64)
    return _factory(values.astype(d), requires_grad, device, "arange")


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` values from start to end, evenly spaced: with h = (end − start) / (steps − 1), the first half is
    start + i·h and the second end − (steps − 1 − i)·h, as PyTorch computes them (so both ends are exact)."""
    start, end = _number(start, "linspace"), _number(end, "linspace")
    if steps < 0:
        raise RuntimeError(f"linspace: number of steps must be non-negative, got {steps}")
    d = _dt(dtype, "linspace")
    return _factory(_spaced(start, end, steps, d), requires_grad, device, "linspace")


def _spaced(start: Any, end: Any, steps: int, d: np.dtype) -> np.ndarray:
    work = d if d.kind == "f" else np.dtype(np.float64)  # (PyTorch's step type: the dtype, or double for integers)
    if d.kind in "iub":  # the ends are converted to the dtype first (truncated), as in PyTorch
        start, end = int(start), int(end)
    a, b = work.type(start), work.type(end)
    if steps == 1:
        return np.array([a], dtype=work).astype(d)
    i = np.arange(steps)
    with np.errstate(invalid="ignore", over="ignore"):
        h = (b - a) / work.type(max(steps - 1, 1))
        values = np.where(i < steps // 2, a + h * i.astype(work), b - h * (steps - 1 - i).astype(work))
    return values.astype(work).astype(d)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    start, end = _number(start, "logspace"), _number(end, "logspace")
    if steps < 0:
        raise RuntimeError(f"logspace: number of steps must be non-negative, got {steps}")
    d = _dt(dtype, "logspace")
    work = d if d.kind == "f" else np.dtype(np.float64)
    with np.errstate(over="ignore"):
        values = np.power(work.type(base), _spaced(start, end, steps, work))
    return _factory(values.astype(d), requires_grad, device, "logspace")


# --------------------------------------------------------------------------------------- conversions
def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, sharing memory where it can (as ``torch.as_tensor``): a tensor of that dtype is
    returned as it is, an ndarray of that dtype is wrapped without a copy; anything else is converted."""
    _check_device(device, "as_tensor")
    d = None if dtype is None else _np_dtype(dtype, "as_tensor")
    if isinstance(data, Tensor):
        return data if d is None or data._data.dtype == d else data.to(d)
    if isinstance(data, np.ndarray) and (d is None or data.dtype == d):
        return from_numpy(data)
    return Tensor(data, dtype=d)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor that shares memory with ``ndarray`` (no copy), as ``torch.from_numpy``."""
    return Tensor.from_numpy(ndarray)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:  # noqa: A002
    return input.is_floating_point()


# ------------------------------------------------------------------------------------------ sampling
def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
          **kw: Any) -> Tensor:
    """Samples of N(0, 1)."""
    shape = _size_arg(size, kw.pop("size", None), "randn")
    _no_more(kw, "randn")
    d = _floating_dt(dtype, "randn")
    return _factory(_rng(generator, "randn").standard_normal(shape).astype(d), requires_grad, device, "randn")


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
         **kw: Any) -> Tensor:
    """Samples of U[0, 1)."""
    shape = _size_arg(size, kw.pop("size", None), "rand")
    _no_more(kw, "rand")
    d = _floating_dt(dtype, "rand")
    return _factory(_uniform_below_one(_rng(generator, "rand"), shape, d), requires_grad, device, "rand")


def randint(*args: Any, generator: Any = None, dtype: Any = None, device: Any = None, requires_grad: bool = False,
            **kw: Any) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)``, ``randint(low, high, size)`` (``size`` a tuple;
    ``low=``, ``high=``, ``size=`` by keyword too), int64 unless ``dtype`` says otherwise."""
    unknown = set(kw) - {"low", "high", "size"}
    if unknown:
        raise TypeError(f"randint: unexpected keyword argument {sorted(unknown)[0]!r}")
    if "size" not in kw:
        if not args:
            raise TypeError("randint: needs a size: randint(high, size) or randint(low, high, size)")
        kw["size"], args = args[-1], args[:-1]
    if len(args) > 2:
        raise TypeError(f"randint: takes (high, size) or (low, high, size), got {len(args) + 1} positional arguments")
    given = dict(zip(("low", "high") if len(args) == 2 else ("high",), args))
    for name in set(given) & set(kw):
        raise TypeError(f"randint: {name} is given twice")
    given.update(kw)
    if "high" not in given:
        raise TypeError("randint: needs high: randint(high, size) or randint(low, high, size)")
    low, high = given.get("low", 0), given["high"]
    shape = _tuple_size(given["size"], "randint")
    d = np.dtype(np.int64) if dtype is None else _np_dtype(dtype, "randint")
    _check_integer_range(low, high, d, "randint")
    values = _rng(generator, "randint").integers(low, high, shape, dtype=np.int64)
    return _factory(values.astype(d), requires_grad, device, "randint")


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """A random permutation of 0, ..., n − 1 (int64 unless ``dtype`` says otherwise)."""
    n = operator.index(n)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    d = np.dtype(np.int64) if dtype is None else _np_dtype(dtype, "randperm")
    return _factory(_rng(generator, "randperm").permutation(n).astype(d), requires_grad, device, "randperm")


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std²), as ``torch.normal``: a tensor ``mean`` and/or ``std`` gives one sample per
    element (broadcast together, in their dtype), two numbers need ``size``. The sample is not
    reparameterised: it depends on a tensor ``mean``/``std`` with gradient 0, as in PyTorch."""
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    if not tensors:
        if size is None:
            raise TypeError("normal: with a number mean and std, give size, e.g. normal(0.0, 1.0, (3,))")
        shape = _tuple_size(size, "normal")
        d = _floating_dt(dtype, "normal")
        if std < 0:
            raise RuntimeError(f"normal: expects std >= 0.0, but found std {std}")
        z = _rng(generator, "normal").standard_normal(shape)
        return _factory((mean + std * z).astype(d), requires_grad, device, "normal")
    if size is not None:
        raise TypeError("normal: size is given by the mean and std tensors; size= is for two numbers")
    _check_device(device, "normal")
    for t in tensors:
        if t._data.dtype.kind != "f":
            raise TypeError(f"normal: mean and std must be floating-point tensors, got dtype {t._data.dtype}")
    m = mean._data if isinstance(mean, Tensor) else np.asarray(mean)
    s = std._data if isinstance(std, Tensor) else np.asarray(std)
    if s.size and (s < 0).any():
        raise RuntimeError(f"normal: expects all elements of std >= 0.0, found {s[s < 0].flat[0]}")
    d = np.result_type(*[t._data.dtype for t in tensors])
    try:
        shape = np.broadcast_shapes(m.shape, s.shape)
    except ValueError:
        raise ValueError(f"normal: mean of shape {m.shape} and std of shape {s.shape} cannot be broadcast") from None
    sample = (m + s * _rng(generator, "normal").standard_normal(shape)).astype(d)
    name = "NormalBackward3" if len(tensors) == 2 else ("NormalBackward1" if isinstance(mean, Tensor) else
                                                       "NormalBackward2")
    return Sampled.apply(*tensors, sample=sample, name=name)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Any = None) -> Tensor:  # noqa: A002
    """0/1 samples, 1 with probability ``input`` (elementwise, in [0, 1]) or ``p``, in ``input``'s dtype. As in
    PyTorch the result stays in the graph with gradient 0 for ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli: expected a Tensor, got {type(input).__name__}")
    if input._data.dtype.kind != "f":
        raise TypeError(f"bernoulli: needs a floating-point tensor, got dtype {input._data.dtype}")
    probs = input._data if p is None else np.full(input._data.shape, p, np.float64)
    sample = _bernoulli(probs, _rng(generator, "bernoulli"), "bernoulli").astype(input._data.dtype)
    if p is not None:
        return Tensor._make(sample, False)
    return Sampled.apply(input, sample=sample, name="BernoulliBackward0")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,  # noqa: A002
                generator: Any = None) -> Tensor:
    """``num_samples`` category indices (int64) drawn with the weights ``input`` (1-d, or one row per draw in
    2-d; not necessarily summing to 1), with or without ``replacement``, as ``torch.multinomial``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial: expected a Tensor, got {type(input).__name__}")
    out = _multinomial(input._data, operator.index(num_samples), replacement, _rng(generator, "multinomial"))
    return Tensor._make(out, False)


def randn_like(input: Tensor, *, generator: Any = None, dtype: Any = None, device: Any = None,  # noqa: A002
               requires_grad: bool = False) -> Tensor:
    shape, d = _like(input, dtype, "randn_like")
    return randn(shape, generator=generator, dtype=d, device=device, requires_grad=requires_grad)


def rand_like(input: Tensor, *, generator: Any = None, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    shape, d = _like(input, dtype, "rand_like")
    return rand(shape, generator=generator, dtype=d, device=device, requires_grad=requires_grad)


def randint_like(input: Tensor, *bounds: int, generator: Any = None, dtype: Any = None,  # noqa: A002
                 device: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """``randint_like(t, high)`` or ``randint_like(t, low, high)``: t's shape and (unless told) dtype."""
    shape, d = _like(input, dtype, "randint_like")
    return randint(*bounds, shape, generator=generator, dtype=d, device=device, requires_grad=requires_grad, **kw)
