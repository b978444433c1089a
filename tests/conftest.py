"""Fixtures shared by the test modules."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import tinygrad_tx as tx


@pytest.fixture
def float64_default() -> Iterator[None]:
    """Tensors default to float64 and the generator is seeded, for comparisons against PyTorch at
    float64 tolerances; float32 is restored afterwards. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("float64_default")``."""
    tx.set_default_dtype(np.float64)
    tx.manual_seed(0)
    yield
    tx.set_default_dtype(np.float32)

