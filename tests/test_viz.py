"""`tinygrad_tx.viz`: the DOT a graph becomes, rendering, the renderer lookup, the CLI, the plots.

Structure is checked on the DOT source itself: every graph node is a line ``n<i> [...]``, every edge a
line ``n<i> -> n<j>``, every cluster a ``subgraph "cluster_<path>" {`` block, so counting and nesting
are read from the text Graphviz would get.

Rendering is tested for real with both renderers the lookup knows (``renderer.py``): the system
Graphviz ``dot`` and the pip-installed ``graphviz-pure`` (the test extra installs it, so its absence is a
failure). The tests that force one of them take the ``renderer`` fixture, whose ids are ``system_dot``
and ``graphviz_pure``; without a system ``dot`` (a pip-only machine) the ``system_dot`` cases are
skipped. CI installs Debian's graphviz, runs everything, and then runs this file again with ``dot``
hidden from PATH and ``-k "not system_dot"``, where nothing may skip. The other rendering tests use
whatever the lookup finds, so that second run renders them with graphviz-pure.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphviz
import numpy as np
import pytest

import tinygrad_tx as tt
from tinygrad_tx import Tensor, Value
from tinygrad_tx.autograd import topological_order
from tinygrad_tx.nn import GPT, Block, GPTConfig, Linear, Module
from tinygrad_tx.viz import INSTALL_HINT, Graph, GraphvizNotFound, RenderError, draw, find_renderer, render
from tinygrad_tx.viz import renderer as lookup
from tinygrad_tx.viz.cli import add_graph_parser, example, run_graph

NODE = re.compile(r"^\s*(n\d+) \[(.*)\]$", re.M)
EDGE = re.compile(r"^\s*(n\d+|truncated) -> (n\d+)", re.M)
CLUSTER = re.compile(r'^\s*subgraph "?cluster_([^" ]+)"? \{$')
MAGIC = {"svg": b"<?xml", "png": b"\x89PNG", "jpeg": b"\xff\xd8\xff", "pdf": b"%PDF"}
# The real renderers, found before any test changes PATH.
SYSTEM_DOT = shutil.which("dot")
GRAPHVIZ_PURE = shutil.which("graphviz-pure", path=os.pathsep.join([os.environ.get("PATH", ""),
                                                                       sysconfig.get_path("scripts")]))


# ------------------------------------------------------------------------------------------ helpers
def nodes(g: graphviz.Digraph) -> dict[str, str]:
    """node id -> its attribute text."""
    return dict(NODE.findall(g.source))


def edges(g: graphviz.Digraph) -> list[tuple[str, str]]:
    return EDGE.findall(g.source)


def cluster_tree(g: graphviz.Digraph) -> tuple[dict[str, str], dict[str, str]]:
    """(cluster -> enclosing cluster, node id -> innermost enclosing cluster), from the brace nesting."""
    parent: dict[str, str] = {}
    where: dict[str, str] = {}
    stack: list[str] = []
    for line in g.source.splitlines():
        m = CLUSTER.match(line)
        if m:
            parent[m.group(1)] = stack[-1] if stack else ""
            stack.append(m.group(1))
        elif line.strip() == "}" and stack:
            stack.pop()
        elif (n := NODE.match(line)) is not None:
            where[n.group(1)] = stack[-1] if stack else ""
    return parent, where


def label_of(g: graphviz.Digraph, needle: str) -> list[str]:
    """Node ids whose label contains ``needle``."""
    return [k for k, attrs in nodes(g).items() if needle in attrs]


def tensor_graph_size(*roots: Tensor) -> tuple[int, int]:
    """What the drawing must contain: every node, one constant per input that needs no grad, every edge."""
    order = topological_order([r._node() for r in roots])
    consts = sum(1 for n in order for p in n._prev if p is None)
    return len(order) + consts, sum(len(n._prev) for n in order)


def require_renderer() -> None:
    """For the tests that render with whatever the lookup finds: `make test` installs graphviz-pure."""
    if find_renderer() is None:
        pytest.fail(f"{INSTALL_HINT} (`pip install -e '.[test]'` installs graphviz-pure)")


@pytest.fixture
def only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], None]:
    """``only(name)`` leaves the lookup one renderer to find: "dot", "graphviz-pure" or None (neither).

    The system ``dot`` is found on PATH only, graphviz-pure on PATH or in the interpreter's script folder,
    so PATH becomes the folder of the one kept (or an empty one) and the script folders are emptied."""

    def use(name: str | None) -> None:
        empty = tmp_path / "empty-path"
        empty.mkdir(exist_ok=True)
        real = {"dot": SYSTEM_DOT, "graphviz-pure": GRAPHVIZ_PURE, None: None}[name]
        monkeypatch.setenv("PATH", str(Path(real).parent if name == "dot" else empty))
        monkeypatch.setattr(lookup, "_script_dirs", lambda: [str(Path(real).parent)] if name == "graphviz-pure" else [])
        found = find_renderer()
        assert (found.name if found else None) == name and shutil.which("dot") == (real if name == "dot" else None)

    return use


@pytest.fixture(params=["dot", "graphviz-pure"], ids=["system_dot", "graphviz_pure"])
def renderer(request: pytest.FixtureRequest, only: Callable[[str | None], None]) -> str:
    """Each real renderer in turn, as the only one the lookup finds."""
    if request.param == "dot" and SYSTEM_DOT is None:
        pytest.skip("Graphviz's dot is not installed (it is optional: graphviz-pure renders without it)")
    if request.param == "graphviz-pure" and GRAPHVIZ_PURE is None:
        pytest.fail("graphviz-pure is not installed: `pip install -e '.[test]'` installs it")
    only(request.param)
    return request.param


def fake_program(folder: Path, name: str, script: str) -> Path:
    """An executable ``folder/name`` running the shell ``script`` (reads DOT on stdin like a renderer)."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text(f"#!/bin/sh\n{script}\n")
    exe.chmod(0o755)
    return exe


def staged() -> tuple[Value, Value, Value]:
    x, y = Value(3.0, label="x"), Value(-4.0, label="y")
    f = (x + y.sigmoid()) / (x.sigmoid() + (x + y) ** 2)
    f.label = "f"
    return x, y, f


