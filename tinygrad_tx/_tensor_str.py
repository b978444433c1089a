"""``print(t)`` in PyTorch's format: ``tensor([1., 2.], requires_grad=True)``, ``tensor(7., grad_fn=<MulBackward0>)``.

PyTorch's printer (``torch/_tensor_str.py``) redone on NumPy arrays, rule for rule, so the strings are equal:

- one format for all elements of a floating tensor, chosen from its nonzero finite values: whole numbers print
  as ``2.``; others with 4 decimals (``0.5000``); scientific notation (``1.0000e+09``) when the largest
  magnitude is over 1e8, or over 1000 times the smallest, or the smallest is under 1e-4. Integers and bools
  print as Python prints them. Elements are right-aligned to a common width;
- rows wrap at 80 characters; nested dims are separated by a line (two for 3-d, ...);
- a tensor of over 1000 elements is summarised: 3 items at each end of every dim, ``...`` in between;
- the suffixes: ``dtype=torch.float64`` unless the dtype is the default floating one, int64 or bool (an empty
  tensor shows any dtype but the default floating one, and its size unless it is 1-d), then ``grad_fn=<...>``
  (the node's PyTorch name, see ``Function.name``) or ``requires_grad=True``.

`set_printoptions` changes ``precision``, ``threshold``, ``edgeitems``, ``linewidth``, ``sci_mode`` as PyTorch's.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from . import _dtypes


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """As ``torch.set_printoptions``: ``profile`` is ``'default'``, ``'short'`` or ``'full'``; ``sci_mode`` True or
    False forces scientific notation on or off, None (the default) lets the values decide."""
    if profile is not None:
        profiles = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, math.inf, 3, 80)}
        if profile not in profiles:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(profiles)}, got {profile!r}")
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = profiles[profile]
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    return asdict(PRINT_OPTS)


class _Formatter:
    """The one format of a tensor's elements, chosen from (the summarised) ``values``."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            self.max_width = max([self.max_width] + [len(f"{v}") for v in flat.tolist()])
            return
        finite = flat[np.isfinite(flat) & (flat != 0)]
        if finite.size == 0:
            return
        magnitudes = np.abs(finite).astype(np.float64)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        self.int_mode = bool((finite == np.ceil(finite)).all())
        opts = PRINT_OPTS
        if opts.sci_mode is None:
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
        else:
            self.sci_mode = opts.sci_mode
        numbers = finite.tolist()
        if self.sci_mode:
            widths = [len(f"{v:.{opts.precision}e}") for v in numbers]
        elif self.int_mode:
            widths = [len(f"{v:.0f}") + 1 for v in numbers]
        else:
            widths = [len(f"{v:.{opts.precision}f}") for v in numbers]
        self.max_width = max([self.max_width] + widths)

    def format(self, value: Any) -> str:
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return " " * (self.max_width - len(text)) + text


def _summarized(a: np.ndarray) -> np.ndarray:
    """The elements that will be shown: ``edgeitems`` at each end of every dim."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate([a[:e], a[-e:]]) if a.shape[0] > 2 * e else a
    if not e:
        return np.empty((0,) * a.ndim, a.dtype)
    rows = list(range(e)) + list(range(a.shape[0] - e, a.shape[0])) if a.shape[0] > 2 * e else range(a.shape[0])
    return np.stack([_summarized(a[i]) for i in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    opts = PRINT_OPTS
    per_line = max(1, math.floor((opts.linewidth - indent) / (formatter.max_width + 2)))
    e = opts.edgeitems
    if summarize and not e:
        data = ["..."]
    elif summarize and a.shape[0] > 2 * e:
        data = ([formatter.format(v) for v in a[:e].tolist()] + [" ..."]
                + [formatter.format(v) for v in a[-e:].tolist()])
    else:
        data = [formatter.format(v) for v in a.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(a: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    if a.ndim == 0:
        return formatter.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, formatter)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = ([_nested_str(a[i], indent + 1, summarize, formatter) for i in range(e)] + ["..."]
                  + [_nested_str(a[i], indent + 1, summarize, formatter) for i in range(a.shape[0] - e, a.shape[0])])
    else:
        slices = [_nested_str(a[i], indent + 1, summarize, formatter) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _values_str(a: np.ndarray, indent: int) -> str:
    if a.size == 0:
        return "[]"
    summarize = a.size > PRINT_OPTS.threshold
    formatter = _Formatter(_summarized(a) if summarize else a)
    return _nested_str(a, indent, summarize, formatter)


def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """``, suffix`` after the values, on a new line when the line would pass ``linewidth``."""
    parts = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(parts) + ")"


def tensor_repr(t: Any) -> str:
    """``repr(t)`` as PyTorch's (``torch/_tensor_str.py``: ``_str_intern``)."""
    a = t._data
    own_class = type(t).__module__.startswith("tinygrad_tx")  # Tensor, Parameter: "tensor(", a subclass its name
    prefix = "tensor(" if own_class else f"{type(t).__name__}("
    indent = len(prefix)
    suffixes = []
    default = _dtypes._default_dtype
    dtype_name = "dtype=" + str(_dtypes._torch_dtype(a.dtype))
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype != default:  # no values to tell an int64 tensor by: any dtype but the default is named
            suffixes.append(dtype_name)
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(a.shape)}")
        if a.dtype not in (default, np.dtype(np.int64), np.dtype(np.bool_)):
            suffixes.append(dtype_name)
        body = _values_str(a, indent)
    node = t._ctx
    if node is not None:
        suffixes.append(f"grad_fn=<{node.name()}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
