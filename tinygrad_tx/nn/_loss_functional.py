"""The loss functions of ``nn.functional`` (re-exported there), as ``torch.nn.functional``.

Each is its formula in Tensor operations, with PyTorch's arguments, shapes and normalisation rules;
the gradients are what the primitives' VJPs compose to (``binary_cross_entropy`` alone is a
primitive, ``ops.BinaryCrossEntropy``, because PyTorch's gradient clamps its denominator).
Notation: x the input, y the target, w a weight, ε the label smoothing, C the number of classes.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from .. import ops
from ..autograd.function import _named, named_node
from ..tensor import Tensor, where
from ._checks import _kind

__all__ = [
    "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits",
]


# ------------------------------------------------------------------------------ arguments
def _reduction(fn: str, reduction: str, size_average: bool | None = None, reduce: bool | None = None) -> str:
    """``reduction`` checked; the legacy ``size_average``/``reduce`` mapped as PyTorch maps them (and warned about)."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        legacy = "none" if not reduce else ("mean" if size_average else "sum")
        warnings.warn(f"{fn}: size_average and reduce are deprecated, as in PyTorch; use reduction={legacy!r} instead",
                      UserWarning, stacklevel=3)
        return legacy
    if reduction == "elementwise_mean":
        warnings.warn(f"{fn}: reduction='elementwise_mean' is deprecated, as in PyTorch; use reduction='mean'",
                      UserWarning, stacklevel=3)
        return "mean"
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{fn}: reduction must be 'none', 'mean' or 'sum', got {reduction!r}")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _input(fn: str, x: Any) -> Tensor:
    """The input: a floating-point Tensor."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: input must be a Tensor, got {_kind(x)}")
    if x.dtype.kind != "f":
        raise TypeError(f"{fn}: input must be floating point, got dtype {x.dtype} (shape {x.shape})")
    return x


def _operand(fn: str, name: str, value: Any, like: Tensor) -> Tensor:
    """A target or weight as a Tensor: a Tensor is kept (it may require grad), an array is converted
    to the input's dtype."""
    if isinstance(value, Tensor):
        return value if value.dtype == like.dtype or value.dtype.kind != "f" else value.to(like.dtype)
    if isinstance(value, (np.ndarray, np.generic, list, tuple, int, float)) and not isinstance(value, bool):
        return Tensor(np.asarray(value), dtype=like.dtype)
    raise TypeError(f"{fn}: {name} must be a Tensor or a NumPy array, got {_kind(value)}")


def _array(fn: str, name: str, value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, (np.ndarray, list, tuple, int, np.integer)) and not isinstance(value, bool):
        return np.asarray(value)
    raise TypeError(f"{fn}: {name} must be a Tensor or a NumPy array, got {_kind(value)}")


def _broadcast_to_input(fn: str, name: str, t: Tensor, x: Tensor) -> None:
    """``t`` must broadcast to the input's shape without growing it."""
    try:
        ok = np.broadcast_shapes(t.shape, x.shape) == x.shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{fn}: {name} of shape {t.shape} does not broadcast to the input's shape {x.shape}")


def _class_weight(fn: str, weight: Any, x: Tensor, n_classes: int) -> Tensor | None:
    if weight is None:
        return None
    w = _operand(fn, "weight", weight, x)
    if w.shape != (n_classes,):
        raise ValueError(f"{fn}: weight must have shape ({n_classes},), one per class of the input of shape "
                         f"{x.shape}, got {w.shape}")
    return w


def _nan_mean(total: Tensor) -> Tensor:
    """0/0 as PyTorch gives it (nan, gradient 0 to what no row used), without a division by zero."""
    return total * math.nan


