"""What a drawing shows, before it is DOT: the engine's graph walked into display items.

`graph.draw` writes each `Item` as one DOT node and each of its ``parents`` as an edge. A `Value` graph
becomes micrograd's picture: a box per value and a small op node between a value and its operands
(`value_items`). A `Tensor` graph takes four short steps (`tensor_items`):

1. `_fine_graph`: one `_Node` per op (a `Function`), per leaf tensor and per constant an op was given;
2. `_collapse`: which modules ``depth=k`` draws as one node, and so which are still clusters;
3. `_home_parameter`: a parameter is drawn with its module (its name says which);
4. `_items`: the collapsed graph, a module's node where its first member is, with its `ModuleSummary`.

`highlight_sources` finds what ``highlight=`` names, `path_from` the path from it to the output, and
`truncate` the ``max_nodes`` items nearest the output. Every walk uses explicit stacks or frontiers, so a
100,000-node chain needs no recursion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..function import Function
from ..scalar import Value
from ..tensor import Tensor

OPS = ("op", "backward")  # the kinds of a Tensor graph's op nodes; "backward": not in the graph of forward=


@dataclass(eq=False, slots=True)
class ModuleSummary:
    """What the node of a collapsed module says: its class, the shapes that flow in and out, its size."""

    cls: str
    ins: list[tuple[int, ...]]
    outs: list[tuple[int, ...]]
    ops: int
    params: int
    numel: int


@dataclass(eq=False, slots=True)
class Item:
    """One DOT node: what it shows, the cluster it sits in, and the items it is computed from.

    ``kind`` is, in a Tensor graph, ``op``, ``backward``, ``parameter``, ``input``, ``constant`` or ``module``;
    in a Value graph ``value`` (computed), ``input`` (a labelled leaf), ``constant`` or ``valop`` (an op node).
    """

    kind: str
    obj: Any  # a Function, a leaf Tensor, a constant's shape, a module's path; a Value
    parents: list[int]  # the items it is computed from, one entry per use
    cluster: str = ""  # the innermost drawn module it belongs to ('' at the top)
    output: bool = False
    name: str | None = None  # a leaf's name
    tensor: Tensor | None = None  # an output op's result: its data is known
    module: ModuleSummary | None = None  # a collapsed module's summary


@dataclass(eq=False, slots=True)
class _Node:
    """One node of a Tensor graph as the engine recorded it: an op, a leaf tensor, or a constant input."""

    kind: str  # op, backward, parameter, input or constant
    obj: Any  # the Function, the leaf Tensor, or a constant's shape (None when the op did not keep it)
    scope: str = ""  # the module an op ran in; a constant's is its op's, a parameter's its module's
    name: str | None = None  # a leaf's name: model=, params=, else tensor.name
    parents: list[_Node] = field(default_factory=list)
    consumers: list[_Node] = field(default_factory=list)
    group: str | None = None  # the collapsed module it is drawn inside (depth=k), or None
    item: int = -1  # the index of the item that draws it (its own, or its module's)

    def out_shape(self) -> tuple[int, ...]:
        if self.kind == "constant":
            return tuple(self.obj) if self.obj is not None else ()
        if isinstance(self.obj, Tensor):
            return self.obj.shape
        return tuple(getattr(self.obj, "out_shape", ()))


def parent_scope(scope: str) -> str:
    """``h.0.attn`` -> ``h.0`` -> ``h`` -> ``''``."""
    return scope.rsplit(".", 1)[0] if "." in scope else ""


def as_roots(root: Any) -> list[Any]:
    """``root`` as a list of graph nodes (Values, Tensors or Functions), or a TypeError."""
    if isinstance(root, (Value, Tensor, Function)):
        return [root]
    if isinstance(root, Iterable) and not isinstance(root, (str, bytes, np.ndarray)):
        roots = list(root)
        if roots and all(isinstance(r, (Value, Tensor, Function)) for r in roots):
            return roots
    raise TypeError(f"draw: expected a Value or a Tensor (or a list of them), got {type(root).__name__}")


def collect(roots: Sequence[Any]) -> list[Any]:
    """Every node reachable from ``roots`` through ``_prev``, parents before children, iteratively.

    Unlike ``autograd.topological_order`` it does not refuse nodes already released by a backward
    (a graph after backward is still worth drawing); nodes are keyed by ``id``.
    """
    order: list[Any] = []
    expanded: set[int] = set()
    stack: list[tuple[Any, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if id(node) in expanded:
            continue
        expanded.add(id(node))
        stack.append((node, True))
        for parent in reversed(node._prev):
            if parent is not None and id(parent) not in expanded:
                stack.append((parent, False))
    return order


def _wanted(highlight: Any) -> list[Any]:
    return list(highlight) if isinstance(highlight, (list, tuple, set)) else [highlight]


# -- Value graphs -------------------------------------------------------------------------------------
def value_items(roots: list[Value], highlight: Any) -> tuple[list[Item], list[int], list[int] | None]:
    """The items of a Value graph, the output items, and the items ``highlight`` names (None without it)."""
    order = collect(roots)
    items: list[Item] = []
    box: dict[int, int] = {}  # id(value) -> the item of its box
    for v in order:
        if v._prev:
            items.append(Item("valop", v, [box[id(p)] for p in v._prev]))
            it = Item("value", v, [len(items) - 1])
        else:
            it = Item("input" if v.label else "constant", v, [])
        box[id(v)] = len(items)
        items.append(it)
    outputs = [box[id(r)] for r in roots]
    for r in outputs:
        items[r].output = True
    if highlight is None:
        return items, outputs, None
    sources = []
    for w in _wanted(highlight):
        hits = [box[id(v)] for v in order if v is w or (isinstance(w, str) and v.label == w)]
        if not hits:
            labels = sorted({v.label for v in order if v.label})
            raise ValueError(f"draw: highlight {w!r} is not in the graph (labels: {', '.join(labels) or 'none'})")
        sources += hits
    return items, outputs, sources


# -- Tensor graphs ------------------------------------------------------------------------------------
def tensor_items(
    roots: list[Any], model: Any, params: Any, depth: int | None, forward: Any, constants: bool, highlight: Any,
) -> tuple[list[Item], list[int], list[int] | None, dict[str, str]]:
    """The items of a Tensor graph (modules collapsed to ``depth``), the output items, the items
    ``highlight`` names (None without it), and the class name of each module path."""
    names, classes = _names(model, params)
    in_forward = None  # the ids of the nodes in forward='s graph: the others are backward ops
    if forward is not None:
        in_forward = {id(node) for node in collect([_engine_node(f) for f in as_roots(forward)])}
    fine, node_of = _fine_graph([_engine_node(r) for r in roots], names, in_forward, constants)
    outputs = [node_of[id(_engine_node(r))] for r in roots]
    clusters = _collapse(fine, depth)
    for node in fine:
        if node.kind == "parameter":
            _home_parameter(node)
    items = _items(fine, clusters, set(outputs), classes)
    for root, node in zip(roots, outputs):
        it = items[node.item]
        it.output = True
        if isinstance(root, Tensor) and it.kind in OPS:
            it.tensor = root  # the output tensor itself: its data is known
    return items, [node.item for node in outputs], highlight_sources(fine, highlight, names), classes


def _engine_node(root: Any) -> Any:
    """A Tensor's node in the graph (its ``grad_fn``, or itself for a leaf); a Function is its own."""
    return root._node() if isinstance(root, Tensor) else root


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


