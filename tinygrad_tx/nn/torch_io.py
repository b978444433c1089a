"""Moving GPT weights to and from PyTorch. torch is imported only inside these functions.

The PyTorch side is a nanoGPT-style model with ``nn.Linear`` layers, which store weights as
``(out, in)``; tinygrad_tx stores ``(in, out)`` (the paper's and GPT-2's layout), so linear weights
are transposed on the way. Embeddings and LayerNorm parameters keep their shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .layers import Linear
from .module import IncompatibleKeys, Module

__all__ = ["to_torch_state_dict", "from_torch_state_dict", "linear_weight_names"]


def linear_weight_names(model: Module) -> set[str]:
    """Dotted names of the (in, out) weights that PyTorch's nn.Linear stores transposed."""
    names = set()
    for mname, m in model.named_modules(remove_duplicate=False):  # every path to a shared layer
        if isinstance(m, Linear):
            names.add(f"{mname}.weight" if mname else "weight")  # LoRA's A (in, r), B (r, out) stay as they are
    return names


def to_torch_state_dict(model: Module, dtype: Any = None) -> dict[str, Any]:
    """The model's parameters as torch tensors, with linear weights transposed to (out, in). A
    shared (tied) parameter appears under each of its names, as in a torch ``state_dict()``."""
    import torch

    linear = linear_weight_names(model)
    out = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        a = p.detach().numpy()
        a = a.T if name in linear else a
        t = torch.from_numpy(np.ascontiguousarray(a).copy())
        out[name] = t.to(dtype) if dtype is not None else t
    return out


def from_torch_state_dict(model: Module, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
    """Load torch tensors (nn.Linear layout) into the model; checked whole before anything is loaded.
    Returns ``load_state_dict``'s ``(missing_keys, unexpected_keys)``."""
    import torch

    if not isinstance(state_dict, Mapping):
        raise TypeError(f"from_torch_state_dict: expected a mapping of names to torch tensors, got "
                        f"{type(state_dict).__name__}")
    linear = linear_weight_names(model)
    converted = {}
    for name, t in state_dict.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"from_torch_state_dict: {name} is a {type(t).__name__}, not a torch tensor "
                            f"(load NumPy arrays with model.load_state_dict, in tinygrad_tx's (in, out) layout)")
        a = t.detach().cpu().numpy()
        converted[name] = a.T.copy() if name in linear else a.copy()
    return model.load_state_dict(converted, strict=strict)
