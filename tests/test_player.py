"""The backward player (tinygrad_tx/viz/player.py): its frames are the engine's own numbers, and the page shows them.

The Python side is checked against an independent run of the engine on a twin graph (the examples are seeded,
so building one twice gives the same graph): ``run_backward(..., capture=every node)`` gives each node's complete
gradient, a plain ``backward()`` the leaves' ``.grad``; every comparison is bit for bit (``==`` on floats,
``np.array_equal`` on arrays), since the player must show what the engine computed, not something close.

The page is checked in a real browser (Playwright driving the system's headless Chromium, one launch for the
module): every step of the staged example and of one attention layer, ``#step=K``, the keyboard, and no console
error. Without playwright or the browser those tests skip, saying why (CI installs both and fails on that skip).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from typing import Any

import numpy as np
import pytest

from tests.helpers import assert_one_line_error
from tests.helpers import run_cli as run
from tinygrad_tx import Tensor, Value
from tinygrad_tx.autograd import graph as autograd_graph
from tinygrad_tx.autograd.graph import run_backward, topological_order
from tinygrad_tx.autograd.profiler import profile
from tinygrad_tx.viz.cli import example
from tinygrad_tx.viz.player import _frame, _short, _tensor_formulas, _text, player, recording
from tinygrad_tx.viz.renderer import find_renderer

pytestmark = pytest.mark.skipif(find_renderer() is None, reason="no Graphviz renderer (dot or graphviz-pure)")

BROWSERS = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"]


def same(a: Any, b: Any) -> bool:
    """Bit-for-bit equality of two floats or two arrays (None only equals None)."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return float(a) == float(b) or (a != a and b != b)


def plain(x: Any) -> Any:
    """A gradient as the player records it: a float, or a Tensor's array."""
    return x._data if isinstance(x, Tensor) else x


def build(what: str) -> tuple[Any, dict[str, Any]]:
    return example(what, backpropagated=False)


def played(what: str) -> Any:
    with recording() as rec:
        root, kwargs = build(what)
    return player(root, model=kwargs.get("model"), forward=rec)


def leaves(root: Any) -> list[Any]:
    start = root._node() if isinstance(root, Tensor) else root
    return [n for n in topological_order([start]) if not n._prev]


def leaf_grad(leaf: Any) -> Any:
    return leaf.grad if isinstance(leaf, Value) else leaf.grad._data


@pytest.mark.parametrize("what", ["staged", "mlp", "attention"])
def test_steps_are_the_engines_walk(what: str) -> None:
    root, kwargs = build(what)
    start = root._node() if isinstance(root, Tensor) else root
    order = topological_order([start])
    p = player(root, model=kwargs.get("model"))
    assert ids(p.nodes) == ids(order)
    forward = [s for s in p.steps if s.kind == "forward"]
    backward = [s for s in p.steps if s.kind == "backward"]
    assert ids(s.obj for s in forward) == ids(order)  # the forward pass in topological order
    assert ids(s.obj for s in backward) == ids(order[::-1])  # the walk: every node is reached in these examples
    assert [s.index for s in p.steps] == list(range(len(p.steps)))
    position = {id(n): i for i, n in enumerate(order)}
    assert all(s.node == f"n{position[id(s.obj)]}" for s in p.steps)

    twin, _ = build(what)  # the same graph again, for an independent run of the engine
    twin_start = twin._node() if isinstance(twin, Tensor) else twin
    twin_order = topological_order([twin_start])
    seed = 1.0 if isinstance(twin, Value) else Tensor(np.ones((), dtype=twin.dtype))
    complete = run_backward([twin_start], [seed], retain_graph=True, capture=twin_order)
    for s in backward:  # the upstream gradient is the node's complete gradient
        assert same(s.grad, plain(complete[position[id(s.obj)]])), (s.index, s.op)

    # what each node sent, added up in the walk's order, is its parents' complete gradient
    arrived: dict[str, Any] = {}
    for s in backward:
        expected = arrived.pop(s.node, None)
        if s.node != f"n{len(order) - 1}":  # (the root's is the seed)
            assert same(s.grad, expected), (s.index, s.op)
        for a in s.accumulations:
            assert same(a.before, arrived.get(a.parent)), (s.index, a.parent)
            total = a.before
            for t in a.terms:
                total = t if total is None else total + t
            assert same(total, a.after)
            arrived[a.parent] = a.after
        terms = [c.value for c in s.contributions if c.value is not None]
        assert len(terms) == sum(len(a.terms) for a in s.accumulations)
    assert not arrived  # every gradient sent was consumed by a later step

    twin.backward()  # leaves: a plain backward's .grad, bit for bit
    for leaf, twin_leaf in zip(leaves_of(order), leaves_of(twin_order)):
        assert same(leaf_grad(leaf), leaf_grad(twin_leaf))
    for s in backward:
        if not s.obj._prev:
            assert same(s.leaf_grad, leaf_grad(s.obj))


