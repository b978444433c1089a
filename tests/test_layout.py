"""The package's layout: module-level imports go one way (no cycle), no module is over 800 lines,
`nn` never imports `manual`, and `autograd` imports nothing above it.

Read from the source with `ast` (nothing is imported), so a failure names the modules and lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tinygrad_tx"
MAX_LINES = 800


def _modules() -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, for its __init__)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def _import_nodes(tree: ast.Module, everywhere: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements run when the module is imported (module level, also inside if/try, not
    under ``if TYPE_CHECKING:``), or with ``everywhere`` all of them (also inside functions)."""
    if everywhere:
        return [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    found: list[ast.Import | ast.ImportFrom] = []
    body = list(tree.body)
    while body:
        node = body.pop(0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            body += node.body + node.orelse
        elif isinstance(node, ast.Try):
            body += node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body]
    return found


def _imported(name: str, everywhere: bool = False) -> dict[str, int]:
    """The package's modules that module ``name`` imports: {module: line}."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: dict[str, int] = {}
    for node in _import_nodes(tree, everywhere):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from . import x``: the module x if there is one, else the name x of the package
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        for target in targets:
            while target and target not in MODULES:  # ``import a.b.c`` of a name: its module
                target = target.rpartition(".")[0]
            if target and target != name:
                out.setdefault(target, node.lineno)
    return out


GRAPH = {name: _imported(name) for name in MODULES}


def _find_cycle(graph: dict[str, dict[str, int]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for start in graph:
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return None


def test_the_import_graph_finds_a_cycle():
    """The checker itself: a cycle it is shown is found, and one graph without is not."""
    assert _find_cycle({"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b": 1, "c": 1}, "b": {"c": 1}, "c": {}}) is None
    assert GRAPH["tinygrad_tx.tensor"].keys() >= {"tinygrad_tx.ops", "tinygrad_tx.autograd.function"}


def test_no_module_level_import_cycle():
    cycle = _find_cycle(GRAPH)
    if cycle:
        steps = [f"{a} (line {GRAPH[a][b]}: imports {b})" for a, b in zip(cycle, cycle[1:])]
        raise AssertionError("import cycle:\n  " + "\n  ".join(steps))


def test_no_module_over_800_lines():
    lengths = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    too_long = {name: n for name, n in lengths.items() if n > MAX_LINES}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}"


def test_nn_never_imports_manual():
    """At any level, also inside functions: `manual` is the mirror of `nn`, built on it, not under it."""
    found = {
        (name, target, line)
        for name in MODULES if name == "tinygrad_tx.nn" or name.startswith("tinygrad_tx.nn.")
        for target, line in _imported(name, everywhere=True).items()
        if target == "tinygrad_tx.manual" or target.startswith("tinygrad_tx.manual.")
    }
    assert not found, f"nn imports manual: {sorted(found)}"


def test_autograd_imports_nothing_above_it():
    """autograd ← tensor/ops ← nn ← manual: autograd/* imports only itself (and numpy, the standard library)."""
    found = {
        (name, target, line)
        for name in MODULES if name.startswith("tinygrad_tx.autograd")
        for target, line in GRAPH[name].items()
        if not target.startswith("tinygrad_tx.autograd")
    }
    assert not found, f"autograd imports modules above it: {sorted(found)}"


def test_autograd_namespace_as_torch_autograd():
    """``tinygrad_tx.autograd`` answers as ``torch.autograd``: Function, grad, backward (old paths still work)."""
    import numpy as np

    import tinygrad_tx as tx
    from tinygrad_tx import autograd
    from tinygrad_tx.function import Function as OldFunction
    from tinygrad_tx.gradcheck import gradcheck as old_gradcheck

    class Square(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g

    assert OldFunction is autograd.Function is tx.Function and old_gradcheck is autograd.gradcheck is tx.gradcheck
    x = tx.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (dx,) = autograd.grad(Square.apply(x).sum(), x)
    np.testing.assert_array_equal(dx.data, [2.0, -4.0, 6.0])
    a, b = x * 2, x * x  # backward of two outputs at once: the gradients add
    autograd.backward([a, b], [tx.ones(3), tx.tensor([1.0, 1.0, 0.0])])
    np.testing.assert_array_equal(x.grad, [2.0 + 2.0, 2.0 - 4.0, 2.0])
    with pytest.raises(ValueError, match="2 outputs but 1 grad_tensors"):
        autograd.backward([x * 2, x * 3], [tx.ones(3)])
    y = tx.tensor([1.0, 2.0]).where(tx.tensor([True, False]), 0.0)  # Tensor.where, as torch's
    np.testing.assert_array_equal(y.data, [1.0, 0.0])