def _fine_graph(roots: list[Any], names: dict[int, str], in_forward: set[int] | None,
                constants: bool) -> tuple[list[_Node], dict[int, _Node]]:
    """One `_Node` per op and leaf, parents first, each constant (a ``None`` input) just before its op;
    and the node of each engine node by ``id``."""
    from ..nn.module import Parameter

    fine: list[_Node] = []
    node_of: dict[int, _Node] = {}
    for obj in collect(roots):
        if isinstance(obj, Tensor):
            name = names.get(id(obj)) or obj.name
            node = _Node("parameter" if isinstance(obj, Parameter) or id(obj) in names else "input", obj, name=name)
        else:
            node = _Node("op" if in_forward is None or id(obj) in in_forward else "backward", obj,
                         getattr(obj, "scope", "") or "")
            in_shapes = getattr(obj, "_in_shapes", None)
            for slot, p in enumerate(obj._prev):
                if p is not None:
                    parent = node_of[id(p)]
                elif constants:
                    shape = in_shapes[slot] if in_shapes is not None and slot < len(in_shapes) else None
                    parent = _Node("constant", shape, node.scope)
                    fine.append(parent)
                else:
                    continue
                node.parents.append(parent)
                parent.consumers.append(node)
        node_of[id(obj)] = node
        fine.append(node)
    return fine, node_of


def _collapse(fine: list[_Node], depth: int | None) -> set[str]:
    """Give each op and constant the module ``depth=k`` collapses it into (``group``; None draws it), and
    return the modules drawn as clusters. The module tree is every scope an op ran in and every prefix of one
    (``h``, ``h.0``, ``h.0.mlp``, ...); a module at depth k, or a shallower one without sub-modules, is one node."""
    tree = {node.scope for node in fine if node.kind in OPS} - {""}
    for s in list(tree):
        while "." in s:
            s = parent_scope(s)
            tree.add(s)
    inner = {parent_scope(s) for s in tree} - {""}  # modules with sub-modules

    def collapsed_into(s: str) -> str | None:
        comps = s.split(".")
        if depth is None:
            return None
        if len(comps) >= depth:
            return ".".join(comps[:depth])
        return None if s in inner else s

    group = {s: collapsed_into(s) for s in tree}
    for node in fine:
        if node.kind in OPS or node.kind == "constant":  # a constant has its op's scope, so its group
            node.group = group[node.scope] if node.scope else None
    return {s for s, g in group.items() if g is None}


