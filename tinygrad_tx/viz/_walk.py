"""What a drawing shows, before it is DOT: the engine's graph walked into display items.

`graph.draw` writes each `Item` as one DOT node and each of its ``parents`` as an edge. A `Value` graph
becomes micrograd's picture: a box per value and a small op node between a value and its operands
(`value_items`). A `Tensor` graph takes four short steps (`tensor_items`):

1. `_fine_graph`: one `_Node` per op (a `Function`), per leaf tensor and per constant an op was given;
2. `_collapse`: which modules ``depth=k`` draws as one node, and so which are still clusters;
3. `_home_parameter`: a parameter is drawn with its module (its name says which);
4. `_items`: the collapsed graph, a module's node where its first member is, with its `ModuleSummary`.

With ``fold=True``, `_fold` (between steps 3 and 4) gives each node of a repeated block's later copies its
counterpart in the first copy, which draws it. `backward_steps` numbers the nodes in the engine's backward
walk (``order=True``), `edge_gradients` runs the engine's backward steps again for what each edge carries
(``edge_grads=True``).

`highlight_sources` finds what ``highlight=`` names, `path_from` the path from it to the output, and
`truncate` the ``max_nodes`` items nearest the output. Every walk uses explicit stacks or frontiers, so a
100,000-node chain needs no recursion.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..autograd.graph import topological_order
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
    uses: list[list[tuple[Any, int]]] = field(default_factory=list)  # per parent: the (engine node, slot)s it draws
    loops: dict[int, str] = field(default_factory=dict)  # parents (by index) that join folded copies -> the fold
    steps: tuple[int, int] | None = None  # its place (first, last) in the backward walk (draw(order=True))
    param_steps: tuple[int, int] | None = None  # a collapsed module's: those of the parameters inside it
    fold: list[str] | None = None  # a collapsed module that stands for these folded copies


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
    slots: list[int] = field(default_factory=list)  # per parent, the input slot of the op it feeds
    rep: _Node | None = None  # with fold=True, the node of the first copy that draws this one
    copies: dict[str, int] = field(default_factory=dict)  # fold (its first copy's path) -> which copy it is in

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
        bad = [i for i, r in enumerate(roots) if not isinstance(r, (Value, Tensor, Function))]
        if roots and not bad:
            return roots
        what = (f"an empty {type(root).__name__}" if not roots else
                f"a {type(root).__name__} whose item {bad[0]} is a {type(roots[bad[0]]).__name__}")
        raise TypeError(f"draw: expected a Value or a Tensor (or a list of them), got {what}")
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
def value_items(roots: list[Value], highlight: Any, steps: dict[int, int] | None = None,
                ) -> tuple[list[Item], list[int], list[int] | None]:
    """The items of a Value graph, the output items, and the items ``highlight`` names (None without it).
    ``steps`` (by ``id``, from `backward_steps`) numbers the value boxes; the op node before a box is its step."""
    order = collect(roots)
    items: list[Item] = []
    box: dict[int, int] = {}  # id(value) -> the item of its box
    for v in order:
        if v._prev:
            items.append(Item("valop", v, [box[id(p)] for p in v._prev],
                              uses=[[(v, slot)] for slot in range(len(v._prev))]))
            it = Item("value", v, [len(items) - 1], uses=[[]])
        else:
            it = Item("input" if v.label else "constant", v, [])
        if steps is not None and id(v) in steps:
            it.steps = (steps[id(v)], steps[id(v)])
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
    steps: dict[int, int] | None = None, fold: bool = False,
) -> tuple[list[Item], list[int], list[int] | None, dict[str, str], dict[str, list[str]]]:
    """The items of a Tensor graph (modules collapsed to ``depth``, repeated blocks folded with ``fold``), the
    output items, the items ``highlight`` names (None without it), the class name of each module path, and the
    folds (the path of each folded run's first copy -> the paths of all its copies)."""
    names, classes = _names(model, params)
    in_forward = None  # the ids of the nodes in forward='s graph: the others are backward ops
    if forward is not None:
        in_forward = {id(node) for node in collect([_engine_node(f) for f in as_roots(forward)])}
    fine, node_of = _fine_graph([_engine_node(r) for r in roots], names, in_forward, constants,
                                _scope_resolver(model, classes))
    outputs = [node_of[id(_engine_node(r))] for r in roots]
    clusters = _collapse(fine, depth)
    for node in fine:
        if node.kind == "parameter":
            _home_parameter(node)
    folds = _fold(fine, depth) if fold else {}
    folded = [copy for run in folds.values() for copy in run[1:]]
    clusters = {c for c in clusters if not any(c == f or c.startswith(f + ".") for f in folded)}
    items = _items(fine, clusters, set(outputs), classes, steps, folds)
    for root, node in zip(roots, outputs):
        it = items[node.item]
        it.output = True
        if isinstance(root, Tensor) and it.kind in OPS:
            it.tensor = root  # the output tensor itself: its data is known
    return items, [node.item for node in outputs], highlight_sources(fine, highlight, names), classes, folds


def _engine_node(root: Any) -> Any:
    """A Tensor's node in the graph (its ``grad_fn``, or itself for a leaf); a Function is its own."""
    return root._node() if isinstance(root, Tensor) else root


def _names(model: Any, params: Any, who: str = "draw") -> tuple[dict[int, str], dict[str, str]]:
    """Leaf names by tensor identity, and module class names by dotted path. A ``model`` that is not a module, or
    ``params`` that are not names of tensors, is a TypeError naming ``who`` (the caller: draw, player)."""
    from ..nn.module import Module

    names: dict[int, str] = {}
    classes: dict[str, str] = {}
    if model is not None:
        if not isinstance(model, Module):
            raise TypeError(f"{who}: model= must be an nn.Module, got {type(model).__name__}")
        for path, m in model.named_modules():
            classes[path] = type(m).__name__
        for name, p in model.named_parameters():
            names.setdefault(id(p), name)
    if params is not None:
        pairs = params.items() if isinstance(params, Mapping) else params
        if not isinstance(pairs, Iterable) or isinstance(pairs, (str, bytes)):
            raise TypeError(f"{who}: params= must map names to tensors ({{name: tensor}} or (name, tensor) pairs), "
                            f"got {type(params).__name__}")
        for item in pairs:
            if not (isinstance(item, tuple) and len(item) == 2):
                raise TypeError(f"{who}: params= must map names to tensors ({{name: tensor}} or (name, tensor) "
                                f"pairs), got the item {item!r}")
            name, p = item
            if not isinstance(p, Tensor):
                raise TypeError(f"{who}: params={name!r} is of type {type(p).__name__}, not a Tensor")
            names.setdefault(id(p), name)
    return names, classes


def _scope_resolver(model: Any, classes: dict[str, str]) -> Any:
    """``ctx.scope`` -> the module path drawn. A module called outermost names its sub-modules relative to
    itself (``attn.c_attn`` for a block called on its own, ``''`` for its own ops) and the path keeps that
    module (`ScopePath.root`): with ``model=`` the module's own path in the model is put in front
    (``h.0.attn.c_attn``; its own ops go in ``h.0``); without it (or for a module outside the model) the paths
    stay relative, and the class names come from that module (added to ``classes``); its parameters stay
    unnamed, as any leaf without ``model=``/``params=``/``tensor.name``."""
    paths = {id(m): path for path, m in model.named_modules()} if model is not None else {}
    named: set[int] = set()

    def resolve(scope: str) -> str:
        ref = getattr(scope, "root", None)
        root = ref() if ref is not None else None
        if root is None:
            return str(scope)
        grad = getattr(scope, "in_backward", False)  # the ops a VJP recorded: ∇ + the differentiated op's scope
        rest = str(scope)[1:] if scope.startswith("∇") else str(scope)
        prefix = paths.get(id(root))
        if prefix is None:
            if id(root) not in named:
                named.add(id(root))
                for path, m in root.named_modules():
                    if path:
                        classes.setdefault(path, type(m).__name__)
            path = rest
        else:
            path = f"{prefix}.{rest}" if prefix and rest else prefix or rest
        return "∇" + path if grad and path else path

    return resolve


def _scope_of(op: Any) -> str:
    """An op's recorded ``scope`` ('' when it has none), kept as it is: an empty `ScopePath` is the scope of the
    own ops of a module called outermost, which ``model=`` places."""
    scope = getattr(op, "scope", None)
    return "" if scope is None else scope


def _fine_graph(roots: list[Any], names: dict[int, str], in_forward: set[int] | None,
                constants: bool, resolve: Any = str) -> tuple[list[_Node], dict[int, _Node]]:
    """One `_Node` per op and leaf, parents first, each constant (a ``None`` input) just before its op;
    and the node of each engine node by ``id``. ``resolve`` turns an op's ``scope`` into its module path."""
    from ..nn.module import Parameter

    fine: list[_Node] = []
    node_of: dict[int, _Node] = {}
    for obj in collect(roots):
        if isinstance(obj, Tensor):
            name = names.get(id(obj)) or obj.name
            node = _Node("parameter" if isinstance(obj, Parameter) or id(obj) in names else "input", obj, name=name)
        else:
            node = _Node("op" if in_forward is None or id(obj) in in_forward else "backward", obj,
                         resolve(_scope_of(obj)))
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
                node.slots.append(slot)
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


def _items(fine: list[_Node], clusters: set[str], outputs: set[_Node], classes: dict[str, str],
           steps: dict[int, int] | None = None, folds: dict[str, list[str]] | None = None) -> list[Item]:
    """The collapsed graph in the walk's order: an item per node drawn on its own, one per collapsed module
    where its first member is; an edge per use, a module's inputs once each. A node of a folded copy is drawn
    by its first copy's node: its edges inside the copy are that node's, its edges to other copies become
    loop edges (once each), its edges to the rest of the graph are routed to the first copy's node (once)."""

    def place(scope: str) -> str:
        """The innermost drawn cluster at or above ``scope``."""
        while scope and scope not in clusters:
            scope = parent_scope(scope)
        return scope

    items: list[Item] = []
    members: dict[str, list[_Node]] = {}
    module_item: dict[str, int] = {}
    for node in fine:
        if node.rep is not None:
            continue
        if node.group is None:
            node.item = len(items)
            items.append(Item(node.kind, node.obj, [], place(node.scope), name=node.name))
            continue
        if node.group not in module_item:
            module_item[node.group] = len(items)
            members[node.group] = []
            items.append(Item("module", node.group, [], place(parent_scope(node.group)),
                              fold=(folds or {}).get(node.group)))
        node.item = module_item[node.group]
        members[node.group].append(node)
    for node in fine:
        if node.rep is not None:
            first = node.rep
            while first.rep is not None:
                first = first.rep
            node.item = first.item
    for node in fine:  # the edges of the nodes drawn, then those of the folded copies
        if node.rep is None and not any(p.rep is not None for p in node.parents):
            _add_uses(items, node)
    for node in fine:
        if node.rep is not None or any(p.rep is not None for p in node.parents):
            _add_folded_uses(items, node)
    for path, inside in members.items():
        items[module_item[path]].module = _summary(inside, outputs, classes.get(path, ""))
    if steps is not None:  # (a module's parameters apart: a leaf's step comes late, after every op using it)
        for node in fine:
            if node.rep is None and id(node.obj) in steps:
                it, k = items[node.item], steps[id(node.obj)]
                if it.kind == "module" and node.kind == "parameter":
                    it.param_steps = _widen(it.param_steps, k)
                else:
                    it.steps = _widen(it.steps, k)
    return items


def _widen(span: tuple[int, int] | None, k: int) -> tuple[int, int]:
    return (k, k) if span is None else (min(span[0], k), max(span[1], k))


def _add_uses(items: list[Item], node: _Node) -> None:
    it = items[node.item]
    for p, slot in zip(node.parents, node.slots):
        _add_use(it, node, p, slot)


def _add_use(it: Item, node: _Node, p: _Node, slot: int) -> None:
    """The edge from ``p`` into input ``slot`` of ``node`` (drawn by ``it``): none inside a collapsed module,
    one per parent into a collapsed module (it stands for all of that parent's uses), else one per use."""
    if p.item == node.item:
        return
    if it.kind == "module" and p.item in it.parents:
        it.uses[it.parents.index(p.item)].append((node.obj, slot))
        return
    it.parents.append(p.item)
    it.uses.append([(node.obj, slot)])


def _add_folded_uses(items: list[Item], node: _Node) -> None:
    """The edges into ``node`` when it or a parent is in a folded copy (see `_items`)."""
    it = items[node.item]
    for p, slot in zip(node.parents, node.slots):
        if p.rep is None and node.rep is None:  # an edge between drawn nodes (into the node after a fold): as it is
            _add_use(it, node, p, slot)
            continue
        common = p.copies.keys() & node.copies.keys()
        across = [k for k in common if p.copies[k] != node.copies[k]]
        if across:  # from one copy into the next: a loop edge
            if not any(q == p.item and i in it.loops for i, q in enumerate(it.parents)):
                it.loops[len(it.parents)] = min(across, key=len)  # (the outermost fold it crosses)
                it.parents.append(p.item)
                it.uses.append([(node.obj, slot)])
            continue
        if any(p.copies[k] == node.copies[k] >= 1 for k in common):  # inside a copy drawn by the first one
            continue
        if p.item == node.item or any(q == p.item and i not in it.loops for i, q in enumerate(it.parents)):
            continue  # inside a collapsed module, or the first copy's edge already drawn
        it.parents.append(p.item)
        it.uses.append([(node.obj, slot)])


def _fold(fine: list[_Node], depth: int | None) -> dict[str, list[str]]:
    """Fold repeated blocks: sibling modules whose paths differ only in a trailing index (``h.0`` … ``h.5``),
    consecutive, with the same inside (`_signature`), are drawn as their first copy. Each node of a later copy
    gets its counterpart in the first as ``rep``, and every node of a run the copy it is in (``copies``).
    Returns the path of each run's first copy -> the paths of the run. Outer runs are folded first; the
    copies inside a module that ``depth`` collapses are not (the module node already stands for them)."""
    tree = {node.scope for node in fine if node.kind in OPS} - {""}
    for scope in list(tree):
        while "." in scope:
            scope = parent_scope(scope)
            tree.add(scope)
    siblings: dict[str, list[tuple[int, str]]] = {}
    for scope in tree:
        head, _, last = scope.rpartition(".")
        if last.isdigit():
            siblings.setdefault(head, []).append((int(last), scope))
    folds: dict[str, list[str]] = {}
    away: list[str] = []  # the copies drawn by a first copy
    position = {id(node): i for i, node in enumerate(fine)}
    by_scope: dict[str, list[_Node]] = {}
    for node in fine:
        if node.kind != "input":
            by_scope.setdefault(node.scope, []).append(node)
    for head in sorted(siblings, key=lambda h: (h.count(".") + 1 if h else 0, h)):
        if any(head == c or head.startswith(c + ".") for c in away):
            continue
        if depth is not None and depth < (head.count(".") + 2 if head else 1):
            continue
        copies = sorted(siblings[head])
        inside = {scope: _members(by_scope, position, scope) for _, scope in copies}
        signature = {scope: _signature(scope, inside[scope]) for _, scope in copies}
        runs: list[list[tuple[int, str]]] = []
        for index, scope in copies:
            run = runs[-1] if runs else None
            if run is not None and index == run[-1][0] + 1 and signature[scope] == signature[run[0][1]]:
                run.append((index, scope))
            else:
                runs.append([(index, scope)])
        for run in runs:
            if len(run) < 2:
                continue
            first = run[0][1]
            for node in inside[first]:
                node.copies[first] = 0
            for k, (_, scope) in enumerate(run[1:], 1):
                for node0, node in zip(inside[first], inside[scope]):
                    node.rep = node0
                    node.copies[first] = k
                away.append(scope)
            folds[first] = [scope for _, scope in run]
    return folds


def _members(by_scope: dict[str, list[_Node]], position: dict[int, int], scope: str) -> list[_Node]:
    """The ops, constants and parameters drawn in module ``scope`` (or inside it), in walk order (``position``)."""
    inner = scope + "."
    found = [node for s, nodes in by_scope.items() if s == scope or s.startswith(inner) for node in nodes]
    return sorted(found, key=lambda node: position[id(node)])


def _signature(scope: str, inside: list[_Node]) -> tuple[Any, ...]:
    """What a module's inside is, with its own path taken out: per node its kind, op class and tapped names
    (or parameter name), shape, dtype, sub-module, the collapsed module it is in, and which nodes of the
    inside it reads (-1: one outside). Two copies are identical when their signatures are equal."""
    index = {id(node): i for i, node in enumerate(inside)}
    n = len(scope)

    def rel(path: str | None) -> str | None:
        return None if path is None else path[n:] if path == scope or path.startswith(scope + ".") else "\0" + path

    rows = []
    for node in inside:
        if node.kind in OPS:
            what: tuple[Any, ...] = (type(node.obj).__name__, getattr(node.obj, "tapped", ()),
                                     str(getattr(node.obj, "out_dtype", "")))
        elif node.kind == "parameter":
            what = (rel(parent_scope(node.name or "")), (node.name or "").rpartition(".")[2], str(node.obj.dtype))
        else:
            what = ()
        rows.append((node.kind, rel(node.scope), rel(node.group), node.out_shape(), what,
                     tuple(index.get(id(p), -1) for p in node.parents)))
    return tuple(rows)


# -- the backward walk: its order, and the gradient along each edge ---------------------------------
def backward_steps(roots: Sequence[Any]) -> dict[int, int]:
    """Each node's step in the engine's backward walk, by ``id``: its place in
    ``reversed(autograd.graph.topological_order(roots))`` (1 is the output, which receives dL/dL first).

    The engine's own ``topological_order`` gives the order; on a graph a backward already released (which it
    refuses) the same walk is repeated here, parents pushed in ``_prev`` order as every node's
    ``_push_parents`` pushes them (tests/test_viz_options.py checks that the two agree)."""
    nodes = [_engine_node(r) for r in roots]
    try:
        order = topological_order(nodes)
    except RuntimeError:  # released by a backward: the same walk without the check
        order = _released_topological_order(nodes)
    return {id(node): step for step, node in enumerate(reversed(order), 1)}


def _released_topological_order(roots: list[Any]) -> list[Any]:
    """``autograd.graph.topological_order`` for a graph whose saved values were released (by ``id``)."""
    order: list[Any] = []
    seen: set[int] = set()
    waiting: list[Any] = []
    stack: list[Any] = list(roots)
    emit = object()
    while stack:
        node = stack.pop()
        if node is emit:
            order.append(waiting.pop())
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        waiting.append(node)
        stack.append(emit)
        for parent in node._prev:  # (Value._push_parents and Function._push_parents: in _prev order)
            if parent is not None and id(parent) not in seen:
                stack.append(parent)
    return order


FREED = ("draw(edge_grads=True): {e} The gradients along the edges are computed by running the graph's "
         "backward steps again, which needs what the forward pass saved: draw before backward(), or call "
         "backward(retain_graph=True).")


def edge_gradients(roots: Sequence[Any]) -> dict[tuple[int, int], Any]:
    """What each edge carries in a backward from ``roots`` seeded with ones (dL/dL = 1), by (``id`` of the
    consuming node, input slot): for a `Value` the float ``d(child)/d(parent) · dL/d(child)``, for a Tensor op
    the array its VJP returns for that input. The engine's steps are run again, in the engine's order, with
    the engine's numbers (the stored local derivatives; the ops' own VJPs, under no_grad) and its order of
    summation, but nothing is stored: no ``.grad`` changes, no hook runs, the graph is not released."""
    nodes = [_engine_node(r) for r in roots]
    try:
        order = topological_order(nodes)
    except RuntimeError as e:
        raise ValueError(FREED.format(e=e)) from None
    arriving: dict[int, Any] = {}
    carried: dict[tuple[int, int], Any] = {}
    scalar = isinstance(nodes[0], Value)
    for node in nodes:
        seed = 1.0 if scalar else Tensor._make(np.ones(_out_shape(node), dtype=_out_dtype(node)), False)
        arriving[id(node)] = seed if id(node) not in arriving else arriving[id(node)] + seed
    with no_grad():
        for node in reversed(order):
            g = arriving.pop(id(node), None)
            if g is None or not node._prev:
                continue
            if scalar:
                sent = [d * g for d in (node._d0, node._d1)[: len(node._prev)]]  # (Value._backprop's products)
            else:
                try:
                    sent = list(node._vjp(g))
                except RuntimeError as e:
                    raise ValueError(FREED.format(e=e)) from None
            for slot, (parent, pg) in enumerate(zip(node._prev, sent)):
                if parent is None or pg is None:
                    continue
                carried[(id(node), slot)] = pg if scalar else pg._data
                prev = arriving.get(id(parent))
                arriving[id(parent)] = pg if prev is None else prev + pg
    return carried


def _out_shape(node: Any) -> tuple[int, ...]:
    return node.shape if isinstance(node, Tensor) else tuple(node.out_shape)


def _out_dtype(node: Any) -> Any:
    return node._data.dtype if isinstance(node, Tensor) else node.out_dtype


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