def ids(nodes: Any) -> list[int]:
    return [id(n) for n in nodes]


def leaves_of(order: list[Any]) -> list[Any]:
    return [n for n in order if not n._prev]


def test_value_contributions_are_the_local_derivative_times_the_upstream() -> None:
    root, _ = build("staged")
    p = player(root)
    for s in p.steps:
        if s.kind == "backward" and s.obj._prev:
            for c in s.contributions:
                assert c.local is not None and same(c.value, c.local * s.grad)
                assert c.text == repr(c.value)
            assert s.grad_text == repr(s.grad)


def test_forward_values_are_the_nodes_data() -> None:
    root, _ = build("staged")
    p = player(root)
    for s in p.steps[: len(p.nodes)]:
        assert s.kind == "forward" and s.value == s.obj.data and s.value_text == repr(s.obj.data)

    p = played("attention")
    forward = p.steps[: len(p.nodes)]
    for s in forward:
        assert s.value is not None, s.op  # recorded: every op's output is known
        if isinstance(s.obj, Tensor):
            assert same(s.value, s.obj._data)
    root, kwargs = build("attention")  # without a recording: the root and what the ops saved
    q = player(root, model=kwargs["model"])
    assert same(q.steps[len(q.nodes) - 1].value, root._data)
    assert same(forward[-1].value, root._data)
    known = [(a, b) for a, b in zip(forward, q.steps) if b.value is not None]
    assert len(known) > sum(1 for n in q.nodes if not n._prev) + 1  # the leaves, the root, and saved values
    for a, b in known:
        assert same(a.value, b.value), a.op


def test_a_node_with_two_consumers_shows_the_accumulation() -> None:
    root, _ = build("staged")  # x feeds σ(x), x + σ(y) and x + y
    p = player(root)
    x = next(i for i, n in enumerate(p.nodes) if isinstance(n, Value) and n.label == "x")
    into_x = [a for s in p.steps for a in s.accumulations if a.parent == f"n{x}"]
    assert len(into_x) == 3
    assert into_x[0].before is None and into_x[1].before is not None
    assert into_x[1].before == into_x[0].after and into_x[-1].after == p.nodes[x].grad
    second = into_x[1]
    assert second.text == f"{second.before!r} + {second.terms[0]!r}\n= {second.after!r}"


def test_a_tensor_accumulation_shows_each_array_by_its_norm_on_its_own_line() -> None:
    """``before + this step = after`` of arrays, by their norms, never as ``‖a‖ + ‖b‖ = ‖a + b‖`` (which reads
    as wrong arithmetic); the arrays themselves are the engine's (after == before + the term, bit for bit)."""
    p = played("attention")
    acc = next(a for s in p.steps for a in s.accumulations if a.before is not None and a.after.size > 1)
    assert same(acc.after, acc.before + acc.terms[0])
    assert acc.text == (f"before     {_short(acc.before)}\nthis step  {_short(acc.terms[0])}\n"
                        f"after      {_short(acc.after)}\n(arrays add elementwise; norms do not)")


def test_square_sends_two_terms_to_one_parent() -> None:
    x = Tensor(np.array([1.5, -2.0], dtype=np.float64), requires_grad=True)
    loss = (x * x).sum()
    p = player(loss)
    mul = next(s for s in p.steps if s.kind == "backward" and s.op == "Mul")
    (acc,) = mul.accumulations
    assert len(acc.terms) == 2 and acc.before is None
    assert same(acc.after, acc.terms[0] + acc.terms[1])
    assert same(x.grad._data, acc.after) and same(x.grad._data, np.array([3.0, -4.0]))


def test_formulas_come_from_the_docstrings() -> None:
    root, kwargs = build("mlp")
    p = player(root, model=kwargs["model"])
    by_op = {s.op: s.formula for s in p.steps if s.kind == "backward"}
    assert by_op["Matmul"] == "Ā = Ȳ Bᵀ, B̄ = Aᵀ Ȳ"
    assert by_op["Relu"].startswith("x̄ = ȳ ⊙ 1[not x ≤ 0]")
    root, _ = build("staged")
    p = player(root)
    by_op = {s.op: s.formula for s in p.steps if s.kind == "backward"}
    assert by_op["*"] == "d out/da = b, d out/db = a (mul swaps the inputs)."
    assert by_op["leaf"] == "leaf: .grad += ȳ"
    assert {s.formula for s in p.steps if s.kind == "forward" and s.op == "*"} == {"out = a * b"}


