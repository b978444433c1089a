"""`gradcheck`: compare the engine's gradient with central finite differences, in float64.

The outputs are reduced to a scalar with a fixed random weighting, ``L = Σ_k Σ (out_k ⊙ R_k)``,
so one backward pass checks the VJP against a non-uniform upstream gradient (an all-ones
gradient would hide VJPs that mix up positions). Then, for each input that requires grad:

- small inputs (at most ``max_elements`` entries): every entry ``i`` is checked,
  ``(L(x + ε eᵢ) - L(x - ε eᵢ)) / 2ε`` against the analytic ``dL/dxᵢ``;
- large inputs: ``n_directions`` random unit directions ``v`` are checked,
  ``(L(x + ε v) - L(x - ε v)) / 2ε`` against ``⟨dL/dx, v⟩``.

A check passes when ``|analytic - numeric| ≤ atol + rtol · |numeric|``.

`gradgradcheck` checks the second derivative the same way: the VJP ``(x, v) ↦ vᵀ ∂fn/∂x`` is itself a
function built from Tensor ops (``create_graph=True``), so `gradcheck` of it compares its gradients,
with respect to x and to v, with central differences of the VJP.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import function as _function
from .engine import grad
from .grad_mode import enable_grad, no_grad

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """Raised by `gradcheck` when analytic and numeric gradients disagree."""


def _outputs(result: Any) -> list[Tensor]:
    Tensor = _function._tensor_class
    outs = [result] if isinstance(result, Tensor) else list(result)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.kind == "f"]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    max_elements: int = 256,
    n_directions: int = 8,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check ``fn``'s gradients w.r.t. every input with ``requires_grad=True``.

    ``inputs`` may mix tensors and other arguments; tensors are copied to float64. Returns True,
    or raises `GradcheckError` with a report naming the input, the index, the analytic and the
    numeric values (or returns False with ``raise_exception=False``).
    """
    Tensor = _function._tensor_class
    args = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    leaves: list[Any] = []
    for a in args:
        if isinstance(a, Tensor):
            t = Tensor(a._data.astype(np.float64) if a.dtype.kind == "f" else a._data)
            if a.requires_grad:
                t.requires_grad_(True)
            leaves.append(t)
        else:
            leaves.append(a)
    checked = [i for i, a in enumerate(leaves) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True: nothing to check")

    rng = np.random.default_rng(seed)
    outs = _outputs(fn(*leaves))
    if not outs:
        raise ValueError("gradcheck: fn returned no floating-point tensor")
    weights = [rng.standard_normal(o.shape) for o in outs]

    def loss_value() -> float:
        with no_grad():
            return float(sum(np.sum(o._data * w) for o, w in zip(_outputs(fn(*leaves)), weights)))

    loss = sum((o * Tensor(w) if o.ndim else o * float(w)).sum() for o, w in zip(outs, weights))
    analytic = grad(loss, [leaves[i] for i in checked], allow_unused=True)

    failures: list[str] = []
    for i, g in zip(checked, analytic):
        x = leaves[i]
        g_arr = np.zeros(x.shape) if g is None else g._data
        original = x._data
        if x.numel() <= max_elements:
            for idx in np.ndindex(*x.shape):
                numeric = _central(x, original, _unit(x.shape, idx), eps, loss_value)
                _compare(failures, f"input {i} (shape {x.shape}) at index {idx}",
                         float(g_arr[idx]), numeric, atol, rtol)
        else:
            for k in range(n_directions):
                v = rng.standard_normal(x.shape)
                v /= np.linalg.norm(v)
                numeric = _central(x, original, v, eps, loss_value)
                _compare(failures, f"input {i} (shape {x.shape}) along random direction {k}",
                         float(np.sum(g_arr * v)), numeric, atol, rtol)
        x._set_array(original)
    if failures:
        report = "gradcheck failed (analytic = the engine's gradient, numeric = central differences):\n"
        report += "\n".join("  " + f for f in failures[:10])
        if len(failures) > 10:
            report += f"\n  ... and {len(failures) - 10} more"
        if raise_exception:
            raise GradcheckError(report)
        return False
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Tensor | Sequence[Any],
    grad_outputs: Tensor | Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    *,
    max_elements: int = 256,
    n_directions: int = 8,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check ``fn``'s second derivatives (``torch.autograd.gradgradcheck``): `gradcheck` of the VJP
    ``(inputs, v) ↦ vᵀ ∂fn/∂inputs`` with respect to the inputs that require grad and to ``v`` (the
    ``grad_outputs``, random N(0, 1) ones of the outputs' shapes when not given)."""
    Tensor = _function._tensor_class
    args = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck: no input has requires_grad=True: nothing to check")
    n_args = len(args)
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        grad_outputs = [Tensor(rng.standard_normal(o.shape), requires_grad=True) for o in _outputs(fn(*args))]
    else:
        grad_outputs = [grad_outputs] if isinstance(grad_outputs, Tensor) else list(grad_outputs)

    def vjp(*xs_and_vs: Any) -> tuple[Any, ...]:
        xs, vs = xs_and_vs[:n_args], xs_and_vs[n_args:]
        with enable_grad():  # (gradcheck evaluates its function under no_grad for the differences)
            outs = _outputs(fn(*xs))
            if len(outs) != len(vs):
                raise ValueError(f"gradgradcheck: fn returned {len(outs)} floating outputs, grad_outputs has "
                                 f"{len(vs)}")
            return grad(outs, [xs[i] for i in checked], list(vs), create_graph=True, materialize_grads=True)

    return gradcheck(vjp, [*args, *grad_outputs], eps, atol, rtol, max_elements=max_elements,
                     n_directions=n_directions, seed=seed, raise_exception=raise_exception)


def _unit(shape: tuple[int, ...], idx: tuple[int, ...]) -> np.ndarray:
    e = np.zeros(shape)
    e[idx] = 1.0
    return e


def _central(x: Tensor, original: np.ndarray, v: np.ndarray, eps: float, loss_value: Callable[[], float]) -> float:
    x._set_array(original + eps * v)
    plus = loss_value()
    x._set_array(original - eps * v)
    minus = loss_value()
    return (plus - minus) / (2 * eps)


def _compare(failures: list[str], where: str, analytic: float, numeric: float, atol: float, rtol: float) -> None:
    allowed = atol + rtol * abs(numeric)
    if not abs(analytic - numeric) <= allowed:  # also catches nan
        failures.append(
            f"{where}: analytic {analytic:.10g}, numeric {numeric:.10g} "
            f"(|diff| {abs(analytic - numeric):.3g} > atol + rtol·|numeric| = {allowed:.3g})"
        )