def small_gpt(seed: int = 0) -> tuple[GPT, Tensor]:
    tt.manual_seed(seed)
    model = GPT(GPTConfig(vocab_size=16, block_size=8, n_layer=2, n_head=2, n_embd=16))
    idx = np.random.default_rng(seed).integers(0, 16, (1, 8))
    _, loss = model(idx, idx)
    return model, loss


# ------------------------------------------------------------------------------------------ scalars
def test_scalar_graph_has_a_record_per_value_and_an_op_node_per_operation() -> None:
    x, y, f = staged()
    values = topological_order([f])
    n_ops = sum(1 for v in values if v._prev)
    g = draw(f)
    assert isinstance(g, graphviz.Digraph) and isinstance(g, Graph)
    assert len(nodes(g)) == len(values) + n_ops == g.summary.nodes
    assert len(edges(g)) == sum(len(v._prev) for v in values) + n_ops == g.summary.edges
    assert "rankdir=LR" in g.source  # micrograd's direction by default for scalars
    # before backward every grad is 0; the labels carry label, data and grad
    (xid,) = label_of(g, "<b>x</b>")
    assert "data 3.0000" in nodes(g)[xid] and "grad 0.0000" in nodes(g)[xid]
    assert label_of(g, "data 1.5456")  # f
    f.backward()
    g = draw(f)
    (xid,) = label_of(g, "<b>x</b>")
    assert f"grad {x.grad:.4f}" in nodes(g)[xid] and f"grad {y.grad:.4f}" in g.source
    assert "grad 1.0000" in nodes(g)[label_of(g, "<b>f</b>")[0]]
    ops = {attrs.split('label=<')[1].split(">")[0] for attrs in nodes(g).values() if "ellipse" in attrs}
    assert {"+", "/", "σ", "**2"} <= ops


def test_scalar_value_used_twice_has_two_edges() -> None:
    x = Value(2.0, label="x")
    y = x * x
    g = draw(y)
    (xid,) = label_of(g, "<b>x</b>")
    assert sum(1 for a, _ in edges(g) if a == xid) == 2  # both uses are drawn: their gradients add up


def test_scalar_constants_and_inputs_are_distinguished() -> None:
    x = Value(2.0, label="x")
    y = 1.5 + x  # the 1.5 becomes an unlabelled leaf
    g = draw(y)
    assert "input (labelled leaf)" in g.source and "constant (unlabelled leaf)" in g.source
    assert g.summary.kinds == {"input": 1, "constant": 1, "op": 1, "output": 1}


# ------------------------------------------------------------------------------------------ tensors
def test_tensor_mlp_counts_shapes_names_and_kinds() -> None:
    loss, kw = example("mlp")
    model = kw["model"]
    g = draw(loss, model=model)
    n_nodes, n_edges = tensor_graph_size(loss)
    assert len(nodes(g)) == n_nodes == g.summary.nodes
    assert len(edges(g)) == n_edges == g.summary.edges
    src = g.source
    for name, p in model.named_parameters():
        (pid,) = label_of(g, f"<b>{name}</b>")
        assert f"({', '.join(map(str, p.shape))}{',' if p.ndim == 1 else ''}) float32" in nodes(g)[pid]
        assert "#cfe2f3" in nodes(g)[pid]  # parameter colour
    (xid,) = label_of(g, "<b>x</b>")
    assert "(4, 3) float32" in nodes(g)[xid] and "#d9ead3" in nodes(g)[xid]  # the input
    assert label_of(g, "<b>Matmul</b><br/>") and "(4, 8) float32" in src and "(4, 2) float32" in src
    consts = label_of(g, "const")
    assert consts and all("dashed" in nodes(g)[c] for c in consts)
    assert g.summary.kinds["parameter"] == 4 and g.summary.kinds["input"] == 1
    # the output shows its value; the legend names what is drawn
    (out,) = label_of(g, "#ffe599")
    assert f"= {loss.item():.4f}" in nodes(g)[out]
    for text in ("parameter", "input (leaf, requires grad)", "constant (no grad)", "output"):
        assert text in src


def test_leaves_are_named_by_params_dict_or_tensor_name() -> None:
    loss, kw = example("mlp")
    by_params = draw(loss, params=dict(kw["model"].named_parameters()))
    assert label_of(by_params, "<b>fc1.weight</b>") and label_of(by_params, "<b>fc2.bias</b>")
    anonymous = draw(loss)
    assert len(label_of(anonymous, "<b>Parameter</b>")) == 4
    w = Tensor(np.ones((2, 2)), requires_grad=True)
    w.name = "my_weight"
    assert label_of(draw((w * 2.0).sum()), "<b>my_weight</b>")


def test_constants_can_be_left_out() -> None:
    loss, kw = example("mlp")
    g = draw(loss, model=kw["model"], constants=False)
    order = topological_order([loss._node()])
    assert len(nodes(g)) == len(order)
    assert len(edges(g)) == sum(1 for n in order for p in n._prev if p is not None)


def test_gpt_clusters_exist_and_nest_along_the_dotted_path() -> None:
    model, loss = small_gpt()
    g = draw(loss, model=model)
    parent, where = cluster_tree(g)
    assert parent["h"] == "" and parent["h.0"] == "h" and parent["h.1"] == "h"
    assert parent["h.0.attn"] == "h.0" and parent["h.0.mlp"] == "h.0"
    assert parent["h.0.attn.c_attn"] == "h.0.attn" and parent["h.1.mlp.c_fc"] == "h.1.mlp"
    assert parent["wte"] == "" and parent["ln_f"] == ""
    assert g.summary.parents == parent
    # every op sits in the cluster of the module it ran in; every parameter in its module's
    ops = topological_order([loss._node()])
    scopes = {getattr(n, "scope", "") for n in ops} - {""}
    assert scopes <= set(parent)
    for name, _ in model.named_parameters():
        (pid,) = label_of(g, f"<b>{name}</b>")
        assert where[pid] == name.rsplit(".", 1)[0], name
    matmuls = [k for k in label_of(g, "<b>Matmul</b>") if where[k] == "h.0.attn.c_attn"]
    assert len(matmuls) == 1
    # clusters are labelled with the path and the module class
    assert "<b>h.0.attn</b>  <i>CausalSelfAttention</i>" in g.source
    assert (len(nodes(g)), len(edges(g))) == tensor_graph_size(loss)


def test_clusters_can_be_turned_off() -> None:
    model, loss = small_gpt()
    g = draw(loss, model=model, clusters=False)
    assert "subgraph" not in g.source and g.summary.clusters == []
    assert (len(nodes(g)), len(edges(g))) == tensor_graph_size(loss)


def test_depth_collapses_modules_into_nodes_with_their_shapes() -> None:
    model, loss = small_gpt()
    full = draw(loss, model=model)
    sizes = {}
    for depth in (1, 2, 3, 4):
        g = draw(loss, model=model, depth=depth)
        sizes[depth] = g.summary.nodes
        assert len(nodes(g)) == g.summary.nodes and len(edges(g)) == g.summary.edges
    assert sizes[1] <= sizes[2] < sizes[3] < sizes[4] < full.summary.nodes
    g2 = draw(loss, model=model, depth=2)
    parent, where = cluster_tree(g2)
    assert parent == {"h": ""}
    (b0,) = label_of(g2, "<b>h.0</b> <i>Block</i>")
    (b1,) = label_of(g2, "<b>h.1</b> <i>Block</i>")
    assert "in (1, 8, 16) → out (1, 8, 16)" in nodes(g2)[b0]
    assert "box3d" in nodes(g2)[b0] and where[b0] == "h"
    assert (b0, b1) in edges(g2)  # the residual stream goes from block to block
    # shallower modules without sub-modules are single nodes too; their parameters are inside them
    (ln_f,) = label_of(g2, "<b>ln_f</b>")
    assert "2 params (32)" in nodes(g2)[ln_f]
    assert not label_of(g2, "<b>h.0.attn.c_attn.weight</b>")
    # every op is drawn or counted in exactly one module node
    ops_drawn = len([k for k, a in nodes(g2).items() if "rounded" in a])
    ops_in_modules = sum(int(m) for m in re.findall(r"(\d+) ops?\b", g2.source))
    n_ops = sum(1 for n in topological_order([loss._node()]) if not isinstance(n, Tensor))
    assert ops_drawn + ops_in_modules == n_ops
    # depth 1 merges the blocks into the ModuleList h
    g1 = draw(loss, model=model, depth=1)
    assert label_of(g1, "<b>h</b> <i>ModuleList</i>") and not label_of(g1, "<b>h.0</b>")


def test_bad_arguments_are_reported() -> None:
    x, _, f = staged()
    with pytest.raises(ValueError, match="rankdir"):
        draw(f, rankdir="XY")
    with pytest.raises(ValueError, match="Tensor graphs"):
        draw(f, depth=2)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        draw(example("mlp")[0], depth=0)
    with pytest.raises(ValueError, match="stats"):
        draw(example("mlp")[0], stats="median")
    with pytest.raises(TypeError, match="expected a Value or a Tensor"):
        draw(3.0)
    # a list says what is wrong with it (it said "(or a list of them), got list")
    with pytest.raises(TypeError, match=r"got an empty list"):
        draw([])
    with pytest.raises(TypeError, match=r"got a list whose item 1 is a float"):
        draw([f, 2.0])
    # model= and params= of the wrong kind are named (an AttributeError or "cannot unpack" came from inside)
    mlp = example("mlp")[0]
    with pytest.raises(TypeError, match=r"draw: model= must be an nn.Module, got int"):
        draw(mlp, model=3)
    with pytest.raises(TypeError, match=r"draw: params= must map names to tensors .* got the item 1"):
        draw(mlp, params=[1, 2])
    with pytest.raises(TypeError, match=r"draw: params='a' is of type int, not a Tensor"):
        draw(mlp, params={"a": 3})
    with pytest.raises(ValueError, match="max_nodes"):
        draw(f, max_nodes=0)


def test_rankdir() -> None:
    loss, kw = example("attention")
    assert "rankdir=TB" in draw(loss, **kw).source
    assert "rankdir=LR" in draw(loss, rankdir="LR", **kw).source


def test_highlight_marks_the_path_from_a_leaf_to_the_output() -> None:
    loss, kw = example("mlp")
    g = draw(loss, model=kw["model"], highlight="fc2.weight")
    red = {k for k, a in nodes(g).items() if "#d62728" in a}
    (w2,) = label_of(g, "<b>fc2.weight</b>")
    (w1,) = label_of(g, "<b>fc1.weight</b>")
    (out,) = label_of(g, "#ffe599")
    assert w2 in red and out in red and w1 not in red
    _, where = cluster_tree(g)
    assert not any(where[k] == "fc1" for k in red)  # nothing upstream of fc2 is on the path
    red_edges = re.findall(r"(n\d+) -> (n\d+) \[color=\"#d62728\"", g.source)
    assert red_edges and all(a in red and b in red for a, b in red_edges)
    assert "highlighted path" in g.source
    # by tensor, and for scalars by value or label
    assert draw(loss, model=kw["model"], highlight=kw["model"].fc1.weight).source.count("#d62728") > len(red)
    x, y, f = staged()
    assert draw(f, highlight="y").source.count("#d62728") < draw(f, highlight=x).source.count("#d62728")
    with pytest.raises(ValueError, match="fc1.weight"):
        draw(loss, model=kw["model"], highlight="fc3.weight")


def test_stats_after_backward() -> None:
    loss, kw = example("mlp")
    before = draw(loss, model=kw["model"], stats=True)
    assert "data ‖·‖" in before.source and "grad ‖·‖" not in before.source
    loss.backward()
    w = kw["model"].fc1.weight
    g = draw(loss, model=kw["model"], stats=True)
    (wid,) = label_of(g, "<b>fc1.weight</b>")
    assert f"grad ‖·‖ {np.linalg.norm(w.grad.numpy().astype(np.float64)):.4f}" in nodes(g)[wid]
    g = draw(loss, model=kw["model"], stats="mean_std")
    label = nodes(g)[label_of(g, "<b>fc1.weight</b>")[0]]
    wa = w.detach().numpy().astype(np.float64)
    assert f"data μ {wa.mean():.4f} σ {wa.std():.4f}" in label
    assert "grad μ " in label and "‖·‖" not in g.source
    assert "‖·‖" in draw(loss, model=kw["model"], stats="all").source


def test_stats_of_retained_intermediates() -> None:
    x = Tensor(np.arange(4.0), requires_grad=True)
    h = (x * 2.0).retain_grad()
    loss = (h * h).sum()
    loss.backward()
    g = draw(loss, stats=True)
    (mul,) = [k for k in label_of(g, "<b>Mul</b>") if "(4,) float" in nodes(g)[k] and "grad" in nodes(g)[k]]
    assert f"grad ‖·‖ {np.linalg.norm(h.grad):.4f}" in nodes(g)[mul]


# ------------------------------------------------------------------------------------------ backward graphs
def test_create_graph_gradient_is_drawn_as_a_computation() -> None:
    g_root, kw = example("mlp", backward=True)
    loss = kw["forward"]
    g = draw(g_root, **kw)
    assert (len(nodes(g)), len(edges(g))) == tensor_graph_size(g_root)
    kinds = g.summary.kinds
    assert kinds["backward"] > 0 and kinds["op"] > 0  # backward ops, and the forward values they use
    assert "backward op (not in the forward graph)" in g.source
    fwd = {id(n) for n in topological_order([loss._node()])}
    bwd_ops = [n for n in topological_order([g_root._node()]) if not isinstance(n, Tensor) and id(n) not in fwd]
    assert kinds["backward"] == len(bwd_ops)  # (the gradient itself, the output, is a backward op too)
    (out,) = label_of(g, "#ffe599")
    assert "(4, 3) float32" in nodes(g)[out]
    # without forward= it is just a graph
    plain = draw(g_root, model=kw["model"])
    assert "backward" not in plain.summary.kinds and plain.summary.nodes == g.summary.nodes
    # and it is differentiable again: second derivatives exist because the graph does
    (hvp,) = tt.grad((g_root * g_root).sum(), kw["model"].fc1.weight)
    assert hvp.shape == (8, 3)  # fc1 = Linear(3, 8): weight (out, in)


def test_backward_graph_of_a_gpt_and_all_its_parameters() -> None:
    model, loss = small_gpt()
    params = list(model.parameters())
    grads = tt.grad(loss, params, create_graph=True)
    g = draw(grads, model=model, forward=loss, max_nodes=None)
    assert (len(nodes(g)), len(edges(g))) == tensor_graph_size(*grads)
    assert len(label_of(g, "#ffe599")) == len(params)  # one output per gradient
    assert g.summary.kinds["backward"] > g.summary.kinds["op"]
    collapsed = draw(grads, model=model, forward=loss, depth=2)
    assert collapsed.summary.nodes < g.summary.nodes


def test_backward_ops_are_clustered_by_the_module_they_differentiate() -> None:
    model, loss = small_gpt()
    (g_w,) = tt.grad(loss, [model.h[0].mlp.c_fc.weight], create_graph=True)
    bwd_scopes = {n.scope for n in topological_order([g_w._node()]) if not isinstance(n, Tensor)}
    assert {"∇h.1.mlp.c_proj", "∇h.1.attn", "∇h.0.mlp.c_fc", "∇lm_head"} <= bwd_scopes
    g = draw(g_w, model=model, forward=loss)
    parents = g.summary.parents
    assert parents["∇h.0.mlp.c_fc"] == "∇h.0.mlp" and parents["∇h.0"] == "∇h" and parents["∇h"] == ""
    assert "<b>∇h.1.attn</b>  <i>CausalSelfAttention</i>" in g.source
    (hvp,) = tt.grad((g_w * g_w).sum(), [model.h[0].mlp.c_fc.weight], create_graph=True)  # second order: ∇∇
    assert any(n.scope.startswith("∇∇h.0") for n in topological_order([hvp._node()]) if not isinstance(n, Tensor))


def test_graph_after_backward_released_it_is_still_drawn() -> None:
    loss, kw = example("block")
    loss.backward()  # frees the saved values; the structure is still there
    g = draw(loss, **kw)
    assert (len(nodes(g)), len(edges(g))) == (g.summary.nodes, g.summary.edges)
    assert g.summary.nodes > 100


# ------------------------------------------------------------------------------------------ size
def test_max_nodes_cuts_with_a_note() -> None:
    x = Tensor(np.ones(3), requires_grad=True)
    y = x
    for _ in range(500):
        y = y.tanh()
    g = draw(y, max_nodes=100)
    assert g.summary.truncated and g.summary.nodes == 100 and g.summary.total_nodes == 501
    assert len(nodes(g)) == 100
    assert "401 more nodes not drawn (max_nodes=100)" in g.source and "max_nodes=None" in g.source
    assert ("truncated", nodes_sorted(g)[0]) in edges(g)  # the note feeds the cut end of the chain
    full = draw(y, max_nodes=None)
    assert not full.summary.truncated and len(nodes(full)) == 501 and "truncated" not in full.source


def nodes_sorted(g: graphviz.Digraph) -> list[str]:
    return sorted(nodes(g), key=lambda k: int(k[1:]))


@pytest.mark.slow
def test_deep_scalar_graph_100k_nodes_no_recursion() -> None:
    v = Value(0.5, label="x")
    for _ in range(50_000):
        v = v.tanh()  # 50,001 values + 50,000 op nodes
    start = time.perf_counter()
    g = draw(v)
    assert time.perf_counter() - start < 10
    assert g.summary.total_nodes == 100_001 and g.summary.nodes == 2000 and g.summary.truncated
    start = time.perf_counter()
    full = draw(v, max_nodes=None)
    assert time.perf_counter() - start < 60
    assert full.summary.nodes == 100_001 and full.summary.edges == 100_000
    assert full.source.count(" -> ") == 100_000