def test_every_value_op_shows_its_local_derivatives() -> None:
    """Each op a `Value` records (the gates max, min and abs too) is played with its docstring's formulas,
    never the fallback ``out = op(a)`` without a derivative."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    made = [a + b, a * b, a / b, -a, a.exp(), a.log(), a.tanh(), a.sigmoid(), a.relu(), a ** 2, a ** b,
            a.max(b), a.min(b), abs(b)]
    root = made[0]
    for v in made[1:]:
        root = root + v
    p = player(root)
    ops = {s.op for s in p.steps if s.kind == "backward"} - {"leaf"}
    assert {"max", "min", "abs", "σ", "relu", "**2", "**"} <= ops
    for s in p.steps:
        if s.op == "leaf":
            continue
        if s.kind == "backward":
            assert s.formula.startswith("d out/da"), (s.op, s.formula)
        else:
            assert s.formula.startswith("out = ") and s.formula != f"out = {s.op}(a)", (s.op, s.formula)
    by_op = {s.op: s.formula for s in p.steps if s.kind == "forward"}
    assert by_op["max"] == "out = max(a, b)" and by_op["abs"] == "out = |a|"


def test_max_min_abs_show_their_own_formulas() -> None:
    """The gates Value gained (max, min, abs) read their formulas from their docstrings like the others: max
    and min have two inputs, and the panel shows the VJP only (not what Python's builtin max does)."""
    a, b = Value(2.0, label="a"), Value(-1.0, label="b")
    p = player((a.max(b) + a.min(b)).abs())
    forward = {s.op: s.formula for s in p.steps if s.kind == "forward"}
    backward = {s.op: s.formula for s in p.steps if s.kind == "backward"}
    assert forward["max"] == "out = max(a, b)" and forward["min"] == "out = min(a, b)"
    assert forward["abs"] == "out = |a|"
    assert backward["max"].startswith("d out/da = 1 if a > b, d out/db = 1 if b > a") and "tie" in backward["max"]
    assert backward["min"].startswith("d out/da = 1 if a < b, d out/db = 1 if b < a") and "tie" in backward["min"]
    assert backward["abs"].startswith("d out/da = sign(a)")
    assert "Python" not in backward["max"]
    # the page shows plain text: no reST quotes, no names of the engine's internals
    assert not any("``" in f or "_ZERO" in f for f in backward.values()), backward


def test_a_custom_function_documented_as_autograd_function_says_shows_its_vjp() -> None:
    """autograd/function.py documents a custom op's docstring as ``y = x².   VJP: x̄ = 2 x ȳ``; the primitives
    write ``y = ...   |   x̄ = ...``. The player reads both (it said "its docstring gives no VJP formula")."""
    from tinygrad_tx.autograd import Function

    class Square(Function):
        """y = x².   VJP: x̄ = 2 x ȳ"""

        @staticmethod
        def forward(ctx: Any, x: np.ndarray) -> np.ndarray:
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx: Any, g: Tensor) -> Tensor:
            (x,) = ctx.saved_tensors
            return 2 * x * g

    w = Tensor(np.array([1.5, -2.0]), requires_grad=True)
    p = player(Square.apply(w).sum())
    (forward,) = [s.formula for s in p.steps if s.kind == "forward" and s.op == "Square"]
    (backward,) = [s.formula for s in p.steps if s.kind == "backward" and s.op == "Square"]
    assert (forward, backward) == ("y = x²", "x̄ = 2 x ȳ")
    # manual's fused ops write "VJP (where it is derived): ..." (the panel said they had no formula)
    from tinygrad_tx.manual.fused import FusedCausalAttention, FusedLayerNorm

    forward, backward = _tensor_formulas(object.__new__(FusedCausalAttention))
    assert forward == "out = ρ v, ρ = softmax(q kᵀ/√d_h + M)" and backward.startswith("G = ȳ vᵀ, Δ_S = ρ ⊙")
    forward, backward = _tensor_formulas(object.__new__(FusedLayerNorm))
    assert backward.startswith("with G = ȳ ⊙ γ: x̄ = (1/σ)(G - mean(G)") and forward.endswith("⊙ γ + β per row")


