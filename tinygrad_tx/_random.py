"""The package's random stream: `manual_seed` seeds the NumPy generator behind `randn`, `rand`, the
initialisers and dropout (PyTorch's own stream is not reproduced: the same seed gives other numbers)."""

from __future__ import annotations

import numpy as np

_rng = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind `randn`, `rand`, ``nn.init`` and dropout."""
    global _rng
    _rng = np.random.default_rng(seed)


def _generator() -> np.random.Generator:
    return _rng
