"""Reading an ``nn.GPT`` for the manual path: its weights as arrays, which are trainable, its config,
its LoRA layers and its LayerNorms' ε. The layers are recognised by their classes (``nn.LoRAConv1D``,
``nn.LayerNorm``); the manual layers themselves (``layers``, ``attention``, ``gpt``) stay plain NumPy.
The hand derivations use GPT-2's layout, ``a = a_prev w + b`` with ``w`` (in, out): an ``nn.Conv1D``. A GPT
holding an ``nn.Linear`` (weight (out, in), ``a_prev Wᵀ + b``) is refused rather than read the wrong way round.
"""

from __future__ import annotations

from .. import nn
from . import gpt as _gpt
from .gpt import GPTParams

__all__ = ["read_gpt"]

_PROJECTIONS = (".attn.c_attn", ".attn.c_proj", ".mlp.c_fc", ".mlp.c_proj")  # and lm_head: what the manual path reads


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
        if isinstance(m, nn.Linear) and (name == "lm_head" or name.endswith(_PROJECTIONS)):
            raise ValueError(f"read_gpt: {name} is an nn.{type(m).__name__}, weight (out, in) and a_prev Wᵀ + b; the "
                             f"manual path is GPT-2's layout, an nn.Conv1D (weight (in, out), a_prev w + b)")
        if isinstance(m, nn.LoRAConv1D):
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
