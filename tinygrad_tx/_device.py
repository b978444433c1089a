"""Devices, as ``torch.device``: tinygrad_tx computes with NumPy on the CPU, so ``'cpu'`` is the one device.

``torch.device('cuda')`` can be written (PyTorch code builds devices before choosing one), but putting data
there fails at once with a clear message, as does ``t.cuda()``: nothing runs silently on the wrong device.
``torch.cuda.is_available()`` (``cuda.py``) and ``torch.backends.mps.is_available()`` (``backends.py``) answer False,
so the usual ``device = 'cuda' if torch.cuda.is_available() else 'cpu'`` picks the CPU.
"""

from __future__ import annotations

from typing import Any

# PyTorch's device types (a device string must start with one of them)
_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
          "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:  # noqa: N801  (torch.device)
    """``device('cpu')``, ``device('cpu:0')``, ``device('cuda', 1)``, as PyTorch's:
    ``.type`` and ``.index`` (None when not given); ``str`` is ``'cpu'`` or ``'cuda:1'``."""

    __slots__ = ("type", "index")

    def __init__(self, type: Any, index: int | None = None) -> None:  # noqa: A002  (torch's name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device: give an index with a type string, not with a device")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool):  # an index alone: PyTorch's current accelerator
            raise RuntimeError(f"device({type}): an index alone names an accelerator device, and none is available "
                               f"(tinygrad_tx runs on NumPy on the CPU)")
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu', got {type!r}")
        kind, colon, number = type.partition(":")
        if kind not in _TYPES:
            raise RuntimeError(f"Expected one of {', '.join(_TYPES)} device type at start of device string: {type}")
        if colon:
            if index is not None:
                raise RuntimeError(f"device: type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            if not number.isdigit():
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(number)
        if index is not None and index < 0:
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.type, self.index = kind, index

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"

    def __reduce__(self) -> tuple[Any, tuple[str, int | None]]:
        return device, (self.type, self.index)


CPU = device("cpu")  # what every tensor's ``.device`` is


def _check_device(d: Any, op: str) -> None:
    """Accept None and the CPU (``'cpu'``, ``'cpu:0'``, ``device('cpu')``); refuse any other device clearly."""
    if d is None:
        return
    found = d if isinstance(d, device) else device(d)
    if found.type != "cpu":
        raise RuntimeError(f"{op}: tinygrad_tx runs on NumPy on the CPU: device '{found}' is not available")


_matmul_precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    """Accepted for PyTorch code (``'highest'``, ``'high'``, ``'medium'``) and remembered; it changes nothing:
    NumPy's float32 matmul is always full float32 (PyTorch's "highest")."""
    global _matmul_precision
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"set_float32_matmul_precision: invalid precision {precision!r}; expected 'highest', "
                           f"'high' or 'medium'")
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision
