"""A step-through player of one backward pass: the forward values, then the chain rule, one node at a time.

    from tinygrad_tx.viz import player
    p = player(loss, model=model)        # runs loss's backward once, recording every step
    p                                    # in Jupyter: the graph and the controls, inline
    p.save("backward.html")              # one self-contained HTML file (no network)
    p.steps[7]                           # what step 7 showed, as Python data

What it shows, and why. Reverse mode is usually taught as one formula, but what the engine does is a
*walk*: it sorts the graph, then visits the nodes from the output to the inputs, and at each node it takes
the node's complete upstream gradient ``ȳ = dL/dy``, multiplies it by the node's local derivatives (a
vector-Jacobian product, never a Jacobian) and adds each result into a parent's in-flight gradient. A node
used twice receives the *sum* of its consumers' contributions, and runs only once all of them have arrived.
The player makes each of these moments a frame:

1. the forward pass first, the nodes in topological order with their values (a `Value`'s data; a tensor's
   shape, dtype and its elements, or min/max/mean/norm above 64 of them);
2. then one frame per node the engine visits, in exactly the engine's order: the op, its VJP formula from
   the primitive's docstring (``ā = ȳ ⊙ b, b̄ = ȳ ⊙ a`` for a tensor op; ``d out/da = b, d out/db = a`` and
   their values for a `Value`), the upstream gradient, the contribution sent to each parent, and each
   parent's in-flight gradient before and after (``before + contribution = after``: the ``+=`` of a
   node with several consumers), until every leaf holds its ``.grad``.

Every number is the engine's own, from one real backward: the player installs an observer on the walk
(``autograd.graph._observer``), which runs each node's step itself and reads what it sends (for a `Value`
the products ``node._d0 * g``, ``node._d1 * g``, the very expressions of ``Value._backprop``; for a tensor op
the outputs of its VJP, caught through the profiler's ``_vjp`` protocol, delegating to a profile that is
recording). The leaves' ``.grad`` afterwards are those of a plain ``backward()``, bit for bit. Nothing is
recomputed in the page: the JavaScript only shows the recorded frames.

The graph is laid out by Graphviz (``renderer.render_bytes``) as SVG with an ``id`` on every node, so the
page can highlight the current node, grey the ones still to come and fill in gradients as they arrive: in
flight (a partial sum), complete and waiting for the node's turn, passed on. The controls: first, previous,
play/pause, next, last, a slider, a step number, and "fit" (the whole graph in the pane); the keys → or j,
← or k, space, Home, End and f; ``#step=K`` in a saved page's URL opens it at step K.
Without JavaScript (a notebook on GitHub) the same SVG shows the final state: every value and gradient.

The graph must not have been through a backward yet (the player runs it): one whose saved values were
released raises a ValueError saying to rebuild it. One kept with ``retain_graph=True`` is accepted, and its
leaves' ``.grad`` accumulate as in a second ``backward()``. Intermediate tensors' values are known where the
engine kept them (leaves, the output, values an op saved for backward); run the forward pass inside
`recording` (or pass a function that builds the loss) to show every op's output. A tensor hook
(``register_hook``) runs as in any backward; the upstream gradient shown is then the one the hooks returned,
the one the node's step used, and, when they changed it, the gradient that arrived (``Step.arrived``, the sum
of what the node's consumers sent) is shown above it.
"""

from __future__ import annotations

import html
import itertools
import json
import math
import re
import weakref
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..autograd import graph as _graph
from ..autograd import profiler as _profiler
from ..function import Function
from ..scalar import Value
from ..tensor import Tensor
from ._formulas import _tensor_formulas, _value_formulas
from ._walk import _names, _scope_of, _scope_resolver, parent_scope
from .renderer import render_bytes

__all__ = ["player", "Player", "Step", "Contribution", "Accumulation", "recording", "ForwardRecord",
           "MAX_NODES"]

MAX_NODES = 150  # the default limit: a bigger graph is a wall of boxes, not a lesson
_ELEMENTS = 64  # a tensor with at most this many elements is shown element by element
_ids = itertools.count()


# ---------------------------------------------------------------------------------------------- records
@dataclass(frozen=True, eq=False)
class Contribution:
    """What a backward step sends to one parent slot: ``value = ∂L/∂parent`` through this node, as the
    engine computed it (a float for a `Value`, an array for a tensor; None: no gradient for that slot).
    ``local`` is a `Value`'s local derivative ``∂node/∂parent`` (None for a tensor op)."""

    parent: str  # the parent's node id ("n3")
    slot: int
    value: Any
    local: float | None = None
    text: str = ""


