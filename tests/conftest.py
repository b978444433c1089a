"""Fixtures shared by the test modules.

PyTorch is the oracle, and only the tests that compare against it need it: a module whose every test
does imports it with ``torch = pytest.importorskip("torch")`` (after importing tests/oracle.py, the
harness, which needs it too); a test in a mixed module takes the `torch` fixture below, and a helper
of such a module imports torch inside its body (as tinygrad_tx/nn/torch_io.py does). Without torch,
``pytest`` runs everything else and lists the rest as skipped ("could not import 'torch'").
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import tinygrad_tx as tx


@pytest.fixture
def float64_default() -> Iterator[None]:
    """Tensors default to float64 and the generator is seeded, for comparisons against PyTorch at
    float64 tolerances; float32 is restored afterwards. Modules opt in with
    ``pytestmark = pytest.mark.usefixtures("float64_default")``."""
    tx.set_default_dtype(np.float64)
    tx.manual_seed(0)
    yield
    tx.set_default_dtype(np.float32)


@pytest.fixture
def torch() -> ModuleType:
    """The ``torch`` module; the test is skipped where it is not installed."""
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def kernel_specs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A Jupyter kernel spec manager that knows one kernel: ipykernel on ``sys.executable`` with
    ``tests/notebook_runner.KERNEL_ENV`` (for the tests that execute notebooks); skipped without nbclient."""
    for module in ("nbclient", "ipykernel"):
        pytest.importorskip(module)
    from tests import notebook_runner

    return notebook_runner.kernel_spec_manager(tmp_path_factory.mktemp("kernels"))