# ------------------------------------------------------------------------------ class losses
@named_node("NllLossBackward0")
def nll_loss(input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """ℓₙ = -w[yₙ] xₙ,ᵧₙ (0 where yₙ = ``ignore_index``), for log-probabilities x of shape (N, C),
    (C,) or (N, C, d₁, ...) and class indices y of shape (N,), () or (N, d₁, ...).

    ``reduction='mean'`` is Σₙ ℓₙ / Σₙ w[yₙ] over the rows not ignored (nan if there are none, as
    PyTorch); ``'sum'`` is Σₙ ℓₙ; ``'none'`` gives ℓ in the target's shape.
    """
    reduction = _reduction("nll_loss", reduction, size_average, reduce)
    x = _input("nll_loss", input)
    y = _array("nll_loss", "target", target)
    return _nll("nll_loss", x, y, weight, ignore_index, reduction)


def _class_rows(fn: str, x: Tensor, y: np.ndarray) -> tuple[Tensor, np.ndarray, tuple[int, ...]]:
    """Input (N, C, d...) as rows (M, C) and targets as (M,), with the shape of the unreduced loss."""
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension, got a 0-d tensor")
    if y.dtype.kind not in "iu":
        raise TypeError(f"{fn}: target must hold integer class indices, got dtype {y.dtype}"
                        + (f"; class probabilities need a target of the input's shape {x.shape}" if y.dtype.kind == "f"
                           else ""))
    if x.ndim == 1:
        if y.shape not in ((), (1,)):
            raise ValueError(f"{fn}: an input of shape {x.shape} is one sample: the target must be one class "
                             f"index (shape () or (1,)), got shape {y.shape}")
        return x.unsqueeze(0), y.reshape(1), ()
    expected = (x.shape[0],) + x.shape[2:]
    if y.shape != expected:
        raise ValueError(f"{fn}: an input of shape {x.shape} (N, C, ...) needs a target of shape {expected}, "
                         f"got {y.shape}")
    if x.ndim > 2:  # the class dim last, then one row per position
        x = x.permute(0, *range(2, x.ndim), 1).reshape(-1, x.shape[1])
    return x, y.reshape(-1), expected


def _nll(fn: str, logp: Tensor, y: np.ndarray, weight: Any, ignore_index: int, reduction: str) -> Tensor:
    rows, t, shape = _class_rows(fn, logp, y)
    n_classes = rows.shape[1]
    w = _class_weight(fn, weight, logp, n_classes)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{fn}: target {int(t[bad][0])} is out of bounds for {n_classes} classes "
                         f"(input of shape {logp.shape}, ignore_index={ignore_index})")
    safe = np.where(valid, t, 0)
    picked = rows[np.arange(len(t)), safe]  # x[n, yₙ]
    w_t = None if w is None else w[safe]  # w[yₙ]
    losses = -picked if w_t is None else -(picked * w_t)
    if not valid.all():
        losses = where(valid, losses, 0.0)
    if reduction == "none":
        return losses.reshape(shape)
    if reduction == "sum":
        return losses.sum()
    total = int(valid.sum()) if w_t is None else where(valid, w_t, 0.0).sum()
    return _nan_mean(losses.sum()) if float(total) == 0 else losses.sum() / total


def cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """``nll_loss(log_softmax(x, class_dim), y)``, the class dim being 1 (0 for an input of shape (C,)).

    Class indices y (integers, shaped as for ``nll_loss``): with label smoothing ε,
    ``(1 - ε) nll + (ε / C) Σₙ sₙ`` where ``sₙ = -Σ_c w_c log p_{n,c}`` (0 for ignored rows); the mean
    divides both parts by Σₙ w[yₙ] over the rows not ignored (by their count without weights).

    Class probabilities y (floating, the input's shape): ``ℓₙ = -Σ_c w_c y'_{n,c} log p_{n,c}`` with
    ``y' = (1 - ε) y + ε / C``; the mean divides by the number of rows N·d₁⋯ (not by the weights).
    ``ignore_index`` is refused with probabilities, as in PyTorch.
    """
    fn = "cross_entropy"
    reduction = _reduction(fn, reduction, size_average, reduce)
    x = _input(fn, input)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
            or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fn}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing!r}")
    y = _array(fn, "target", target)
    if x.ndim == 0:
        raise ValueError(f"{fn}: input must have a class dimension, got a 0-d tensor")
    class_dim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_dim]
    logp = x.log_softmax(class_dim)
    if y.shape == x.shape:
        return _cross_entropy_probabilities(x, logp, target, weight, ignore_index, reduction, label_smoothing)
    nll = _nll(fn, logp, y, weight, ignore_index, reduction)
    if label_smoothing == 0.0:
        return _named(nll, "NllLossBackward0")  # (PyTorch's last node: nll_loss of log_softmax)
    w = _class_weight(fn, weight, x, n_classes)
    w_c = None if w is None else w.reshape(n_classes, *([1] * (x.ndim - 1 - class_dim)))
    smooth = -(logp if w_c is None else logp * w_c).sum(class_dim)  # sₙ, in the target's shape
    kept = (y != ignore_index).reshape(smooth.shape)
    if not kept.all():
        smooth = where(kept, smooth, 0.0)
    if reduction == "none":
        s = smooth
    elif reduction == "sum":
        s = smooth.sum()
    else:
        total = int(kept.sum()) if w is None else w[y.reshape(smooth.shape)[kept]].sum()
        s = _nan_mean(smooth.sum()) if float(total) == 0 else smooth.sum() / total
    return (1 - label_smoothing) * nll + s * (label_smoothing / n_classes)


