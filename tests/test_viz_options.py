"""`viz.draw`'s options ``order=``, ``edge_grads=`` and ``fold=``, the names ``nn.tap`` gives the ops it tags,
and the clusters of a module called on its own.

Structure is read from the DOT source, as in tests/test_viz.py: a node is a line ``n<i> [label=...]``, an edge
``n<i> -> n<j> [...]``. Every number drawn is compared with the engine's own: the step numbers with
``reversed(autograd.graph.topological_order(roots))``, the edge gradients with ``.grad`` after a backward, bit for
bit (the same VJPs run in the same order).
"""

from __future__ import annotations

import copy
import pickle
import re

import numpy as np
import pytest

import tinygrad_tx as tt
from tinygrad_tx import Tensor, Value
from tinygrad_tx.autograd import topological_order
from tinygrad_tx.nn import GPT, Block, CausalSelfAttention, GPTConfig, Linear, Module, ReLU, Sequential
from tinygrad_tx.nn.tap import record, recording, tap
from tinygrad_tx.viz import draw
from tinygrad_tx.viz._walk import collect, edge_gradients

NODE = re.compile(r"^\s*(n\d+) \[(.*)\]$", re.M)
EDGE = re.compile(r"^\s*(n\d+) -> (n\d+)(?: \[(.*)\])?$", re.M)
STEP = re.compile(r"<b>#(\d+)(?:–#(\d+))?</b>")


def nodes(g: object) -> dict[str, str]:
    return dict(NODE.findall(g.source))  # type: ignore[attr-defined]


def edges(g: object) -> list[tuple[str, str, str]]:
    return EDGE.findall(g.source)  # type: ignore[attr-defined]


def steps_by(g: object, name: re.Pattern[str]) -> dict[str, tuple[int, int]]:
    """The drawn step (first, last) of each node, keyed by the first match of ``name`` in its label."""
    found = {}
    for attrs in nodes(g).values():
        m, k = name.search(attrs), STEP.search(attrs)
        if m and k:
            first = int(k.group(1))
            found[m.group(1)] = (first, int(k.group(2) or first))
    return found


def engine_steps(*roots: object) -> dict[int, int]:
    """The engine's walk: id(node) -> its place in reversed(topological_order(roots)), 1 first."""
    order = topological_order([r._node() if isinstance(r, Tensor) else r for r in roots])
    return {id(node): i for i, node in enumerate(reversed(order), 1)}


def labelled_graph() -> tuple[dict[str, Value], Value]:
    """A Value graph where the push order matters: ``a`` has three consumers, ``m`` two, ops of two operands
    (the engine visits the second operand's branch first, a DFS in ``_prev`` order the first's)."""
    x, y, z = Value(1.5, label="x"), Value(-0.5, label="y"), Value(2.0, label="z")
    a = x * y
    b = a.tanh()
    m = a + z
    c = m * b
    d = (a * m).exp()
    f = c + d - a
    vs = dict(x=x, y=y, z=z, a=a, b=b, m=m, c=c, d=d, f=f)
    for name, v in vs.items():
        v.label = name
    return vs, f


VALUE_LABEL = re.compile(r"<td><b>(\w+)</b></td>")


# ------------------------------------------------------------------------------------------ order=True
def test_value_steps_are_the_engines_walk_not_the_drawings_dfs() -> None:
    vs, f = labelled_graph()
    want = {name: engine_steps(f)[id(v)] for name, v in vs.items()}
    drawn = steps_by(draw(f, order=True), VALUE_LABEL)
    assert {k: v[0] for k, v in drawn.items()} == want
    assert want["f"] == 1
    # the graph's own DFS (collect) walks in another order here: numbering by it would be wrong
    dfs = {id(v): i for i, v in enumerate(reversed(collect([f])), 1)}
    assert any(dfs[id(v)] != want[name] for name, v in vs.items())


def test_value_steps_after_backward_released_the_graph() -> None:
    vs, f = labelled_graph()
    want = {name: engine_steps(f)[id(v)] for name, v in vs.items()}
    f.backward()
    with pytest.raises(RuntimeError, match="second time"):
        topological_order([f])  # the engine refuses the released graph: the drawing repeats its walk
    drawn = steps_by(draw(f, order=True), VALUE_LABEL)
    assert {k: v[0] for k, v in drawn.items()} == want