@pytest.mark.slow
def test_deep_tensor_graph_100k_nodes_no_recursion() -> None:
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(50_000):
        y = y * 1.0001  # one op and one constant each
    start = time.perf_counter()
    g = draw(y, max_nodes=500)
    assert time.perf_counter() - start < 20
    assert g.summary.total_nodes == 100_001 and len(nodes(g)) == 500
    full = draw(y, max_nodes=None, constants=False)
    assert full.summary.nodes == 50_001 and full.summary.edges == 50_000


@pytest.mark.slow
def test_drawing_a_gpt_takes_seconds() -> None:
    require_renderer()
    model, loss = small_gpt()
    start = time.perf_counter()
    g = draw(loss, model=model)
    drawn = time.perf_counter() - start
    svg = g.pipe(format="svg")
    rendered = time.perf_counter() - start
    grads = tt.grad(loss, list(model.parameters()), create_graph=True)
    start = time.perf_counter()
    gb = draw(grads, model=model, forward=loss)
    gb.pipe(format="svg")
    backward = time.perf_counter() - start
    print(f"2-layer GPT: {g.summary.nodes} nodes drawn in {drawn:.2f} s, rendered (svg) in {rendered:.2f} s; "
          f"gradient graph {gb.summary.nodes} nodes in {backward:.2f} s")
    assert svg.startswith(b"<?xml") and drawn < 5 and rendered < 30 and backward < 60


# ------------------------------------------------------------------------------------------ rendering
@pytest.mark.parametrize("fmt", ["svg", "png", "jpeg"])
def test_render_formats(tmp_path: Path, fmt: str, renderer: str) -> None:
    loss, kw = example("attention")
    suffix = "jpg" if fmt == "jpeg" else fmt
    path = render(draw(loss, **kw), tmp_path / f"attention.{suffix}")
    assert path == tmp_path / f"attention.{suffix}" and path.read_bytes().startswith(MAGIC[fmt])
    assert not (tmp_path / "attention.dot").exists()  # the source is only left behind when nothing can render
    if fmt == "svg":
        svg = path.read_text()
        assert "c_attn.weight" in svg and "attn.c_attn" in svg and "Conv1D" in svg  # HTML labels, cluster labels
        assert svg.count('class="cluster"') == len(draw(loss, **kw).summary.clusters)


def test_render_pdf_with_system_dot(tmp_path: Path, only: Callable[[str | None], None]) -> None:
    if SYSTEM_DOT is None:
        pytest.skip("Graphviz's dot is not installed (it is optional; graphviz-pure writes no PDF)")
    only("dot")
    assert render(staged()[2], tmp_path / "staged.pdf").read_bytes().startswith(MAGIC["pdf"])


def test_pdf_with_graphviz_pure_says_it_needs_graphviz_dot(tmp_path: Path, only: Callable[[str | None], None]) -> None:
    only("graphviz-pure")
    g = draw(staged()[2])
    with pytest.raises(GraphvizNotFound) as info:
        render(g, tmp_path / "staged.pdf")
    message = str(info.value)
    assert "graphviz-pure" in message and "not pdf" in message and "apt-get install graphviz" in message
    assert INSTALL_HINT not in message  # a renderer exists: this is about PDF, not "install Graphviz"
    assert info.value.source_path == tmp_path / "staged.dot" and (tmp_path / "staged.dot").read_text() == g.source
    assert render(g, tmp_path / "staged.svg").read_bytes().startswith(MAGIC["svg"])


def test_render_format_from_argument_suffix_and_dot_source(tmp_path: Path) -> None:
    require_renderer()
    _, _, f = staged()
    assert render(f, tmp_path / "staged", "png").suffix == ".png"  # a Value is drawn first
    assert render(f, tmp_path / "staged2", "jpg").suffix == ".jpg"
    assert render(f, tmp_path / "staged3.JPEG").read_bytes().startswith(MAGIC["jpeg"])
    dot = render(draw(f), tmp_path / "staged.gv")
    assert dot.read_text().startswith("digraph")
    with pytest.raises(ValueError, match="format"):
        render(draw(f), tmp_path / "x.svg", "gif")
    with pytest.raises(ValueError, match="ends in .svg but the format is png"):
        render(draw(f), tmp_path / "x.svg", "png")
    # a suffix that names no format is an error, not SVG under that name; an explicit format is obeyed
    for name in ("x.gif", "x.bmp", "x.graph"):
        with pytest.raises(ValueError, match=rf"cannot tell the format from the suffix \.{name[2:]} .*format="):
            render(draw(f), tmp_path / name)
        assert not (tmp_path / name).exists()
    assert render(draw(f), tmp_path / "x.graph", "svg").read_bytes().startswith(MAGIC["svg"])


def test_jupyter_display_is_svg(renderer: str) -> None:
    g = draw(staged()[2])
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"] and "<svg" in bundle["image/svg+xml"] and "grad" in bundle["image/svg+xml"]
    assert g._repr_mimebundle_(include=["image/png"])["image/png"].startswith(MAGIC["png"])
    assert g.pipe(format="svg").startswith(MAGIC["svg"])  # graphviz's own pipe goes through the lookup too


