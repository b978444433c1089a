"""Named points of a forward pass: `tap` marks one, `record` collects them.

``tap("rho", a)`` returns ``a``. Inside ``with record() as kept:`` it also keeps ``a`` in ``kept``
under the calling module's dotted path and the name (``"h.0.attn.rho"``) and calls ``retain_grad()``,
so after ``backward()`` ``kept[name].grad`` is ∂L/∂(that tensor). The layers tap the points the math
names (q, k, v, S, ρ, the residual stream, the LayerNorm outputs, the logits): ``manual.compare``
reads the engine's intermediate gradients through them, from the one ``GPT.forward``.

A tapped tensor that needs no gradient (the output of frozen layers, as the embeddings under LoRA)
is replaced, while recording, by a leaf with the same values that requires one, so that a gradient
reaches every named point; the values, hence the loss, are unchanged. Outside ``record`` a tap costs
one check and, for a tensor an op computed, one attribute set: the op's node keeps the names it was
tapped under (``node.tapped``, ``("q",)``), so that a drawing of the graph (``viz.draw``) names it without
a recording; the names are relative to the calling module, whose path the node's cluster shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .. import function as _function
from ..autograd import is_grad_enabled
from ..tensor import Tensor

__all__ = ["tap", "record", "recording"]

_kept: dict[str, Tensor] | None = None  # the recording in progress, or None


def tap(name: str, a: Tensor) -> Tensor:
    """``a``, kept under ``<module path>.<name>`` while `record` is active; ``name`` is added to the names
    of the op that computed ``a`` (``a.grad_fn.tapped``), recording or not."""
    node = a._ctx
    if node is not None:
        node.tapped += (name,)
    if _kept is None:
        return a
    path = _function._scope[-1] if _function._scope else ""
    if is_grad_enabled() and a.dtype.kind == "f":
        if not a.requires_grad:
            a = a.detach().requires_grad_(True)
        a.retain_grad()
    _kept[f"{path}.{name}" if path else name] = a
    return a


@contextmanager
def record() -> Iterator[dict[str, Tensor]]:
    """Collect the tapped tensors of the forwards run inside, by dotted name (the last one wins)."""
    global _kept
    outer, _kept = _kept, {}
    try:
        yield _kept
    finally:
        _kept = outer


def recording() -> bool:
    """True while a `record` block collects the tapped tensors (a checkpointed forward keeps none of its
    tensors' graphs, so ``GPT`` does not checkpoint its blocks then)."""
    return _kept is not None
