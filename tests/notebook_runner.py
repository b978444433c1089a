"""Executing notebooks in tests: a kernel spec on *this* interpreter, and a runner (nbclient).

Shared by ``tests/test_notebooks.py`` (the tutorial notebooks) and ``tests/test_exercises.py`` (the
exercise notebooks). Each notebook runs in a fresh IPython kernel, started from ``sys.executable``, so
it imports the same ``tinygrad_tx``, NumPy and PyTorch as the rest of the test suite. The kernel spec
is written to a temporary directory by ipykernel itself instead of being looked up by the name
``python3``, which could resolve to a kernel spec of another Python installed in a user or system
Jupyter path. A test module uses the fixture by importing it: ``from tests.notebook_runner import
kernel_specs``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from jupyter_client.kernelspec import KernelSpecManager

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
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


def run_notebook(nb: Any, cwd: Path, kernel_specs: KernelSpecManager) -> None:
    """Execute the notebook ``nb`` in place (its cells get their outputs); raises
    ``nbclient.exceptions.CellExecutionError`` if a cell fails."""
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


def imported_modules(nb: Any) -> set[str]:
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


def output_text(cell: Any) -> str:
    """Everything a code cell printed or displayed, as text (stdout/stderr streams, text/plain results)."""
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
    return "".join(parts)
