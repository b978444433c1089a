"""Small helpers shared by the test modules."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_tx.manual import rel_err  # max|a - b| / max|b|: the measure the oracle tests state tolerances in

__all__ = ["assert_close", "rel_err", "run_cli", "assert_one_line_error"]


def run_cli(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of the command line (``python -m tinygrad_tx *argv``) run in this process."""
    from tinygrad_tx.__main__ import main

    try:
        code = main(list(argv))
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *names: str) -> str:
    """A command-line mistake: exit status 2 and one line on stderr, no traceback, naming each of ``names``."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tinygrad-tx"), err
    for name in names:
        assert name in lines[0], f"{name!r} not in {lines[0]!r}"
    return lines[0]


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float, what: str, atol: float = 0.0) -> float:
    """``max|actual - expected| <= rtol * max|expected| + atol`` over the whole tensor; returns the
    scale-relative error ``rel_err(actual, expected)`` (inf if an all-zero ``expected`` is missed).

    The error is measured against the tensor's largest magnitude, not entry by entry: an entry that
    passes near zero (a weight crossing 0 during training, a sum that cancels) carries the rounding of
    the large numbers it was computed from, so an elementwise relative error there measures nothing.
    An all-zero ``expected`` has no scale: it must then be matched exactly, or within an ``atol`` the
    caller states. Non-finite entries (inf, nan) must sit at the same places with the same values.
    """
    a, e = np.asarray(actual), np.asarray(expected)
    assert a.shape == e.shape, f"{what}: shape {a.shape}, expected {e.shape}"
    finite = np.isfinite(e)
    same_nonfinite = np.array_equal(a[~finite], e[~finite], equal_nan=True) and np.isfinite(a[finite]).all()
    assert same_nonfinite, f"{what}: inf/nan at other places than expected\n actual   {a}\n expected {e}"
    if not finite.any():
        return 0.0
    diff = np.where(finite, np.abs(a - np.where(finite, e, 0.0)), 0.0)
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    scale = float(np.abs(e[finite]).max())
    err = rel_err(a[finite], e[finite]) if scale > 0 else (0.0 if diff[worst] == 0 else math.inf)
    if float(diff[worst]) <= rtol * scale + atol:
        return err
    where = f"index {tuple(int(i) for i in worst)}" if diff.ndim else "the scalar"
    if scale > 0:
        against = f"relative to max|expected| = {scale:.3g}: {err:.3g} > rtol {rtol:g}"
        against += f" (+ atol {atol:g})" if atol else ""
    else:
        against = "expected is all zero: it must match " + (f"within atol {atol:g}" if atol else "exactly")
    raise AssertionError(
        f"{what}: |actual - expected| = {float(diff[worst]):.3g} at {where} "
        f"(actual {float(a[worst])!r}, expected {float(e[worst])!r}); {against}"
    )
