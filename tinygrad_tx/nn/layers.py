"""The layers of a GPT, in the order data flows, composed only from engine primitives.

No layer here writes a backward: each forward is the formula in Tensor operations, and the engine
differentiates it. ``tinygrad_tx.manual`` derives the same gradients by hand, layer by layer: open
``manual/layers.py`` and ``manual/attention.py`` beside this file. Both use the symbols of the paper
(L. Boué, arXiv:2512.23329): a layer maps its input ``a_prev`` to ``a``; a sequence is a ``(T, d)``
matrix, one row per token.

Two linear layers, as in PyTorch and HF transformers' GPT-2:

- `Linear` is ``torch.nn.Linear``: weight ``(out, in)``, ``a = a_prev Wᵀ + b``, so PyTorch code and state
  dicts work unchanged (and a tied ``lm_head.weight = wte.weight`` has the embedding's shape);
- `Conv1D` is GPT-2's: weight ``(in, out)``, ``a = a_prev w + b``, the paper's layout, which the GPT's
  projections (``c_attn``, ``c_proj``, ``c_fc``, ``lm_head``) and the hand derivations use.

Each layer's docstring states its formula; the functional forms, as PyTorch's ``F.layer_norm`` etc.,
are in ``nn/functional.py``.

``tap(name, ...)`` marks the named points of a forward (``nn/tap.py``): it returns its argument.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from . import init
from ._checks import _dtype, _indices, _real, _size, _tensor_input
from .module import Module, Parameter
from .tap import tap

__all__ = ["Linear", "Conv1D", "Embedding", "LayerNorm", "ReLU", "GELU", "Dropout", "CausalSelfAttention", "MLP",
           "Block"]


def _linear_bound(fan_in: int) -> float:
    """``torch.nn.Linear``'s bound: ``kaiming_uniform_(w, a=√5)`` is U(-1/√fan_in, 1/√fan_in) (see ``nn.init``);
    its bias takes the same bound. (0 for a layer with no inputs, as torch's bias.)"""
    return 1.0 / math.sqrt(fan_in) if fan_in else 0.0


def _check_features(who: str, a_prev: Any, in_features: int) -> Tensor:
    a_prev = _tensor_input(who, a_prev)
    if a_prev.ndim == 0:  # as torch: "both arguments to linear need to be at least 1D"
        raise ValueError(f"{who}: input is 0-d (shape ()), expected at least 1-d with {in_features} features in "
                         f"the last dimension")
    if a_prev.shape[-1] != in_features:
        raise ValueError(f"{who}: input has {a_prev.shape[-1]} features (shape {a_prev.shape}), expected {in_features}")
    return a_prev


class Linear(Module):
    """``torch.nn.Linear``: ``a = a_prev Wᵀ + b``, with ``W`` of shape (out_features, in_features) and ``b``
    of shape (out_features,), so a PyTorch ``nn.Linear`` state dict loads as it is.

    Initialised as PyTorch's: ``W``, then ``b``, ~ U(-1/√in, 1/√in), drawn in row-major order of ``W`` (out, in).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        in_features = _size("Linear", "in_features", in_features, minimum=0)
        out_features = _size("Linear", "out_features", out_features, minimum=0)
        self.in_features, self.out_features = in_features, out_features
        dt = _dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        self.bias = Parameter(np.empty(out_features, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's ``kaiming_uniform_(W, a=√5)``, whose bound is 1/√fan_in (see ``nn.init``), and the
        same bound for ``b``."""
        bound = _linear_bound(self.in_features)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, a_prev: Tensor) -> Tensor:
        a_prev = _check_features(f"Linear({self.in_features}, {self.out_features})", a_prev, self.in_features)
        a = a_prev @ self.weight.T  # (…, in) (in, out): Wᵀ is a view, its VJP transposes the gradient back
        return a + self.bias if self.bias is not None else a

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Conv1D(Module):
    """GPT-2's ``Conv1D`` (HF transformers' ``pytorch_utils.Conv1D``): a linear layer with its weight
    stored the other way round, ``a = a_prev w + b`` with ``w`` of shape (nx, nf) = (in, out)
    (``manual.linear_forward``). The arguments are HF's, output size first: ``Conv1D(nf, nx)``;
    ``bias=False`` (which HF's lacks) leaves ``b`` out.

    Initialised by nn.Linear's rule (``w``, then ``b``, ~ U(-1/√nx, 1/√nx), in row-major order of ``w``),
    which ``GPT`` then replaces by GPT-2's N(0, 0.02) and zero bias (HF's Conv1D starts from those).
    """

    def __init__(self, nf: int, nx: int, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        self.nf = _size("Conv1D", "nf", nf, minimum=0)
        self.nx = _size("Conv1D", "nx", nx, minimum=0)
        dt = _dtype(dtype)
        self.weight = Parameter(np.empty((self.nx, self.nf), dtype=dt))
        self.bias = Parameter(np.empty(self.nf, dtype=dt)) if bias else None
        self.reset_parameters()

    @property
    def in_features(self) -> int:
        """``nx``, the size of the input's last dimension."""
        return self.nx

    @property
    def out_features(self) -> int:
        """``nf``, the size of the output's last dimension."""
        return self.nf

    def reset_parameters(self) -> None:
        """``w`` and ``b`` ~ U(-1/√nx, 1/√nx), nn.Linear's bound for the same layer."""
        bound = _linear_bound(self.nx)
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, a_prev: Tensor) -> Tensor:
        a_prev = _check_features(f"Conv1D(nf={self.nf}, nx={self.nx})", a_prev, self.nx)
        a = a_prev @ self.weight
        return a + self.bias if self.bias is not None else a

    def extra_repr(self) -> str:
        return f"nf={self.nf}, nx={self.nx}" + ("" if self.bias is not None else ", bias=False")


