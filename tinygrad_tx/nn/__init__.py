"""Layers composed only from engine primitives: from Linear to a GPT, plus LoRA."""

from .layers import (
    GELU,
    GPT,
    MLP,
    Block,
    CausalSelfAttention,
    Dropout,
    Embedding,
    GPTConfig,
    LayerNorm,
    Linear,
    ReLU,
)
from .lora import LoRALinear, apply_lora, lora_state_dict
from .module import Module, ModuleList, Parameter
from .torch_io import from_torch_state_dict, to_torch_state_dict

__all__ = [
    "Module", "ModuleList", "Parameter", "Linear", "Embedding", "LayerNorm", "ReLU", "GELU", "Dropout",
    "CausalSelfAttention", "MLP", "Block", "GPTConfig", "GPT", "LoRALinear", "apply_lora",
    "lora_state_dict", "to_torch_state_dict", "from_torch_state_dict",
]
