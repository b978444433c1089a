"""The oracle harness: one program, run in tinygrad_tx and in PyTorch, compared.

A program is written once as ``fn(lib, *tensors)`` against a module alias ``lib`` (``tinygrad_tx``
or ``torch``, which spell the API the same way: ``lib.cat``, ``lib.where``, ``x.max(dim)``, ...).
`same` runs it in both libraries on the same NumPy inputs (floating arrays become leaves that
require grad, other arrays constants) and asserts that the two agree on

- every output: its type, dtype, shape, ``requires_grad`` and value (integer and bool values
  exactly, floating ones to ``rtol``/``atol``), and
- the gradients of ``Σ_k Σ (out_k ⊙ R_k)`` for a random ``R_k ~ N(0, 1)``: a non-uniform upstream
  gradient, since ``out.sum()`` would hide a VJP that mixes up positions. Where PyTorch finds no path
  to an input (``None``), so must we; our ``backward()`` must accumulate exactly what ``grad()``
  returns, in the input's dtype.

`same_results` is the same check with every output's type, dtype, shape and ``requires_grad`` too, and
values scale-relative (`assert_close`). `both_raise` checks that a program PyTorch refuses is refused
here too, with a message that names the op. Importing this module needs torch: a test module that
imports it is skipped without torch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tg
from tinygrad_tx import Tensor

from .helpers import assert_close

torch = pytest.importorskip("torch")

# float64 against PyTorch. Not to be loosened to make a test pass: a failure is a finding.
RTOL_ELEMENTWISE = 1e-12  # elementwise and shape ops: the same IEEE operations as PyTorch
RTOL_REDUCTION = 1e-10  # sums, matmul, softmax, var: the summation order may differ
ATOL = 1e-12  # absolute floor, for entries that cancel to about 0

Fn = Callable[..., Any]


def flat(out: Any) -> list[Any]:
    """Outputs as a flat list (a tensor, a tuple of pieces, or a (values, indices) pair)."""
    if isinstance(out, (tuple, list)):
        return [o for item in out for o in flat(item)]
    return [out]


def numpy_of(t: Any) -> np.ndarray:
    """The values of a NumPy array, one of our tensors or a torch tensor."""
    if isinstance(t, np.ndarray):
        return t
    return t.detach().numpy() if isinstance(t, torch.Tensor) else np.asarray(t.data)


def dtype_name(t: Any) -> str:
    """``"float64"``, ``"int32"``, ``"bool"``, ... in either library."""
    return str(t.dtype).removeprefix("torch.") if isinstance(t, torch.Tensor) else np.dtype(t.dtype).name


def is_float(t: Any) -> bool:
    return t.dtype.is_floating_point if isinstance(t, torch.Tensor) else np.dtype(t.dtype).kind == "f"


def is_tensor(t: Any) -> bool:
    return isinstance(t, (Tensor, torch.Tensor))


def leaf(lib: Any, a: Any, requires_grad: bool | None = None) -> Any:
    """An input tensor: floating arrays require grad (unless told otherwise), others are constants;
    anything that is not a NumPy array or scalar is passed through as it is."""
    if not isinstance(a, (np.ndarray, np.generic)):
        return a
    a = np.asarray(a)
    rg = a.dtype.kind == "f" if requires_grad is None else requires_grad
    if lib is torch:
        return torch.tensor(a).requires_grad_(rg)
    return Tensor(a, requires_grad=rg)


def close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, what: str) -> None:
    """Same shape; integer and bool values equal, floating ones within ``atol + rtol·|expected|``."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, torch {expected.shape}"
    if expected.dtype.kind in "biu":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
    else:
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def _weighted_loss(lib: Any, outs: list[Any], weight_seed: int) -> Any:
    """Σ_k Σ (out_k ⊙ R_k) over the outputs that require grad, with R_k ~ N(0, 1) of out_k's dtype
    (drawn for every floating output, so that each R_k depends only on the outputs before it)."""
    rng = np.random.default_rng(weight_seed)
    loss = None
    for o in outs:
        if not (is_tensor(o) and is_float(o)):
            continue
        w = rng.standard_normal(tuple(o.shape)).astype(dtype_name(o))
        if o.requires_grad:
            term = (o * lib.tensor(w)).sum()
            loss = term if loss is None else loss + term
    return loss


def _run(lib: Any, fn: Fn, arrays: Sequence[Any], weight_seed: int) -> tuple[list[Any], list[Any], list[Any]]:
    """Outputs, the leaves that require grad, and their gradients of Σ (out ⊙ R) (None: no path)."""
    leaves = [leaf(lib, a) for a in arrays]
    outs = flat(fn(lib, *leaves))
    wanted = [t for t in leaves if getattr(t, "requires_grad", False)]
    loss = _weighted_loss(lib, outs, weight_seed)
    if loss is None or not wanted:
        return outs, wanted, []
    if lib is torch:
        grads = list(torch.autograd.grad(loss, wanted, allow_unused=True))
    else:
        grads = list(tg.grad(loss, wanted, allow_unused=True, retain_graph=True))
        # .backward() must accumulate exactly what grad() returns (same dtype, same values)
        loss.backward()
        for k, (t, g) in enumerate(zip(wanted, grads)):
            if g is None:
                assert t.grad is None, f"input {k}: backward() gave a .grad where grad() found no path"
                continue
            assert t.grad is not None and t.grad.dtype == t.dtype, f"input {k}: backward(): missing or mistyped .grad"
            np.testing.assert_array_equal(t.grad, g.data, err_msg=f"input {k}: backward() disagrees with grad()")
    return outs, wanted, [None if g is None else numpy_of(g) for g in grads]


