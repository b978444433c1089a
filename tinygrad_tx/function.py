"""Kept for old imports: `Function` now lives in ``tinygrad_tx/autograd/function.py``."""

from .autograd.function import *  # noqa: F403
from .autograd.function import Function, SavedArray, _guarded, _held, _holder, _protect, _scope, _unprotect  # noqa: F401