@dataclass(frozen=True, eq=False)
class Accumulation:
    """A parent's in-flight gradient around one backward step: ``before`` (None: nothing had arrived yet)
    plus the ``terms`` this step sent, in order, is ``after``; all three as the engine held them."""

    parent: str
    before: Any
    terms: tuple[Any, ...]
    after: Any
    text: str = ""


@dataclass(frozen=True, eq=False)
class Step:
    """One frame of the player.

    ``kind`` is ``"forward"`` (the node's value is computed: ``value``) or ``"backward"`` (the engine's step at
    the node: its complete upstream gradient ``grad``, what it sent to each parent, the parents' in-flight
    gradients before and after; at a leaf, ``leaf_grad``, its ``.grad`` after the step; ``arrived``, the gradient
    as it arrived when a tensor hook replaced it, ``grad`` then being what the hooks returned, the one the step
    used: the contributions the node received add up to ``arrived``). ``node`` is the node's
    id in the SVG (``n0``, ``n1``, ... in topological order), ``obj`` the engine node itself (a `Value`, a
    `Function` or a leaf `Tensor`). Values and gradients are floats for a `Value` graph, arrays for a tensor
    graph (None where a tensor's value was not kept); the ``*_text`` fields are what the page shows.
    """

    index: int
    kind: str
    node: str
    op: str
    label: str
    formula: str
    value: Any = None
    value_text: str = ""
    grad: Any = None
    grad_text: str = ""
    contributions: tuple[Contribution, ...] = ()
    accumulations: tuple[Accumulation, ...] = ()
    leaf_grad: Any = None
    leaf_grad_text: str = ""
    arrived: Any = None
    arrived_text: str = ""
    obj: Any = field(default=None, repr=False)


# --------------------------------------------------------------------------------- forward recording
class ForwardRecord:
    """The output arrays of the tensor ops applied while `recording` was active, by graph node."""

    def __init__(self) -> None:
        # by id, with a weak reference that tells a reused id apart (and keeps no graph alive, nor its saved
        # arrays read-only)
        self._outputs: dict[int, tuple[weakref.ref[Function], np.ndarray]] = {}

    def value(self, node: Function) -> np.ndarray | None:
        """The output of ``node`` when it was computed (None if it was not recorded)."""
        got = self._outputs.get(id(node))
        return got[1] if got is not None and got[0]() is node else None


class _Intercept:
    """Stands in as ``profiler._active`` (the protocol ``Function.apply`` and ``Function._vjp`` call), passing
    every call on to the profile that was active (if any): records each op's output while ``record`` is set,
    and the VJP outputs of the node that ``current`` names."""

    def __init__(self, record: ForwardRecord | None) -> None:
        self.prev = _profiler._active
        self.record = record
        self.current: Any = None
        self.vjp: tuple[Any, ...] | None = None

    def _time_apply(self, cls: Any, inputs: tuple[Any, ...], kwargs: dict[str, Any], scope: str) -> Any:
        if self.prev is not None:
            out = self.prev._time_apply(cls, inputs, kwargs, scope)
        else:
            out = cls._apply(inputs, kwargs, None)
        if self.record is not None and not _graph._walk_depth:
            ctx = getattr(out, "_ctx", None)
            if ctx is not None:
                self.record._outputs[id(ctx)] = (weakref.ref(ctx), out._data.copy())
        return out

    def _time_vjp(self, node: Any, g: Any) -> Any:
        grads = self.prev._time_vjp(node, g) if self.prev is not None else node._checked_vjp(g)
        if node is self.current and self.vjp is None:
            self.vjp = grads
        return grads


@contextmanager
def _intercepting(record: ForwardRecord | None) -> Iterator[_Intercept]:
    icpt = _Intercept(record)
    _profiler._active = icpt  # type: ignore[assignment]
    try:
        yield icpt
    finally:
        _profiler._active = icpt.prev


@contextmanager
def recording() -> Iterator[ForwardRecord]:
    """Record the output of every tensor op applied in the block, so that the player can show each one::

        with recording() as rec:
            loss = model(x)
        player(loss, forward=rec)
    """
    rec = ForwardRecord()
    with _intercepting(rec):
        yield rec


# ---------------------------------------------------------------------------------------------- numbers
def _scalar_text(x: float) -> str:
    """A float in full (the shortest text that reads back as the same float)."""
    return repr(float(x))


def _array_text(a: np.ndarray) -> str:
    """A tensor's elements (up to 64), else its statistics."""
    if a.size == 0:
        return f"(empty, shape {a.shape})"
    if a.size <= _ELEMENTS:
        if a.ndim == 0:
            return repr(float(a))
        return np.array2string(a, separator=", ", max_line_width=46, threshold=_ELEMENTS + 1,
                               formatter={"float_kind": lambda v: f"{v:.4g}"})
    f = a.astype(np.float64)
    return (f"min {f.min():.4g}  max {f.max():.4g}  mean {f.mean():.4g}  ‖·‖ {np.sqrt((f * f).sum()):.4g}  "
            f"({a.size} elements)")