class Embedding(Module):
    """Row lookup ``a = w[idx]`` (``manual.embedding_forward``), equivalently ``onehot(idx) w``. Its gradient
    scatter-adds rows (repeats accumulate). Initialised as PyTorch's: ``w`` ~ N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, dtype: Any = None) -> None:
        super().__init__()
        num_embeddings = _size("Embedding", "num_embeddings", num_embeddings, minimum=0)
        embedding_dim = _size("Embedding", "embedding_dim", embedding_dim, minimum=0)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), dtype=_dtype(dtype)))
        init.normal_(self.weight)

    def forward(self, idx: Any) -> Tensor:
        ids = _indices("Embedding", idx)
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_embeddings):
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise IndexError(f"Embedding: index {bad} is out of range for {self.num_embeddings} embeddings")
        return self.weight[ids]

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


class LayerNorm(Module):
    """Per row (``manual.layernorm_forward``), with the population variance and ε inside the root::

        μ = mean(a_prev),   σ = √(mean((a_prev − μ)²) + ε),   â = (a_prev − μ) / σ,   a = â ∘ γ + β

    As ``torch.nn.LayerNorm``: ``normalized_shape`` is the size of the last dimension, or a tuple
    of the last dimensions' sizes (normalised together); ``elementwise_affine=False`` has no γ, β;
    ``bias=False`` has γ only. γ is ``weight``, β is ``bias``.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        if not shape or not all(isinstance(n, (int, np.integer)) and n > 0 for n in shape):
            raise ValueError(f"LayerNorm: normalized_shape must be a positive int or a tuple of them, got "
                             f"{normalized_shape!r}")
        self.normalized_shape: tuple[int, ...] = tuple(int(n) for n in shape)
        eps = _real("LayerNorm", "eps", eps, 0.0, math.inf)
        self.eps, self.elementwise_affine = eps, elementwise_affine
        dt = _dtype(dtype)
        self.weight = Parameter(np.empty(self.normalized_shape, dtype=dt)) if elementwise_affine else None
        self.bias = Parameter(np.empty(self.normalized_shape, dtype=dt)) if elementwise_affine and bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """γ = 1, β = 0: the layer starts as the plain normalisation."""
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, a_prev: Tensor) -> Tensor:
        a_prev = _tensor_input(f"LayerNorm({self.normalized_shape})", a_prev)
        k = len(self.normalized_shape)
        if tuple(a_prev.shape[-k:]) != self.normalized_shape:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}): input of shape {a_prev.shape} does not end with "
                f"{self.normalized_shape}, the shape it normalises over"
            )
        if k == 1:
            return self.normalize(a_prev, self.weight, self.bias)
        lead, n = a_prev.shape[: a_prev.ndim - k], math.prod(self.normalized_shape)
        gamma = None if self.weight is None else self.weight.reshape(n)  # the last k dims as one row
        beta = None if self.bias is None else self.bias.reshape(n)
        return self.normalize(a_prev.reshape(*lead, n), gamma, beta).reshape(*lead, *self.normalized_shape)

    def normalize(self, a_prev: Tensor, gamma: Tensor | None, beta: Tensor | None) -> Tensor:
        """The formula over the last dimension: ``F.layer_norm``."""
        return F.layer_norm(a_prev, a_prev.shape[-1:], gamma, beta, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
                f"bias={self.bias is not None}")


