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

That is also the moment the *hooks* of a tensor run (``t.register_hook``, ``hooks.py``): a node's
gradient is complete when its turn comes, so its hooks see it whole, once, and may replace it before
the node's step. ``grad(outputs, inputs)`` runs only the nodes on a path to an input, as PyTorch does.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any

from .hooks import _call_post_accumulate_hooks, _call_tensor_hooks, _post_accumulate_hooks, _tensor_hooks
from .hooks import saved_tensors_hooks as saved_tensors_hooks  # (torch.autograd.graph.saved_tensors_hooks)

__all__ = ["topological_order", "run_backward", "saved_tensors_hooks"]


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
# An observer of the walk (the backward player, viz/player.py), or None: called once at the start of a
# walk as ``_observer(order, arrive, store, release)``, it returns the arrival step to use instead of
# ``arrive`` (None, or the hooks' or capture's step), or None to leave the walk as it is. Its step may run
# the node itself (then it returns None, as `_hooked` does for a post-accumulate hook). Off, it costs one
# test per walk, none per node.
_observer: Any = None


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

    store, release = capture is None, not retain_graph
    captured: list[Any] | None = None
    # What must happen when a node's gradient is complete, besides its step: a capture, or a hook.
    # None in a plain backward without hooks, so that the loop pays one test per node for both.
    arrive: Any = None
    if capture is not None:
        captured = [None] * len(capture)
        arrive = _capturing(order, capture, captured, release)
    elif _tensor_hooks or _post_accumulate_hooks:  # hooks somewhere: are any on this graph?
        arrive = _hooked(order, release)
    if _observer is not None:
        arrive = _observer(order, arrive, store, release) or arrive

    try:
        for node in reversed(order):
            g = node._g
            if g is None:  # no gradient reached it (another root's branch, or a None VJP)
                if release:
                    node._release()
                continue
            node._g = None
            if arrive is not None:
                g = arrive(node, g)
                if g is None:  # done with: captured, not needed, or stepped by `arrive`
                    continue
            node._backprop(g, store, release)
    except BaseException:
        for node in order:  # leave no gradient in flight behind
            node._g = None
        raise
    finally:
        for node, g in outer:
            node._g = g
    return captured


def _hooked(order: list[Any], release: bool) -> Any:
    """A backward pass's arrival step if a node of ``order`` has hooks (else None): the node's tensor hooks
    on its gradient, and, for a leaf with post-accumulate hooks, its step (into ``.grad``) followed by
    those hooks."""
    if not any(id(n) in _tensor_hooks or id(n) in _post_accumulate_hooks for n in order):
        return None

    def arrive(node: Any, g: Any) -> Any:
        hooks = _tensor_hooks.get(id(node))
        if hooks:
            g = _call_tensor_hooks(hooks, g)
        post = _post_accumulate_hooks.get(id(node))
        if post:
            node._backprop(g, True, release)
            _call_post_accumulate_hooks(post, node)
            return None
        return g

    return arrive


def _capturing(order: list[Any], capture: Sequence[Any], captured: list[Any], release: bool) -> Any:
    """``grad()``'s arrival step, as PyTorch's engine: a node runs only if it is *needed*, i.e. one of
    its parents is captured or needed (on a path to an input). A captured node that is not needed is
    captured after its hooks (and retain_grad) and goes no further; a needed one is captured as it
    arrives, then its hooks run and its step. No ``.grad`` of a leaf is touched."""
    wanted = {n: i for i, n in enumerate(capture)}
    needed = set()
    for node in order:  # parents come first
        for p in node._prev:
            if p is not None and (p in needed or p in wanted):
                needed.add(node)
                break
    hooked = bool(_tensor_hooks)

    def pre(node: Any, g: Any) -> Any:
        if hooked:
            hooks = _tensor_hooks.get(id(node))
            if hooks:
                g = _call_tensor_hooks(hooks, g)
        receive = getattr(node, "_receive", None)  # retain_grad: grad() stores it too, as PyTorch's
        if receive is not None:
            receive(g)
        return g

    def arrive(node: Any, g: Any) -> Any:
        i = wanted.get(node)
        if node in needed:
            if i is not None:
                captured[i] = g
            return pre(node, g)
        if i is not None:
            captured[i] = pre(node, g)
        if release:
            node._release()
        return None

    return arrive