def _short(x: Any) -> str:
    """What a node's box shows: 4 decimals for a number (micrograd's), 4 digits for a very small or large one,
    the norm of a tensor with more than one element."""
    if x is None:
        return "?"
    if isinstance(x, np.ndarray):
        if x.size == 1:
            return f"{float(x.reshape(())):.4g}"
        return f"‖·‖ {float(np.sqrt((x.astype(np.float64) ** 2).sum())):.4g}"
    return f"{x:.4f}" if x == 0 or not math.isfinite(x) or 1e-3 <= abs(x) < 1e5 else f"{x:.3e}"


def _same_bits(a: Any, b: Any) -> bool:
    """Two gradients (floats or arrays) with the same bits, nan included."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a == b or (a != a and b != b)


def _text(x: Any) -> str:
    if x is None:
        return "(not kept by the engine)"
    return _array_text(x) if isinstance(x, np.ndarray) else _scalar_text(x)


def _snapshot(x: Any) -> Any:
    """A gradient or value as plain data: a float for a `Value` graph, a copied array for a tensor one."""
    if x is None:
        return None
    if isinstance(x, Tensor):
        return np.array(x._data, copy=True)
    if isinstance(x, np.ndarray):
        return np.array(x, copy=True)
    return x


# ---------------------------------------------------------------------------------------------- the player
@dataclass(eq=False)
class _NodeInfo:
    index: int
    obj: Any
    kind: str  # value, leaf (a Value graph's), op, parameter, input (a tensor graph's)
    label: str
    op: str
    scope: str = ""
    value: Any = None
    parents: list[int | None] = field(default_factory=list)


class Player:
    """The frames of one recorded backward pass and the page that plays them (see the module docstring).

    ``steps`` are the frames as Python data; `html` is the page's markup (what Jupyter shows inline), `save`
    writes it as one self-contained HTML file, `document` returns that file's text."""

    def __init__(self, nodes: list[_NodeInfo], steps: list[Step], svg: str, title: str, scalar: bool) -> None:
        self.steps = steps
        self.title = title
        self._nodes = nodes
        self._svg = svg
        self._scalar = scalar

    @property
    def nodes(self) -> list[Any]:
        """The engine nodes in topological order (``steps[k].node == f"n{i}"`` names ``nodes[i]``)."""
        return [n.obj for n in self._nodes]

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        forward = sum(s.kind == "forward" for s in self.steps)
        return (f"<Player {self.title!r}: {len(self._nodes)} nodes, {forward} forward and "
                f"{len(self.steps) - forward} backward steps>")

    def html(self, *, standalone: bool = False) -> str:
        """The player's markup: the SVG (the final state, readable without JavaScript), the side panel, the
        controls, and the script that plays the recorded frames. ``standalone``: for a page of its own (the
        keyboard works anywhere on the page, and the URL's ``#step=K`` follows the step)."""
        uid = f"tgp{next(_ids)}"
        svg = re.sub(r'id="([^"]*)"', lambda m: f'id="{uid}-{m.group(1)}"', self._svg)
        frames = _frames(self.steps, self._nodes)
        data = {"uid": uid, "standalone": standalone, "nodes": len(self._nodes), "scalar": self._scalar,
                "steps": frames}
        payload = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
        final = _final_panel(self)
        return f"""<div class="tgp" id="{uid}" tabindex="0">
<style>{_asset("player.css")}</style>
<div class="tgp-head"><span class="tgp-title">{html.escape(self.title)}</span>
<span class="tgp-controls" hidden>
<button type="button" data-act="first" title="first step (Home)">|◀</button>
<button type="button" data-act="prev" title="previous step (← or k)">◀ prev</button>
<button type="button" data-act="play" title="play (space)">play</button>
<button type="button" data-act="next" title="next step (→ or j)">next ▶</button>
<button type="button" data-act="last" title="last step (End)">▶|</button>
<input type="range" class="tgp-slider" min="0" max="{len(self.steps) - 1}" value="0" aria-label="step">
<label>step <input type="number" class="tgp-number" min="0" max="{len(self.steps) - 1}" value="0"></label>
<span class="tgp-of">of 0–{len(self.steps) - 1}</span>
<button type="button" data-act="fit" title="the whole graph in the pane, or its own size (f)">fit</button></span></div>
<div class="tgp-body"><div class="tgp-graph">{svg}</div>
<div class="tgp-side"><div class="tgp-panel">{final}</div>{_legend(self._scalar)}</div></div>
<script type="application/json" class="tgp-data">{payload}</script>
<script>{_asset("player.js")}
tinygradPlayer(document.getElementById("{uid}"));</script>
</div>"""

    def _repr_html_(self) -> str:
        return self.html()

    def document(self) -> str:
        """The text of the self-contained HTML file `save` writes."""
        return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
                f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
                f"<title>{html.escape(self.title)}</title></head>\n<body class=\"tgp-page\">\n"
                f"{self.html(standalone=True)}\n</body></html>\n")

    def save(self, path: str | Path) -> Path:
        """Write the player as one HTML file (SVG, CSS and JavaScript inline; nothing is fetched) and return
        its path."""
        path = Path(path)
        path.write_text(self.document(), encoding="utf-8")
        return path


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _legend(scalar: bool) -> str:
    rows = [("future", "not computed yet"), ("computed", "computed (forward)"), ("current", "this step"),
            ("pending", "gradient in flight (partial sum)"), ("ready", "gradient complete, waiting its turn"),
            ("done", "gradient complete, passed on")]
    rows.insert(0, ("input", "input (leaf)"))
    if not scalar:
        rows.insert(0, ("parameter", "parameter (leaf)"))
    items = "".join(f'<li><span class="tgp-swatch tgp-s-{k}"></span>{html.escape(t)}</li>' for k, t in rows)
    flow = '<li><span class="tgp-swatch tgp-s-flow"></span>gradient sent this step</li>'
    return f'<div class="tgp-legend"><b>legend</b><ul>{items}{flow}</ul></div>'


