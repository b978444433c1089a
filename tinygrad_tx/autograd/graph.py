"""The one backward algorithm, shared by the scalar engine (`Value`) and the tensor engine (`Tensor`).

A *node* is anything that took part in a computation and can pass a gradient back. Both engines
implement the same small protocol:

- ``node._prev``: the nodes it was computed from (``None`` for an input that needs no gradient);
  empty for a leaf. This is what you read to inspect or draw a graph.
- ``node._push_parents(stack, seen)``: append each parent ``p`` not in ``seen`` to ``stack``,
  or raise if a backward already released what the node saved (see ``_freed_message``). It is
  the inner loop of the topological sort, left to the node so that each engine can store its
  parents the way that suits it (a `Value` keeps its two in slots, not in a tuple).
- ``node._g``: the gradient in flight during a backward pass (the sum of what has arrived so
  far), ``None`` at all other times.
- ``node._backprop(g, store, release)``: the node's step of the chain rule, given its total
  gradient ``g = dL/d(node)``: store ``g`` on the node (``.grad += g``) if ``store``; add the
  vector-Jacobian product ``dL/d(parent) = g · d(node)/d(parent)`` into each parent's ``_g``;
  drop what the forward pass saved for backward if ``release``. No Jacobian is ever built.
- ``node._release()``: drop what the forward pass saved (for a node that no gradient reached).
- ``node._freed``: true once released; a second backward through it is an error.

``backward`` sorts the graph topologically **without recursion** (a chain of a million nodes is
fine), seeds ``dL/dL``, and walks the nodes from the output to the inputs. A node used twice
receives the *sum* of its gradients: contributions are added, never assigned, and a node runs its
step only after every node that consumed it has run, so it passes on its complete gradient.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["topological_order", "run_backward"]


# ---------------------------------------------------------------------------------------------
# Topological order, iteratively.
# ---------------------------------------------------------------------------------------------
def topological_order(roots: Iterable[Any]) -> list[Any]:
    """Every node reachable from ``roots``, each after all of its parents (a post-order DFS).

    An explicit stack replaces recursion. Expanding a node pushes a marker, then the node's
    parents above it; when the marker comes back off the stack, all the parents have been
    emitted, so the node is emitted (``waiting`` holds the expanded nodes, innermost last).
    Nodes hash by identity, so ``seen`` is a set of the nodes themselves.
    Raises (from ``_push_parents``) if it meets a node whose saved values were already released
    by an earlier backward.
    """
    order: list[Any] = []
    seen: set[Any] = set()
    waiting: list[Any] = []
    stack: list[Any] = list(roots)
    while stack:
        node = stack.pop()
        if node is _EMIT:
            order.append(waiting.pop())
            continue
        if node in seen:
            continue
        seen.add(node)
        waiting.append(node)
        stack.append(_EMIT)
        node._push_parents(stack, seen)
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
_walk_lock = threading.RLock()  # one backward at a time; a backward inside a VJP is allowed
_walk_depth = 0  # how many walks are running in the thread that holds the lock


def run_backward(
    roots: Sequence[Any],
    seeds: Sequence[Any],
    *,
    retain_graph: bool = False,
    capture: Sequence[Any] | None = None,
) -> list[Any] | None:
    """Propagate ``seeds`` (``dL/d root`` for each root) back through the graph.

    Without ``capture`` every node's total gradient is stored on it (that is how ``.grad``
    fills up). With ``capture`` (a list of nodes), nothing is stored on the graph; the total
    gradient reaching each captured node is returned instead (``None`` if none did).

    Gradients in flight live on the nodes (``node._g``), and the nodes run their step in
    reverse topological order, so each node's VJP runs exactly once, with its complete upstream
    gradient, and contributions are summed in a fixed order (the results are deterministic).
    """
    global _walk_depth
    with _walk_lock:
        _walk_depth += 1
        try:
            return _walk(roots, seeds, retain_graph, capture, nested=_walk_depth > 1)
        finally:
            _walk_depth -= 1


def _walk(roots: Sequence[Any], seeds: Sequence[Any], retain_graph: bool, capture: Sequence[Any] | None,
          nested: bool) -> Any:
    order = topological_order(roots)  # raises, before any gradient moves, if the graph was freed
    # A backward started from inside a VJP (say, a custom op that recomputes its forward) may
    # share nodes with the walk that is running it: set their in-flight gradients aside.
    outer = [(node, node._g) for node in order if node._g is not None] if nested else []
    for node, _ in outer:
        node._g = None
    for root, seed in zip(roots, seeds):
        root._g = seed if root._g is None else root._g + seed

    wanted: dict[Any, int] | None = None
    captured: list[Any] | None = None
    if capture is not None:
        wanted = {n: i for i, n in enumerate(capture)}
        captured = [None] * len(capture)
    store, release = capture is None, not retain_graph

    try:
        for node in reversed(order):
            g = node._g
            if g is None:  # no gradient reached it (another root's branch, or a None VJP)
                if release:
                    node._release()
                continue
            node._g = None
            if wanted is not None and node in wanted:
                captured[wanted[node]] = g  # type: ignore[index]
            node._backprop(g, store, release)
    except BaseException:
        for node in order:  # leave no gradient in flight behind
            node._g = None
        raise
    finally:
        for node, g in outer:
            node._g = g
    return captured
