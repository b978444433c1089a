"""The same GPT in PyTorch (nanoGPT-style, tinygrad_tx's parameter names): the oracle for the tests and
the "same recipe in PyTorch" run of ``train``. Importing this module imports torch; nothing else in
tinygrad_tx imports it.

Its projections are ``nn.Linear`` (weight (out, in)), where ``nn.GPT`` has GPT-2's ``Conv1D`` (in, out):
``nn.to_torch_state_dict`` transposes those weights (and only those) on the way."""

from __future__ import annotations

import math

import torch
import torch.nn as tnn
import torch.nn.functional as TF


class TorchLoRALinear(tnn.Linear):
    """``nn.LoRAConv1D``'s counterpart: ``x Wᵀ + b + s (x A) B`` with A (in, r), B (r, out), as ours."""

    def __init__(self, fin: int, fout: int, bias: bool, rank: int, alpha: float) -> None:
        super().__init__(fin, fout, bias=bias)
        self.lora_A = tnn.Parameter(torch.zeros(fin, rank))
        self.lora_B = tnn.Parameter(torch.zeros(rank, fout))
        self.scaling = alpha / rank

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) + (x @ self.lora_A @ self.lora_B) * self.scaling


def make_linear(fin: int, fout: int, bias: bool, name: str, cfg) -> tnn.Linear:
    targets = tuple(cfg.lora_targets)
    if cfg.lora_rank > 0 and any(name == t or name.endswith("." + t) for t in targets):
        return TorchLoRALinear(fin, fout, bias, cfg.lora_rank, cfg.lora_alpha)
    return tnn.Linear(fin, fout, bias=bias)


class TorchAttention(tnn.Module):
    def __init__(self, cfg, prefix: str) -> None:
        super().__init__()
        d = cfg.n_embd
        self.n_head = cfg.n_head
        self.c_attn = make_linear(d, 3 * d, cfg.bias, prefix + ".c_attn", cfg)
        self.c_proj = make_linear(d, d, cfg.bias, prefix + ".c_proj", cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        H = self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, H, C // H).transpose(1, 2)
        k = k.view(B, T, H, C // H).transpose(1, 2)
        v = v.view(B, T, H, C // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class TorchMLP(tnn.Module):
    def __init__(self, cfg, prefix: str) -> None:
        super().__init__()
        d = cfg.n_embd
        self.c_fc = make_linear(d, 4 * d, cfg.bias, prefix + ".c_fc", cfg)
        self.c_proj = make_linear(4 * d, d, cfg.bias, prefix + ".c_proj", cfg)
        self.activation = cfg.activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.c_fc(x)
        if self.activation == "relu":
            h = TF.relu(h)
        else:
            h = TF.gelu(h, approximate="tanh" if self.activation == "gelu_tanh" else "none")
        return self.c_proj(h)


class TorchBlock(tnn.Module):
    def __init__(self, cfg, prefix: str) -> None:
        super().__init__()
        self.ln_1 = tnn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = TorchAttention(cfg, prefix + ".attn")
        self.ln_2 = tnn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = TorchMLP(cfg, prefix + ".mlp")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TorchGPT(tnn.Module):
    def __init__(self, cfg) -> None:
        super().__init__()
        self.wte = tnn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = tnn.Embedding(cfg.block_size, cfg.n_embd)
        self.h = tnn.ModuleList(TorchBlock(cfg, f"h.{i}") for i in range(cfg.n_layer))
        self.ln_f = tnn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = make_linear(cfg.n_embd, cfg.vocab_size, False, "lm_head", cfg)  # LoRA too if targeted

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None):
        B, T = idx.shape
        x = self.wte(idx) + self.wpe(torch.arange(T))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        loss = None if targets is None else TF.cross_entropy(logits.view(B * T, -1), targets.view(-1))
        return logits, loss


def copy_to_torch(model, torch_model) -> None:
    """Copy tinygrad_tx weights into the torch model (the Conv1D weights transposed to nn.Linear's)."""
    from tinygrad_tx.nn import to_torch_state_dict

    missing, unexpected = torch_model.load_state_dict(to_torch_state_dict(model), strict=True)
    assert not missing and not unexpected