OP_NAME = re.compile(r"<b>(\w+)</b> = ")


def named_tensor_graph() -> tuple[dict[str, object], Tensor, Tensor]:
    """Tensor ops tapped by name (tap names the op without a recording); ``a`` has three consumers."""
    tt.manual_seed(0)
    x = tt.randn(3, 4, requires_grad=True)
    w = tt.randn(4, 4, requires_grad=True)
    a = tap("a", x @ w)
    b = tap("b", a.tanh())
    m = tap("m", a + 1.0)
    c = tap("c", m * b)
    d = tap("d", (a * m).exp())
    loss = tap("loss", (c + d - a).sum())
    ops = {name: t.grad_fn for name, t in dict(a=a, b=b, m=m, c=c, d=d, loss=loss).items()}
    return ops, loss, x


def test_tensor_steps_are_the_engines_walk_before_and_after_backward() -> None:
    ops, loss, x = named_tensor_graph()
    want = {name: engine_steps(loss)[id(node)] for name, node in ops.items()}
    before = steps_by(draw(loss, order=True), OP_NAME)
    assert {k: v[0] for k, v in before.items() if k in want} == want and want["loss"] == 1
    leaf_step = engine_steps(loss)[id(x)]
    assert re.search(rf"<b>#{leaf_step}</b></font>  <b>input</b>", draw(loss, order=True).source)
    loss.backward()
    after = steps_by(draw(loss, order=True), OP_NAME)
    assert {k: v[0] for k, v in after.items() if k in want} == want


def test_a_collapsed_module_shows_the_range_of_its_ops_and_of_its_parameters_steps() -> None:
    tt.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=16, block_size=8, n_layer=2, n_head=2, n_embd=16))
    idx = np.random.default_rng(0).integers(0, 16, (1, 8))
    _, loss = model(idx, idx)
    steps = engine_steps(loss)
    order = topological_order([loss._node()])
    g = draw(loss, model=model, depth=2, order=True)
    for block in ("h.0", "h.1"):
        ops = [steps[id(n)] for n in order if not isinstance(n, Tensor) and (n.scope == block or
                                                                             n.scope.startswith(block + "."))]
        params = [steps[id(p)] for name, p in model.named_parameters() if name.startswith(block + ".")]
        drawn = steps_by(g, re.compile(rf"<b>({re.escape(block)})</b> <i>Block</i>"))
        assert drawn[block] == (min(ops), max(ops)), block
        assert f'color="#b45f06">#{min(params)}–#{max(params)}</font>' in g.source  # after the counts


# ------------------------------------------------------------------------------------------ edge_grads=True
def test_value_edge_gradients_are_local_derivative_times_child_grad() -> None:
    vs, f = labelled_graph()
    carried_before = edge_gradients([f])  # needs no backward: the engine's steps, run again
    f.backward(retain_graph=True)
    carried = edge_gradients([f])
    assert carried == carried_before
    n = 0
    for v in collect([f]):
        for slot, d in enumerate(v.local_derivatives):
            assert carried[(id(v), slot)] == d * v.grad  # bit for bit
            n += 1
    assert n == len(carried) == 15
    # what arrives at a leaf along its edges adds up to its .grad (the engine sums in the same order)
    assert carried[(id(vs["a"]), 0)] == vs["x"].grad
    g = draw(f, edge_grads=True)
    labels = [attrs for _, _, attrs in edges(g) if "label=" in attrs]
    assert len(labels) == 15
    assert any(f"label=\" {format(carried[(id(vs['c']), 1)], '.4f')} \"" in a for a in labels)
    assert vs["x"].grad == carried[(id(vs["a"]), 0)]  # drawing stored nothing


def test_edge_gradients_of_a_released_graph_are_refused_with_the_fix() -> None:
    _, f = labelled_graph()
    f.backward()
    with pytest.raises(ValueError, match=r"edge_grads=True.*retain_graph=True"):
        draw(f, edge_grads=True)
    _, loss, _ = named_tensor_graph()
    loss.backward()
    with pytest.raises(ValueError, match=r"edge_grads=True.*retain_graph=True"):
        draw(loss, edge_grads=True)