def _final_panel(p: Player) -> str:
    """The panel without JavaScript: what the player is, and each leaf's gradient."""
    leaves = [s for s in p.steps if s.kind == "backward" and s.leaf_grad is not None]
    rows = "".join(f"<tr><td>{html.escape(s.label)}</td><td><code>{html.escape(s.leaf_grad_text)}</code></td></tr>"
                   for s in leaves[:12])
    more = f"<p>… and {len(leaves) - 12} more leaves</p>" if len(leaves) > 12 else ""
    return (f"<h3>after backward</h3><p>The graph shows every value and gradient after the backward pass. "
            f"With JavaScript the player steps through its {len(p.steps)} frames: the forward pass, then the "
            f"engine's backward walk, one node at a time.</p><table class=\"tgp-leaves\">{rows}</table>{more}")


def _frames(steps: list[Step], nodes: list[_NodeInfo]) -> list[dict[str, Any]]:
    """The steps as the page plays them: each one's panel, the edges its gradient flows along, and the boxes it
    changes, as ``[node, state, data text or None, grad text or None]`` (player.js replays them up to a step)."""
    frames = []
    prev: tuple[int, str] | None = None  # the previous step's node and the state it leaves it in
    # A node's gradient is complete once every consumer has sent its part: it then waits, "ready", for its
    # own turn (the engine runs a node only after all of its consumers), instead of still looking partial.
    senders: dict[str, int] = {}  # parent -> how many steps send it a gradient
    for s in steps:
        for a in s.accumulations:
            senders[a.parent] = senders.get(a.parent, 0) + 1
    received: dict[str, int] = {}
    for s in steps:
        i = int(s.node[1:])
        changes: list[list[Any]] = []
        if prev is not None and prev[0] != i:
            changes.append([prev[0], prev[1], None, None])
        edges: list[str] = []
        if s.kind == "forward":
            changes.append([i, "current", f"data {_short(s.value)}", None])
            prev = (i, "computed")
        else:
            shown = s.leaf_grad if s.leaf_grad is not None else s.grad
            changes.append([i, "current", None, f"grad {_short(shown)}"])
            for a in s.accumulations:
                received[a.parent] = received.get(a.parent, 0) + 1
                state = "ready" if received[a.parent] == senders[a.parent] else "pending"
                changes.append([int(a.parent[1:]), state, None, f"grad {_short(a.after)}"])
            edges = [f"e{i}_{c.slot}" for c in s.contributions if c.value is not None]
            if nodes[i].kind == "value" and edges:
                edges.append(f"e{i}op")
            prev = (i, "done")
        frame = _frame(s, nodes)
        frame["set"], frame["edges"] = changes, edges
        frames.append(frame)
    return frames


