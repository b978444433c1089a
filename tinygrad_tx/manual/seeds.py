"""The two small worked examples that everything else grows from, derived by hand in plain Python.

1. The staged computation of CS231n's notes "Backpropagation, Intuitions"
   (https://cs231n.github.io/optimization-2/):
   ``f(x, y) = (x + σ(y)) / (σ(x) + (x + y)²)``. Forward in stages, every intermediate kept;
   backward through the stages in reverse, each local derivative times the upstream gradient,
   ``dx`` and ``dy`` collecting several contributions with ``+=``.
2. The matrix-form recursion of a ReLU MLP (S. Prince, "Understanding Deep Learning", MIT Press 2023,
   §7.4 "Backpropagation algorithm", https://udlbook.github.io/udlbook/):
   ``z_0 = b_0 + W_0 x``, ``x_l = relu(z_{l-1})``, ``z_l = b_l + W_l x_l``; backward from ``dL/dz_M``:
   ``dL/db_l = dL/dz_l``, ``dL/dW_l = dL/dz_l x_lᵀ``, ``dL/dz_{l-1} = 1[z_{l-1} > 0] ⊙ (W_lᵀ dL/dz_l)``.

The tests check both against the engine: the first bit for bit.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["staged_f_backward", "relu_mlp_forward", "relu_mlp_backward"]


def staged_f_backward(x: float, y: float) -> dict[str, float]:
    """Forward and backward of f(x, y) by hand, in float64, returning f, dx and dy.

    The stages and their local derivatives are exactly the engine's: σ is ``1 / (1 + e^-z)`` with
    ``dσ = (1 - σ) σ``, ``f = num / den`` passes back ``g / den`` to num and ``-(f / den) · g`` to
    den, and a square has derivative ``2 · xpy^1``. The contributions to ``dx`` and ``dy`` are added in the order the
    engine's reverse topological walk adds them; float addition is not associative, so another
    order could differ in the last bit.
    """
    # forward, one stage per line
    sigy = 1.0 / (1.0 + math.exp(-y))  # σ(y)
    num = x + sigy  # numerator
    sigx = 1.0 / (1.0 + math.exp(-x))  # σ(x)
    xpy = x + y
    xpysqr = xpy**2.0
    den = sigx + xpysqr  # denominator
    f = num / den

    # backward, stage by stage in reverse; upstream gradient times local derivative
    dnum = 1.0 / den  # f = num / den: d f/d num = 1/den, applied as (upstream 1.0) / den
    dden = -(f / den) * 1.0  # d f/d den = -num/den² = -f/den
    dsigx = 1.0 * dden  # den = sigx + xpysqr
    dxpysqr = 1.0 * dden
    dxpy = (2.0 * xpy**1.0) * dxpysqr  # xpysqr = xpy²
    dx = 1.0 * dxpy  # xpy = x + y
    dy = 1.0 * dxpy
    dx += ((1.0 - sigx) * sigx) * dsigx  # sigx = σ(x)
    dx += 1.0 * dnum  # num = x + sigy
    dsigy = 1.0 * dnum
    dy += ((1.0 - sigy) * sigy) * dsigy  # sigy = σ(y)
    return {"f": f, "dx": dx, "dy": dy}


def relu_mlp_forward(
    x: np.ndarray, weights: list[np.ndarray], biases: list[np.ndarray]
) -> tuple[np.ndarray, dict[str, list[np.ndarray]]]:
    """Forward pass storing everything. ``x`` is ``(d_in, N)`` (one column per example).

    Returns the output ``z_M`` and the cache ``{"z": [z_0 .. z_M], "a": [x, x_1 .. x_M]}``.
    """
    a = [x]
    z = []
    for layer, (W, b) in enumerate(zip(weights, biases)):
        z.append(b + W @ a[-1])
        if layer < len(weights) - 1:
            a.append(np.maximum(z[-1], 0.0))
    return z[-1], {"z": z, "a": a}


def relu_mlp_backward(
    dL_dzM: np.ndarray, weights: list[np.ndarray], cache: dict[str, list[np.ndarray]]
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """The recursion of item 2 of the module docstring, for a batch: per-example gradients are summed
    over columns.

    Returns ``(dL/dW_l, dL/db_l for every layer, dL/dx)``.
    """
    z, a = cache["z"], cache["a"]
    M = len(weights) - 1
    dW: list[np.ndarray] = [np.empty(0)] * (M + 1)
    db: list[np.ndarray] = [np.empty(0)] * (M + 1)
    delta = dL_dzM  # dL/dz_l, starting at l = M
    for layer in range(M, -1, -1):
        db[layer] = delta.sum(axis=1, keepdims=True)  # dL/db_l = dL/dz_l (summed over examples)
        dW[layer] = delta @ a[layer].T  # dL/dW_l = dL/dz_l · x_lᵀ
        upstream = weights[layer].T @ delta  # W_lᵀ dL/dz_l
        if layer > 0:
            delta = (z[layer - 1] > 0) * upstream  # 1[z_{l-1} > 0] ⊙ (W_lᵀ dL/dz_l)
    return dW, db, upstream
