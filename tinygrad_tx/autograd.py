"""The one backward algorithm, shared by the scalar engine (`Value`) and the tensor engine (`Tensor`).

A *node* is anything that took part in a computation and can pass a gradient back. Both engines
implement the same small protocol:

- ``node._prev``: the nodes it was computed from (``None`` for an input that needs no gradient);
  empty for a leaf.
- ``node._vjp(g)``: given ``g = dL/d(node)``, return ``dL/d(parent)`` for every parent, in order.
  This is the vector-Jacobian product; no Jacobian is ever built.
- ``node._receive(g)``: store the total gradient that reached the node (``.grad += g``).
- ``node._release()``: drop what the forward pass saved for backward (after one backward).
- ``node._freed``: true once released; a second backward through it is an error.

``backward`` sorts the graph topologically **without recursion** (a chain of a million nodes is
fine), seeds ``dL/dL``, and walks the nodes from the output to the inputs. A node used twice
receives the *sum* of its gradients: contributions are added, never assigned.
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

__all__ = [
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "set_grad_enabled",
    "topological_order",
    "run_backward",
]

F = TypeVar("F", bound=Callable[..., Any])


# ---------------------------------------------------------------------------------------------
# Grad mode: whether operations record the graph.
# ---------------------------------------------------------------------------------------------
class _GradMode:
    enabled: bool = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations record a graph for backward (the default)."""
    return _grad_mode.enabled


class set_grad_enabled:
    """Context manager (and decorator) that sets grad mode on or off, restoring it afterwards."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = _grad_mode.enabled

    def __enter__(self) -> None:
        self.prev = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        _grad_mode.enabled = self.prev

    def __call__(self, fn: F) -> F:
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(set_grad_enabled):
    """Operations inside record no graph: ``with no_grad(): ...`` or ``@no_grad()`` on a function."""

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Turn recording back on inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


# ---------------------------------------------------------------------------------------------
# Topological order, iteratively.
# ---------------------------------------------------------------------------------------------
def topological_order(roots: Iterable[Any]) -> list[Any]:
    """Every node reachable from ``roots``, each after all of its parents (a post-order DFS).

    An explicit stack replaces recursion. Expanding a node pushes a marker, then the node's
    parents above it; when the marker comes back off the stack, all the parents have been
    emitted, so the node is emitted (``waiting`` holds the expanded nodes, innermost last).
    Nodes hash by identity, so ``seen`` is a set of the nodes themselves.
    Raises if it meets a node whose saved values were already released by an earlier backward.
    """
    order: list[Any] = []
    seen: set[Any] = set()
    waiting: list[Any] = []
    stack: list[Any] = list(roots)
    emit = _EMIT
    push, pop, mark, wait, emit_node = stack.append, stack.pop, seen.add, waiting.append, order.append
    while stack:
        node = pop()
        if node is emit:
            emit_node(waiting.pop())
            continue
        if node in seen:
            continue
        mark(node)
        if node._freed:
            raise RuntimeError(_freed_message(node))
        wait(node)
        push(emit)
        for parent in node._prev:
            if parent is not None and parent not in seen:
                push(parent)
    return order


_EMIT = object()  # the stack marker of topological_order


def _freed_message(node: Any) -> str:
    return (
        f"backward: trying to backward through the graph a second time (at '{node._op_name()}'): "
        f"the first backward() released the values saved for it. Call backward(retain_graph=True) "
        f"the first time if you need to backward twice, or run the forward pass again."
    )


# ---------------------------------------------------------------------------------------------
# The backward pass.
# ---------------------------------------------------------------------------------------------
def run_backward(
    roots: Sequence[Any],
    seeds: Sequence[Any],
    *,
    retain_graph: bool = False,
    capture: Sequence[Any] | None = None,
) -> list[Any] | None:
    """Propagate ``seeds`` (``dL/d root`` for each root) back through the graph.

    Without ``capture`` every node's total gradient goes to ``node._receive`` (that is how
    ``.grad`` fills up). With ``capture`` (a list of nodes), nothing is stored on the graph;
    the total gradient reaching each captured node is returned instead (``None`` if none did).

    Gradients in flight live in a dictionary keyed by node identity, so the order of
    accumulation is the reverse topological order, and each node's VJP runs exactly once, with
    its complete upstream gradient.
    """
    # The walk creates no reference cycles, so the garbage collector has nothing to find here;
    # pausing it saves its repeated scans of a large graph (they cost more than the walk itself).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _walk(roots, seeds, retain_graph, capture)
    finally:
        if gc_was_enabled:
            gc.enable()


def _walk(roots: Sequence[Any], seeds: Sequence[Any], retain_graph: bool, capture: Sequence[Any] | None) -> Any:
    order = topological_order(roots)
    pending: dict[Any, Any] = {}  # node -> its gradient so far (nodes hash by identity)
    for root, seed in zip(roots, seeds):
        pending[root] = seed if root not in pending else pending[root] + seed

    wanted: dict[Any, int] | None = None
    captured: list[Any] | None = None
    if capture is not None:
        wanted = {n: i for i, n in enumerate(capture)}
        captured = [None] * len(capture)

    take, look = pending.pop, pending.get
    for node in reversed(order):
        g = take(node, None)
        parents = node._prev
        if g is not None:
            if wanted is None:
                node._receive(g)
            elif node in wanted:
                captured[wanted[node]] = g  # type: ignore[index]
            if parents:
                for parent, pg in zip(parents, node._vjp(g)):
                    if parent is None or pg is None:
                        continue
                    prev = look(parent)
                    pending[parent] = pg if prev is None else prev + pg
        if parents and not retain_graph:
            node._release()
    return captured
