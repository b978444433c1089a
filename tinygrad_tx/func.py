"""Function transforms, as ``torch.func``: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``, ``jacrev``,
``jacfwd``, ``hessian``.

A transform takes a function of tensors and returns a function: ``grad(f)(x)`` is ∇f(x). They are built
on the engine's two modes — ``grad``, ``vjp`` and ``jacrev`` on the backward walk, ``jvp`` and ``jacfwd``
on forward mode (``autograd/forward_ad.py``), ``hessian`` as ``jacfwd(jacrev(f))``: forward-over-reverse,
the Hessian one column per forward pass through the gradient. They compose (``grad(grad(f))``,
``jacrev(jacrev(f))``) as the engine does grad of grad; forward over forward (``jacfwd(jacfwd(f))``) needs
nested forward levels, which are not supported (as in PyTorch's ``forward_ad``), and says so.

``vmap`` is left out: without batching rules for every primitive it would be a Python loop dressed up as
vectorisation. The Jacobians here are that loop, honestly: one pass per row (``jacrev``) or per column
(``jacfwd``).

``argnums`` picks the inputs (an int or a tuple of ints), ``has_aux`` lets the function return
``(output, aux)``; results have ``torch.func``'s structure.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .autograd import forward_ad
from .autograd import functional as _functional
from .autograd.engine import grad as _grad
from .autograd.grad_mode import enable_grad
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp", "jacrev", "jacfwd", "hessian"]


def _argnums(argnums: int | tuple[int, ...], n: int, op: str) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums or any(not isinstance(i, int) or not -n <= i < n for i in nums):
        raise ValueError(f"{op}: argnums {argnums!r} must pick among the {n} positional arguments")
    return tuple(i % n for i in nums)


def _split_aux(out: Any, has_aux: bool, op: str) -> tuple[Any, Any]:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{op}: with has_aux=True the function must return (output, aux)")
    return out


def _detached(x: Any) -> Any:
    """``x`` with every tensor in it (nested tuples, lists, dicts) detached from the transform's graph."""
    if isinstance(x, Tensor):
        return x.detach()
    if isinstance(x, (tuple, list)):
        return type(x)(_detached(v) for v in x)
    if isinstance(x, dict):
        return {k: _detached(v) for k, v in x.items()}
    return x


def _track(args: tuple[Any, ...], nums: tuple[int, ...], op: str) -> list[Any]:
    """The arguments, those at ``nums`` replaced by tensors to differentiate with respect to (connected
    to the caller's graph and tangents, so that transforms compose)."""
    args = list(args)
    for i in nums:
        if not isinstance(args[i], Tensor):
            raise TypeError(f"{op}: argument {i} must be a Tensor, got {type(args[i]).__name__}")
        args[i] = _functional._leaves((args[i],), True)[0]
    return args


def grad_and_value(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0,
                   has_aux: bool = False) -> Callable[..., Any]:
    """``(∇f(x), f(x))`` (with ``has_aux``: ``(∇f, (f, aux))``)."""

    def wrapper(*args: Any) -> Any:
        nums = _argnums(argnums, len(args), "grad")
        with enable_grad():
            xs = _track(args, nums, "grad")
            out, aux = _split_aux(func(*xs), has_aux, "grad")
            if not isinstance(out, Tensor) or out.numel() != 1:
                shape = out.shape if isinstance(out, Tensor) else type(out).__name__
                raise RuntimeError(f"grad: the function must return a one-element tensor, got {shape}; "
                                   f"use jacrev or vjp for other outputs")
            inputs = [xs[i] for i in nums]
            nested = any(args[i].requires_grad for i in nums) or forward_ad._state.level is not None
            if out.requires_grad:
                g = _grad(out, inputs, create_graph=nested, allow_unused=True, materialize_grads=True)
            else:
                g = tuple(_functional._zeros_like(x) for x in inputs)
        g = g[0] if isinstance(argnums, int) else tuple(g)
        value, aux = (out, aux) if nested else (out.detach(), _detached(aux))
        return (g, (value, aux)) if has_aux else (g, value)

    return wrapper


