"""PyTorch programs run twice, under real PyTorch and under tinygrad_tx with only their imports changed.

Each program in ``tests/compat/`` is written as PyTorch code (tutorials, makemore, nanoGPT, in float64, with
starting weights and batches drawn from NumPy, because the two libraries' random streams differ). The runner
``tests/compat/_run.py`` executes it as written, and again after `port` changes ``import torch`` to
``import tinygrad_tx as torch`` (and the other imports alike); each run leaves a dict ``RESULTS`` of tensors
and what it printed. Here the two are compared: every result to a scale-relative 1e-10 (float64; training
for hundreds of steps lets the last-bit differences of a sum's order grow, which 1e-10 still bounds far below
any real mistake; an entry is measured against the largest magnitude of its family of results, e.g. all
gradients, for entries that are 0 in exact arithmetic), and the printed text token by token, numbers within
the same 1e-10 (or 1e-12 absolute, for printed zeros such as a maxdiff of 0.000e+00).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import assert_close

pytest.importorskip("torch")

HERE = Path(__file__).resolve().parent / "compat"
SCRIPTS = sorted(p.name for p in HERE.glob("*.py") if not p.name.startswith("_"))
RTOL = 1e-10
# backprop_ninja's "exact" column says whether the hand formula and the engine's VJP round alike: that is a
# property of each engine's arithmetic, not of correctness, so that one column may differ (the maxdiff,
# compared as a number, may not)
FREE_TOKENS = {"backprop_ninja.py": {"True", "False"}}
# backprop_ninja's maxdiffs are rounding errors themselves (0 or ~1e-17 in either library): no scale to be
# relative to, so they are compared absolutely, at the printed-number floor.
ATOL = {("backprop_ninja.py", "maxdiffs"): 1e-12}


def _family_scale(name: str, expected: np.lib.npyio.NpzFile) -> float:
    """The largest magnitude among the results of ``name``'s family (``grad.W1`` and ``grad.b1`` are one
    family, ``grad``): a gradient that is 0 in exact arithmetic (the bias before a BatchNorm, the max shift
    of a softmax) comes out as ~1e-17, the rounding of the family's large entries it was computed from, so
    it is measured against those, as `assert_close` measures an entry against its own tensor's largest."""
    family = name.split(".")[0] + "." if "." in name else name
    members = [k for k in expected.files if k == name or k.startswith(family)]
    return max(float(np.abs(expected[k]).max(initial=0.0)) for k in members)
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def _run(script: str, engine: str, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(HERE / "_run.py"), str(HERE / script), engine, str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=HERE.parent.parent,
    )


def _tokens(text: str) -> list[str]:
    return re.findall(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|\w+|[^\s\w]", text)


def _same_printout(actual: str, expected: str, free: set[str], script: str) -> None:
    a_lines, e_lines = actual.splitlines(), expected.splitlines()
    assert len(a_lines) == len(e_lines), f"{script}: printed {len(a_lines)} lines, PyTorch {len(e_lines)}:\n{actual}"
    for i, (a, e) in enumerate(zip(a_lines, e_lines)):
        ta, te = _tokens(a), _tokens(e)
        ok = len(ta) == len(te)
        for x, y in zip(ta, te):
            if not ok:
                break
            if _NUMBER.fullmatch(x) and _NUMBER.fullmatch(y):
                fx, fy = float(x), float(y)
                ok = abs(fx - fy) <= RTOL * abs(fy) + 1e-12
            else:
                ok = x == y or (x in free and y in free)
        assert ok, f"{script}: line {i + 1} differs\n tinygrad_tx: {a}\n PyTorch:     {e}"


def test_port_changes_only_the_imports():
    import importlib.util

    spec = importlib.util.spec_from_file_location("_run", HERE / "_run.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    src = ("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch import nn, optim\n"
           "from torch.utils.data import DataLoader\n    import torch  # indented\nx = torch.zeros(3)\n"
           "import torchvision\n")
    assert runner.port(src).splitlines() == [
        "import tinygrad_tx as torch", "import tinygrad_tx.nn as nn", "import tinygrad_tx.nn.functional as F",
        "from tinygrad_tx import nn, optim", "from tinygrad_tx.utils.data import DataLoader",
        "    import tinygrad_tx as torch  # indented", "x = torch.zeros(3)", "import torchvision",
    ]


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_program_runs_unchanged(script: str, tmp_path: Path) -> None:
    runs = {engine: _run(script, engine, tmp_path / engine) for engine in ("torch", "tinygrad_tx")}
    for engine, proc in runs.items():
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, f"{script} under {engine} failed:\n{err[-3000:]}"
    expected, actual = np.load(tmp_path / "torch.npz"), np.load(tmp_path / "tinygrad_tx.npz")
    assert sorted(actual.files) == sorted(expected.files)
    for name in expected.files:
        atol = ATOL.get((script, name), RTOL * _family_scale(name, expected))
        assert_close(actual[name], expected[name], RTOL, f"{script}: {name}", atol=atol)
    _same_printout((tmp_path / "tinygrad_tx.txt").read_text(), (tmp_path / "torch.txt").read_text(),
                   FREE_TOKENS.get(script, set()), script)
