"""Pictures beyond the graph, with matplotlib: how gradients flow through the layers, and where
attention looks.

- `gradient_flow`: the norm of every parameter's gradient, in the order data flows, coloured by layer
  (``wte``, ``h.0``, ``h.1``, ..., ``lm_head``), on a log scale. Vanishing or exploding gradients show
  up as a slope across the layers; a parameter that received no gradient is marked.
- `attention_heatmap` / `attention_heads`: the attention weights ρ = softmax(q kᵀ/√d + M) of one layer,
  one head or all of them, as a (query × key) heatmap. ``CausalSelfAttention`` keeps ρ after a forward
  pass when its ``keep_attention`` is True (`keep_attention` sets it on every layer of a model).

matplotlib is an optional dependency (``pip install matplotlib``); it is imported when a plot is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["gradient_flow", "attention_heatmap", "attention_heads", "keep_attention", "layer_of"]


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as e:
        raise ImportError(
            "tinygrad_tx.viz.plots needs matplotlib, which is not installed: pip install matplotlib "
            "(or pip install 'tinygrad-tx[train]')"
        ) from e
    return plt


def layer_of(name: str) -> str:
    """The layer a parameter belongs to, for grouping: ``h.0.attn.c_attn.weight`` -> ``h.0``,
    ``wte.weight`` -> ``wte``, ``weight`` -> ``weight``."""
    parts = name.split(".")
    if len(parts) >= 2 and parts[1].isdigit():
        return ".".join(parts[:2])
    return parts[0] if len(parts) > 1 else name


def _named_parameters(source: Any) -> list[tuple[str, Any]]:
    if hasattr(source, "named_parameters"):
        return list(source.named_parameters())
    if isinstance(source, Mapping):
        return list(source.items())
    if isinstance(source, Iterable):
        return [(str(n), p) for n, p in source]
    raise TypeError(f"gradient_flow: expected a Module, a dict or (name, tensor) pairs, got {type(source).__name__}")


def gradient_flow(
    source: Any,
    *,
    ax: Any = None,
    relative: bool = False,
    log: bool = True,
    title: str | None = None,
) -> Any:
    """Bar chart of the gradient norm ‖∇p‖ of every parameter, coloured by layer.

    Args:
        source: a ``nn.Module`` after ``loss.backward()``, or ``{name: tensor}``, or (name, tensor) pairs.
        ax: the matplotlib Axes to draw on (a new figure if None).
        relative: plot ‖∇p‖ / ‖p‖ (how large a step the gradient asks for, relative to the weights).
        log: log scale on the y axis (gradient norms span orders of magnitude).
    Returns:
        the Axes. Parameters without a gradient are marked with a red ✕ on the axis.
    """
    plt = _pyplot()
    named = _named_parameters(source)
    if not named:
        raise ValueError("gradient_flow: no parameters")
    if ax is None:
        _, ax = plt.subplots(figsize=(max(6.0, 0.28 * len(named) + 1.5), 4.0), constrained_layout=True)
    layers: list[str] = []
    heights: list[float] = []
    missing: list[int] = []
    for i, (name, p) in enumerate(named):
        layers.append(layer_of(name))
        g = getattr(p, "grad", None)
        if g is None:
            missing.append(i)
            heights.append(np.nan)
            continue
        norm = float(np.linalg.norm(np.asarray(g, dtype=np.float64).ravel()))
        if relative:
            data = np.asarray(p.data if hasattr(p, "data") else p, dtype=np.float64).ravel()
            pn = float(np.linalg.norm(data))
            norm = norm / pn if pn > 0 else np.nan
        heights.append(norm)
    order = list(dict.fromkeys(layers))
    cmap = plt.get_cmap("tab10" if len(order) <= 10 else "tab20")
    colors = [cmap(order.index(layer) % cmap.N) for layer in layers]
    x = np.arange(len(named))
    ax.bar(x, np.nan_to_num(heights, nan=0.0), color=colors, edgecolor="black", linewidth=0.3)
    positive = np.asarray(heights)[np.asarray(heights) > 0]
    if log and positive.size:
        ax.set_yscale("log")
        ax.set_ylim(positive.min() / 2, positive.max() * 30)  # room for the legend above the bars
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(k % cmap.N)) for k in range(len(order))]
    labels = list(order)
    if missing:
        (marks,) = ax.plot(missing, [0.0] * len(missing), "x", color="red", transform=ax.get_xaxis_transform(),
                           clip_on=False, markersize=8, markeredgewidth=2, label="no gradient")
        handles.append(marks)
        labels.append("no gradient")
    ax.legend(handles, labels, fontsize=7, loc="upper center", ncol=min(len(labels), 8), frameon=False)
    ax.set_xticks(x)
    ax.set_xticklabels([n for n, _ in named], rotation=90, fontsize=7)
    ax.set_xlim(-0.6, len(named) - 0.4)
    ax.set_ylabel("‖∇p‖ / ‖p‖" if relative else "‖∇p‖")
    ax.set_title(title or ("relative gradient norm by parameter" if relative else "gradient norm by parameter"))
    start = 0  # a light band behind each layer's bars
    for i in range(1, len(layers) + 1):
        if i == len(layers) or layers[i] != layers[start]:
            ax.axvspan(start - 0.5, i - 0.5, color=colors[start], alpha=0.08, linewidth=0)
            start = i
    ax.grid(axis="y", alpha=0.3)
    return ax


def keep_attention(model: Any, keep: bool = True) -> int:
    """Set ``keep_attention`` on every ``CausalSelfAttention`` of ``model``; returns how many."""
    from ..nn.layers import CausalSelfAttention

    count = 0
    for m in model.modules():
        if isinstance(m, CausalSelfAttention):
            m.keep_attention = keep
            if not keep:
                m.attention = None
            count += 1
    return count


def _attention(source: Any, layer: int) -> np.ndarray:
    """ρ as a (B, H, T, T) array, from a GPT, a Block, a CausalSelfAttention or an array."""
    from ..nn.layers import CausalSelfAttention

    if isinstance(source, np.ndarray):
        a = source
    else:
        attn = source
        if hasattr(source, "h"):
            n = len(source.h)
            if not -n <= layer < n:
                raise IndexError(f"attention: layer {layer} out of range for a model with {n} layers")
            attn = source.h[layer].attn
        elif hasattr(source, "attn"):
            attn = source.attn
        if not isinstance(attn, CausalSelfAttention):
            raise TypeError(f"attention: expected a GPT, a Block, a CausalSelfAttention or an array, "
                            f"got {type(source).__name__}")
        if attn.attention is None:
            raise RuntimeError(
                "attention: no attention weights stored. Set keep_attention on the layer before the forward "
                "pass (tinygrad_tx.viz.keep_attention(model), or model.h[i].attn.keep_attention = True), "
                "then run the model"
            )
        a = attn.attention
    a = np.asarray(a)
    if a.ndim == 2:
        a = a[None, None]
    elif a.ndim == 3:
        a = a[None]
    if a.ndim != 4 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"attention: expected weights of shape (B, H, T, T), got {a.shape}")
    return a


def _heatmap(ax: Any, rho: np.ndarray, tokens: Sequence[str] | None, title: str, annotate: bool) -> Any:
    T = rho.shape[-1]
    masked = np.ma.masked_where(np.triu(np.ones((T, T), dtype=bool), k=1), rho)
    im = ax.imshow(masked, cmap="viridis", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("key (attended to)", fontsize=8)
    ax.set_ylabel("query", fontsize=8)
    if tokens is not None:
        if len(tokens) != T:
            raise ValueError(f"attention: {len(tokens)} tokens for a sequence of length {T}")
        labels = [repr(t)[1:-1] if isinstance(t, str) else str(t) for t in tokens]
        ax.set_xticks(range(T))
        ax.set_xticklabels(labels, rotation=90, fontsize=7)
        ax.set_yticks(range(T))
        ax.set_yticklabels(labels, fontsize=7)
    if annotate and T <= 16:
        for q in range(T):
            for k in range(q + 1):
                ax.text(k, q, f"{rho[q, k]:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if rho[q, k] < 0.6 else "black")
    return im


def attention_heatmap(
    source: Any,
    layer: int = 0,
    head: int = 0,
    *,
    batch: int = 0,
    tokens: Sequence[str] | None = None,
    ax: Any = None,
    annotate: bool = True,
) -> Any:
    """Heatmap of one head's attention weights: row q is the distribution over the keys k ≤ q.

    Args:
        source: a GPT (``layer`` picks the block), a Block or a ``CausalSelfAttention`` whose forward
            ran with ``keep_attention = True``, or an array (B, H, T, T) / (T, T).
        tokens: labels for the T positions (e.g. the characters of the input).
        annotate: write the weights in the cells (for T ≤ 16).
    Returns:
        the Axes. The masked future (k > q) is left blank.
    """
    plt = _pyplot()
    a = _attention(source, layer)
    B, H = a.shape[:2]
    if not -H <= head < H:
        raise IndexError(f"attention_heatmap: head {head} out of range for {H} heads")
    if not -B <= batch < B:
        raise IndexError(f"attention_heatmap: batch {batch} out of range for a batch of {B}")
    if ax is None:
        T = a.shape[-1]
        size = min(8.0, 2.5 + 0.3 * T)
        _, ax = plt.subplots(figsize=(size + 0.8, size), constrained_layout=True)
    im = _heatmap(ax, a[batch, head], tokens, f"layer {layer}, head {head}", annotate)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="ρ")
    return ax


def attention_heads(
    source: Any,
    layer: int = 0,
    *,
    batch: int = 0,
    tokens: Sequence[str] | None = None,
    annotate: bool = False,
) -> Any:
    """All heads of one layer side by side (one heatmap each); returns the Figure."""
    plt = _pyplot()
    a = _attention(source, layer)
    H, T = a.shape[1], a.shape[-1]
    size = min(4.0, 1.5 + 0.15 * T)
    fig, axes = plt.subplots(1, H, figsize=(size * H + 1.0, size + 0.6), constrained_layout=True, squeeze=False)
    im = None
    for h in range(H):
        im = _heatmap(axes[0, h], a[batch, h], tokens, f"layer {layer}, head {h}", annotate)
    fig.colorbar(im, ax=list(axes[0]), fraction=0.02, pad=0.02, label="ρ")
    return fig