def same(
    fn: Fn,
    *arrays: Any,
    rtol: float = RTOL_ELEMENTWISE,
    atol: float = ATOL,
    torch_fn: Fn | None = None,
    weight_seed: int = 0,
) -> None:
    """``fn(tinygrad_tx, ...)`` agrees with ``fn(torch, ...)`` (or ``torch_fn(torch, ...)``): every
    output and the gradient of a randomly weighted sum of the outputs with respect to every input."""
    outs, leaves, grads = _run(tg, fn, arrays, weight_seed)
    t_outs, _, t_grads = _run(torch, torch_fn or fn, arrays, weight_seed)
    assert len(outs) == len(t_outs), f"{len(outs)} outputs, torch {len(t_outs)}"
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        if not isinstance(t, torch.Tensor):
            assert o == t and type(o) is type(t), f"output {k}: {o!r}, torch {t!r}"
            continue
        assert isinstance(o, Tensor), f"output {k}: {type(o).__name__}, torch a tensor"
        assert dtype_name(o) == dtype_name(t), f"output {k}: dtype {dtype_name(o)}, torch {dtype_name(t)}"
        assert o.shape == tuple(t.shape), f"output {k}: shape {o.shape}, torch {tuple(t.shape)}"
        assert o.requires_grad == t.requires_grad, f"output {k}: requires_grad {o.requires_grad}, torch's not"
        close(numpy_of(o), numpy_of(t), rtol, atol, f"output {k} value")
    assert len(grads) == len(t_grads), f"gradients for {len(grads)} inputs, torch {len(t_grads)}"
    for k, (g, t, x) in enumerate(zip(grads, t_grads, leaves)):
        assert (g is None) == (t is None), f"gradient {k}: {g}, torch {t}"
        if t is None:
            continue
        assert dtype_name(g) == dtype_name(x), f"gradient {k}: dtype {dtype_name(g)}, input {x.dtype}"
        assert dtype_name(g) == dtype_name(t), f"gradient {k}: dtype {dtype_name(g)}, torch {dtype_name(t)}"
        close(g, t, rtol, atol, f"gradient {k}")


def both_raise(fn: Fn, *arrays: Any, match: str) -> None:
    """PyTorch refuses ``fn``; so do we, with a message matching ``match`` (the op, the shapes)."""
    with pytest.raises(Exception):  # noqa: B017  (PyTorch's exception types vary)
        fn(torch, *[leaf(torch, a) for a in arrays])
    with pytest.raises((ValueError, TypeError, IndexError, RuntimeError), match=match):
        fn(tg, *[leaf(tg, a) for a in arrays])


def same_results(fn: Fn, *arrays: Any, torch_fn: Fn | None = None, rtol: float = RTOL_ELEMENTWISE) -> None:
    """``fn(tinygrad_tx, ...)`` and ``fn(torch, ...)`` (or ``torch_fn``) give the same outputs (type, dtype,
    shape, requires_grad, values) and the same gradients of Σ (out ⊙ R) for every input."""
    outs, leaves, grads = _run(tg, fn, arrays, 0)
    t_outs, _, t_grads = _run(torch, torch_fn or fn, arrays, 0)
    assert len(outs) == len(t_outs), f"{len(outs)} outputs, torch {len(t_outs)}"
    for k, (o, t) in enumerate(zip(outs, t_outs)):
        if not isinstance(t, torch.Tensor):
            assert type(o) is type(t) and o == t, f"output {k}: {o!r}, torch {t!r}"
            continue
        assert isinstance(o, Tensor), f"output {k}: {type(o).__name__}, torch a tensor"
        assert dtype_name(o) == dtype_name(t), f"output {k}: dtype {dtype_name(o)}, torch {dtype_name(t)}"
        assert o.shape == tuple(t.shape), f"output {k}: shape {o.shape}, torch {tuple(t.shape)}"
        assert o.requires_grad == t.requires_grad, f"output {k}: requires_grad {o.requires_grad}, torch's not"
        if o.dtype.kind in "biu":
            np.testing.assert_array_equal(numpy_of(o), numpy_of(t), err_msg=f"output {k}")
        else:
            assert_close(numpy_of(o), numpy_of(t), rtol, f"output {k}")
    assert len(grads) == len(t_grads), f"gradients for {len(grads)} inputs, torch {len(t_grads)}"
    for k, (g, t, x) in enumerate(zip(grads, t_grads, leaves)):
        assert (g is None) == (t is None), f"gradient {k}: {g}, torch {t}"
        if t is not None:
            assert g.dtype == x.dtype, f"gradient {k}: dtype {g.dtype}, input {x.dtype}"
            assert_close(g, t, rtol, f"gradient {k}")
