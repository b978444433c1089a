"""Layers composed only from engine primitives, as ``torch.nn``: from Linear to a GPT, plus LoRA.

- ``module``: `Module`, `Parameter`, `ModuleList`;
- ``functional``: the functional forms (``F.layer_norm``, ``F.cross_entropy``, ...); ``init``: the initialisers;
- ``layers``: Linear, Embedding, LayerNorm, ReLU, GELU, Dropout, CausalSelfAttention, MLP, Block;
- ``loss``: the loss modules (MSELoss, L1Loss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss, ...);
- ``lora``: `LoRALinear` and `apply_lora`; ``gpt``: `GPTConfig` and `GPT`;
- ``tap``: the named points of a forward and `record`; ``torch_io``: weights to and from PyTorch.

Nothing here imports ``tinygrad_tx.manual``: ``manual.fuse`` swaps its hand-derived ops into these layers.
"""

from . import functional, init
from .gpt import GPT, GPTConfig
from .layers import GELU, MLP, Block, CausalSelfAttention, Dropout, Embedding, LayerNorm, Linear, ReLU
from .lora import LoRALinear, apply_lora, lora_state_dict
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, ModuleList, Parameter
from .tap import record, tap
from .torch_io import from_torch_state_dict, to_torch_state_dict

__all__ = [
    "Module", "ModuleList", "Parameter", "Linear", "Embedding", "LayerNorm", "ReLU", "GELU", "Dropout",
    "CausalSelfAttention", "MLP", "Block", "GPTConfig", "GPT", "LoRALinear", "apply_lora",
    "lora_state_dict", "to_torch_state_dict", "from_torch_state_dict", "functional", "init", "tap", "record",
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
]