def test_lookup_prefers_dot_then_graphviz_pure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The order, with stand-in programs: dot on PATH, else graphviz-pure on PATH or in the script folder."""
    assert sysconfig.get_path("scripts") in lookup._script_dirs()  # where pip put graphviz-pure for this Python
    on_path, scripts, empty = tmp_path / "bin", tmp_path / "venv-bin", tmp_path / "empty"
    empty.mkdir()
    dot = fake_program(on_path, "dot", "cat")
    pure_on_path = fake_program(on_path, "graphviz-pure", "cat")
    pure_in_venv = fake_program(scripts, "graphviz-pure", "cat")
    monkeypatch.setattr(lookup, "_script_dirs", lambda: [str(scripts)])
    monkeypatch.setenv("PATH", str(on_path))
    assert find_renderer() == lookup.Renderer("dot", str(dot), None)
    dot.unlink()
    assert find_renderer() == lookup.Renderer("graphviz-pure", str(pure_on_path), lookup.PIP_FORMATS)
    monkeypatch.setenv("PATH", str(empty))  # pip's bin folder need not be on PATH (a venv not activated)
    assert find_renderer() == lookup.Renderer("graphviz-pure", str(pure_in_venv), lookup.PIP_FORMATS)
    pure_in_venv.unlink()
    assert find_renderer() is None


def test_render_display_and_cli_share_one_lookup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture) -> None:
    """A stand-in ``dot`` on PATH that answers every call with its arguments: all three ask it."""
    answer = '<?xml version="1.0"?><svg>stand-in %s</svg>'
    fake_program(tmp_path / "bin", "dot", f"cat > /dev/null; printf '{answer}' \"$*\"")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    g = draw(staged()[2])
    assert render(g, tmp_path / "a.svg").read_text() == '<?xml version="1.0"?><svg>stand-in -Kdot -Tsvg</svg>'
    assert "stand-in -Kdot -Tsvg" in g._repr_mimebundle_()["image/svg+xml"]
    assert cli(["graph", "--what", "staged", "-o", str(tmp_path / "b.png")]) == 0
    assert (tmp_path / "b.png").read_text().endswith("stand-in -Kdot -Tpng</svg>")
    assert "drawn by dot" in capsys.readouterr().out


def test_a_failing_renderer_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    fake_program(tmp_path / "bin", "dot", "cat > /dev/null; echo 'Error: <stdin>: syntax error in line 3' >&2; exit 1")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(RenderError, match=r"dot failed to write png \(exit status 1\): Error: <stdin>: syntax error"):
        render(draw(staged()[2]), tmp_path / "a.png")
    assert not (tmp_path / "a.png").exists()
    assert cli(["graph", "--what", "staged", "-o", str(tmp_path / "b.svg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "syntax error in line 3" in err and "Traceback" not in err


def test_no_renderer_explains_and_still_writes_the_source(tmp_path: Path, only: Callable[[str | None], None]) -> None:
    only(None)
    loss, kw = example("attention")
    g = draw(loss, **kw)
    with pytest.raises(GraphvizNotFound) as info:
        render(g, tmp_path / "attention.svg")
    e = info.value
    message = str(e)
    for hint in ("pip install graphviz-pure", "apt-get install graphviz", "brew install graphviz",
                 "conda install graphviz"):
        assert hint in message
    assert INSTALL_HINT in message
    assert e.source_path == tmp_path / "attention.dot" and e.source_path.read_text() == g.source
    assert str(e.source_path) in message
    assert not isinstance(e, graphviz.ExecutableNotFound) and e.__cause__ is None and e.__suppress_context__
    assert not (tmp_path / "attention.svg").exists()
    # the DOT format itself needs no Graphviz
    assert render(g, tmp_path / "ok.dot").read_text() == g.source
    # Jupyter shows the hint instead of a traceback
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and INSTALL_HINT in bundle["text/plain"]


def test_install_hint_only_when_neither_renderer_exists(tmp_path: Path, only: Callable[[str | None], None],
                                                        capsys: pytest.CaptureFixture) -> None:
    for name in ("dot", "graphviz-pure", None):
        if name == "dot" and SYSTEM_DOT is None:
            continue
        only(name)
        status = cli(["graph", "--what", "mlp", "-o", str(tmp_path / f"{name}.svg")])
        bundle = draw(staged()[2])._repr_mimebundle_()
        said = capsys.readouterr()
        hinted = INSTALL_HINT in said.err or "apt-get install graphviz" in said.err or "text/plain" in bundle
        assert hinted == (name is None), (name, said.err)
        assert status == (2 if name is None else 0) and (tmp_path / f"{name}.svg").exists() == (name is not None)


# ------------------------------------------------------------------------------------------ CLI
def cli(argv: list[str]) -> int:
    """Run the graph command in-process; argparse's own errors (SystemExit) become their status."""
    parser = argparse.ArgumentParser(prog="tinygrad-tx")
    sub = parser.add_subparsers(dest="command", required=True)
    add_graph_parser(sub)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    assert args.command == "graph"
    return run_graph(args)


