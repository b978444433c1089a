"""``torch.cuda``, answered for a library without CUDA: nothing is available, seeding is a no-op (there is no
CUDA generator to seed), and what needs a GPU raises at once with a clear message."""

from __future__ import annotations

from typing import NoReturn

_NO_CUDA = "tinygrad_tx runs on NumPy on the CPU: CUDA is not available"


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """A no-op, as PyTorch's without CUDA: seed the CPU stream with ``tinygrad_tx.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """A no-op, as PyTorch's without CUDA."""


def empty_cache() -> None:
    """A no-op, as PyTorch's when CUDA was never initialised."""


def current_device() -> NoReturn:
    raise RuntimeError(f"cuda.current_device: {_NO_CUDA}")


def synchronize(device: object = None) -> NoReturn:
    raise RuntimeError(f"cuda.synchronize: {_NO_CUDA}")


def get_device_name(device: object = None) -> NoReturn:
    raise RuntimeError(f"cuda.get_device_name: {_NO_CUDA}")
