"""Each ```python block of the README runs on its own, as a reader would paste it: in a fresh
namespace, with its own imports and data, and what its comments promise holds. And the project
stands alone: nothing cites a document that is not in the repository."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from tinygrad_tx import Tensor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")


def python_blocks() -> list[tuple[str, int, str]]:
    """(the section heading above it, the line its code starts on, the code) for each ```python block."""
    with open(README, encoding="utf-8") as f:
        lines = f.read().splitlines(keepends=True)
    blocks, heading, fence, code, start = [], "top", None, [], 0
    for number, line in enumerate(lines, 1):
        if fence is None and line.startswith("```"):
            fence, code, start = line.strip().removeprefix("```"), [], number + 1
        elif fence is not None and line.strip() == "```":
            if fence == "python":
                blocks.append((heading, start, "".join(code)))
            fence = None
        elif fence is not None:
            code.append(line)
        elif line.startswith("#"):
            heading = line.lstrip("#").strip()
    assert fence is None, f"README.md: the code block opened on line {start - 1} is never closed"
    return blocks


BLOCKS = python_blocks()


def block_id(index: int) -> str:
    """``block2-every-gradient-twice``: the block's number in the README and the section it is in."""
    return f"block{index}-" + re.sub(r"[^a-z0-9]+", "-", BLOCKS[index][0].lower()).strip("-")


# What the blocks' comments promise, each check keyed by a line that identifies its block (a key must
# be in exactly one block, so a check cannot go stale silently when the README changes).
def _tour(ns: dict[str, Any]) -> None:
    assert (ns["x"].grad, ns["y"].grad) == (2.0595697955721652, 1.5922327514838093)  # bit-exact, as stated
    for p in (ns["W"], ns["b"]):
        assert isinstance(p.grad, Tensor) and p.grad.shape == p.shape and p.grad.dtype == p.dtype


def _gpt(ns: dict[str, Any]) -> None:
    names = [name for name, _ in ns["model"].named_parameters()][:4]
    assert names == ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.ln_1.bias"]
    assert ns["model"].h[0].attn.c_attn.weight.shape == (64, 192) and ns["nn"].Linear(64, 65).weight.shape == (65, 64)


def _twice(ns: dict[str, Any]) -> None:
    assert ns["report"].ok and len(ns["report"].rows) > 0


def _graph(ns: dict[str, Any]) -> None:
    summary = ns["g"].summary
    assert summary.nodes > 0 and summary.edges > 0 and summary.clusters


def _forward_mode(ns: dict[str, Any]) -> None:
    x = ns["x"].numpy()
    expected = (x * np.cos(x) + np.sin(x)) * ns["u"].numpy()  # (x cos x + sin x) ⊙ u, in float32 as the tensors
    y_dot = ns["y_dot"].numpy()
    assert y_dot.dtype == np.float32 and np.abs(y_dot - expected).max() <= 1e-6 * np.abs(expected).max()
    assert round(float(y_dot[0]), 4) == 0.9182 and (y_dot[1:] == 0).all()


def _jacobians(ns: dict[str, Any]) -> None:
    x = ns["x"].numpy().astype(np.float64)
    J, J_fwd = ns["J"].numpy(), ns["J_fwd"].numpy()
    # ∂/∂x_j Σ_{k≤i} x_k sin x_k = x_j cos x_j + sin x_j for j ≤ i, else 0
    expected = np.tril(np.broadcast_to(x * np.cos(x) + np.sin(x), (3, 3)))
    assert J.shape == (3, 3) and (np.triu(J, 1) == 0).all() and (np.triu(J_fwd, 1) == 0).all()
    assert np.abs(J - expected).max() <= 1e-6 and np.abs(J_fwd - expected).max() <= 1e-6
    assert np.array_equal(ns["H"].numpy(), np.diag(6 * ns["x"].numpy()))


def _checkpointing(ns: dict[str, Any]) -> None:
    block, x = ns["block"], ns["x"]
    with_checkpoint = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in block.parameters()]
    block.zero_grad()
    plain_x = ns["tx"].tensor(x.detach().numpy(), requires_grad=True)
    block(plain_x).sum().backward()
    plain = [plain_x.grad.numpy()] + [p.grad.numpy() for p in block.parameters()]
    assert len(plain) == 5 and all(np.array_equal(a, b) for a, b in zip(with_checkpoint, plain))