@pytest.mark.parametrize("what", ["staged", "mlp", "attention", "block", "gpt"])
def test_cli_every_example_forward_and_backward(what: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for backward in (False, True):
        out = tmp_path / f"{what}{backward}.dot"
        assert cli(["graph", "--what", what, "-o", str(out)] + (["--backward"] if backward else [])) == 0
        assert out.read_text().startswith("digraph")
        said = capsys.readouterr().out
        assert f"wrote {out}" in said and "nodes" in said


def test_cli_renders_and_collapses(tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: Any,
                                   renderer: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli(["graph", "--what", "gpt", "--depth", "2", "--format", "png"]) == 0
    png = tmp_path / "graph-gpt.png"
    assert png.read_bytes().startswith(MAGIC["png"])
    said = capsys.readouterr().out
    assert said.startswith("wrote graph-gpt.png (") and f"drawn by {renderer}" in said
    assert cli(["graph", "--what", "staged", "--rankdir", "TB", "-o", "s.svg", "--stats"]) == 0
    assert (tmp_path / "s.svg").read_text().count("<svg") == 1
    assert cli(["graph", "--what", "gpt", "--max-nodes", "50", "-o", "cut.dot"]) == 0
    assert "cut from" in capsys.readouterr().out
    # -o x.jpg writes a JPEG (it wrote SVG under that name once)
    assert cli(["graph", "--what", "mlp", "-o", "x.jpg"]) == 0
    assert (tmp_path / "x.jpg").read_bytes().startswith(MAGIC["jpeg"]) and "wrote x.jpg (" in capsys.readouterr().out
    assert cli(["graph", "--what", "mlp", "--format", "jpg"]) == 0 and (tmp_path / "graph-mlp.jpg").exists()


def test_cli_without_any_renderer(tmp_path: Path, capsys: pytest.CaptureFixture,
                                  only: Callable[[str | None], None]) -> None:
    only(None)
    out = tmp_path / "block.svg"
    assert cli(["graph", "--what", "block", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install graphviz" in err and "pip install graphviz-pure" in err
    assert "Traceback" not in err and str(tmp_path / "block.dot") in err
    assert (tmp_path / "block.dot").read_text().startswith("digraph") and not out.exists()
    assert cli(["graph", "--what", "block", "--format", "dot", "-o", str(tmp_path / "b.dot")]) == 0
    # the DOT source written instead does not replace a file that is there
    (tmp_path / "mine.dot").write_text("my own graph")
    assert cli(["graph", "--what", "block", "-o", str(tmp_path / "mine.svg")]) == 2
    assert "mine.dot" in capsys.readouterr().err and (tmp_path / "mine.dot").read_text() == "my own graph"


BAD_INPUTS = [
    # (arguments, what the one line must say); {tmp} is a fresh folder holding a file "afile.txt", a
    # folder "adir" and an existing picture "exists.svg"
    (["-o", "{tmp}/x.gif"], "-o {tmp}/x.gif: .gif is not a supported format; the supported formats are svg, png, "
                            "jpeg (.jpg), pdf and dot (.gv)"),
    (["-o", "{tmp}/x.webp"], ".webp is not a supported format"),
    (["-o", "{tmp}/x.svg", "--format", "png"], "--format png does not match the suffix of -o {tmp}/x.svg"),
    (["--format", "gif", "-o", "{tmp}/x.gif"], "argument --format: invalid choice: 'gif'"),
    (["--depth", "0", "-o", "{tmp}/x.svg"], "--depth must be a positive integer (h.0 is depth 2), got 0"),
    (["--depth", "-2", "-o", "{tmp}/x.svg"], "--depth must be a positive integer (h.0 is depth 2), got -2"),
    (["--depth", "two", "-o", "{tmp}/x.svg"], "argument --depth: invalid int value: 'two'"),
    (["--max-nodes", "0", "-o", "{tmp}/x.svg"], "--max-nodes must be a positive integer, got 0"),
    (["--what", "resnet"], "argument --what: invalid choice: 'resnet'"),
    (["--what", "staged", "--depth", "2", "-o", "{tmp}/x.svg"], "--depth applies to tensor examples"),
    (["--what", "staged", "--fold", "-o", "{tmp}/x.svg"], "--fold applies to tensor examples"),
    (["-o", "{tmp}/adir"], "-o {tmp}/adir is a directory: give a file in it, e.g. -o {tmp}/adir/graph-attention.svg"),
    (["-o", "{tmp}/newdir/"], "-o {tmp}/newdir/ is a directory"),
    (["-o", "{tmp}/afile.txt/x.svg"], "-o {tmp}/afile.txt/x.svg: {tmp}/afile.txt is a file, not a folder"),
    (["-o", "{tmp}/exists.svg"], "-o {tmp}/exists.svg exists: pass --overwrite to replace it"),
    (["-o", "{tmp}/locked/x.svg"], "-o {tmp}/locked/x.svg: cannot write in {tmp}/locked (permission denied)"),
    (["-o", "{tmp}/" + "a" * 300 + ".svg"], "cannot write -o {tmp}/aaaa"),  # too long a name for the file system
    (["-o", ""], "-o is empty"),
]


@pytest.mark.parametrize("argv, says", BAD_INPUTS, ids=[" ".join(a)[:40] for a, _ in BAD_INPUTS])
def test_cli_bad_input_is_one_line_and_status_2(argv: list[str], says: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "afile.txt").write_text("not a folder")
    (tmp_path / "adir").mkdir()
    (tmp_path / "exists.svg").write_text("an older picture")
    (tmp_path / "locked").mkdir()
    # root may write anywhere (CI runs as root), so the read-only folder is a folder access() refuses
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == tmp_path / "locked" else real_access(p, mode))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    status = cli(["graph", *[a.format(tmp=tmp_path) for a in argv]])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.startswith("tinygrad-tx graph: error: ") and "Traceback" not in err
    assert says.format(tmp=tmp_path) in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written
    assert (tmp_path / "exists.svg").read_text() == "an older picture"


def test_cli_overwrite_replaces_an_existing_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    old = tmp_path / "g.dot"
    old.write_text("old")
    assert cli(["graph", "--what", "mlp", "-o", str(old)]) == 2 and old.read_text() == "old"
    assert cli(["graph", "--what", "mlp", "-o", str(old), "--overwrite"]) == 0 and old.read_text().startswith("digraph")
    # an unknown suffix with an explicit --format: the file is written under the name asked for
    assert cli(["graph", "--what", "mlp", "-o", str(tmp_path / "g.graph"), "--format", "dot"]) == 0
    assert (tmp_path / "g.graph").read_text().startswith("digraph")


# ------------------------------------------------------------------------------------------ plots
@pytest.fixture
def plt() -> Any:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_gradient_flow(plt: Any) -> None:
    from tinygrad_tx.viz import gradient_flow

    model, loss = small_gpt()
    loss.backward()
    ax = gradient_flow(model)
    named = list(model.named_parameters())
    bars = ax.patches
    assert len([b for b in bars if b.get_width() == pytest.approx(0.8)]) == len(named)
    heights = [b.get_height() for b in bars][: len(named)]
    assert heights[0] == pytest.approx(float(np.linalg.norm(named[0][1].grad)), rel=1e-5)
    assert [t.get_text() for t in ax.get_xticklabels()] == [n for n, _ in named]
    assert ax.get_yscale() == "log"
    assert {"wte", "h.0", "h.1", "lm_head"} <= {t.get_text() for t in ax.get_legend().get_texts()}
    # a parameter without a gradient is marked; relative norms divide by the weights' norm
    model.h[1].mlp.c_fc.weight.grad = None
    ax = gradient_flow(model, relative=True)
    assert ax.get_ylabel() == "‖∇p‖ / ‖p‖" and any(line.get_label() == "no gradient" for line in ax.lines)


def test_attention_heatmap(plt: Any) -> None:
    from tinygrad_tx.viz import attention_heads, attention_heatmap, keep_attention

    model, _ = small_gpt()
    with pytest.raises(RuntimeError, match="keep_attention"):
        attention_heatmap(model, layer=0, head=0)
    assert keep_attention(model) == 2
    idx = np.arange(8)[None]
    model(idx)
    rho = model.h[1].attn.attention
    assert rho.shape == (1, 2, 8, 8)
    ax = attention_heatmap(model, layer=1, head=1, tokens=list("abcdefgh"))
    shown = ax.images[0].get_array()
    assert np.allclose(shown.filled(0), np.tril(rho[0, 1])) and shown.mask[0, 1] and not shown.mask[1, 0]
    assert ax.get_title() == "layer 1, head 1" and ax.get_xticklabels()[0].get_text() == "a"
    fig = attention_heads(model.h[0].attn)
    assert len([a for a in fig.axes if a.images]) == 2
    with pytest.raises(IndexError, match="head 5"):
        attention_heatmap(model, layer=0, head=5)
    assert attention_heatmap(rho[0, 0]).images  # a bare (T, T) array works too


def test_plots_without_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    from tinygrad_tx.viz import gradient_flow

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    model = Linear(2, 2)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        gradient_flow(model)


def test_module_called_outermost_has_clusters_for_its_children() -> None:
    class Two(Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = Linear(3, 3)
            self.b = Block(8, 2)
            self.c = Linear(3, 8)

        def forward(self, x: Tensor) -> Tensor:
            return self.b(self.c(self.a(x))[None])

    tt.manual_seed(0)
    m = Two()
    y = m(tt.randn(4, 3)).sum()
    g = draw(y, model=m)
    parent, _ = cluster_tree(g)
    assert parent["a"] == "" and parent["b.attn.c_attn"] == "b.attn" and parent["b"] == ""
    assert os.path.sep not in "".join(parent)  # names are module paths, nothing else


# ------------------------------------------------------------------------------------------ the DOT itself
def test_the_dot_source_is_the_same_in_every_process() -> None:
    """Sibling clusters were once written in the iteration order of a set of strings, so the DOT of one graph
    changed with PYTHONHASHSEED from run to run (and dot laid the picture out differently)."""
    script = ("import hashlib; from tinygrad_tx.viz import draw; from tinygrad_tx.viz.cli import example\n"
              "for what, backward in [('gpt', False), ('gpt', True), ('block', False)]:\n"
              "    root, kw = example(what, backward=backward)\n"
              "    print(what, backward, hashlib.sha256(draw(root, **kw).source.encode()).hexdigest())")
    root = str(Path(tt.__file__).resolve().parent.parent)
    runs = set()
    for seed in ("0", "1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed,
               "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
        done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        runs.add(done.stdout)
    assert len(runs) == 1, runs


# what, backward, depth, other draw options; and what is drawn: (nodes, edges, clusters, fingerprint of the DOT)
# (the attention, block and gpt rows changed when the ops nn.tap names started showing their names: "q = Permute")
GOLDEN_DOT = [
    ("staged", False, None, {}, (18, 20, 0, "fa514574381f")),
    ("staged", True, None, {}, (31, 39, 0, "4cb81bf7b1dd")),
    ("mlp", False, None, {}, (21, 20, 3, "e095b294b0d5")),
    ("mlp", False, 2, {}, (11, 10, 0, "ae3ea71d78c7")),
    ("mlp", True, None, {}, (30, 31, 6, "9f0cdd27087e")),
    ("mlp", True, 2, {}, (16, 17, 0, "debe295ab644")),
    ("attention", False, None, {}, (43, 46, 3, "64124053edab")),
    ("attention", False, 2, {}, (31, 34, 1, "b33c6822d1ff")),
    ("attention", True, None, {}, (85, 102, 6, "67ebd5b18505")),
    ("attention", True, 2, {}, (69, 86, 2, "14435c592d79")),
    ("block", False, None, {}, (116, 131, 10, "27b834b90a7f")),
    ("block", False, 2, {}, (11, 13, 1, "7b935682d58d")),
    ("block", True, None, {}, (239, 302, 20, "b504492056d3")),
    ("block", True, 2, {}, (35, 65, 2, "f3117e3f5f97")),
    ("gpt", False, None, {}, (268, 301, 25, "2f3c4d30a9c0")),
    ("gpt", False, 2, {}, (22, 22, 1, "4c3c7dfffa16")),
    ("gpt", True, None, {}, (540, 679, 49, "951537667ce5")),
    ("gpt", True, 2, {}, (67, 125, 2, "4aaa7b361299")),
    ("mlp", False, None, {"highlight": "fc1.weight"}, (21, 20, 3, "6b125be8695e")),
    ("gpt", False, None, {"max_nodes": 50}, (50, 51, 11, "52b28b9a2f54")),
    ("gpt", True, 3, {"highlight": "h.1.mlp.c_fc.weight"}, (83, 149, 6, "df6f05a066ca")),
]


def dot_fingerprint(source: str) -> str:
    """The DOT source, hashed with the computed numbers masked (the last printed digit of a float32 loss may
    differ between BLAS builds): what is drawn, in what order, with which labels and attributes.

    The source is written by `viz.graph` through the ``graphviz`` package's quoting, not by Graphviz, so it
    is the same whichever renderer is installed (checked with graphviz 0.20.1 and 0.21)."""
    masked = re.sub(r"(= |data |grad )-?\d+\.\d+(?:e[+-]?\d+)?", r"\1#", source)
    return hashlib.sha256(masked.encode()).hexdigest()[:12]


def test_the_examples_draw_the_dot_they_drew() -> None:
    """The DOT of the examples, as ``python -m tinygrad_tx graph --what W [--backward] [--depth 2] --format dot``
    writes it, does not change shape unnoticed. When a change is meant, paste the lines printed below."""
    built: dict[tuple[str, bool], tuple[Any, dict[str, Any]]] = {}
    changed = []
    for what, backward, depth, extra, want in GOLDEN_DOT:
        if (what, backward) not in built:
            built[what, backward] = example(what, backward=backward)
        root, kw = built[what, backward]
        g = draw(root, depth=depth, **kw, **extra)
        assert g.summary is not None
        got = (g.summary.nodes, g.summary.edges, len(g.summary.clusters), dot_fingerprint(g.source))
        if got != want:
            row, was = (repr(x).replace("'", '"') for x in ((what, backward, depth, extra, got), want))
            changed.append(f"    {row},  # was {was}")
    assert not changed, "the DOT of these examples changed:\n" + "\n".join(changed)
