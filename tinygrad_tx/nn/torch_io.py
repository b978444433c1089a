"""Moving weights to and from PyTorch. torch is imported only inside these functions.

The PyTorch side is written with ``torch.nn`` layers, nanoGPT-style: its ``nn.Linear`` is ours, weight
``(out, in)``, so Linear weights (and `LoRALinear`'s PEFT-layout factors) keep their shape, as do
embeddings and LayerNorm parameters. Where tinygrad_tx has GPT-2's `Conv1D` (every projection of
``nn.GPT``), weight ``(in, out)``, the PyTorch side has an ``nn.Linear``: those weights are transposed
on the way (`conv1d_weight_names`). `LoRAConv1D`'s factors keep theirs (``torch_gpt.TorchLoRALinear``).
A torch module written with HF transformers' ``Conv1D`` holds our layout already: load its arrays with
``model.load_state_dict({k: v.numpy() for k, v in state_dict.items()})``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..tensor import Tensor
from .layers import Conv1D
from .module import IncompatibleKeys, Module

__all__ = ["to_torch_state_dict", "from_torch_state_dict", "conv1d_weight_names"]


def conv1d_weight_names(model: Module) -> set[str]:
    """Dotted names of the `Conv1D` weights (in, out), which the PyTorch side's nn.Linear stores transposed."""
    names = set()
    for mname, m in model.named_modules(remove_duplicate=False):  # every path to a shared layer
        if isinstance(m, Conv1D):
            names.add(f"{mname}.weight" if mname else "weight")  # LoRA's A (in, r), B (r, out) stay as they are
    return names


def to_torch_state_dict(model: Module, dtype: Any = None) -> dict[str, Any]:
    """The model's parameters as torch tensors, with the Conv1D weights transposed to nn.Linear's (out, in).
    A shared (tied) parameter appears under each of its names, as in a torch ``state_dict()``."""
    import torch

    conv1d = conv1d_weight_names(model)
    out = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        a = p.detach().numpy()
        a = a.T if name in conv1d else a
        t = torch.from_numpy(np.ascontiguousarray(a).copy())
        out[name] = t.to(dtype) if dtype is not None else t
    return out


def from_torch_state_dict(model: Module, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
    """Load torch tensors into the model: a torch ``nn.Linear``'s weight as it is into a `Linear`, transposed
    into a `Conv1D`; checked whole before anything is loaded. Returns ``load_state_dict``'s
    ``(missing_keys, unexpected_keys)``."""
    import torch

    if not isinstance(state_dict, Mapping):
        raise TypeError(f"from_torch_state_dict: expected a mapping of names to torch tensors, got "
                        f"{type(state_dict).__name__}")
    conv1d = conv1d_weight_names(model)
    converted = {}
    for name, t in state_dict.items():
        if not isinstance(t, torch.Tensor):
            kind = "tinygrad_tx Tensor" if isinstance(t, Tensor) else type(t).__name__
            raise TypeError(f"from_torch_state_dict: {name} is a {kind}, not a torch tensor "
                            f"(load NumPy arrays and tinygrad_tx tensors, such as another model's state_dict(), with "
                            f"model.load_state_dict, Conv1D weights in their (in, out) layout)")
        a = t.detach().cpu().numpy()
        converted[name] = a.T.copy() if name in conv1d else a.copy()
    return model.load_state_dict(converted, strict=strict)