def _player(ns: dict[str, Any]) -> None:
    p = ns["p"]
    assert (ns["x"].grad, ns["y"].grad) == (2.0595697955721652, 1.5922327514838093)  # the backward it ran
    assert len(p.steps) == 18 and [s.kind for s in p.steps] == ["forward"] * 9 + ["backward"] * 9
    at_x = next(s for s in p.steps if s.kind == "backward" and s.label == "x")
    assert at_x.leaf_grad == ns["x"].grad
    page = open("staged.html", encoding="utf-8").read()  # (the block runs in a temporary folder)
    assert "<svg" in page and "https://" not in page and "http://" not in page.replace("http://www.w3.org/", "")


PROMISES: dict[str, Callable[[dict[str, Any]], None]] = {
    "f.backward()": _tour,
    "p = viz.player(f)": _player,
    "logits, loss = model(idx[:, :-1], idx[:, 1:])\nloss.backward()": _gpt,
    "report = manual.compare(": _twice,
    "g = viz.draw(": _graph,
    "y_dot = fwAD.unpack_dual(y).tangent": _forward_mode,
    "J_fwd = jacfwd(f)(x)": _jacobians,
    "checkpoint(block, x, use_reentrant=False)": _checkpointing,
}


def test_the_readme_has_its_python_blocks_and_each_promise_names_one_block() -> None:
    assert len(BLOCKS) >= 4
    for line in PROMISES:
        found = [block_id(i) for i, b in enumerate(BLOCKS) if line in b[2]]
        assert len(found) == 1, f"{line!r} is in {len(found)} README blocks ({found}), not exactly one"


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=block_id)
def test_readme_block_runs_on_its_own(index: int, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a block may write a file (p.save("staged.html")): not into the checkout
    _, line, code = BLOCKS[index]
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    exec(compile("\n" * (line - 1) + code, README, "exec"), namespace)  # noqa: S102 (line numbers as in README.md)
    for key, check in PROMISES.items():
        if key in code:
            check(namespace)


IMAGE_LINK = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)|<img\b[^>]*\bsrc=[\"']([^\"']+)")
MAX_IMAGE_BYTES = 150_000  # docs/make_figures.py keeps its PNGs under this


def test_every_image_the_readme_shows_is_in_the_repository() -> None:
    """Each picture the README links (``![alt](path)`` or ``<img src=...>``) is a file in the repository,
    small enough for a README (`MAX_IMAGE_BYTES`), and a Markdown image says what it shows (alt text)."""
    with open(README, encoding="utf-8") as f:
        links = IMAGE_LINK.findall(f.read())
    assert links, "README.md shows no picture (docs/make_figures.py makes them)"
    for alt, markdown_path, html_path in links:
        path = markdown_path or html_path
        if path.startswith(("http://", "https://")):
            continue
        full = os.path.join(ROOT, path)
        assert os.path.isfile(full), f"README.md shows {path}, which is not in the repository (make figures)"
        assert os.path.getsize(full) <= MAX_IMAGE_BYTES, f"{path}: {os.path.getsize(full)} bytes"
        assert html_path or len(alt.split()) >= 3, f"README.md: the image {path} needs an alt text saying what it shows"


MISSING_DOCUMENTS = re.compile(r"background(\.md)?\s*§|\.\./shared/docs")


def test_the_project_cites_only_what_a_reader_has() -> None:
    """No file points to a document outside the repository (a "background" section, the shared docs
    folder of the project's authors): cite a file in it, the paper by arXiv number, or a public address."""
    found = []
    for folder in ("tinygrad_tx", "notebooks", "bench", "tests", "docs"):
        for dirpath, _, filenames in os.walk(os.path.join(ROOT, folder)):
            for name in filenames:
                if name.endswith((".py", ".ipynb", ".md")):
                    found += _missing_documents(os.path.join(dirpath, name))
    for name in ("README.md", "Makefile", "setup.cfg", "pyproject.toml"):
        found += _missing_documents(os.path.join(ROOT, name))
    assert not found, "references to documents not in the repository:\n" + "\n".join(found)


def _missing_documents(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    rel = os.path.relpath(path, ROOT)
    return [f"{rel}:{n}: {line.strip()[:100]}" for n, line in enumerate(lines, 1) if MISSING_DOCUMENTS.search(line)]
