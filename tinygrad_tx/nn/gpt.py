"""The GPT: its configuration and the model, built from the layers (``nn/layers.py``) and, when the
config asks for it, LoRA (``nn/lora.py``). ``manual/gpt.py`` is the same model by hand.

Conventions (the paper's and GPT-2's): a sequence is a ``(T, d)`` matrix, one row per token; every
projection is GPT-2's ``Conv1D``, ``a = a_prev w + b`` with ``w`` of shape ``(in, out)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor
from ..utils.checkpoint import checkpoint
from . import functional as F
from . import init
from ._checks import _dtype, _finite, _indices, _real, _size
from .layers import Block, Conv1D, Dropout, Embedding, LayerNorm, _activation
from .lora import apply_lora
from .module import Module, ModuleList
from .tap import recording, tap

__all__ = ["GPTConfig", "GPT"]


@dataclass
class GPTConfig:
    """The shape of a GPT. ``lora_rank > 0`` wraps the ``lora_targets`` layers with LoRA."""

    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    bias: bool = True
    activation: str = "gelu_tanh"
    lora_rank: int = 0
    lora_alpha: float = 1.0
    lora_targets: tuple[str, ...] = ("c_attn", "c_proj")
    # True: the LayerNorms, GELUs, attention cores and the loss are manual's hand-derived ops (first-order
    # only). nn builds the composed layers only; ``tinygrad_tx.manual.fuse`` swaps the ops in and sets
    # this, and ``manual.build_gpt(config)`` builds a model from a config that has it.
    fused: bool = False
    # True: each block is checkpointed while grad is on (``utils.checkpoint``): its activations are recomputed in the
    # backward pass instead of kept, for less memory and one more forward of the blocks; the numbers are the same.
    checkpoint: bool = False

    def __post_init__(self) -> None:
        """Every field is checked (and normalised: ints, floats, a tuple of names), so that a bad value is
        an error naming the field here, not a wrong model or a NumPy error later."""
        who = "GPTConfig"
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            setattr(self, name, _size(who, name, getattr(self, name)))
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd={self.n_embd} is not divisible by n_head={self.n_head}")
        self.dropout = _real(who, "dropout", self.dropout, 0.0, 1.0, high_open=True)
        for name in ("bias", "fused", "checkpoint"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"GPTConfig: {name} must be True or False, got {getattr(self, name)!r}")
            setattr(self, name, bool(getattr(self, name)))
        if not isinstance(self.activation, str):
            raise TypeError(f"GPTConfig: activation must be a str, got {self.activation!r}")
        _activation(self.activation)
        self.lora_rank = _size(who, "lora_rank", self.lora_rank, minimum=0)  # 0: no LoRA
        self.lora_alpha = _finite(who, "lora_alpha", self.lora_alpha)
        targets = self.lora_targets
        targets = (targets,) if isinstance(targets, str) else tuple(targets)  # "c_attn" is one name, not 6
        if not all(isinstance(t, str) and t for t in targets):
            raise TypeError(f"GPTConfig: lora_targets must be layer names (non-empty strs), got {self.lora_targets!r}")
        if self.lora_rank > 0 and not targets:
            raise ValueError(f"GPTConfig: lora_rank={self.lora_rank} needs at least one name in lora_targets")
        self.lora_targets = targets


class GPT(Module):
    """A GPT-like next-token model: token + position embeddings, n_layer blocks, final LN, logits.

    Parameter names and shapes follow GPT-2 (``wte.weight``, ``h.0.attn.c_attn.weight`` (d, 3d), ...,
    ``lm_head.weight`` (d, vocab)): every projection, ``lm_head`` too, is a `Conv1D` (in, out), so
    ``lm_head`` is not tied to ``wte`` (whose weight is (vocab, d)). Weights move to and from a
    nanoGPT-style PyTorch model, whose ``nn.Linear`` weights are (out, in), with ``nn.torch_io``.
    """

    def __init__(self, config: GPTConfig, dtype: Any = None) -> None:
        super().__init__()
        if config.fused:
            raise ValueError("GPT: GPTConfig(fused=True) is a model whose ops tinygrad_tx.manual swaps in; nn builds "
                             "the composed layers only (it does not import manual). Build it with "
                             "tinygrad_tx.manual.build_gpt(config), or call tinygrad_tx.manual.fuse(model) on a GPT "
                             "built with fused=False")
        self.config = config
        c, dt = config, _dtype(dtype)
        self.wte = Embedding(c.vocab_size, c.n_embd, dtype=dt)
        self.wpe = Embedding(c.block_size, c.n_embd, dtype=dt)
        self.drop = Dropout(c.dropout)
        self.h = ModuleList(Block(c.n_embd, c.n_head, c.dropout, c.bias, c.activation, dt) for _ in range(c.n_layer))
        self.ln_f = LayerNorm(c.n_embd, bias=c.bias, dtype=dt)
        self.lm_head = Conv1D(c.vocab_size, c.n_embd, bias=False, dtype=dt)
        self._init_weights()
        if c.lora_rank > 0:
            apply_lora(self, c.lora_targets, c.lora_rank, c.lora_alpha)

    def _init_weights(self) -> None:
        """GPT-2's initialisation: N(0, 0.02) weights, zero biases, unit LayerNorm weights, and the residual
        projections' weights N(0, 0.02 / √(2 n_layer))."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                init.zeros_(p)
            elif ".ln_" in f".{name}":
                init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj.weight") else 0.02
                init.normal_(p, 0.0, std)

    def forward(self, idx: Any, targets: Any = None) -> tuple[Tensor, Tensor | None]:
        """``idx`` (B, T) token ids -> logits (B, T, vocab) and, with ``targets`` (B, T), the mean
        cross-entropy (``manual.gpt_forward``)::

            x = w_tok[idx] + w_pos[0..T-1]                emb.out
            x = block(x), for every block                 (``Block``)
            logits = LN_f(x) w_head                       ln_f.out, logits

        With ``config.checkpoint`` each ``block(x)`` is ``checkpoint(block, x)``: only the blocks' inputs are
        kept for backward, and each block's forward runs again in the backward pass (the same numbers). Not
        while ``nn.record`` records (``manual.compare``): the taps inside the blocks need their graph.
        """
        ids = _indices("GPT", idx)
        if ids.ndim != 2:
            raise ValueError(f"GPT: idx must have shape (batch, time), got {ids.shape}")
        B, T = ids.shape
        if T > self.config.block_size:
            raise ValueError(f"GPT: sequence length {T} exceeds block_size {self.config.block_size}")
        x = tap("emb.out", self.drop(self.wte(ids) + self.wpe(np.arange(T))))
        checkpointed = self.config.checkpoint and not recording()
        for block in self.h:
            x = checkpoint(block, x, use_reentrant=False) if checkpointed else block(x)
        logits = tap("logits", self.lm_head(tap("ln_f.out", self.ln_f(x))))
        if targets is None:
            return logits, None
        t = _indices("GPT targets", targets)
        if t.shape != (B, T):
            raise ValueError(f"GPT: targets must have the shape of idx {ids.shape}, got {t.shape}")
        return logits, self.cross_entropy(logits.reshape(B * T, -1), t.reshape(-1))

    def cross_entropy(self, logits: Tensor, targets: np.ndarray) -> Tensor:
        """The loss: the mean over the ``N = B T`` rows of ``−log softmax(logits)[target]`` (``F.cross_entropy``;
        ``manual.softmax_cross_entropy_forward``)."""
        return F.cross_entropy(logits, targets)

    @no_grad()
    def generate(self, idx: Any, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 seed: int | None = None) -> np.ndarray:
        """Append ``max_new_tokens`` sampled tokens to ``idx`` (B, T) or (T,). ``temperature=0`` is greedy;
        ``top_k`` keeps the k likeliest tokens; ``seed`` makes sampling deterministic."""
        if isinstance(max_new_tokens, (bool, np.bool_)) or not isinstance(max_new_tokens, (int, np.integer)):
            raise TypeError(f"generate: max_new_tokens must be an int, got {max_new_tokens!r}")
        if max_new_tokens < 0:
            raise ValueError(f"generate: max_new_tokens must be >= 0, got {max_new_tokens}")
        temperature = _real("generate", "temperature", temperature, 0.0, math.inf, high_open=True)
        if top_k is not None:
            top_k = _size("generate", "top_k", top_k)
        ids = _indices("generate", idx)
        if ids.ndim == 1:
            ids = ids[None, :]
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise ValueError(f"generate: idx must be token ids of shape (batch, time) or (time,) with time >= 1, "
                             f"got shape {np.shape(ids)}")
        if ids.min() < 0 or ids.max() >= self.config.vocab_size:
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise IndexError(f"generate: token id {bad} in idx is out of range for vocab_size {self.config.vocab_size}")
        rng = np.random.default_rng(seed)
        out = ids.astype(np.int64)
        was_training = self.training
        self.eval()
        try:
            for step in range(max_new_tokens):
                context = out[:, -self.config.block_size :]
                logits, _ = self(context)
                last = logits.detach().numpy()[:, -1, :].astype(np.float64)
                top = last.max(-1, keepdims=True)
                if np.isnan(last).any() or not np.isfinite(top).all():
                    raise RuntimeError(f"generate: the logits for new token {step} are nan or infinite "
                                       f"(the model's weights may have diverged); nothing to sample from")
                if temperature == 0:
                    nxt = last.argmax(-1)
                else:
                    # shifted before scaling (softmax does not change): (l - max) / T is <= 0, so a tiny T
                    # gives -inf and 0 probabilities, not inf - inf = nan
                    with np.errstate(over="ignore"):
                        last = (last - top) / temperature
                    if top_k is not None and top_k < last.shape[-1]:
                        kth = np.sort(last, axis=-1)[:, -top_k][:, None]
                        last = np.where(last < kth, -np.inf, last)
                    p = np.exp(last)
                    p /= p.sum(-1, keepdims=True)
                    nxt = np.array([rng.choice(p.shape[-1], p=row) for row in p])
                out = np.concatenate([out, nxt[:, None]], axis=1)
        finally:
            self.train(was_training)
        return out

    def extra_repr(self) -> str:
        return ""