class ReLU(Module):
    """``a = max(a_prev, 0)`` (``manual.relu_forward``)."""

    def forward(self, a_prev: Tensor) -> Tensor:
        return _tensor_input("ReLU", a_prev).relu()


class GELU(Module):
    """``a = a_prev Φ(a_prev)`` (``manual.gelu_forward``): exact, ``Φ(x) = ½ (1 + erf(x/√2))``, or with
    ``approximate='tanh'`` (GPT-2's form) ``Φ(x) ≈ ½ (1 + tanh(√(2/π) (x + 0.044715 x³)))``."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, a_prev: Tensor) -> Tensor:
        return F.gelu(_tensor_input("GELU", a_prev), self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Dropout(Module):
    """Zero elements with probability p in training mode and scale the rest by 1/(1 - p) (drawn
    from the seeded generator); the input itself in eval mode. As in PyTorch, p = 1 zeroes everything,
    the default p is 0.5, and ``inplace=True`` writes the result into the input (`F.dropout`)."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        _real("Dropout", "p", p, 0.0, 1.0)
        self.p = p  # as given, as PyTorch keeps it (its repr shows Dropout(p=1, ...))
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(_tensor_input(f"Dropout(p={self.p})", x), self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class CausalSelfAttention(Module):
    """Multi-head causal self-attention (``manual.causal_self_attention_forward``)::

        [q k v] = a_prev w_attn + b_attn                       c_attn (a Conv1D): one projection for all three
        per head h (width d_h = d / n_head, all heads at once):
            S = q kᵀ / √d_h + M                                 M: −∞ above the diagonal, added
            ρ = softmax(S)   (row by row),   heads = ρ v
        y = the heads side by side,   a = y w_proj + b_proj    c_proj (a Conv1D)

    The tapped points are ``c_attn.out``, ``q``, ``k``, ``v`` (B, H, T, d_h), ``scores`` (q kᵀ / √d_h), ``S``
    (also tapped ``mask``: the scores with M added), ``rho`` (also ``softmax``), ``heads`` (also ``weighted
    sum``: ρ v), all (B, H, T, T) but q, k, v and heads, and ``y`` (B, T, d). The second names are the
    steps' names in words, which a drawing of the graph shows (``viz.draw``); ``manual.compare`` reads S,
    rho and heads.
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = True, dtype: Any = None) -> None:
        super().__init__()
        n_embd = _size("CausalSelfAttention", "n_embd", n_embd)
        n_head = _size("CausalSelfAttention", "n_head", n_head)
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd={n_embd} is not divisible by n_head={n_head}")
        self.n_embd, self.n_head = n_embd, n_head
        self.c_attn = Conv1D(3 * n_embd, n_embd, bias=bias, dtype=dtype)
        self.c_proj = Conv1D(n_embd, n_embd, bias=bias, dtype=dtype)
        self.attn_dropout = Dropout(dropout)
        self.resid_dropout = Dropout(dropout)
        self.keep_attention = False  # set True to keep ρ (B, H, T, T) in self.attention after a forward
        self.attention: np.ndarray | None = None

    def forward(self, a_prev: Tensor) -> Tensor:
        a_prev = _tensor_input(f"CausalSelfAttention(n_embd={self.n_embd})", a_prev)
        if a_prev.ndim != 3 or a_prev.shape[-1] != self.n_embd:
            hint = "; for one sequence (T, C) use x.unsqueeze(0)" if a_prev.ndim == 2 else ""
            raise ValueError(
                f"CausalSelfAttention(n_embd={self.n_embd}): expects input of shape (batch, time, {self.n_embd}), "
                f"got {a_prev.shape}{hint}"
            )
        B, T, C = a_prev.shape
        H, d_h = self.n_head, C // self.n_head
        q, k, v = tap("c_attn.out", self.c_attn(a_prev)).split(C, dim=2)
        q = tap("q", q.reshape(B, T, H, d_h).transpose(1, 2))  # (B, H, T, d_h)
        k = tap("k", k.reshape(B, T, H, d_h).transpose(1, 2))
        v = tap("v", v.reshape(B, T, H, d_h).transpose(1, 2))
        heads = tap("heads", self.causal_attention(q, k, v))  # (B, H, T, d_h)
        y = tap("y", heads.transpose(1, 2).reshape(B, T, C))  # the heads side by side
        return self.resid_dropout(self.c_proj(y))

    def causal_attention(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        """Every head at once: ``ρ v`` with ``ρ = softmax(q kᵀ / √d_h + M)`` (``manual.causal_attention_forward``)."""
        T, d_h = q.shape[-2], q.shape[-1]
        scores = tap("scores", (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d_h)))
        S = tap("S", tap("mask", scores + F.causal_mask(T, q.dtype)))
        rho = tap("rho", tap("softmax", S.softmax(-1)))
        if self.keep_attention:
            self.attention = rho.detach().numpy().copy()
        return tap("weighted sum", self.attn_dropout(rho) @ v)

    def extra_repr(self) -> str:
        return f"n_head={self.n_head}"


class MLP(Module):
    """``h = a_prev w_fc + b_fc`` (d -> 4d), ``g = act(h)``, ``a = g w_proj + b_proj`` (4d -> d), both
    `Conv1D` (``manual.mlp_forward``). Tapped: ``c_fc.out`` (h) and ``act.out`` (g)."""

    def __init__(self, n_embd: int, dropout: float = 0.0, bias: bool = True, activation: str = "gelu_tanh",
                 dtype: Any = None) -> None:
        super().__init__()
        n_embd = _size("MLP", "n_embd", n_embd)
        self.c_fc = Conv1D(4 * n_embd, n_embd, bias=bias, dtype=dtype)
        self.act = _activation(activation)
        self.c_proj = Conv1D(n_embd, 4 * n_embd, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)

    def forward(self, a_prev: Tensor) -> Tensor:
        h = tap("c_fc.out", self.c_fc(a_prev))
        g = tap("act.out", self.act(h))
        return self.dropout(self.c_proj(g))


def _activation(name: str) -> Module:
    if name == "gelu":
        return GELU("none")
    if name == "gelu_tanh":
        return GELU("tanh")
    if name == "relu":
        return ReLU()
    raise ValueError(f"unknown activation {name!r}: use 'gelu', 'gelu_tanh' or 'relu'")


class Block(Module):
    """A pre-LayerNorm transformer block (``manual.block_forward``)::

        a = LN₁(x),   x = x + attn(a),   a = LN₂(x),   x = x + mlp(a)

    Every step is tapped, by the names of ``manual.delta_names``.
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0, bias: bool = True,
                 activation: str = "gelu_tanh", dtype: Any = None) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=bias, dtype=dtype)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias, dtype)
        self.ln_2 = LayerNorm(n_embd, bias=bias, dtype=dtype)
        self.mlp = MLP(n_embd, dropout, bias, activation, dtype)

    def forward(self, x: Tensor) -> Tensor:
        a = tap("ln_1.out", self.ln_1(x))
        x = tap("res_1.out", x + tap("attn.out", self.attn(a)))
        a = tap("ln_2.out", self.ln_2(x))
        return tap("res_2.out", x + tap("mlp.out", self.mlp(a)))
