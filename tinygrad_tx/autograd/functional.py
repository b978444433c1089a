"""Jacobians, Hessians and their products, as ``torch.autograd.functional``.

Each is a few calls of the two modes (``engine.grad`` for reverse, ``forward_ad`` for forward):

- ``vjp(f, x, v)``: vᵀ J, one backward pass;           ``jvp(f, x, v)``: J v, one forward pass with tangents;
- ``jacobian(f, x)``: J, one backward pass per output element (``strategy='forward-mode'``: one forward
  pass per input element — cheaper when there are fewer inputs than outputs);
- ``hessian(f, x)``: the Jacobian of the gradient; ``hvp(f, x, v)``: H v, forward-over-reverse (one
  forward with tangents, one backward), ``vhp(f, x, v)``: vᵀ H, reverse-over-reverse (two backwards).

Inputs are a tensor or a tuple of tensors; results have PyTorch's structure (a Jacobian of output i
with respect to input j has shape ``out_i.shape + in_j.shape``). ``vectorize`` is accepted and changes
nothing (there is no vmap: the rows are computed one after another). ``create_graph=True`` keeps the
results differentiable; ``strict=True`` refuses an output that does not depend on an input, where the
default gives zeros (as PyTorch).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import forward_ad
from . import function as _function
from .engine import grad
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _tuple(x: Any, what: str, op: str) -> tuple[bool, tuple[Any, ...]]:
    Tensor = _function._tensor_class
    if isinstance(x, Tensor):
        return False, (x,)
    if isinstance(x, (tuple, list)) and all(isinstance(t, Tensor) for t in x):
        return True, tuple(x)
    raise TypeError(f"{op}: {what} must be a Tensor or a tuple of Tensors, got {type(x).__name__}")


def _leaves(inputs: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    """Inputs to differentiate with respect to: with ``create_graph`` connected to the caller's graph
    (and tangents), else fresh leaves with the same values."""
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            out.append(t.clone())  # a node of its own in the caller's graph: d/d(it) is d/d t
        else:
            leaf = t.detach().requires_grad_(True)
            if getattr(t, "_tangent", None) is not None:
                forward_ad._attach(leaf, t._tangent)
            out.append(leaf)
    return tuple(out)


def _zeros_like(t: Any) -> Any:
    return _zeros_like_shape(t.shape, t.dtype)


def _grads(outputs: tuple[Any, ...], inputs: tuple[Any, ...], seeds: tuple[Any, ...], create_graph: bool,
           strict: bool, op: str) -> tuple[Any, ...]:
    """d(Σ seedᵢ · outputᵢ)/d inputs, zeros for an input nothing depends on (an error with strict)."""
    live = [(o, s) for o, s in zip(outputs, seeds) if o.requires_grad]
    if not live:
        if strict:
            raise RuntimeError(f"{op}: the output does not depend on the inputs (strict=True)")
        return tuple(_zeros_like(t) for t in inputs)
    found = grad([o for o, _ in live], list(inputs), [s for _, s in live], retain_graph=True,
                 create_graph=create_graph, allow_unused=True)
    result = []
    for i, (t, g) in enumerate(zip(inputs, found)):
        if g is None:
            if strict:
                raise RuntimeError(f"{op}: the output does not depend on input {i} (strict=True)")
            g = _zeros_like(t)
        result.append(g)
    return tuple(result)


def _seeds(v: Any, outputs: tuple[Any, ...], op: str, name: str) -> tuple[Any, ...]:
    if v is None:
        if any(o.numel() != 1 for o in outputs):
            raise RuntimeError(f"{op}: {name} can be left out only when every output has one element; "
                               f"the output shapes are {[o.shape for o in outputs]}")
        return tuple(_function._tensor_class._make(np.ones(o.shape, dtype=o.dtype), False) for o in outputs)
    _, vs = _tuple(v, name, op)
    if len(vs) != len(outputs) or any(a.shape != o.shape for a, o in zip(vs, outputs)):
        raise RuntimeError(f"{op}: {name} has shapes {[a.shape for a in vs]}, the outputs "
                           f"{[o.shape for o in outputs]}")
    return vs


def _finish(x: tuple[Any, ...], is_tuple: bool, create_graph: bool) -> Any:
    x = tuple(t if create_graph else t.detach() for t in x)
    return x if is_tuple else x[0]


def vjp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), vᵀ J)``: one backward pass seeded with ``v``."""
    in_tuple, ins = _tuple(inputs, "inputs", "vjp")
    with enable_grad():
        leaves = _leaves(ins, create_graph)
        out_tuple, outs = _tuple(func(*leaves), "the output of func", "vjp")
        grads = _grads(outs, leaves, _seeds(v, outs, "vjp", "v"), create_graph, strict, "vjp")
    return _finish(outs, out_tuple, create_graph), _finish(grads, in_tuple, create_graph)


def jvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: one forward pass with ``v`` as the tangent (``forward_ad``)."""
    in_tuple, ins = _tuple(inputs, "inputs", "jvp")
    tangents = _seeds(v, ins, "jvp", "v")
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(t if create_graph else t.detach(), d) for t, d in zip(ins, tangents)]
        out_tuple, outs = _tuple(func(*duals), "the output of func", "jvp")
        unpacked = [forward_ad.unpack_dual(o) for o in outs]
        if strict and any(u.tangent is None for u in unpacked):
            raise RuntimeError("jvp: the output does not depend on the inputs (strict=True)")
        primals = tuple(u.primal for u in unpacked)
        jv = tuple(u.tangent if u.tangent is not None else _zeros_like(o) for u, o in zip(unpacked, outs))
    return _finish(primals, out_tuple, create_graph), _finish(jv, out_tuple, create_graph)


def _basis(t: Any) -> Any:
    """The unit tensors e_k of t's shape, one by one."""
    for k in range(t.numel()):
        e = np.zeros(t.numel(), dtype=t.dtype)
        e[k] = 1.0
        yield _function._tensor_class._make(e.reshape(t.shape), False)


def jacobian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """J: ``J[i][j]`` of shape ``out_i.shape + in_j.shape``. ``strategy``: ``'reverse-mode'`` (a backward
    per output element) or ``'forward-mode'`` (a forward pass with tangents per input element)."""
    if strategy not in ("reverse-mode", "forward-mode"):
        raise ValueError(f"jacobian: strategy must be 'reverse-mode' or 'forward-mode', got {strategy!r}")
    in_tuple, ins = _tuple(inputs, "inputs", "jacobian")
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError("jacobian: create_graph=True with strategy='forward-mode' is not "
                                      "supported (as in PyTorch); use the reverse mode")
        columns: list[list[list[Any]]] = []  # [input j][element k] -> per-output tangents
        out_tuple, outs = False, ()
        for j, t in enumerate(ins):
            cols = []
            for e in _basis(t):
                v = tuple(e if i == j else _zeros_like(s) for i, s in enumerate(ins))
                outs_k, jv = jvp(func, ins, v, strict=strict)
                out_tuple, outs = _tuple(outs_k, "the output of func", "jacobian")
                cols.append(jv if isinstance(jv, tuple) else (jv,))
            columns.append(cols)
        blocks = [[_function._tensor_class._make(np.stack([c[i].detach()._data.reshape(-1) for c in columns[j]], -1)
                                .reshape(outs[i].shape + ins[j].shape), False)
                   if columns[j] else _zeros_like_shape(outs[i].shape + ins[j].shape, outs[i].dtype)
                   for j in range(len(ins))] for i in range(len(outs))]
        return _structure(blocks, out_tuple, in_tuple)
    with enable_grad():
        leaves = _leaves(ins, create_graph)
        out_tuple, outs = _tuple(func(*leaves), "the output of func", "jacobian")
        blocks = []
        for o in outs:
            rows: list[list[Any]] = [[] for _ in ins]
            for e in _basis(o):
                seeds = tuple(e if p is o else _zeros_like(p) for p in outs)
                for j, g in enumerate(_grads(outs, leaves, seeds, create_graph, strict, "jacobian")):
                    rows[j].append(g)
            blocks.append([_stack_rows(rows[j], o.shape, t, create_graph) for j, t in enumerate(ins)])
    return _structure(blocks, out_tuple, in_tuple)


