"""Kept for old imports: `gradcheck` now lives in ``tinygrad_tx/autograd/gradcheck.py``."""

from .autograd.gradcheck import *  # noqa: F403
from .autograd.gradcheck import GradcheckError, gradcheck  # noqa: F401
