"""Run one PyTorch program of this folder under real PyTorch or under tinygrad_tx, and save what it made.

``python _run.py SCRIPT ENGINE OUT``: ENGINE is ``torch`` (the program as written) or ``tinygrad_tx`` (the
program with only its imports changed, as a learner would: `port`). The program leaves its results in a
dict ``RESULTS`` (name -> tensor or number); they are saved as float64 arrays in ``OUT.npz`` and what it
printed in ``OUT.txt``. tests/test_compat_scripts.py compares the two runs.
"""

from __future__ import annotations

import contextlib
import io
import re
import sys

import numpy as np

_IMPORT = re.compile(r"^(\s*)(import|from)\s+torch\b")


def port(source: str) -> str:
    """The program with its ``torch`` imports changed to ``tinygrad_tx`` (and nothing else).

    ``import torch`` -> ``import tinygrad_tx as torch``; ``import torch.nn as nn`` -> ``import tinygrad_tx.nn as nn``;
    ``from torch import nn, optim`` -> ``from tinygrad_tx import nn, optim``; ``from torch.utils.data import X`` ->
    ``from tinygrad_tx.utils.data import X``.
    """
    out = []
    for line in source.splitlines():
        m = _IMPORT.match(line)
        if m and m.group(2) == "import":
            rest = line[m.end():]
            if re.match(r"\s*$|\s*#", rest):  # import torch
                line = f"{m.group(1)}import tinygrad_tx as torch{rest}"
            else:  # import torch.nn as nn, import torch.nn.functional as F
                line = f"{m.group(1)}import tinygrad_tx{rest}"
        elif m:
            line = f"{m.group(1)}from tinygrad_tx{line[m.end():]}"
        out.append(line)
    return "\n".join(out) + "\n"


def _array(value: object) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach()
        value = value.cpu().numpy() if hasattr(value, "cpu") else value.numpy()
    return np.asarray(value, dtype=np.float64)


def main(script: str, engine: str, out: str) -> None:
    with open(script, encoding="utf-8") as f:
        source = f.read()
    if engine == "tinygrad_tx":
        source = port(source)
    elif engine != "torch":
        raise SystemExit(f"_run.py: unknown engine {engine!r}")
    namespace: dict = {"__name__": "__main__", "__file__": script}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, script, "exec"), namespace)
    results = namespace.get("RESULTS")
    if not isinstance(results, dict):
        raise SystemExit(f"{script}: the program must leave a dict RESULTS")
    np.savez(out + ".npz", **{k: _array(v) for k, v in results.items()})
    with open(out + ".txt", "w", encoding="utf-8") as f:
        f.write(printed.getvalue())


if __name__ == "__main__":
    main(*sys.argv[1:])