def grad(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable[..., Any]:
    """∇f: a function returning the gradient of the one-element ``func`` at its arguments ``argnums``."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any) -> Any:
        g, value = both(*args)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """``(func(*primals), vjp_fn)``; ``vjp_fn(v)`` is the tuple vᵀ ∂func/∂primalᵢ, one per primal."""
    with enable_grad():
        xs = _functional._leaves(primals, True)
        out, aux = _split_aux(func(*xs), has_aux, "vjp")
    outs = out if isinstance(out, tuple) else (out,)

    def vjp_fn(*cotangents: Any) -> tuple[Any, ...]:
        vs = cotangents[0] if len(cotangents) == 1 and isinstance(out, tuple) else cotangents
        seeds = _functional._seeds(tuple(vs), outs, "vjp", "the cotangents")
        nested = any(p.requires_grad for p in primals)
        return _functional._grads(outs, xs, seeds, nested, False, "vjp")

    value = out if any(p.requires_grad for p in primals) else (
        tuple(o.detach() for o in outs) if isinstance(out, tuple) else out.detach())
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jvp(func: Callable[..., Any], primals: Any, tangents: Any, *, strict: bool = False,
        has_aux: bool = False) -> Any:
    """``(func(*primals), J · tangents)`` in one forward pass with tangents."""
    if not isinstance(primals, tuple) or not isinstance(tangents, tuple):
        raise TypeError("jvp: primals and tangents must be tuples of tensors (as torch.func.jvp)")
    aux_box: list[Any] = []

    def f(*xs: Any) -> Any:
        out, aux = _split_aux(func(*xs), has_aux, "jvp")
        aux_box.append(aux)
        return out

    out, jv = _functional.jvp(f, primals, tangents, create_graph=any(p.requires_grad for p in primals),
                              strict=strict)
    return (out, jv, aux_box[0]) if has_aux else (out, jv)


def _jacobian(func: Callable[..., Any], argnums: int | tuple[int, ...], has_aux: bool, strategy: str,
              op: str) -> Callable[..., Any]:
    def wrapper(*args: Any) -> Any:
        nums = _argnums(argnums, len(args), op)
        aux_box: list[Any] = []

        def f(*picked: Any) -> Any:
            full = list(args)
            for i, x in zip(nums, picked):
                full[i] = x
            out, aux = _split_aux(func(*full), has_aux, op)
            if not aux_box:
                aux_box.append(aux)
            return out

        picked = tuple(args[i] for i in nums)
        nested = any(p.requires_grad for p in picked) or forward_ad._state.level is not None
        jac = _functional.jacobian(f, picked if isinstance(argnums, tuple) else picked[0],
                                   create_graph=nested and strategy == "reverse-mode", strategy=strategy)
        return (jac, aux_box[0]) if has_aux else jac

    return wrapper


def jacrev(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable[..., Any]:
    """The Jacobian by reverse mode: one backward pass per output element."""
    return _jacobian(func, argnums, has_aux, "reverse-mode", "jacrev")


def jacfwd(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable[..., Any]:
    """The Jacobian by forward mode: one forward pass with tangents per input element."""
    def wrapper(*args: Any) -> Any:
        if forward_ad._state.level is not None:
            raise RuntimeError("jacfwd: forward mode inside forward mode (jacfwd of jacfwd, jacfwd inside jvp) "
                               "needs nested forward levels, which are not supported; use jacrev for the "
                               "inner transform (hessian is jacfwd(jacrev(f)))")
        return _jacobian(func, argnums, has_aux, "forward-mode", "jacfwd")(*args)

    return wrapper


def hessian(func: Callable[..., Any], argnums: int | tuple[int, ...] = 0) -> Callable[..., Any]:
    """``jacfwd(jacrev(func))``: forward-over-reverse, one forward pass through the gradient per input
    element."""
    return jacfwd(jacrev(func, argnums), argnums)
