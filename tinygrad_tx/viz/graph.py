"""Drawing a computation graph with Graphviz: `draw` builds the picture, `render` writes it to a file.

Both engines are drawn from the same node protocol (``node._prev``, see ``autograd.py``):

- a `Value` graph micrograd's way: one box per value (label, data, grad) and a small op node between
  a value and the values it was computed from;
- a `Tensor` graph one node per op (a `Function` instance, ``tensor.grad_fn``) with its output shape
  and dtype; the leaves are parameters (named after the module they belong to with ``model=``),
  inputs and constants, each in its own colour. Ops recorded inside a module call carry its dotted
  path (``ctx.scope``), which becomes nested Graphviz clusters (``h.0`` ⊃ ``h.0.attn`` ⊃
  ``h.0.attn.c_attn``); ``depth=k`` collapses each module at depth k into a single node.

A gradient computed with ``grad(..., create_graph=True)`` is a Tensor like any other: drawing it
shows backpropagation as one more computation (``forward=loss`` marks which of its nodes belong to the
forward pass). The ops a VJP records are scoped ``∇`` + the module of the op it differentiates, so the
backward pass is clustered too, as a mirror of the module tree (``∇h.0`` ⊃ ``∇h.0.attn``).

The graph is walked with explicit stacks (no recursion, so a 100,000-node chain is fine) and cut at
``max_nodes`` with a note saying what was left out. Rendering goes through `renderer.find_renderer`:
Graphviz's ``dot`` when it is on PATH, else the pip-installed ``graphviz-pure``. With neither, `render`
writes the DOT source anyway and raises `GraphvizNotFound`, whose message says what to install, and a
notebook shows that message instead of a traceback.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..function import Function
from ..scalar import Value
from ..tensor import Tensor
from .renderer import INSTALL_HINT, GraphvizNotFound, render_bytes

__all__ = ["draw", "render", "Graph", "GraphSummary", "GraphvizNotFound", "INSTALL_HINT", "FORMATS", "SUFFIXES"]

FORMATS = ("svg", "png", "jpeg", "pdf", "dot")  # "dot" is the DOT source itself: no renderer needed
SUFFIXES = {"svg": "svg", "png": "png", "jpg": "jpeg", "jpeg": "jpeg", "pdf": "pdf", "dot": "dot", "gv": "dot"}

# Fill colours by kind of node; the legend shows the ones a graph uses.
COLORS = {
    "op": "#ffffff",
    "backward": "#fce5cd",
    "parameter": "#cfe2f3",
    "input": "#d9ead3",
    "constant": "#eeeeee",
    "output": "#ffe599",
    "module": "#e4d7f5",
    "value": "#ffffff",
    "note": "#fff8c4",
}
LEGEND_TEXT = {
    "op": "op (output shape, dtype)",
    "backward": "backward op (not in the forward graph)",
    "parameter": "parameter",
    "input": "input (leaf, requires grad)",
    "constant": "constant (no grad)",
    "output": "output",
    "module": "module (collapsed)",
    "value": "value (data, grad)",
}
SCALAR_LEGEND_TEXT = {"input": "input (labelled leaf)", "constant": "constant (unlabelled leaf)", "op": "op"}
HIGHLIGHT = "#d62728"
EDGE = "#666666"
MUTED = "#555555"
# Cluster backgrounds by module class (known with model=), else by nesting depth.
CLUSTER_COLORS = {
    "CausalSelfAttention": "#fff2cc",
    "MLP": "#e2efda",
    "LayerNorm": "#ededed",
    "Linear": "#deebf7",
    "LoRALinear": "#deebf7",
    "Embedding": "#fbe4d5",
    "Block": "#f7f7f7",
    "GELU": "#ffffff",
    "ReLU": "#ffffff",
}
DEPTH_COLORS = ("#f5f5f5", "#ebebeb", "#e0e0e0", "#f5f5f5")


@dataclass
class GraphSummary:
    """What a drawing contains: the numbers a test or a caption can quote.

    ``nodes``/``edges`` are what was drawn (without the truncation note); ``total_nodes`` is the size
    of the graph before ``max_nodes`` cut it; ``clusters`` are the module paths drawn as clusters and
    ``parents`` maps each to the cluster it is nested in ('' at the top).
    """

    nodes: int
    edges: int
    total_nodes: int
    truncated: bool
    clusters: list[str] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)


class Graph(graphviz.Digraph):
    """A `graphviz.Digraph` that also carries a `GraphSummary` (``.summary``). It renders (``pipe``, and
    so the Jupyter display) with whichever Graphviz `renderer.find_renderer` finds, and displays as the
    install hint instead of a traceback when there is none."""

    summary: GraphSummary | None = None

    def pipe(self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
             neato_no_op: bool | int | None = None, quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None) -> bytes | str:
        """``graphviz.Digraph.pipe`` through the shared lookup (the system ``dot``, else graphviz-pure).
        ``renderer=``, ``formatter=`` and ``neato_no_op=`` are ``dot``'s own options: they need the system ``dot``."""
        if renderer is not None or formatter is not None or neato_no_op:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine, encoding=encoding)
        data = render_bytes(self.source, format or self.format, engine or self.engine)
        return data.decode(encoding) if encoding is not None else data

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict[str, Any]:
        try:
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        except GraphvizNotFound as e:
            n = self.summary.nodes if self.summary else "?"
            return {"text/plain": f"<graph of {n} nodes: not rendered>\n{e}"}


