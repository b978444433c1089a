"""Kept for old imports (``from tinygrad_tx import functional as F``): the functions live in
``tinygrad_tx/nn/functional.py``, as ``torch.nn.functional``."""

from .nn.functional import *  # noqa: F403
from .nn.functional import __all__  # noqa: F401