def _zeros_like_shape(shape: tuple[int, ...], dtype: Any) -> Any:
    return _function._tensor_class._make(np.zeros(shape, dtype=dtype), False)


def _stack_rows(rows: list[Any], out_shape: tuple[int, ...], t: Any, create_graph: bool) -> Any:
    """The rows ∂ out_k / ∂ t (one per output element k) as one tensor of shape out_shape + t.shape."""
    if not rows:
        return _zeros_like_shape(out_shape + t.shape, t.dtype)
    if create_graph:  # differentiable: the tensor engine's stack (above autograd, so imported here)
        from ..tensor import stack

        return stack(rows).reshape(out_shape + t.shape)
    return _function._tensor_class._make(np.stack([r.detach()._data for r in rows]).reshape(out_shape + t.shape),
                                         False)


def _structure(blocks: list[list[Any]], out_tuple: bool, in_tuple: bool) -> Any:
    if out_tuple:
        return tuple(tuple(b) if in_tuple else b[0] for b in blocks)
    return tuple(blocks[0]) if in_tuple else blocks[0][0]


def hessian(func: Callable[..., Any], inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """H = the Jacobian of the gradient of a scalar ``func``: ``H[i][j]`` of shape ``in_i.shape + in_j.shape``."""
    in_tuple, ins = _tuple(inputs, "inputs", "hessian")

    def gradient(*xs: Any) -> Any:
        out = _scalar_output(func, xs, "hessian")
        g = _grads((out,), xs, (_ones(out),), True, strict, "hessian")
        return g if in_tuple else g[0]

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy)


def _ones(t: Any) -> Any:
    return _function._tensor_class._make(np.ones(t.shape, dtype=t.dtype), False)


def _scalar_output(func: Callable[..., Any], xs: tuple[Any, ...], op: str) -> Any:
    out = func(*xs)
    if not isinstance(out, _function._tensor_class) or out.numel() != 1:
        shape = out.shape if isinstance(out, _function._tensor_class) else type(out).__name__
        raise RuntimeError(f"{op}: func must return a one-element tensor, got {shape}")
    return out


def hvp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), H v)`` by forward-over-reverse: the tangent ``v`` rides through the gradient."""
    in_tuple, ins = _tuple(inputs, "inputs", "hvp")
    vs = _seeds(v, ins, "hvp", "v")
    with forward_ad.dual_level(), enable_grad():
        duals = tuple(forward_ad.make_dual(t.detach(), d) for t, d in zip(ins, vs))
        leaves = _leaves(duals, False)
        out = _scalar_output(func, leaves, "hvp")
        grads = _grads((out,), leaves, (_ones(out),), True, strict, "hvp")
        hv = tuple(forward_ad.unpack_dual(g).tangent for g in grads)
        hv = tuple(_zeros_like(t) if h is None else h for h, t in zip(hv, ins))
        value = forward_ad.unpack_dual(out).primal
    return _finish((value,), False, create_graph), _finish(hv, in_tuple, create_graph)


def vhp(func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """``(func(inputs), vᵀ H)`` by reverse-over-reverse: the gradient, then the VJP of the gradient with v."""
    in_tuple, ins = _tuple(inputs, "inputs", "vhp")
    vs = _seeds(v, ins, "vhp", "v")
    with enable_grad():
        leaves = _leaves(ins, create_graph)
        out = _scalar_output(func, leaves, "vhp")
        grads = _grads((out,), leaves, (_ones(out),), True, strict, "vhp")
        vh = _grads(grads, leaves, vs, create_graph, strict, "vhp")
    return _finish((out,), False, create_graph), _finish(vh, in_tuple, create_graph)
