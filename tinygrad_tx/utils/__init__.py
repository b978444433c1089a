"""Utilities laid out as ``torch.utils``: ``data`` (datasets, samplers, `DataLoader`) and ``checkpoint``
(activation checkpointing: `checkpoint.checkpoint`, `checkpoint.checkpoint_sequential`)."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
