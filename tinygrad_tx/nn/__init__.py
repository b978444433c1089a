"""Layers composed only from engine primitives, as ``torch.nn``: from Linear to a GPT, plus LoRA.

- ``module``: `Module`, `Parameter`; ``containers``: `Sequential`, `ModuleList`, `ModuleDict`,
  `ParameterList`, `ParameterDict`, `Identity`;
- ``functional``: the functional forms (``F.layer_norm``, ``F.cross_entropy``, ...); ``init``: the initialisers;
- ``layers``: Linear (torch's, weight (out, in)), Conv1D (GPT-2's, weight (in, out)), Embedding, LayerNorm, ReLU,
  GELU, Dropout, CausalSelfAttention, MLP, Block;
- ``activation``: Tanh, Sigmoid, Softmax, LogSoftmax, Flatten; ``batchnorm``: BatchNorm1d, BatchNorm2d;
- ``loss``: MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss, BCEWithLogitsLoss;
- ``lora``: `LoRALinear`, `LoRAConv1D` and `apply_lora`; ``gpt``: `GPTConfig` and `GPT`;
- ``tap``: the named points of a forward and `record`; ``torch_io``: weights to and from PyTorch;
- ``utils``: as ``torch.nn.utils``: ``clip_grad_norm_``, ``clip_grad_value_``, ``parameters_to_vector``,
  ``vector_to_parameters``.

Nothing here imports ``tinygrad_tx.manual``: ``manual.fuse`` swaps its hand-derived ops into these layers.
"""

from . import functional, init, utils
from .activation import Flatten, LogSoftmax, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .containers import Identity, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .gpt import GPT, GPTConfig
from .layers import GELU, MLP, Block, CausalSelfAttention, Conv1D, Dropout, Embedding, LayerNorm, Linear, ReLU
from .lora import LoRAConv1D, LoRALayer, LoRALinear, apply_lora, lora_state_dict
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
from .module import Module, Parameter
from .tap import record, tap
from .torch_io import from_torch_state_dict, to_torch_state_dict

__all__ = [
    # the base classes and the containers
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Identity",
    # layers
    "Linear", "Conv1D", "Embedding", "LayerNorm", "BatchNorm1d", "BatchNorm2d",
    "ReLU", "GELU", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Flatten", "Dropout",
    "CausalSelfAttention", "MLP", "Block", "GPTConfig", "GPT",
    # losses
    "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    # LoRA, taps, PyTorch weights
    "LoRALayer", "LoRALinear", "LoRAConv1D", "apply_lora", "lora_state_dict", "tap", "record",
    "to_torch_state_dict", "from_torch_state_dict",
    # sub-modules
    "functional", "init", "utils",
]
