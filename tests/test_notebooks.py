"""Every notebook in ``notebooks/`` runs from top to bottom without an error.

The notebooks are stored without outputs; this test is what executes them. Each one runs in a
fresh IPython kernel, started from *this* interpreter (``sys.executable``), so it imports the same
``tinygrad_tx``, NumPy and PyTorch as the rest of the test suite. The kernel spec is written to a
temporary directory by ipykernel itself instead of being looked up by the name ``python3``, which
could resolve to a kernel spec of another Python installed in a user or system Jupyter path.

The list of notebooks is read when the tests are collected, so a new notebook is picked up
without editing this file. An empty ``notebooks/`` folder is a failure, not a skip.
"""

from __future__ import annotations

import ast
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

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpecManager

# The test extra's Jupyter packages: nbformat reads the notebooks (every test here), nbclient runs
# them in an ipykernel kernel (the tests that take `kernel_specs`). Without one, its tests are skipped.
nbformat = pytest.importorskip("nbformat")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL_NAME = "tinygrad-tx-tests"
CELL_TIMEOUT = 300  # seconds, per cell
KERNEL_ENV = {
    "MPLBACKEND": "Agg",  # no window can open; plots render off-screen
    # One BLAS/OpenMP thread: the suite runs under pytest-xdist on few cores, and a multithreaded
    # OpenBLAS matrix-vector product competing with another busy process for the cores was measured
    # 10-25x slower than a single-threaded one (the timing cells of notebook 02 went from 2 s to 35 s).
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> KernelSpecManager:
    """A kernel spec manager that knows one kernel: ipykernel on ``sys.executable``."""
    for module in ("nbclient", "ipykernel"):
        pytest.importorskip(module)
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager

    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(
        path=kernels / KERNEL_NAME,
        overrides={"display_name": "tinygrad_tx tests", "env": KERNEL_ENV},
    )
    manager = KernelSpecManager(kernel_dirs=[str(kernels)])
    spec = manager.get_kernel_spec(KERNEL_NAME)
    assert spec.argv[0] == sys.executable, spec.argv
    return manager


def run_notebook(nb: nbformat.NotebookNode, cwd: Path, kernel_specs: KernelSpecManager) -> None:
    """Execute ``nb`` in place; raises ``nbclient.exceptions.CellExecutionError`` if a cell fails."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=kernel_specs)
    client = NotebookClient(
        nb,
        km=km,
        timeout=CELL_TIMEOUT,
        allow_errors=False,
        resources={"metadata": {"path": str(cwd)}},  # the kernel's working directory
    )
    client.execute()


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
    for path in NOTEBOOKS:
        code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        if any("tune_allocator(" in source or "limit_blas_threads(" in source for source in code):
            assert "tune_allocator()" in code[0] and "limit_blas_threads(1)" in code[0], path.name


def imported_modules(nb: nbformat.NotebookNode) -> set[str]:
    """The top-level modules a notebook's code cells import (IPython magics and shell lines skipped)."""
    modules = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_the_notebooks_extra_names_every_package_the_notebooks_import() -> None:
    """``pip install -e '.[notebooks]'`` (``make notebooks``) is enough to run each notebook: every
    module it imports is in the standard library, the core requirements or the ``notebooks`` extra."""
    cfg = configparser.ConfigParser()
    cfg.read(NOTEBOOK_DIR.parent / "setup.cfg")

    def names(requirements: str) -> set[str]:
        return {re.split(r"[\s<>=!~\[;]", r.strip())[0].lower() for r in requirements.splitlines() if r.strip()}

    listed = names(cfg["options"]["install_requires"]) | names(cfg["options.extras_require"]["notebooks"])
    assert "jupyterlab" in listed
    distributions = importlib.metadata.packages_distributions()
    for path in NOTEBOOKS:
        for module in sorted(imported_modules(nbformat.read(path, as_version=4))):
            if module in sys.stdlib_module_names or module == "tinygrad_tx":
                continue
            provided_by = {d.lower() for d in distributions.get(module, [module])}
            assert provided_by & listed, f"{path.name} imports {module} ({provided_by}), not in the notebooks extra"
