"""The layers of a GPT, in the order data flows, composed only from engine primitives.

No layer here writes a backward: each forward is the formula in Tensor operations, and the engine
differentiates it. ``tinygrad_tx.manual`` derives the same gradients by hand, layer by layer.

Conventions (the paper's and GPT-2's): a sequence is a ``(T, d)`` matrix, one row per token; a
linear layer is ``y = x W + b`` with ``W`` of shape ``(in, out)``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import functional as F
from ..autograd import no_grad
from ..tensor import Tensor, _generator, get_default_dtype
from .fused import FusedCausalAttention, FusedCrossEntropy, FusedGELU, FusedLayerNorm
from .module import Module, ModuleList, Parameter

__all__ = [
    "Linear", "Embedding", "LayerNorm", "ReLU", "GELU", "Dropout", "CausalSelfAttention", "MLP",
    "Block", "GPTConfig", "GPT",
]


def _dtype(dtype: Any) -> np.dtype:
    return get_default_dtype() if dtype is None else np.dtype(dtype)


# -- argument checks: a clear error naming the module, the argument and the value ----------------------
def _kind(x: Any) -> str:
    """What ``x`` is, for an error message: "NoneType", "tuple of 2", "numpy.ndarray of shape (2, 3)"."""
    cls = type(x)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__.split('.')[0]}.{cls.__qualname__}"
    if isinstance(x, (tuple, list)):
        return f"{name} of {len(x)}"
    return f"{name} of shape {x.shape}" if isinstance(getattr(x, "shape", None), tuple) else name


def _size(who: str, name: str, value: Any, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (bool is refused: ``Linear(True, 3)`` is a mistake)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{who}: {name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise ValueError(f"{who}: {name} must be {bound}, got {value}")
    return int(value)


def _number(who: str, name: str, value: Any) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a real number, got {value!r} ({type(value).__name__})")
    return float(value)


def _real(who: str, name: str, value: Any, low: float, high: float, high_open: bool = False) -> float:
    """``value`` as a float in [low, high] (or [low, high) with ``high_open``); nan and non-numbers refused."""
    v = _number(who, name, value)
    if not (low <= v < high if high_open else low <= v <= high):
        interval = f"[{low:g}, {high:g}{')' if high_open else ']'}".replace("inf", "∞")
        raise ValueError(f"{who}: {name} must be in {interval}, got {value}")
    return v


def _finite(who: str, name: str, value: Any) -> float:
    """``value`` as a finite float (LoRA's alpha: any scale, but not inf or nan)."""
    v = _number(who, name, value)
    if not math.isfinite(v):
        raise ValueError(f"{who}: {name} must be finite, got {value}")
    return v


def _tensor_input(who: str, x: Any) -> Tensor:
    """The input of a layer's forward: a Tensor (as PyTorch's layers, a NumPy array or a tuple is refused)."""
    if isinstance(x, Tensor):
        return x
    hint = ""
    if isinstance(x, tuple):
        hint = " (a forward that returns several outputs gives a tuple: pass one of them)"
    elif x is None:
        hint = " (did the module before it return None?)"
    elif isinstance(x, (np.ndarray, list)):
        hint = " (wrap it: Tensor(x))"
    raise TypeError(f"{who}: expected a Tensor as input, got {_kind(x)}{hint}")


def _indices(who: str, idx: Any) -> np.ndarray:
    """Token ids as an integer array, from a Tensor, a NumPy array, an int or a (nested) list of ints.
    Anything else is refused, not converted: a tuple of Tensors would be stacked into one array and
    None would become an array of dtype object."""
    if isinstance(idx, Tensor):
        ids = idx.data
    elif isinstance(idx, (np.ndarray, np.integer, int)) or (isinstance(idx, (list, tuple)) and not _holds_tensor(idx)):
        try:
            ids = np.asarray(idx)
        except ValueError as e:  # a ragged list
            raise ValueError(f"{who}: indices must be a rectangular (nested) list of ints: {e}") from None
        if ids.size == 0 and isinstance(idx, (list, tuple)):
            ids = ids.astype(np.int64)  # [] has no dtype of its own
    else:
        raise TypeError(f"{who}: indices must be a Tensor, a NumPy array or a (nested) list of ints, got {_kind(idx)}")
    if ids.dtype.kind not in "iu":
        held = sorted({type(v).__name__ for v in ids.ravel()[:100]}) if ids.dtype == object else None
        got = f"a {type(idx).__name__} holding {', '.join(held)}" if held else f"dtype {ids.dtype}"
        raise TypeError(f"{who}: indices must be integers, got {got}")
    return ids


def _holds_tensor(seq: list | tuple) -> bool:
    return any(isinstance(v, Tensor) or (isinstance(v, (list, tuple)) and _holds_tensor(v)) for v in seq)


class Linear(Module):
    """y = x W + b, with W of shape (in_features, out_features).

    Initialised like PyTorch: W, b ~ U(-1/√in, 1/√in).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        in_features = _size("Linear", "in_features", in_features, minimum=0)
        out_features = _size("Linear", "out_features", out_features, minimum=0)
        self.in_features, self.out_features = in_features, out_features
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        rng, dt = _generator(), _dtype(dtype)
        self.weight = Parameter(rng.uniform(-bound, bound, (in_features, out_features)).astype(dt))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(dt)) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        x = _tensor_input(f"Linear({self.in_features}, {self.out_features})", x)
        if x.ndim == 0:  # as torch: "both arguments to linear need to be at least 1D"
            raise ValueError(f"Linear({self.in_features}, {self.out_features}): input is 0-d (shape ()), expected "
                             f"at least 1-d with {self.in_features} features in the last dimension")
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features}, {self.out_features}): input has {x.shape[-1]} features "
                f"(shape {x.shape}), expected {self.in_features}"
            )
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Embedding(Module):
    """Row lookup: out[..., :] = W[idx[...], :]. Its gradient scatter-adds rows (repeats accumulate)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype: Any = None) -> None:
        super().__init__()
        num_embeddings = _size("Embedding", "num_embeddings", num_embeddings, minimum=0)
        embedding_dim = _size("Embedding", "embedding_dim", embedding_dim, minimum=0)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(_generator().standard_normal((num_embeddings, embedding_dim)).astype(_dtype(dtype)))

    def forward(self, idx: Any) -> Tensor:
        ids = _indices("Embedding", idx)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise IndexError(f"Embedding: index {bad} is out of range for {self.num_embeddings} embeddings")
        return self.weight[ids]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class LayerNorm(Module):
    """Per row: (x - μ) / √(σ² + ε) ⊙ γ + β, population variance, ε inside the square root.

    As ``torch.nn.LayerNorm``: ``normalized_shape`` is the size of the last dimension, or a tuple
    of the last dimensions' sizes (normalised together); ``elementwise_affine=False`` has no γ, β;
    ``bias=False`` has γ only.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None, fused: bool = False) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        if not shape or not all(isinstance(n, (int, np.integer)) and n > 0 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be a positive int or a tuple of them, got "
                             f"{normalized_shape!r}")
        self.normalized_shape: tuple[int, ...] = tuple(int(n) for n in shape)
        self.ndim_ = math.prod(self.normalized_shape)  # the number of features normalised together
        eps = _real("LayerNorm", "eps", eps, 0.0, math.inf)
        self.eps, self.elementwise_affine, self.fused = eps, elementwise_affine, fused
        dt = _dtype(dtype)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=dt)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dt)) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        x = _tensor_input(f"LayerNorm({self.normalized_shape})", x)
        k = len(self.normalized_shape)
        if tuple(x.shape[-k:]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}): input of shape {x.shape} does not end with "
                f"{self.normalized_shape}, the shape it normalises over"
            )
        lead, n = x.shape[: x.ndim - k], self.ndim_
        if k > 1:  # normalise the last k dimensions together: flatten them into one
            x = x.reshape(*lead, n)
        gamma = None if self.weight is None else self.weight.reshape(n) if k > 1 else self.weight
        beta = None if self.bias is None else self.bias.reshape(n) if k > 1 else self.bias
        if self.fused:
            y = FusedLayerNorm.apply(x, gamma if gamma is not None else np.ones(n, x.dtype),
                                     beta if beta is not None else np.zeros(n, x.dtype), eps=self.eps)
        else:
            y = F.layer_norm(x, gamma, beta, self.eps)
        return y.reshape(*lead, *self.normalized_shape) if k > 1 else y

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    """max(x, 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return _tensor_input("ReLU", x).relu()


class GELU(Module):
    """x Φ(x); ``approximate='tanh'`` is GPT-2's form."""

    def __init__(self, approximate: str = "none", fused: bool = False) -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate, self.fused = approximate, fused

    def forward(self, x: Tensor) -> Tensor:
        x = _tensor_input("GELU", x)
        if self.fused:
            return FusedGELU.apply(x, approximate=self.approximate)
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Dropout(Module):
    """Zero elements with probability p in training mode and scale the rest by 1/(1 - p) (drawn
    from the seeded generator). As in PyTorch, p = 1 zeroes everything."""

    def __init__(self, p: float = 0.0) -> None:
        super().__init__()
        self.p = _real("Dropout", "p", p, 0.0, 1.0)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(_tensor_input(f"Dropout(p={self.p})", x), self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class CausalSelfAttention(Module):
    """Multi-head causal self-attention, with a fused q, k, v projection.

    ``[q k v] = x W_attn + b_attn``; per head h: ``ρ_h = softmax(q_h k_hᵀ / √d_h + M)`` with the
    additive causal mask M (-inf above the diagonal), ``y_h = ρ_h v_h``; heads concatenated, then
    ``y W_proj + b_proj``.
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = True, dtype: Any = None,
                 fused: bool = False) -> None:
        super().__init__()
        self.fused = fused  # the attention core (scores, mask, softmax, @ v) as one hand-derived op
        n_embd = _size("CausalSelfAttention", "n_embd", n_embd)
        n_head = _size("CausalSelfAttention", "n_head", n_head)
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd={n_embd} is not divisible by n_head={n_head}")
        self.n_embd, self.n_head = n_embd, n_head
        self.c_attn = Linear(n_embd, 3 * n_embd, bias=bias, dtype=dtype)
        self.c_proj = Linear(n_embd, n_embd, bias=bias, dtype=dtype)
        self.attn_dropout = Dropout(dropout)
        self.resid_dropout = Dropout(dropout)
        self.keep_attention = False  # set True to keep ρ (B, H, T, T) in self.attention after a forward
        self.attention: np.ndarray | None = None

    def forward(self, x: Tensor) -> Tensor:
        x = _tensor_input(f"CausalSelfAttention(n_embd={self.n_embd})", x)
        if x.ndim != 3 or x.shape[-1] != self.n_embd:
            hint = "; for one sequence (T, C) use x.unsqueeze(0)" if x.ndim == 2 else ""
            raise ValueError(
                f"CausalSelfAttention(n_embd={self.n_embd}): expects input of shape (batch, time, {self.n_embd}), "
                f"got {x.shape}{hint}"
            )
        B, T, C = x.shape
        H, d_h = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.reshape(B, T, H, d_h).transpose(1, 2)  # (B, H, T, d_h)
        k = k.reshape(B, T, H, d_h).transpose(1, 2)
        v = v.reshape(B, T, H, d_h).transpose(1, 2)
        if self.fused and not self.keep_attention and not (self.training and self.attn_dropout.p > 0):
            y = FusedCausalAttention.apply(q, k, v).transpose(1, 2).reshape(B, T, C)
            return self.resid_dropout(self.c_proj(y))
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d_h)) + F.causal_mask(T, x.dtype)
        rho = scores.softmax(-1)
        if self.keep_attention:
            self.attention = rho.data.copy()
        y = self.attn_dropout(rho) @ v  # (B, H, T, d_h)
        y = y.transpose(1, 2).reshape(B, T, C)  # heads side by side
        return self.resid_dropout(self.c_proj(y))

    def extra_repr(self) -> str:
        return f"n_head={self.n_head}"


class MLP(Module):
    """x W_fc + b_fc, activation, then W_proj back to d (hidden width 4d)."""

    def __init__(self, n_embd: int, dropout: float = 0.0, bias: bool = True, activation: str = "gelu_tanh",
                 dtype: Any = None, fused: bool = False) -> None:
        super().__init__()
        n_embd = _size("MLP", "n_embd", n_embd)
        self.c_fc = Linear(n_embd, 4 * n_embd, bias=bias, dtype=dtype)
        self.act = _activation(activation, fused)
        self.c_proj = Linear(4 * n_embd, n_embd, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


def _activation(name: str, fused: bool = False) -> Module:
    if name == "gelu":
        return GELU("none", fused)
    if name == "gelu_tanh":
        return GELU("tanh", fused)
    if name == "relu":
        return ReLU()
    raise ValueError(f"unknown activation {name!r}: use 'gelu', 'gelu_tanh' or 'relu'")


class Block(Module):
    """A pre-LayerNorm transformer block: x + attn(LN₁(x)), then x + mlp(LN₂(x))."""

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = True,
                 activation: str = "gelu_tanh", dtype: Any = None, fused: bool = False) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=bias, dtype=dtype, fused=fused)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias, dtype, fused)
        self.ln_2 = LayerNorm(n_embd, bias=bias, dtype=dtype, fused=fused)
        self.mlp = MLP(n_embd, dropout, bias, activation, dtype, fused)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


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
    fused: bool = False  # LayerNorm, GELU, attention core and loss as hand-derived ops (first-order only)

    def __post_init__(self) -> None:
        """Every field is checked (and normalised: ints, floats, a tuple of names), so that a bad value is
        an error naming the field here, not a wrong model or a NumPy error later."""
        who = "GPTConfig"
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            setattr(self, name, _size(who, name, getattr(self, name)))
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd={self.n_embd} is not divisible by n_head={self.n_head}")
        self.dropout = _real(who, "dropout", self.dropout, 0.0, 1.0, high_open=True)
        for name in ("bias", "fused"):
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
    ``lm_head.weight`` (d, vocab)), so weights move to and from PyTorch (see ``nn.torch_io``).
    """

    def __init__(self, config: GPTConfig, dtype: Any = None) -> None:
        super().__init__()
        self.config = config
        c, dt = config, _dtype(dtype)
        self.wte = Embedding(c.vocab_size, c.n_embd, dtype=dt)
        self.wpe = Embedding(c.block_size, c.n_embd, dtype=dt)
        self.drop = Dropout(c.dropout)
        self.h = ModuleList(Block(c.n_embd, c.n_head, c.dropout, c.bias, c.activation, dt, c.fused)
                            for _ in range(c.n_layer))
        self.ln_f = LayerNorm(c.n_embd, bias=c.bias, dtype=dt, fused=c.fused)
        self.lm_head = Linear(c.n_embd, c.vocab_size, bias=False, dtype=dt)
        self._init_weights()
        if c.lora_rank > 0:
            from .lora import apply_lora

            apply_lora(self, c.lora_targets, c.lora_rank, c.lora_alpha)

    def _init_weights(self) -> None:
        """GPT-2's initialisation: N(0, 0.02) weights, zero biases, residual projections scaled by
        1/√(2 n_layer)."""
        rng = _generator()
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                p.data = np.zeros(p.shape, p.dtype)
            elif ".ln_" in f".{name}":
                p.data = np.ones(p.shape, p.dtype)
            else:
                std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj.weight") else 0.02
                p.data = (rng.standard_normal(p.shape) * std).astype(p.dtype)

    def forward(self, idx: Any, targets: Any = None) -> tuple[Tensor, Tensor | None]:
        """``idx`` (B, T) token ids -> logits (B, T, vocab) and, with ``targets`` (B, T), the mean
        cross-entropy."""
        ids = _indices("GPT", idx)
        if ids.ndim != 2:
            raise ValueError(f"GPT: idx must have shape (batch, time), got {ids.shape}")
        B, T = ids.shape
        if T > self.config.block_size:
            raise ValueError(f"GPT: sequence length {T} exceeds block_size {self.config.block_size}")
        x = self.drop(self.wte(ids) + self.wpe(np.arange(T)))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        if targets is None:
            return logits, None
        t = _indices("GPT targets", targets)
        if t.shape != (B, T):
            raise ValueError(f"GPT: targets must have the shape of idx {ids.shape}, got {t.shape}")
        if self.config.fused:
            loss = FusedCrossEntropy.apply(logits.reshape(B * T, -1), targets=t.reshape(-1))
        else:
            loss = F.cross_entropy(logits.reshape(B * T, -1), t.reshape(-1))
        return logits, loss

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
                last = logits.data[:, -1, :].astype(np.float64)
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