def test_tensor_edge_gradients_are_what_each_vjp_sends() -> None:
    tt.manual_seed(0)
    x = tt.randn(3, 4, requires_grad=True, dtype=np.float64)
    w = tt.randn(4, 2, requires_grad=True, dtype=np.float64)
    h = x @ w
    t = h.tanh()
    p = t * h  # h has two consumers
    loss = p.sum()
    carried = edge_gradients([loss])
    g = draw(loss, edge_grads=True)
    h.retain_grad()
    loss.backward(retain_graph=True)
    mm = h.grad_fn
    assert np.array_equal(carried[(id(mm), 0)], x.grad.numpy()) and np.array_equal(carried[(id(mm), 1)], w.grad.numpy())
    along_mul, along_tanh = carried[(id(p.grad_fn), 1)], carried[(id(t.grad_fn), 0)]
    assert np.array_equal(along_mul + along_tanh, h.grad.numpy())  # added in the engine's order: the same bits
    assert not np.allclose(along_mul, h.grad.numpy(), rtol=1e-3)  # (each edge is a part, not the total)
    norms = [float(m) for m in re.findall(r"‖ḡ‖ (-?[\d.e+-]+)", g.source)]
    assert len(norms) == sum(1 for _, _, attrs in edges(g) if "label=" in attrs) == len(carried) == 6
    assert float(f"{np.linalg.norm(w.grad.numpy()):.4f}") in norms  # (labels have 4 decimals)


def test_edge_gradients_into_a_collapsed_module_add_up_its_members_uses() -> None:
    tt.manual_seed(0)
    model = Sequential(Linear(3, 3), ReLU(), Linear(3, 2))
    x = tt.randn(4, 3, requires_grad=True)
    x.name = "x"
    loss = model(x).square().sum()
    g = draw(loss, model=model, depth=1, edge_grads=True)
    loss.backward()
    x_node = next(k for k, a in nodes(g).items() if "<b>x</b>" in a)
    (label,) = [a for p, _, a in edges(g) if p == x_node]
    assert float(re.search(r"‖ḡ‖ ([\d.e+-]+)", label).group(1)) == pytest.approx(np.linalg.norm(x.grad.numpy()),
                                                                                   rel=5e-4)


def test_an_edge_out_of_a_collapsed_module_for_several_tensors_is_labelled_with_their_joint_norm() -> None:
    class Pair(Module):
        def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
            return x.exp(), x.sin()

    class Product(Module):
        def forward(self, u: Tensor, v: Tensor) -> Tensor:
            return u * v

    class Net(Module):
        def __init__(self) -> None:
            super().__init__()
            self.a, self.b = Pair(), Product()

        def forward(self, x: Tensor) -> Tensor:
            return self.b(*self.a(x))

    net = Net()
    x = tt.randn(5, requires_grad=True, dtype=np.float64)
    u, v = np.exp(x.detach().numpy()), np.sin(x.detach().numpy())
    g = draw(net(x).sum(), model=net, depth=1, edge_grads=True)
    a_node = next(k for k, attrs in nodes(g).items() if "<b>a</b>" in attrs)
    (label,) = [attrs for p, _, attrs in edges(g) if p == a_node]
    joint = np.sqrt(np.sum(v * v) + np.sum(u * u))  # ḡ_u = v, ḡ_v = u under a sum
    assert float(re.search(r"‖ḡ‖ ([\d.e+-]+)", label).group(1)) == pytest.approx(joint, abs=5e-5)


# ------------------------------------------------------------------------------------------ fold=True
def gpt_loss(n_layer: int, **kw: object) -> tuple[GPT, Tensor]:
    tt.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=16, block_size=8, n_layer=n_layer, n_head=2, n_embd=16, **kw))
    idx = np.random.default_rng(0).integers(0, 16, (1, 8))
    _, loss = model(idx, np.roll(idx, -1, axis=1))
    return model, loss


