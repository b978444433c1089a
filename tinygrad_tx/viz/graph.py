"""Drawing a computation graph with Graphviz: `draw` builds the picture, `render` writes it to a file.

Both engines are drawn from the same node protocol (``node._prev``, see ``autograd.py``):

- a `Value` graph micrograd's way: one box per value (label, data, grad) and a small op node between
  a value and the values it was computed from;
- a `Tensor` graph one node per op (a `Function` instance, ``tensor.grad_fn``) with its output shape
  and dtype; the leaves are parameters (named after the module they belong to with ``model=``),
  inputs and constants, each in its own colour. Ops recorded inside a module call carry its dotted
  path (``ctx.scope``), which becomes nested Graphviz clusters (``h.0`` ⊃ ``h.0.attn`` ⊃
  ``h.0.attn.c_attn``); ``depth=k`` collapses each module at depth k into a single node.

Three options read the backward pass off the picture: ``order=True`` numbers every node with its step in the
engine's backward walk (``#1`` is the output); ``edge_grads=True`` labels every edge with the gradient it
carries (a number for a Value, ``‖ḡ‖`` for a Tensor), by running the engine's steps once more; ``fold=True``
draws repeated blocks (``h.0`` … ``h.5``) as one cluster ``h.0 … h.5 ×6``. The ops ``nn.tap`` named carry
their names (``q = Permute``, ``softmax · rho = Div``). A module called on its own (``model.h[0](x)``) is
clustered under its path in ``model=`` (its ops recorded their paths relative to it: ``ScopePath.root``).

A gradient computed with ``grad(..., create_graph=True)`` is a Tensor like any other: drawing it
shows backpropagation as one more computation (``forward=loss`` marks which of its nodes belong to the
forward pass). The ops a VJP records are scoped ``∇`` + the module of the op it differentiates, so the
backward pass is clustered too, as a mirror of the module tree (``∇h.0`` ⊃ ``∇h.0.attn``).

The graph is walked (``_walk.py``) with explicit stacks (no recursion, so a 100,000-node chain is fine)
into display items, which this module writes as DOT, cut at ``max_nodes`` with a note saying what was
left out. Rendering goes through `renderer.find_renderer`:
Graphviz's ``dot`` when it is on PATH, else the pip-installed ``graphviz-pure``. With neither, `render`
writes the DOT source anyway and raises `GraphvizNotFound`, whose message says what to install, and a
notebook shows that message instead of a traceback.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from ..scalar import Value
from ._walk import (
    Item,
    as_roots,
    backward_steps,
    edge_gradients,
    parent_scope,
    path_from,
    tensor_items,
    truncate,
    value_items,
)
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
STEP = "#b45f06"  # order=True: the step numbers
EDGE_GRAD = "#1f4e79"  # edge_grads=True: the labels
LOOP = "#7b4fa0"  # fold=True: the edges from one folded copy into the next
EDGE = "#666666"
MUTED = "#555555"
# Cluster backgrounds by module class (known with model=), else by nesting depth.
CLUSTER_COLORS = {
    "CausalSelfAttention": "#fff2cc",
    "MLP": "#e2efda",
    "LayerNorm": "#ededed",
    "Linear": "#deebf7",
    "LoRALinear": "#deebf7",
    "Conv1D": "#deebf7",
    "LoRAConv1D": "#deebf7",
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
    ``parents`` maps each to the cluster it is nested in ('' at the top); ``folds`` maps the first copy of
    each run of folded blocks (``fold=True``) to the paths of the run (``h.0`` -> ``h.0`` … ``h.5``).
    """

    nodes: int
    edges: int
    total_nodes: int
    truncated: bool
    clusters: list[str] = field(default_factory=list)
    parents: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, int] = field(default_factory=dict)
    folds: dict[str, list[str]] = field(default_factory=dict)  # fold=True: first copy -> the copies it stands for


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
# Text
# ---------------------------------------------------------------------------------------------
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
    order: bool = False,
    edge_grads: bool = False,
    fold: bool = False,
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
        order: number each node with its step in the engine's backward walk, its place in
            ``reversed(autograd.graph.topological_order(roots))``: ``#1`` is the output, which receives
            dL/dL first; a node runs its step after every node that consumed it. A Value graph numbers its
            value boxes (the op node before a box is that value's step), a Tensor graph its op nodes and
            leaves; a collapsed module shows the range of its ops' steps (``#4–#19``) and, after its counts,
            that of its parameters (a leaf's step comes late: after every op that used it). Also right on
            a graph a backward released (the walk is repeated as the engine does it).
        edge_grads: label each edge with the gradient it carries in a backward from the output seeded with
            dL/dL = 1 (for several outputs, or one of several elements, the gradient of the sum of their
            elements): for a Value graph the number ``d(child)/d(parent) · dL/d(child)`` on the edge from the
            parent into the child's op node (after one ``backward()`` it equals ``local derivative ·
            child.grad`` bit for bit); for a Tensor graph ``‖ḡ‖``, the Frobenius norm of what the op's VJP
            sends that input (into a collapsed module: of the sum of what the parent's uses inside it
            send; out of one, when the edge stands for several of its tensors: ``√Σ‖ḡ‖²`` over them). The
            engine's own steps are run again, in its order, storing
            nothing and running no hooks, so the graph must still hold what the forward pass saved: draw
            before ``backward()`` or after ``backward(retain_graph=True)`` (a released graph is a ValueError
            saying so).
        fold: draw repeated blocks once: consecutive sibling modules whose paths differ only in a trailing
            index and whose insides are identical (``h.0`` … ``h.5`` of a GPT) become one cluster labelled
            ``h.0 … h.5 ×6`` that shows the first copy. Edges from the rest of the graph into any copy, and
            out of any copy (the last block's output into ``ln_f``), are drawn to and from the first copy's
            nodes; the edges from one copy into the next are dashed loop edges ``h.k → h.k+1``. Numbers on
            the drawn copy (``order``, ``edge_grads``, ``stats``) are the first copy's. Siblings that differ
            (another shape, another op) stay apart.

    Every op that ``nn.tap`` named (``q``, ``k``, ``v``, ``scores``, ``mask``, ``softmax``, ``weighted sum`` in
    attention) shows the name in bold before its op (``q = Permute``); the name is set on the op's node
    when the forward runs, without ``record()``.

    Returns:
        a `Graph` (a ``graphviz.Digraph``): display it in Jupyter, ``render`` it, or read ``.source``;
        ``.summary`` counts its nodes, edges and clusters.
    """
    roots = as_roots(root)
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
    folds: dict[str, list[str]] = {}
    steps = backward_steps(roots) if order else None
    carried = edge_gradients(roots) if edge_grads else None
    if scalar:
        if depth is not None or model is not None or params is not None or forward is not None or fold:
            raise ValueError("draw: depth=, model=, params=, forward= and fold= apply to Tensor graphs, not Value "
                             "graphs")
        items, roots_idx, sources = value_items(roots, highlight, steps)
    else:
        if depth is not None and depth < 1:
            raise ValueError(f"draw: depth must be >= 1 (h.0 is depth 2), got {depth}")
        items, roots_idx, sources, classes, folds = tensor_items(roots, model, params, depth, forward, constants,
                                                                 highlight, steps, fold)
    on_path = path_from(items, sources) if sources is not None else None
    keep = truncate(items, roots_idx, max_nodes)
    return _emit(items, keep, len(items), on_path, rankdir, clusters and not scalar, classes, stats_mode, legend,
                 title, max_nodes, scalar, folds, carried)


def _grad_array(t: Any) -> np.ndarray | None:
    """A tensor's ``.grad`` as an array (None if it has none; read without the non-leaf warning)."""
    return None if t._grad is None else t._grad._data


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


def _flow(ins: list[tuple[int, ...]], outs: list[tuple[int, ...]], most: int = 3) -> str:
    """``in (B, T, C) → out (B, T, C)``, with long lists shortened."""

    def short(shapes: list[tuple[int, ...]]) -> str:
        extra = f" (+{len(shapes) - most} more)" if len(shapes) > most else ""
        return ", ".join(_shape(s) for s in shapes[:most]) + extra

    return (f"in {short(ins)} " if ins else "") + f"→ out {short(outs) or '-'}"


def _tensor_node(it: Item, stats_mode: str | None) -> tuple[str, dict[str, str]]:
    """The HTML label and the attributes of one tensor-graph node."""
    kind = it.kind
    lines: list[str] = []
    attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": COLORS[kind]}
    data = grad = None
    if kind in ("op", "backward"):
        node = it.obj
        dtype = getattr(node, "out_dtype", None)
        op = _esc(type(node).__name__)
        tapped = getattr(node, "tapped", ())
        lines.append(" · ".join(f"<b>{_esc(n)}</b>" for n in tapped) + f" = {op}" if tapped else f"<b>{op}</b>")
        lines.append(_small(f"{_shape(getattr(node, 'out_shape', ()))} {dtype if dtype is not None else ''}".strip()))
        out = it.tensor
        retained = getattr(node, "_retained", None)
        if out is None and retained is not None:
            out = retained()
        if out is not None:
            data, grad = out._data, _grad_array(out)
            if data.size == 1:  # a loss: its value, rather than statistics of one number
                lines.append(f"= {_esc(_num(float(data.reshape(-1)[0])))}")
                data = None
    elif kind in ("parameter", "input"):
        t = it.obj
        lines.append(f"<b>{_esc(it.name or ('Parameter' if kind == 'parameter' else 'input'))}</b>")
        lines.append(_small(f"{_shape(t.shape)} {t.dtype}"))
        data, grad = t._data, _grad_array(t)
        attrs["style"] = "filled"
    elif kind == "constant":
        shape = "" if it.obj is None else " scalar" if len(it.obj) == 0 else f" {_shape(it.obj)}"
        lines.append(_small(f"const{shape}", "#333333"))
        attrs.update(style="dashed,filled", color="#888888", height="0.2", margin="0.04,0.01")
    elif kind == "module":
        m = it.module
        assert m is not None
        name = _fold_name(it.fold) if it.fold else it.obj
        lines.append(f"<b>{_esc(name)}</b>" + (f" <i>{_esc(m.cls)}</i>" if m.cls else ""))
        lines.append(_small(_flow(m.ins, m.outs), "#333333"))
        counts = f"{m.ops} op" + ("s" if m.ops != 1 else "")
        if m.params:
            counts += f" · {m.params} param" + ("s" if m.params != 1 else "") + f" ({m.numel:,})"
        counts_line = _small(counts)
        if it.param_steps is not None:  # (order=True) the parameters' steps, after their count
            counts_line += f' <font point-size="8" color="{STEP}">{_esc(_steps_text(it.param_steps))}</font>'
        lines.append(counts_line)
        attrs["shape"] = "box3d"
        attrs["style"] = "filled"
    if stats_mode is not None and (data is not None or grad is not None):
        lines.extend(_small(row, "#1f4e79") for row in _stats_text(data, grad, stats_mode))
    if it.output:
        attrs["fillcolor"] = COLORS["output"]
        attrs["penwidth"] = "1.5"
    if it.steps is not None and lines:
        lines[0] = f'<font color="{STEP}"><b>{_esc(_steps_text(it.steps))}</b></font>  ' + lines[0]
    return "<" + "<br/>".join(lines) + ">", attrs


def _steps_text(steps: tuple[int, int]) -> str:
    """``#3``, or ``#4–#19`` for a collapsed module."""
    first, last = steps
    return f"#{first}" if first == last else f"#{first}–#{last}"


def _fold_name(run: list[str]) -> str:
    """``h.0 … h.5 ×6``: the folded copies one cluster (or module node) stands for."""
    return f"{run[0]} … {run[-1]} ×{len(run)}"


def _value_node(it: Item) -> tuple[str, dict[str, str]]:
    v: Value = it.obj
    if it.kind == "valop":
        return f"<{_esc(v._op)}>", {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f3f3", "fontsize": "9",
                             "margin": "0.03,0.01", "height": "0.3"}
    kind = "output" if it.output else it.kind  # value, input or constant
    label = f"<b>{_esc(v.label)}</b>" if v.label else ""
    step = ([f'<td bgcolor="{STEP}"><font color="#ffffff"><b>{_esc(_steps_text(it.steps))}</b></font></td>']
            if it.steps is not None else [])
    cells = step + ([f"<td>{label}</td>"] if label else []) + [
        f"<td>data {_esc(_num(v.data))}</td>", f"<td>grad {_esc(_num(v.grad))}</td>"]
    table = (f'<table border="0" cellborder="1" cellspacing="0" cellpadding="4" bgcolor="{COLORS[kind]}">'
             f"<tr>{''.join(cells)}</tr></table>")
    return f"<{table}>", {"shape": "none", "margin": "0"}


def _legend(kinds: list[str], highlighted: bool, title: str | None, caption: str, scalar: bool,
            notes: list[tuple[str, str]] | None = None) -> str:
    cells = []
    for k in kinds:
        style = ' style="dashed"' if k == "constant" else ""
        color = "#f3f3f3" if scalar and k == "op" else COLORS[k]
        text = SCALAR_LEGEND_TEXT.get(k, LEGEND_TEXT[k]) if scalar else LEGEND_TEXT[k]
        cells.append(f'<td bgcolor="{color}" border="1"{style}>{_esc(text)}</td>')
    if highlighted:
        cells.append(f'<td border="1" color="{HIGHLIGHT}"><font color="{HIGHLIGHT}">highlighted path</font></td>')
    for color, text in notes or ():  # what order=, edge_grads= and fold= add to the picture
        cells.append(f'<td border="1" color="{color}"><font color="{color}">{_esc(text)}</font></td>')
    rows = []
    if title:
        rows.append(f'<tr><td colspan="{max(len(cells), 1)}" align="left"><b>{_esc(title)}</b></td></tr>')
    if cells:
        rows.append("<tr>" + "".join(cells) + "</tr>")
    rows.append(f'<tr><td colspan="{max(len(cells), 1)}" align="left">{_small(caption)}</td></tr>')
    return ('<<table border="0" cellborder="0" cellspacing="3" cellpadding="3">' + "".join(rows) + "</table>>")


def _cluster_label(scope: str, classes: dict[str, str], folds: dict[str, list[str]] | None = None) -> str:
    cls = classes.get(scope.lstrip("∇"))  # "∇h.0.attn": the backward pass of module h.0.attn
    run = (folds or {}).get(scope)
    name = _esc(_fold_name(run)) + f' <font point-size="8">(drawn: {_esc(scope)})</font>' if run else _esc(scope)
    return f"<<b>{name}</b>" + (f"  <i>{_esc(cls)}</i>" if cls else "") + ">"


def _cluster_color(scope: str, classes: dict[str, str]) -> str:
    cls = classes.get(scope.lstrip("∇"))
    if cls in CLUSTER_COLORS:
        return CLUSTER_COLORS[cls]
    return DEPTH_COLORS[scope.count(".") % len(DEPTH_COLORS)]


def _emit(
    items: list[Item], keep: list[int], total: int, on_path: set[int] | None, rankdir: str,
    use_clusters: bool, classes: dict[str, str], stats_mode: str | None, legend: bool, title: str | None,
    max_nodes: int | None, scalar: bool, folds: dict[str, list[str]] | None = None,
    carried: dict[tuple[int, int], Any] | None = None,
) -> Graph:
    """Write the kept items as DOT: nodes in their clusters, then the edges, the cut note, the legend."""
    g = _new_graph(rankdir)
    bodies, kinds = _node_lines(items, keep, on_path, use_clusters, stats_mode, scalar)
    scopes = _add_clusters(g, bodies, classes, folds)
    n_edges, cut_children = _add_edges(g, items, keep, on_path, carried, scalar)
    truncated = len(keep) < total
    if truncated:
        _add_note(g, cut_children, total - len(keep), total, max_nodes, scalar)
    if legend or title:
        caption = f"{len(keep):,} nodes, {n_edges:,} edges" + (f" (of {total:,} nodes)" if truncated else "")
        has_output = any(items[i].output for i in keep)
        shown = _legend_kinds(kinds, has_output, scalar) if legend else []
        notes = []
        if legend and any(items[i].steps is not None for i in keep):
            notes.append((STEP, "#k: step k of the backward walk (#1: the output)"))
        if legend and carried is not None:
            notes.append((EDGE_GRAD, "on an edge: the gradient it carries" + ("" if scalar else " (‖ḡ‖)")))
        if legend and any(items[i].loops for i in keep):
            notes.append((LOOP, "dashed: from one folded copy into the next"))
        g.body.append(f"\tlabel={_legend(shown, bool(on_path), title, caption, scalar, notes)}\n")
    g.summary = GraphSummary(
        nodes=len(keep), edges=n_edges, total_nodes=total, truncated=truncated,
        clusters=sorted(scopes), parents={s: parent_scope(s) for s in scopes}, kinds=kinds, folds=dict(folds or {}),
    )
    return g


def _new_graph(rankdir: str) -> Graph:
    return Graph(
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


NodeLine = tuple[str, str, dict[str, str]]  # DOT name, label, attributes


def _node_lines(items: list[Item], keep: list[int], on_path: set[int] | None, use_clusters: bool,
                stats_mode: str | None, scalar: bool) -> tuple[dict[str, list[NodeLine]], dict[str, int]]:
    """The kept nodes by the cluster they go in ('' for none), and how many of each kind the legend shows."""
    bodies: dict[str, list[NodeLine]] = {}
    kinds: dict[str, int] = {}
    for i in keep:
        it = items[i]
        label, attrs = _value_node(it) if scalar else _tensor_node(it, stats_mode)
        if on_path is not None and i in on_path:
            attrs["color"] = HIGHLIGHT
            attrs["penwidth"] = "2.5"
            if scalar and it.kind != "valop":
                label = label.replace('cellborder="1"', f'cellborder="1" color="{HIGHLIGHT}"', 1)
        bodies.setdefault(it.cluster if use_clusters else "", []).append((f"n{i}", label, attrs))
        kind = it.kind if not scalar else "op" if it.kind == "valop" else "output" if it.output else it.kind
        kinds[kind] = kinds.get(kind, 0) + 1
    return bodies, kinds


def _add_clusters(g: Graph, bodies: dict[str, list[NodeLine]], classes: dict[str, str],
                  folds: dict[str, list[str]] | None = None) -> list[str]:
    """Add the nodes to ``g`` in nested clusters, one per module path (and each prefix of one) that holds a
    node; return the paths. Sibling clusters come in the order of their first node, so the DOT reads in the
    order the graph was computed, and is the same in every run."""
    scopes: dict[str, None] = {}  # ordered, unlike a set of strings, whose order changes with PYTHONHASHSEED
    for s in bodies:
        while s and s not in scopes:
            scopes[s] = None
            s = parent_scope(s)
    graphs: dict[str, graphviz.Digraph] = {"": g}
    for s in scopes:
        graphs[s] = graphviz.Digraph(
            name=f"cluster_{s}",
            graph_attr={"label": _cluster_label(s, classes, folds), "style": "rounded,filled",
                        "fillcolor": _cluster_color(s, classes), "color": "#999999", "fontsize": "10",
                        "labeljust": "l", "labelloc": "t", "margin": "6"},
        )
    for s, lines in bodies.items():
        for name, label, attrs in lines:
            graphs[s].node(name, label=label, **attrs)
    for s in sorted(scopes, key=lambda s: -s.count(".")):  # innermost first: each is complete when added
        graphs[parent_scope(s)].subgraph(graphs[s])
    return list(scopes)


def _add_edges(g: Graph, items: list[Item], keep: list[int], on_path: set[int] | None,
               carried: dict[tuple[int, int], Any] | None = None, scalar: bool = False) -> tuple[int, list[int]]:
    """An edge per use between kept items (parent -> child, the direction data flows); return how many, and
    the kept items with a parent cut off. With ``carried`` (`edge_gradients`) an edge is labelled with the
    gradient it carries; a loop edge between folded copies is dashed."""
    kept = set(keep)
    n_edges = 0
    cut_children = []
    for i in keep:
        missing = False
        it = items[i]
        for j, p in enumerate(it.parents):
            if p not in kept:
                missing = True
                continue
            attrs = {}
            if on_path is not None and p in on_path and i in on_path:
                attrs = {"color": HIGHLIGHT, "penwidth": "2"}
            if j in it.loops:
                attrs.update(style="dashed", color=attrs.get("color", LOOP), constraint="false",
                             label=_loop_label(it.loops[j]), fontsize="8", fontcolor=LOOP)
            elif carried is not None and j < len(it.uses):
                text = _carried_text([(id(obj._prev[slot]), carried[(id(obj), slot)]) for obj, slot in it.uses[j]
                                      if (id(obj), slot) in carried], scalar)
                if text:
                    attrs.update(label=text, fontsize="8", fontcolor=EDGE_GRAD)
            g.edge(f"n{p}", f"n{i}", **attrs)
            n_edges += 1
        if missing:
            cut_children.append(i)
    return n_edges, cut_children


def _carried_text(parts: list[tuple[int, Any]], scalar: bool) -> str:
    """An edge's label with ``edge_grads``, from the (``id`` of the parent, gradient) of each use it stands
    for: the number a Value edge carries; for a Tensor edge the norm of what it carries, what reaches each
    parent added up first (an edge into a collapsed module stands for all uses of its parent there, one out of
    a module for several of its tensors: ``√Σ‖ḡ‖²`` over them). '' when no gradient flows along it."""
    if not parts:
        return ""
    if scalar:  # (one use per edge of a Value graph)
        return f" {_num(float(parts[0][1]))} "
    per_parent: dict[int, np.ndarray] = {}
    for parent, g in parts:
        g = np.asarray(g, dtype=np.float64)
        per_parent[parent] = g if parent not in per_parent else per_parent[parent] + g
    squares = sum(float(np.sum(g * g)) for g in per_parent.values())
    return f" ‖ḡ‖ {_num(float(np.sqrt(squares)))} "


def _loop_label(first: str) -> str:
    """A loop edge's label: which copies of the fold whose first copy is ``first`` it joins (``h.k → h.k+1``)."""
    head = first.rpartition(".")[0]
    where = f"{head}." if head else ""
    return f" {where}k → {where}k+1 "


def _add_note(g: Graph, cut_children: list[int], left_out: int, total: int, max_nodes: int | None,
              scalar: bool) -> None:
    """The note saying what ``max_nodes`` left out, feeding the nodes whose inputs were cut."""
    note = (f"… {left_out:,} more nodes not drawn (max_nodes={max_nodes}).\n"
            f"Pass max_nodes=None to draw all {total:,}" + ("" if scalar else ", or depth=k to collapse modules") + ".")
    g.node("truncated", label=note, shape="note", style="filled", fillcolor=COLORS["note"], fontsize="11")
    for c in cut_children:
        g.edge("truncated", f"n{c}", style="dashed", color="#aaaaaa")


def _legend_kinds(kinds: dict[str, int], has_output: bool, scalar: bool) -> list[str]:
    """The kinds drawn, in the legend's order (a Value graph's op node last)."""
    order = ["value", "input", "parameter", "constant", "op", "backward", "module", "output"]
    if scalar:
        return [k for k in order if k in kinds and k != "op"] + (["op"] if "op" in kinds else [])
    return [k for k in order if k in kinds or (k == "output" and has_output)]


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