def _home_parameter(p: _Node) -> None:
    """A parameter is drawn in the cluster of its module (its name's prefix, else its one consumer's), and
    inside the node of a collapsed module when all its consumers are in it and its name does not say otherwise."""
    own = parent_scope(p.name or "")
    scopes = {c.scope for c in p.consumers}
    p.scope = own or (next(iter(scopes)) if len(scopes) == 1 else "")
    groups = {c.group for c in p.consumers}
    g = groups.pop() if len(groups) == 1 else None
    if g is not None and (not own or own == g or own.startswith(g + ".")):
        p.group = g


def _items(fine: list[_Node], clusters: set[str], outputs: set[_Node], classes: dict[str, str]) -> list[Item]:
    """The collapsed graph in the walk's order: an item per node drawn on its own, one per collapsed module
    where its first member is; an edge per use, a module's inputs once each."""

    def place(scope: str) -> str:
        """The innermost drawn cluster at or above ``scope``."""
        while scope and scope not in clusters:
            scope = parent_scope(scope)
        return scope

    items: list[Item] = []
    members: dict[str, list[_Node]] = {}
    module_item: dict[str, int] = {}
    for node in fine:
        if node.group is None:
            node.item = len(items)
            items.append(Item(node.kind, node.obj, [], place(node.scope), name=node.name))
            continue
        if node.group not in module_item:
            module_item[node.group] = len(items)
            members[node.group] = []
            items.append(Item("module", node.group, [], place(parent_scope(node.group))))
        node.item = module_item[node.group]
        members[node.group].append(node)
    for node in fine:
        it = items[node.item]
        for p in node.parents:
            if p.item == node.item or (it.kind == "module" and p.item in it.parents):
                continue
            it.parents.append(p.item)
    for path, inside in members.items():
        items[module_item[path]].module = _summary(inside, outputs, classes.get(path, ""))
    return items


def _summary(inside: list[_Node], outputs: set[_Node], cls: str) -> ModuleSummary:
    """The shapes that flow into a collapsed module (activations: parameters and constants have their own
    edges) and out of it (to a node outside, or as an output); its ops and parameters."""
    members = set(inside)
    ins: list[tuple[int, ...]] = []
    outs: list[tuple[int, ...]] = []
    for node in inside:
        for p in node.parents:
            if p not in members and p.kind not in ("parameter", "constant"):
                _add_shape(ins, p.out_shape())
        if node in outputs or any(c not in members for c in node.consumers):
            _add_shape(outs, node.out_shape())
    params = [node.obj for node in inside if node.kind == "parameter"]
    return ModuleSummary(cls, ins, outs, ops=sum(1 for node in inside if node.kind in OPS), params=len(params),
                         numel=sum(int(p._data.size) for p in params))


def _add_shape(shapes: list[tuple[int, ...]], shape: Any) -> None:
    shape = tuple(int(s) for s in shape)
    if shape not in shapes:
        shapes.append(shape)


def highlight_sources(fine: list[_Node], highlight: Any, names: dict[int, str]) -> list[int] | None:
    """The items of what ``highlight`` names: a tensor (or its op), or a leaf's name; None without it."""
    if highlight is None:
        return None
    engine_nodes = [node for node in fine if node.kind != "constant"]
    sources = []
    for w in _wanted(highlight):
        target = _engine_node(w)
        by_name = isinstance(w, str)  # a leaf's name from model=/params=, or its tensor.name
        hits = [node.item for node in engine_nodes if node.obj is target or (
            by_name and isinstance(node.obj, Tensor) and w in (names.get(id(node.obj)), node.obj.name))]
        if not hits:
            named = sorted({node.name or "" for node in engine_nodes if isinstance(node.obj, Tensor)} - {""})
            shown = ", ".join(named[:12]) + (", ..." if len(named) > 12 else "")
            raise ValueError(f"draw: highlight {w!r} is not in the graph (named leaves: {shown or 'none'})")
        sources += hits
    return sources


# -- what is drawn red, what is drawn at all ----------------------------------------------------------
def path_from(items: list[Item], sources: list[int]) -> set[int]:
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


def truncate(items: list[Item], outputs: list[int], max_nodes: int | None) -> list[int]:
    """The items to draw, in order: all of them, or the ``max_nodes`` nearest the outputs, breadth first."""
    if max_nodes is None or len(items) <= max_nodes:
        return list(range(len(items)))
    keep: set[int] = set()
    frontier = list(dict.fromkeys(outputs))
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