# ---------------------------------------------------------------------------------------------
# The display graph: what will become DOT nodes and edges.
# ---------------------------------------------------------------------------------------------
class _Item:
    """One DOT node: its kind, the engine object it shows, its parents (indices of items)."""

    __slots__ = ("kind", "obj", "parents", "scope", "output", "info")

    def __init__(self, kind: str, obj: Any, scope: str = "", info: Any = None) -> None:
        self.kind = kind
        self.obj = obj
        self.parents: list[int] = []
        self.scope = scope
        self.output = False
        self.info = info


def _collect(roots: Sequence[Any]) -> tuple[list[Any], dict[int, int]]:
    """Every node reachable from ``roots`` through ``_prev``, parents before children, iteratively.

    Unlike ``autograd.topological_order`` it does not refuse nodes already released by a backward
    (a graph after backward is still worth drawing); nodes are keyed by ``id``.
    """
    order: list[Any] = []
    index: dict[int, int] = {}
    expanded: set[int] = set()
    stack: list[tuple[Any, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            index[key] = len(order)
            order.append(node)
            continue
        if key in expanded:
            continue
        expanded.add(key)
        stack.append((node, True))
        for parent in reversed(node._prev):
            if parent is not None and id(parent) not in expanded:
                stack.append((parent, False))
    return order, index


def _as_roots(root: Any) -> list[Any]:
    if isinstance(root, (Value, Tensor, Function)):
        return [root]
    if isinstance(root, Iterable) and not isinstance(root, (str, bytes, np.ndarray)):
        roots = list(root)
        if roots and all(isinstance(r, (Value, Tensor, Function)) for r in roots):
            return roots
    raise TypeError(f"draw: expected a Value or a Tensor (or a list of them), got {type(root).__name__}")


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=False)


def _num(x: float) -> str:
    """A number in little room: 4 decimals in the usual range, scientific notation outside it."""
    if x == 0 or not np.isfinite(x):
        return f"{x:.4f}" if x == 0 else str(x)
    return f"{x:.4f}" if 1e-3 <= abs(x) < 1e4 else f"{x:.3e}"


def _shape(shape: Any) -> str:
    return "(" + ", ".join(str(int(s)) for s in shape) + ")" if len(shape) != 1 else f"({int(shape[0])},)"


# ---------------------------------------------------------------------------------------------
# draw
# ---------------------------------------------------------------------------------------------
def draw(
    root: Any,
    *,
    model: Any = None,
    params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    depth: int | None = None,
    rankdir: str | None = None,
    stats: bool | str = False,
    highlight: Any = None,
    max_nodes: int | None = 2000,
    forward: Any = None,
    constants: bool = True,
    clusters: bool = True,
    legend: bool = True,
    title: str | None = None,
) -> Graph:
    """Draw the graph that computed ``root`` (a `Value`, a `Tensor`, or a list of them).

    Args:
        model: a ``nn.Module``: names its parameters (``h.0.attn.c_attn.weight``) and gives the
            clusters their class names.
        params: ``{name: tensor}`` (e.g. ``dict(model.named_parameters())``) to name leaves without a
            model; ``tensor.name`` is used for leaves it does not cover.
        depth: collapse every module at this depth of the dotted path (``h.0`` is depth 2), and every
            shallower module without sub-modules (``ln_f``), into one node with its input and output
            shapes. None draws every op.
        rankdir: ``'TB'`` (top to bottom) or ``'LR'``; default LR for scalars, TB for tensors.
        stats: for tensors, statistics of data and grad where they are known (leaves, the output,
            ``retain_grad()`` intermediates): ``True`` or ``'norm'`` for norms, ``'mean_std'`` for
            mean and standard deviation, ``'all'`` for both.
        highlight: a leaf (tensor, value, or its name/label) or a list of them: the path from it to
            the output is drawn in red.
        max_nodes: draw at most this many nodes, those nearest the output, and say how many were left
            out. None draws everything.
        forward: for a gradient computed with ``create_graph=True``, the forward output (the loss):
            ops not in its graph are coloured as backward ops.
        constants: draw the inputs that need no gradient (masks, targets, the seed of a backward).
        clusters: group ops by module (needs the ops to have run inside module calls).
        legend, title: a legend of the colours used, and a title, under the graph.

    Returns:
        a `Graph` (a ``graphviz.Digraph``): display it in Jupyter, ``render`` it, or read ``.source``;
        ``.summary`` counts its nodes, edges and clusters.
    """
    roots = _as_roots(root)
    scalar = isinstance(roots[0], Value)
    if any(isinstance(r, Value) != scalar for r in roots):
        raise TypeError("draw: cannot mix Value and Tensor roots in one graph")
    rankdir = rankdir or ("LR" if scalar else "TB")
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(f"draw: rankdir must be 'TB' or 'LR' (or 'BT', 'RL'), got {rankdir!r}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw: max_nodes must be positive or None, got {max_nodes}")
    stats_mode = ("norm" if stats else None) if isinstance(stats, bool) else stats
    if stats_mode not in (None, "norm", "mean_std", "all"):
        raise ValueError(f"draw: stats must be a bool, 'norm', 'mean_std' or 'all', got {stats!r}")
    classes: dict[str, str] = {}
    if scalar:
        if depth is not None or model is not None or params is not None or forward is not None:
            raise ValueError("draw: depth=, model=, params= and forward= apply to Tensor graphs, not Value graphs")
        items, roots_idx, sources = _scalar_items(roots, highlight)
    else:
        if depth is not None and depth < 1:
            raise ValueError(f"draw: depth must be >= 1 (h.0 is depth 2), got {depth}")
        items, roots_idx, sources, classes = _tensor_items(roots, model, params, depth, forward, constants, highlight)
    on_path = _path(items, sources) if sources is not None else None
    keep = _truncate(items, roots_idx, max_nodes)
    return _emit(items, keep, len(items), on_path, rankdir, clusters and not scalar, classes, stats_mode, legend,
                 title, max_nodes, scalar)


# -- scalars ------------------------------------------------------------------------------------
def _scalar_items(roots: list[Value], highlight: Any) -> tuple[list[_Item], list[int], list[int] | None]:
    order, index = _collect(roots)
    items: list[_Item] = []
    value_item: list[int] = [0] * len(order)
    for i, v in enumerate(order):
        if v._prev:
            op = _Item("valop", v)
            op.parents = [value_item[index[id(p)]] for p in v._prev]
            items.append(op)
            it = _Item("value", v, info="intermediate")
            it.parents = [len(items) - 1]
        else:
            it = _Item("value", v, info="input" if v.label else "constant")
        value_item[i] = len(items)
        items.append(it)
    roots_idx = [value_item[index[id(r)]] for r in roots]
    for r in roots_idx:
        items[r].output = True
    sources = None
    if highlight is not None:
        wanted = highlight if isinstance(highlight, (list, tuple, set)) else [highlight]
        sources = []
        for w in wanted:
            hits = [value_item[i] for i, v in enumerate(order) if v is w or (isinstance(w, str) and v.label == w)]
            if not hits:
                labels = sorted({v.label for v in order if v.label})
                raise ValueError(f"draw: highlight {w!r} is not in the graph (labels: {', '.join(labels) or 'none'})")
            sources += hits
    return items, roots_idx, sources


# -- tensors ------------------------------------------------------------------------------------
def _names(model: Any, params: Any) -> tuple[dict[int, str], dict[str, str]]:
    """Leaf names by tensor identity, and module class names by dotted path."""
    names: dict[int, str] = {}
    classes: dict[str, str] = {}
    if model is not None:
        for path, m in model.named_modules():
            classes[path] = type(m).__name__
        for name, p in model.named_parameters():
            names.setdefault(id(p), name)
    if params is not None:
        pairs = params.items() if isinstance(params, Mapping) else params
        for name, p in pairs:
            names.setdefault(id(p), name)
    return names, classes


def _parent_scope(scope: str) -> str:
    return scope.rsplit(".", 1)[0] if "." in scope else ""


def _tensor_items(
    roots: list[Any], model: Any, params: Any, depth: int | None, forward: Any, constants: bool, highlight: Any,
) -> tuple[list[_Item], list[int], list[int] | None, dict[str, str]]:
    """The display items of a Tensor graph (module groups already collapsed), the output items, the
    items to highlight from, and the class name of each module path."""
    from ..nn.module import Parameter

    root_nodes = [r._node() if isinstance(r, Tensor) else r for r in roots]
    order, index = _collect(root_nodes)
    names, classes = _names(model, params)
    fwd: set[int] | None = None
    if forward is not None:
        fwd_order, _ = _collect([f._node() if isinstance(f, Tensor) else f for f in _as_roots(forward)])
        fwd = {id(node) for node in fwd_order}

    # The fine graph: one entry per node, then one per constant (a None parent) if they are drawn.
    n = len(order)
    kinds: list[str] = []
    scopes: list[str] = []
    parents: list[list[int]] = []
    const_shapes: list[Any] = []
    const_consumer: list[int] = []
    for i, node in enumerate(order):
        if isinstance(node, Tensor):
            kinds.append("parameter" if isinstance(node, Parameter) or id(node) in names else "input")
            scopes.append("")
            parents.append([])
            continue
        kinds.append("op" if fwd is None or id(node) in fwd else "backward")
        scopes.append(getattr(node, "scope", "") or "")
        in_shapes = getattr(node, "_in_shapes", None)
        ps: list[int] = []
        for slot, p in enumerate(node._prev):
            if p is not None:
                ps.append(index[id(p)])
            elif constants:
                ps.append(n + len(const_shapes))
                const_shapes.append(in_shapes[slot] if in_shapes is not None and slot < len(in_shapes) else None)
                const_consumer.append(i)
        parents.append(ps)
    for c in const_consumer:
        kinds.append("constant")
        scopes.append(scopes[c])
        parents.append([])
    total = len(kinds)
    objs: list[Any] = list(order) + const_shapes
    consumers: list[list[int]] = [[] for _ in range(total)]
    for c, ps in enumerate(parents):
        for p in ps:
            consumers[p].append(c)

    # The module tree: every scope an op ran in, and every prefix of one (h, h.0, h.0.mlp, ...).
    op_scopes = {scopes[i] for i in range(n) if kinds[i] != "parameter" and kinds[i] != "input"} - {""}
    tree = set(op_scopes)
    for s in op_scopes:
        while "." in s:
            s = s.rsplit(".", 1)[0]
            tree.add(s)
    inner = {_parent_scope(s) for s in tree} - {""}  # modules with sub-modules
    # With depth=k a module at depth k, or a shallower one without sub-modules, is one node.
    collapsed: dict[str, str | None] = {}
    for s in tree:
        comps = s.split(".")
        if depth is None:
            collapsed[s] = None
        elif len(comps) >= depth:
            collapsed[s] = ".".join(comps[:depth])
        else:
            collapsed[s] = None if s in inner else s
    clusters = {s for s in tree if collapsed[s] is None}

    def place(scope: str) -> str:
        """The innermost drawn cluster at or above ``scope``."""
        while scope and scope not in clusters:
            scope = _parent_scope(scope)
        return scope

    # Leaves: a parameter goes to its module (named by model=/params=), a constant to its consumer.
    group: list[str | None] = [None] * total
    for i in range(total):
        kind = kinds[i]
        if kind in ("op", "backward"):
            group[i] = collapsed.get(scopes[i]) if scopes[i] else None
    for i in range(total):
        kind = kinds[i]
        if kind == "parameter":
            name = names.get(id(objs[i])) or objs[i].name or ""
            own = _parent_scope(name)
            cs = {scopes[c] for c in consumers[i]}
            scopes[i] = own if own else (next(iter(cs)) if len(cs) == 1 else "")
            gs = {group[c] for c in consumers[i]}
            g = gs.pop() if len(gs) == 1 else None
            if g is not None and (not own or own == g or own.startswith(g + ".")):
                group[i] = g
        elif kind == "constant":
            group[i] = group[const_consumer[i - n]]

    # Display items, in topological order; constants just before their consumer; a module group where
    # its first member is.
    fine_order: list[int] = []
    consts_of: dict[int, list[int]] = {}
    for j, c in enumerate(const_consumer):
        consts_of.setdefault(c, []).append(n + j)
    for i in range(n):
        fine_order.extend(consts_of.get(i, ()))
        fine_order.append(i)
    items: list[_Item] = []
    item_of = [-1] * total
    group_item: dict[str, int] = {}
    members: dict[str, list[int]] = {}
    for i in fine_order:
        g = group[i]
        if g is None:
            item_of[i] = len(items)
            kind = kinds[i]
            info: Any = None
            if kind in ("parameter", "input"):
                info = names.get(id(objs[i])) or objs[i].name
            items.append(_Item(kind, objs[i], place(scopes[i]), info))
            continue
        if g not in group_item:
            group_item[g] = len(items)
            members[g] = []
            items.append(_Item("module", g, place(_parent_scope(g))))
        item_of[i] = group_item[g]
        members[g].append(i)
    for i in fine_order:
        me = item_of[i]
        it = items[me]
        for p in parents[i]:
            pi = item_of[p]
            if pi == me or (it.kind == "module" and pi in it.parents):
                continue
            it.parents.append(pi)
    root_fine = {index[id(node)] for node in root_nodes}
    for g, ms in members.items():
        mset = set(ms)
        ins: list[str] = []
        outs: list[str] = []
        for i in ms:
            for p in parents[i]:  # what flows in: activations (parameters and constants are drawn)
                if p not in mset and kinds[p] not in ("parameter", "constant") and \
                        (s := _shape(_out_shape(objs[p], kinds[p]))) not in ins:
                    ins.append(s)
            if (i in root_fine or any(c not in mset for c in consumers[i])) and \
                    (s := _shape(_out_shape(objs[i], kinds[i]))) not in outs:
                outs.append(s)
        ps = [objs[i] for i in ms if kinds[i] == "parameter"]
        items[group_item[g]].info = {
            "class": classes.get(g, ""), "in": ins, "out": outs,
            "ops": sum(1 for i in ms if kinds[i] in ("op", "backward")),
            "params": len(ps), "numel": sum(int(p._data.size) for p in ps),
        }
    roots_idx: list[int] = []
    for r, node in zip(roots, root_nodes):
        ri = item_of[index[id(node)]]
        items[ri].output = True
        roots_idx.append(ri)
        if isinstance(r, Tensor) and items[ri].kind in ("op", "backward"):
            items[ri].info = r  # the output tensor itself: its data is known

    sources = None
    if highlight is not None:
        wanted = highlight if isinstance(highlight, (list, tuple, set)) else [highlight]
        sources = []
        for w in wanted:
            target = w._node() if isinstance(w, Tensor) else w
            hits = [item_of[i] for i in range(n) if order[i] is target or (
                isinstance(w, str) and isinstance(order[i], Tensor)
                and (names.get(id(order[i])) == w or order[i].name == w))]
            if not hits:
                named = sorted({names.get(id(t)) or t.name or "" for t in order if isinstance(t, Tensor)} - {""})
                shown = ", ".join(named[:12]) + (", ..." if len(named) > 12 else "")
                raise ValueError(f"draw: highlight {w!r} is not in the graph (named leaves: {shown or 'none'})")
            sources += hits
    return items, roots_idx, sources, classes


def _out_shape(obj: Any, kind: str) -> tuple[int, ...]:
    if kind == "constant":
        return tuple(obj) if obj is not None else ()
    if isinstance(obj, Tensor):
        return obj.shape
    return tuple(getattr(obj, "out_shape", ()))


# -- path, truncation ---------------------------------------------------------------------------
def _path(items: list[_Item], sources: list[int]) -> set[int]:
    """The items reachable from ``sources`` following the data (children), breadth first."""
    children: list[list[int]] = [[] for _ in items]
    for c, it in enumerate(items):
        for p in it.parents:
            children[p].append(c)
    on = set(sources)
    frontier = list(sources)
    while frontier:
        nxt = []
        for i in frontier:
            for c in children[i]:
                if c not in on:
                    on.add(c)
                    nxt.append(c)
        frontier = nxt
    return on


def _truncate(items: list[_Item], roots_idx: list[int], max_nodes: int | None) -> list[int]:
    """The items to draw, in order: all of them, or the ``max_nodes`` nearest the outputs."""
    if max_nodes is None or len(items) <= max_nodes:
        return list(range(len(items)))
    keep: set[int] = set()
    frontier = list(dict.fromkeys(roots_idx))
    while frontier and len(keep) < max_nodes:
        nxt = []
        for i in frontier:
            if i in keep:
                continue
            keep.add(i)
            if len(keep) == max_nodes:
                break
            nxt.extend(p for p in items[i].parents if p not in keep)
        frontier = nxt
    return sorted(keep)


# -- DOT -------------------------------------------------------------------------------------------
def _stats_text(data: Any, grad: Any, mode: str) -> list[str]:
    rows = []
    for what, a in (("data", data), ("grad", grad)):
        if a is None:
            continue
        a = np.asarray(a, dtype=np.float64)
        if a.size == 0:
            continue
        parts = []
        if mode in ("norm", "all"):
            parts.append(f"‖·‖ {_num(float(np.sqrt(np.sum(a * a))))}")
        if mode in ("mean_std", "all"):
            parts.append(f"μ {_num(float(a.mean()))} σ {_num(float(a.std()))}")
        rows.append(f"{what} " + "  ".join(parts))
    return rows


def _small(text: str, color: str = MUTED) -> str:
    return f'<font point-size="8" color="{color}">{_esc(text)}</font>'


def _flow(ins: list[str], outs: list[str], most: int = 3) -> str:
    """``in (B, T, C) → out (B, T, C)``, with long lists shortened."""

    def short(shapes: list[str]) -> str:
        extra = f" (+{len(shapes) - most} more)" if len(shapes) > most else ""
        return ", ".join(shapes[:most]) + extra

    return (f"in {short(ins)} " if ins else "") + f"→ out {short(outs) or '-'}"


def _tensor_node(it: _Item, stats_mode: str | None) -> tuple[str, dict[str, str]]:
    """The HTML label and the attributes of one tensor-graph node."""
    kind = it.kind
    lines: list[str] = []
    attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": COLORS[kind]}
    data = grad = None
    if kind in ("op", "backward"):
        node = it.obj
        dtype = getattr(node, "out_dtype", None)
        lines.append(f"<b>{_esc(type(node).__name__)}</b>")
        lines.append(_small(f"{_shape(getattr(node, 'out_shape', ()))} {dtype if dtype is not None else ''}".strip()))
        out = it.info if isinstance(it.info, Tensor) else None
        retained = getattr(node, "_retained", None)
        if out is None and retained is not None:
            out = retained()
        if out is not None:
            data, grad = out._data, out.grad
            if data.size == 1:  # a loss: its value, rather than statistics of one number
                lines.append(f"= {_esc(_num(float(data.reshape(-1)[0])))}")
                data = None
    elif kind in ("parameter", "input"):
        t = it.obj
        lines.append(f"<b>{_esc(it.info or ('Parameter' if kind == 'parameter' else 'input'))}</b>")
        lines.append(_small(f"{_shape(t.shape)} {t.dtype}"))
        data, grad = t._data, t.grad
        attrs["style"] = "filled"
    elif kind == "constant":
        shape = "" if it.obj is None else " scalar" if len(it.obj) == 0 else f" {_shape(it.obj)}"
        lines.append(_small(f"const{shape}", "#333333"))
        attrs.update(style="dashed,filled", color="#888888", height="0.2", margin="0.04,0.01")
    elif kind == "module":
        info = it.info
        head = f"<b>{_esc(it.obj)}</b>" + (f" <i>{_esc(info['class'])}</i>" if info["class"] else "")
        lines.append(head)
        lines.append(_small(_flow(info["in"], info["out"]), "#333333"))
        counts = f"{info['ops']} op" + ("s" if info["ops"] != 1 else "")
        if info["params"]:
            counts += f" · {info['params']} param" + ("s" if info["params"] != 1 else "") + f" ({info['numel']:,})"
        lines.append(_small(counts))
        attrs["shape"] = "box3d"
        attrs["style"] = "filled"
    if stats_mode is not None and (data is not None or grad is not None):
        lines.extend(_small(row, "#1f4e79") for row in _stats_text(data, grad, stats_mode))
    if it.output:
        attrs["fillcolor"] = COLORS["output"]
        attrs["penwidth"] = "1.5"
    return "<" + "<br/>".join(lines) + ">", attrs


def _value_node(it: _Item) -> tuple[str, dict[str, str]]:
    v: Value = it.obj
    if it.kind == "valop":
        return f"<{_esc(v._op)}>", {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f3f3", "fontsize": "9",
                             "margin": "0.03,0.01", "height": "0.3"}
    kind = "output" if it.output else {"input": "input", "constant": "constant"}.get(it.info, "value")
    label = f"<b>{_esc(v.label)}</b>" if v.label else ""
    cells = ([f"<td>{label}</td>"] if label else []) + [
        f"<td>data {_esc(_num(v.data))}</td>", f"<td>grad {_esc(_num(v.grad))}</td>"]
    table = (f'<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="{COLORS[kind]}">'
             f"<tr>{''.join(cells)}</tr></table>")
    return f"<{table}>", {"shape": "none", "margin": "0"}


def _legend(kinds: list[str], highlighted: bool, title: str | None, caption: str, scalar: bool) -> str:
    cells = []
    for k in kinds:
        style = ' style="dashed"' if k == "constant" else ""
        color = "#f3f3f3" if scalar and k == "op" else COLORS[k]
        text = SCALAR_LEGEND_TEXT.get(k, LEGEND_TEXT[k]) if scalar else LEGEND_TEXT[k]
        cells.append(f'<td bgcolor="{color}" border="1"{style}>{_esc(text)}</td>')
    if highlighted:
        cells.append(f'<td border="1" color="{HIGHLIGHT}"><font color="{HIGHLIGHT}">highlighted path</font></td>')
    rows = []
    if title:
        rows.append(f'<tr><td colspan="{max(len(cells), 1)}" align="left"><b>{_esc(title)}</b></td></tr>')
    if cells:
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append(f'<tr><td colspan="{max(len(cells), 1)}" align="left">{_small(caption)}</td></tr>')
    return ('<<table border="0" cellborder="0" cellspacing="3" cellpadding="3">' + "".join(rows) + "</table>>")


def _cluster_label(scope: str, classes: dict[str, str]) -> str:
    cls = classes.get(scope.lstrip("∇"))  # "∇h.0.attn": the backward pass of module h.0.attn
    return f"<<b>{_esc(scope)}</b>" + (f"  <i>{_esc(cls)}</i>" if cls else "") + ">"


def _cluster_color(scope: str, classes: dict[str, str]) -> str:
    cls = classes.get(scope.lstrip("∇"))
    if cls in CLUSTER_COLORS:
        return CLUSTER_COLORS[cls]
    return DEPTH_COLORS[scope.count(".") % len(DEPTH_COLORS)]


def _emit(
    items: list[_Item], keep: list[int], total: int, on_path: set[int] | None, rankdir: str,
    use_clusters: bool, classes: dict[str, str], stats_mode: str | None, legend: bool, title: str | None,
    max_nodes: int | None, scalar: bool,
) -> Graph:
    """Write the kept items as DOT: nodes in their clusters, then the edges, then the legend."""
    g = Graph(
        name="tinygrad_tx",
        graph_attr={"rankdir": rankdir, "fontname": "Helvetica", "fontsize": "10", "nodesep": "0.2",
                    "ranksep": "0.3", "labeljust": "l", "labelloc": "b", "newrank": "true",
                    # bound dot's network simplex (x coordinates): without it a 600-node gradient graph
                    # took minutes; with it seconds, and small graphs converge before the bound
                    "nslimit": "4"},
        node_attr={"fontname": "Helvetica", "fontsize": "10", "margin": "0.08,0.03", "height": "0.3",
                   "color": "#444444"},
        edge_attr={"color": EDGE, "arrowsize": "0.6"},
    )
    kept = set(keep)
    bodies: dict[str, list[tuple[str, str, dict[str, str]]]] = {}
    kinds_used: dict[str, int] = {}
    outputs = 0
    for i in keep:
        it = items[i]
        label, attrs = _value_node(it) if scalar else _tensor_node(it, stats_mode)
        if on_path is not None and i in on_path:
            attrs["color"] = HIGHLIGHT
            attrs["penwidth"] = "2.5"
            if scalar and it.kind == "value":
                label = label.replace('cellborder="1"', f'cellborder="1" color="{HIGHLIGHT}"', 1)
        scope = it.scope if use_clusters else ""
        bodies.setdefault(scope, []).append((f"n{i}", label, attrs))
        kind = it.kind if not scalar else ("op" if it.kind == "valop" else
                                           "output" if it.output else {"input": "input", "constant": "constant"}
                                           .get(it.info, "value"))
        kinds_used[kind] = kinds_used.get(kind, 0) + 1
        if it.output and not scalar:
            outputs += 1
    # Clusters, innermost first so each is complete when it is added to its parent.
    scopes = set()
    for s in bodies:
        while s:
            scopes.add(s)
            s = _parent_scope(s)
    graphs: dict[str, graphviz.Digraph] = {"": g}
    for s in scopes:
        graphs[s] = graphviz.Digraph(
            name=f"cluster_{s}",
            graph_attr={"label": _cluster_label(s, classes), "style": "rounded,filled",
                        "fillcolor": _cluster_color(s, classes), "color": "#999999", "fontsize": "10",
                        "labeljust": "l", "labelloc": "t", "margin": "6"},
        )
    for s, nodes in bodies.items():
        sub = graphs[s]
        for name, label, attrs in nodes:
            sub.node(name, label=label, **attrs)
    for s in sorted(scopes, key=lambda s: -s.count(".")):
        graphs[_parent_scope(s)].subgraph(graphs[s])
    # Edges (parent -> child, the direction data flows); the truncation note feeds the cut frontier.
    n_edges = 0
    cut_children = []
    for i in keep:
        it = items[i]
        missing = False
        for p in it.parents:
            if p not in kept:
                missing = True
                continue
            attrs = {}
            if on_path is not None and p in on_path and i in on_path:
                attrs = {"color": HIGHLIGHT, "penwidth": "2"}
            g.edge(f"n{p}", f"n{i}", **attrs)
            n_edges += 1
        if missing:
            cut_children.append(i)
    truncated = len(keep) < total
    if truncated:
        note = (f"… {total - len(keep):,} more nodes not drawn (max_nodes={max_nodes}).\n"
                f"Pass max_nodes=None to draw all {total:,}" + ("" if scalar else ", or depth=k to collapse modules")
                + ".")
        g.node("truncated", label=note, shape="note", style="filled", fillcolor=COLORS["note"], fontsize="11")
        for c in cut_children:
            g.edge("truncated", f"n{c}", style="dashed", color="#aaaaaa")
    order = ["value", "input", "parameter", "constant", "op", "backward", "module", "output"]
    caption = f"{len(keep):,} nodes, {n_edges:,} edges" + (f" (of {total:,} nodes)" if truncated else "")
    if legend or title:
        present = [k for k in order if (k in kinds_used or (k == "output" and outputs)) and (not scalar or k != "op")]
        if scalar and "op" in kinds_used:
            present.append("op")
        present = present if legend else []
        g.body.append(f"\tlabel={_legend(present, bool(on_path), title, caption, scalar)}\n")
    parents_of = {s: _parent_scope(s) for s in scopes}
    g.summary = GraphSummary(
        nodes=len(keep), edges=n_edges, total_nodes=total, truncated=truncated,
        clusters=sorted(scopes), parents=parents_of, kinds=kinds_used,
    )
    return g


# ---------------------------------------------------------------------------------------------
# render
# ---------------------------------------------------------------------------------------------
def render(graph: Any, path: str | Path, format: str | None = None, **draw_kwargs: Any) -> Path:
    """Write ``graph`` (a `Graph`/``graphviz.Digraph``, or a Value/Tensor to `draw` first) to ``path``.

    ``format`` is ``'svg'``, ``'png'``, ``'jpeg'`` (or ``'jpg'``), ``'pdf'`` or ``'dot'`` (the DOT source
    only); by default the suffix of ``path`` decides (``.jpg``, ``.gv`` for dot), and a path without a
    suffix gets one (``.svg`` by default). Another suffix needs an explicit ``format``. Returns the path
    written, replacing a file that is there. Rendering uses the system ``dot`` if it is on PATH, else
    graphviz-pure (no PDF); without either the DOT source is written next to ``path`` (``.dot``) and
    `GraphvizNotFound` says what to install.
    """
    if not isinstance(graph, graphviz.Digraph | graphviz.Graph):
        graph = draw(graph, **draw_kwargs)
    elif draw_kwargs:
        raise TypeError("render: drawing options apply when rendering a Value or Tensor, not a drawn graph")
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if format is None:
        if suffix and suffix not in SUFFIXES:
            raise ValueError(f"render: cannot tell the format from the suffix .{suffix} of {path}: use one of "
                             f"{', '.join('.' + s for s in SUFFIXES)}, or pass format= ({', '.join(FORMATS)})")
        format = SUFFIXES.get(suffix, "svg")
    format = SUFFIXES.get(format.lower(), format.lower())  # "jpg" is "jpeg", "gv" is "dot"
    if format not in FORMATS:
        raise ValueError(f"render: format must be one of {', '.join(FORMATS)}, got {format!r}")
    if not path.suffix:
        path = path.with_suffix(f".{'jpg' if format == 'jpeg' else format}")
    elif suffix in SUFFIXES and SUFFIXES[suffix] != format:
        raise ValueError(f"render: the path {path} ends in .{suffix} but the format is {format}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if format == "dot":
        path.write_text(graph.source, encoding="utf-8")
        return path
    try:
        data = render_bytes(graph.source, format, graph.engine)
    except GraphvizNotFound as e:
        source = path.with_suffix(".dot")
        source.write_text(graph.source, encoding="utf-8")
        raise GraphvizNotFound(f"cannot render {path}: {e} The DOT source was written to {source}.", source) from None
    path.write_bytes(data)
    return path
