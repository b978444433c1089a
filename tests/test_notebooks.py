"""Every notebook in ``notebooks/`` runs from top to bottom without an error.

The notebooks are stored without outputs; this test is what executes them, each in a fresh IPython
kernel on this interpreter (``tests/notebook_runner.py``). The list of notebooks is read when the
tests are collected, so a new notebook is picked up without editing this file. An empty
``notebooks/`` folder is a failure, not a skip. The exercise notebooks in ``notebooks/exercises/``
(blank and solved) are executed by ``tests/test_exercises.py``, which checks what they print; the
checks of their imports and speed settings below cover them too.
"""

from __future__ import annotations

import configparser
import importlib.metadata
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import tinygrad_tx
from tests.notebook_runner import KERNEL_ENV, NOTEBOOK_DIR, imported_modules, kernel_specs, run_notebook

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpecManager

# The test extra's Jupyter packages: nbformat reads the notebooks (every test here), nbclient runs
# them in an ipykernel kernel (the tests that take `kernel_specs`). Without one, its tests are skipped.
nbformat = pytest.importorskip("nbformat")

NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))  # top level only: the tutorials
EXERCISE_NOTEBOOKS = sorted((NOTEBOOK_DIR / "exercises").rglob("*.ipynb"))  # blank and solved
ALL_NOTEBOOKS = NOTEBOOKS + EXERCISE_NOTEBOOKS
__all__ = ["kernel_specs"]  # (a fixture: imported to be used here)


@pytest.mark.slow
def test_kernel_is_this_interpreter(kernel_specs: KernelSpecManager) -> None:
    """The kernel runs this interpreter and its tinygrad_tx, with KERNEL_ENV set, in notebooks/."""
    pytest.importorskip("matplotlib")  # (the train extra, as for the notebooks)
    check = "\n".join(
        [
            "import os, sys",
            "import matplotlib",
            f"assert sys.executable == {sys.executable!r}, sys.executable",
            f"assert sys.prefix == {sys.prefix!r}, sys.prefix",
            f"env = {KERNEL_ENV!r}",
            "assert all(os.environ.get(k) == v for k, v in env.items()), {k: os.environ.get(k) for k in env}",
            "assert matplotlib.get_backend().lower() == 'agg', matplotlib.get_backend()",
            f"assert os.getcwd() == {str(NOTEBOOK_DIR)!r}, os.getcwd()",
            "import tinygrad_tx",
            f"assert tinygrad_tx.__file__ == {tinygrad_tx.__file__!r}, tinygrad_tx.__file__",
        ]
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(check)])
    run_notebook(nb, NOTEBOOK_DIR, kernel_specs)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS or [None], ids=lambda p: p.name if p else "no-notebooks")
def test_notebook_runs(path: Path | None, kernel_specs: KernelSpecManager) -> None:
    assert path is not None, f"no notebooks found in {NOTEBOOK_DIR}"
    nb = nbformat.read(path, as_version=4)
    for module in sorted(imported_modules(nb) - set(sys.stdlib_module_names)):
        pytest.importorskip(module)  # torch for 01-02, matplotlib: the notebooks extra (setup.cfg)
    start = time.perf_counter()
    run_notebook(nb, path.parent, kernel_specs)
    print(f"{path.name}: executed in {time.perf_counter() - start:.1f} s ({os.cpu_count()} CPUs)")


def test_notebooks_that_tune_for_speed_limit_blas_threads_as_the_command_line_does() -> None:
    """The command line calls tune_allocator() and limit_blas_threads(1) (tinygrad_tx/__main__.py):
    a notebook that times training with one of them calls both, in its first code cell."""
    for path in ALL_NOTEBOOKS:
        code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        if any("tune_allocator(" in source or "limit_blas_threads(" in source for source in code):
            assert "tune_allocator()" in code[0] and "limit_blas_threads(1)" in code[0], path.name


def test_the_notebooks_extra_names_every_package_the_notebooks_import() -> None:
    """``pip install -e '.[notebooks]'`` (``make notebooks``) is enough to run each notebook: every
    module it imports is in the standard library, the core requirements or the ``notebooks`` extra
    (the tutorials and the exercise notebooks, blank and solved)."""
    cfg = configparser.ConfigParser()
    cfg.read(NOTEBOOK_DIR.parent / "setup.cfg")

    def names(requirements: str) -> set[str]:
        return {re.split(r"[\s<>=!~\[;]", r.strip())[0].lower() for r in requirements.splitlines() if r.strip()}

    listed = names(cfg["options"]["install_requires"]) | names(cfg["options.extras_require"]["notebooks"])
    assert "jupyterlab" in listed
    distributions = importlib.metadata.packages_distributions()
    assert EXERCISE_NOTEBOOKS, "no exercise notebooks found"
    for path in ALL_NOTEBOOKS:
        for module in sorted(imported_modules(nbformat.read(path, as_version=4))):
            if module in sys.stdlib_module_names or module == "tinygrad_tx":
                continue
            provided_by = {d.lower() for d in distributions.get(module, [module])}
            assert provided_by & listed, f"{path.name} imports {module} ({provided_by}), not in the notebooks extra"