def test_six_gpt_blocks_fold_into_one_cluster() -> None:
    model, loss = gpt_loss(6)
    full = draw(loss, model=model)
    g = draw(loss, model=model, fold=True)
    s = g.summary
    assert s.folds == {"h.0": [f"h.{i}" for i in range(6)]}
    assert [c for c in s.clusters if re.fullmatch(r"h\.\d+", c)] == ["h.0"]
    assert not any(c.startswith(("h.1", "h.5")) for c in s.clusters)
    assert "h.0 … h.5 ×6" in g.source and full.summary.nodes > 5 * s.nodes // 2
    loops = [a for _, _, a in edges(g) if "h.k → h.k+1" in a]
    # block k's output feeds block k+1's ln_1 twice (the mean, and x - mean) and its residual add
    assert len(loops) == 3 and all("dashed" in a for a in loops)
    # the last block's output reaches ln_f (which reads it twice) from the drawn copy's res_2.out
    res2 = next(k for k, a in nodes(g).items() if "<b>res_2.out</b>" in a)
    where = cluster_of_nodes(g.source)
    assert [where[c] for p, c, a in edges(g) if p == res2 and "h.k" not in a] == ["ln_f", "ln_f"]
    collapsed = draw(loss, model=model, fold=True, depth=2)
    assert "h.0 … h.5 ×6" in collapsed.source and collapsed.summary.folds == s.folds
    assert sum(1 for p, c, a in edges(collapsed) if p == c and "h.k → h.k+1" in a) == 1  # one self-loop


def test_blocks_that_differ_do_not_fold() -> None:
    model, _ = gpt_loss(3)
    model.h[1] = Block(16, 2, activation="relu")  # other ops than its siblings
    idx = np.random.default_rng(0).integers(0, 16, (1, 8))
    _, loss = model(idx, idx)
    g = draw(loss, model=model, fold=True)
    assert g.summary.folds == {} and {"h.0", "h.1", "h.2"} <= set(g.summary.clusters)
    # a run folds up to where the siblings change
    seq = Sequential(Linear(4, 4), Linear(4, 4), Linear(4, 4), Linear(4, 8))
    out = seq(tt.randn(2, 4, requires_grad=True)).sum()
    g = draw(out, model=seq, fold=True)
    assert g.summary.folds == {"0": ["0", "1", "2"]} and "3" in g.summary.clusters
    assert "0 … 2 ×3" in g.source


def test_fold_applies_to_tensor_graphs() -> None:
    _, f = labelled_graph()
    with pytest.raises(ValueError, match="fold="):
        draw(f, fold=True)


# ------------------------------------------------------------------------------------------ tap names
ATTENTION_STEPS = ("q", "k", "v", "scores", "mask", "softmax", "weighted sum")


def test_attention_steps_are_drawn_by_name_without_a_recording() -> None:
    tt.manual_seed(0)
    attn = CausalSelfAttention(16, 2)
    assert not recording()
    out = attn(tt.randn(1, 4, 16, requires_grad=True)).square().mean()
    g = draw(out)
    for name in ATTENTION_STEPS:
        assert len([a for a in nodes(g).values() if f"<b>{name}</b>" in a]) == 1, name
    assert "<b>q</b> = Permute" in g.source and "<b>scores</b> = Mul" in g.source
    assert "<b>softmax</b> · <b>rho</b>" in g.source  # its name in words, then its symbol (manual's)
    with record() as kept:  # the recording still keeps them, under their paths
        attn(tt.randn(1, 4, 16))
    assert {"q", "k", "v", "scores", "mask", "S", "softmax", "rho", "weighted sum", "heads", "y"} <= set(kept)