def _frame(s: Step, nodes: list[_NodeInfo]) -> dict[str, Any]:
    """A step's panel: what the side of the page says."""
    def name(i: int) -> str:
        n = nodes[i]
        return n.label if n.label not in (n.op, f"n{i}") else f"{n.op} n{i}"

    i = int(s.node[1:])
    e = html.escape
    parts = [f'<h3>{s.kind} · step {s.index}</h3>',
             f'<div class="tgp-node"><b>{e(s.label)}</b> <span class="tgp-op">{e(s.op)}</span> '
             f'<span class="tgp-id">n{i}</span></div>']
    if s.kind == "forward":
        info = nodes[i]
        ins = [name(p) for p in info.parents if p is not None]
        if ins:
            parts.append(f'<div class="tgp-formula">{e(s.formula)}</div>')
            parts.append(f'<div class="tgp-row">from {e(", ".join(ins))}</div>')
        else:
            parts.append(f'<div class="tgp-row">{e(s.formula)}</div>')
        parts.append(f'<div class="tgp-label">value</div><pre class="tgp-value">{e(s.value_text)}</pre>')
    else:
        parts.append(f'<div class="tgp-label">VJP</div><div class="tgp-formula">{e(s.formula)}</div>')
        if s.arrived is not None:  # a hook replaced the sum of the contributions
            parts.append(f'<div class="tgp-label">arrived, before the tensor\'s hooks (the sum of what was sent '
                         f'here)</div><pre class="tgp-accum tgp-arrived">{e(s.arrived_text)}</pre>')
        complete = "complete, as the hooks returned it" if s.arrived is not None else "complete"
        parts.append(f'<div class="tgp-label">upstream gradient ȳ = ∂L/∂{e(name(i))} ({complete})</div>'
                     f'<pre class="tgp-upstream">{e(s.grad_text)}</pre>')
        for c in s.contributions:
            local = f" = {_scalar_text(c.local)} · ȳ" if c.local is not None else ""
            parts.append(f'<div class="tgp-label">to {e(name(int(c.parent[1:])))} (input {c.slot}){e(local)}</div>'
                         f'<pre class="tgp-contrib" data-parent="{c.parent}">{e(c.text)}</pre>')
        for a in s.accumulations:
            parts.append(f'<div class="tgp-label">{e(name(int(a.parent[1:])))}: in-flight gradient, before + this '
                         f'step = after</div>'
                         f'<pre class="tgp-accum" data-parent="{a.parent}">{e(a.text)}</pre>')
        if s.leaf_grad is not None:
            parts.append(f'<div class="tgp-label">leaf: {e(s.label)}.grad += ȳ</div>'
                         f'<pre class="tgp-leafgrad">{e(s.leaf_grad_text)}</pre>')
        if not s.contributions and s.leaf_grad is None:
            parts.append('<div class="tgp-row">(no gradient is stored here)</div>')
    return {"kind": s.kind, "node": i, "html": "".join(parts)}


