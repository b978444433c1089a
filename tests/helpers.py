"""Small helpers shared by the test modules."""

from __future__ import annotations

import numpy as np


def rel_err(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| relative to max |b| (the measure the oracle tests state their tolerances in)."""
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))