def _cross_entropy_probabilities(x: Tensor, logp: Tensor, target: Any, weight: Any, ignore_index: int,
                                 reduction: str, label_smoothing: float) -> Tensor:
    fn = "cross_entropy"
    y = target if isinstance(target, Tensor) else None
    dtype = (y.dtype if y is not None else np.asarray(target).dtype)
    if dtype.kind != "f":
        raise TypeError(f"{fn}: a target of the input's shape {x.shape} holds class probabilities and must be "
                        f"floating point, got dtype {dtype} (class indices have no class dimension)")
    if ignore_index >= 0:
        raise ValueError(f"{fn}: ignore_index={ignore_index} is not supported for class-probability targets")
    y = _operand(fn, "target", target, x)
    class_dim = 0 if x.ndim == 1 else 1
    n_classes = x.shape[class_dim]
    if label_smoothing > 0.0:
        y = y * (1 - label_smoothing) + label_smoothing / n_classes
    w = _class_weight(fn, weight, x, n_classes)
    terms = logp * y if w is None else logp * y * w.reshape(n_classes, *([1] * (x.ndim - 1 - class_dim)))
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    rows = x.numel() // n_classes if n_classes else 0
    return _nan_mean(-terms.sum()) if rows == 0 else -terms.sum() / rows


# ------------------------------------------------------------------------------ regression losses
def _pointwise(fn: str, input: Any, target: Any, warn: bool = True) -> tuple[Tensor, Tensor]:
    x = _input(fn, input)
    y = _operand(fn, "target", target, x)
    if warn and y.shape != x.shape:
        warnings.warn(f"{fn}: Using a target size {y.shape} that is different to the input size {x.shape}. "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=3)
    try:
        np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"{fn}: input of shape {x.shape} and target of shape {y.shape} cannot be broadcast "
                         f"together") from None
    return x, y


def _weighted(fn: str, loss: Tensor, weight: Any, x: Tensor, reduction: str, mean_over_weights: bool) -> Tensor:
    """``loss ⊙ w``, reduced; the mean is Σ w ℓ / Σ w (mse, l1) or the plain mean of w ℓ (huber), as PyTorch."""
    if weight is None:
        return _reduce(loss, reduction)
    w = _operand(fn, "weight", weight, x)
    if w.shape != x.shape:
        raise ValueError(f"{fn}: weight must have the input's shape {x.shape}, got {w.shape}")
    weighted = loss * w
    if reduction == "mean" and mean_over_weights:
        return weighted.sum() / w.sum()
    return _reduce(weighted, reduction)


@named_node("MseLossBackward0")
def mse_loss(input: Tensor, target: Any, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Any = None) -> Tensor:
    """ℓ = (x - y)² (broadcast, with PyTorch's warning if the shapes differ). With ``weight`` (the
    input's shape): w ⊙ ℓ, and the mean is Σ w ℓ / Σ w."""
    x, y = _pointwise("mse_loss", input, target)
    reduction = _reduction("mse_loss", reduction, size_average, reduce)
    d = x - y
    return _weighted("mse_loss", d * d, weight, x, reduction, mean_over_weights=True)


def l1_loss(input: Tensor, target: Any, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Any = None) -> Tensor:
    """ℓ = |x - y| (gradient sign(x - y), 0 at a tie). ``weight`` as in ``mse_loss``."""
    x, y = _pointwise("l1_loss", input, target)
    reduction = _reduction("l1_loss", reduction, size_average, reduce)
    return _weighted("l1_loss", (x - y).abs(), weight, x, reduction, mean_over_weights=True)