def test_a_primitive_whose_vjp_is_in_its_docstrings_second_paragraph_shows_it() -> None:
    """Atan2 and BinaryCrossEntropy write ``ẏ = ...   |   ā = ...`` in a paragraph of its own, after the forward's
    (the panel said their docstrings gave no VJP formula)."""
    from tinygrad_tx.nn.functional import binary_cross_entropy

    a = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    b = Tensor(np.array([2.0, 1.5]), requires_grad=True)
    p = player(a.atan2(b).sum() + binary_cross_entropy(a.sigmoid(), Tensor(np.array([1.0, 0.0]))))
    backward = {s.op: s.formula for s in p.steps if s.kind == "backward"}
    forward = {s.op: s.formula for s in p.steps if s.kind == "forward"}
    assert backward["Atan2"] == "ā = ȳ ⊙ b / (a² + b²), b̄ = -ȳ ⊙ a / (a² + b²)"
    assert forward["Atan2"] == "y = atan2(a, b), the angle of the point (b, a) in (-π, π]"
    assert backward["BinaryCrossEntropy"].startswith("p̄ = ℓ̄ ⊙ (p - t) / max(p (1 - p), ε)")
    assert not any("``" in f for f in backward.values())
    # the separator is a bar between spaces, not the bars of |x| (atanh's VJP began "x| < 1. ẏ = ...")
    p = player((a * 0.5).atanh().sum() + b[0])
    backward = {s.op: s.formula for s in p.steps if s.kind == "backward"}
    assert backward["Atanh"] == "x̄ = ȳ / (1 - x²)"
    assert backward["GetItem"].startswith("x̄ = zeros like x with ȳ scatter-added at index")


def test_too_large_a_graph_is_refused_before_any_backward() -> None:
    root, kwargs = build("gpt")
    with pytest.raises(ValueError) as e:
        player(root, model=kwargs["model"])
    message = str(e.value)
    n = len(topological_order([root._node()]))
    assert f"has {n} engine nodes" in message and "max_nodes=150" in message and "smaller example" in message
    assert autograd_graph._observer is None
    with pytest.raises(ValueError, match="max_nodes=5"):
        player(build("staged")[0], max_nodes=5)
    p = player(build("mlp")[0], max_nodes=18)  # exactly at the limit
    assert len(p.nodes) == 18


def test_a_backpropagated_graph_is_refused_with_what_to_do() -> None:
    root, _ = example("staged", backpropagated=False)
    root.backward()  # releases what the forward saved
    with pytest.raises(ValueError, match="Rebuild it"):
        player(root)
    kept, _ = build("mlp")
    kept.backward(retain_graph=True)  # a graph kept for a second backward is played; .grad accumulate
    kept_leaves = leaves(kept)
    first = [leaf_grad(leaf).copy() for leaf in kept_leaves]
    p = player(kept)
    for leaf, g in zip(kept_leaves, first):
        assert same(leaf_grad(leaf), g + g)
    assert sum(s.kind == "backward" for s in p.steps) == len(p.nodes)