# ------------------------------------------------------------------------------------------ a module called on its own
def test_a_block_called_on_its_own_is_clustered_under_its_path_in_the_model() -> None:
    model, _ = gpt_loss(2)
    x = tt.randn(1, 4, 16, requires_grad=True)
    y = model.h[1](x).sum()
    g = draw(y, model=model)
    s = g.summary
    assert {"h.1", "h.1.attn", "h.1.attn.c_attn", "h.1.mlp.c_fc", "h.1.ln_1"} <= set(s.clusters)
    assert not any(c.startswith(("attn", "mlp", "ln_")) for c in s.clusters)
    assert s.parents["h.1.attn.c_attn"] == "h.1.attn" and s.parents["h.1"] == "h"
    assert "<b>h.1.attn</b>  <i>CausalSelfAttention</i>" in g.source
    # the parameters sit in their module's cluster (their names, from model=, and the ops' paths agree)
    where = cluster_of_nodes(g.source)
    weight = next(k for k, a in nodes(g).items() if "<b>h.1.attn.c_attn.weight</b>" in a)
    assert where[weight] == "h.1.attn.c_attn"
    res1 = next(k for k, a in nodes(g).items() if "<b>res_1.out</b>" in a)
    assert where[res1] == "h.1"  # the block's own ops (its residual adds) are in its cluster
    # the backward pass of it, too
    (gx,) = tt.grad(model.h[1](x).sum(), x, create_graph=True)
    assert "∇h.1.attn.c_attn" in draw(gx, model=model).summary.clusters
    # calling the whole model again names everything from the model
    idx = np.random.default_rng(0).integers(0, 16, (1, 8))
    _, loss = model(idx, idx)
    assert "h.1.attn" in draw(loss, model=model).summary.clusters


def test_a_module_called_on_its_own_without_model_clusters_its_children() -> None:
    tt.manual_seed(0)
    attn = CausalSelfAttention(16, 2)
    g = draw(attn(tt.randn(1, 4, 16, requires_grad=True)).sum())
    assert g.summary.clusters == ["c_attn", "c_proj"]
    assert "<b>c_attn</b>  <i>Conv1D</i>" in g.source  # the class, from the module itself
    blk = Block(16, 2)
    g = draw(blk(tt.randn(1, 4, 16, requires_grad=True)).sum())
    assert {"attn", "attn.c_attn", "mlp", "mlp.c_fc", "ln_1"} <= set(g.summary.clusters)


def test_scope_paths_copy_and_pickle_as_plain_strings() -> None:
    class Two(Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = Linear(2, 2)

        def forward(self, x: Tensor) -> Tensor:
            return self.a(x)

    m = Two()
    m(tt.randn(1, 2))
    assert m.a._scope_path == "a" and m.a._scope_path.root() is m
    clone = copy.deepcopy(m)
    assert type(clone.a._scope_path) is str and clone.a._scope_path == "a"
    again = pickle.loads(pickle.dumps(m.a))
    assert type(again._scope_path) is str and again._scope_path == "a"


CLUSTER = re.compile(r'^\s*subgraph "?cluster_([^" ]+)"? \{$')


def cluster_of_nodes(source: str) -> dict[str, str]:
    """node id -> the innermost cluster it is written in, from the brace nesting of the DOT."""
    where: dict[str, str] = {}
    stack: list[str] = []
    for line in source.splitlines():
        m = CLUSTER.match(line)
        if m:
            stack.append(m.group(1))
        elif line.strip() == "}" and stack:
            stack.pop()
        elif (n := NODE.match(line)) is not None:
            where[n.group(1)] = stack[-1] if stack else ""
    return where


def test_the_graph_command_passes_order_edge_grads_and_fold_to_draw(tmp_path, capsys) -> None:
    """``graph --order --edge-grads`` on the staged example: the DOT it writes numbers the 10 values #1 … #10 and
    labels the edges with the gradients, the same DOT as draw(order=True, edge_grads=True) of the example;
    ``--fold`` folds the GPT's two blocks."""
    from tinygrad_tx.__main__ import main
    from tinygrad_tx.viz.cli import example

    out = tmp_path / "staged.dot"
    assert main(["graph", "--what", "staged", "--order", "--edge-grads", "-o", str(out)]) == 0
    source = out.read_text()
    assert sorted(int(a) for a, _ in STEP.findall(source)) == list(range(1, 11))
    root, kwargs = example("staged")
    assert source == draw(root, order=True, edge_grads=True, rankdir="LR", **kwargs).source
    gpt = tmp_path / "gpt.dot"
    assert main(["graph", "--what", "gpt", "--fold", "--depth", "2", "-o", str(gpt)]) == 0
    assert "h.0 … h.1 ×2" in gpt.read_text()
    capsys.readouterr()