def smooth_l1_loss(input: Tensor, target: Any, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """ℓ = ½ d² / β where |d| < β, else |d| - ½ β, with d = x - y (β = 0: ``l1_loss``)."""
    x, y = _pointwise("smooth_l1_loss", input, target)
    reduction = _reduction("smooth_l1_loss", reduction, size_average, reduce)
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    d = x - y
    if beta == 0:
        return _reduce(d.abs(), reduction)
    ad = d.abs()
    return _reduce(where(ad._data < beta, 0.5 * d * d / beta, ad - 0.5 * beta), reduction)


def huber_loss(input: Tensor, target: Any, reduction: str = "mean", delta: float = 1.0,
               weight: Any = None) -> Tensor:
    """ℓ = ½ d² where |d| < δ, else δ (|d| - ½ δ), with d = x - y. With ``weight`` (the input's shape),
    w ⊙ ℓ and a plain mean (PyTorch's rule here, unlike ``mse_loss``)."""
    x, y = _pointwise("huber_loss", input, target)
    reduction = _reduction("huber_loss", reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = x - y
    ad = d.abs()
    loss = where(ad._data < delta, 0.5 * d * d, delta * (ad - 0.5 * delta))
    return _weighted("huber_loss", loss, weight, x, reduction, mean_over_weights=False)


# ------------------------------------------------------------------------------ binary losses
def _same_shape(fn: str, x: Tensor, y: Tensor) -> None:
    if y.shape != x.shape:
        raise ValueError(f"{fn}: target of shape {y.shape} must have the input's shape {x.shape}")


def binary_cross_entropy(input: Tensor, target: Any, weight: Any = None, size_average: bool | None = None,
                         reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """ℓ = -w (y max(ln x, -100) + (1 - y) max(ln(1 - x), -100)) for probabilities x, y ∈ [0, 1] of
    one shape; ``weight`` broadcasts to it. The mean is over all elements (not weighted). Gradient
    ``w (x - y) / max(x (1 - x), 1e-12)``, finite at x = 0 and 1 (``ops.BinaryCrossEntropy``)."""
    fn = "binary_cross_entropy"
    reduction = _reduction(fn, reduction, size_average, reduce)
    x = _input(fn, input)
    y = _operand(fn, "target", target, x)
    _same_shape(fn, x, y)
    for name, t in (("input", x), ("target", y)):
        if not ((t._data >= 0) & (t._data <= 1)).all():
            hint = " (probabilities: for logits use binary_cross_entropy_with_logits)" if name == "input" else ""
            raise ValueError(f"{fn}: all elements of {name} must be between 0 and 1{hint}")
    loss = ops.BinaryCrossEntropy.apply(x, y.to(x.dtype))
    if weight is not None:
        w = _operand(fn, "weight", weight, x)
        _broadcast_to_input(fn, "weight", w, x)
        loss = loss * w
    return _reduce(loss, reduction)


def _log1p(u: Tensor) -> Tensor:
    """ln(1 + u), accurate for small u: with v = 1 + u rounded, ``ln v - ((v - 1) - u) / v`` corrects
    the rounding of v to first order (the correction's own gradient is 0 to rounding)."""
    v = 1 + u
    return v.log() - ((v - 1) - u) / v


def _log_sigmoid(x: Tensor) -> Tensor:
    """ln σ(x) = min(x, 0) - ln(1 + e^(-|x|)): no exponent is positive, so nothing overflows."""
    return x.minimum(0.0) - _log1p((-x.abs()).exp())


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Any = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Any = None) -> Tensor:
    """ℓ = w ((1 - y) x - (1 + (pw - 1) y) ln σ(x)) for logits x, i.e. ``-w (pw y ln σ(x) + (1 - y)
    ln(1 - σ(x)))``, computed stably through ln σ; ``weight`` and ``pos_weight`` broadcast to x's shape
    (pos_weight along the last dim: one per class)."""
    fn = "binary_cross_entropy_with_logits"
    reduction = _reduction(fn, reduction, size_average, reduce)
    x = _input(fn, input)
    y = _operand(fn, "target", target, x)
    _same_shape(fn, x, y)
    y = y.to(x.dtype)
    log_sig = _log_sigmoid(x)
    if pos_weight is not None:
        pw = _operand(fn, "pos_weight", pos_weight, x)
        _broadcast_to_input(fn, "pos_weight", pw, x)
        log_sig = log_sig * ((pw - 1) * y + 1)
    loss = (1 - y) * x - log_sig
    if weight is not None:
        w = _operand(fn, "weight", weight, x)
        _broadcast_to_input(fn, "weight", w, x)
        loss = loss * w
    return _reduce(loss, reduction)