def test_bad_roots() -> None:
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    with pytest.raises(ValueError, match=r"scalar loss .*shape \(3,\)"):
        player(x * 2)
    with pytest.raises(ValueError, match="does not require grad"):
        player(Tensor(1.0))
    with pytest.raises(TypeError, match="expected a Value or a Tensor"):
        player(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        player(Value(1.0) * 2, rankdir="RL")
    # the naming arguments are checked as draw's are (a Value graph has no parameters to name)
    with pytest.raises(TypeError, match=r"player: model= must be an nn.Module, got int"):
        player(x.sum(), model=3)
    with pytest.raises(TypeError, match=r"player: params='w' is of type str, not a Tensor"):
        player(x.sum(), params={"w": "x"})
    with pytest.raises(ValueError, match=r"player: model= and params= name the leaves of Tensor graphs"):
        player(Value(1.0) * 2, params={"x": x})
    played = player(lambda: Value(2.0) * 3)  # (the forward a function root records is not forward=)
    assert sorted(s.leaf_grad for s in played.steps if s.leaf_grad is not None) == [2.0, 3.0]


def test_a_function_root_records_its_forward() -> None:
    p = player(lambda: build("attention")[0])
    assert all(s.value is not None for s in p.steps if s.kind == "forward")


def test_a_running_profile_still_counts_the_backward() -> None:
    root, _ = build("mlp")
    with profile() as prof:
        p = player(root)
    assert autograd_graph._observer is None
    ops = sum(1 for n in p.nodes if n._prev)
    assert sum(s.backward_calls for s in prof.stats.values()) == ops


def test_the_page_is_self_contained(tmp_path: Any) -> None:
    root, _ = build("staged")
    root_leaves = leaves(root)
    p = player(root)
    path = p.save(tmp_path / "staged.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "http://" not in page.replace("http://www.w3.org/", "") and "https://" not in page
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<img\b|@import|url\(", page)
    assert 'id="tgp' in page and "-n0" in page
    inline = p._repr_html_()
    assert "<svg" in inline and "tinygradPlayer(" in inline and "<!DOCTYPE" not in inline
    # without JavaScript the SVG shows the final state: each box's grad, as the engine left it
    for leaf in root_leaves:
        assert f"grad {_short(leaf.grad)}" in inline
    assert repr(p).startswith("<Player")


# ---------------------------------------------------------------------------------------------- the CLI
def test_cli_writes_the_player(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "staged.html"
    code, stdout, err = run(capsys, "graph", "--what", "staged", "--play", "-o", str(out))
    assert code == 0, err
    assert "backward player" in stdout and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    before = out.read_bytes()
    code, _, err = run(capsys, "graph", "--what", "mlp", "--play", "-o", str(out))
    assert_one_line_error(code, err, "-o", "--overwrite")
    assert out.read_bytes() == before
    assert run(capsys, "graph", "--what", "mlp", "--play", "-o", str(out), "--overwrite")[0] == 0
    assert out.read_bytes() != before


def test_cli_play_without_o_writes_player_what_html_here(tmp_path: Any, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(capsys, "graph", "--what", "staged", "--play")
    assert code == 0, err
    assert os.listdir(tmp_path) == ["player-staged.html"] and "wrote player-staged.html" in stdout


@pytest.mark.parametrize("argv, names", [
    (["--what", "staged", "--play", "-o", "{d}/x.svg"], ["--play", ".html"]),
    (["--what", "mlp", "--play", "-o", "{d}/x"], ["--play", ".html"]),
    (["--what", "gpt", "--play", "-o", "{d}/x.html"], ["--play", "gpt", "232", "--max-nodes 150"]),
    (["--what", "mlp", "--play", "--max-nodes", "10", "-o", "{d}/x.html"], ["--max-nodes 10"]),
    (["--what", "mlp", "--play", "--backward", "-o", "{d}/x.html"], ["--play", "--backward"]),
    (["--what", "mlp", "--play", "--depth", "1", "-o", "{d}/x.html"], ["--play", "--depth"]),
    (["--what", "mlp", "--play", "--format", "svg", "-o", "{d}/x.html"], ["--play", "--format"]),
    (["--what", "mlp", "--play", "--stats", "-o", "{d}/x.html"], ["--play", "--stats"]),
    (["--what", "mlp", "--play", "-o", "{d}"], ["-o", "directory"]),
    (["--what", "staged", "--play", "--order", "-o", "{d}/x.html"], ["--play", "--order"]),
    (["--what", "staged", "--play", "--edge-grads", "-o", "{d}/x.html"], ["--play", "--edge-grads"]),
    (["--what", "block", "--play", "--fold", "-o", "{d}/x.html"], ["--play", "--fold"]),
    (["--what", "mlp", "--play", "--max-nodes", "0", "-o", "{d}/x.html"], ["--max-nodes"]),
])
def test_cli_play_errors(argv: list[str], names: list[str], tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "graph", *[a.format(d=tmp_path) for a in argv])
    assert_one_line_error(code, err, *names)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------- the browser
def _browser() -> str:
    found = next((b for b in BROWSERS if os.path.exists(b)), None)
    if found is None:
        pytest.skip(f"player browser tests: no headless Chromium at {' or '.join(BROWSERS)} (Debian package "
                    f"chromium-headless-shell)")
    return found


@pytest.fixture(scope="module")
def browser() -> Any:
    """One headless Chromium for the module (a fresh profile; nothing is downloaded)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="player browser tests: could not import "
                                   "'playwright' (the test extra installs it)")
    executable = _browser()
    profile_dir = tempfile.mkdtemp(prefix="tgp-chromium-")
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(profile_dir, executable_path=executable, args=BROWSER_ARGS,
                                                        viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: Any) -> dict[str, tuple[Any, str]]:
    """The staged example's player and one attention layer's, saved; with the leaves of a plain backward."""
    folder = tmp_path_factory.mktemp("player")
    out = {}
    for what in ("staged", "attention"):
        p = played(what)
        twin, _ = build(what)
        twin_leaves = leaves(twin)
        twin.backward()
        out[what] = (p, str(p.save(folder / f"{what}.html")), [leaf_grad(leaf) for leaf in twin_leaves])
    return out


class Console:
    """The page's console messages and uncaught errors."""

    def __init__(self, page: Any) -> None:
        self.messages: list[tuple[str, str]] = []
        page.on("console", lambda m: self.messages.append((m.type, m.text)))
        page.on("pageerror", lambda e: self.messages.append(("pageerror", str(e))))

    def errors(self) -> list[tuple[str, str]]:
        return [m for m in self.messages if m[0] in ("error", "pageerror", "warning")]


STATE = """() => {
  const root = document.querySelector('.tgp');
  const uid = root.id;
  const current = [...root.querySelectorAll('svg g.node.tgp-current')].map(g => g.id.slice(uid.length + 1));
  const text = sel => { const e = root.querySelector(sel); return e ? e.textContent : null; };
  const node = root.querySelector('svg').getAttribute('data-current');
  const box = document.getElementById(uid + '-' + node);
  const grad = box ? [...box.querySelectorAll('text')].map(t => t.textContent).find(s => s.startsWith('grad ')) : null;
  const data = box ? [...box.querySelectorAll('text')].map(t => t.textContent).find(s => s.startsWith('data ')) : null;
  return {step: root.getAttribute('data-step'), current, node, upstream: text('.tgp-upstream'),
          leafgrad: text('.tgp-leafgrad'), value: text('.tgp-value'), grad, data, hash: location.hash,
          future: [...root.querySelectorAll('svg g.node.tgp-future')].filter(g => !g.id.endsWith('op')).length,
          contribs: [...root.querySelectorAll('.tgp-contrib')].map(e => e.textContent)};
}"""


@pytest.mark.parametrize("what", ["staged", "attention"])
def test_browser_steps_through_every_step(what: str, browser: Any, pages: Any) -> None:
    p, path, plain_leaf_grads = pages[what]
    page = browser.new_page()
    console = Console(page)
    page.goto(f"file://{path}")
    n = len(p.nodes)
    leaf_grads = iter(plain_leaf_grads[::-1])  # the walk reaches the leaves in reverse topological order
    for s in p.steps:
        if s.index:
            page.keyboard.press("ArrowRight")
        state = page.evaluate(STATE)
        assert state["step"] == str(s.index) and state["hash"] == f"#step={s.index}"
        assert state["node"] == s.node
        assert [c for c in state["current"] if not c.endswith("op")] == [s.node]
        if s.kind == "forward":
            assert state["value"] == s.value_text and state["data"] == f"data {_short(s.value)}"
            assert state["future"] == n - 1 - int(s.node[1:])  # the nodes still to come are grey
        else:
            assert state["future"] == 0
            assert state["upstream"] == s.grad_text == _text(s.grad)
            assert state["contribs"] == [c.text for c in s.contributions]
            if not s.obj._prev:
                expected = next(leaf_grads)
                assert same(s.leaf_grad, expected)
                assert state["leafgrad"] == s.leaf_grad_text == _text(expected)
                assert state["grad"] == f"grad {_short(expected)}"
            else:
                assert state["grad"] == f"grad {_short(s.grad)}"
    assert next(leaf_grads, None) is None
    page.keyboard.press("ArrowRight")  # past the end: stays on the last step
    assert page.evaluate(STATE)["step"] == str(len(p.steps) - 1)
    assert console.errors() == []
    page.close()


def test_browser_opens_at_the_step_in_the_url_and_follows_the_keyboard(browser: Any, pages: Any) -> None:
    p, path, _ = pages["staged"]
    last = len(p.steps) - 1
    page = browser.new_page()
    console = Console(page)
    page.goto(f"file://{path}#step=7")
    state = page.evaluate(STATE)
    assert state["step"] == "7" and state["node"] == p.steps[7].node
    for key, expected in [("j", 8), ("k", 7), ("ArrowLeft", 6), ("End", last), ("Home", 0), ("ArrowLeft", 0)]:
        page.keyboard.press(key)
        state = page.evaluate(STATE)
        assert state["step"] == str(expected) and state["hash"] == f"#step={expected}", key
    page.evaluate("location.hash = '#step=12'")
    page.wait_for_function("document.querySelector('.tgp').getAttribute('data-step') === '12'")
    page.keyboard.press(" ")  # play: the step advances by itself, then space pauses
    page.wait_for_function("document.querySelector('.tgp').getAttribute('data-step') === '13'", timeout=5000)
    page.keyboard.press(" ")
    paused = page.evaluate(STATE)["step"]
    page.wait_for_timeout(1200)
    assert page.evaluate(STATE)["step"] == paused
    assert page.text_content('[data-act="play"]') == "play"
    page.click('[data-act="next"]')
    assert page.evaluate(STATE)["step"] == str(int(paused) + 1)
    page.click('[data-act="prev"]')
    page.keyboard.press("ArrowRight")  # after a click, the keys still step the player (the button is not focused)
    assert page.evaluate(STATE)["step"] == str(int(paused) + 1)
    page.fill(".tgp-number", "3")
    page.press(".tgp-number", "Enter")
    assert page.evaluate(STATE)["step"] == "3"
    page.goto(f"file://{path}#step=9999")  # beyond the end: the last step
    assert page.evaluate(STATE)["step"] == str(last)
    assert console.errors() == []
    page.close()


def test_browser_fits_the_whole_graph_in_the_pane_and_back(browser: Any, pages: Any) -> None:
    """The attention layer's graph is taller than the pane; "fit" (or the key f) scales it to fit, and the
    same again restores its own size; the step does not change."""
    p, path, _ = pages["attention"]
    page = browser.new_page()  # (the context's viewport: 1400 x 900)
    console = Console(page)
    page.goto(f"file://{path}#step=30")
    size = """() => { const pane = document.querySelector('.tgp-graph'), svg = pane.querySelector('svg');
                      const r = svg.getBoundingClientRect();
                      return {fit: pane.classList.contains('tgp-fit'), h: r.height, pane: pane.clientHeight,
                              label: document.querySelector('[data-act="fit"]').textContent}; }"""
    before = page.evaluate(size)
    assert not before["fit"] and before["h"] > before["pane"] and before["label"] == "fit"
    page.click('[data-act="fit"]')
    fitted = page.evaluate(size)
    assert fitted["fit"] and fitted["h"] <= fitted["pane"] and fitted["label"] == "actual size"
    assert page.evaluate(STATE)["step"] == "30"
    page.keyboard.press("f")
    assert page.evaluate(size) == before
    assert console.errors() == []
    page.close()


def test_browser_screenshots(browser: Any, pages: Any, tmp_path: Any) -> None:
    """The staged example and the attention layer mid-backward render to a picture (to look at: the PNGs)."""
    folder = str(tmp_path)
    for what, frac in (("staged", 0.75), ("attention", 0.6)):
        p, path, _ = pages[what]
        k = int(frac * (len(p.steps) - 1))
        page = browser.new_page()
        page.goto(f"file://{path}#step={k}")
        assert page.evaluate(STATE)["step"] == str(k)
        shot = os.path.join(folder, f"frame_{what}.png")
        page.screenshot(path=shot)
        assert os.path.getsize(shot) > 10_000
        page.close()


def test_browser_two_inline_players_keep_apart(browser: Any, pages: Any, tmp_path: Any) -> None:
    """Two players in one page, as in a notebook's outputs (``_repr_html_``): each has its own ids and steps."""
    staged, attention = pages["staged"][0], pages["attention"][0]
    path = tmp_path / "two.html"
    path.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>{staged._repr_html_()}'
                    f"{attention._repr_html_()}</body></html>", encoding="utf-8")
    page = browser.new_page()
    console = Console(page)
    page.goto(f"file://{path}")
    players = page.locator(".tgp")
    assert players.count() == 2
    second = players.nth(1)
    second.locator('[data-act="last"]').click()
    assert second.get_attribute("data-step") == str(len(attention.steps) - 1)
    assert players.nth(0).get_attribute("data-step") == "0"
    players.nth(0).focus()
    page.keyboard.press("ArrowRight")  # the keyboard steps the player that has the focus
    assert players.nth(0).get_attribute("data-step") == "1"
    assert second.get_attribute("data-step") == str(len(attention.steps) - 1)
    assert page.evaluate("location.hash") == ""  # inline, the page's URL is left alone
    assert console.errors() == []
    page.close()


def test_a_tensor_hook_is_played_as_the_engine_runs_it() -> None:
    def graph() -> tuple[Any, Any]:
        x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
        h = x.exp()
        h.register_hook(lambda g: g * 3)  # the gradient reaching h is tripled before exp's step
        return (h * x).sum(), x

    loss, x = graph()
    p = player(loss)
    twin, x_twin = graph()
    twin.backward()
    assert same(x.grad._data, x_twin.grad._data)
    exp = next(s for s in p.steps if s.kind == "backward" and s.op == "Exp")
    assert same(exp.grad, np.array([0.5, -1.5, 2.0]) * 3)  # ȳ as the hook returned it: what the step used
    (sent,) = exp.contributions
    assert same(sent.value, exp.grad * np.exp(np.array([0.5, -1.5, 2.0])))


def test_a_hook_that_changes_the_gradient_shows_what_arrived_before_it() -> None:
    """The contributions a node received add up to what *arrived*; a hook may replace that before the node's
    step runs. The step keeps both, so that the page does not show ``= [0.5, -1.5, 2]`` flowing in and a
    tripled ȳ coming out with no word of the hook."""
    x = Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    h = x.exp()
    h.register_hook(lambda g: g * 3)
    k = x * 2.0
    k.register_hook(lambda g: None)  # a hook that looks and changes nothing
    p = player((h * x).sum() + k.sum())
    exp = next(s for s in p.steps if s.kind == "backward" and s.op == "Exp")
    into_h = [a.after for s in p.steps for a in s.accumulations if a.parent == exp.node]
    assert same(exp.arrived, into_h[-1]) and same(exp.arrived, x._data)  # ∂L/∂h = x, before the hook
    assert same(exp.grad, exp.arrived * 3)
    panel = _frame(exp, p._nodes)["html"]
    assert "arrived, before the tensor's hooks" in panel and "as the hooks returned it" in panel
    assert exp.arrived_text in panel
    k_index = next(i for i, n in enumerate(p.nodes) if n is k._node())
    mul2 = next(s for s in p.steps if s.kind == "backward" and s.node == f"n{k_index}")
    assert mul2.arrived is None and mul2.grad is not None  # the hook returned None: nothing changed
    assert all(s.arrived is None for s in p.steps if s is not exp)


def test_the_walk_observer_sees_the_order_and_may_leave_the_walk_alone() -> None:
    """The engine hook (autograd/graph.py ``_observer``): called once per walk with the walk's order; an observer
    that returns None changes nothing (the leaves' .grad are a plain backward's)."""
    seen: list[list[Any]] = []

    def observer(order: list[Any], arrive: Any, store: bool, release: bool) -> None:
        assert arrive is None and store and release
        seen.append(order)

    root, _ = build("staged")
    order = topological_order([root])
    twin, _ = build("staged")
    twin_leaves = leaves(twin)
    twin.backward()
    autograd_graph._observer = observer
    try:
        root.backward()
    finally:
        autograd_graph._observer = None
    assert len(seen) == 1 and ids(seen[0]) == ids(order)
    assert [leaf.grad for leaf in leaves_of(order)] == [leaf.grad for leaf in twin_leaves]


def test_a_block_called_on_its_own_is_clustered_under_its_path_in_the_model() -> None:
    """``model.h[1](x)`` records paths relative to the block (``attn.c_attn``); given ``model=``, the player puts
    the block's own path in front, as `draw` does, so the ops sit in the clusters of their parameters."""
    import tinygrad_tx as tx
    from tinygrad_tx import nn
    from tinygrad_tx.viz import draw

    tx.manual_seed(0)
    gpt = nn.GPT(nn.GPTConfig(vocab_size=16, block_size=8, n_layer=2, n_head=2, n_embd=8))
    x = tx.randn(1, 3, 8, requires_grad=True)
    loss = gpt.h[1](x).square().mean()
    drawn = set(draw(loss, model=gpt).summary.clusters)
    p = player(loss, model=gpt, max_nodes=500)
    played = set(re.findall(r"<title>cluster_([^<]+)</title>", p._svg))
    assert "h.1.attn.c_attn" in played and played == drawn
    assert not any(c.startswith(("attn", "mlp", "ln_")) for c in played)


def test_every_tensor_primitive_shows_its_vjp_not_its_jvp() -> None:
    """Every primitive of ops*.py yields a VJP formula from its docstring (the rules after the spaced bar), with no
    JVP (dotted) symbol in it: ``|x|`` in Atanh's domain is not the bar, and a VJP in the second paragraph
    (Atan2, BinaryCrossEntropy) is found."""
    import inspect

    from tinygrad_tx import ops, ops_math, ops_shape
    from tinygrad_tx.function import Function
    from tinygrad_tx.viz.player import _tensor_formulas

    checked = 0
    for module in (ops, ops_shape, ops_math):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, Function) or cls.__module__ != module.__name__ or name.startswith("_"):
                continue
            if name == "NoDerivative":  # (an op without a derivative says so)
                continue
            forward, vjp = _tensor_formulas(cls.__new__(cls))
            assert forward and vjp != "(its docstring gives no VJP formula)", name
            assert not any(dot in vjp for dot in ("ẏ", "ẋ", "ȧ", "ḃ", "Ẏ", "\u0307")), (name, vjp)
            checked += 1
    assert checked > 40
    assert _tensor_formulas(ops_shape.GetItem.__new__(ops_shape.GetItem))[1].startswith("x̄ = zeros like x")


def test_a_gradient_is_partial_until_its_last_consumer_sends_then_complete_until_its_turn() -> None:
    """In the staged example x has three consumers (num, sigx, xpy): the page marks it in flight ("pending")
    after the first two have sent, complete and waiting ("ready") after the third, and done after its own
    step; a node with one consumer is ready as soon as it sends."""
    from tinygrad_tx.viz.player import _frames

    root, _ = example("staged", backpropagated=False)
    p = player(root)
    frames = _frames(p.steps, p._nodes)
    x = next(s for s in p.steps if s.kind == "backward" and s.label == "x")
    x_node = int(x.node[1:])
    marks = [ch[1] for f in frames for ch in f["set"] if ch[0] == x_node and ch[1] in ("pending", "ready")]
    assert marks == ["pending", "pending", "ready"]
    assert [ch[1] for ch in frames[x.index + 1]["set"] if ch[0] == x_node] == ["done"]  # (y's step follows)
    sigy = next(s for s in p.steps if s.kind == "backward" and s.label == "sigy")
    assert [ch[1] for f in frames for ch in f["set"] if ch[0] == int(sigy.node[1:]) and ch[1] in (
        "pending", "ready")] == ["ready"]