# ---------------------------------------------------------------------------------------------- building
def player(
    root: Any,
    *,
    model: Any = None,
    params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    forward: ForwardRecord | None = None,
    max_nodes: int = MAX_NODES,
    title: str | None = None,
    rankdir: str | None = None,
) -> Player:
    """Run ``root``'s backward once, recording every step, and return the `Player` that shows it.

    Args:
        root: a `Value`, or a one-element `Tensor` (the loss), whose graph has not been through a
            backward; or a function of no arguments that builds one (its forward pass is then recorded,
            so every op's output can be shown).
        model: a ``nn.Module``: names the parameters and groups the ops into its modules' clusters (a
            Tensor graph's; a Value graph's nodes are named by their labels).
        params: ``{name: tensor}`` to name leaves without a model (``tensor.name`` is used otherwise).
        forward: a `recording` of the forward pass that built ``root``.
        max_nodes: refuse (ValueError) a graph of more engine nodes than this.
        title: the heading (default: says what the root is).
        rankdir: ``'TB'`` (top to bottom, the default: a tall graph beside the panel) or ``'LR'``.
    """
    naming = model is not None or params is not None  # (what only a Tensor graph has; a recording is harmless)
    if callable(root) and not isinstance(root, (Value, Tensor)):
        forward = ForwardRecord()
        with _intercepting(forward):
            root = root()
    if isinstance(root, Tensor):
        if root.numel() != 1:
            raise ValueError(f"player: the root must be a scalar loss (one element), got a tensor of shape "
                             f"{root.shape}")
        if not root.requires_grad:
            raise ValueError("player: the root does not require grad: no graph was recorded (was it computed "
                             "under no_grad(), or from tensors without requires_grad=True?)")
        start = root._node()
    elif isinstance(root, Value):
        if naming:
            raise ValueError("player: model= and params= name the leaves of Tensor graphs, not of Value graphs (a "
                             "Value's name is its label)")
        start = root
    else:
        raise TypeError(f"player: expected a Value or a Tensor (or a function returning one), got "
                        f"{type(root).__name__}")
    if rankdir not in (None, "LR", "TB"):
        raise ValueError(f"player: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    if not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"player: max_nodes must be a positive integer, got {max_nodes!r}")
    try:
        order = _graph.topological_order([start])
    except RuntimeError as e:
        raise ValueError(f"player: this graph was already backpropagated and its saved values were released "
                         f"({e}). Rebuild it (run the forward pass again) and pass the new root: the player "
                         f"runs the backward itself.") from None
    if len(order) > max_nodes:
        raise ValueError(f"player: the graph has {len(order)} engine nodes, more than max_nodes={max_nodes}: a "
                         f"step-through of that many steps does not teach much. Use a smaller example (fewer "
                         f"layers, tokens or features), or pass max_nodes={len(order)} to play it anyway "
                         f"(draw(..., depth=k) gives the overview of a big graph).")
    scalar = isinstance(root, Value)
    nodes = _describe(order, root, model, params, forward)
    index = {id(n.obj): n.index for n in nodes}
    steps = [_forward_step(k, n, nodes) for k, n in enumerate(nodes)]
    steps += _record_backward(root, order, nodes, index, len(steps))
    if title is None:
        title = (f"backward of {nodes[-1].label}" if scalar else "backward of the loss") + \
            f": {len(nodes)} nodes, {len(steps)} steps"
    dot = _dot(nodes, steps, scalar, model, rankdir or "TB")
    svg = render_bytes(dot, "svg", "dot").decode("utf-8")
    svg = svg[svg.index("<svg"):]
    return Player(nodes, steps, svg, title, scalar)


def _describe(order: list[Any], root: Any, model: Any, params: Any, forward: ForwardRecord | None) -> list[_NodeInfo]:
    """One `_NodeInfo` per engine node in topological order, with its value where it is known."""
    index = {id(n): i for i, n in enumerate(order)}
    if isinstance(root, Value):
        infos = []
        for i, v in enumerate(order):
            parents: list[int | None] = [index[id(p)] for p in v._prev]
            label = v.label or (f"n{i}" if v._prev else _scalar_text(v.data))
            infos.append(_NodeInfo(i, v, "value" if v._prev else "leaf", label, v._op or "leaf", value=v.data,
                                   parents=parents))
        return infos
    names, classes = _names(model, params, "player")
    resolve = _scope_resolver(model, classes)  # a block called on its own (model.h[0](x)): its path in model
    known: dict[int, np.ndarray] = {id(root._node()): root._data}
    for n in order:  # the values the ops saved for backward: an op's output, or a parent's
        if isinstance(n, Function):
            out = getattr(n, "_out_data", None)
            if out is not None:
                known.setdefault(id(n), out)
            for t in getattr(n, "_saved", None) or ():
                if isinstance(t, Tensor) and t._ctx is not None:
                    known.setdefault(id(t._ctx), t._data)
    infos = []
    leaf_count = itertools.count()
    for i, n in enumerate(order):
        if isinstance(n, Tensor):
            from ..nn.module import Parameter

            name = names.get(id(n)) or getattr(n, "name", None) or f"leaf{next(leaf_count)}"
            kind = "parameter" if isinstance(n, Parameter) or id(n) in names else "input"
            scope = parent_scope(name) if kind == "parameter" else ""
            infos.append(_NodeInfo(i, n, kind, name, "leaf", scope, np.array(n._data, copy=True)))
            continue
        value = forward.value(n) if forward is not None else None
        if value is None and id(n) in known:
            value = np.array(known[id(n)], copy=True)
        parents = [None if p is None else index[id(p)] for p in n._prev]
        op = type(n).__name__
        tapped = getattr(n, "tapped", ())  # the names the layer gave this step (nn/tap.py): "q", "softmax · rho"
        label = f"{' · '.join(tapped)} = {op}" if tapped else op
        infos.append(_NodeInfo(i, n, "op", label, op, str(resolve(_scope_of(n))), value, parents))
    return infos


def _forward_step(k: int, n: _NodeInfo, nodes: list[_NodeInfo]) -> Step:
    if n.kind in ("leaf", "parameter", "input"):
        what = {"leaf": "a leaf (an input)", "parameter": "a parameter (a leaf)", "input": "an input (a leaf)"}
        formula = what[n.kind]
    elif isinstance(n.obj, Value):
        formula = _value_formulas(n.op)[0]
    else:
        formula = _tensor_formulas(n.obj)[0]
    value = n.value
    if isinstance(n.obj, (Tensor, Function)):
        shape = n.obj.shape if isinstance(n.obj, Tensor) else n.obj.out_shape
        dtype = n.obj.dtype if isinstance(n.obj, Tensor) else n.obj.out_dtype
        head = f"shape {tuple(shape)}, {np.dtype(dtype).name}\n"
        text = head + _text(value)
    else:
        text = _text(value)
    return Step(k, "forward", f"n{n.index}", n.op, n.label, formula, value=value, value_text=text, obj=n.obj)


def _record_backward(root: Any, order: list[Any], nodes: list[_NodeInfo], index: dict[int, int],
                     first: int) -> list[Step]:
    """Run ``root.backward()`` with an observer on the walk, and return one `Step` per node it ran."""
    steps: list[Step] = []
    walked: list[list[Any]] = []

    def observe(walk_order: list[Any], arrive: Any, store: bool, release: bool) -> Any:
        if walked:  # a backward inside a VJP: not this walk
            return None
        walked.append(walk_order)

        def step(node: Any, g: Any) -> None:
            upstream = g
            arrived = None  # what arrived, if the hooks replaced it
            if arrive is not None:  # hooks: they may replace the gradient, or run a leaf's step
                before_hooks = _snapshot(g)
                g = arrive(node, g)
                if g is None:
                    steps.append(_backward_step(first + len(steps), node, upstream, [], [], nodes, index))
                    return None
                if g is not upstream and not _same_bits(_snapshot(g), before_hooks):
                    arrived = before_hooks
            prev = node._prev
            distinct = list({id(p): p for p in prev if p is not None}.values())
            before = [_snapshot(p._g) for p in distinct]
            if isinstance(node, Value):
                contribs = [node._d0 * g, node._d1 * g][: len(prev)]  # the expressions of Value._backprop
                locals_ = [node._d0, node._d1][: len(prev)]
                node._backprop(g, store, release)
            elif isinstance(node, Function):
                icpt.current, icpt.vjp = node, None
                try:
                    node._backprop(g, store, release)
                finally:
                    icpt.current = None
                contribs = [None if c is None else _snapshot(c) for c in (icpt.vjp or (None,) * len(prev))]
                locals_ = [None] * len(prev)
            else:  # a leaf tensor
                contribs, locals_ = [], []
                node._backprop(g, store, release)
            after = [_snapshot(p._g) for p in distinct]
            steps.append(_backward_step(first + len(steps), node, g, list(zip(prev, contribs, locals_)),
                                        list(zip(distinct, before, after)), nodes, index, arrived))
            return None

        return step

    with _graph._walk_lock:  # (another thread's backward waits: the observer must see this walk only)
        saved, _graph._observer = _graph._observer, observe
        try:
            with _intercepting(None) as icpt:
                root.backward()
        finally:
            _graph._observer = saved
    if not walked or [id(n) for n in walked[0]] != [id(n) for n in order]:
        raise RuntimeError("player: the backward walk did not visit the graph the player sorted")
    return steps


def _backward_step(k: int, node: Any, g: Any, sent: list[tuple[Any, Any, Any]], around: list[tuple[Any, Any, Any]],
                   nodes: list[_NodeInfo], index: dict[int, int], arrived: Any = None) -> Step:
    """The record of one step of the walk at ``node``: ``sent`` is (parent, contribution, local derivative) per
    input slot, ``around`` (parent, in-flight gradient before, after) per distinct parent, ``arrived`` the
    gradient before the hooks replaced it with ``g`` (None: no hook changed it)."""
    info = nodes[index[id(node)]]
    g = _snapshot(g)
    if isinstance(node, Value):
        formula = _value_formulas(node._op)[1] if node._prev else "leaf: .grad += ȳ"
    elif isinstance(node, Function):
        formula = _tensor_formulas(node)[1]
    else:
        formula = "leaf: .grad += ȳ"
    contributions = []
    for slot, (p, c, local) in enumerate(sent):
        if p is None:
            continue
        contributions.append(Contribution(f"n{index[id(p)]}", slot, c, local, _text(c) if c is not None else
                                          "(no gradient for this input)"))
    accumulations = []
    for p, before, after in around:
        pid = f"n{index[id(p)]}"
        terms = tuple(c.value for c in contributions if c.parent == pid and c.value is not None)
        if not terms:
            continue
        if isinstance(after, np.ndarray) and after.size > 1:  # (the terms are shown in full above)
            # one line per array, by its norm: "‖a‖ + ‖b‖ = ‖a + b‖" would read as wrong arithmetic
            shown = ([f"before     {_short(before)}"] if before is not None else []) + \
                [f"this step  {_short(t)}" for t in terms]
            text = "\n".join(shown) + f"\nafter      {_short(after)}\n(arrays add elementwise; norms do not)" \
                if len(shown) > 1 else f"= {_short(after)}\n(the first gradient to arrive)"
        else:
            shown = ([_text(before)] if before is not None else []) + [_text(t) for t in terms]
            text = " + ".join(shown) + f"\n= {_text(after)}" if len(shown) > 1 else \
                f"= {_text(after)}\n(the first gradient to arrive)"
        accumulations.append(Accumulation(pid, before, terms, after, text))
    leaf_grad = None
    if not node._prev:
        leaf_grad = node.grad if isinstance(node, Value) else _snapshot(node._grad)
    return Step(k, "backward", f"n{info.index}", info.op, info.label, formula, grad=g, grad_text=_text(g),
                contributions=tuple(contributions), accumulations=tuple(accumulations), leaf_grad=leaf_grad,
                leaf_grad_text=_text(leaf_grad) if leaf_grad is not None else "", arrived=arrived,
                arrived_text=_text(arrived) if arrived is not None else "", obj=node)


# ---------------------------------------------------------------------------------------------- DOT
def _record_label(*fields: str) -> str:
    def esc(s: str) -> str:
        return re.sub(r'([{}|<>"\\])', r"\\\1", s)
    return "{" + " | ".join(esc(f) for f in fields) + "}"


def _dot(nodes: list[_NodeInfo], steps: list[Step], scalar: bool, model: Any, rankdir: str) -> str:
    """The graph in DOT, every node with an ``id`` the page finds it by, showing the final state."""
    final_grad: dict[int, Any] = {}
    for s in steps:
        if s.kind == "backward":
            i = int(s.node[1:])
            final_grad[i] = s.leaf_grad if s.leaf_grad is not None else s.grad
    lines = ["digraph player {", f"  rankdir={rankdir}; bgcolor=\"transparent\"; nodesep=0.25; ranksep=0.35;",
             '  node [fontname="Helvetica", fontsize=13, shape=record, style="rounded,filled", fillcolor="#ffffff",'
             ' color="#555555", penwidth=1.2];',
             '  edge [color="#777777", arrowsize=0.7, penwidth=1.2];']
    classes = {}
    if model is not None:
        classes = {path: type(m).__name__ for path, m in model.named_modules()}
    by_scope: dict[str, list[str]] = {}
    if not scalar:
        lines[2] = lines[2].replace("fontsize=13", "fontsize=11")
    for n in nodes:
        g = final_grad.get(n.index)
        if scalar:  # micrograd's box, across the arrows: label | data | grad
            fields = [n.label, f"data {_short(n.value)}", f"grad {_short(g)}"]
            label = _record_label(*fields) if rankdir == "LR" else _record_label(*fields)[1:-1]
        else:
            shape = n.obj.shape if isinstance(n.obj, Tensor) else n.obj.out_shape
            fields = [n.label, f"{tuple(shape)}", f"data {_short(n.value)}", f"grad {_short(g)}"]
            label = _record_label(*fields) if rankdir == "TB" else _record_label(*fields)[1:-1]
        fill = {"parameter": "#cfe2f3", "input": "#e6e0f8", "leaf": "#e6e0f8"}.get(n.kind, "#ffffff")
        decl = f'  n{n.index} [id="n{n.index}", label="{label}", fillcolor="{fill}"];'
        if scalar and n.op != "leaf":
            op = n.op.replace('"', '\\"')
            decl += (f'\n  n{n.index}op [id="n{n.index}op", label="{op}", shape=circle, style=filled, '
                     f'fillcolor="#ffffff", width=0.45, fixedsize=true, fontsize=14];'
                     f"\n  n{n.index}op -> n{n.index} [id=\"e{n.index}op\"];")
        by_scope.setdefault(n.scope if not scalar else "", []).append(decl)
        for slot, p in enumerate(n.parents):
            if p is None:
                continue
            target = f"n{n.index}op" if scalar else f"n{n.index}"
            lines.append(f'  n{p} -> {target} [id="e{n.index}_{slot}"];')
    # nested clusters, one per module scope (h ⊃ h.0 ⊃ h.0.attn)
    tree: set[str] = set()
    for s in by_scope:
        while s:
            tree.add(s)
            s = parent_scope(s)
    children: dict[str, list[str]] = {}
    for s in sorted(tree):
        children.setdefault(parent_scope(s), []).append(s)
    out: list[str] = []

    def emit(scope: str, indent: str) -> None:
        for kid in children.get(scope, []):
            cls = classes.get(kid, "")
            label = f"{kid} ({cls})" if cls else kid
            out.append(f'{indent}subgraph "cluster_{kid}" {{ id="c_{_safe(kid)}"; label="{label}"; '
                       f'fontname="Helvetica"; fontsize=12; style="rounded,dashed"; color="#9a8fc0"; '
                       f'fontcolor="#5b4d8a";')
            emit(kid, indent + "  ")
            out.append(f"{indent}}}")
        out.extend(indent + d.strip() for d in by_scope.get(scope, []))

    emit("", "  ")
    return "\n".join(lines[:4] + out + lines[4:] + ["}"])


def _safe(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", s)

