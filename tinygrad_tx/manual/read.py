"""Reading an ``nn.GPT`` for the manual path: its weights as arrays, which are trainable, its config,
its LoRA layers and its LayerNorms' ε. The layers are recognised by their classes (``nn.LoRALinear``,
``nn.LayerNorm``); the manual layers themselves (``layers``, ``attention``, ``gpt``) stay plain NumPy.
"""

from __future__ import annotations

from .. import nn
from . import gpt as _gpt
from .gpt import GPTParams

__all__ = ["read_gpt"]


def read_gpt(model: nn.GPT) -> GPTParams:
    """The weights (as NumPy arrays, not copied), the config and the LoRA layers of an ``nn.GPT``."""
    cfg = model.config
    arrays, trainable = {}, set()
    for name, p in model.named_parameters():
        arrays[name] = p.detach().numpy()
        if p.requires_grad:
            trainable.add(name)
    lora, eps = {}, set()
    for name, m in model.named_modules():
        if isinstance(m, nn.LoRALinear):
            if m.merged:
                raise ValueError(f"read_gpt: LoRA layer {name} is merged; call unmerge() first")
            lora[name] = float(m.scaling)
        if isinstance(m, nn.LayerNorm):
            eps.add(float(m.eps))
    if len(eps) > 1:
        raise ValueError(f"read_gpt: the LayerNorms use different eps {sorted(eps)}; the manual path assumes one")
    return GPTParams(arrays, frozenset(trainable), int(cfg.n_layer), int(cfg.n_head), str(cfg.activation),
                     eps.pop() if eps else 1e-5, lora)


_gpt.read_gpt = read_gpt  # gpt_forward / gpt_backward read an nn.GPT with it
